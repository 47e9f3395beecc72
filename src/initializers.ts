/**
 * `nn.initializers`: parameter initialisers with JAX's calling convention. Each is a function
 * `(key, shape, dtype?) => NDArray`; the configurable ones are factories that return one
 * (`nn.initializers.glorotUniform()(key, [784, 128])`). They draw from `random.uniform` and
 * `random.normal` only, and shape the draws with bound ops, so they follow those samplers under
 * every transform that the samplers support.
 */
import { type DType, checkDType, isFloat } from "./core/dtype.js";
import { ArgumentError, DTypeError, ShapeError, describe } from "./core/errors.js";
import * as lax from "./core/lax.js";
import { diagonal } from "./core/lax_linalg.js";
import type { NDArray } from "./core/ndarray.js";
import { checkShape, normAxis, sizeOf } from "./core/shape.js";
import { checkOptionsObject } from "./core/options.js";
import * as random from "./random.js";

/** An initialiser: a fresh array of `shape` and `dtype` (default float32) drawn with `key`. */
export type Initializer = (key: NDArray, shape: number[], dtype?: DType) => NDArray;

function floatDType(fn: string, dtype: DType | undefined): DType {
  const d = dtype === undefined ? "float32" : checkDType(fn, dtype);
  if (!isFloat(d)) throw new DTypeError(`${fn}: dtype must be float32 or float64, got ${d}`);
  return d;
}

function finite(fn: string, name: string, v: unknown, positive = false): number {
  if (typeof v !== "number" || !Number.isFinite(v) || (positive && !(v > 0))) {
    throw new ArgumentError(`${fn}: ${name} must be a${positive ? " positive" : ""} finite number, got ${describe(v)}`);
  }
  return v;
}

/** Zeros (the key is not used). */
export const zeros: Initializer = (_key, shape, dtype) =>
  lax.full(checkShape("nn.initializers.zeros", shape), 0, dtype === undefined ? "float32" : checkDType("nn.initializers.zeros", dtype));

/** Ones (the key is not used). */
export const ones: Initializer = (_key, shape, dtype) =>
  lax.full(checkShape("nn.initializers.ones", shape), 1, dtype === undefined ? "float32" : checkDType("nn.initializers.ones", dtype));

/** An initialiser that fills with `value`. */
export function constant(value: number): Initializer {
  finite("nn.initializers.constant", "value", value);
  return (_key, shape, dtype) =>
    lax.full(checkShape("nn.initializers.constant", shape), value, dtype === undefined ? "float32" : checkDType("nn.initializers.constant", dtype));
}

/** N(0, stddev²) samples (default stddev 1e-2). */
export function normal(stddev = 1e-2): Initializer {
  const fn = "nn.initializers.normal";
  finite(fn, "stddev", stddev);
  return (key, shape, dtype) => {
    const d = floatDType(fn, dtype);
    const z = random.normal(key, checkShape(fn, shape), d);
    return lax.mul(z, lax.fill(z, stddev));
  };
}

/** Uniform samples in [0, scale) (default scale 1e-2). */
export function uniform(scale = 1e-2): Initializer {
  const fn = "nn.initializers.uniform";
  finite(fn, "scale", scale);
  return (key, shape, dtype) => random.uniform(key, checkShape(fn, shape), floatDType(fn, dtype), 0, scale);
}

/** erf(x) for a JS number (Abramowitz & Stegun 7.1.26, |error| < 1.5e-7): only for the truncation bounds. */
function erfNumber(x: number): number {
  const z = Math.abs(x),
    t = 1 / (1 + 0.3275911 * z);
  const poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
  return Math.sign(x) * (1 - poly * Math.exp(-z * z));
}

/**
 * erfinv(u) for |u| < 1, by Giles' single-precision approximation ("Approximating the erfinv
 * function", GPU Computing Gems, 2011): a polynomial in w = -log(1 - u²), one for w < 5 and one in
 * sqrt(w) - 3 beyond. Each branch sees only its own safe inputs.
 */
function erfinv(u: NDArray): NDArray {
  const k = (v: number) => lax.fill(u, v);
  const w = lax.neg(lax.log(lax.mul(lax.sub(k(1), u), lax.add(k(1), u))));
  const central = lax.lt(w, k(5));
  const horner = (x: NDArray, coeffs: number[]) => coeffs.slice(1).reduce((p, a) => lax.add(k(a), lax.mul(p, x)), k(coeffs[0]!));
  const pc = horner(
    lax.sub(lax.selectN(central, k(5), w), k(2.5)),
    [2.81022636e-8, 3.43273939e-7, -3.5233877e-6, -4.39150654e-6, 0.00021858087, -0.00125372503, -0.00417768164, 0.246640727, 1.50140941],
  );
  const pt = horner(
    lax.sub(lax.sqrt(lax.selectN(central, w, k(5))), k(3)),
    [-0.000200214257, 0.000100950558, 0.00134934322, -0.00367342844, 0.00573950773, -0.0076224613, 0.00943887047, 1.00167406, 2.83297682],
  );
  return lax.mul(lax.selectN(central, pt, pc), u);
}

/**
 * Standard normal samples truncated to [lower, upper], by the inverse CDF: u uniform between
 * erf(lower/√2) and erf(upper/√2), then √2 · erfinv(u), clamped to the bounds against rounding.
 */
function truncatedNormalSamples(fn: string, key: NDArray, lower: number, upper: number, shape: number[], dtype: DType): NDArray {
  const a = erfNumber(lower / Math.SQRT2),
    b = erfNumber(upper / Math.SQRT2);
  const u = random.uniform(key, checkShape(fn, shape), dtype, a, b);
  const z = lax.mul(erfinv(u), lax.fill(u, Math.SQRT2));
  return lax.max(lax.min(z, lax.fill(z, upper)), lax.fill(z, lower));
}

/** N(0, stddev²) truncated to [lower, upper] standard deviations (defaults 1e-2, -2, 2), as JAX's. */
export function truncatedNormal(stddev = 1e-2, lower = -2, upper = 2): Initializer {
  const fn = "nn.initializers.truncatedNormal";
  finite(fn, "stddev", stddev);
  finite(fn, "lower", lower);
  finite(fn, "upper", upper);
  if (!(lower < upper)) throw new ArgumentError(`${fn}: needs lower < upper, got ${lower}, ${upper}`);
  return (key, shape, dtype) => {
    const z = truncatedNormalSamples(fn, key, lower, upper, shape, floatDType(fn, dtype));
    return lax.mul(z, lax.fill(z, stddev));
  };
}

export type FanMode = "fanIn" | "fanOut" | "fanAvg";
export type Distribution = "truncatedNormal" | "normal" | "uniform";

export interface VarianceScalingOptions {
  /** Axis of the input features (default -2). */
  inAxis?: number;
  /** Axis of the output features (default -1). */
  outAxis?: number;
  /** Axes that index separate matrices (not counted in either fan). */
  batchAxis?: number[];
}

/**
 * Fan-in and fan-out of a weight `shape`, as JAX's: the in/out axes' sizes times the receptive
 * field (the product of every other non-batch axis, e.g. a convolution's window).
 */
function computeFans(fn: string, shape: number[], options: VarianceScalingOptions = {}): [fanIn: number, fanOut: number] {
  const { inAxis = -2, outAxis = -1, batchAxis = [] } = options;
  if (shape.length < 2) throw new ShapeError(`${fn}: a weight shape needs at least 2 axes (inputs and outputs), got [${shape}]`);
  const inA = normAxis(fn, inAxis, shape.length),
    outA = normAxis(fn, outAxis, shape.length);
  const batch = batchAxis.map((d) => normAxis(fn, d, shape.length));
  const receptive = sizeOf(shape.filter((_, d) => d !== inA && d !== outA && !batch.includes(d)));
  return [shape[inA]! * receptive, shape[outA]! * receptive];
}

/**
 * JAX's `variance_scaling`: samples with variance `scale / n`, n the fan-in, fan-out or their
 * mean, from a truncated normal (rescaled so the variance is exact), a normal, or a uniform.
 */
export function varianceScaling(scale: number, mode: FanMode, distribution: Distribution, options?: VarianceScalingOptions): Initializer {
  return varianceScalingAs("nn.initializers.varianceScaling", scale, mode, distribution, options);
}

/** The options of a variance-scaling initialiser, checked: integer axes and a list of batch axes. */
function checkFanOptions(fn: string, options: VarianceScalingOptions | undefined): VarianceScalingOptions {
  const o = checkOptionsObject(fn, options, ["inAxis", "outAxis", "batchAxis"]);
  for (const k of ["inAxis", "outAxis"] as const) {
    if (o[k] !== undefined && !Number.isInteger(o[k])) throw new ArgumentError(`${fn}: ${k} must be an integer axis, got ${describe(o[k])}`);
  }
  if (o.batchAxis !== undefined && !(Array.isArray(o.batchAxis) && o.batchAxis.every((a) => Number.isInteger(a)))) {
    throw new ArgumentError(`${fn}: batchAxis must be a list of integer axes, got ${describe(o.batchAxis)}`);
  }
  return o;
}

/** varianceScaling whose errors name `fn` (each named initialiser passes its own). */
function varianceScalingAs(
  fn: string,
  scale: number,
  mode: FanMode,
  distribution: Distribution,
  options: VarianceScalingOptions | undefined,
): Initializer {
  finite(fn, "scale", scale, true);
  if (mode !== "fanIn" && mode !== "fanOut" && mode !== "fanAvg")
    throw new ArgumentError(`${fn}: mode must be "fanIn", "fanOut" or "fanAvg", got ${describe(mode)}`);
  if (distribution !== "truncatedNormal" && distribution !== "normal" && distribution !== "uniform") {
    throw new ArgumentError(`${fn}: distribution must be "truncatedNormal", "normal" or "uniform", got ${describe(distribution)}`);
  }
  const o = checkFanOptions(fn, options);
  return (key, shape, dtype) => {
    const d = floatDType(fn, dtype);
    const [fanIn, fanOut] = computeFans(fn, checkShape(fn, shape), o);
    const n = mode === "fanIn" ? fanIn : mode === "fanOut" ? fanOut : (fanIn + fanOut) / 2;
    const variance = scale / Math.max(1, n);
    if (distribution === "uniform") {
      const lim = Math.sqrt(3 * variance);
      return random.uniform(key, shape, d, -lim, lim);
    }
    // The standard normal truncated to [-2, 2] has standard deviation 0.87962566103423978.
    const z = distribution === "normal" ? random.normal(key, shape, d) : truncatedNormalSamples(fn, key, -2, 2, shape, d);
    const std = Math.sqrt(variance) / (distribution === "normal" ? 1 : 0.87962566103423978);
    return lax.mul(z, lax.fill(z, std));
  };
}

/** Glorot (Xavier) uniform: variance 1 / fanAvg. */
export const glorotUniform = (options?: VarianceScalingOptions): Initializer =>
  varianceScalingAs("nn.initializers.glorotUniform", 1, "fanAvg", "uniform", options);
/** Glorot (Xavier) normal: truncated normal with variance 1 / fanAvg. */
export const glorotNormal = (options?: VarianceScalingOptions): Initializer =>
  varianceScalingAs("nn.initializers.glorotNormal", 1, "fanAvg", "truncatedNormal", options);
/** LeCun uniform: variance 1 / fanIn. */
export const lecunUniform = (options?: VarianceScalingOptions): Initializer =>
  varianceScalingAs("nn.initializers.lecunUniform", 1, "fanIn", "uniform", options);
/** LeCun normal: truncated normal with variance 1 / fanIn. */
export const lecunNormal = (options?: VarianceScalingOptions): Initializer =>
  varianceScalingAs("nn.initializers.lecunNormal", 1, "fanIn", "truncatedNormal", options);
/** He (Kaiming) uniform: variance 2 / fanIn. */
export const heUniform = (options?: VarianceScalingOptions): Initializer =>
  varianceScalingAs("nn.initializers.heUniform", 2, "fanIn", "uniform", options);
/** He (Kaiming) normal: truncated normal with variance 2 / fanIn. */
export const heNormal = (options?: VarianceScalingOptions): Initializer =>
  varianceScalingAs("nn.initializers.heNormal", 2, "fanIn", "truncatedNormal", options);
/** The same as glorotUniform. */
export const xavierUniform = (options?: VarianceScalingOptions): Initializer =>
  varianceScalingAs("nn.initializers.xavierUniform", 1, "fanAvg", "uniform", options);
/** The same as glorotNormal. */
export const xavierNormal = (options?: VarianceScalingOptions): Initializer =>
  varianceScalingAs("nn.initializers.xavierNormal", 1, "fanAvg", "truncatedNormal", options);
/** The same as heUniform. */
export const kaimingUniform = (options?: VarianceScalingOptions): Initializer =>
  varianceScalingAs("nn.initializers.kaimingUniform", 2, "fanIn", "uniform", options);
/** The same as heNormal. */
export const kaimingNormal = (options?: VarianceScalingOptions): Initializer =>
  varianceScalingAs("nn.initializers.kaimingNormal", 2, "fanIn", "truncatedNormal", options);

/**
 * JAX's `orthogonal`: the [rows, cols] matrix (cols = shape[columnAxis], rows = the other dims'
 * product) has orthonormal columns (rows ≥ cols) or rows, drawn uniformly (Haar): the Q of a
 * normal matrix's QR with R's diagonal made positive, times `scale`, then laid out as `shape`.
 */
export function orthogonal(scale = 1, columnAxis = -1): Initializer {
  const fn = "nn.initializers.orthogonal";
  finite(fn, "scale", scale);
  if (!Number.isInteger(columnAxis)) throw new ArgumentError(`${fn}: columnAxis must be an integer axis, got ${describe(columnAxis)}`);
  return (key, shape, dtype) => {
    const d = floatDType(fn, dtype);
    const s = checkShape(fn, shape);
    if (s.length < 2) throw new ShapeError(`${fn}: shape must have at least two dims, got [${s}]`);
    const axis = normAxis(fn, columnAxis, s.length);
    const cols = s[axis]!,
      rows = sizeOf(s) / Math.max(cols, 1);
    const tall = rows >= cols;
    const [q, r] = lax.qr(random.normal(key, tall ? [rows, cols] : [cols, rows], d));
    // sign(diag(R)) (with 0 as +1), scaled, multiplies Q's columns.
    const diag = diagonal(r!);
    const signs = lax.selectN(lax.lt(diag, lax.fill(diag, 0)), lax.fill(diag, scale), lax.fill(diag, -scale));
    const fixed = lax.mul(q!, lax.broadcastInDim(signs, q!.shape, [1]));
    const mat = tall ? fixed : lax.transpose(fixed, [1, 0]);
    const others = s.filter((_, i) => i !== axis);
    return lax.moveAxis(lax.reshape(mat, [...others, cols]), s.length - 1, axis);
  };
}
