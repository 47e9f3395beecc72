/**
 * The machine's reference for the matmul rows: NumPy's float32 matmul (OpenBLAS or whatever BLAS
 * NumPy links), on as many threads as the machine has, measured in a python3 subprocess the same
 * way as the other cells (median of timed runs after warm-up). Absent python3 or NumPy, the
 * reference is skipped and the table says so.
 */
import { execFileSync } from "node:child_process";
import { cpus } from "node:os";

/** GFLOP/s of an n×n×n float32 matmul in NumPy, or the reason there is no figure. */
export function numpyMatmulGflops(n: number, runs: number): { gflops: number; blas: string } | { reason: string } {
  const script = `
import time, numpy as np
n, runs = ${Math.floor(n)}, ${Math.floor(runs)}
rng = np.random.default_rng(0)
a = rng.standard_normal((n, n), dtype=np.float32)
b = rng.standard_normal((n, n), dtype=np.float32)
for _ in range(2): a @ b
ts = []
for _ in range(runs):
    t = time.perf_counter(); a @ b; ts.append(time.perf_counter() - t)
ts.sort()
blas = "BLAS"
try:
    cfg = np.show_config(mode="dicts")
    blas = cfg["Build Dependencies"]["blas"]["name"]
except Exception:
    pass
print(2 * n ** 3 / ts[len(ts) // 2] / 1e9, blas)
`;
  try {
    const threads = String(cpus().length);
    const out = execFileSync("python3", ["-c", script], {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "ignore"],
      env: { ...process.env, OPENBLAS_NUM_THREADS: threads, OMP_NUM_THREADS: threads, MKL_NUM_THREADS: threads },
      timeout: 120_000,
    }).trim();
    const [g, blas] = out.split(/\s+/);
    const gflops = Number(g);
    return Number.isFinite(gflops) ? { gflops, blas: blas ?? "BLAS" } : { reason: "no figure from python3" };
  } catch {
    return { reason: "python3 with NumPy not installed" };
  }
}
