/**
 * `nn`: neural-network functions composed from primitives, in their numerically stable forms
 * (logsumexp subtracts a stop-gradient max; softplus is max(x,0) + log1p(exp(-|x|))).
 */
import { type DType, checkDType } from "./core/dtype.js";
import { ArgumentError, describe, naming } from "./core/errors.js";
import * as lax from "./core/lax.js";
import type { NDArray } from "./core/ndarray.js";
import { checkShape, normAxes, range } from "./core/shape.js";
import { checkOptionsObject } from "./core/options.js";
import { type ArrayLike, asArray, keptShape, toFloat } from "./np/base.js";

const f = (fn: string, x: ArrayLike) => toFloat(asArray(fn, x, undefined, "x"));
const c = (x: NDArray, v: number): NDArray => lax.fill(x, v);

/** max(x, 0), with derivative 0 at 0. */
export function relu(x: ArrayLike): NDArray {
  const a = asArray("nn.relu", x, undefined, "x");
  return lax.selectN(lax.gt(a, c(a, 0)), c(a, 0), a);
}

export const sigmoid = (x: ArrayLike): NDArray => lax.logistic(f("nn.sigmoid", x));

/**
 * log(1 + exp(x)) = max(x, 0) + log1p(exp(-|x|)), with max and |x| written as selects so every
 * derivative is right at x = 0 too (a tie-splitting max would give a wrong second derivative).
 */
export function softplus(x: ArrayLike): NDArray {
  const a = f("nn.softplus", x);
  const pos = lax.gt(a, c(a, 0));
  const negAbs = lax.selectN(pos, a, lax.neg(a));
  return lax.add(lax.selectN(pos, c(a, 0), a), lax.log1p(lax.exp(negAbs)));
}

function axesOf(fn: string, a: NDArray, axis: number | number[] | null | undefined): number[] {
  return axis === null || axis === undefined ? range(a.ndim) : normAxes(fn, typeof axis === "number" ? [axis] : axis, a.ndim);
}

/** log(sum(exp(x))) over `axis` (all axes by default), stable for large inputs. */
export function logsumexp(x: ArrayLike, axis?: number | number[] | null, options: { keepdims?: boolean } = {}): NDArray {
  checkOptionsObject("nn.logsumexp", options, ["keepdims"]);
  const a = f("nn.logsumexp", x);
  const axes = axesOf("nn.logsumexp", a, axis);
  const kept = keptShape(a.shape, axes);
  const m = lax.stopGradient(lax.reduceMax(a, axes));
  // An all -inf slice has max -inf; shift by 0 there so the result is -inf, not NaN.
  const shift = lax.selectN(lax.eq(lax.abs(m), c(m, Infinity)), m, c(m, 0));
  const shiftB = lax.broadcastInDim(lax.reshape(shift, kept), a.shape, range(a.ndim));
  const s = lax.log(lax.reduceSum(lax.exp(lax.sub(a, shiftB)), axes));
  const out = lax.add(s, shift);
  return options.keepdims ? lax.reshape(out, kept) : out;
}

export function logSoftmax(x: ArrayLike, axis: number | number[] = -1): NDArray {
  const a = f("nn.logSoftmax", x);
  const lse = naming("nn.logSoftmax", () => logsumexp(a, axis, { keepdims: true }));
  return lax.sub(a, lax.broadcastInDim(lse, a.shape, range(a.ndim)));
}

export function softmax(x: ArrayLike, axis: number | number[] = -1): NDArray {
  const a = f("nn.softmax", x);
  const axes = axesOf("nn.softmax", a, axis);
  const m = lax.stopGradient(lax.reshape(lax.reduceMax(a, axes), keptShape(a.shape, axes)));
  const e = lax.exp(lax.sub(a, lax.broadcastInDim(m, a.shape, range(a.ndim))));
  const s = lax.reshape(lax.reduceSum(e, axes), keptShape(a.shape, axes));
  return lax.div(e, lax.broadcastInDim(s, a.shape, range(a.ndim)));
}

/**
 * erf by Abramowitz & Stegun 7.1.26 (|error| < 1.5e-7), composed from primitives; sign and |x|
 * are selects so the derivative at 0 is right (2/sqrt(pi)), not the zero of d|x|/dx there.
 */
function erf(a: NDArray): NDArray {
  const nonneg = lax.ge(a, c(a, 0));
  const s = lax.selectN(nonneg, c(a, -1), c(a, 1)),
    z = lax.selectN(nonneg, lax.neg(a), a);
  const t = lax.div(c(z, 1), lax.add(c(z, 1), lax.mul(c(z, 0.3275911), z)));
  let poly: NDArray = c(z, 1.061405429);
  for (const k of [-1.453152027, 1.421413741, -0.284496736, 0.254829592]) poly = lax.add(lax.mul(poly, t), c(z, k));
  poly = lax.mul(poly, t);
  return lax.mul(s, lax.sub(c(z, 1), lax.mul(poly, lax.exp(lax.neg(lax.mul(z, z))))));
}

/** GELU; the tanh approximation by default (as JAX), the erf form with `approximate: false`. */
export function gelu(x: ArrayLike, options: { approximate?: boolean } = {}): NDArray {
  const a = f("nn.gelu", x);
  const approximate = checkOptionsObject("nn.gelu", options, ["approximate"]).approximate ?? true;
  if (typeof approximate !== "boolean") throw new ArgumentError(`nn.gelu: approximate must be a boolean, got ${describe(approximate)}`);
  if (approximate) {
    const inner = lax.mul(c(a, Math.sqrt(2 / Math.PI)), lax.add(a, lax.mul(c(a, 0.044715), lax.mul(a, lax.mul(a, a)))));
    return lax.mul(lax.mul(c(a, 0.5), a), lax.add(c(a, 1), lax.tanh(inner)));
  }
  return lax.mul(lax.mul(c(a, 0.5), a), lax.add(c(a, 1), erf(lax.mul(a, c(a, Math.SQRT1_2)))));
}

/** One-hot encoding of integer labels: a new last axis of `numClasses`. */
export function oneHot(x: ArrayLike, numClasses: number, options: { dtype?: DType } = {}): NDArray {
  if (!Number.isInteger(numClasses) || numClasses < 0)
    throw new ArgumentError(`nn.oneHot: numClasses must be a non-negative integer, got ${describe(numClasses)}`);
  const a = lax.convert(asArray("nn.oneHot", x, "int32", "x"), "int32");
  checkOptionsObject("nn.oneHot", options, ["dtype"]);
  const shape = checkShape("nn.oneHot", [...a.shape, numClasses]);
  const classes = lax.full([numClasses], 0, "int32");
  for (let i = 0; i < numClasses; i++) classes.values[i] = i;
  const hit = lax.eq(lax.broadcastInDim(a, shape, range(a.ndim)), lax.broadcastInDim(classes, shape, [a.ndim]));
  return lax.convert(hit, options.dtype === undefined ? "float32" : checkDType("nn.oneHot", options.dtype));
}
export { conv, convTranspose, maxPool, avgPool, type NnConvOptions, type PoolOptions } from "./nn_conv.js";
