/**
 * Counter-based, functional randomness, as JAX's default (threefry2x32) generator: a key is a uint32
 * array of shape [2]; every draw is a pure function of (key, shape). Bits come from the
 * Threefry-2x32 block cipher (20 rounds) applied to a counter, and the cipher is built from traced
 * primitives (wrapping uint32 add, xor, shifts), so keys may be tracers: `split`, `foldIn` and every
 * sampler work under jit, vmap (over a batch of keys) and inside scan.
 *
 * The layout follows JAX's original (non-partitionable) threefry implementation, so results are
 * bit-for-bit JAX's for the same seed: `key(seed)` = [seed / 2^32, seed mod 2^32]; `split(k, n)`
 * enciphers the counter 0..2n-1 as the pair of halves (x0 = first half, x1 = second half) and reads
 * the outputs as n keys; `bits(k, shape)` enciphers 0..size-1 the same way (odd sizes padded with a
 * 0 counter); `uniform` puts 23 random bits under the exponent of 1.0 and subtracts 1.
 *
 * Called eagerly, each sampler runs as one compiled program (`staged`, cached by the function and
 * its shape, dtype and other static arguments), as JAX jits its samplers.
 */
import { type DType, checkDType, isFloat } from "./core/dtype.js";
import { ArgumentError, DTypeError, ShapeError, describe } from "./core/errors.js";
import * as lax from "./core/lax.js";
import { ConcreteArray, NDArray } from "./core/ndarray.js";
import { checkShape, sizeOf } from "./core/shape.js";
import { type ArrayLike, asArray } from "./np/base.js";
import { whileLoop as whileLoopImpl } from "./lax.js";
import { numberKey, staged, stages } from "./core/staged.js";
import { checkKey, cipherIota, threefry2x32, u32 } from "./threefry.js";

export { threefry2x32 };

// ---------------------------------------------------------------- keys

/** A key from an integer seed, as JAX's PRNGKey: [seed / 2^32, seed mod 2^32] (so key(0) is [0, 0]). */
export function key(seed: number): NDArray {
  if (!Number.isSafeInteger(seed)) throw new ArgumentError(`random.key: seed must be a safe integer, got ${describe(seed)}`);
  const hi = Math.floor(seed / 2 ** 32);
  return new ConcreteArray(Uint32Array.of(hi >>> 0, seed >>> 0), [2], "uint32");
}

/**
 * `n` new independent keys as one uint32 array of shape [n, 2], as JAX returns them: an array (not a
 * JS list) so that `vmap(init)(random.split(key, 8))` maps over the keys and jit can trace them.
 * Arrays iterate over their first axis, so `const [k1, k2] = random.split(key)` still works.
 */
export function split(k: NDArray, n = 2): NDArray {
  checkKey("split", k);
  if (!Number.isSafeInteger(n) || n < 1) throw new ArgumentError(`random.split: n must be a positive integer, got ${describe(n)}`);
  return staged(`split ${n}`, [k], (key) => lax.reshape(cipherIota(key, 2 * n), [n, 2]));
}

/** A new key from `k` and an integer `data` (JAX's fold_in: threefry of the counter pair [0, data]). */
export function foldIn(k: NDArray, data: number | NDArray): NDArray {
  checkKey("foldIn", k);
  let d: NDArray;
  if (typeof data === "number") {
    if (!Number.isInteger(data)) throw new ArgumentError(`random.foldIn: data must be an integer, got ${describe(data)}`);
    d = new ConcreteArray(Uint32Array.of(data >>> 0), [], "uint32");
  } else if (data instanceof NDArray && data.ndim === 0 && (data.dtype === "int32" || data.dtype === "uint32")) d = data;
  else throw new ArgumentError(`random.foldIn: data must be an integer or an int32/uint32 scalar array, got ${describe(data)}`);
  return staged("foldIn", [k, d], (key, word) => {
    const [y0, y1] = threefry2x32(key, lax.full([1], 0, "uint32"), lax.reshape(lax.bitcastConvertType(word, "uint32"), [1]));
    return lax.concatenate([y0, y1], 0);
  });
}

/** `shape` random uint32 words from a key (JAX's random_bits with 32-bit width). */
export function bits(k: NDArray, shape: number[] = []): NDArray {
  checkKey("bits", k);
  const s = checkShape("random.bits", shape).slice();
  return staged(`bits [${s}]`, [k], (key) => lax.reshape(cipherIota(key, sizeOf(s)), s));
}

// ---------------------------------------------------------------- uniform and normal

function floatDType(fn: string, dtype: DType | undefined): DType {
  const d = dtype === undefined ? "float32" : checkDType(`random.${fn}`, dtype);
  if (!isFloat(d)) throw new DTypeError(`random.${fn}: dtype must be float32 or float64, got ${d}`);
  return d;
}

function shapeArg(fn: string, shape: unknown): number[] {
  if (shape === undefined) return [];
  return checkShape(`random.${fn}`, shape as number[]).slice();
}

/**
 * Uniform [0, 1) floats. float32: the top 23 bits become the mantissa of a float in [1, 2), minus 1
 * (JAX's trick, bit-exact). float64: 53 bits from two words, (w0 >>> 5) 2^26 + (w1 >>> 6), over 2^53.
 */
function unit(k: NDArray, shape: number[], dtype: DType): NDArray {
  if (dtype === "float32") {
    const b = bits(k, shape);
    const m = lax.or(lax.shiftRightLogical(b, u32(9, shape)), u32(0x3f800000, shape));
    return lax.sub(lax.bitcastConvertType(m, "float32"), lax.fill({ shape, dtype }, 1));
  }
  const n = sizeOf(shape);
  const w = lax.reshape(bits(k, [2, n]), [2, ...shape]);
  const hi = lax.convert(lax.shiftRightLogical(lax.reshape(lax.sliceAxis(w, 0, 0, 1), shape), u32(5, shape)), "float64");
  const lo = lax.convert(lax.shiftRightLogical(lax.reshape(lax.sliceAxis(w, 0, 1, 2), shape), u32(6, shape)), "float64");
  return lax.mul(lax.add(lax.mul(hi, lax.fill(hi, 2 ** 26)), lo), lax.fill(hi, 2 ** -53));
}

/** A bound of `uniform` as an array: a number becomes a float64 scalar (converted to the dtype with the draws). */
function boundArg(fn: string, name: string, v: unknown): NDArray {
  if (typeof v === "number") return new ConcreteArray(Float64Array.of(v), [], "float64");
  if (v instanceof NDArray) return v;
  throw new ArgumentError(`random.${fn}: ${name} must be a number or an array, got ${describe(v)}`);
}

/** Uniform samples in [minval, maxval): u (maxval - minval) + minval, clamped below at minval (as JAX). */
export function uniform(k: NDArray, shape: number[] = [], dtype?: DType, minval: number | NDArray = 0, maxval: number | NDArray = 1): NDArray {
  checkKey("uniform", k);
  const d = floatDType("uniform", dtype);
  const s = shapeArg("uniform", shape);
  if (typeof minval === "number" && typeof maxval === "number" && !(minval <= maxval)) {
    throw new ArgumentError(`random.uniform: needs minval <= maxval, got ${describe(minval)}, ${describe(maxval)}`);
  }
  return staged(`uniform ${d} [${s}]`, [k, boundArg("uniform", "minval", minval), boundArg("uniform", "maxval", maxval)], (key, min, max) => {
    const lo = lax.broadcastTo(lax.convert(min, d), s),
      hi = lax.broadcastTo(lax.convert(max, d), s);
    return lax.max(lo, lax.add(lax.mul(unit(key, s, d), lax.sub(hi, lo)), lo));
  });
}

/**
 * erf⁻¹ from lax ops: Giles' single-precision approximation (w = -log((1 - x)(1 + x)); a polynomial in
 * w - 2.5 for w < 5, in sqrt(w) - 3 beyond), the one XLA uses for float32.
 */
function erfinv(x: NDArray): NDArray {
  const c = (v: number) => lax.fill(x, v);
  const w = lax.neg(lax.log(lax.mul(lax.sub(c(1), x), lax.add(c(1), x))));
  const horner = (t: NDArray, cs: number[]) => cs.slice(1).reduce((p, ci) => lax.add(lax.mul(p, t), c(ci)), c(cs[0]!));
  const small = horner(
    lax.sub(w, c(2.5)),
    [2.81022636e-8, 3.43273939e-7, -3.5233877e-6, -4.39150654e-6, 0.00021858087, -0.00125372503, -0.00417768164, 0.246640727, 1.50140941],
  );
  const big = horner(
    lax.sub(lax.sqrt(lax.max(w, c(5))), c(3)),
    [-0.000200214257, 0.000100950558, 0.00134934322, -0.00367342844, 0.00573950773, -0.0076224613, 0.00943887047, 1.00167406, 2.83297682],
  );
  return lax.mul(lax.selectN(lax.lt(w, c(5)), big, small), x);
}

/** erf from lax ops (Abramowitz & Stegun 7.1.26, |error| < 1.5e-7), for the truncated normal's bounds. */
function erf(x: NDArray): NDArray {
  const c = (v: number) => lax.fill(x, v);
  const ax = lax.abs(x);
  const t = lax.div(c(1), lax.add(c(1), lax.mul(c(0.3275911), ax)));
  const poly = [1.061405429, -1.453152027, 1.421413741, -0.284496736, 0.254829592]
    .slice(1)
    .reduce((p, ci) => lax.add(lax.mul(p, t), c(ci)), c(1.061405429));
  const y = lax.sub(c(1), lax.mul(lax.mul(poly, t), lax.exp(lax.neg(lax.mul(ax, ax)))));
  return lax.mul(lax.sign(x), y);
}

/** Standard normal samples: √2 erf⁻¹(u) with u uniform in (-1, 1), as JAX. */
export function normal(k: NDArray, shape: number[] = [], dtype?: DType): NDArray {
  checkKey("normal", k);
  const d = floatDType("normal", dtype);
  const s = shapeArg("normal", shape);
  const lo = d === "float32" ? -0.99999994 : -1 + 2 ** -53;
  return staged(`normal ${d} [${s}]`, [k], (key) => {
    const u = uniform(key, s, d, lo, 1);
    return lax.mul(erfinv(u), lax.fill(u, Math.SQRT2));
  });
}

/** Normal samples restricted to [lower, upper]: inverse CDF of a uniform between Φ(lower) and Φ(upper). */
export function truncatedNormal(k: NDArray, lower: number, upper: number, shape: number[] = [], dtype?: DType): NDArray {
  checkKey("truncatedNormal", k);
  const d = floatDType("truncatedNormal", dtype);
  const s = shapeArg("truncatedNormal", shape);
  if (typeof lower !== "number" || typeof upper !== "number" || !(lower < upper)) {
    throw new ArgumentError(`random.truncatedNormal: needs numbers lower < upper, got ${describe(lower)}, ${describe(upper)}`);
  }
  return staged(`truncatedNormal ${d} [${s}] ${numberKey(lower)} ${numberKey(upper)}`, [k], (key) => {
    const a = erf(lax.fill({ shape: s, dtype: d }, lower / Math.SQRT2)),
      b = erf(lax.fill({ shape: s, dtype: d }, upper / Math.SQRT2));
    const u = lax.add(lax.mul(unit(key, s, d), lax.sub(b, a)), a);
    const x = lax.mul(erfinv(u), lax.fill(u, Math.SQRT2));
    return lax.min(lax.max(x, lax.fill(x, lower)), lax.fill(x, upper));
  });
}

// ---------------------------------------------------------------- simple transforms of a uniform

/** The smallest positive normal float of a dtype: keeps logs of uniforms finite. */
const tiny = (d: DType) => (d === "float32" ? 1.1754943508222875e-38 : 2.2250738585072014e-308);

/** True with probability p (elementwise; p broadcasts to `shape`). */
export function bernoulli(k: NDArray, p: ArrayLike = 0.5, shape?: number[]): NDArray {
  checkKey("bernoulli", k);
  const pa = asArray("random.bernoulli", p, "float32", "p");
  const pf = isFloat(pa.dtype) ? pa : lax.convert(pa, "float32");
  const s = shape === undefined ? pf.shape.slice() : shapeArg("bernoulli", shape);
  return staged(`bernoulli [${s}]`, [k, pf], (key, prob) => lax.lt(uniform(key, s, prob.dtype), lax.broadcastTo(prob, s)));
}

/** Standard Gumbel samples: -log(-log(u)), u uniform in [tiny, 1). */
export function gumbel(k: NDArray, shape: number[] = [], dtype?: DType): NDArray {
  checkKey("gumbel", k);
  const d = floatDType("gumbel", dtype);
  const s = shapeArg("gumbel", shape);
  return staged(`gumbel ${d} [${s}]`, [k], (key) => lax.neg(lax.log(lax.neg(lax.log(uniform(key, s, d, tiny(d), 1))))));
}

/** Standard exponential samples: -log1p(-u). */
export function exponential(k: NDArray, shape: number[] = [], dtype?: DType): NDArray {
  checkKey("exponential", k);
  const d = floatDType("exponential", dtype);
  const s = shapeArg("exponential", shape);
  return staged(`exponential ${d} [${s}]`, [k], (key) => lax.neg(lax.log1p(lax.neg(uniform(key, s, d)))));
}

/** Standard Laplace samples: sign(u) log1p(-|u|) with u uniform in (-1, 1) (negated: the law is symmetric). */
export function laplace(k: NDArray, shape: number[] = [], dtype?: DType): NDArray {
  checkKey("laplace", k);
  const d = floatDType("laplace", dtype);
  const s = shapeArg("laplace", shape);
  return staged(`laplace ${d} [${s}]`, [k], (key) => {
    const u = uniform(key, s, d, d === "float32" ? -0.99999994 : -1 + 2 ** -53, 1);
    return lax.mul(lax.sign(u), lax.log1p(lax.neg(lax.abs(u))));
  });
}

/** Standard logistic samples: log(u) - log1p(-u), u uniform in [tiny, 1). */
export function logistic(k: NDArray, shape: number[] = [], dtype?: DType): NDArray {
  checkKey("logistic", k);
  const d = floatDType("logistic", dtype);
  const s = shapeArg("logistic", shape);
  return staged(`logistic ${d} [${s}]`, [k], (key) => {
    const u = uniform(key, s, d, tiny(d), 1);
    return lax.sub(lax.log(u), lax.log1p(lax.neg(u)));
  });
}

/** Standard Cauchy samples: tan(π (u - 1/2)), u uniform in [tiny, 1). */
export function cauchy(k: NDArray, shape: number[] = [], dtype?: DType): NDArray {
  checkKey("cauchy", k);
  const d = floatDType("cauchy", dtype);
  const s = shapeArg("cauchy", shape);
  return staged(`cauchy ${d} [${s}]`, [k], (key) => {
    const u = uniform(key, s, d, tiny(d), 1);
    const t = lax.mul(lax.fill(u, Math.PI), lax.sub(u, lax.fill(u, 0.5)));
    return lax.div(lax.sin(t), lax.cos(t));
  });
}

/** Rademacher samples: -1 or +1 with probability 1/2 each (int32 by default, as JAX). */
export function rademacher(k: NDArray, shape: number[] = [], dtype: DType = "int32"): NDArray {
  checkKey("rademacher", k);
  const d = checkDType("random.rademacher", dtype);
  if (d === "bool" || d === "uint32") throw new DTypeError(`random.rademacher: dtype must be int32, float32 or float64 (the draws are ±1), got ${d}`);
  const s = shapeArg("rademacher", shape);
  return staged(`rademacher ${d} [${s}]`, [k], (key) => {
    const b = lax.convert(bernoulli(key, 0.5, s), d);
    return lax.sub(lax.mul(b, lax.fill(b, 2)), lax.fill(b, 1));
  });
}

/** Options of `categorical`: the axis of the categories (default -1) and the batch shape of the draws. */
export interface CategoricalOptions {
  axis?: number;
  shape?: number[];
}

/** Category indices drawn with probabilities softmax(logits) along `axis`: argmax(logits + Gumbel noise). */
export function categorical(k: NDArray, logits: ArrayLike, options: CategoricalOptions = {}): NDArray {
  checkKey("categorical", k);
  const l0 = asArray("random.categorical", logits, "float32", "logits");
  const l = isFloat(l0.dtype) ? l0 : lax.convert(l0, "float32");
  if (l.ndim === 0) throw new ShapeError("random.categorical: logits must have at least one axis (the categories)");
  const axis = options.axis ?? -1;
  if (!Number.isInteger(axis) || axis < -l.ndim || axis >= l.ndim)
    throw new ArgumentError(`random.categorical: axis ${describe(axis)} is out of range for logits of rank ${l.ndim}`);
  const ax = axis < 0 ? axis + l.ndim : axis;
  const batch = l.shape.filter((_, i) => i !== ax);
  const s = options.shape === undefined ? batch : shapeArg("categorical", options.shape);
  return staged(`categorical ${ax} [${s}]`, [k, l], (key, logit) => {
    // The draws' shape ++ [categories]; logits (categories moved last) broadcast against it.
    const full = [...s, logit.shape[ax]!];
    const moved = lax.moveAxis(logit, ax, logit.ndim - 1);
    const noisy = lax.add(gumbel(key, full, logit.dtype), lax.broadcastTo(moved, full));
    return lax.argmax(noisy, full.length - 1);
  });
}

// ---------------------------------------------------------------- integers and permutations

/** x mod m for a constant m > 0 on uint32: x - (x / m) m (wrapping ops). */
function remU32(x: NDArray, m: number): NDArray {
  const mm = u32(m, x.shape);
  return lax.sub(x, lax.mul(lax.div(x, mm), mm));
}

/**
 * Random int32 in [minval, maxval), JAX's algorithm: two words h, l from split keys, span = maxval -
 * minval, offset = ((h mod span) (2^32 mod span) + (l mod span)) mod span, which is nearly unbiased.
 */
export function randint(k: NDArray, shape: number[], minval: number, maxval: number): NDArray {
  checkKey("randint", k);
  if (!Number.isInteger(minval) || !Number.isInteger(maxval) || maxval <= minval || minval < -(2 ** 31) || maxval > 2 ** 31) {
    throw new ArgumentError(`random.randint: needs integers -2^31 <= minval < maxval <= 2^31, got ${describe(minval)}, ${describe(maxval)}`);
  }
  const s = shapeArg("randint", shape);
  const span = maxval - minval;
  const mult = Number((2n ** 32n % BigInt(span)) % BigInt(span));
  return staged(`randint [${s}] ${minval} ${maxval}`, [k], (key) => {
    const [k1, k2] = split(key);
    const h = bits(k1!, s),
      l = bits(k2!, s);
    const off = remU32(lax.add(lax.mul(remU32(h, span), u32(mult, s)), remU32(l, span)), span);
    return lax.bitcastConvertType(lax.add(off, u32(minval >>> 0, s)), "int32");
  });
}

/**
 * A random permutation: of 0..n-1 for a number, or of an array's rows (axis 0). As JAX's shuffle,
 * the rows are sorted by random 32-bit words (one round of a stable sort, so ties keep their order).
 */
export function permutation(k: NDArray, x: number | NDArray): NDArray {
  checkKey("permutation", k);
  let arr: NDArray;
  if (typeof x === "number") {
    if (!Number.isSafeInteger(x) || x < 0) throw new ArgumentError(`random.permutation: n must be a non-negative integer, got ${describe(x)}`);
    arr = new ConcreteArray(
      Int32Array.from({ length: x }, (_, i) => i),
      [x],
      "int32",
    );
  } else if (x instanceof NDArray && x.ndim >= 1) arr = x;
  else throw new ArgumentError(`random.permutation: x must be a non-negative integer or an array with at least one axis, got ${describe(x)}`);
  const n = arr.shape[0]!;
  if (n <= 1) return arr;
  return staged(`permutation ${n}`, [k, arr], (key, rows) => {
    const [, sub] = split(key);
    const order = lax.argsort(bits(sub!, [n]), 0);
    return lax.gather(rows, order, 0);
  });
}

/** Same as `permutation(key, x)` for an array: its rows in a random order. */
export function shuffle(k: NDArray, x: NDArray): NDArray {
  checkKey("shuffle", k);
  if (!(x instanceof NDArray)) throw new ArgumentError(`random.shuffle: x must be an array, got ${describe(x)}`);
  return permutation(k, x);
}

// ---------------------------------------------------------------- gamma and its family

const HALF_LOG_2PI = 0.5 * Math.log(2 * Math.PI);

/** log Γ(z) for z > 0: Stirling's series at w = z + 6, shifted back by log(z (z+1) ... (z+5)). */
function lgamma(z: NDArray): NDArray {
  const c = (v: number) => lax.fill(z, v);
  let prod = z;
  for (let k = 1; k < 6; k++) prod = lax.mul(prod, lax.add(z, c(k)));
  const w = lax.add(z, c(6));
  const iw = lax.div(c(1), w),
    iw2 = lax.mul(iw, iw);
  const series = lax.mul(iw, lax.add(c(1 / 12), lax.mul(iw2, lax.add(c(-1 / 360), lax.mul(iw2, c(1 / 1260))))));
  const st = lax.add(lax.sub(lax.mul(lax.sub(w, c(0.5)), lax.log(w)), w), lax.add(c(HALF_LOG_2PI), series));
  return lax.sub(st, lax.log(prod));
}

/** ψ(z) = d log Γ / dz for z > 0: the asymptotic series at w = z + 6 minus Σ_{k<6} 1/(z+k). */
function digamma(z: NDArray): NDArray {
  const c = (v: number) => lax.fill(z, v);
  let shift = lax.div(c(1), z);
  for (let k = 1; k < 6; k++) shift = lax.add(shift, lax.div(c(1), lax.add(z, c(k))));
  const w = lax.add(z, c(6));
  const iw = lax.div(c(1), w),
    iw2 = lax.mul(iw, iw);
  const tail = lax.mul(iw2, lax.add(c(-1 / 12), lax.mul(iw2, lax.add(c(1 / 120), lax.mul(iw2, c(-1 / 252))))));
  return lax.sub(lax.add(lax.sub(lax.log(w), lax.mul(c(0.5), iw)), tail), shift);
}

/** Series terms for the incomplete gamma function; enough for x up to about 150. */
const GAMMA_TERMS = 256;

/**
 * dx/da of the gamma sample x = P⁻¹(u; a) at fixed u (implicit differentiation, as JAX):
 * dx/da = -(∂P/∂a) / (∂P/∂x) with P(a, x) = e^L S, L = a log x - x - log Γ(a+1),
 * S = Σ t_n, t_0 = 1, t_n = t_{n-1} x / (a + n); ∂P/∂a = e^L (S (log x - ψ(a+1)) - Σ t_n h_n),
 * h_n = Σ_{m ≤ n} 1/(a + m); ∂P/∂x = x^(a-1) e^-x / Γ(a). Computed in float64.
 */
function gammaSampleGrad(a0: NDArray, x0: NDArray): NDArray {
  const a = lax.convert(a0, "float64"),
    x = lax.max(lax.convert(x0, "float64"), lax.fill({ shape: x0.shape, dtype: "float64" }, 1e-300));
  const c = (v: number) => lax.fill(a, v);
  let t = c(1),
    h = c(0),
    s = c(1),
    sh = c(0);
  for (let n = 1; n < GAMMA_TERMS; n++) {
    const an = lax.add(a, c(n));
    t = lax.mul(t, lax.div(x, an));
    h = lax.add(h, lax.div(c(1), an));
    s = lax.add(s, t);
    sh = lax.add(sh, lax.mul(t, h));
  }
  const logx = lax.log(x);
  const L = lax.sub(lax.sub(lax.mul(a, logx), x), lgamma(lax.add(a, c(1))));
  const dPda = lax.mul(lax.exp(L), lax.sub(lax.mul(s, lax.sub(logx, digamma(lax.add(a, c(1))))), sh));
  const logdPdx = lax.sub(lax.sub(lax.mul(lax.sub(a, c(1)), logx), x), lgamma(a));
  return lax.convert(lax.neg(lax.div(dPda, lax.exp(logdPdx))), a0.dtype);
}

/** Marsaglia–Tsang for shape α >= 1, all lanes at once: redraw the lanes not yet accepted. */
function marsagliaTsang(k: NDArray, alpha: NDArray): NDArray {
  const s = alpha.shape.slice();
  const c1 = (v: number) => lax.fill(alpha, v);
  const d = lax.sub(alpha, c1(1 / 3));
  const cc = lax.div(c1(1), lax.sqrt(lax.mul(c1(9), d)));
  type Carry = [NDArray, NDArray, NDArray];
  const init: Carry = [k, lax.fill(alpha, 0), lax.full(s, 0, "bool")];
  const [, x] = whileLoopImpl(
    ([, , done]) => lax.gt(lax.reduceMax(lax.convert(lax.not(done), "int32"), range(s.length)), lax.scalar(0, "int32")),
    ([key, x, done]): Carry => {
      const [next, kz, ku] = split(key, 3);
      const z = normal(kz!, s, alpha.dtype),
        u = uniform(ku!, s, alpha.dtype);
      const one = lax.add(c1(1), lax.mul(cc, z));
      const v = lax.mul(lax.mul(one, one), one);
      const safeV = lax.max(v, c1(1e-30));
      const bound = lax.add(lax.mul(c1(0.5), lax.mul(z, z)), lax.add(lax.sub(d, lax.mul(d, safeV)), lax.mul(d, lax.log(safeV))));
      const accept = lax.and(lax.gt(one, c1(0)), lax.lt(lax.log(u), bound));
      const take = lax.and(accept, lax.not(done));
      return [next!, lax.selectN(take, x, lax.mul(d, safeV)), lax.or(done, accept)];
    },
    init,
  );
  return x;
}

const range = (n: number) => Array.from({ length: n }, (_, i) => i);

/**
 * Gamma(a, 1) samples (shape parameter a > 0, broadcast to `shape`). α < 1 is boosted: a sample of
 * Gamma(α + 1) times u^(1/α). Differentiable in `a` with JAX's reparameterised gradient
 * (implicit differentiation of the CDF, accurate for samples up to about 150).
 */
export function gamma(k: NDArray, a: ArrayLike, shape?: number[], dtype?: DType): NDArray {
  checkKey("gamma", k);
  const a0 = asArray("random.gamma", a, "float32", "a");
  const d = dtype === undefined ? (isFloat(a0.dtype) ? a0.dtype : "float32") : floatDType("gamma", dtype);
  const s = shape === undefined ? a0.shape.slice() : shapeArg("gamma", shape);
  // Called eagerly, `a` is concrete: the program needs no derivative term, as the eager path never had one.
  const eager = stages([k, a0]);
  return staged(`gamma ${d} [${s}]`, [k, a0], (key, alpha) => gammaSample(key, alpha, s, d, eager));
}

/** Gamma(a, 1) samples of shape `s`; the derivative term in `a` only where it may be traced. */
function gammaSample(k: NDArray, a0: NDArray, s: number[], d: DType, concrete: boolean): NDArray {
  const av = lax.broadcastTo(lax.convert(a0, d), s);
  const sa = lax.stopGradient(av);
  const [k1, k2] = split(k);
  const boost = lax.lt(sa, lax.fill(sa, 1));
  const alpha = lax.selectN(boost, sa, lax.add(sa, lax.fill(sa, 1)));
  const g = marsagliaTsang(k1!, alpha);
  const ub = uniform(k2!, s, d, tiny(d), 1);
  const scale = lax.selectN(boost, lax.fill(sa, 1), lax.exp(lax.div(lax.log(ub), sa)));
  const x = lax.stopGradient(lax.mul(g, scale));
  if (concrete || av instanceof ConcreteArray) return x; // nothing can differentiate a concrete shape parameter
  // x + (a - sg(a)) sg(dx/da): the value is x, the derivative in a is dx/da.
  return lax.add(x, lax.mul(lax.sub(av, sa), lax.stopGradient(gammaSampleGrad(sa, x))));
}

/** Beta(a, b) samples: X / (X + Y) with X ~ Gamma(a), Y ~ Gamma(b). */
export function beta(k: NDArray, a: ArrayLike, b: ArrayLike, shape?: number[], dtype?: DType): NDArray {
  checkKey("beta", k);
  const aa = asArray("random.beta", a, "float32", "a"),
    bb = asArray("random.beta", b, "float32", "b");
  const s = shape === undefined ? broadcastShapeOf(aa.shape, bb.shape) : shapeArg("beta", shape);
  const [ka, kb] = split(k);
  const x = gamma(ka!, lax.broadcastTo(aa, s), s, dtype),
    y = gamma(kb!, lax.broadcastTo(bb, s), s, dtype);
  return lax.div(x, lax.add(x, y));
}

function broadcastShapeOf(a: readonly number[], b: readonly number[]): number[] {
  const n = Math.max(a.length, b.length);
  return range(n).map((i) => {
    const x = a[a.length - n + i] ?? 1,
      y = b[b.length - n + i] ?? 1;
    if (x !== y && x !== 1 && y !== 1) throw new ShapeError(`random: shapes [${a}] and [${b}] do not broadcast`);
    return Math.max(x, y);
  });
}

/** Dirichlet(α) samples over the last axis: independent Gamma(α_i) normalised to sum 1. */
export function dirichlet(k: NDArray, alpha: ArrayLike, shape?: number[], dtype?: DType): NDArray {
  checkKey("dirichlet", k);
  const al = asArray("random.dirichlet", alpha, "float32", "alpha");
  if (al.ndim === 0) throw new ShapeError("random.dirichlet: alpha needs at least one axis (the categories)");
  const s = [...(shape === undefined ? al.shape.slice(0, -1) : shapeArg("dirichlet", shape)), al.shape[al.ndim - 1]!];
  const g = gamma(k, lax.broadcastTo(al, s), s, dtype);
  const total = lax.reduceSum(g, [s.length - 1]);
  return lax.div(g, lax.broadcastInDim(total, s, range(s.length - 1)));
}

/**
 * Poisson(λ) counts (int32) by Knuth's product of uniforms: the number of factors before the running
 * product drops below e^-λ, for all lanes at once in a while loop (O(λ) iterations: meant for
 * moderate λ; very large λ is slow).
 */
export function poisson(k: NDArray, lam: ArrayLike, shape?: number[]): NDArray {
  checkKey("poisson", k);
  const l0 = asArray("random.poisson", lam, "float32", "lam");
  const l = isFloat(l0.dtype) ? l0 : lax.convert(l0, "float32");
  const s = shape === undefined ? l.shape.slice() : shapeArg("poisson", shape);
  return staged(`poisson [${s}]`, [k, l], (key0, rate) => {
    const limit = lax.exp(lax.neg(lax.broadcastTo(rate, s)));
    type Carry = [NDArray, NDArray, NDArray];
    const init: Carry = [key0, lax.fill(limit, 1), lax.full(s, 0, "int32")];
    const [, , count] = whileLoopImpl(
      ([, prod]) => lax.gt(lax.reduceMax(lax.convert(lax.gt(prod, limit), "int32"), range(s.length)), lax.scalar(0, "int32")),
      ([key, prod, n]): Carry => {
        const [next, ku] = split(key);
        const alive = lax.gt(prod, limit);
        const p = lax.selectN(alive, prod, lax.mul(prod, uniform(ku!, s, limit.dtype)));
        return [next!, p, lax.add(n, lax.convert(lax.and(alive, lax.gt(p, limit)), "int32"))];
      },
      init,
    );
    return count;
  });
}

/** Options of `choice`: the output shape, sampling with replacement (default true), and probabilities. */
export interface ChoiceOptions {
  shape?: number[];
  replace?: boolean;
  p?: ArrayLike;
}

/**
 * Draws from `a` (0..a-1 for a number, else the rows of an array): with replacement as a categorical
 * over log p (uniform without p); without replacement by the Gumbel top-k trick (the k largest of
 * log p + Gumbel noise), which samples sequentially-without-replacement exactly.
 */
export function choice(k: NDArray, a: number | NDArray, options: ChoiceOptions = {}): NDArray {
  checkKey("choice", k);
  let pool: NDArray;
  if (typeof a === "number") {
    if (!Number.isSafeInteger(a) || a < 1) throw new ArgumentError(`random.choice: a must be a positive integer or an array, got ${describe(a)}`);
    pool = new ConcreteArray(
      Int32Array.from({ length: a }, (_, i) => i),
      [a],
      "int32",
    );
  } else if (a instanceof NDArray && a.ndim >= 1 && a.shape[0]! >= 1) pool = a;
  else throw new ArgumentError(`random.choice: a must be a positive integer or an array with a non-empty first axis, got ${describe(a)}`);
  const n = pool.shape[0]!;
  const s = shapeArg("choice", options.shape ?? []);
  const replace = options.replace ?? true;
  if (typeof replace !== "boolean") throw new ArgumentError(`random.choice: replace must be a boolean, got ${describe(replace)}`);
  const p = options.p === undefined ? null : asArray("random.choice", options.p, "float32", "p");
  if (p !== null && (p.ndim !== 1 || p.shape[0] !== n))
    throw new ShapeError(`random.choice: p must have shape [${n}] (one probability per entry of a), got [${p.shape}]`);
  const m = sizeOf(s);
  if (!replace && m > n) throw new ArgumentError(`random.choice: cannot take ${m} entries without replacement from ${n}`);
  return staged(`choice [${s}] ${replace} ${p !== null}`, p === null ? [k, pool] : [k, pool, p], (key, from, prob) => {
    const logp = prob === undefined ? lax.full([from.shape[0]!], 0, "float32") : lax.log(isFloat(prob.dtype) ? prob : lax.convert(prob, "float32"));
    let idx: NDArray;
    if (replace) idx = lax.reshape(categorical(key, logp, { shape: [m] }), [m]);
    else {
      const keys = lax.neg(lax.add(gumbel(key, [from.shape[0]!], logp.dtype), logp));
      idx = lax.slice(lax.argsort(keys, 0), [0], [m]);
    }
    const picked = lax.gather(from, idx, 0);
    return lax.reshape(picked, [...s, ...from.shape.slice(1)]);
  });
}

/**
 * The lower Cholesky factor of a symmetric positive-definite [n, n] matrix from primitives, column by
 * column: c_j = A[:, j] - Σ_{k<j} L[:, k] L[j, k], L[:, j] = c_j / √c_j[j] on rows ≥ j (so it traces,
 * batches and differentiates; O(n²) ops, for the small covariances samplers see).
 */
function cholesky(a: NDArray): NDArray {
  const n = a.shape[0]!;
  const cols: NDArray[] = [];
  const at = (v: NDArray, i: number) => lax.reshape(lax.slice(v, [i], [i + 1]), []);
  for (let j = 0; j < n; j++) {
    let c = lax.reshape(lax.sliceAxis(a, 1, j, j + 1), [n]);
    for (let k = 0; k < j; k++) c = lax.sub(c, lax.mul(cols[k]!, lax.broadcastInDim(at(cols[k]!, j), [n], [])));
    const mask = new ConcreteArray(
      Uint8Array.from({ length: n }, (_, i) => (i >= j ? 1 : 0)),
      [n],
      "bool",
    );
    const col = lax.div(c, lax.broadcastInDim(lax.sqrt(at(c, j)), [n], []));
    cols.push(lax.selectN(mask, lax.fill(col, 0), col));
  }
  return lax.concatenate(
    cols.map((c) => lax.reshape(c, [n, 1])),
    1,
  );
}

/**
 * Multivariate normal samples mean + L z with L the Cholesky factor of `cov` ([n, n]) and z standard
 * normal of shape `shape` ++ [n] (default: mean's leading shape), as JAX's default method.
 */
export function multivariateNormal(k: NDArray, mean: ArrayLike, cov: ArrayLike, shape?: number[], dtype?: DType): NDArray {
  checkKey("multivariateNormal", k);
  const m0 = asArray("random.multivariateNormal", mean, "float32", "mean"),
    c0 = asArray("random.multivariateNormal", cov, "float32", "cov");
  if (m0.ndim < 1) throw new ShapeError("random.multivariateNormal: mean needs at least one axis");
  const n = m0.shape[m0.ndim - 1]!;
  if (c0.ndim !== 2 || c0.shape[0] !== n || c0.shape[1] !== n) {
    throw new ShapeError(`random.multivariateNormal: cov must have shape [${n}, ${n}] to match mean [${m0.shape}], got [${c0.shape}]`);
  }
  const d = dtype === undefined ? (isFloat(m0.dtype) ? m0.dtype : "float32") : floatDType("multivariateNormal", dtype);
  const s = [...(shape === undefined ? m0.shape.slice(0, -1) : shapeArg("multivariateNormal", shape)), n];
  return staged(`multivariateNormal ${d} [${s}]`, [k, m0, c0], (key, mean, cov) => {
    const l = cholesky(lax.convert(cov, d));
    const z = normal(key, s, d);
    const lz = lax.dotGeneral(z, l, [[s.length - 1], [1]]);
    return lax.add(lax.broadcastTo(lax.convert(mean, d), s), lz);
  });
}

/**
 * A Haar-random n x n orthogonal matrix: the Q of z = QR (z standard normal) with R's diagonal made
 * positive, as JAX. Q comes from modified Gram–Schmidt over z's columns written with primitives,
 * which yields exactly that Q (the QR with a positive diagonal is unique).
 */
export function orthogonal(k: NDArray, n: number, shape: number[] = [], dtype?: DType): NDArray {
  checkKey("orthogonal", k);
  if (!Number.isSafeInteger(n) || n < 1) throw new ArgumentError(`random.orthogonal: n must be a positive integer, got ${describe(n)}`);
  const d = floatDType("orthogonal", dtype);
  const s = shapeArg("orthogonal", shape);
  return staged(`orthogonal ${d} ${n} [${s}]`, [k], (key) => orthonormalColumns(normal(key, [...s, n, n], d), s, n));
}

/** The Q of z = QR for the trailing [n, n] matrices of z (batch shape s), by modified Gram–Schmidt. */
function orthonormalColumns(z: NDArray, s: number[], n: number): NDArray {
  const b = s.length;
  const dims = range(b + 1);
  const col = (j: number) => lax.reshape(lax.sliceAxis(z, b + 1, j, j + 1), [...s, n]);
  const dot = (x: NDArray, y: NDArray) => lax.reduceSum(lax.mul(x, y), [b]);
  const bcast = (v: NDArray) => lax.broadcastInDim(v, [...s, n], range(b));
  const qs: NDArray[] = [];
  for (let j = 0; j < n; j++) {
    let v = col(j);
    for (const q of qs) v = lax.sub(v, lax.mul(q, bcast(dot(q, v))));
    qs.push(lax.div(v, bcast(lax.sqrt(dot(v, v)))));
  }
  return lax.concatenate(
    qs.map((q) => lax.broadcastInDim(q, [...s, n, 1], dims)),
    b + 1,
  );
}
