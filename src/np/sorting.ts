/**
 * Sorting and searching: sort, argsort, searchsorted, interp, median, quantile, percentile.
 * The order comes from the argsort primitive (stable, NaN last); the sorted array gathers by it,
 * so derivatives flow back through the permutation as in JAX.
 */
import { promote } from "../core/dtype.js";
import { ArgumentError, describe, naming } from "../core/errors.js";
import { checkOptionsObject } from "../core/options.js";
import * as lax from "../core/lax.js";
import type { NDArray } from "../core/ndarray.js";
import { normAxis } from "../core/shape.js";
import { type ArrayLike, asArray, toFloat } from "./base.js";
import { numberKey, staged } from "../core/staged.js";

/** Options of sort and argsort: the axis (-1 by default; null sorts the flattened array) and the order. */
export interface SortOptions {
  axis?: number | null;
  descending?: boolean;
}

function sortArgs(fn: string, x: ArrayLike, options: SortOptions | number | null | undefined): { a: NDArray; axis: number; descending: boolean } {
  let a = asArray(fn, x, undefined, "x");
  const o = typeof options === "object" && options !== null ? checkOptionsObject(fn, options, ["axis", "descending"]) : { axis: options };
  const axisIn = o.axis === undefined ? -1 : o.axis;
  if (axisIn === null) a = lax.reshape(a, [a.size]);
  else if (a.ndim === 0) throw new ArgumentError(`${fn}: x is a scalar; there is no axis to sort`);
  if (o.descending !== undefined && typeof o.descending !== "boolean")
    throw new ArgumentError(`${fn}: descending must be a boolean, got ${describe(o.descending)}`);
  return { a, axis: axisIn === null ? 0 : normAxis(fn, axisIn, a.ndim), descending: o.descending ?? false };
}

/** Indices that sort `x` along the axis (stable; NaN last; `descending` reverses the order). */
export function argsort(x: ArrayLike, options?: SortOptions | number | null): NDArray {
  const { a, axis, descending } = sortArgs("np.argsort", x, options);
  if (!descending) return lax.argsort(a, axis);
  // Ascending on the reversed axis, mapped back: ties keep their index order, NaN comes first.
  const idx = lax.argsort(lax.rev(a, [axis]), axis);
  return lax.sub(lax.fill(idx, a.shape[axis]! - 1), lax.rev(idx, [axis]));
}

/** `x` sorted along the axis (NaN last); the derivative follows the permutation. */
export function sort(x: ArrayLike, options?: SortOptions | number | null): NDArray {
  const { a, axis, descending } = sortArgs("np.sort", x, options);
  const last = a.ndim - 1;
  const moved = lax.moveAxis(a, axis, last);
  let idx = lax.argsort(moved, last);
  if (descending) idx = lax.rev(idx, [last]);
  return lax.moveAxis(lax.gather(moved, idx, last, last), last, axis);
}

/** Insertion indices of `v` into sorted 1-d `a`: the count of elements < v ("left") or <= v ("right"). */
export function searchsorted(a: ArrayLike, v: ArrayLike, options: { side?: "left" | "right" } = {}): NDArray {
  const o = checkOptionsObject("np.searchsorted", options, ["side"]);
  const side = o.side ?? "left";
  if (side !== "left" && side !== "right") throw new ArgumentError(`np.searchsorted: side must be "left" or "right", got ${describe(side)}`);
  const [s0, q0] = promoteAndBroadcastPair("np.searchsorted", a, v);
  if (s0.ndim !== 1) throw new ArgumentError(`np.searchsorted: a must be 1-d (sorted), got shape [${s0.shape}]`);
  return staged(`np.searchsorted ${side}`, [s0, q0], (sorted, values) => binarySearch(sorted, values, side));
}

/**
 * For each value, the number of leading elements of the sorted `a` below it ("left") or at most it
 * ("right"), by binary search (JAX's default "scan" method): lo and hi close in on the first
 * element that fails the comparison, in bit-length-of-n halvings, so the work is O(m log n) for m
 * values, not the O(m n) of comparing every pair (which could not even be built for 10⁵ values in
 * 10⁵ elements). NaN compares false, so it counts as the largest value on either side.
 */
function binarySearch(a: NDArray, v: NDArray, side: "left" | "right"): NDArray {
  const n = a.size;
  const int = (value: number) => lax.fill({ shape: v.shape, dtype: "int32" }, value);
  let lo = int(0),
    hi = int(n);
  for (let len = n; len > 0; len = Math.floor(len / 2)) {
    const mid = lax.div(lax.add(lo, hi), int(2));
    const at = lax.gather(a, lax.min(mid, int(n - 1)), 0);
    const below = side === "left" ? lax.lt(at, v) : lax.le(at, v);
    const open = lax.lt(lo, hi);
    lo = lax.selectN(lax.and(open, below), lo, lax.add(mid, int(1)));
    hi = lax.selectN(lax.and(open, lax.not(below)), hi, mid);
  }
  return lo;
}

/** Two operands promoted to one dtype (JS numbers weakly typed), each keeping its shape. */
function promoteAndBroadcastPair(fn: string, a: ArrayLike, b: ArrayLike): [NDArray, NDArray] {
  const x = asArray(fn, a, undefined, "a"),
    y = asArray(fn, b, x.dtype, "v");
  const d = promote(x.dtype, y.dtype);
  return [lax.convert(x, d), lax.convert(y, d)];
}

/**
 * Piecewise-linear interpolation of (xp, fp) at x (xp increasing); `left`/`right` outside the
 * range (fp's ends by default). Differentiable in x, xp and fp.
 */
export function interp(x: ArrayLike, xp: ArrayLike, fp: ArrayLike, options: { left?: number; right?: number } = {}): NDArray {
  const o = checkOptionsObject("np.interp", options, ["left", "right"]);
  const [px, pxp, pfp] = [x, xp, fp].map((t, i) => toFloat(asArray("np.interp", t, undefined, ["x", "xp", "fp"][i])));
  const [xs, xps, fps] = promoteDTypes([px!, pxp!, pfp!]);
  if (xps.ndim !== 1 || fps.ndim !== 1 || xps.size !== fps.size || xps.size < 1)
    throw new ArgumentError(`np.interp: xp and fp must be 1-d of one nonzero length, got shapes [${xps.shape}] and [${fps.shape}]`);
  if (xps.size === 1) return lax.broadcastTo(lax.reshape(fps, []), xs.shape);
  const { left, right } = o;
  const key = (v: number | undefined) => (v === undefined ? "-" : numberKey(v));
  return staged(`np.interp ${key(left)} ${key(right)}`, [xs, xps, fps], (u, p, f) => interpOf(u, p, f, left, right));
}

function interpOf(xs: NDArray, xps: NDArray, fps: NDArray, left: number | undefined, right: number | undefined): NDArray {
  const n = xps.size;
  const i = lax.min(
    lax.max(
      lax.sub(searchsorted(lax.stopGradient(xps), lax.stopGradient(xs), { side: "right" }), lax.fill({ shape: xs.shape, dtype: "int32" }, 1)),
      lax.fill({ shape: xs.shape, dtype: "int32" }, 0),
    ),
    lax.fill({ shape: xs.shape, dtype: "int32" }, n - 2),
  );
  const i1 = lax.add(i, lax.fill(i, 1));
  const x0 = lax.gather(xps, i, 0),
    x1 = lax.gather(xps, i1, 0),
    f0 = lax.gather(fps, i, 0),
    f1 = lax.gather(fps, i1, 0);
  const t = lax.div(lax.sub(xs, x0), lax.sub(x1, x0));
  const val = lax.add(f0, lax.mul(t, lax.sub(f1, f0)));
  const end = (t: NDArray, i: number) => lax.broadcastTo(lax.reshape(lax.sliceAxis(t, 0, i, i + 1), []), xs.shape);
  const lo = left === undefined ? end(fps, 0) : lax.fill(val, left);
  const hi = right === undefined ? end(fps, n - 1) : lax.fill(val, right);
  const out = lax.selectN(lax.lt(xs, end(xps, 0)), val, lo);
  return lax.selectN(lax.gt(xs, end(xps, n - 1)), out, hi);
}

function promoteDTypes(xs: NDArray[]): NDArray[] {
  const d = xs.some((x) => x.dtype === "float64") ? "float64" : "float32";
  return xs.map((x) => lax.convert(x, d));
}

/** Options of quantile, percentile and median. */
export interface QuantileOptions {
  axis?: number | null;
  keepdims?: boolean;
}

/** The q-th quantile(s) (q in [0, 1], a number) with linear interpolation, along the axis (all elements by default). */
export function quantile(x: ArrayLike, q: number, options: QuantileOptions = {}): NDArray {
  if (typeof q !== "number" || !(q >= 0 && q <= 1)) throw new ArgumentError(`np.quantile: q must be a number in [0, 1], got ${describe(q)}`);
  const o = checkOptionsObject("np.quantile", options, ["axis", "keepdims"]);
  const a = toFloat(asArray("np.quantile", x, undefined, "x"));
  const flat = o.axis === null || o.axis === undefined;
  const axis = flat ? 0 : normAxis("np.quantile", o.axis!, a.ndim);
  const s = sort(flat ? lax.reshape(a, [a.size]) : a, { axis });
  const n = s.shape[axis]!;
  if (n === 0) throw new ArgumentError(`np.quantile: axis ${axis} of shape [${a.shape}] is empty`);
  const pos = q * (n - 1);
  const lo = Math.floor(pos),
    hi = Math.min(lo + 1, n - 1),
    frac = pos - lo;
  const vlo = lax.sliceAxis(s, axis, lo, lo + 1),
    vhi = lax.sliceAxis(s, axis, hi, hi + 1);
  let out = lax.add(vlo, lax.mul(lax.fill(vlo, frac), lax.sub(vhi, vlo)));
  if (o.keepdims)
    return flat
      ? lax.reshape(
          out,
          a.shape.map(() => 1),
        )
      : out;
  out = lax.reshape(
    out,
    out.shape.filter((_, d) => d !== axis),
  );
  return out;
}
/** The q-th percentile (q in [0, 100]). */
export function percentile(x: ArrayLike, q: number, options: QuantileOptions = {}): NDArray {
  if (typeof q !== "number" || !(q >= 0 && q <= 100)) throw new ArgumentError(`np.percentile: q must be a number in [0, 100], got ${describe(q)}`);
  return naming("np.percentile", () => quantile(x, q / 100, options));
}
/** The median (the 0.5 quantile). */
export const median = (x: ArrayLike, options: QuantileOptions = {}): NDArray => naming("np.median", () => quantile(x, 0.5, options));
