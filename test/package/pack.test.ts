/**
 * The published package, as a user gets it: `npm run build` into a clean staging copy of the
 * package, `npm pack`, then a fresh ESM project that installs the tarball, type-checks a
 * TypeScript file importing "fluxion" and "fluxion/laws" with the project's tsc (`--module
 * nodenext --strict`), and runs the same code as JavaScript with node, checking a gradient's
 * value. Slow (a build and an npm install, dependencies from the npm cache or registry): minutes.
 */
import { execFileSync } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const TSC = join(ROOT, "node_modules", ".bin", "tsc");
const MINUTE = 60_000;

/** Runs a command; on failure, throws with its output so the test report shows what went wrong. */
function run(cmd: string, args: string[], cwd: string, timeout = 5 * MINUTE): string {
  try {
    return execFileSync(cmd, args, {
      cwd,
      timeout,
      encoding: "utf8",
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, npm_config_update_notifier: "false" },
    });
  } catch (e) {
    const err = e as { status?: number; stdout?: string; stderr?: string; message: string };
    throw new Error(`\`${cmd} ${args.join(" ")}\` in ${cwd} failed (exit ${err.status}):\n${err.stdout ?? ""}\n${err.stderr ?? err.message}`, {
      cause: e,
    });
  }
}

// The user's code, in TypeScript and (the same, without types) in JavaScript.
const USER_TS = `
import { type NDArray, grad, jit, np, optim } from "fluxion";
import { checkGrads, laws } from "fluxion/laws";

const f = (x: NDArray): NDArray => np.sum(np.sin(x).mul(x));
const x: NDArray = np.array([0.5, 1.0], { dtype: "float64" });
const g: NDArray = jit(grad(f))(x);
const values: number[] = Array.from(g.dataSync());
checkGrads(f, [x], { order: 1 });
const lawNames: string[] = Object.keys(laws);
const opt = optim.adam({ learningRate: 0.1 });
const state: optim.AdamState = opt.init({ w: x });

// The types are real (not any): these must be errors.
// @ts-expect-error a number is not an NDArray
const notAnArray: NDArray = 3;
// @ts-expect-error shapes are arrays
np.zeros("3");

console.log(JSON.stringify({ values, lawNames, count: state.count.item(), notAnArray: typeof notAnArray }));
`;

const USER_JS = `
import { grad, jit, np, optim } from "fluxion";
import { checkGrads, laws } from "fluxion/laws";

const f = (x) => np.sum(np.sin(x).mul(x));
const x = np.array([0.5, 1.0], { dtype: "float64" });
const g = jit(grad(f))(x);
const values = Array.from(g.dataSync());
checkGrads(f, [x], { order: 1 });
const lawNames = Object.keys(laws);
const state = optim.adam({ learningRate: 0.1 }).init({ w: x });
console.log(JSON.stringify({ values, lawNames, count: state.count.item() }));
`;

describe("the npm package", () => {
  const dir = mkdtempSync(join(tmpdir(), "fluxion-pack-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("builds, packs, installs into a fresh ESM project, type-checks and runs", { timeout: 15 * MINUTE }, () => {
    // 1. `npm run build`, into a fresh staging copy of the package (not the shared dist/, which
    //    other runs may be rebuilding, and where stale files would be packed too).
    const stage = join(dir, "stage");
    mkdirSync(stage);
    for (const f of ["package.json", "README.md", "LICENSE", "LICENSE.md"])
      if (existsSync(join(ROOT, f))) copyFileSync(join(ROOT, f), join(stage, f));
    run("npm", ["run", "build", "--", "--outDir", join(stage, "dist")], ROOT);
    expect(existsSync(join(stage, "dist", "src", "index.js"))).toBe(true);

    // 2. The tarball holds the compiled library and nothing else.
    const packed = JSON.parse(run("npm", ["pack", "--ignore-scripts", "--json", "--pack-destination", dir], stage)) as {
      filename: string;
      size: number;
      unpackedSize: number;
      files: { path: string }[];
    }[];
    const { filename, files } = packed[0]!;
    const paths = files.map((f) => f.path);
    const required = ["dist/src/index.js", "dist/src/index.d.ts", "dist/laws/index.js", "dist/laws/index.d.ts", "package.json"];
    expect(
      required.filter((p) => !paths.includes(p)),
      `missing from the tarball (${paths.length} files)`,
    ).toEqual([]);
    const unexpected = paths.filter((p) => !/^dist\/(src|interpreters|laws)\//.test(p) && !/^(package\.json|README\.md|LICENSE(\.md)?)$/.test(p));
    expect(unexpected).toEqual([]);

    // 3. A fresh ESM project that installs the tarball (dependencies from the npm cache or registry).
    const app = join(dir, "app");
    mkdirSync(app);
    writeFileSync(join(app, "package.json"), JSON.stringify({ name: "fluxion-user", private: true, type: "module" }, null, 2));
    run("npm", ["install", join(dir, filename), "--prefer-offline", "--no-audit", "--no-fund", "--loglevel=error"], app, 10 * MINUTE);
    const installed = JSON.parse(readFileSync(join(app, "node_modules", "fluxion", "package.json"), "utf8")) as { name: string };
    expect(installed.name).toBe("fluxion");

    // 4. The TypeScript user: strict, NodeNext resolution (which honours the "exports" map).
    writeFileSync(join(app, "main.ts"), USER_TS);
    run(TSC, ["--module", "nodenext", "--moduleResolution", "nodenext", "--target", "es2022", "--strict", "--noEmit", "main.ts"], app);

    // 5. The JavaScript user: the gradient of Σ x sin x is sin x + x cos x.
    writeFileSync(join(app, "main.js"), USER_JS);
    const out = JSON.parse(run("node", ["main.js"], app).trim().split("\n").pop()!) as { values: number[]; lawNames: string[]; count: number };
    const want = [0.5, 1.0].map((v) => Math.sin(v) + v * Math.cos(v));
    out.values.forEach((v, i) => expect(v).toBeCloseTo(want[i]!, 10));
    expect(out.lawNames.length).toBeGreaterThan(0);
    expect(out.count).toBe(0);
  });
});
