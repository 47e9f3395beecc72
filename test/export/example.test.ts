/**
 * examples/export_onnx.ts in its small mode: trains, exports the forward pass, and its ONNX Runtime
 * accuracy must equal fluxion's (the script checks and exits non-zero otherwise).
 */
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));

describe("examples/export_onnx.ts", () => {
  it("prints the same accuracy from fluxion and ONNX Runtime", () => {
    const r = spawnSync(`${ROOT}node_modules/.bin/tsx`, ["examples/export_onnx.ts", "--small"], { cwd: ROOT, encoding: "utf8", timeout: 55_000 });
    expect(r.status, r.stdout + r.stderr).toBe(0);
    const acc = [...r.stdout.matchAll(/accuracy:\s+([0-9.]+)%/g)].map((m) => m[1]);
    expect(acc.length).toBe(2);
    expect(acc[0]).toBe(acc[1]);
    expect(r.stdout.trim().split("\n").at(-1)).toBe("all checks passed");
  }, 60_000);
});
