/**
 * Fast elementary functions for float32 data.
 *
 * Each function takes a float32 value (a JS number that Math.fround leaves unchanged) and returns a
 * float64 whose Math.fround is the float32 result, within 1 ulp of the correctly rounded value over
 * the whole float32 range (see test/codegen/fastmath.test.ts), with exact special cases (NaN, ±Inf,
 * ±0, overflow to Infinity, underflow to 0). They are evaluated in float64 arithmetic, so a
 * polynomial with relative error ~2^-28 or better leaves the float32 rounding as the only visible
 * error. They are NOT accurate enough for float64 data: use Math.* there.
 *
 * They are small, monomorphic and allocation-free so that V8 inlines them into the generated
 * elementwise loops: no closures over mutable state besides the constant tables and the one-slot
 * scratch view used by log. Each is 2.5-5x faster than the Math.* it replaces (bench figures in the
 * test file's header).
 *
 * Polynomial coefficients are minimax fits (Remez exchange in 60-digit arithmetic, minimising the
 * maximum *relative* error over the stated interval); the error figures quoted are those of the
 * fit, before float64 rounding, which adds ~2^-52.
 */

/** (v + ROUND) - ROUND rounds v to the nearest integer (ties to even) for |v| < 2^51. */
const ROUND = 6755399441055744; // 1.5 * 2^52

// ---------------------------------------------------------------------------------------------
// sin, cos: x = n π/2 + r with |r| <= π/2 (n even for sin, odd for cos), then one odd polynomial.
// ---------------------------------------------------------------------------------------------

const INV_PI = 0.3183098861837907;
/** π/2 truncated to 33 bits, so n * PIO2_HI is exact for |n| < 2^20 (we use |n| < 2^18). */
const PIO2_HI = 1.5707963267341256;
/** π/2 - PIO2_HI, rounded; the two-constant Cody–Waite reduction leaves an error < 2^-66 in r. */
const PIO2_LO = 6.077100506506192e-11;
/** Beyond ~1e5 π we fall back to Math.sin/Math.cos (also catches NaN and ±Infinity). */
const TRIG_MAX = 314159.25;
// sin(r) ≈ r (1 + r^2 (S3 + r^2 (S5 + r^2 (S7 + r^2 S9)))) on |r| <= π/2 + 0.01: max rel error 2^-27.2.
const S3 = -0.16666659169885104;
const S5 = 0.008333055695223981;
const S7 = -0.00019808781468589817;
const S9 = 2.6038712960490426e-6;

/** sin of a float32 value; Math.fround of the result is within 1 ulp of the float32 sin. */
export function sin32(x: number): number {
  if (!(Math.abs(x) <= TRIG_MAX)) return Math.sin(x);
  const k = x * INV_PI + ROUND - ROUND; // nearest integer to x/π
  const n = 2 * k;
  // sin(x) = (-1)^k sin(r); sin is odd, so flip r instead of the result.
  const r = (x - n * PIO2_HI - n * PIO2_LO) * (1 - 2 * ((k | 0) & 1));
  const z = r * r;
  return r * (1 + z * (S3 + z * (S5 + z * (S7 + z * S9)))); // r * (...) keeps sin(-0) = -0
}

/** cos of a float32 value; Math.fround of the result is within 1 ulp of the float32 cos. */
export function cos32(x: number): number {
  if (!(Math.abs(x) <= TRIG_MAX)) return Math.cos(x);
  const j = x * INV_PI - 0.5 + ROUND - ROUND; // nearest integer to x/π - 1/2
  const n = 2 * j + 1;
  // cos(x) = cos((j + 1/2) π + r) = (-1)^(j+1) sin(r)
  const r = (x - n * PIO2_HI - n * PIO2_LO) * (2 * ((j | 0) & 1) - 1);
  const z = r * r;
  return r * (1 + z * (S3 + z * (S5 + z * (S7 + z * S9)))); // r * (...) keeps sin(-0) = -0
}

// ---------------------------------------------------------------------------------------------
// exp family: x = (16 m + j) ln2/16 + r with |r| <= ln2/32, exp(x) = 2^m 2^(j/16) (1 + q(r)).
// ---------------------------------------------------------------------------------------------

const EXP_N_LN2 = 23.083120654223414; // 16 / ln 2
const EXP_LN2_N = 0.04332169878499658; // ln 2 / 16 (one constant: |k| < 2^12 keeps k * it within 2^-40 of exact)
/** 2^(j/16), j = 0..15. */
const EXP2_FRAC = new Float64Array(16);
for (let j = 0; j < 16; j++) EXP2_FRAC[j] = Math.pow(2, j / 16);
/** 2^m for m = -160..160 (index m + 160); the rest are 1s so that masked garbage indices are harmless. */
const POW2_BIAS = 160;
const POW2 = new Float64Array(512).fill(1);
for (let m = 0, p = 1; m <= POW2_BIAS; m++, p *= 2) {
  POW2[POW2_BIAS + m] = p;
  POW2[POW2_BIAS - m] = 1 / p;
}
// expm1(r) ≈ r (E1 + r (E2 + r (E3 + r E4))) on |r| <= 1.01 ln2/32: max rel error 2^-31.97.
const E1 = 0.99999999976182;
const E2 = 0.5000000002199939;
const E3 = 0.16667065153591312;
const E4 = 0.04166657674744017;

/** exp of a float32 value; Math.fround of the result is within 1 ulp of the float32 exp. */
export function exp32(x: number): number {
  // exp(89) overflows float32 and exp(-104.5) < 2^-150 rounds to 0; NaN passes through the clamp.
  const y = Math.max(-104.5, Math.min(x, 89));
  const k = y * EXP_N_LN2 + ROUND - ROUND;
  const r = y - k * EXP_LN2_N;
  const ki = k | 0;
  const t = EXP2_FRAC[ki & 15]! * POW2[(ki >> 4) + POW2_BIAS]!;
  return t + t * (r * (E1 + r * (E2 + r * (E3 + r * E4))));
}

/** expm1 of a float32 value; Math.fround of the result is within 1 ulp of the float32 expm1. */
export function expm1_32(x: number): number {
  // expm1(-18) rounds to -1 in float32, expm1(89) overflows.
  const y = Math.max(-18, Math.min(x, 89));
  const k = y * EXP_N_LN2 + ROUND - ROUND;
  const r = y - k * EXP_LN2_N;
  const ki = k | 0;
  const t = EXP2_FRAC[ki & 15]! * POW2[(ki >> 4) + POW2_BIAS]!;
  // -(1 - t) is t - 1 (exact for k != 0 by Sterbenz or harmless) but -0 for k = 0, so expm1(-0) = -0.
  return -(1 - t) + t * (r * (E1 + r * (E2 + r * (E3 + r * E4))));
}

/** tanh of a float32 value, as e / (e + 2) with e = expm1(2x): no cancellation near 0. */
export function tanh32(x: number): number {
  // tanh(±9.5) rounds to ±1 in float32.
  const y = 2 * Math.max(-9.5, Math.min(x, 9.5));
  const k = y * EXP_N_LN2 + ROUND - ROUND;
  const r = y - k * EXP_LN2_N;
  const ki = k | 0;
  const t = EXP2_FRAC[ki & 15]! * POW2[(ki >> 4) + POW2_BIAS]!;
  const e = -(1 - t) + t * (r * (E1 + r * (E2 + r * (E3 + r * E4))));
  return e / (e + 2);
}

/**
 * logistic(x) = 1 / (1 + exp(-x)). In float64 this is stable for both signs once exp(-x) is
 * kept finite: exp(-x) <= exp(105) makes the result < 2^-150 (rounds to 0), and exp(-x) >= exp(-18)
 * already rounds to 1.
 */
export function logistic32(x: number): number {
  const y = Math.max(-18, Math.min(-x, 105));
  const k = y * EXP_N_LN2 + ROUND - ROUND;
  const r = y - k * EXP_LN2_N;
  const ki = k | 0;
  const t = EXP2_FRAC[ki & 15]! * POW2[(ki >> 4) + POW2_BIAS]!;
  return 1 / (1 + (t + t * (r * (E1 + r * (E2 + r * (E3 + r * E4))))));
}

// ---------------------------------------------------------------------------------------------
// log family: x = 2^k z with z in [0.709, 1.418); z in one of 128 subintervals with centre c,
// log(x) = k ln2 + log(c) + log1p(z/c - 1), |z/c - 1| < 2^-8. The subinterval containing 1 has
// c = 1, so near x = 1 the reduced argument is exact and the relative error stays small.
// ---------------------------------------------------------------------------------------------

/** One-slot scratch view for reading the high word of a float64 (little-endian: word 1). */
const F64 = new Float64Array(1);
const I32 = new Int32Array(F64.buffer);
if (new Uint8Array(new Float64Array([1]).buffer)[7] !== 0x3f) throw new Error("fastmath: big-endian platforms are not supported");
const LN2 = 0.6931471805599453;
/** High word of the lower end of the reduced range (0.708984375); 1.0 sits mid-subinterval 74. */
const LOG_OFF = 0x3fe6b000;
const LOG_INVC = new Float64Array(128);
const LOG_C = new Float64Array(128);
{
  const val = (h: number) => (1 + (h & 0xfffff) / 0x100000) * Math.pow(2, (h >> 20) - 1023);
  for (let i = 0; i < 128; i++) {
    const lo = val(LOG_OFF + i * 0x2000), hi = val(LOG_OFF + (i + 1) * 0x2000);
    const invc = lo <= 1 && 1 < hi ? 1 : 2 / (lo + hi);
    LOG_INVC[i] = invc;
    LOG_C[i] = -Math.log(invc) + 0; // log of the c that invc actually represents (+0, not -0, for c = 1)
  }
}
/**
 * Added to the result by sign-and-exponent field (high word >>> 20), so that special inputs need
 * no branch (a branch with a slow call makes V8 spill the loop's accumulators): +0 and -0 give
 * -Infinity, negative values NaN; +Infinity and NaN already come out of the polynomial as such.
 * For those inputs the table indices below are garbage but in range, hence the & 511.
 */
const LOG_SPECIAL = new Float64Array(4096);
LOG_SPECIAL.fill(NaN, 2048);
LOG_SPECIAL[0] = LOG_SPECIAL[2048] = -Infinity;
// log1p(r) ≈ r (L1 + r (L2 + r L3)) on [-0.00388, 0.00391]: max rel error 2^-28.0.
const L1 = 1.000000000038794;
const L2 = -0.5000028443680471;
const L3 = 0.3333248112903761;

/** log of a float32 value; Math.fround of the result is within 1 ulp of the float32 log. */
export function log32(x: number): number {
  F64[0] = x;
  const hi = I32[1]!;
  const t = (hi - LOG_OFF) | 0;
  const k = t >> 20;
  const i = (t >> 13) & 127;
  const r = x * POW2[(POW2_BIAS - k) & 511]! * LOG_INVC[i]! - 1; // x 2^-k / c - 1
  return k * LN2 + LOG_C[i]! + r * (L1 + r * (L2 + r * L3)) + LOG_SPECIAL[hi >>> 20]!;
}

/** log1p of a float32 value; Math.fround of the result is within 1 ulp of the float32 log1p. */
export function log1p32(x: number): number {
  // log1p(x) rounds to x for |x| < 2^-29 (also keeps ±0); beyond, 1 + x is exact in float64.
  if (Math.abs(x) < 1.862645149230957e-9) return x;
  const u = 1 + x;
  F64[0] = u;
  const hi = I32[1]!;
  const t = (hi - LOG_OFF) | 0;
  const k = t >> 20;
  const i = (t >> 13) & 127;
  const r = u * POW2[(POW2_BIAS - k) & 511]! * LOG_INVC[i]! - 1;
  return k * LN2 + LOG_C[i]! + r * (L1 + r * (L2 + r * L3)) + LOG_SPECIAL[hi >>> 20]!;
}
