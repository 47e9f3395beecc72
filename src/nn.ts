/**
 * `nn`: neural-network functions composed from primitives, in their numerically stable forms
 * (logsumexp subtracts a stop-gradient max; softplus is max(x,0) + log1p(exp(-|x|))).
 *
 * Called eagerly, a function of several primitives runs as one cached compiled program (`staged`,
 * keyed by the function and its static arguments: axes, epsilon, alpha), as JAX jits its own; under
 * transforms it traces inline.
 */
import { type DType, checkDType } from "./core/dtype.js";
import { ArgumentError, DTypeError, ShapeError, describe, naming } from "./core/errors.js";
import * as lax from "./core/lax.js";
import type { NDArray } from "./core/ndarray.js";
import { broadcastShapes, checkShape, normAxes, normAxis, range, shapeEq, sizeOf } from "./core/shape.js";
import { checkOptionsObject } from "./core/options.js";
import { type ArrayLike, asArray, keptShape, toFloat } from "./np/base.js";
import { numberKey, staged } from "./core/staged.js";

/** Parameter initialisers, `(key, shape, dtype?) => NDArray`, with JAX's names and defaults. */
export * as initializers from "./initializers.js";

const f = (fn: string, x: ArrayLike) => toFloat(asArray(fn, x, undefined, "x"));
const c = (x: NDArray, v: number): NDArray => lax.fill(x, v);

/**
 * max(x, 0), as JAX's: derivative 0 at 0, and NaN stays NaN (with derivative 0, JAX's
 * `where(x > 0, g, 0)`): the NaN is passed on through a stop-gradient.
 */
export function relu(x: ArrayLike): NDArray {
  return staged("nn.relu", [asArray("nn.relu", x, undefined, "x")], (a) => {
    const zero = c(a, 0);
    return where(lax.gt(a, zero), a, where(lax.ne(a, a), lax.stopGradient(a), zero));
  });
}

export const sigmoid = (x: ArrayLike): NDArray => lax.logistic(f("nn.sigmoid", x));

/**
 * log(1 + exp(x)) = max(x, 0) + log1p(exp(-|x|)), with max and |x| written as selects so every
 * derivative is right at x = 0 too (a tie-splitting max would give a wrong second derivative).
 */
export function softplus(x: ArrayLike): NDArray {
  return staged("nn.softplus", [f("nn.softplus", x)], softplusOf);
}

function softplusOf(a: NDArray): NDArray {
  const pos = lax.gt(a, c(a, 0));
  const negAbs = lax.selectN(pos, a, lax.neg(a));
  return lax.add(lax.selectN(pos, c(a, 0), a), lax.log1p(lax.exp(negAbs)));
}

function axesOf(fn: string, a: NDArray, axis: number | number[] | null | undefined): number[] {
  if (!(axis === null || axis === undefined || typeof axis === "number" || Array.isArray(axis))) {
    throw new ArgumentError(`${fn}: axis must be an integer, a list of integers or null, got ${describe(axis)}`);
  }
  return axis === null || axis === undefined ? range(a.ndim) : normAxes(fn, typeof axis === "number" ? [axis] : axis, a.ndim);
}

/** An axis argument: one axis, a list of axes, or null (all axes). */
export type Axis = number | number[] | null;

/** The options of nn functions that reduce or normalise over axes (as `np.sum`'s). */
export interface AxisOptions {
  axis?: Axis;
}

const isPlainObject = (v: unknown): v is object => {
  if (typeof v !== "object" || v === null) return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
};

/**
 * nn's one convention for axes (issue 14 §3, the same as `np.sum`): the argument after the array
 * is an axis (a number, a list, or null) or an options object `{ axis, ... }`; both mean the same.
 * Anything else is a typed error that shows the right call (`usage`).
 */
function axisOptions<T extends AxisOptions>(fn: string, arg: Axis | T | undefined, known: readonly string[], usage: string): T {
  if (arg === undefined) return {} as T;
  if (arg === null || typeof arg === "number" || Array.isArray(arg)) return { axis: arg } as T;
  if (!isPlainObject(arg)) {
    throw new ArgumentError(`${fn}: after the array pass an axis or an options object { ${known.join(", ")} }, as in ${usage}; got ${describe(arg)}`);
  }
  return checkOptionsObject(fn, arg as T, known);
}

/** A finite number option (or its default), checked. */
function numberOption(fn: string, name: string, v: unknown, fallback: number, positive = false): number {
  if (v === undefined) return fallback;
  if (typeof v !== "number" || !Number.isFinite(v) || (positive && !(v > 0))) {
    throw new ArgumentError(`${fn}: ${name} must be a${positive ? " positive" : ""} finite number, got ${describe(v)}`);
  }
  return v;
}

/** A number option given positionally (`nn.elu(x, 0.5)`) or in an options object (`nn.elu(x, { alpha: 0.5 })`). */
function scalarArg(fn: string, name: string, arg: number | Record<string, unknown> | undefined, fallback: number, positive = false): number {
  if (arg === undefined || typeof arg === "number") return numberOption(fn, name, arg, fallback, positive);
  if (!isPlainObject(arg)) throw new ArgumentError(`${fn}: pass ${name} as a number or as { ${name} }, got ${describe(arg)}`);
  return numberOption(fn, name, checkOptionsObject(fn, arg, [name])[name], fallback, positive);
}

/** `keepdims`-shaped `r` broadcast back over `like`'s shape. */
const spread = (r: NDArray, like: NDArray): NDArray => lax.broadcastInDim(r, like.shape, range(like.ndim));

export interface LogsumexpOptions extends AxisOptions {
  keepdims?: boolean;
}

/**
 * log(sum(exp(x))) over `axis` (all axes by default), stable for large inputs:
 * `nn.logsumexp(x, 1)`, `nn.logsumexp(x, { axis: 1, keepdims: true })` or `nn.logsumexp(x, 1, { keepdims: true })`.
 */
export function logsumexp(x: ArrayLike, axis?: Axis | LogsumexpOptions, options: { keepdims?: boolean } = {}): NDArray {
  const fn = "nn.logsumexp";
  const opts = axisOptions<LogsumexpOptions>(fn, axis, ["axis", "keepdims"], "nn.logsumexp(x, { axis: 1, keepdims: true })");
  const keepdims = opts.keepdims ?? checkOptionsObject(fn, options, ["keepdims"]).keepdims ?? false;
  if (typeof keepdims !== "boolean") throw new ArgumentError(`${fn}: keepdims must be a boolean, got ${describe(keepdims)}`);
  const a = f(fn, x);
  const axes = axesOf(fn, a, opts.axis);
  return staged(`${fn} [${axes}] ${keepdims}`, [a], (v) => {
    const kept = keptShape(v.shape, axes);
    const m = lax.stopGradient(lax.reduceMax(v, axes));
    // An all -inf slice has max -inf; shift by 0 there so the result is -inf, not NaN.
    const shift = lax.selectN(lax.eq(lax.abs(m), c(m, Infinity)), m, c(m, 0));
    const s = lax.log(lax.reduceSum(lax.exp(lax.sub(v, spread(lax.reshape(shift, kept), v))), axes));
    const out = lax.add(s, shift);
    return keepdims ? lax.reshape(out, kept) : out;
  });
}

/** x - logsumexp(x) over `axis` (default -1): `nn.logSoftmax(x, 1)` or `nn.logSoftmax(x, { axis: 1 })`. */
export function logSoftmax(x: ArrayLike, axis: Axis | AxisOptions = -1): NDArray {
  const fn = "nn.logSoftmax";
  const opts = axisOptions<AxisOptions>(fn, axis, ["axis"], "nn.logSoftmax(x, { axis: -1 })");
  const a = f(fn, x);
  const axes = axesOf(fn, a, opts.axis === undefined ? -1 : opts.axis);
  return staged(`${fn} [${axes}]`, [a], (v) => {
    const lse = naming(fn, () => logsumexp(v, { axis: axes, keepdims: true }));
    return lax.sub(v, spread(lse, v));
  });
}

/** exp(x) / sum(exp(x)) over `axis` (default -1): `nn.softmax(x, 1)` or `nn.softmax(x, { axis: 1 })`. */
export function softmax(x: ArrayLike, axis: Axis | AxisOptions = -1): NDArray {
  const fn = "nn.softmax";
  const opts = axisOptions<AxisOptions>(fn, axis, ["axis"], "nn.softmax(x, { axis: -1 })");
  const a = f(fn, x);
  const axes = axesOf(fn, a, opts.axis === undefined ? -1 : opts.axis);
  return staged(`${fn} [${axes}]`, [a], (v) => {
    const m = lax.stopGradient(lax.reshape(lax.reduceMax(v, axes), keptShape(v.shape, axes)));
    const e = lax.exp(lax.sub(v, spread(m, v)));
    const s = lax.reshape(lax.reduceSum(e, axes), keptShape(v.shape, axes));
    return lax.div(e, spread(s, v));
  });
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
  return staged(`nn.gelu ${approximate}`, [a], (v) => {
    if (approximate) {
      const inner = lax.mul(c(v, Math.sqrt(2 / Math.PI)), lax.add(v, lax.mul(c(v, 0.044715), lax.mul(v, lax.mul(v, v)))));
      return lax.mul(lax.mul(c(v, 0.5), v), lax.add(c(v, 1), lax.tanh(inner)));
    }
    return lax.mul(lax.mul(c(v, 0.5), v), lax.add(c(v, 1), erf(lax.mul(v, c(v, Math.SQRT1_2)))));
  });
}

/** `p ? onTrue : onFalse` elementwise. */
const where = (p: NDArray, onTrue: NDArray, onFalse: NDArray): NDArray => lax.selectN(p, onFalse, onTrue);

/** x · sigmoid(x) (SiLU, also called swish). */
export function silu(x: ArrayLike): NDArray {
  return staged("nn.silu", [f("nn.silu", x)], (a) => lax.mul(a, lax.logistic(a)));
}

/** The same as `silu`: x · sigmoid(x). */
export function swish(x: ArrayLike): NDArray {
  return naming("nn.swish", () => silu(x));
}

/** x for x >= 0, negativeSlope · x below (default 0.01): `nn.leakyRelu(x, 0.1)` or `nn.leakyRelu(x, { negativeSlope: 0.1 })`. */
export function leakyRelu(x: ArrayLike, negativeSlope?: number | { negativeSlope?: number }): NDArray {
  const slope = scalarArg("nn.leakyRelu", "negativeSlope", negativeSlope, 0.01);
  return staged(`nn.leakyRelu ${numberKey(slope)}`, [f("nn.leakyRelu", x)], (a) => where(lax.ge(a, c(a, 0)), a, lax.mul(a, c(a, slope))));
}

/**
 * The exponential part α(eˣ - 1) for x <= 0, fed x only where it is used: elsewhere it sees 0, so a
 * large positive x cannot put inf · 0 = NaN into a gradient (JAX's "safe where").
 */
function expBranch(a: NDArray, pos: NDArray, alpha: number, inScale = 1): NDArray {
  const safe = where(pos, c(a, 0), a);
  return lax.mul(c(a, alpha), lax.expm1(inScale === 1 ? safe : lax.mul(safe, c(a, inScale))));
}

/** ELU: x for x > 0, α(eˣ - 1) otherwise (α default 1): `nn.elu(x, 0.5)` or `nn.elu(x, { alpha: 0.5 })`. */
export function elu(x: ArrayLike, alpha?: number | { alpha?: number }): NDArray {
  const al = scalarArg("nn.elu", "alpha", alpha, 1);
  return staged(`nn.elu ${numberKey(al)}`, [f("nn.elu", x)], (a) => {
    const pos = lax.gt(a, c(a, 0));
    return where(pos, a, expBranch(a, pos, al));
  });
}

/** CELU: x for x > 0, α(e^(x/α) - 1) otherwise (α > 0, default 1); continuously differentiable. */
export function celu(x: ArrayLike, alpha?: number | { alpha?: number }): NDArray {
  const al = scalarArg("nn.celu", "alpha", alpha, 1, true);
  return staged(`nn.celu ${numberKey(al)}`, [f("nn.celu", x)], (a) => {
    const pos = lax.gt(a, c(a, 0));
    return where(pos, a, expBranch(a, pos, al, 1 / al));
  });
}

/** SELU constants (Klambauer et al. 2017), as JAX's. */
const SELU_ALPHA = 1.6732632423543772,
  SELU_SCALE = 1.0507009873554805;

/** SELU: λ · elu(x, α) with the self-normalising constants α ≈ 1.6733, λ ≈ 1.0507. */
export function selu(x: ArrayLike): NDArray {
  return staged("nn.selu", [f("nn.selu", x)], (a) => {
    const pos = lax.gt(a, c(a, 0));
    return lax.mul(c(a, SELU_SCALE), where(pos, a, expBranch(a, pos, SELU_ALPHA)));
  });
}

/** `lo` below `lo`, `hi` above `hi`, x between, as selects: the derivative is 1 inside and 0 at and beyond the ends. */
function clamp(a: NDArray, lo: number, hi: number): NDArray {
  return where(lax.le(a, c(a, lo)), c(a, lo), where(lax.ge(a, c(a, hi)), c(a, hi), a));
}

/** min(max(x, 0), 6); derivative 0 at 0 and 6, as JAX's. */
export function relu6(x: ArrayLike): NDArray {
  return staged("nn.relu6", [asArray("nn.relu6", x, undefined, "x")], (a) => clamp(a, 0, 6));
}

/** x clipped to [-1, 1]. */
export function hardTanh(x: ArrayLike): NDArray {
  return staged("nn.hardTanh", [f("nn.hardTanh", x)], (a) => clamp(a, -1, 1));
}

/** relu6(x + 3) / 6, a piecewise-linear sigmoid. */
export function hardSigmoid(x: ArrayLike): NDArray {
  return staged("nn.hardSigmoid", [f("nn.hardSigmoid", x)], hardSigmoidOf);
}

const hardSigmoidOf = (a: NDArray): NDArray => lax.div(clamp(lax.add(a, c(a, 3)), 0, 6), c(a, 6));

/** x · hardSigmoid(x) (hard swish). */
export function hardSilu(x: ArrayLike): NDArray {
  return staged("nn.hardSilu", [f("nn.hardSilu", x)], (a) => lax.mul(a, hardSigmoidOf(a)));
}

/** x / (|x| + 1). */
export function softSign(x: ArrayLike): NDArray {
  return staged("nn.softSign", [f("nn.softSign", x)], (a) => lax.div(a, lax.add(lax.abs(a), c(a, 1))));
}

/** log(sigmoid(x)) = -softplus(-x), stable for large |x|. */
export function logSigmoid(x: ArrayLike): NDArray {
  return staged("nn.logSigmoid", [f("nn.logSigmoid", x)], (a) => lax.neg(softplusOf(lax.neg(a))));
}

/** Gated linear unit: x split in two halves along `axis` (default -1), a · sigmoid(b): `nn.glu(x, { axis: 0 })`. */
export function glu(x: ArrayLike, axis?: number | { axis?: number }): NDArray {
  const fn = "nn.glu";
  const opts = axisOptions<{ axis?: number }>(fn, axis, ["axis"], "nn.glu(x, { axis: -1 })");
  const a = f(fn, x);
  if (typeof (opts.axis ?? -1) !== "number") throw new ArgumentError(`${fn}: axis must be a single integer, got ${describe(opts.axis)}`);
  const ax = normAxis(fn, opts.axis ?? -1, a.ndim);
  const n = a.shape[ax]!;
  if (n % 2 !== 0) throw new ShapeError(`${fn}: axis ${ax} of shape [${a.shape}] has odd size ${n}; it must split into two equal halves`);
  return lax.mul(lax.sliceAxis(a, ax, 0, n / 2), lax.logistic(lax.sliceAxis(a, ax, n / 2, n)));
}

/** `v` (an array or number) as `like`'s dtype, broadcast to `like`'s shape with NumPy's rule. */
function operandLike(fn: string, name: string, v: unknown, like: NDArray, dtype: DType = like.dtype): NDArray {
  const a = lax.convert(asArray(fn, v as ArrayLike, dtype, name), dtype);
  const shape = broadcastShapes(fn, a.shape, like.shape);
  if (!shapeEq(shape, like.shape)) {
    throw new ShapeError(`${fn}: ${name} of shape [${a.shape}] does not broadcast to [${like.shape}]; it would make [${shape}]`);
  }
  return lax.broadcastTo(a, like.shape);
}

/** mean(v) over `axes`, broadcast back over v. */
function meanOver(v: NDArray, axes: number[]): NDArray {
  const n = sizeOf(axes.map((d) => v.shape[d]!));
  return spread(lax.reshape(lax.div(lax.reduceSum(v, axes), c(lax.reduceSum(v, axes), n)), keptShape(v.shape, axes)), v);
}

export interface StandardizeOptions extends AxisOptions {
  /** A precomputed mean (broadcastable to x); computed over `axis` when absent. */
  mean?: ArrayLike;
  /** A precomputed variance (broadcastable to x); computed over `axis` when absent. */
  variance?: ArrayLike;
  /** Added to the variance before the square root (default 1e-5). */
  epsilon?: number;
}

/** `(x - mean) / sqrt(variance + eps)` with the statistics over `axes` (or given). */
function standardized(fn: string, a: NDArray, axes: number[], mean: unknown, variance: unknown, eps: number): NDArray {
  const m = mean === undefined ? meanOver(a, axes) : operandLike(fn, "mean", mean, a);
  let v: NDArray;
  if (variance !== undefined) v = operandLike(fn, "variance", variance, a);
  else if (mean === undefined) v = meanOver(lax.mul(lax.sub(a, m), lax.sub(a, m)), axes);
  else v = lax.sub(meanOver(lax.mul(a, a), axes), lax.mul(m, m)); // JAX's E[x²] - mean² for a given mean
  return lax.mul(lax.sub(a, m), lax.rsqrt(lax.add(v, c(v, eps))));
}

/**
 * (x - mean) / sqrt(variance + epsilon) over `axis` (default -1), as JAX's `standardize`:
 * `nn.standardize(x, 0)` or `nn.standardize(x, { axis: 0, epsilon: 1e-6 })`.
 */
export function standardize(x: ArrayLike, axis?: Axis | StandardizeOptions): NDArray {
  const fn = "nn.standardize";
  const o = axisOptions<StandardizeOptions>(fn, axis, ["axis", "mean", "variance", "epsilon"], "nn.standardize(x, { axis: -1, epsilon: 1e-5 })");
  const a = f(fn, x);
  const axes = axesOf(fn, a, o.axis === undefined ? -1 : o.axis);
  const eps = numberOption(fn, "epsilon", o.epsilon, 1e-5);
  // A given mean or variance is an operand (any array-like, converted here); absent, it is computed.
  const given = [o.mean, o.variance].map((v, i) => (v === undefined ? null : asArray(fn, v as ArrayLike, a.dtype, i === 0 ? "mean" : "variance")));
  const operands = [a, ...given.filter((g): g is NDArray => g !== null)];
  return staged(`${fn} [${axes}] ${numberKey(eps)} ${given.map((g) => g !== null)}`, operands, (v, ...rest) => {
    const [mean, variance] = given.map((g) => (g === null ? undefined : rest.shift()));
    return standardized(fn, v, axes, mean, variance, eps);
  });
}

export interface LayerNormOptions extends AxisOptions {
  /** Multiplies the normalised x (broadcastable to x), e.g. a learned [features] vector. */
  scale?: ArrayLike;
  /** Added after scaling (broadcastable to x). */
  bias?: ArrayLike;
  /** Added to the variance (default 1e-5 for layerNorm, 1e-6 for rmsNorm). */
  epsilon?: number;
}

/**
 * Layer normalisation: standardize over `axis` (default -1, the features), then `· scale + bias`:
 * `nn.layerNorm(x, { scale: gamma, bias: beta })`.
 */
export function layerNorm(x: ArrayLike, options?: Axis | LayerNormOptions): NDArray {
  const fn = "nn.layerNorm";
  const o = axisOptions<LayerNormOptions>(fn, options, ["axis", "scale", "bias", "epsilon"], "nn.layerNorm(x, { axis: -1, scale, bias })");
  const a = f(fn, x);
  const axes = axesOf(fn, a, o.axis === undefined ? -1 : o.axis);
  const eps = numberOption(fn, "epsilon", o.epsilon, 1e-5);
  const scale = o.scale === undefined ? null : asArray(fn, o.scale, a.dtype, "scale"),
    bias = o.bias === undefined ? null : asArray(fn, o.bias, a.dtype, "bias");
  const operands = [a, ...[scale, bias].filter((g): g is NDArray => g !== null)];
  return staged(`${fn} [${axes}] ${numberKey(eps)} ${scale !== null} ${bias !== null}`, operands, (v, ...rest) => {
    let y = standardized(fn, v, axes, undefined, undefined, eps);
    if (scale !== null) y = lax.mul(y, operandLike(fn, "scale", rest.shift(), v));
    if (bias !== null) y = lax.add(y, operandLike(fn, "bias", rest.shift(), v));
    return y;
  });
}

/** RMS normalisation: x / sqrt(mean(x²) + epsilon) over `axis` (default -1), then `· scale`: `nn.rmsNorm(x, { scale })`. */
export function rmsNorm(x: ArrayLike, options?: Axis | Omit<LayerNormOptions, "bias">): NDArray {
  const fn = "nn.rmsNorm";
  const o = axisOptions<LayerNormOptions>(fn, options, ["axis", "scale", "epsilon"], "nn.rmsNorm(x, { axis: -1, scale })");
  const a = f(fn, x);
  const axes = axesOf(fn, a, o.axis === undefined ? -1 : o.axis);
  const eps = numberOption(fn, "epsilon", o.epsilon, 1e-6);
  const scale = o.scale === undefined ? null : asArray(fn, o.scale, a.dtype, "scale");
  return staged(`${fn} [${axes}] ${numberKey(eps)} ${scale !== null}`, scale === null ? [a] : [a, scale], (v, s) => {
    const ms = meanOver(lax.mul(v, v), axes);
    const y = lax.mul(v, lax.rsqrt(lax.add(ms, c(ms, eps))));
    return s === undefined ? y : lax.mul(y, operandLike(fn, "scale", s, v));
  });
}

export interface AttentionOptions {
  /** Added to the logits; broadcastable to [B, N, T, S] (to [N, T, S] without a batch axis). */
  bias?: ArrayLike;
  /** Boolean; false entries are left out. Broadcastable like `bias`. */
  mask?: ArrayLike;
  /** Multiplies q·k (default 1/sqrt(H)). */
  scale?: number;
  /** Query t attends only to keys s <= t. */
  isCausal?: boolean;
}

/**
 * A bias or mask as an array of `dtype` checked to broadcast to the logits' shape [B, N, T, S] (a
 * rank-3 one gains the batch axis when q has none); the program broadcasts it.
 */
function logitsOperand(fn: string, name: string, v: unknown, logits: number[], batched: boolean, dtype: DType): NDArray {
  let a = asArray(fn, v as ArrayLike, dtype, name);
  if (dtype === "bool" && a.dtype !== "bool") throw new DTypeError(`${fn}: ${name} must be a bool array (true = attend), got ${a.dtype}`);
  a = lax.convert(a, dtype);
  if (!batched && a.ndim === 3) a = lax.reshape(a, [1, ...a.shape]);
  const shape = a.ndim > 4 ? null : broadcastShapes(fn, a.shape, logits);
  if (shape === null || !shapeEq(shape, logits))
    throw new ShapeError(`${fn}: ${name} has shape [${a.shape}]; it must broadcast to the logits [B, N, T, S] = [${logits}]`);
  return a;
}

/**
 * Scaled dot-product attention, as JAX's `jax.nn.dot_product_attention`: query [B, T, N, H],
 * key and value [B, S, K, H] (or all without the B axis), with N a multiple of K (grouped-query
 * attention shares each key/value head among N/K query heads). Returns [B, T, N, H]:
 * `softmax(q·kᵀ · scale + bias, masked) · v` over the key axis S. Masked logits become a large
 * negative number (-0.7 · the dtype's max, as JAX), so a fully masked row averages all values.
 * Called eagerly it runs as one staged program.
 */
export function dotProductAttention(query: ArrayLike, key: ArrayLike, value: ArrayLike, options: AttentionOptions = {}): NDArray {
  const fn = "nn.dotProductAttention";
  const o = checkOptionsObject(fn, options, ["bias", "mask", "scale", "isCausal"]);
  let q = f(fn, query),
    k = f(fn, key),
    v = f(fn, value);
  if (q.ndim !== k.ndim || q.ndim !== v.ndim || (q.ndim !== 3 && q.ndim !== 4)) {
    throw new ShapeError(`${fn}: query, key and value must all be [B, T, N, H] or all [T, N, H]; got [${q.shape}], [${k.shape}], [${v.shape}]`);
  }
  if (q.dtype !== k.dtype || q.dtype !== v.dtype) {
    throw new DTypeError(`${fn}: query, key and value must have one dtype, got ${q.dtype}, ${k.dtype}, ${v.dtype}; convert with .astype`);
  }
  const batched = q.ndim === 4;
  if (!batched) [q, k, v] = [q, k, v].map((t) => lax.reshape(t, [1, ...t.shape])) as [NDArray, NDArray, NDArray];
  const [B, T, N, H] = q.shape as [number, number, number, number];
  const [Bk, S, K, Hk] = k.shape as [number, number, number, number];
  if (Bk !== B || Hk !== H || !shapeEq(v.shape, k.shape) || K === 0 || N % K !== 0) {
    throw new ShapeError(
      `${fn}: need key and value of shape [B, S, K, H] = [${B}, S, K, ${H}] with the query's heads N = ${N} a multiple of K; got query [${q.shape}], key [${k.shape}], value [${v.shape}]`,
    );
  }
  const scale = numberOption(fn, "scale", o.scale, 1 / Math.sqrt(H));
  if (o.isCausal !== undefined && typeof o.isCausal !== "boolean")
    throw new ArgumentError(`${fn}: isCausal must be a boolean, got ${describe(o.isCausal)}`);
  const logits = [B, N, T, S];
  const bias = o.bias === undefined ? null : logitsOperand(fn, "bias", o.bias, logits, batched, q.dtype);
  const mask = o.mask === undefined ? null : logitsOperand(fn, "mask", o.mask, logits, batched, "bool");
  const extras = [bias, mask].filter((a): a is NDArray => a !== null);
  const statics = { scale, causal: o.isCausal === true, bias: bias !== null, mask: mask !== null };
  const out = staged(`${fn} ${numberKey(scale)} ${statics.causal} ${statics.bias} ${statics.mask}`, [q, k, v, ...extras], (...a) =>
    attention(a[0]!, a[1]!, a[2]!, statics.bias ? a[3]! : null, statics.mask ? a[statics.bias ? 4 : 3]! : null, statics),
  );
  return batched ? out : lax.reshape(out, out.shape.slice(1));
}

/** Attention of batched [B, T, N, H] q and [B, S, K, H] k, v, with its bias and mask (unbroadcast) if given. */
function attention(q: NDArray, k: NDArray, v: NDArray, bias: NDArray | null, mask: NDArray | null, o: { scale: number; causal: boolean }): NDArray {
  const [B, T, N, H] = q.shape as [number, number, number, number];
  const [, S, K] = k.shape as [number, number, number, number];
  // Grouped-query attention: query head n reads key/value head floor(n / (N / K)).
  const heads = (t: NDArray) => (K === N ? t : lax.reshape(lax.broadcastInDim(t, [B, S, K, N / K, H], [0, 1, 2, 4]), [B, S, N, H]));
  k = heads(k);
  v = heads(v);
  let logits = lax.dotGeneral(
    q,
    k,
    [[3], [3]],
    [
      [0, 2],
      [0, 2],
    ],
  ); // [B, N, T, S]
  logits = lax.mul(logits, c(logits, o.scale));
  if (bias !== null) logits = lax.add(logits, lax.broadcastTo(bias, logits.shape));
  let keep: NDArray | null = mask === null ? null : lax.broadcastTo(mask, logits.shape);
  if (o.causal) {
    const tril = lax.full([T, S], 0, "bool");
    for (let t = 0; t < T; t++) for (let s = 0; s <= Math.min(t, S - 1); s++) tril.values[t * S + s] = 1;
    const causal = lax.broadcastInDim(tril, logits.shape, [2, 3]);
    keep = keep === null ? causal : lax.and(keep, causal);
  }
  if (keep !== null) logits = where(keep, logits, c(logits, -0.7 * (q.dtype === "float64" ? Number.MAX_VALUE : 3.4028234663852886e38)));
  const probs = softmax(logits, -1);
  return lax.transpose(
    lax.dotGeneral(
      probs,
      v,
      [[3], [1]],
      [
        [0, 1],
        [0, 2],
      ],
    ),
    [0, 2, 1, 3],
  ); // [B, N, T, H] -> [B, T, N, H]
}

export interface OneHotOptions {
  /** The result's dtype (default float32). */
  dtype?: DType;
  /** Where the new class axis goes (default -1, last). */
  axis?: number;
}

/**
 * One-hot encoding of integer labels: a new axis of `numClasses` at `axis` (default last), as JAX's
 * `one_hot`: `nn.oneHot(labels, 10)` or `nn.oneHot(labels, 10, { axis: 0, dtype: "float64" })`.
 */
export function oneHot(x: ArrayLike, numClasses: number, options: OneHotOptions = {}): NDArray {
  const o = axisOptions<OneHotOptions>("nn.oneHot", options as OneHotOptions, ["dtype", "axis"], "nn.oneHot(x, numClasses, { axis: -1, dtype })");
  const hot = oneHotLast(x, numClasses, o.dtype === undefined ? {} : { dtype: o.dtype });
  if (o.axis === undefined) return hot;
  if (typeof o.axis !== "number") throw new ArgumentError(`nn.oneHot: axis must be a single integer, got ${describe(o.axis)}`);
  return lax.moveAxis(hot, hot.ndim - 1, normAxis("nn.oneHot", o.axis, hot.ndim));
}

/** One-hot encoding with the class axis last (oneHot's body). */
function oneHotLast(x: ArrayLike, numClasses: number, options: { dtype?: DType } = {}): NDArray {
  if (!Number.isInteger(numClasses) || numClasses < 0)
    throw new ArgumentError(`nn.oneHot: numClasses must be a non-negative integer, got ${describe(numClasses)}`);
  const labels = asArray("nn.oneHot", x, "int32", "x");
  checkOptionsObject("nn.oneHot", options, ["dtype"]);
  checkShape("nn.oneHot", [...labels.shape, numClasses]);
  const dtype = options.dtype === undefined ? "float32" : checkDType("nn.oneHot", options.dtype);
  return staged(`nn.oneHot ${numClasses} ${dtype}`, [labels], (l) => {
    const a = lax.convert(l, "int32");
    const shape = [...a.shape, numClasses];
    const classes = lax.full([numClasses], 0, "int32");
    for (let i = 0; i < numClasses; i++) classes.values[i] = i;
    const hit = lax.eq(lax.broadcastInDim(a, shape, range(a.ndim)), lax.broadcastInDim(classes, shape, [a.ndim]));
    return lax.convert(hit, dtype);
  });
}
export { conv, convTranspose, maxPool, avgPool, type NnConvOptions, type PoolOptions } from "./nn_conv.js";
