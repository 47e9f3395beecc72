/**
 * Counting values into bins: `np.bincount` and `np.histogram`, as JAX defines them. Both add weights
 * into a zero array with a scatter-add, so they trace under every transform: derivatives reach the
 * weights, vmap batches the scatter, and jit compiles it. The number of bins must be static there
 * (`length` for bincount; `bins` and `range` for histogram's edges are static or traced values).
 */
import { ArgumentError, ConcretizationError, DTypeError, ShapeError, describe, naming } from "../core/errors.js";
import * as lax from "../core/lax.js";
import { ConcreteArray, type NDArray } from "../core/ndarray.js";
import { checkOptionsObject } from "../core/options.js";
import { fmtShape } from "../core/shape.js";
import { type DType, isFloat, promote } from "../core/dtype.js";
import { type ArrayLike, asArray } from "./base.js";
import { searchsorted } from "./sorting.js";

/** Options of `np.bincount`. */
export interface BincountOptions {
  /** A weight per element of x, added into its bin instead of 1 (the counts take their dtype). */
  weights?: ArrayLike;
  /** The least number of bins (default 0). */
  minlength?: number;
  /** The number of bins, static (required under a transform); values at or past it are dropped. */
  length?: number;
}

const count = (fn: string, name: string, v: unknown, least: number): number => {
  if (typeof v !== "number" || !Number.isSafeInteger(v) || v < least)
    throw new ArgumentError(`${fn}: ${name} must be an integer of at least ${least}, got ${describe(v)}`);
  return v;
};

/** The weights as an array of x's shape (ones of int32 when none are given; bool counts as int32). */
function weightsFor(fn: string, w: ArrayLike | undefined, like: NDArray): NDArray {
  if (w === undefined) return lax.fill({ shape: like.shape, dtype: "int32" }, 1);
  const a = asArray(fn, w, undefined, "weights");
  if (a.ndim !== like.ndim || a.shape.some((d, k) => d !== like.shape[k]))
    throw new ShapeError(`${fn}: weights must have the shape of the values, ${fmtShape(like.shape)}; got ${fmtShape(a.shape)}`);
  return a.dtype === "bool" ? lax.convert(a, "int32") : a;
}

/**
 * How many times each non-negative integer occurs in the 1-d integer array x (`counts[k]` for
 * k < length), or the sum of the weights of its occurrences. As in JAX, negative values count in bin
 * 0 and values at or past `length` are dropped. Without `length` the bins reach the largest value
 * (at least `minlength`), which needs x's values: under jit or vmap pass `length`.
 */
export function bincount(x: ArrayLike, options: BincountOptions = {}): NDArray {
  const fn = "np.bincount";
  return naming(fn, () => {
    const o = checkOptionsObject(fn, options, ["weights", "minlength", "length"]);
    let a = asArray(fn, x, "int32", "x");
    // A JS list of whole numbers is an int32 array here (as jnp.asarray makes it), not float32.
    if (Array.isArray(x) && a instanceof ConcreteArray && a.dtype === "float32" && a.values.every(Number.isInteger)) a = lax.convert(a, "int32");
    if (a.dtype === "bool") a = lax.convert(a, "int32");
    if (a.dtype !== "int32" && a.dtype !== "uint32")
      throw new DTypeError(`${fn}: x must hold integers (int32, uint32 or bool), got ${a.dtype}; convert with .astype("int32")`);
    if (a.ndim !== 1) throw new ShapeError(`${fn}: x must be 1-d, got shape ${fmtShape(a.shape)}; flatten it with np.ravel`);
    const minlength = count(fn, "minlength", o.minlength ?? 0, 0);
    let length: number;
    if (o.length !== undefined) length = count(fn, "length", o.length, 0);
    else {
      if (!(a instanceof ConcreteArray))
        throw new ConcretizationError(
          `${fn}: the number of bins depends on the values of x (${a.dtype}${fmtShape(a.shape)}), which are traced here; pass { length } (a static number of bins), as under jax.jit`,
        );
      let top = -1;
      for (const v of a.values) top = Math.max(top, Number(v));
      length = Math.max(minlength, top + 1);
    }
    const w = weightsFor(fn, o.weights, a);
    const bins = lax.fill({ shape: [length], dtype: w.dtype }, 0);
    if (length === 0 || a.size === 0) return bins;
    // Compared in x's own dtype (a uint32 past 2^31 is no negative int32); the index is then < length.
    const kept = lax.lt(a, lax.fill({ shape: a.shape, dtype: a.dtype }, length));
    let idx = lax.selectN(kept, lax.fill({ shape: a.shape, dtype: a.dtype }, 0), a);
    if (idx.dtype !== "int32") idx = lax.convert(idx, "int32");
    idx = lax.max(idx, lax.fill({ shape: a.shape, dtype: "int32" }, 0));
    return lax.scatterAdd(bins, idx, lax.selectN(kept, lax.fill(w, 0), w), 0);
  });
}

/** Options of `np.histogram`. */
export interface HistogramOptions {
  /** The number of equal bins (default 10), or the bin edges, 1-d and increasing. */
  bins?: number | ArrayLike;
  /** The lower and upper edges for a number of bins (default: the least and greatest value). */
  range?: [number, number];
  /** A weight per value, added into its bin instead of 1 (the counts take their dtype). */
  weights?: ArrayLike;
  /** Divide the counts so that they integrate to 1 over the range (a probability density). */
  density?: boolean;
}

/**
 * The histogram of the values of `a` (flattened): `[counts, edges]`, counts[k] the number (or the
 * weight) of values in [edges[k], edges[k + 1]), the last bin closed at its upper edge. Values
 * outside the edges, and NaN, are left out. As in JAX, equal bins over a range whose ends are equal
 * widen it by 0.5 either side, and the counts have the weights' dtype (without weights, a's dtype,
 * int32 for bool); densities are floats. With NaN among the values and no range, the edges are NaN
 * (as in JAX): pass a range.
 */
export function histogram(a: ArrayLike, options: HistogramOptions = {}): [NDArray, NDArray] {
  const fn = "np.histogram";
  return naming(fn, () => {
    const o = checkOptionsObject(fn, options, ["bins", "range", "weights", "density"]);
    const x0 = asArray(fn, a, undefined, "a");
    const dtype: DType = isFloat(x0.dtype) ? x0.dtype : "float32";
    let x = lax.reshape(x0.dtype === dtype ? x0 : lax.convert(x0, dtype), [x0.size]);
    let edges = binEdges(fn, x, o.bins ?? 10, o.range, dtype);
    // Given edges of a wider float widen the values too (float64 edges for float32 values).
    if (edges.dtype !== dtype) {
      const wide = promote(edges.dtype, dtype);
      [x, edges] = [lax.convert(x, wide), lax.convert(edges, wide)];
    }
    const nb = edges.size - 1;
    const w =
      o.weights === undefined
        ? lax.fill({ shape: x.shape, dtype: x0.dtype === "bool" ? "int32" : x0.dtype }, 1)
        : lax.reshape(weightsFor(fn, o.weights, x0), [x0.size]);
    // Bin k + 1 holds [edges[k], edges[k + 1]); 0 is below the edges, nb + 1 above them (and NaN).
    let idx = searchsorted(edges, x, { side: "right" });
    const last = lax.broadcastTo(lax.sliceAxis(edges, 0, nb, nb + 1), x.shape);
    idx = lax.selectN(lax.eq(x, last), idx, lax.fill(idx, nb));
    const all = lax.scatterAdd(lax.fill({ shape: [nb + 2], dtype: w.dtype }, 0), idx, w, 0);
    let counts = lax.sliceAxis(all, 0, 1, nb + 1);
    if (o.density === true) {
      const c = isFloat(counts.dtype) ? counts : lax.convert(counts, dtype);
      const widths = lax.sub(lax.sliceAxis(edges, 0, 1, nb + 1), lax.sliceAxis(edges, 0, 0, nb));
      const total = lax.broadcastTo(lax.reduceSum(c, [0]), c.shape);
      counts = lax.div(lax.div(c, lax.convert(widths, c.dtype)), total);
    } else if (o.density !== undefined && o.density !== false)
      throw new ArgumentError(`${fn}: density must be a boolean, got ${describe(o.density)}`);
    return [counts, edges];
  });
}

/** The bin edges: the given ones (1-d, at least two), or `bins` equal bins over the range. */
function binEdges(fn: string, x: NDArray, bins: number | ArrayLike, range: [number, number] | undefined, dtype: DType): NDArray {
  if (typeof bins !== "number") {
    if (range !== undefined) throw new ArgumentError(`${fn}: range applies to a number of bins, not to given edges`);
    const e = asArray(fn, bins, undefined, "bins");
    if (e.ndim !== 1 || e.size < 2) throw new ShapeError(`${fn}: bin edges must be 1-d with at least two, got shape ${fmtShape(e.shape)}`);
    return isFloat(e.dtype) ? e : lax.convert(e, dtype);
  }
  const nb = count(fn, "bins", bins, 1);
  let lo: NDArray, hi: NDArray;
  if (range !== undefined) {
    if (!Array.isArray(range) || range.length !== 2 || !range.every((r) => typeof r === "number" && Number.isFinite(r)) || range[0] > range[1])
      throw new ArgumentError(`${fn}: range must be [lower, upper] with finite lower <= upper, got ${describe(range)}`);
    [lo, hi] = [lax.scalar(range[0], dtype), lax.scalar(range[1], dtype)];
  } else if (x.size === 0) [lo, hi] = [lax.scalar(0, dtype), lax.scalar(1, dtype)];
  else [lo, hi] = [lax.reduceMin(x, [0]), lax.reduceMax(x, [0])];
  // Equal ends widen by 0.5 either side.
  const flat = lax.eq(lo, hi);
  const half = lax.scalar(0.5, dtype);
  lo = lax.selectN(flat, lo, lax.sub(lo, half));
  hi = lax.selectN(flat, hi, lax.add(hi, half));
  // lo + (hi - lo) · k / nb, the last edge exactly hi.
  const k = new ConcreteArray(
    dtype === "float64" ? Float64Array.from({ length: nb }, (_, i) => i / nb) : Float32Array.from({ length: nb }, (_, i) => i / nb),
    [nb],
    dtype,
  );
  const inner = lax.add(lax.broadcastTo(lo, [nb]), lax.mul(k, lax.broadcastTo(lax.sub(hi, lo), [nb])));
  return lax.concatenate([inner, lax.reshape(hi, [1])], 0);
}
