/**
 * The ceiling of the matmul rows on this machine: how many float32 multiply-adds per second
 * WebAssembly SIMD does here at best. Node 20's WebAssembly has 128-bit vectors and no fused
 * multiply-add (relaxed SIMD is behind a flag), so the GEMM's inner step is an f32x4 multiply and
 * a separate add; this times that step alone, with no memory traffic (independent accumulators
 * kept in registers), on one thread and on `threads` threads at once. A matmul cannot beat it.
 */
import { Worker } from "node:worker_threads";
import { I32, ModuleBuilder, V128, f32v, forRange, get, i32, scalar, set, wasmApi } from "../src/codegen/wasm_asm.js";

/** Independent accumulators: ten measured fastest here (enough to hide the add's latency, few enough to stay in registers). */
export const CHAINS = 10;
const ITERATIONS = 20_000_000;

/** A module whose `run(n)` does n rounds of acc_k += a_j * b_j for every accumulator and returns the bits of lane 0 of their sum. */
export function peakModule(): Uint8Array {
  const m = new ModuleBuilder({ initial: 1, maximum: 1, shared: false });
  const f = m.func("run", [I32], [I32]);
  const i = f.local(I32);
  const factors = Array.from({ length: 4 }, () => f.local(V128));
  const acc = Array.from({ length: CHAINS }, () => f.local(V128));
  const init = [...factors, ...acc].map((l, k) => set(l, f32v.splat(scalar.f32Const(1 + k * 1e-7))));
  const round = acc.map((l, k) => set(l, f32v.add(get(l), f32v.mul(get(factors[k % 4]!), get(factors[(k + 1) % 4]!)))));
  // The accumulators' sum is the result, so no round is dead code.
  let sum = get(acc[0]!);
  for (let k = 1; k < CHAINS; k++) sum = f32v.add(sum, get(acc[k]!));
  f.body = [init, forRange(i, i32.const(0), get(f.param(0)), i32.const(1), round), scalar.i32ReinterpretF32(f32v.extractLane(sum, 0))];
  return m.encode();
}

/**
 * A timing thread: compiles the module, says it is ready, waits for the start flag, and reports its
 * best time (ms) of `runs` calls of `iterations` rounds.
 */
const WORKER = `
const { parentPort, workerData } = require("node:worker_threads");
const { bytes, iterations, runs, go } = workerData;
const run = new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { memory: new WebAssembly.Memory({ initial: 1, maximum: 1 }) } }).exports.run;
run(1000);
const flag = new Int32Array(go);
Atomics.add(flag, 1, 1);
Atomics.wait(flag, 0, 0);
let best = Infinity;
for (let r = 0; r < runs; r++) { const t = performance.now(); run(iterations); best = Math.min(best, performance.now() - t); }
parentPort.postMessage(best);
`;

export interface WasmPeak {
  /** GFLOP/s on one thread. */
  perThread: number;
  /** GFLOP/s of `threads` threads running at once (their summed work over the slowest one's time). */
  total: number;
  threads: number;
}

/**
 * GFLOP/s of the module's rounds (CHAINS vectors of 4 multiplies and 4 adds each) on one thread and
 * on `threads` threads started together, or why there is no figure.
 */
export async function wasmPeakGflops(threads: number, runs = 5): Promise<WasmPeak | { reason: string }> {
  if (wasmApi === undefined) return { reason: "no WebAssembly" };
  let bytes: Uint8Array;
  try {
    bytes = peakModule();
    new wasmApi.Module(bytes);
  } catch {
    return { reason: "no WebAssembly SIMD" };
  }
  const flops = ITERATIONS * CHAINS * 8;
  const timed = async (n: number): Promise<number> => {
    const go = new SharedArrayBuffer(8);
    const flag = new Int32Array(go);
    const workers = Array.from({ length: n }, () => new Worker(WORKER, { eval: true, workerData: { bytes, iterations: ITERATIONS, runs, go } }));
    let failed: unknown = null;
    const done = Promise.all(
      workers.map((w) => new Promise<number>((resolve, reject) => w.once("message", resolve).once("error", (e) => reject((failed = e))))),
    );
    done.catch(() => undefined); // handled below; a thread may fail before that await
    // Start every thread at once, after all have compiled the module.
    while (Atomics.load(flag, 1) < n && failed === null) await new Promise((r) => setTimeout(r, 5));
    Atomics.store(flag, 0, 1);
    Atomics.notify(flag, 0);
    const ms = await done;
    await Promise.all(workers.map((w) => w.terminate()));
    return (n * flops) / (Math.max(...ms) * 1e6);
  };
  try {
    const perThread = await timed(1);
    return { perThread, total: threads > 1 ? await timed(threads) : perThread, threads };
  } catch (e) {
    return { reason: `a timing thread failed: ${(e as Error).message}` };
  }
}
