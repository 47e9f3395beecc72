/**
 * fluxion-only rows of `npm run bench` about bounded resources: the cost of a cached jit call that
 * closes over many constants, the heap a jitted function holds after many distinct shapes, and
 * the time to compile a very long program and to call it cached. Peers have no equivalent knob (or
 * no jit that takes a program that long), so their cells read n/a.
 */
import v8 from "node:v8";
import vm from "node:vm";
import { type NDArray, jit, np } from "../src/index.js";
import { type Case, type MeasuredCase, NotAvailable, type Prepared, alternated } from "./spec.js";

export const CONSTANTS = 100_000;
export const SHAPES = 10_000;
export const PROGRAM_OPS = 100_000;

/** A scalar program of PROGRAM_OPS alternating multiplies and adds, `c` its multiplier. */
const longProgram =
  (c: number) =>
  (x: NDArray): NDArray => {
    let y = x;
    for (let i = 0; i < PROGRAM_OPS; i++) y = i % 2 ? y.mul(c) : y.add(1e-5);
    return y;
  };

/** Tracing, compiling and first calling the long program; each run a new multiplier, so no cache has seen it. */
export function longProgramCompile(): Prepared {
  const x = np.array(1);
  let k = 0;
  return { run: () => [jit(longProgram(0.99999 - ++k * 1e-9))(x).dataSync() as Float32Array] } satisfies Case;
}

/** The long program's cached jitted call against running it eagerly, timed in alternation. */
export function longProgramCachedRatio(): Prepared {
  const x = np.array(1),
    f = longProgram(0.99999),
    g = jit(f);
  g(x);
  return alternated(
    () => [g(x).dataSync() as Float32Array],
    () => f(x).dataSync(),
  );
}

/** A cached call of a jitted function that closes over CONSTANTS distinct [2] arrays. */
export function constantsCall(): Prepared {
  const cs = Array.from({ length: CONSTANTS }, () => np.array([1, -1]));
  const f = jit((x: NDArray) => cs.reduce((acc, c) => acc.add(c), x));
  const x = np.ones([2]);
  f(x);
  return { run: () => [f(x).dataSync() as Float32Array] } satisfies Case;
}

/**
 * Heap growth (MiB, after GC) while one jitted function is called with SHAPES distinct shapes
 * after a first 1,000: flat when the signature cache is bounded. One "run" measures it once.
 */
export function jitCacheHeap(): MeasuredCase {
  const gc = (() => {
    v8.setFlagsFromString("--expose-gc");
    return vm.runInNewContext("gc") as () => void;
  })();
  const heap = () => {
    gc();
    gc();
    return process.memoryUsage().heapUsed / 2 ** 20;
  };
  let growth = 0;
  return {
    run: () => {
      const f = jit((x: NDArray) => np.sum(x.mul(2).add(1)));
      for (let n = 1; n <= 1000; n++) f(np.zeros([n]));
      const before = heap();
      let last: Float32Array = new Float32Array();
      for (let n = 1001; n <= SHAPES; n++) last = f(np.zeros([n])).dataSync() as Float32Array;
      growth = heap() - before;
      return [last];
    },
    measured: () => growth,
  };
}

export const fluxionOnly =
  (name: string, make: () => Prepared) =>
  (implName: string): Prepared =>
    implName === name ? make() : new NotAvailable("fluxion-only row");
