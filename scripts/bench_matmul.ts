/**
 * Matmul kernel benchmark: GFLOP/s of the JavaScript kernel, the wasm kernel on one thread and the
 * wasm kernel on several thread counts, for a few shapes. Run: npx tsx scripts/bench_matmul.ts [reps] [shapes]
 * where shapes is e.g. "1024x1024x1024,128x784x256" (M x K x N, optional 4th factor = batch).
 * Environment: THREADS=1,2 (thread counts to try), DTYPES=float32,float64, SKIP_JS=1.
 *
 * Reports the median and best wall time over `reps` runs, plus (single-threaded modes only) the
 * median process CPU time, which is less disturbed by other load on a busy machine.
 */
import { configureMatmul, lastMatmulPath, matmul } from "../interpreters/eval/kernels/matmul.js";
import { availableParallelism, loadavg } from "node:os";

const reps = Number(process.argv[2] ?? 7);
const shapes = (process.argv[3] ?? "1024x1024x1024,128x784x256,256x256x256,64x64x64").split(",").map((s) => s.split("x").map(Number));
const dtypes = (process.env.DTYPES ?? "float32").split(",");

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
const threadCounts = (process.env.THREADS ?? `1,${Math.min(availableParallelism(), 8)}`).split(",").map(Number);
const modes = [
  ...(process.env.SKIP_JS ? [] : [{ name: "js", cfg: { wasm: false, threads: 1 } }]),
  ...threadCounts.map((t) => ({ name: `wasm-${t}t`, cfg: { wasm: true, threads: t, wasmMinWork: 0, threadMinWork: t > 1 ? 0 : Infinity } })),
];

console.log(
  `load average ${loadavg()
    .map((x) => x.toFixed(2))
    .join(" ")}, ${availableParallelism()} CPUs, node ${process.version}`,
);
for (const dtype of dtypes) {
  for (const [m, k, n, batch = 1] of shapes) {
    const Ctor = dtype === "float32" ? Float32Array : Float64Array;
    const a = new Ctor(batch * m! * k!).map(() => Math.random() - 0.5);
    const b = new Ctor(batch * k! * n!).map(() => Math.random() - 0.5);
    const c = new Ctor(batch * m! * n!);
    const flop = 2 * batch * m! * k! * n!;
    const r = Math.max(3, Math.min(reps, Math.ceil(2e10 / flop)));
    for (const mode of modes) {
      const prev = configureMatmul(mode.cfg);
      matmul(a, b, c, batch, m!, k!, n!); // warm-up (compiles and tiers up)
      matmul(a, b, c, batch, m!, k!, n!);
      const wall: number[] = [],
        cpu: number[] = [];
      for (let i = 0; i < r; i++) {
        const c0 = process.cpuUsage(),
          t0 = performance.now();
        matmul(a, b, c, batch, m!, k!, n!);
        const t = performance.now() - t0,
          cu = process.cpuUsage(c0);
        wall.push(t);
        cpu.push((cu.user + cu.system) / 1000);
      }
      const info = lastMatmulPath();
      configureMatmul(prev);
      const g = (ms: number): string => (flop / ms / 1e6).toFixed(1).padStart(6);
      const cpuCol = info.threads === 1 ? ` cpu-median ${g(median(cpu))}` : "";
      console.log(
        `${dtype} ${batch > 1 ? `${batch}x` : ""}${m}x${k}x${n} ${mode.name.padEnd(8)} median ${g(median(wall))} best ${g(Math.min(...wall))}${cpuCol} GFLOP/s  (${info.path}, ${info.threads} thr, worker tasks ${info.workerTasks}/${info.tasks}, ${r} runs, median ${median(wall).toFixed(2)} ms)`,
      );
    }
  }
}
