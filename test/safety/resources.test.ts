/**
 * Bounded resources: a jitted function keeps a bounded number of compiled signatures, a cached call
 * costs time linear in the constants it closes over, and repeated scalar literals are one constant.
 */
import v8 from "node:v8";
import vm from "node:vm";
import { describe, expect, it } from "vitest";
import { type NDArray, jit, makeJaxpr, np } from "../../src/index.js";

const gc: () => void = (() => {
  v8.setFlagsFromString("--expose-gc");
  return vm.runInNewContext("gc") as () => void;
})();
const heap = () => {
  gc();
  gc();
  return process.memoryUsage().heapUsed;
};

describe("jit cache", () => {
  it("evicts the least recently used signature beyond cacheSize", () => {
    let traces = 0;
    const f = jit(
      (x: NDArray) => {
        traces++;
        return x.add(1);
      },
      { cacheSize: 2 },
    );
    f(np.ones([1]));
    f(np.ones([2]));
    f(np.ones([1])); // [1] is now the most recent
    expect(traces).toBe(2);
    f(np.ones([3])); // evicts [2]
    f(np.ones([1]));
    expect(traces).toBe(3);
    f(np.ones([2]));
    expect(traces).toBe(4);
  });

  it("10,000 distinct shapes keep memory flat", () => {
    const f = jit((x: NDArray) => np.sum(x.mul(2).add(1)));
    const run = (from: number, to: number) => {
      for (let n = from; n < to; n++) f(np.zeros([n]));
    };
    run(1, 2000);
    const before = heap();
    run(2000, 10_001);
    const growth = heap() - before;
    // 8,000 more compiled signatures would hold tens of MB; the cache keeps 64.
    expect(growth).toBeLessThan(8 * 2 ** 20);
  }, 120_000);
});

describe("constants", () => {
  it("a cached call costs time linear in its closed-over constants", () => {
    const timePerCall = (n: number) => {
      const cs = Array.from({ length: n }, () => np.array([1, -1]));
      const f = jit((x: NDArray) => cs.reduce((acc, c) => acc.add(c), x));
      const x = np.ones([2]);
      expect(Array.from(f(x).dataSync())).toEqual([1 + n, 1 - n]);
      const t = performance.now();
      for (let k = 0; k < 5; k++) f(x);
      return (performance.now() - t) / 5;
    };
    timePerCall(2000); // warm up
    const small = timePerCall(4000),
      large = timePerCall(40_000);
    // Ten times the constants: linear is ~10x, the old per-call indexOf lookup was ~100x.
    expect(large / Math.max(small, 0.05)).toBeLessThan(35);
  }, 120_000);

  it("repeated scalar literals are one constant", () => {
    const p = makeJaxpr((x: NDArray) => x.mul(2).add(2).mul(2).sub(3).add(2))(np.ones([3]));
    expect(p.consts).toHaveLength(2);
    expect(jit((x: NDArray) => x.mul(2).add(2).mul(2).sub(3))(np.ones([2])).tolist()).toEqual([5, 5]);
  });
});
