/**
 * fluxion-only rows of `npm run bench` about bounded resources: the cost of a cached jit call that
 * closes over many constants, and the heap a jitted function holds after many distinct shapes.
 * Peers have no equivalent knob, so their cells read n/a.
 */
import v8 from "node:v8";
import vm from "node:vm";
import { type NDArray, jit, np } from "../src/index.js";
import { type Case, NotAvailable, type Prepared } from "./spec.js";

export const CONSTANTS = 100_000;
export const SHAPES = 10_000;

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
export function jitCacheHeap(): Prepared {
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
  } as Case & { measured: () => number };
}

export const fluxionOnly =
  (name: string, make: () => Prepared) =>
  (implName: string): Prepared =>
    implName === name ? make() : new NotAvailable("fluxion-only row");
