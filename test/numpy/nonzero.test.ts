/**
 * nonzero, flatnonzero, argwhere and unique: values against loops written here, the static `size`
 * (cut or padded with fillValue) under jit and vmap, the derivative of unique's values, and typed
 * errors for a traced input without `size`.
 */
import { describe, expect, it } from "vitest";
import { ArgumentError, ConcretizationError, type NDArray, ShapeError, grad, jit, np, vmap } from "../../src/index.js";
import { checkGrads } from "../../laws/index.js";

const grid = [
  [0, 3, 0, -1],
  [4, 0, 5, 0],
  [0, 0, 0, 2],
];
/** Row-major coordinates of the nonzero entries of a 2-d list. */
const hits = (m: number[][]) => m.flatMap((row, i) => row.flatMap((v, j) => (v !== 0 ? [[i, j]] : [])));

describe("np.nonzero, np.flatnonzero, np.argwhere", () => {
  const x = np.array(grid);
  const want = hits(grid);

  it("list the nonzero positions in row-major order (float, int32 and bool inputs)", () => {
    for (const a of [x, x.astype("int32"), np.notEqual(x, 0)]) {
      const [r, c] = np.nonzero(a);
      expect(r!.tolist()).toEqual(want.map((p) => p[0]));
      expect(c!.tolist()).toEqual(want.map((p) => p[1]));
      expect(r!.dtype).toBe("int32");
      expect(np.argwhere(a).tolist()).toEqual(want);
      expect(np.flatnonzero(a).tolist()).toEqual(want.map(([i, j]) => i! * 4 + j!));
    }
    expect(np.nonzero(np.array([0, 0])).map((a) => a.tolist())).toEqual([[]]);
    expect(np.argwhere(np.zeros([2, 3])).shape).toEqual([0, 2]);
  });

  it("with size: the first entries, padded with fillValue; the same under jit and vmap", () => {
    const padded = np.nonzero(x, { size: 7, fillValue: -1 }).map((a) => a.tolist());
    expect(padded).toEqual([
      [...want.map((p) => p[0]), -1, -1],
      [...want.map((p) => p[1]), -1, -1],
    ]);
    expect(np.argwhere(x, { size: 2 }).tolist()).toEqual(want.slice(0, 2));
    expect(jit((a: NDArray) => np.argwhere(a, { size: 6 }))(x).tolist()).toEqual([...want, [0, 0]]);
    const rows = vmap((r: NDArray) => np.flatnonzero(r, { size: 3, fillValue: 9 }))(x).tolist();
    expect(rows).toEqual(grid.map((r) => [...r.flatMap((v, j) => (v !== 0 ? [j] : [])), 9, 9, 9].slice(0, 3)));
  });

  it("typed errors: a traced input without size, a bad size, a 0-d input", () => {
    expect(() => jit((a: NDArray) => np.nonzero(a))(x)).toThrow(ConcretizationError);
    expect(() => jit((a: NDArray) => np.nonzero(a))(x)).toThrow(/pass \{ size \}/);
    expect(() => np.argwhere(x, { size: -1 })).toThrow(ArgumentError);
    expect(() => np.flatnonzero(x, { size: 2, fillValue: "a" as never })).toThrow(/fillValue must be a number/);
    expect(() => np.nonzero(np.array(3))).toThrow(ShapeError);
    expect(() => np.nonzero(x, { sise: 2 } as never)).toThrow(ArgumentError);
  });
});

describe("np.unique", () => {
  const data = [3, 1, NaN, 3, -2, NaN, 1, 7, 3];
  /** The reference: sorted distinct values (NaN last, one NaN), first indices, inverse ids and counts. */
  const ref = (() => {
    const key = (v: number) => (Number.isNaN(v) ? "nan" : String(v));
    const vals = [...new Map(data.map((v) => [key(v), v])).values()].sort((a, b) => (Number.isNaN(a) ? 1 : Number.isNaN(b) ? -1 : a - b));
    const id = (v: number) => vals.findIndex((u) => key(u) === key(v));
    return {
      vals,
      index: vals.map((u) => data.findIndex((v) => key(v) === key(u))),
      inverse: data.map(id),
      counts: vals.map((u) => data.filter((v) => key(v) === key(u)).length),
    };
  })();
  const x = np.array(data, { dtype: "float64" });

  it("sorted unique values with first indices, inverse and counts", () => {
    expect(np.unique(x).tolist()).toEqual(ref.vals);
    const [values, index, inverse, counts] = np.unique(x, { returnIndex: true, returnInverse: true, returnCounts: true });
    expect(values!.tolist()).toEqual(ref.vals);
    expect(index!.tolist()).toEqual(ref.index);
    expect(inverse!.tolist()).toEqual(ref.inverse);
    expect(counts!.tolist()).toEqual(ref.counts);
    expect(np.unique(x, { equalNan: false }).tolist()).toEqual([-2, 1, 3, 7, NaN, NaN]);
    const m = np.array([
      [2, 2],
      [1, 2],
    ]);
    const [, inv] = np.unique(m, { returnInverse: true });
    expect(inv!.shape).toEqual([2, 2]);
    expect(inv!.tolist()).toEqual([
      [1, 1],
      [0, 1],
    ]);
  });

  it("with size: cut to the smallest values or padded (default fill: the smallest value; counts 0) under jit and vmap", () => {
    const [v, c] = np.unique(x, { size: 7, returnCounts: true });
    expect(v!.tolist()).toEqual([...ref.vals, -2, -2]);
    expect(c!.tolist()).toEqual([...ref.counts, 0, 0]);
    expect(jit((a: NDArray) => np.unique(a, { size: 3, fillValue: 0 }))(x).tolist()).toEqual(ref.vals.slice(0, 3));
    const batch = np.array([
      [1, 1, 2],
      [5, 4, 5],
    ]);
    expect(vmap((r: NDArray) => np.unique(r, { size: 3, fillValue: -1 }))(batch).tolist()).toEqual([
      [1, 2, -1],
      [4, 5, -1],
    ]);
  });

  it("the values' derivative flows to each value's first occurrence (both modes, order 2)", () => {
    const w = np.array([1, 10, 100], { dtype: "float64" });
    const f = (a: NDArray) => np.sum(np.multiply(np.exp(np.unique(a, { size: 3 })), w));
    const a = np.array([0.2, -0.5, 0.2, 0.9], { dtype: "float64" });
    expect(grad(f)(a).tolist()).toEqual([10 * Math.exp(0.2), Math.exp(-0.5), 0, 100 * Math.exp(0.9)].map((v) => expect.closeTo(v, 12)));
    const report = checkGrads((b: NDArray) => np.unique(b, { size: 3 }), [np.array([0.3, -1.2, 2.5], { dtype: "float64" })], { order: 2 });
    expect(report.comparisons.length).toBeGreaterThan(0);
    expect(report.comparisons.every((c) => c.ok)).toBe(true);
  });

  it("typed errors", () => {
    expect(() => jit((a: NDArray) => np.unique(a))(x)).toThrow(ConcretizationError);
    expect(() => np.unique(x, { returnCounts: 1 as never })).toThrow(/returnCounts must be a boolean/);
  });
});
