/** The arbitraries: values inside their domains, options validated, pytrees well formed. */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ArgumentError, NDArray, np, tree } from "../../src/index.js";
import { arb } from "../../laws/index.js";

const sample = <T>(a: fc.Arbitrary<T>, n = 200) => fc.sample(a, { numRuns: n, seed: 11 });
const values = (x: NDArray) => Array.from(x.dataSync(), Number);

describe("arbitraries", () => {
  it("shape respects rank, dims and size bounds", () => {
    for (const s of sample(arb.shape({ minRank: 1, maxRank: 3, minDim: 2, maxDim: 4, maxSize: 20 }))) {
      expect(s.length).toBeGreaterThanOrEqual(1);
      expect(s.length).toBeLessThanOrEqual(3);
      expect(s.every((n) => n >= 2 && n <= 4)).toBe(true);
      expect(s.reduce((a, b) => a * b, 1)).toBeLessThanOrEqual(20);
    }
  });

  it("broadcastableShapes are pairs that broadcast", () => {
    for (const [a, b] of sample(arb.broadcastableShapes())) {
      expect(() => np.add(np.zeros(a), np.zeros(b))).not.toThrow();
    }
  });

  it("array draws finite values of the dtype and shape, inside [min, max], away from kinks", () => {
    for (const x of sample(arb.array({ shape: [2, 3], dtype: "float32", min: -1, max: 3, avoid: [0, 1], margin: 0.1 }))) {
      expect(x.shape).toEqual([2, 3]);
      expect(x.dtype).toBe("float32");
      for (const v of values(x)) {
        expect(Number.isFinite(v) && v >= -1 && v <= 3).toBe(true);
        expect(Math.min(Math.abs(v), Math.abs(v - 1))).toBeGreaterThanOrEqual(0.1 - 1e-7);
      }
    }
  });

  it("array with `distinct` never ties (max and argmax are well defined)", () => {
    for (const x of sample(arb.array({ shape: [5], distinct: 0.25, min: -1, max: 1 }))) {
      const v = values(x).sort((a, b) => a - b);
      for (let i = 1; i < v.length; i++) expect(v[i]! - v[i - 1]!).toBeGreaterThanOrEqual(0.25 - 1e-12);
    }
  });

  it("array draws int32 and bool arrays", () => {
    for (const x of sample(arb.array({ shape: [4], dtype: "int32", min: -3, max: 3 }), 50))
      expect(values(x).every((v) => Number.isInteger(v) && Math.abs(v) <= 3)).toBe(true);
    for (const x of sample(arb.array({ shape: [4], dtype: "bool" }), 50)) expect(x.dtype).toBe("bool");
  });

  it("pytree builds nested lists and objects with array leaves", () => {
    const trees = sample(arb.pytree(arb.array({ shape: [2] }), { maxDepth: 3 }));
    expect(trees.some((t) => Array.isArray(t))).toBe(true);
    expect(trees.some((t) => t !== null && typeof t === "object" && !Array.isArray(t) && !(t instanceof NDArray))).toBe(true);
    for (const t of trees) expect(tree.flatten(t)[0].every((l) => l instanceof NDArray)).toBe(true);
  });

  it("validates options and names the arbitrary", () => {
    expect(() => arb.shape({ minRank: 3, maxRank: 1 })).toThrow(new ArgumentError("laws.shape: needs integers 0 <= minRank <= maxRank, got 3, 1"));
    expect(() => arb.array({ min: 2, max: 1 })).toThrow(/laws.array: min and max must be finite with min <= max/);
    expect(() => fc.sample(arb.array({ shape: [50], distinct: 1, min: 0, max: 3 }), 1)).toThrow(
      /laws.array: distinct spacing 1 leaves room for 4 values/,
    );
  });
});
