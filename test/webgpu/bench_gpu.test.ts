/**
 * `npm run bench:gpu` at small sizes (GPU_SMALL=1), as a user runs it: every workload runs on
 * fluxion's WebGPU backend and passes its check against the float64 reference, so the benchmark
 * cannot rot between runs on a real GPU.
 */
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { requireAdapterInCI, runGpu } from "./setup.js";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));

describe.runIf(runGpu)("bench:gpu (GPU_SMALL=1)", () => {
  requireAdapterInCI();
  it("prints a row per workload with a checked fluxion time and exits 0", () => {
    const r = spawnSync(process.execPath, ["--import", "tsx", "bench/gpu.ts"], {
      cwd: ROOT,
      env: { ...process.env, GPU_SMALL: "1" },
      encoding: "utf8",
      timeout: 240_000,
    });
    const out = `${r.stdout}\n${r.stderr}`;
    expect(r.status, out).toBe(0);
    const rows = r.stdout.split("\n").filter((l) => /^\| (matmul|mlp|sum|eager)/.test(l));
    expect(rows.map((l) => l.split("|")[1]!.trim().split(" ")[0])).toEqual(["matmul", "matmul", "mlp", "mlp", "sum(exp(sin(x)·2+1))", "eager"]);
    for (const row of rows) {
      const fluxionCell = row.split("|")[2]!.trim();
      expect(fluxionCell, row).toMatch(/^\d+\.\d{3} ms$/);
    }
  }, 300_000);
});
