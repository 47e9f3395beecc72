/**
 * `scipy.special` and `scipy.stats` (JAX's jax.scipy.*): special functions and log-densities,
 * composed from primitives so every transform applies. The special functions are written for
 * float64 accuracy (about 1e-14 relative) and used as they are in float32:
 * - erf: its Taylor series for |x| < 2, and erfc's continued fraction beyond;
 * - gammaln: the recurrence up to x >= 8, then Stirling's series; reflection below 1/2;
 * - digamma: the same shift and the asymptotic series (its derivative, the trigamma function,
 *   follows by differentiating the composition);
 * - erfinv: Newton's method on erf from a closed-form first guess. The converged value is held
 *   constant and two more Newton steps are taken on it as live operations: each step adds one
 *   correct order of derivatives, so first and second derivatives are exact.
 * Each branch gets inputs that are safe for it, so no NaN of the branch not taken reaches a derivative.
 * Called eagerly, each function (and each density) runs as one cached compiled program (`staged`),
 * as JAX jits its own: eagerly, every one of its hundreds of primitives would be a kernel call with
 * a full-size result (erfinv of 65,536 floats took 184 ms that way, 12 ms as a program).
 */
import { ArgumentError, ShapeError, describe, naming } from "./core/errors.js";
import * as lax from "./core/lax.js";
import type { NDArray } from "./core/ndarray.js";
import { checkOptionsObject } from "./core/options.js";
import { broadcastShapes, fmtShape, shapeEq } from "./core/shape.js";
import { type ArrayLike, asArray, promoteAndBroadcast, promoteTogether, toFloat } from "./np/base.js";
import { staged } from "./core/staged.js";

const SQRT_PI = Math.sqrt(Math.PI);
const LOG_SQRT_2PI = 0.5 * Math.log(2 * Math.PI);
const k = (like: NDArray, v: number): NDArray => lax.fill(like, v);
const sel = (cond: NDArray, a: NDArray, b: NDArray): NDArray => lax.selectN(cond, b, a);
const fl = (fn: string, x: ArrayLike, arg = "x"): NDArray => toFloat(asArray(fn, x, undefined, arg));
/** Float operands promoted together and broadcast. */
const fls = (fn: string, xs: ArrayLike[], names: string[]): NDArray[] => promoteAndBroadcast(fn, xs, "float32", names);
/** Operands broadcast to one shape: inside a staged body, where a broadcast costs nothing. */
function together(fn: string, xs: readonly NDArray[]): NDArray[] {
  let shape = xs[0]!.shape;
  for (const x of xs) shape = broadcastShapes(fn, shape, x.shape);
  return xs.map((x) => lax.broadcastTo(x, shape));
}
/**
 * `body` of float operands promoted together, as one cached compiled program when called eagerly
 * (`staged`; its key is `fn` with `statics`, the values `body` closes over), traced inline under
 * transforms. The operands are broadcast inside the program.
 */
function specialFn(fn: string, xs: ArrayLike[], names: string[], body: (...a: NDArray[]) => NDArray, statics = ""): NDArray {
  return staged(`${fn}${statics}`, promoteTogether(fn, xs, "float32", names), (...a) => body(...together(fn, a)));
}
/** Horner's rule: c[0] + t (c[1] + t (c[2] + ...)). */
const horner = (t: NDArray, c: readonly number[]): NDArray =>
  c.slice(0, -1).reduceRight((acc, ci) => lax.add(lax.mul(acc, t), k(t, ci)), k(t, c[c.length - 1]!));

/** erf(x) 2/√π Σ (-1)^n x^(2n+1) / (n! (2n+1)), coefficients as a polynomial in x². */
const ERF_TAYLOR: number[] = (() => {
  const c: number[] = [];
  let f = 1;
  for (let n = 0; n <= 28; n++) {
    if (n > 0) f *= n;
    c.push((n % 2 ? -1 : 1) / (f * (2 * n + 1)) / (SQRT_PI / 2));
  }
  return c;
})();
/** The continued fraction z + (1/2)/(z + 1/(z + (3/2)/(z + ...))) of erfc(z) = exp(-z²) / (√π CF(z)), for z >= 2. */
function erfcFraction(z: NDArray): NDArray {
  let f = z;
  for (let j = 40; j >= 1; j--) f = lax.add(z, lax.div(k(z, j / 2), f));
  return f;
}
const SPLIT = 2;

/** erfc(x) for x >= 0 and log erfc(x), each branch on safe inputs. */
function erfcParts(x: NDArray): { small: NDArray; near: NDArray; farZ: NDArray } {
  const small = lax.lt(lax.abs(x), k(x, SPLIT));
  const near = sel(small, x, k(x, 0));
  const farZ = sel(small, k(x, SPLIT), lax.abs(x));
  return { small, near, farZ };
}
const erfSeries = (x: NDArray): NDArray => lax.mul(x, horner(lax.mul(x, x), ERF_TAYLOR));
const erfcFar = (z: NDArray): NDArray => lax.div(lax.exp(lax.neg(lax.mul(z, z))), lax.mul(k(z, SQRT_PI), erfcFraction(z)));
const logErfcFar = (z: NDArray): NDArray => lax.sub(lax.neg(lax.mul(z, z)), lax.add(k(z, Math.log(SQRT_PI)), lax.log(erfcFraction(z))));

/** The error function 2/√π ∫₀ˣ exp(-t²) dt. */
export function erf(x: ArrayLike): NDArray {
  return specialFn("scipy.special.erf", [x], ["x"], erfOf);
}
function erfOf(a: NDArray): NDArray {
  const { small, near, farZ } = erfcParts(a);
  const far = lax.mul(lax.sign(lax.stopGradient(a)), lax.sub(k(a, 1), erfcFar(farZ)));
  return sel(small, erfSeries(near), far);
}
/** The complementary error function 1 - erf(x), accurate in the right tail. */
export function erfc(x: ArrayLike): NDArray {
  return specialFn("scipy.special.erfc", [x], ["x"], erfcOf);
}
function erfcOf(a: NDArray): NDArray {
  const { small, near, farZ } = erfcParts(a);
  const tail = erfcFar(farZ);
  const far = sel(lax.gt(a, k(a, 0)), tail, lax.sub(k(a, 2), tail));
  return sel(small, lax.sub(k(a, 1), erfSeries(near)), far);
}
/** log erfc(x), accurate far in the right tail (where erfc underflows). */
function logErfc(a: NDArray): NDArray {
  const farRight = lax.ge(a, k(a, SPLIT));
  const z = sel(farRight, a, k(a, SPLIT));
  const rest = sel(farRight, k(a, 0), a);
  return sel(farRight, logErfcFar(z), lax.log(erfcOf(rest)));
}

/** The inverse of erf on (-1, 1); ±inf at ±1, NaN beyond. Derivative √π/2 exp(erfinv(y)²). */
export function erfinv(y: ArrayLike): NDArray {
  return specialFn("scipy.special.erfinv", [y], ["y"], erfinvOf);
}
function erfinvOf(a: NDArray): NDArray {
  const edge = lax.ge(lax.abs(a), k(a, 1));
  const ys = sel(edge, k(a, 0), a);
  // First guess (Winitzki): sign(y) sqrt(sqrt(b² - l/c) - b), b = 2/(πc) + l/2, l = log(1 - y²), c = 0.147.
  const y0 = lax.stopGradient(ys);
  const l = lax.log1p(lax.neg(lax.mul(y0, y0)));
  const c = 0.147;
  const b = lax.add(k(l, 2 / (Math.PI * c)), lax.mul(l, k(l, 0.5)));
  let x = lax.mul(lax.sign(y0), lax.sqrt(lax.sub(lax.sqrt(lax.sub(lax.mul(b, b), lax.div(l, k(l, c)))), b)));
  const newton = (t: NDArray, target: NDArray) => lax.add(t, lax.mul(lax.sub(target, erfOf(t)), lax.mul(k(t, SQRT_PI / 2), lax.exp(lax.mul(t, t)))));
  for (let i = 0; i < 3; i++) x = newton(x, y0);
  x = lax.stopGradient(x);
  for (let i = 0; i < 2; i++) x = newton(x, ys);
  const atOne = lax.mul(lax.sign(a), k(a, Infinity));
  return sel(edge, sel(lax.eq(lax.abs(a), k(a, 1)), atOne, k(a, NaN)), x);
}

const STIRLING = [1 / 12, -1 / 360, 1 / 1260, -1 / 1680, 1 / 1188, -691 / 360360, 1 / 156];
/** log Γ(z) for z >= 8: (z - 1/2) log z - z + log √(2π) + Σ B₂ₖ / (2k(2k-1) z^(2k-1)). */
function lgammaStirling(z: NDArray): NDArray {
  const inv = lax.div(k(z, 1), z);
  const series = lax.mul(inv, horner(lax.mul(inv, inv), STIRLING));
  return lax.add(lax.sub(lax.mul(lax.sub(z, k(z, 0.5)), lax.log(z)), z), lax.add(k(z, LOG_SQRT_2PI), series));
}
/** log Γ(x) for x >= 1/2: shift up by 8 when x < 8 (log Γ(x) = log Γ(x + 8) - Σ log(x + j)). */
function lgammaPos(x: NDArray): NDArray {
  const low = lax.lt(x, k(x, 8));
  const xl = sel(low, x, k(x, 1));
  let shift = lax.log(xl);
  for (let j = 1; j < 8; j++) shift = lax.add(shift, lax.log(lax.add(xl, k(x, j))));
  const z = sel(low, lax.add(xl, k(x, 8)), x);
  return lax.sub(lgammaStirling(z), sel(low, shift, k(x, 0)));
}
/** log |Γ(x)|; reflection log(π / |sin πx|) - log Γ(1 - x) below 1/2; +inf at the poles 0, -1, -2, ... */
export function gammaln(x: ArrayLike): NDArray {
  return specialFn("scipy.special.gammaln", [x], ["x"], gammalnOf);
}
function gammalnOf(a: NDArray): NDArray {
  const refl = lax.lt(a, k(a, 0.5));
  const pos = lgammaPos(sel(refl, k(a, 1), a));
  const xr = sel(refl, a, k(a, 0.25));
  const s = lax.abs(lax.sin(lax.mul(k(a, Math.PI), lax.sub(xr, lax.floor(lax.stopGradient(xr))))));
  const reflected = lax.sub(lax.sub(k(a, Math.log(Math.PI)), lax.log(s)), lgammaPos(lax.sub(k(a, 1), xr)));
  const pole = lax.and(refl, lax.eq(a, lax.floor(a)));
  return sel(pole, k(a, Infinity), sel(refl, reflected, pos));
}
/** Γ(x) = sign · exp(gammaln(x)); negative on (-1, 0), (-3, -2), ... */
export function gamma(x: ArrayLike): NDArray {
  return specialFn("scipy.special.gamma", [x], ["x"], gammaOf);
}
function gammaOf(a: NDArray): NDArray {
  const fa = lax.floor(lax.stopGradient(a));
  const odd = lax.eq(lax.sub(fa, lax.mul(lax.floor(lax.mul(fa, k(fa, 0.5))), k(fa, 2))), k(fa, 1));
  const neg = lax.and(lax.lt(a, k(a, 0)), odd);
  const m = lax.exp(gammalnOf(a));
  return sel(neg, lax.neg(m), m);
}

const DIGAMMA = [-1 / 12, 1 / 120, -1 / 252, 1 / 240, -1 / 132, 691 / 32760, -1 / 12];
/** ψ(x) for x >= 1/2: shift by 8, then log z - 1/(2z) - Σ B₂ₖ / (2k z^(2k)). */
function digammaPos(x: NDArray): NDArray {
  const low = lax.lt(x, k(x, 8));
  const xl = sel(low, x, k(x, 1));
  let shift = lax.div(k(x, 1), xl);
  for (let j = 1; j < 8; j++) shift = lax.add(shift, lax.div(k(x, 1), lax.add(xl, k(x, j))));
  const z = sel(low, lax.add(xl, k(x, 8)), x);
  const inv2 = lax.div(k(z, 1), lax.mul(z, z));
  const asym = lax.sub(lax.sub(lax.log(z), lax.div(k(z, 0.5), z)), lax.mul(lax.neg(inv2), horner(inv2, DIGAMMA)));
  return lax.sub(asym, sel(low, shift, k(x, 0)));
}
/** The digamma function ψ = (log Γ)'; reflection ψ(1 - x) - π / tan(πx) below 1/2; NaN at the poles. */
export function digamma(x: ArrayLike): NDArray {
  return specialFn("scipy.special.digamma", [x], ["x"], digammaOf);
}
function digammaOf(a: NDArray): NDArray {
  const refl = lax.lt(a, k(a, 0.5));
  const pos = digammaPos(sel(refl, k(a, 1), a));
  const xr = sel(refl, a, k(a, 0.25));
  const px = lax.mul(k(a, Math.PI), lax.sub(xr, lax.floor(lax.stopGradient(xr))));
  const reflected = lax.sub(digammaPos(lax.sub(k(a, 1), xr)), lax.div(lax.mul(k(a, Math.PI), lax.cos(px)), lax.sin(px)));
  const pole = lax.and(refl, lax.eq(a, lax.floor(a)));
  return sel(pole, k(a, NaN), sel(refl, reflected, pos));
}

/** x log y, 0 where x = 0 (even for y = 0). */
export function xlogy(x: ArrayLike, y: ArrayLike): NDArray {
  return specialFn("scipy.special.xlogy", [x, y], ["x", "y"], xlogyOf);
}
function xlogyOf(a: NDArray, b: NDArray): NDArray {
  const z = lax.eq(a, k(a, 0));
  return sel(z, k(a, 0), lax.mul(a, lax.log(sel(z, k(b, 1), b))));
}
/** x log(1 + y), 0 where x = 0. */
export function xlog1py(x: ArrayLike, y: ArrayLike): NDArray {
  return specialFn("scipy.special.xlog1py", [x, y], ["x", "y"], xlog1pyOf);
}
function xlog1pyOf(a: NDArray, b: NDArray): NDArray {
  const z = lax.eq(a, k(a, 0));
  return sel(z, k(a, 0), lax.mul(a, lax.log1p(sel(z, k(b, 0), b))));
}
/** -x log x (0 at 0, -inf below). */
export function entr(x: ArrayLike): NDArray {
  return specialFn("scipy.special.entr", [x], ["x"], entrOf);
}
function entrOf(a: NDArray): NDArray {
  const z = lax.eq(a, k(a, 0));
  const v = lax.neg(lax.mul(a, lax.log(sel(z, k(a, 1), a))));
  return sel(lax.lt(a, k(a, 0)), k(a, -Infinity), sel(z, k(a, 0), v));
}
/** log(p / (1 - p)). */
export const logit = (p: ArrayLike): NDArray => specialFn("scipy.special.logit", [p], ["p"], (a) => lax.sub(lax.log(a), lax.log1p(lax.neg(a))));
/** The logistic sigmoid 1 / (1 + exp(-x)). */
export const expit = (x: ArrayLike): NDArray => lax.logistic(fl("scipy.special.expit", x));

/** Options of the axis-wise special functions (as np.sum). */
export interface AxisOptions {
  axis?: number | number[] | null;
  keepdims?: boolean;
}
/** Normalised axes. */
function axesOf(
  fn: string,
  a: NDArray,
  arg: AxisOptions | number | number[] | null | undefined,
  known = ["axis", "keepdims"],
): { axes: number[]; keepdims: boolean } {
  const o = typeof arg === "object" && arg !== null && !Array.isArray(arg) ? checkOptionsObject(fn, arg, known) : { axis: arg };
  const ax = o.axis === null || o.axis === undefined ? a.shape.map((_, d) => d) : typeof o.axis === "number" ? [o.axis] : o.axis;
  if (!Array.isArray(ax)) throw new ArgumentError(`${fn}: axis must be an integer, a list of integers or null, got ${describe(o.axis)}`);
  const axes = ax.map((d) => {
    if (!Number.isSafeInteger(d) || d < -a.ndim || d >= a.ndim)
      throw new ShapeError(`${fn}: axis ${describe(d)} is out of range for shape ${fmtShape(a.shape)}`);
    return d < 0 ? d + a.ndim : d;
  });
  return { axes: [...new Set(axes)].sort((p, q) => p - q), keepdims: (o as AxisOptions).keepdims ?? false };
}
const kept = (shape: readonly number[], axes: number[]) => shape.map((n, d) => (axes.includes(d) ? 1 : n));

/**
 * log Σ b exp(a) over the axes, stably: the max is subtracted (as a constant for the derivative)
 * and added back. `scipy.special.logsumexp(a, { axis, keepdims, b })`.
 */
export function logsumexp(a: ArrayLike, options: (AxisOptions & { b?: ArrayLike }) | number | number[] | null = {}): NDArray {
  const fn = "scipy.special.logsumexp";
  const x = fl(fn, a, "a");
  const { axes, keepdims } = axesOf(fn, x, options, ["axis", "keepdims", "b"]);
  const bIn = typeof options === "object" && options !== null && !Array.isArray(options) ? options.b : undefined;
  const b = bIn === undefined ? [] : [lax.convert(asArray(fn, bIn, x.dtype, "b"), x.dtype)];
  return staged(`${fn} ${axes} ${keepdims} ${b.length}`, [x, ...b], (v, w) => logsumexpOf(v, axes, keepdims, w));
}
function logsumexpOf(x: NDArray, axes: number[], keepdims: boolean, b?: NDArray): NDArray {
  const m = lax.stopGradient(lax.reduceMax(x, axes));
  const mk = lax.reshape(m, kept(x.shape, axes));
  const finite = lax.eq(lax.sub(mk, mk), k(mk, 0));
  const shift = lax.broadcastTo(sel(finite, mk, k(mk, 0)), x.shape);
  let e = lax.exp(lax.sub(x, shift));
  if (b !== undefined) e = lax.mul(e, lax.broadcastTo(b, x.shape));
  const out = lax.add(lax.log(lax.reduceSum(e, axes)), lax.reshape(sel(finite, mk, k(mk, 0)), m.shape));
  return keepdims ? lax.reshape(out, kept(x.shape, axes)) : out;
}
/** exp(x) / Σ exp(x) over the axes (the last by default). */
export function softmax(x: ArrayLike, options: AxisOptions | number | number[] = { axis: -1 }): NDArray {
  const fn = "scipy.special.softmax";
  const a = fl(fn, x);
  const { axes } = axesOf(fn, a, options);
  return staged(`${fn} ${axes}`, [a], (v) => lax.exp(logSoftmaxOf(v, axes)));
}
/** x - logsumexp(x) over the axes (the last by default). */
export function logSoftmax(x: ArrayLike, options: AxisOptions | number | number[] = { axis: -1 }): NDArray {
  const fn = "scipy.special.logSoftmax";
  const a = fl(fn, x);
  const { axes } = axesOf(fn, a, options);
  return staged(`${fn} ${axes}`, [a], (v) => logSoftmaxOf(v, axes));
}
const logSoftmaxOf = (a: NDArray, axes: number[]): NDArray => lax.sub(a, lax.broadcastTo(logsumexpOf(a, axes, true), a.shape));

/** The standard normal CDF Φ(x) = erfc(-x/√2) / 2. */
export const ndtr = (x: ArrayLike): NDArray => specialFn("scipy.special.ndtr", [x], ["x"], ndtrOf);
const ndtrOf = (a: NDArray): NDArray => lax.mul(k(a, 0.5), erfcOf(lax.mul(a, k(a, -Math.SQRT1_2))));
/** log Φ(x), accurate far in the left tail. */
export const logNdtr = (x: ArrayLike): NDArray => specialFn("scipy.special.logNdtr", [x], ["x"], logNdtrOf);
const logNdtrOf = (a: NDArray): NDArray => lax.add(k(a, Math.log(0.5)), logErfc(lax.mul(a, k(a, -Math.SQRT1_2))));
/** The standard normal quantile Φ⁻¹(p) = √2 erfinv(2p - 1). */
export const ndtri = (p: ArrayLike): NDArray => specialFn("scipy.special.ndtri", [p], ["p"], ndtriOf);
const ndtriOf = (a: NDArray): NDArray => lax.mul(k(a, Math.SQRT2), erfinvOf(lax.sub(lax.mul(a, k(a, 2)), k(a, 1))));
/** log B(a, b) = gammaln(a) + gammaln(b) - gammaln(a + b). */
export function betaln(a: ArrayLike, b: ArrayLike): NDArray {
  return specialFn("scipy.special.betaln", [a, b], ["a", "b"], betalnOf);
}
const betalnOf = (x: NDArray, y: NDArray): NDArray => lax.sub(lax.add(gammalnOf(x), gammalnOf(y)), gammalnOf(lax.add(x, y)));
/** The multivariate log-gamma function of dimension d: d(d-1)/4 log π + Σⱼ gammaln(a + (1 - j)/2). */
export function multigammaln(a: ArrayLike, d: number): NDArray {
  if (!Number.isSafeInteger(d) || d < 1) throw new ArgumentError(`scipy.special.multigammaln: d must be a positive integer, got ${describe(d)}`);
  return specialFn(
    "scipy.special.multigammaln",
    [a],
    ["a"],
    (x) => {
      let out = k(x, (d * (d - 1) * Math.log(Math.PI)) / 4);
      for (let j = 1; j <= d; j++) out = lax.add(out, gammalnOf(lax.add(x, k(x, (1 - j) / 2))));
      return out;
    },
    ` ${d}`,
  );
}

const BERNOULLI = [1 / 6, -1 / 30, 1 / 42, -1 / 30, 5 / 66, -691 / 2730];
/**
 * The Hurwitz zeta function ζ(s, q) = Σₖ (q + k)^(-s) for s > 1, q > 0: nine terms summed, then
 * Euler-Maclaurin for the tail, z^(1-s)/(s-1) + z^(-s)/2 + Σⱼ B₂ⱼ/(2j)! s(s+1)...(s+2j-2) z^(-s-2j+1)
 * at z = q + 9.
 */
export function zeta(x: ArrayLike, q: ArrayLike): NDArray {
  return specialFn("scipy.special.zeta", [x, q], ["x", "q"], zetaOf);
}
function zetaOf(s: NDArray, qq: NDArray): NDArray {
  const N = 9;
  let sum = k(s, 0);
  for (let j = 0; j < N; j++) sum = lax.add(sum, lax.pow(lax.add(qq, k(qq, j)), lax.neg(s)));
  const z = lax.add(qq, k(qq, N));
  const zs = lax.pow(z, lax.neg(s));
  sum = lax.add(sum, lax.add(lax.div(lax.mul(z, zs), lax.sub(s, k(s, 1))), lax.mul(zs, k(zs, 0.5))));
  let rising = s;
  let zpow = lax.div(zs, z);
  let fact = 2;
  for (let j = 1; j <= BERNOULLI.length; j++) {
    sum = lax.add(sum, lax.mul(lax.mul(k(s, BERNOULLI[j - 1]! / fact), rising), zpow));
    rising = lax.mul(rising, lax.mul(lax.add(s, k(s, 2 * j - 1)), lax.add(s, k(s, 2 * j))));
    zpow = lax.div(zpow, lax.mul(z, z));
    fact *= (2 * j + 1) * (2 * j + 2);
  }
  return sum;
}
/** The polygamma function ψ⁽ⁿ⁾(x) for a static integer n >= 0: digamma for n = 0, else (-1)^(n+1) n! ζ(n + 1, x). */
export function polygamma(n: number, x: ArrayLike): NDArray {
  if (!Number.isSafeInteger(n) || n < 0 || n > 30)
    throw new ArgumentError(`scipy.special.polygamma: n must be an integer in [0, 30], got ${describe(n)}`);
  if (n === 0) return naming("scipy.special.polygamma", () => digamma(x));
  let f = 1;
  for (let i = 2; i <= n; i++) f *= i;
  return specialFn("scipy.special.polygamma", [x], ["x"], (a) => lax.mul(k(a, (n % 2 ? 1 : -1) * f), zetaOf(k(a, n + 1), a)), ` ${n}`);
}

/** Series terms and continued-fraction depth of the incomplete gamma functions: converged for a up to about 1500. */
const IGAMMA_TERMS = 400;
const IGAMMA_DEPTH = 200;

/**
 * The regularized incomplete gamma functions P(a, x) and Q(a, x) = 1 - P for a > 0, x >= 0 (NaN
 * outside). Below x = a + 1, P by its power series e^(a log x - x - log Γ(a+1)) Σ xⁿ / ((a+1)…(a+n));
 * above, Q by its continued fraction e^(a log x - x - log Γ(a)) / (x + 1 - a - 1(1-a)/(x + 3 - a - …)),
 * evaluated from the tail. Each branch sees inputs safe for it; derivatives in a and x come from
 * differentiating the composition.
 */
function incompleteGamma(a: NDArray, x: NDArray): { p: NDArray; q: NDArray } {
  const bad = lax.or(lax.not(lax.gt(a, k(a, 0))), lax.not(lax.ge(x, k(x, 0))));
  const zero = lax.eq(x, k(x, 0)),
    inf = lax.eq(x, k(x, Infinity));
  const series = lax.lt(x, lax.add(a, k(a, 1)));
  const aa = sel(bad, k(a, 1), a);
  // The series branch: 0 < x < a + 1 (x = 0 gives P = 0 below).
  const xs = sel(lax.and(series, lax.not(zero)), x, k(x, 0.5));
  const as = sel(series, aa, k(aa, 1));
  let t = k(xs, 1),
    sum = k(xs, 1);
  for (let n = 1; n < IGAMMA_TERMS; n++) {
    t = lax.mul(t, lax.div(xs, lax.add(as, k(as, n))));
    sum = lax.add(sum, t);
  }
  const pSeries = lax.mul(lax.exp(lax.sub(lax.sub(lax.mul(as, lax.log(xs)), xs), lgammaPos(lax.add(as, k(as, 1))))), sum);
  // The fraction branch: a + 1 <= x < inf.
  const xf = sel(lax.or(series, inf), lax.add(aa, k(aa, 2)), x);
  const af = sel(series, k(aa, 1), aa);
  let f = lax.add(lax.sub(xf, af), k(xf, 2 * IGAMMA_DEPTH + 1));
  for (let j = IGAMMA_DEPTH; j >= 1; j--) {
    const aj = lax.mul(k(af, -j), lax.sub(k(af, j), af));
    f = lax.add(lax.add(lax.sub(xf, af), k(xf, 2 * j - 1)), lax.div(aj, f));
  }
  const logPre = lax.sub(lax.sub(lax.mul(af, lax.log(xf)), xf), gammalnOf(af));
  const qFraction = lax.div(lax.exp(logPre), f);
  let p = sel(series, pSeries, lax.sub(k(qFraction, 1), qFraction));
  let q = sel(series, lax.sub(k(pSeries, 1), pSeries), qFraction);
  p = sel(zero, k(p, 0), sel(inf, k(p, 1), p));
  q = sel(zero, k(q, 1), sel(inf, k(q, 0), q));
  return { p: sel(bad, k(p, NaN), p), q: sel(bad, k(q, NaN), q) };
}

/**
 * The regularized lower incomplete gamma function P(a, x) = γ(a, x) / Γ(a), as jax.scipy.special.gammainc;
 * differentiable in both arguments.
 * @example scipy.special.gammainc(0.5, 2) // erf(√2) ≈ 0.9545
 */
export const gammainc = (a: ArrayLike, x: ArrayLike): NDArray =>
  specialFn("scipy.special.gammainc", [a, x], ["a", "x"], (p, q) => incompleteGamma(p, q).p);
/** The regularized upper incomplete gamma function Q(a, x) = 1 - P(a, x), accurate in the far tail. */
export const gammaincc = (a: ArrayLike, x: ArrayLike): NDArray =>
  specialFn("scipy.special.gammaincc", [a, x], ["a", "x"], (p, q) => incompleteGamma(p, q).q);

/** Where i0e switches from the power series to the asymptotic series. */
const I0E_SPLIT = 20;
/** Power-series coefficients of I0(x) in (x²/4): 1 / (k!)². */
const I0_SERIES = Array.from({ length: 60 }, (_, j) => {
  let f = 1;
  for (let i = 2; i <= j; i++) f *= i;
  return 1 / (f * f);
});
/** Asymptotic coefficients of √(2πx) e^-x I0(x) in 1/x: ((2k-1)!!)² / (k! 8^k). */
const I0_ASYMPTOTIC = Array.from({ length: 30 }, (_, j) => {
  let c = 1;
  for (let i = 1; i <= j; i++) c *= (2 * i - 1) ** 2 / (8 * i);
  return c;
});

/**
 * The exponentially scaled modified Bessel function of order 0, e^-|x| I0(x), as
 * jax.scipy.special.i0e: the power series Σ (x²/4)^k / (k!)² up to |x| = 20, the asymptotic
 * series beyond; each branch on safe inputs, so the derivative (i1e(x) - sign(x) i0e(x)) follows.
 * @example scipy.special.i0e(0) // 1
 */
export function i0e(x: ArrayLike): NDArray {
  return specialFn("scipy.special.i0e", [x], ["x"], (a) => {
    const ax = lax.abs(a);
    const near = lax.le(ax, k(a, I0E_SPLIT));
    const xn = sel(near, a, k(a, 1));
    const series = lax.mul(lax.exp(lax.neg(lax.abs(xn))), horner(lax.mul(k(xn, 0.25), lax.mul(xn, xn)), I0_SERIES));
    const xf = sel(near, k(a, 2 * I0E_SPLIT), ax);
    const far = lax.div(horner(lax.div(k(xf, 1), xf), I0_ASYMPTOTIC), lax.sqrt(lax.mul(k(xf, 2 * Math.PI), xf)));
    return sel(near, series, far);
  });
}

/** `scipy.special`. */
export const special = {
  i0e,
  gammainc,
  gammaincc,
  zeta,
  polygamma,
  erf,
  erfc,
  erfinv,
  gammaln,
  gamma,
  digamma,
  xlogy,
  xlog1py,
  entr,
  logit,
  expit,
  logsumexp,
  softmax,
  logSoftmax,
  ndtr,
  logNdtr,
  ndtri,
  betaln,
  multigammaln,
};

// ---- scipy.stats: log-densities of the everyday distributions (loc/scale positional, as JAX) ----
// Each log-density, density and distribution function runs as one staged program when called
// eagerly: its operands are promoted together outside and broadcast inside the program.

/** -inf outside the support. */
const support = (inside: NDArray, v: NDArray): NDArray => sel(inside, v, k(v, -Infinity));
/** exp of a log-density body: the density's body. */
const expOf =
  (logpdf: (...a: NDArray[]) => NDArray) =>
  (...a: NDArray[]): NDArray =>
    lax.exp(logpdf(...a));

type LocScale = (x: ArrayLike, loc?: ArrayLike, scale?: ArrayLike) => NDArray;
/** A location-scale family's logpdf and pdf from its log-density at z = (x - loc) / scale, given log scale. */
function locScale(name: string, logpdfAt: (z: NDArray, logScale: NDArray) => NDArray): { logpdf: LocScale; pdf: LocScale } {
  const logpdf = (x: NDArray, l: NDArray, s: NDArray) => logpdfAt(lax.div(lax.sub(x, l), s), lax.log(s));
  const make =
    (fn: string, body: (...a: NDArray[]) => NDArray): LocScale =>
    (x, loc = 0, scale = 1) =>
      specialFn(`scipy.stats.${name}.${fn}`, [x, loc, scale], ["x", "loc", "scale"], body);
  return { logpdf: make("logpdf", logpdf), pdf: make("pdf", expOf(logpdf)) };
}

const normal = locScale("norm", (z, logScale) => lax.sub(lax.mul(k(z, -0.5), lax.mul(z, z)), lax.add(k(z, LOG_SQRT_2PI), logScale)));
/** The normal distribution at z = (x - loc) / scale, through `f`. */
const normAt =
  (fn: string, f: (z: NDArray) => NDArray): LocScale =>
  (x, loc = 0, scale = 1) =>
    specialFn(`scipy.stats.norm.${fn}`, [x, loc, scale], ["x", "loc", "scale"], (a, l, s) => f(lax.div(lax.sub(a, l), s)));
/** The normal distribution: logpdf, pdf, cdf, logcdf, sf, ppf. */
export const norm = {
  ...normal,
  cdf: normAt("cdf", ndtrOf),
  logcdf: normAt("logcdf", logNdtrOf),
  sf: normAt("sf", (z) => ndtrOf(lax.neg(z))),
  ppf: (q: ArrayLike, loc: ArrayLike = 0, scale: ArrayLike = 1): NDArray =>
    specialFn("scipy.stats.norm.ppf", [q, loc, scale], ["q", "loc", "scale"], (p, l, s) => lax.add(l, lax.mul(s, ndtriOf(p)))),
};

const uniform = locScale("uniform", (z, logScale) => support(lax.and(lax.ge(z, k(z, 0)), lax.le(z, k(z, 1))), lax.neg(logScale)));
const expon = locScale("expon", (z, logScale) => support(lax.ge(z, k(z, 0)), lax.sub(lax.neg(z), logScale)));
const laplace = locScale("laplace", (z, logScale) => lax.sub(lax.neg(lax.abs(z)), lax.add(k(z, Math.LN2), logScale)));
/** log(1 + e^u), each side of 0 on its own safe input, so every derivative is right at 0 too. */
function softplus(u: NDArray): NDArray {
  const pos = lax.gt(u, k(u, 0));
  const up = sel(pos, u, k(u, 0)),
    un = sel(pos, k(u, 0), u);
  return sel(pos, lax.add(up, lax.log1p(lax.exp(lax.neg(up)))), lax.log1p(lax.exp(un)));
}
/** log of e^-z / (1 + e^-z)² = -z - 2 softplus(-z). */
const logistic = locScale("logistic", (z, logScale) => lax.sub(lax.sub(lax.neg(z), lax.mul(k(z, 2), softplus(lax.neg(z)))), logScale));
const cauchy = locScale("cauchy", (z, logScale) => lax.neg(lax.add(lax.add(k(z, Math.log(Math.PI)), logScale), lax.log1p(lax.mul(z, z)))));

type Shaped = (x: ArrayLike, shape: ArrayLike, loc?: ArrayLike, scale?: ArrayLike) => NDArray;
/** A family with one shape parameter before loc and scale: logpdf and pdf from the log-density of (x, shape, loc, scale). */
function shaped(
  name: string,
  shapeName: string,
  logpdf: (x: NDArray, a: NDArray, l: NDArray, s: NDArray) => NDArray,
): { logpdf: Shaped; pdf: Shaped } {
  const make =
    (fn: string, body: (...a: NDArray[]) => NDArray): Shaped =>
    (x, a, loc = 0, scale = 1) =>
      specialFn(`scipy.stats.${name}.${fn}`, [x, a, loc, scale], ["x", shapeName, "loc", "scale"], body);
  return { logpdf: make("logpdf", logpdf as (...a: NDArray[]) => NDArray), pdf: make("pdf", expOf(logpdf as (...a: NDArray[]) => NDArray)) };
}
/** Student's t: gammaln((ν+1)/2) - gammaln(ν/2) - log(νπ)/2 - (ν+1)/2 log1p(z²/ν). */
const studentT = shaped("t", "df", (x, nu, l, s) => {
  const z = lax.div(lax.sub(x, l), s);
  const h = lax.mul(lax.add(nu, k(nu, 1)), k(nu, 0.5));
  const c = lax.sub(lax.sub(gammalnOf(h), gammalnOf(lax.mul(nu, k(nu, 0.5)))), lax.mul(k(nu, 0.5), lax.log(lax.mul(nu, k(nu, Math.PI)))));
  return lax.sub(lax.sub(c, lax.log(s)), lax.mul(h, lax.log1p(lax.div(lax.mul(z, z), nu))));
});
/** Gamma(a) with loc/scale: (a - 1) log z - z - gammaln(a) - log scale on z >= 0. */
const gammaDist = shaped("gamma", "a", (x, a, l, s) => {
  const z = lax.div(lax.sub(x, l), s);
  const inside = lax.ge(z, k(z, 0));
  const zs = sel(inside, z, k(z, 1));
  return support(inside, lax.sub(lax.sub(lax.sub(xlogyOf(lax.sub(a, k(a, 1)), zs), zs), gammalnOf(a)), lax.log(s)));
});

type Two = (x: ArrayLike, a: ArrayLike, b: ArrayLike) => NDArray;
/** Beta(a, b) on [0, 1]: xlogy(a - 1, x) + xlog1py(b - 1, -x) - betaln(a, b). */
function betaLogpdf(x: NDArray, a: NDArray, b: NDArray): NDArray {
  const inside = lax.and(lax.ge(x, k(x, 0)), lax.le(x, k(x, 1)));
  const xs = sel(inside, x, k(x, 0.5));
  return support(inside, lax.sub(lax.add(xlogyOf(lax.sub(a, k(a, 1)), xs), xlog1pyOf(lax.sub(b, k(b, 1)), lax.neg(xs))), betalnOf(a, b)));
}
const betaFn =
  (fn: string, body: (...a: NDArray[]) => NDArray): Two =>
  (x, a, b) =>
    specialFn(`scipy.stats.beta.${fn}`, [x, a, b], ["x", "a", "b"], body);

type Pmf = (k: ArrayLike, p: ArrayLike) => NDArray;
/** A discrete family of one parameter: logpmf and pmf from the log-mass of (k, parameter). */
function discrete(name: string, param: string, logpmf: (x: NDArray, p: NDArray) => NDArray): { logpmf: Pmf; pmf: Pmf } {
  const make =
    (fn: string, body: (...a: NDArray[]) => NDArray): Pmf =>
    (x, p) =>
      specialFn(`scipy.stats.${name}.${fn}`, [x, p], ["k", param], body);
  return { logpmf: make("logpmf", logpmf as (...a: NDArray[]) => NDArray), pmf: make("pmf", expOf(logpmf as (...a: NDArray[]) => NDArray)) };
}
/** Bernoulli(p): xlogy(k, p) + xlog1py(1 - k, -p) for k in {0, 1}. */
const bernoulli = discrete("bernoulli", "p", (x, p) => {
  const inside = lax.or(lax.eq(x, k(x, 0)), lax.eq(x, k(x, 1)));
  return support(inside, lax.add(xlogyOf(x, p), xlog1pyOf(lax.sub(k(x, 1), x), lax.neg(p))));
});
/** Poisson(μ): xlogy(k, μ) - μ - gammaln(k + 1) for integers k >= 0. */
const poisson = discrete("poisson", "mu", (x, m) => {
  const inside = lax.and(lax.ge(x, k(x, 0)), lax.eq(x, lax.floor(x)));
  const xs = sel(inside, x, k(x, 0));
  return support(inside, lax.sub(lax.sub(xlogyOf(xs, m), m), gammalnOf(lax.add(xs, k(xs, 1)))));
});

type Dirichlet = (x: ArrayLike, alpha: ArrayLike) => NDArray;
/** Dirichlet(α) at x on the simplex (last axis): Σ (α - 1) log x + gammaln(Σ α) - Σ gammaln(α). */
function dirichletLogpdf(x: NDArray, al: NDArray): NDArray {
  const last = x.ndim - 1;
  const terms = lax.reduceSum(lax.sub(xlogyOf(lax.sub(al, k(al, 1)), x), gammalnOf(al)), [last]);
  return lax.add(terms, gammalnOf(lax.reduceSum(al, [last])));
}
const dirichletFn =
  (fn: string, body: (...a: NDArray[]) => NDArray): Dirichlet =>
  (x, alpha) => {
    const name = `scipy.stats.dirichlet.${fn}`;
    const ops = promoteTogether(name, [x, alpha], "float32", ["x", "alpha"]);
    if (ops.every((a) => a.ndim === 0)) throw new ShapeError(`${name}: x and alpha need a last axis (the simplex)`);
    return staged(name, ops, (...a) => body(...together(name, a)));
  };

/**
 * The lower Cholesky factor of symmetric positive-definite matrices (last two axes), by the
 * column-by-column recurrence written with primitives: O(n) steps, differentiable throughout.
 */
function cholesky(a: NDArray): NDArray {
  const n = a.shape[a.ndim - 1]!;
  const lead = a.shape.slice(0, -2);
  const r = lead.length;
  const col = (m: NDArray, j: number) => lax.sliceAxis(m, r + 1, j, j + 1); // [..., n, 1]
  const cols: NDArray[] = [];
  for (let j = 0; j < n; j++) {
    let c = col(a, j);
    for (let p = 0; p < j; p++) {
      const lp = cols[p]!;
      const ljp = lax.sliceAxis(lp, r, j, j + 1); // L[j, p]
      c = lax.sub(c, lax.mul(lp, lax.broadcastTo(ljp, c.shape)));
    }
    const d = lax.sqrt(lax.sliceAxis(c, r, j, j + 1));
    const mask = lax.full([n, 1], 0, a.dtype);
    for (let i = j; i < n; i++) mask.values[i] = 1;
    cols.push(lax.mul(lax.div(c, lax.broadcastTo(d, c.shape)), lax.broadcastTo(mask, c.shape)));
  }
  return lax.concatenate(cols, r + 1);
}
/** Solves L y = b for lower-triangular L (forward substitution), b of shape [..., n]. */
function forwardSolve(l: NDArray, b: NDArray): NDArray {
  const n = l.shape[l.ndim - 1]!;
  const r = l.ndim - 2;
  const ys: NDArray[] = [];
  for (let i = 0; i < n; i++) {
    let s = lax.sliceAxis(b, r, i, i + 1);
    for (let j = 0; j < i; j++) s = lax.sub(s, lax.mul(lax.reshape(lax.sliceAxis(lax.sliceAxis(l, r, i, i + 1), r + 1, j, j + 1), s.shape), ys[j]!));
    ys.push(lax.div(s, lax.reshape(lax.sliceAxis(lax.sliceAxis(l, r, i, i + 1), r + 1, i, i + 1), s.shape)));
  }
  return lax.concatenate(ys, r);
}
/** Multivariate normal log-density at x ([..., n]) for mean ([n] or broadcast) and covariance ([n, n] or batched). */
function mvn(suffix: "logpdf" | "pdf") {
  return (x: ArrayLike, mean: ArrayLike, cov: ArrayLike): NDArray => {
    const fn = `scipy.stats.multivariateNormal.${suffix}`;
    const [xx] = fls(fn, [x], ["x"]);
    const m = lax.convert(fl(fn, mean, "mean"), xx!.dtype);
    const c = lax.convert(fl(fn, cov, "cov"), xx!.dtype);
    const n = xx!.shape[xx!.ndim - 1];
    if (n === undefined || c.ndim < 2 || c.shape[c.ndim - 1] !== n || c.shape[c.ndim - 2] !== n)
      throw new ShapeError(`${fn}: x ${fmtShape(xx!.shape)} needs a last axis of size n and cov a trailing [n, n], got cov ${fmtShape(c.shape)}`);
    if (!shapeEq(broadcastShapes(fn, m.shape, xx!.shape), xx!.shape))
      throw new ShapeError(`${fn}: mean ${fmtShape(m.shape)} does not broadcast to x's ${fmtShape(xx!.shape)}`);
    return staged(fn, [xx!, m, c], suffix === "logpdf" ? mvnLogpdf : expOf(mvnLogpdf));
  };
}
function mvnLogpdf(xx: NDArray, m: NDArray, c: NDArray): NDArray {
  const n = xx.shape[xx.ndim - 1]!;
  const d = lax.sub(xx, lax.broadcastTo(m, xx.shape));
  const lead = d.shape.slice(0, -1);
  const l = cholesky(c);
  const lb = lax.broadcastTo(l, [...lead, n, n]);
  const y = forwardSolve(lb, d);
  const maha = lax.reduceSum(lax.mul(y, y), [y.ndim - 1]);
  const diag = lax.concatenate(
    Array.from({ length: n }, (_, i) => lax.sliceAxis(lax.sliceAxis(l, l.ndim - 2, i, i + 1), l.ndim - 1, i, i + 1)),
    l.ndim - 1,
  );
  const logdet = lax.broadcastTo(lax.reduceSum(lax.log(lax.reshape(diag, [...l.shape.slice(0, -2), n])), [l.ndim - 2]), maha.shape);
  return lax.sub(lax.mul(k(maha, -0.5), maha), lax.add(logdet, k(maha, n * LOG_SQRT_2PI)));
}

/** `scipy.stats`: log-densities (and densities) of the everyday distributions. */
export const stats = {
  norm,
  multivariateNormal: { logpdf: mvn("logpdf"), pdf: mvn("pdf") },
  uniform,
  expon,
  laplace,
  logistic,
  cauchy,
  t: studentT,
  gamma: gammaDist,
  beta: { logpdf: betaFn("logpdf", betaLogpdf), pdf: betaFn("pdf", expOf(betaLogpdf)) },
  bernoulli,
  poisson,
  dirichlet: { logpdf: dirichletFn("logpdf", dirichletLogpdf), pdf: dirichletFn("pdf", expOf(dirichletLogpdf)) },
};
