/**
 * Fast elementary functions for float32 data.
 *
 * Each function takes a float32 value (a JS number that Math.fround leaves unchanged) and returns a
 * float64 whose Math.fround is the float32 result: within 1 ulp of Math.fround(Math.f(x)) for every
 * float32 x (checked exhaustively over all 2^32 inputs by `npm run check:fastmath`;
 * test/codegen/fastmath.test.ts checks <= 2 ulp on random and hard-spot grids), with exact special
 * cases (NaN, ±Infinity, ±0, overflow to Infinity, underflow to 0) after Math.fround. The float64
 * value itself may differ from the exact one by ~2^-27 relative (e.g. exp32(Infinity) is a huge
 * finite number that rounds to Infinity), so these are for float32 results only: use Math.* for
 * float64 data.
 *
 * They are small, monomorphic and allocation-free so that V8 inlines them into generated loops;
 * the only module state is constant tables and the one-slot scratch view used by log. Polynomials
 * are evaluated with Estrin's scheme where it shortens the dependency chain: in a fused loop that
 * chains several of these (sum(exp(sin(x) * 2 + 1))) the chain latency, not the op count, limits.
 * Special inputs are handled without branches where possible (clamps, a lookup table), because a
 * branch to a slow call inside a hot loop makes V8 spill the loop's accumulator.
 *
 * Polynomial coefficients are minimax fits (Remez exchange in 60-digit arithmetic, minimising the
 * maximum *relative* error over the stated interval); the error figures quoted are those of the
 * fit, before float64 rounding, which adds ~2^-52.
 *
 * ns/element over 1e6 float32 values (`s += f(x[i])`, best of 4 x 40 runs, Node 20 / V8 11.3, 2-core
 * AMD EPYC; the `out[i] = Math.fround(f(x[i]))` form is ~0.3 ns slower for both):
 *   sin32 3.4 (Math.sin 22.2)         cos32 3.5 (Math.cos 23.1)       exp32 2.1 (Math.exp 9.2)
 *   expm1_32 2.5 (Math.expm1 12.6)    tanh32 3.6 (Math.tanh 18.3)     log32 2.5 (Math.log 6.9)
 *   logistic32 2.7 (two-sided 1/(1+exp) 14.7)                         log1p32 2.8 (Math.log1p 14.6)
 * Each is ~180 bytes of bytecode: V8 inlines at most ~920 bytes cumulatively into one optimized
 * function, so a generated function can inline about five of these; a sixth is called (boxed)
 * and costs ~15 ns more per element.
 */

/** (v + ROUND) - ROUND rounds v to the nearest integer (ties to even) for |v| < 2^51. */
const ROUND = 6755399441055744; // 1.5 * 2^52

// ---------------------------------------------------------------------------------------------
// sin, cos: x = n π/2 + r with |r| <= π/2 (n even for sin, odd for cos), then one odd polynomial
// for sin(r) on [-π/2, π/2]: no quadrant branches, only a sign flip.
// ---------------------------------------------------------------------------------------------

const INV_PI = 0.3183098861837907;
/** π/2 truncated to 33 bits, so n * PIO2_HI is exact for |n| < 2^20 (we use |n| < 2^18). */
const PIO2_HI = 1.5707963267341256;
/** π/2 - PIO2_HI, rounded; the two-constant Cody–Waite reduction leaves an error < 2^-66 in r. */
const PIO2_LO = 6.077100506506192e-11;
/** 2 PIO2_HI and 2 PIO2_LO (exact doubles), so k * PI_HI == (2k) * PIO2_HI bit for bit. */
const PI_HI = 3.1415926534682512;
const PI_LO = 1.2154201013012384e-10;
/** Beyond ~1e5 π we fall back to Math.sin/Math.cos (also catches NaN and ±Infinity). */
const TRIG_MAX = 314159.25;
// sin(r) ≈ r (1 + z S3 + z^2 (S5 + z S7 + z^2 S9)), z = r^2, on |r| <= π/2 + 0.01: max rel error 2^-27.2.
// (Estrin's scheme: in a fused loop the latency of the chain, not the op count, is what limits.)
const S3 = -0.16666659169885104;
const S5 = 0.008333055695223981;
const S7 = -0.00019808781468589817;
const S9 = 2.6038712960490426e-6;

/** sin of a float32 value; Math.fround of the result is within 1 ulp of the float32 sin. */
export function sin32(x: number): number {
  if (!(Math.abs(x) <= TRIG_MAX)) return Math.sin(x);
  const k = x * INV_PI + ROUND - ROUND; // nearest integer to x/π
  const r = x - k * PI_HI - k * PI_LO; // |r| <= π/2
  const z = r * r;
  const z2 = z * z;
  // sin(x) = (-1)^k sin(r); r * (1 + ...) rather than r + r z (...) keeps sin(-0) = -0.
  return r * (1 - 2 * ((k | 0) & 1)) * (1 + z * S3 + z2 * (S5 + z * S7 + z2 * S9));
}

/** cos of a float32 value; Math.fround of the result is within 1 ulp of the float32 cos. */
export function cos32(x: number): number {
  if (!(Math.abs(x) <= TRIG_MAX)) return Math.cos(x);
  const j = Math.floor(x * INV_PI); // x/π in [j, j + 1) (up to rounding), so |x - (j + 1/2) π| <= π/2
  // x - j PI_HI and then - PIO2_HI are exact; the low parts are added in parallel.
  const r = x - j * PI_HI - PIO2_HI - (j * PI_LO + PIO2_LO);
  const z = r * r;
  const z2 = z * z;
  // cos(x) = cos((j + 1/2) π + r) = (-1)^(j+1) sin(r)
  return r * (2 * ((j | 0) & 1) - 1) * (1 + z * S3 + z2 * (S5 + z * S7 + z2 * S9));
}

// ---------------------------------------------------------------------------------------------
// exp family: x = (64 m + j) ln2/64 + r with |r| <= ln2/128, exp(x) = 2^m 2^(j/64) (1 + q(r)).
// ---------------------------------------------------------------------------------------------

const EXP_N_LN2 = 92.33248261689366; // 64 / ln 2
const EXP_LN2_N = 0.010830424696249145; // ln 2 / 64 (one constant: |k| < 2^14 keeps k * it within 2^-38 of exact)
/** 2^(j/64), j = 0..63. */
const EXP2_FRAC = new Float64Array(64);
for (let j = 0; j < 64; j++) EXP2_FRAC[j] = Math.pow(2, j / 64);
/** 2^m for m = -160..160 (index m + 160); the rest are 1s so that masked garbage indices are harmless. */
const POW2_BIAS = 160;
const POW2 = new Float64Array(512).fill(1);
for (let m = 0, p = 1; m <= POW2_BIAS; m++, p *= 2) {
  POW2[POW2_BIAS + m] = p;
  POW2[POW2_BIAS - m] = 1 / p;
}
// expm1(r) ≈ r (1 + r E2 + r^2 E3) on |r| <= 1.01 ln2/128: max rel error 2^-29.1 (the fit's linear
// coefficient, 1 + 2.8e-12, is rounded to 1, which changes nothing at float32 precision).
const E2 = 0.500000934810944;
const E3 = 0.16666666666670552;

/** exp of a float32 value; Math.fround of the result is within 1 ulp of the float32 exp. */
export function exp32(x: number): number {
  // exp(89) overflows float32 and exp(-104.5) < 2^-150 rounds to 0; NaN passes through the clamp.
  const y = Math.max(-104.5, Math.min(x, 89));
  const k = y * EXP_N_LN2 + ROUND - ROUND;
  const r = y - k * EXP_LN2_N;
  const ki = k | 0;
  return EXP2_FRAC[ki & 63]! * POW2[(ki >> 6) + POW2_BIAS]! * (1 + r + r * r * (E2 + r * E3));
}

/** expm1 of a float32 value; Math.fround of the result is within 1 ulp of the float32 expm1. */
export function expm1_32(x: number): number {
  // expm1(-18) rounds to -1 in float32, expm1(89) overflows.
  const y = Math.max(-18, Math.min(x, 89));
  const k = y * EXP_N_LN2 + ROUND - ROUND;
  const r = y - k * EXP_LN2_N;
  const ki = k | 0;
  const t = EXP2_FRAC[ki & 63]! * POW2[(ki >> 6) + POW2_BIAS]!;
  // -(1 - t) is t - 1 (exact by Sterbenz, or harmless) but -0 for k = 0, and r (...) keeps the
  // sign of r: so expm1(-0) = -0, and near 0 the result is r (1 + ...) with no cancellation.
  return -(1 - t) + t * (r * (1 + r * E2 + r * r * E3));
}

/** tanh of a float32 value, as e / (e + 2) with e = expm1(2x): no cancellation near 0. */
export function tanh32(x: number): number {
  // tanh(±9.5) rounds to ±1 in float32.
  const y = 2 * Math.max(-9.5, Math.min(x, 9.5));
  const k = y * EXP_N_LN2 + ROUND - ROUND;
  const r = y - k * EXP_LN2_N;
  const ki = k | 0;
  const t = EXP2_FRAC[ki & 63]! * POW2[(ki >> 6) + POW2_BIAS]!;
  const e = -(1 - t) + t * (r * (1 + r * E2 + r * r * E3));
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
  return 1 / (1 + EXP2_FRAC[ki & 63]! * POW2[(ki >> 6) + POW2_BIAS]! * (1 + r + r * r * (E2 + r * E3)));
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
    const lo = val(LOG_OFF + i * 0x2000),
      hi = val(LOG_OFF + (i + 1) * 0x2000);
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

/** Below 2^-29 in magnitude, log1p(x) rounds to x in float32 (also keeps ±0). */
const LOG1P_TINY = 1.862645149230957e-9;

/** log1p of a float32 value; Math.fround of the result is within 1 ulp of the float32 log1p. */
export function log1p32(x: number): number {
  // Beyond LOG1P_TINY, 1 + x is exact in float64.
  if (Math.abs(x) < LOG1P_TINY) return x;
  const u = 1 + x;
  F64[0] = u;
  const hi = I32[1]!;
  const t = (hi - LOG_OFF) | 0;
  const k = t >> 20;
  const i = (t >> 13) & 127;
  const r = u * POW2[(POW2_BIAS - k) & 511]! * LOG_INVC[i]! - 1;
  return k * LN2 + LOG_C[i]! + r * (L1 + r * (L2 + r * L3)) + LOG_SPECIAL[hi >>> 20]!;
}

/**
 * The constants and tables above, for the WebAssembly transcription (`wasm_math.ts`), which must use
 * the very same values. The functions read them as private bindings: V8 reads an exported module
 * binding through its cell on every use, which made these functions three to six times slower
 * (exp32: 7.4–14 against 2.3 ns per element in a summing loop), where a private const is folded
 * into the optimised code.
 */
export const FASTMATH = Object.freeze({
  ROUND,
  INV_PI,
  PIO2_HI,
  PIO2_LO,
  PI_HI,
  PI_LO,
  TRIG_MAX,
  S3,
  S5,
  S7,
  S9,
  EXP_N_LN2,
  EXP_LN2_N,
  EXP2_FRAC,
  POW2_BIAS,
  POW2,
  E2,
  E3,
  LN2,
  LOG_OFF,
  LOG_INVC,
  LOG_C,
  LOG_SPECIAL,
  L1,
  L2,
  L3,
  LOG1P_TINY,
});
