/**
 * docs/COVERAGE.md is generated from docs/coverage/jax_names.json against the real exports; it
 * must be up to date, and the resolver must tell real names from absent ones.
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { COVERAGE_COMMAND, COVERAGE_PATH, camel, coverageRows, renderCoverage, resolves } from "../../scripts/coverage.js";

describe("the JAX coverage table", () => {
  it("docs/COVERAGE.md is the generator's output for the current exports", () => {
    const fresh = renderCoverage();
    const committed = readFileSync(COVERAGE_PATH, "utf8");
    if (committed !== fresh) expect.fail(`docs/COVERAGE.md is stale; regenerate it with \`${COVERAGE_COMMAND}\` and commit the result`);
  });

  it("resolves names against real exports only", () => {
    expect(resolves("np.sum")).toBe(true);
    expect(resolves("np.linalg.norm")).toBe(true);
    expect(resolves("NDArray#reshape")).toBe(true);
    expect(resolves("np.noSuchThing")).toBe(false);
    expect(resolves("NDArray#noSuchMethod")).toBe(false);
    expect(resolves("np.sum.nested.deeper")).toBe(false);
    expect(resolves("np.x", { np: { x: 1 } })).toBe(true);
  });

  it("spells JAX names in camelCase", () => {
    expect(camel("log_softmax")).toBe("logSoftmax");
    expect(camel("initializers.glorot_uniform")).toBe("initializers.glorotUniform");
    expect(camel("atleast_1d")).toBe("atleast1d");
  });

  it("lists about 300 distinct names, each deliberate difference with its reason", () => {
    const rows = coverageRows();
    expect(rows.length).toBeGreaterThanOrEqual(300);
    const keys = rows.map((r) => `${r.module}:${r.jax}`);
    expect(new Set(keys).size).toBe(keys.length);
    for (const r of rows) if (r.status === "different") expect(r.why!.length).toBeGreaterThan(10);
    // Nothing that resolves is reported missing, and nothing missing resolves.
    for (const r of rows) if (r.status !== "different") expect(r.status === "present").toBe(r.fluxion !== null && resolves(r.fluxion));
  });
});
