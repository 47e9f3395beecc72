/**
 * np.bincount and np.histogram against plain loops written here: counts and weighted sums, bins
 * past the largest value, values dropped past `length` or outside the edges (NaN too), the last bin
 * closed at its upper edge, densities, dtypes; and under jit, vmap and grad (the weights'
 * derivative), with typed errors for what cannot work.
 */
import { describe, expect, it } from "vitest";
import { ArgumentError, ConcretizationError, DTypeError, type NDArray, ShapeError, grad, jit, np, vmap } from "../../src/index.js";

const list = (a: { dataSync(): ArrayLike<number> }) => Array.from(a.dataSync());

/** bincount by a loop: negative values in bin 0, values at or past `length` dropped. */
function bincountRef(x: number[], w: number[] | null, length: number): number[] {
  const out = new Array<number>(length).fill(0);
  x.forEach((v, i) => {
    const k = Math.max(v, 0);
    if (k < length) out[k]! += w === null ? 1 : w[i]!;
  });
  return out;
}

/** histogram counts by a loop over given edges: [e_k, e_k+1), the last bin closed. */
function histRef(x: number[], edges: number[], w: number[] | null): number[] {
  const nb = edges.length - 1;
  const out = new Array<number>(nb).fill(0);
  x.forEach((v, i) => {
    for (let k = 0; k < nb; k++)
      if (v >= edges[k]! && (v < edges[k + 1]! || (k === nb - 1 && v === edges[nb]!))) {
        out[k]! += w === null ? 1 : w[i]!;
        break;
      }
  });
  return out;
}

describe("np.bincount", () => {
  const x = [0, 1, 1, 3, 2, 1, 7, -2, 3];
  it("counts each value, bins reaching the largest (at least minlength)", () => {
    expect(list(np.bincount(x))).toEqual(bincountRef(x, null, 8));
    expect(np.bincount(x).dtype).toBe("int32");
    expect(list(np.bincount(x, { minlength: 11 }))).toEqual(bincountRef(x, null, 11));
    expect(list(np.bincount([], { minlength: 2 }))).toEqual([0, 0]);
  });
  it("adds weights in their dtype, and drops values past a given length", () => {
    const w = x.map((_, i) => (i + 1) * 0.25);
    const got = np.bincount(x, { weights: np.array(w, { dtype: "float64" }), length: 3 });
    expect(got.dtype).toBe("float64");
    expect(list(got)).toEqual(bincountRef(x, w, 3));
    expect(list(np.bincount(np.array([5, 4294967295, 1], { dtype: "uint32" }), { length: 6 }))).toEqual([0, 1, 0, 0, 0, 1]);
    expect(list(np.bincount(np.array([true, false, true]), { weights: [true, true, false] }))).toEqual([1, 1]);
  });
  it("traces with a static length: jit, vmap, and the weights' derivative", () => {
    const xs = np.array(
      [
        [0, 2, 2, 9],
        [1, 1, 3, 0],
      ],
      { dtype: "int32" },
    );
    const f = (v: typeof xs) => np.bincount(v, { length: 4 });
    expect(list(jit(f)(np.array([0, 2, 2, 9], { dtype: "int32" })))).toEqual([1, 0, 2, 0]);
    expect(list(vmap(f)(xs))).toEqual([...bincountRef([0, 2, 2, 9], null, 4), ...bincountRef([1, 1, 3, 0], null, 4)]);
    const idx = np.array([0, 2, 2, 1], { dtype: "int32" });
    const g = grad((w: typeof xs) => np.sum(np.bincount(idx, { weights: w, length: 3 }).mul(np.array([1, 10, 100]))));
    expect(list(g(np.array([1, 1, 1, 1])))).toEqual([1, 100, 100, 10]);
  });
  it("raises typed errors naming the fix", () => {
    expect(() => np.bincount(np.array([0.5, 1]))).toThrow(DTypeError);
    expect(() => np.bincount(np.array([[0, 1]], { dtype: "int32" }))).toThrow(ShapeError);
    expect(() => np.bincount(x, { weights: [1, 2] })).toThrow(ShapeError);
    expect(() => np.bincount(x, { length: -1 })).toThrow(ArgumentError);
    expect(() => jit((v: NDArray) => np.bincount(v))(np.array([1, 2], { dtype: "int32" }))).toThrow(ConcretizationError);
  });
});

describe("np.histogram", () => {
  const data = [0.5, 1, 1.5, 2.25, 3, 4, 4, -1, 7, 3.999];
  it("equal bins over the values' range, the last bin closed at the largest value", () => {
    const [c, e] = np.histogram(data, { bins: 4 });
    const edges = list(e);
    expect(edges.length).toBe(5);
    expect(edges[0]).toBe(-1);
    expect(edges[4]).toBe(7);
    expect(list(c)).toEqual(histRef(data, edges, null));
    expect(c.dtype).toBe("float32");
    expect(list(c).reduce((p, q) => p + q, 0)).toBe(data.length);
  });
  it("given edges or a range drop values outside them, and NaN", () => {
    const edges = [0, 1, 2.5, 4];
    const withNan = [...data, NaN];
    expect(list(np.histogram(withNan, { bins: edges })[0])).toEqual(histRef(withNan, edges, null));
    const [c, e] = np.histogram(withNan, { bins: 3, range: [0, 3] });
    expect(list(e)).toEqual([0, 1, 2, 3]);
    expect(list(c)).toEqual(histRef(withNan, [0, 1, 2, 3], null));
    // Equal ends widen by 0.5.
    expect(list(np.histogram([2, 2], { bins: 2 })[1])).toEqual([1.5, 2, 2.5]);
  });
  it("weights, integer values and densities", () => {
    const w = data.map((_, i) => i + 1);
    const edges = [0, 2, 4];
    expect(list(np.histogram(data, { bins: edges, weights: w })[0])).toEqual(histRef(data, edges, w));
    const ints = np.array([1, 2, 2, 3], { dtype: "int32" });
    const [ci] = np.histogram(ints, { bins: 2 });
    expect(ci.dtype).toBe("int32");
    expect(list(ci)).toEqual([1, 3]);
    const [d] = np.histogram(np.array([0.5, 1.5, 1.5, 2.5], { dtype: "float64" }), { bins: [0, 1, 2, 4], density: true });
    // counts 1, 2, 1 over widths 1, 1, 2, total 4.
    expect(list(d)).toEqual([0.25, 0.5, 0.125]);
  });
  it("traces: jit equals eager, vmap over rows, and the weights' derivative", () => {
    const a = np.array([0.1, 0.7, 0.4, 0.9, 0.3]);
    const f = (v: typeof a) => np.histogram(v, { bins: 3 })[0];
    expect(list(jit(f)(a))).toEqual(list(f(a)));
    const rows = np.array([
      [0.1, 0.2, 0.9],
      [0.5, 0.5, 0.6],
    ]);
    expect(list(vmap((r: typeof a) => np.histogram(r, { bins: 2, range: [0, 1] })[0])(rows))).toEqual([2, 1, 0, 3]);
    const g = grad((w: typeof a) => np.sum(np.histogram(a, { bins: 2, range: [0, 1], weights: w })[0].mul(np.array([1, 10]))));
    expect(list(g(np.ones([5])))).toEqual([1, 10, 1, 10, 1]);
  });
  it("raises typed errors", () => {
    expect(() => np.histogram(data, { bins: 0 })).toThrow(ArgumentError);
    expect(() => np.histogram(data, { bins: 2, range: [3, 1] })).toThrow(ArgumentError);
    expect(() => np.histogram(data, { bins: [1] })).toThrow(ShapeError);
    expect(() => np.histogram(data, { bins: [0, 1], range: [0, 1] })).toThrow(ArgumentError);
    expect(() => np.histogram(data, { weights: [1] })).toThrow(ShapeError);
  });
});
