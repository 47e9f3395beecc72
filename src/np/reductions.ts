/**
 * Reductions and scans: sum, mean, max, min, prod, argmax, argmin, var, std, cumsum. Each accepts
 * an axis, a list of axes, or `{ axis, keepdims, ddof }`. Called eagerly, var, std, prod, the
 * doubling scans (cumprod, cummax, cummin: several passes each), all, any, countNonzero, the
 * reductions that ignore NaN, the weighted average and arrayEqual run as one cached program
 * (`staged`).
 */
import type { DType } from "../core/dtype.js";
import { ArgumentError, ShapeError, naming } from "../core/errors.js";
import { checkOptionsObject } from "../core/options.js";
import * as lax from "../core/lax.js";
import type { NDArray } from "../core/ndarray.js";
import { fmtShape, normAxis, sizeOf } from "../core/shape.js";
import { type ArrayLike, type AxisArg, asArray, keptShape, parseAxes, promoteAndBroadcast, toFloat } from "./base.js";
import { isclose } from "./math.js";
import { numberKey, staged } from "../core/staged.js";

/** Applies a reducer over the parsed axes, restoring size-1 dims for keepdims. */
function reduceWith(fn: string, x: NDArray, arg: AxisArg, op: (x: NDArray, axes: number[]) => NDArray): NDArray {
  const { axes, keepdims } = parseAxes(fn, x.ndim, arg);
  const out = op(x, axes);
  return keepdims ? lax.reshape(out, keptShape(x.shape, axes)) : out;
}

const sumDType = (d: DType): DType => (d === "bool" ? "int32" : d);

export function sum(x: ArrayLike, arg?: AxisArg): NDArray {
  const a = asArray("sum", x, undefined, "x");
  return reduceWith("sum", lax.convert(a, sumDType(a.dtype)), arg, lax.reduceSum);
}

export function mean(x: ArrayLike, arg?: AxisArg): NDArray {
  const a = toFloat(asArray("mean", x, undefined, "x"));
  const { axes } = parseAxes("mean", a.ndim, arg);
  const n = sizeOf(axes.map((d) => a.shape[d]!));
  const s = reduceWith("mean", a, arg, lax.reduceSum);
  return lax.div(s, lax.fill(s, n));
}

function extremum(fn: string, op: typeof lax.reduceMax) {
  return (x: ArrayLike, arg?: AxisArg): NDArray => {
    const a = asArray(fn, x, undefined, "x");
    extremumAxes(fn, a, arg);
    return reduceWith(fn, lax.convert(a, sumDType(a.dtype)), arg, op);
  };
}
/** The parsed axes of max or min over `a`; an empty one is a ShapeError (it has no identity). */
function extremumAxes(fn: string, a: NDArray, arg: AxisArg): { axes: number[]; keepdims: boolean } {
  const { axes, keepdims } = parseAxes(fn, a.ndim, arg);
  if (axes.some((d) => a.shape[d] === 0)) throw new ShapeError(`np.${fn}: cannot reduce an empty axis of shape [${a.shape}]; it has no identity`);
  return { axes, keepdims };
}
export const max = extremum("max", lax.reduceMax);
export const min = extremum("min", lax.reduceMin);

/**
 * Product by a pairwise tree of multiplications (pad to a power of two with ones, multiply halves),
 * so derivatives are exact even where elements are 0.
 */
export function prod(x: ArrayLike, arg?: AxisArg): NDArray {
  const a = asArray("prod", x, undefined, "x");
  const { axes, keepdims } = parseAxes("prod", a.ndim, arg);
  return staged(`np.prod [${axes}] ${keepdims}`, [lax.convert(a, sumDType(a.dtype))], (c) =>
    reduceWith("prod", c, { axis: axes, keepdims }, productOver),
  );
}

/** The product over `axes` of `v`, by the pairwise tree described at `prod`. */
function productOver(v: NDArray, axes: number[]): NDArray {
  const keep = v.shape.map((_, d) => d).filter((d) => !axes.includes(d));
  const moved = lax.transpose(v, [...keep, ...axes]);
  const outer = keep.map((d) => v.shape[d]!);
  let flat = lax.reshape(moved, [...outer, sizeOf(axes.map((d) => v.shape[d]!))]);
  let n = flat.shape[outer.length]!;
  const last = outer.length;
  let p2 = 1;
  while (p2 < n) p2 *= 2;
  const cfg = flat.shape.map((_, d): [number, number, number] => [0, d === last ? p2 - n : 0, 0]);
  flat = lax.pad(flat, lax.scalar(1, flat.dtype), cfg);
  for (n = p2; n > 1; n /= 2) flat = lax.mul(lax.sliceAxis(flat, last, 0, n / 2), lax.sliceAxis(flat, last, n / 2, n));
  return lax.reshape(flat, outer);
}

/** The axis argument of argmax and argmin: an axis, null (the flattened array), or `{ axis, keepdims }`. */
type ArgAxisArg = number | null | { axis?: number | null; keepdims?: boolean };

function argReduce(fn: string, op: typeof lax.argmax) {
  return (x: ArrayLike, arg?: ArgAxisArg): NDArray => {
    const a = asArray(fn, x, undefined, "x");
    const { axis, keepdims } = argAxis(fn, a, arg);
    if (axis === null) {
      const out = op(lax.reshape(a, [a.size]), 0);
      return keepdims
        ? lax.reshape(
            out,
            a.shape.map(() => 1),
          )
        : out;
    }
    const out = op(a, axis);
    return keepdims ? lax.reshape(out, keptShape(a.shape, [axis])) : out;
  };
}
/** The normalised axis of argmax or argmin over `a` (null: flattened) and keepdims; an empty one is a ShapeError. */
function argAxis(fn: string, a: NDArray, arg: ArgAxisArg | undefined): { axis: number | null; keepdims: boolean } {
  const opts = typeof arg === "object" && arg !== null ? arg : { axis: arg };
  const keepdims = Boolean(opts.keepdims);
  if (opts.axis === null || opts.axis === undefined) {
    if (a.size === 0)
      throw new ShapeError(`np.${fn}: x is empty (shape ${fmtShape(a.shape)}); an empty array has no ${fn === "argmax" ? "maximum" : "minimum"}`);
    return { axis: null, keepdims };
  }
  const axis = normAxis(`np.${fn}`, opts.axis, a.ndim);
  if (a.shape[axis] === 0) throw new ShapeError(`np.${fn}: axis ${axis} of shape [${a.shape}] is empty`);
  return { axis, keepdims };
}
export const argmax = argReduce("argmax", lax.argmax);
export const argmin = argReduce("argmin", lax.argmin);

/** Variance with `ddof` (delta degrees of freedom, default 0). */
export function variance(x: ArrayLike, arg?: AxisArg): NDArray {
  return moments("np.var", x, arg, false);
}

export function std(x: ArrayLike, arg?: AxisArg): NDArray {
  return naming("np.std", () => moments("np.std", x, arg, true));
}

/** The variance with `ddof` over the parsed axes (its square root for std), as one staged program. */
function moments(fn: string, x: ArrayLike, arg: AxisArg | undefined, root: boolean): NDArray {
  const a = toFloat(asArray("np.var", x, undefined, "x"));
  const { axes, keepdims, ddof } = parseAxes("np.var", a.ndim, arg);
  return staged(`${fn} [${axes}] ${keepdims} ${ddof}`, [a], (v) => {
    const m = mean(v, { axis: axes, keepdims: true });
    const d = lax.sub(v, lax.broadcastTo(m, v.shape));
    const n = sizeOf(axes.map((ax) => v.shape[ax]!));
    const s = lax.reduceSum(lax.mul(d, d), axes);
    const variance = lax.div(s, lax.fill(s, Math.max(n - ddof, 0)));
    const out = root ? lax.sqrt(variance) : variance;
    return keepdims ? lax.reshape(out, keptShape(v.shape, axes)) : out;
  });
}

/** Options of the cumulative functions: `{ axis, reverse }` (no axis: over the flattened array). */
export type CumArg = number | null | undefined | { axis?: number | null; reverse?: boolean };

/** The operand flattened or not, the normalised axis and the direction. */
function cumArgs(fn: string, x: ArrayLike, arg: CumArg): { a: NDArray; axis: number; reverse: boolean } {
  let a = asArray(fn, x, undefined, "x");
  a = lax.convert(a, sumDType(a.dtype));
  if (Array.isArray(arg)) throw new ArgumentError(`np.${fn}: axis must be one integer; call np.${fn}(x, { axis: ${arg[0] ?? 0} })`);
  const opts = typeof arg === "object" && arg !== null ? checkOptionsObject(`np.${fn}`, arg, ["axis", "reverse"]) : { axis: arg };
  const reverse = opts.reverse ?? false;
  if (opts.axis === null || opts.axis === undefined) return { a: lax.reshape(a, [a.size]), axis: 0, reverse };
  return { a, axis: normAxis(`np.${fn}`, opts.axis, a.ndim), reverse };
}

/** Cumulative sum along `axis` (over the flattened array when no axis is given): `np.cumsum(x, { axis })` or `np.cumsum(x, axis)`. */
export function cumsum(x: ArrayLike, arg?: CumArg): NDArray {
  const { a, axis, reverse } = cumArgs("cumsum", x, arg);
  return lax.cumsum(a, axis, reverse);
}

/**
 * An inclusive scan by doubling (Hillis-Steele): log2(n) steps of y = op(y, y shifted by 2^j),
 * the shift padding with `identity`. Built from primitives, so every transform applies; the
 * derivative is op's (ties in max/min split evenly, as JAX's cummax).
 */
function doublingScan(a: NDArray, axis: number, reverse: boolean, op: (x: NDArray, y: NDArray) => NDArray, identity: number): NDArray {
  let y = reverse ? lax.rev(a, [axis]) : a;
  const n = a.shape[axis]!;
  for (let s = 1; s < n; s *= 2) {
    const cfg = y.shape.map((_, d): [number, number, number] => [d === axis ? s : 0, 0, 0]);
    const shifted = lax.sliceAxis(lax.pad(y, lax.scalar(identity, y.dtype), cfg), axis, 0, n);
    y = op(y, shifted);
  }
  return reverse ? lax.rev(y, [axis]) : y;
}
const lowest = (d: DType) => (d === "int32" ? -(2 ** 31) : -Infinity);
const highest = (d: DType) => (d === "int32" ? 2 ** 31 - 1 : Infinity);

/** Cumulative product (exact derivatives where elements are 0: a tree of products, no division). */
export function cumprod(x: ArrayLike, arg?: CumArg): NDArray {
  const { a, axis, reverse } = cumArgs("cumprod", x, arg);
  return staged(`np.cumprod ${axis} ${reverse}`, [a], (v) => doublingScan(v, axis, reverse, lax.mul, 1));
}
/** Running maximum. */
export function cummax(x: ArrayLike, arg?: CumArg): NDArray {
  const { a, axis, reverse } = cumArgs("cummax", x, arg);
  return staged(`np.cummax ${axis} ${reverse}`, [a], (v) => doublingScan(v, axis, reverse, lax.max, lowest(v.dtype)));
}
/** Running minimum. */
export function cummin(x: ArrayLike, arg?: CumArg): NDArray {
  const { a, axis, reverse } = cumArgs("cummin", x, arg);
  return staged(`np.cummin ${axis} ${reverse}`, [a], (v) => doublingScan(v, axis, reverse, lax.min, highest(v.dtype)));
}

const truthyInt = (a: NDArray): NDArray => lax.convert(a.dtype === "bool" ? a : lax.ne(a, lax.fill(a, 0)), "int32");

/**
 * `body(v, { axis, keepdims })` on `x` with `arg` parsed for `fn` (its errors named so), as one
 * staged program keyed by `fn`, the axes and keepdims.
 */
function stagedOverAxes(fn: string, x: NDArray, arg: AxisArg, body: (v: NDArray, r: { axis: number[]; keepdims: boolean }) => NDArray): NDArray {
  const { axes, keepdims } = parseAxes(fn, x.ndim, arg);
  return staged(`${fn} [${axes}] ${keepdims}`, [x], (v) => body(v, { axis: axes, keepdims }));
}

/** Whether every element (along the axes) is nonzero; true on an empty axis. */
export function all(x: ArrayLike, arg?: AxisArg): NDArray {
  return stagedOverAxes("np.all", asArray("all", x, undefined, "x"), arg, (a, r) => {
    const bad = reduceWith("np.all", lax.sub(lax.fill({ shape: a.shape, dtype: "int32" }, 1), truthyInt(a)), r, lax.reduceSum);
    return lax.eq(bad, lax.fill(bad, 0));
  });
}
/** Whether any element (along the axes) is nonzero; false on an empty axis. */
export function any(x: ArrayLike, arg?: AxisArg): NDArray {
  return stagedOverAxes("np.any", asArray("any", x, undefined, "x"), arg, (a, r) => {
    const n = reduceWith("np.any", truthyInt(a), r, lax.reduceSum);
    return lax.gt(n, lax.fill(n, 0));
  });
}
/** The number of nonzero elements (along the axes), int32. */
export const countNonzero = (x: ArrayLike, arg?: AxisArg): NDArray =>
  stagedOverAxes("np.countNonzero", asArray("countNonzero", x, undefined, "x"), arg, (a, r) =>
    reduceWith("np.countNonzero", truthyInt(a), r, lax.reduceSum),
  );

/** `x` with NaN replaced by `value`, and the NaN mask. */
function dropNan(fn: string, x: ArrayLike, value: number): { a: NDArray; nan: NDArray } {
  const a = asArray(fn, x, undefined, "x");
  if (a.dtype === "int32" || a.dtype === "bool") return { a, nan: lax.full(a.shape, 0, "bool") };
  const nan = lax.ne(a, a);
  return { a: lax.selectN(nan, a, lax.fill(a, value)), nan };
}
/** Sum ignoring NaN. */
export const nansum = (x: ArrayLike, arg?: AxisArg): NDArray =>
  naming("np.nansum", () => {
    const a = asArray("nansum", x, undefined, "x");
    const { axes, keepdims } = parseAxes("sum", a.ndim, arg);
    return staged(`np.nansum [${axes}] ${keepdims}`, [a], (v) => sum(dropNan("nansum", v, 0).a, { axis: axes, keepdims }));
  });
/** Product ignoring NaN. */
export const nanprod = (x: ArrayLike, arg?: AxisArg): NDArray =>
  naming("np.nanprod", () => {
    const a = asArray("nanprod", x, undefined, "x");
    const { axes, keepdims } = parseAxes("prod", a.ndim, arg);
    return staged(`np.nanprod [${axes}] ${keepdims}`, [a], (v) => prod(dropNan("nanprod", v, 1).a, { axis: axes, keepdims }));
  });
/** Mean of the non-NaN elements. */
export function nanmean(x: ArrayLike, arg?: AxisArg): NDArray {
  return naming("np.nanmean", () => {
    const f = toFloat(asArray("nanmean", x, undefined, "x"));
    const { axes, keepdims } = parseAxes("sum", f.ndim, arg);
    return staged(`np.nanmean [${axes}] ${keepdims}`, [f], (v) => {
      const { a, nan } = dropNan("nanmean", v, 0);
      const s = sum(a, { axis: axes, keepdims });
      const n = lax.convert(sum(lax.not(nan), { axis: axes, keepdims }), s.dtype);
      return lax.div(s, n);
    });
  });
}
/** Variance of the non-NaN elements (with `ddof`). */
export function nanvar(x: ArrayLike, arg?: AxisArg): NDArray {
  return nanMoments("np.nanvar", x, arg, false);
}
export const nanstd = (x: ArrayLike, arg?: AxisArg): NDArray => naming("np.nanstd", () => nanMoments("np.nanstd", x, arg, true));

/** The variance of the non-NaN elements with `ddof` over the parsed axes (its square root for nanstd), as one staged program. */
function nanMoments(fn: string, x: ArrayLike, arg: AxisArg | undefined, root: boolean): NDArray {
  return naming("np.nanvar", () => {
    const f = toFloat(asArray("nanvar", x, undefined, "x"));
    const { axes, keepdims, ddof } = parseAxes("np.nanvar", f.ndim, arg);
    return staged(`${fn} [${axes}] ${keepdims} ${numberKey(ddof)}`, [f], (v) => {
      const { a, nan } = dropNan("nanvar", v, 0);
      const n = lax.convert(sum(lax.not(nan), { axis: axes, keepdims: true }), a.dtype);
      const m = lax.div(sum(a, { axis: axes, keepdims: true }), n);
      const d = lax.selectN(nan, lax.sub(a, lax.broadcastTo(m, a.shape)), lax.fill(a, 0));
      const variance = lax.div(sum(lax.mul(d, d), { axis: axes, keepdims: true }), lax.max(lax.sub(n, lax.fill(n, ddof)), lax.fill(n, 0)));
      const out = keepdims
        ? variance
        : lax.reshape(
            variance,
            variance.shape.filter((_, i) => !axes.includes(i)),
          );
      return root ? lax.sqrt(out) : out;
    });
  });
}
/** Maximum ignoring NaN (NaN where every element is NaN). */
export const nanmax = (x: ArrayLike, arg?: AxisArg): NDArray => nanExtremum("nanmax", x, arg);
/** Minimum ignoring NaN (NaN where every element is NaN). */
export const nanmin = (x: ArrayLike, arg?: AxisArg): NDArray => nanExtremum("nanmin", x, arg);

/** nanmax or nanmin over the parsed axes, as one staged program. */
function nanExtremum(fn: "nanmax" | "nanmin", x: ArrayLike, arg: AxisArg | undefined): NDArray {
  return naming(`np.${fn}`, () => {
    const a = asArray(fn, x, undefined, "x");
    const { axes, keepdims } = extremumAxes(fn === "nanmax" ? "max" : "min", a, arg);
    return staged(`np.${fn} [${axes}] ${keepdims}`, [a], (v) => {
      const r = { axis: axes, keepdims };
      const { a: b, nan } = dropNan(fn, v, fn === "nanmax" ? -Infinity : Infinity);
      const out = fn === "nanmax" ? max(b, r) : min(b, r);
      return b.dtype === "int32" || b.dtype === "bool" ? out : lax.selectN(all(nan, r), out, lax.fill(out, NaN));
    });
  });
}
export const nanargmax = (x: ArrayLike, arg?: ArgAxisArg): NDArray => nanArg("nanargmax", x, arg);
export const nanargmin = (x: ArrayLike, arg?: ArgAxisArg): NDArray => nanArg("nanargmin", x, arg);

/** nanargmax or nanargmin along the parsed axis, as one staged program. */
function nanArg(fn: "nanargmax" | "nanargmin", x: ArrayLike, arg: ArgAxisArg | undefined): NDArray {
  return naming(`np.${fn}`, () => {
    const a = asArray(fn, x, undefined, "x");
    const { axis, keepdims } = argAxis(fn === "nanargmax" ? "argmax" : "argmin", a, arg);
    return staged(`np.${fn} ${axis} ${keepdims}`, [a], (v) => {
      const b = dropNan(fn, v, fn === "nanargmax" ? -Infinity : Infinity).a;
      return fn === "nanargmax" ? argmax(b, { axis, keepdims }) : argmin(b, { axis, keepdims });
    });
  });
}
/** Peak to peak: max - min. */
export const ptp = (x: ArrayLike, arg?: AxisArg): NDArray => naming("np.ptp", () => lax.sub(max(x, arg), min(x, arg)));

/** Weighted mean: sum(x w) / sum(w) over the axes (w broadcast against x); the plain mean without weights. */
export function average(x: ArrayLike, options: { axis?: number | number[] | null; weights?: ArrayLike; keepdims?: boolean } = {}): NDArray {
  return naming("np.average", () => {
    const o = checkOptionsObject("np.average", options, ["axis", "weights", "keepdims"]);
    const a = toFloat(asArray("np.average", x, undefined, "x"));
    const r = { axis: o.axis, keepdims: o.keepdims };
    if (o.weights === undefined) return mean(a, r);
    const w = lax.broadcastTo(lax.convert(asArray("np.average", o.weights, a.dtype, "weights"), a.dtype), a.shape);
    const { axes, keepdims } = parseAxes("sum", a.ndim, r);
    const s = { axis: axes, keepdims };
    return staged(`np.average [${axes}] ${keepdims}`, [a, w], (u, v) => lax.div(sum(lax.mul(u, v), s), sum(v, s)));
  });
}

/** Whether every element pair is close (np.isclose's options). */
export const allclose = (a: ArrayLike, b: ArrayLike, options: { rtol?: number; atol?: number; equalNan?: boolean } = {}): NDArray =>
  naming("np.allclose", () => all(isclose(a, b, options)));
/** Whether two arrays have one shape and equal elements. */
export function arrayEqual(a: ArrayLike, b: ArrayLike): NDArray {
  const x = asArray("np.arrayEqual", a, undefined, "a"),
    y = asArray("np.arrayEqual", b, x.dtype, "b");
  if (x.shape.length !== y.shape.length || x.shape.some((n, d) => n !== y.shape[d])) return lax.scalar(0, "bool");
  return staged("np.arrayEqual", promoteAndBroadcast("np.arrayEqual", [x, y]), (u, v) => all(lax.eq(u, v)));
}

/**
 * Covariance matrix of the variables (rows, or columns with `rowvar: false`) of a 1-d or 2-d
 * array: Xc Xcᵀ / (N - ddof), with ddof 1 unless `bias` (then 0) or given.
 */
export function cov(m: ArrayLike, options: { rowvar?: boolean; bias?: boolean; ddof?: number } = {}): NDArray {
  const o = checkOptionsObject("np.cov", options, ["rowvar", "bias", "ddof"]);
  let x = toFloat(asArray("np.cov", m, undefined, "m"));
  if (x.ndim > 2) throw new ShapeError(`np.cov: m must be 1-d or 2-d, got shape ${fmtShape(x.shape)}`);
  const vector = x.ndim < 2;
  x = lax.reshape(x, vector ? [1, x.size] : x.shape);
  if (o.rowvar === false && !vector) x = lax.transpose(x, [1, 0]);
  const n = x.shape[1]!;
  const ddof = o.ddof ?? (o.bias ? 0 : 1);
  if (typeof ddof !== "number" || !Number.isFinite(ddof)) throw new ArgumentError(`np.cov: option ddof must be a finite number, got ${ddof}`);
  const c = lax.sub(x, lax.broadcastTo(mean(x, { axis: 1, keepdims: true }), x.shape));
  const out = lax.dotGeneral(c, c, [[1], [1]]);
  const scaled = lax.div(out, lax.fill(out, Math.max(n - ddof, 0)));
  return vector ? lax.reshape(scaled, []) : scaled;
}

/** Pearson correlation coefficients: cov / sqrt(diag ⊗ diag). */
export function corrcoef(x: ArrayLike, options: { rowvar?: boolean } = {}): NDArray {
  const o = checkOptionsObject("np.corrcoef", options, ["rowvar"]);
  return naming("np.corrcoef", () => {
    const c = cov(x, { rowvar: o.rowvar });
    if (c.ndim === 0) return lax.div(c, c);
    const n = c.shape[0]!;
    const eyeMask = lax.full([n, n], 0, c.dtype);
    for (let i = 0; i < n; i++) eyeMask.values[i * n + i] = 1;
    const d = lax.sqrt(lax.reduceSum(lax.mul(c, eyeMask), [1]));
    return lax.div(lax.div(c, lax.broadcastInDim(d, [n, n], [0])), lax.broadcastInDim(d, [n, n], [1]));
  });
}
