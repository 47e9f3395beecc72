/**
 * The float32 fast-math functions of `fastmath.ts`, transcribed to WebAssembly f64x2 code so a
 * fused jit loop computes two elements at a time and still returns exactly what the JavaScript
 * versions (and so the eager kernels) return: every step is the same IEEE float64 operation in
 * the same order (wasm, like JavaScript, never contracts a multiply and an add), integer steps
 * match JavaScript's `| 0`, `&` and `>>` on the values that can occur, and the tables are the
 * very arrays `fastmath.ts` built, copied into linear memory at `TABLES`.
 *
 * The one branch of the scalar code, sin/cos of an argument beyond TRIG_MAX (or NaN, ±Infinity),
 * calls the imported Math.sin/Math.cos for the lanes that need it; log1p's small-argument branch
 * is a lane select. Lookups with an index are scalar loads, one per lane; 2^m for the exp family's
 * in-range m is built from its bits (the table holds exactly those powers).
 */
import { FASTMATH as fm } from "./fastmath.js";
import { type Code, type Local, bits, call, f64v, get, i32, i32v, i64v, if_, set, v128 } from "./wasm_asm.js";

/** Byte offsets of the fast-math tables in linear memory (float64 each). */
export const TABLES = {
  exp2Frac: 0,
  pow2: 64 * 8,
  logInvc: 64 * 8 + 512 * 8,
  logC: 64 * 8 + 512 * 8 + 128 * 8,
  logSpecial: 64 * 8 + 512 * 8 + 256 * 8,
} as const;
/** Bytes the tables take; data may start here. */
export const TABLES_END = TABLES.logSpecial + 4096 * 8;

/** Writes the tables into linear memory (once per memory). */
export function writeTables(heap: Float64Array): void {
  heap.set(fm.EXP2_FRAC, TABLES.exp2Frac / 8);
  heap.set(fm.POW2, TABLES.pow2 / 8);
  heap.set(fm.LOG_INVC, TABLES.logInvc / 8);
  heap.set(fm.LOG_C, TABLES.logC / 8);
  heap.set(fm.LOG_SPECIAL, TABLES.logSpecial / 8);
}

/** What a generated function provides to the math: fresh v128 locals and the imported Math calls. */
export interface MathContext {
  v128(): Local;
  /** A splatted constant (a generator may hoist it out of its loop). */
  constant(x: number, lanes?: "f64" | "f32" | "i32"): Code;
  readonly sinImport: number;
  readonly cosImport: number;
  /**
   * Null: sin/cos lanes beyond the fast range call Math.sin/Math.cos. A local: such lanes are only
   * or-ed into it, and the caller must redo the work with checked code if it ends up non-zero.
   */
  readonly outOfRange: Local | null;
}

/** The float32 functions this module vectorises, by name. */
export type Fast32 = "exp" | "expm1" | "tanh" | "logistic" | "log" | "log1p" | "sin" | "cos";

/** Code leaving f64x2 `f(x)` (each lane the unrounded float64 the scalar function returns). */
export function fast32(c: MathContext, name: Fast32, x: Code): Code {
  const s = new Seq(c);
  const xv = s.let(x);
  const result = BUILD[name](s, xv);
  return [s.stmts, result];
}

/** Straight-line code with named intermediates (each a fresh local). */
class Seq {
  readonly stmts: Code[] = [];
  constructor(readonly c: MathContext) {}
  let(code: Code): Code {
    const l = this.c.v128();
    this.stmts.push(set(l, code));
    return get(l);
  }
  /** An f64x2 constant with x in both lanes. */
  k(x: number): Code {
    return this.c.constant(x);
  }
  /** An i32x4 constant with n in every lane. */
  i(n: number): Code {
    return this.c.constant(n, "i32");
  }
  local(code: Code): Local {
    const l = this.c.v128();
    this.stmts.push(set(l, code));
    return l;
  }
}

const { add, sub, mul, div } = f64v;

/**
 * table[idx] per lane: idx an i32x4 whose lanes 0 and 1 index the float64 table at byte `base`
 * (one load splatted into both lanes, the second into lane 1).
 */
function gather(s: Seq, base: number, idx: Code): Code {
  const bytes = s.let(i32v.shl(idx, i32.const(3)));
  return bits.load64Lane(i32v.extractLane(bytes, 1), v128.load64Splat(i32v.extractLane(bytes, 0), base), 1, base);
}

/**
 * The sign bit (of each f64 lane) set where the integer n = `shifted` - ROUND is odd: `shifted` =
 * n + 1.5·2^52 holds n's parity in its lowest bit. x·(-1) and a sign flip are the same bits, so
 * xor-ing this in is the scalar code's multiplication by (1 - 2·(n & 1)).
 */
const oddSign = (shifted: Code): Code => i64v.shl(shifted, i32.const(63));

/**
 * k | 0 for k = shifted - ROUND, read from the low word of `shifted` = k + 1.5·2^52 (exact for
 * |k| < 2^31, where the low 32 bits of the significand are k's two's complement): lanes 0 and 1
 * of an i32x4. Lanes where `shifted` is NaN get some integer, as the NaN carries through anyway.
 */
const roundedInt = (shifted: Code): Code => bits.shuffle(shifted, shifted, [0, 1, 2, 3, 8, 9, 10, 11, 0, 1, 2, 3, 8, 9, 10, 11]);

/** 2^m per lane for m in [-1022, 1023] (lanes 0 and 1 of the i32x4 `m`), from its bits. */
const pow2 = (s: Seq, m: Code): Code => i64v.shl(i32v.extendLowToI64(i32v.add(m, s.i(1023))), i32.const(52));

/** k, r, 2^(k/64) of the exp family for an argument already clamped: exp(y) = 2^(k/64) e^r. */
function expReduce(s: Seq, y: Code): { r: Code; t1: Code; t2: Code } {
  const shifted = s.let(add(mul(y, s.k(fm.EXP_N_LN2)), s.k(fm.ROUND)));
  const k = s.let(sub(shifted, s.k(fm.ROUND)));
  const r = s.let(sub(y, mul(k, s.k(fm.EXP_LN2_N))));
  const ki = s.let(roundedInt(shifted));
  return { r, t1: gather(s, TABLES.exp2Frac, bits.and(ki, s.i(63))), t2: pow2(s, i32v.shrS(ki, i32.const(6))) };
}

/** -(1 - t) + t (r (1 + r E2 + r² E3)): expm1 from the reduction, as `expm1_32` and `tanh32` do. */
function expm1Tail(s: Seq, r: Code, t1: Code, t2: Code): Code {
  const t = s.let(mul(t1, t2));
  return add(f64v.neg(sub(s.k(1), t)), mul(t, mul(r, add(add(s.k(1), mul(r, s.k(fm.E2))), mul(mul(r, r), s.k(fm.E3))))));
}

/**
 * The odd sine polynomial r (1 + z S3 + z² (S5 + z S7 + z² S9)) with its sign flipped where `flip`
 * has the sign bit set: the scalar code's (r · ±1) · poly, as (-r)·p = -(r·p) exactly.
 */
function sinPoly(s: Seq, r: Code, flip: Code): Code {
  const z = s.let(mul(r, r));
  const z2 = s.let(mul(z, z));
  return bits.xor(mul(r, add(add(s.k(1), mul(z, s.k(fm.S3))), mul(z2, add(add(s.k(fm.S5), mul(z, s.k(fm.S7))), mul(z2, s.k(fm.S9)))))), flip);
}

/**
 * Lanes whose |x| is not <= TRIG_MAX (NaN too) take the imported Math function instead; without a
 * checked context, they only raise the context's flag (the generator then reruns checked code).
 */
function trigFallback(s: Seq, x: Code, result: Code, fn: number): Code {
  const bad = s.let(bits.not(f64v.le(f64v.abs(x), s.k(fm.TRIG_MAX))));
  if (s.c.outOfRange !== null) {
    s.stmts.push(set(s.c.outOfRange, bits.or(get(s.c.outOfRange), bad)));
    return result;
  }
  const res = s.local(result);
  const lane = (l: number) => if_(i32v.extractLane(bad, 2 * l), set(res, f64v.replaceLane(get(res), l, call(fn, f64v.extractLane(x, l)))));
  s.stmts.push(if_(bits.anyTrue(bad), [lane(0), lane(1)]));
  return get(res);
}

/** log of u per lane, as `log32` computes it from the high word of u. */
function logOf(s: Seq, u: Code): Code {
  const hi = s.let(bits.shuffle(u, u, [4, 5, 6, 7, 12, 13, 14, 15, 4, 5, 6, 7, 12, 13, 14, 15]));
  const t = s.let(i32v.sub(hi, s.i(fm.LOG_OFF)));
  const k = s.let(i32v.shrS(t, i32.const(20)));
  const i = s.let(bits.and(i32v.shrS(t, i32.const(13)), s.i(127)));
  const p = gather(s, TABLES.pow2, bits.and(i32v.sub(s.i(fm.POW2_BIAS), k), s.i(511)));
  const r = s.let(sub(mul(mul(u, p), gather(s, TABLES.logInvc, i)), s.k(1)));
  const poly = mul(r, add(s.k(fm.L1), mul(r, add(s.k(fm.L2), mul(r, s.k(fm.L3))))));
  const special = gather(s, TABLES.logSpecial, i32v.shrU(hi, i32.const(20)));
  return add(add(add(mul(f64v.convertLowI32(k), s.k(fm.LN2)), gather(s, TABLES.logC, i)), poly), special);
}

const BUILD: Record<Fast32, (s: Seq, x: Code) => Code> = {
  exp: (s, x) => {
    const y = s.let(f64v.pmax(f64v.pmin(x, s.k(89)), s.k(-104.5)));
    const { r, t1, t2 } = expReduce(s, y);
    return mul(mul(t1, t2), add(add(s.k(1), r), mul(mul(r, r), add(s.k(fm.E2), mul(r, s.k(fm.E3))))));
  },
  expm1: (s, x) => {
    const y = s.let(f64v.pmax(f64v.pmin(x, s.k(89)), s.k(-18)));
    const { r, t1, t2 } = expReduce(s, y);
    return expm1Tail(s, r, t1, t2);
  },
  tanh: (s, x) => {
    const y = s.let(mul(s.k(2), f64v.pmax(f64v.pmin(x, s.k(9.5)), s.k(-9.5))));
    const { r, t1, t2 } = expReduce(s, y);
    const e = s.let(expm1Tail(s, r, t1, t2));
    return div(e, add(e, s.k(2)));
  },
  logistic: (s, x) => {
    const y = s.let(f64v.pmax(f64v.pmin(f64v.neg(x), s.k(105)), s.k(-18)));
    const { r, t1, t2 } = expReduce(s, y);
    return div(s.k(1), add(s.k(1), mul(mul(t1, t2), add(add(s.k(1), r), mul(mul(r, r), add(s.k(fm.E2), mul(r, s.k(fm.E3))))))));
  },
  log: (s, x) => logOf(s, x),
  log1p: (s, x) => {
    const tiny = s.let(f64v.lt(f64v.abs(x), s.k(fm.LOG1P_TINY)));
    return bits.select(x, logOf(s, add(s.k(1), x)), tiny);
  },
  sin: (s, x) => {
    const shifted = s.let(add(mul(x, s.k(fm.INV_PI)), s.k(fm.ROUND)));
    const k = s.let(sub(shifted, s.k(fm.ROUND)));
    const r = s.let(sub(sub(x, mul(k, s.k(fm.PI_HI))), mul(k, s.k(fm.PI_LO))));
    // sin(x) = (-1)^k sin(r)
    return trigFallback(s, x, sinPoly(s, r, oddSign(shifted)), s.c.sinImport);
  },
  cos: (s, x) => {
    const j = s.let(f64v.floor(mul(x, s.k(fm.INV_PI))));
    const r = s.let(sub(sub(sub(x, mul(j, s.k(fm.PI_HI))), s.k(fm.PIO2_HI)), add(mul(j, s.k(fm.PI_LO)), s.k(fm.PIO2_LO))));
    // cos(x) = (-1)^(j+1) sin(r): flipped where j is even (j is an integer below 2^18 in magnitude).
    return trigFallback(s, x, sinPoly(s, r, bits.xor(oddSign(add(j, s.k(fm.ROUND))), s.k(-0))), s.c.cosImport);
  },
};

/** Lanes 2 and 3 of an f32x4, widened to an f64x2. */
const promoteHigh = (v: Code): Code => f64v.promoteLowF32(bits.shuffle(v, v, [8, 9, 10, 11, 12, 13, 14, 15, 8, 9, 10, 11, 12, 13, 14, 15]));

/** `fast32` on an f32x4 of float32 values (two float64 halves), rounded back into float32 lanes. */
export function fast32In4(c: MathContext, name: Fast32, x: Code): Code {
  const s = new Seq(c);
  const xv = s.let(x);
  const lo = s.let(f64v.demoteToF32(fast32(c, name, f64v.promoteLowF32(xv)))),
    hi = s.let(f64v.demoteToF32(fast32(c, name, promoteHigh(xv))));
  return [s.stmts, bits.shuffle(lo, hi, [0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23])];
}
