/**
 * Reductions and scans: sum, mean, max, min, prod, argmax, argmin, var, std, cumsum. Each accepts
 * an axis, a list of axes, or `{ axis, keepdims, ddof }`.
 */
import type { DType } from "../core/dtype.js";
import { ShapeError, naming } from "../core/errors.js";
import * as lax from "../core/lax.js";
import type { NDArray } from "../core/ndarray.js";
import { fmtShape, normAxis, sizeOf } from "../core/shape.js";
import { type ArrayLike, type AxisArg, asArray, keptShape, parseAxes, toFloat } from "./base.js";

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
    const { axes } = parseAxes(fn, a.ndim, arg);
    if (axes.some((d) => a.shape[d] === 0)) throw new ShapeError(`np.${fn}: cannot reduce an empty axis of shape [${a.shape}]; it has no identity`);
    return reduceWith(fn, lax.convert(a, sumDType(a.dtype)), arg, op);
  };
}
export const max = extremum("max", lax.reduceMax);
export const min = extremum("min", lax.reduceMin);

/**
 * Product by a pairwise tree of multiplications (pad to a power of two with ones, multiply halves),
 * so derivatives are exact even where elements are 0.
 */
export function prod(x: ArrayLike, arg?: AxisArg): NDArray {
  const a = asArray("prod", x, undefined, "x");
  return reduceWith("prod", lax.convert(a, sumDType(a.dtype)), arg, (v, axes) => {
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
  });
}

function argReduce(fn: string, op: typeof lax.argmax) {
  return (x: ArrayLike, arg?: number | null | { axis?: number | null; keepdims?: boolean }): NDArray => {
    const a = asArray(fn, x, undefined, "x");
    const opts = typeof arg === "object" && arg !== null ? arg : { axis: arg };
    if (opts.axis === null || opts.axis === undefined) {
      if (a.size === 0)
        throw new ShapeError(`np.${fn}: x is empty (shape ${fmtShape(a.shape)}); an empty array has no ${fn === "argmax" ? "maximum" : "minimum"}`);
      const out = op(lax.reshape(a, [a.size]), 0);
      return opts.keepdims
        ? lax.reshape(
            out,
            a.shape.map(() => 1),
          )
        : out;
    }
    const axis = normAxis(`np.${fn}`, opts.axis, a.ndim);
    if (a.shape[axis] === 0) throw new ShapeError(`np.${fn}: axis ${axis} of shape [${a.shape}] is empty`);
    const out = op(a, axis);
    return opts.keepdims ? lax.reshape(out, keptShape(a.shape, [axis])) : out;
  };
}
export const argmax = argReduce("argmax", lax.argmax);
export const argmin = argReduce("argmin", lax.argmin);

/** Variance with `ddof` (delta degrees of freedom, default 0). */
export function variance(x: ArrayLike, arg?: AxisArg): NDArray {
  const a = toFloat(asArray("np.var", x, undefined, "x"));
  const { axes, keepdims, ddof } = parseAxes("np.var", a.ndim, arg);
  const m = mean(a, { axis: axes, keepdims: true });
  const d = lax.sub(a, lax.broadcastTo(m, a.shape));
  const n = sizeOf(axes.map((ax) => a.shape[ax]!));
  const s = lax.reduceSum(lax.mul(d, d), axes);
  const out = lax.div(s, lax.fill(s, Math.max(n - ddof, 0)));
  return keepdims ? lax.reshape(out, keptShape(a.shape, axes)) : out;
}

export function std(x: ArrayLike, arg?: AxisArg): NDArray {
  return naming("np.std", () => lax.sqrt(variance(x, arg)));
}

/** Cumulative sum along `axis` (over the flattened array when no axis is given). */
export function cumsum(x: ArrayLike, axis?: number | null): NDArray {
  let a = asArray("cumsum", x, undefined, "x");
  a = lax.convert(a, sumDType(a.dtype));
  if (axis === null || axis === undefined) return lax.cumsum(lax.reshape(a, [a.size]), 0);
  return lax.cumsum(a, normAxis("np.cumsum", axis, a.ndim));
}
