/**
 * The lane code of each elementwise primitive for the fused wasm loops (`wasm_loop.ts`): f32x4
 * (`op32`, float32 and bool values, bool as 0.0f / 1.0f) and f64x2 (`op64`), each step the IEEE
 * operation the JavaScript loop performs, so results are its bits. Knows nothing of regions,
 * loads, stores or the loop: operands come in as code, the fast-math functions through the
 * generator's `MathContext`.
 */
import type { DType } from "../../src/core/dtype.js";
import { Prim } from "../../src/core/prim.js";
import type { Eqn } from "../../src/ir/ir.js";
import { type Code, bits, f32v, f64v, i32, i32v, select } from "../../src/codegen/wasm_asm.js";
import { type Fast32, type MathContext, fast32, fast32In4 } from "../../src/codegen/wasm_math.js";

const FAST: Partial<Record<Prim, Fast32>> = {
  [Prim.Exp]: "exp",
  [Prim.Expm1]: "expm1",
  [Prim.Tanh]: "tanh",
  [Prim.Logistic]: "logistic",
  [Prim.Log]: "log",
  [Prim.Log1p]: "log1p",
  [Prim.Sin]: "sin",
  [Prim.Cos]: "cos",
};
/** Comparisons, by the name of their lane op in both `f32v` and `f64v`. */
const COMPARE: Partial<Record<Prim, "eq" | "ne" | "lt" | "le" | "gt" | "ge">> = {
  [Prim.Eq]: "eq",
  [Prim.Ne]: "ne",
  [Prim.Lt]: "lt",
  [Prim.Le]: "le",
  [Prim.Gt]: "gt",
  [Prim.Ge]: "ge",
};
/** Bool logic as bit ops on the lanes' 1.0 / 0.0 patterns (not is xor with 1.0). */
const LOGIC: Partial<Record<Prim, (a: Code, b: Code) => Code>> = {
  [Prim.And]: bits.and,
  [Prim.Or]: bits.or,
  [Prim.Xor]: bits.xor,
  [Prim.Not]: bits.xor,
};
/**
 * Rough cost of one equation per element, in simple lane ops: a fast-math function is some two
 * dozen vector instructions per two lanes, a division or square root a few, the rest one. The loop
 * weighs a run's work by it to decide whether threads pay for their start-up.
 */
export function laneWork(e: Eqn): number {
  if (FAST[e.prim] !== undefined) return 8;
  return e.prim === Prim.Div || e.prim === Prim.Sqrt || e.prim === Prim.Rsqrt ? 2 : 1;
}

/** The dtypes four-lane vectors hold: float32, bool as 0.0f / 1.0f, int32 and uint32 as their bits. */
export const LANE32: ReadonlySet<DType> = new Set(["float32", "bool", "int32", "uint32"]);
const INT32: ReadonlySet<DType> = new Set(["int32", "uint32"]);

/**
 * The four-lane code of one equation whose operands and result are float32, bool, int32 or
 * uint32, or null if these lanes do not cover it (then the run uses float64 lanes, or JavaScript).
 * Each float arithmetic step is the float32 operation the JavaScript loop computes as fround of
 * the float64 one (the same for +, -, *, / and sqrt); comparisons, selections and bool logic are
 * exact either way; integer equations are `opInt`'s. `uniform[i]`: operand i holds one value in
 * every lane (a scalar), which lets a shift use one count for the whole vector.
 */
export function op32(c: MathContext, e: Eqn, a: Code[], uniform: readonly boolean[] = []): Code | null {
  if ([...e.inputs, e.outvars[0]!].some((v) => INT32.has(v.aval.dtype))) return opInt(c, e, a, uniform);
  const probe = a.length === 0;
  const x = a[0]!,
    y = a[1]!;
  const out = e.outvars[0]!.aval.dtype;
  const one = bits.constF32(1);
  const truth = (mask: Code): Code => (probe ? [] : bits.and(mask, one));
  const compare = COMPARE[e.prim];
  if (compare !== undefined) return truth(f32v[compare](x, y));
  // bool values are 0.0f or 1.0f, whose bit patterns these combine exactly.
  const logic = LOGIC[e.prim];
  if (logic !== undefined) return probe ? [] : logic(x, e.prim === Prim.Not ? one : y);
  switch (e.prim) {
    case Prim.Max:
      return probe ? [] : f32v.max(x, y);
    case Prim.Min:
      return probe ? [] : f32v.min(x, y);
    case Prim.StopGradient:
      return probe ? [] : x;
    case Prim.SelectN: {
      if (probe) return [];
      const [w, ...cases] = a;
      let r = cases[cases.length - 1]!;
      for (let c = cases.length - 2; c >= 0; c--) r = bits.select(cases[c]!, r, f32v.le(w!, bits.constF32(c)));
      return r;
    }
    case Prim.ConvertElementType:
      // NaN and ±0 are false; a bool's 0.0f / 1.0f is already its float32 value.
      if (out === "bool") return truth(f32v.gt(f32v.abs(x), bits.constF32(0)));
      return probe ? [] : x;
  }
  if (out !== "float32" || e.inputs.some((v) => v.aval.dtype !== "float32")) return null;
  switch (e.prim) {
    case Prim.Add:
      return probe ? [] : f32v.add(x, y);
    case Prim.Sub:
      return probe ? [] : f32v.sub(x, y);
    case Prim.Mul:
      return probe ? [] : f32v.mul(x, y);
    case Prim.Div:
      return probe ? [] : f32v.div(x, y);
    case Prim.Neg:
      return probe ? [] : f32v.neg(x);
    case Prim.Abs:
      return probe ? [] : f32v.abs(x);
    case Prim.Floor:
      return probe ? [] : f32v.floor(x);
    case Prim.Sqrt:
      return probe ? [] : f32v.sqrt(x);
    case Prim.Sign: {
      if (probe) return [];
      const zero32 = bits.constF32(0);
      return bits.select(bits.constF32(1), bits.select(bits.constF32(-1), x, f32v.lt(x, zero32)), f32v.gt(x, zero32));
    }
    default: {
      const name = FAST[e.prim];
      if (name !== undefined) return probe ? [] : fast32In4(c, name, x);
      return null;
    }
  }
}

/**
 * The i32x4 code of an equation with an int32 or uint32 operand or result (ints are their 32-bit
 * patterns in the lanes, bools 0.0f / 1.0f, float32 as is), or null where these lanes do not
 * cover it. Each is the JavaScript loop's operation: wrapping add, sub and multiply (Math.imul);
 * shifts give 0 for counts of 32 or more (wasm would take the count mod 32); int to float32
 * conversions round to nearest as Math.fround does. Float to int conversions (JavaScript wraps
 * where lanes would saturate), division and remainder are left to JavaScript.
 */
function opInt(c: MathContext, e: Eqn, a: Code[], uniform: readonly boolean[]): Code | null {
  const probe = a.length === 0;
  const x = a[0]!,
    y = a[1]!;
  const inD = e.inputs[e.inputs.length - 1]!.aval.dtype,
    out = e.outvars[0]!.aval.dtype;
  const unsigned = inD === "uint32";
  const int = (v: number) => c.constant(v | 0, "i32");
  const code = (make: () => Code): Code => (probe ? [] : make());
  const truth = (mask: () => Code): Code => code(() => bits.and(mask(), bits.constF32(1)));
  switch (e.prim) {
    case Prim.Eq:
      return truth(() => i32v.eq(x, y));
    case Prim.Ne:
      return truth(() => i32v.ne(x, y));
    case Prim.Lt:
      return truth(() => (unsigned ? i32v.ltU : i32v.ltS)(x, y));
    case Prim.Le:
      return truth(() => (unsigned ? i32v.leU : i32v.leS)(x, y));
    case Prim.Gt:
      return truth(() => (unsigned ? i32v.gtU : i32v.gtS)(x, y));
    case Prim.Ge:
      return truth(() => (unsigned ? i32v.geU : i32v.geS)(x, y));
    case Prim.And:
      return code(() => bits.and(x, y));
    case Prim.Or:
      return code(() => bits.or(x, y));
    case Prim.Xor:
      return code(() => bits.xor(x, y));
    case Prim.Not:
      return code(() => bits.not(x));
    case Prim.Add:
      return code(() => i32v.add(x, y));
    case Prim.Sub:
      return code(() => i32v.sub(x, y));
    case Prim.Mul:
      return code(() => i32v.mul(x, y));
    case Prim.Neg:
      return code(() => i32v.neg(x));
    case Prim.Max:
      return code(() => (unsigned ? i32v.maxU : i32v.maxS)(x, y));
    case Prim.Min:
      return code(() => (unsigned ? i32v.minU : i32v.minS)(x, y));
    case Prim.Abs:
      return code(() => (unsigned ? x : i32v.abs(x)));
    case Prim.Sign:
      return code(() =>
        unsigned
          ? bits.select(int(1), x, i32v.gtU(x, int(0)))
          : bits.select(int(1), bits.select(int(-1), x, i32v.ltS(x, int(0))), i32v.gtS(x, int(0))),
      );
    case Prim.StopGradient:
      return code(() => x);
    case Prim.ShiftLeft:
    case Prim.ShiftRightLogical:
      return code(() => shiftLanes(e.prim === Prim.ShiftLeft, x, y, uniform[1] === true, c));
    case Prim.SelectN: {
      const selector = e.inputs[0]!.aval.dtype;
      if (selector !== "bool" && selector !== "int32") return null;
      return code(() => {
        const [w, ...cases] = a;
        let r = cases[cases.length - 1]!;
        for (let k = cases.length - 2; k >= 0; k--)
          r = bits.select(cases[k]!, r, selector === "bool" ? f32v.le(w!, bits.constF32(k)) : i32v.leS(w!, int(k)));
        return r;
      });
    }
    case Prim.ConvertElementType:
      if (INT32.has(inD) && out === "float32") return code(() => (unsigned ? f32v.convertU32(x) : f32v.convertS32(x)));
      if (INT32.has(inD) && out === "bool") return truth(() => i32v.ne(x, int(0)));
      if (inD === "bool" && INT32.has(out)) return code(() => f32v.truncSatToU32(x));
      if (INT32.has(inD) && INT32.has(out)) return code(() => x);
      return null;
    case Prim.BitcastConvertType:
      return code(() => x);
    default:
      return null;
  }
}

/**
 * x << n or x >>> n per lane, 0 where n >= 32 (unsigned). A count that is one value in every lane
 * shifts the whole vector by lane 0's count; otherwise each lane is shifted on its own.
 */
function shiftLanes(left: boolean, x: Code, n: Code, uniform: boolean, c: MathContext): Code {
  if (uniform) {
    const count = i32v.extractLane(n, 0);
    const keep = i32.sub(i32.const(0), i32.ltU(count, i32.const(32)));
    return bits.and((left ? i32v.shl : i32v.shrU)(x, count), i32v.splat(keep));
  }
  let r = c.constant(0, "i32");
  for (let lane = 0; lane < 4; lane++) {
    const xl = i32v.extractLane(x, lane),
      nl = i32v.extractLane(n, lane);
    r = i32v.replaceLane(r, lane, select((left ? i32.shl : i32.shrU)(xl, nl), i32.const(0), i32.ltU(nl, i32.const(32))));
  }
  return r;
}

/**
 * The f64x2 code of one equation on operand codes, or null if not covered (`probe`: only ask).
 * float32 values are held widened and rounded after each operation.
 */
export function op64(c: MathContext, e: Eqn, a: Code[], probe: boolean): Code | null {
  const out = e.outvars[0]!.aval.dtype;
  const inDtype = e.inputs[e.inputs.length - 1]!.aval.dtype;
  const float = out === "float32" || out === "float64";
  const round = (x: Code): Code => (out === "float32" ? f64v.promoteLowF32(f64v.demoteToF32(x)) : x);
  const one = bits.constF64(1, 1);
  const truth = (mask: Code): Code => bits.and(mask, one);
  const compare = COMPARE[e.prim];
  if (compare !== undefined) return truth(f64v[compare](a[0]!, a[1]!));
  // bool values are 0.0 or 1.0, whose bit patterns these combine exactly.
  const logic = LOGIC[e.prim];
  if (logic !== undefined) return out === "bool" ? logic(a[0]!, e.prim === Prim.Not ? one : a[1]!) : null;
  switch (e.prim) {
    case Prim.Add:
      return float ? round(f64v.add(a[0]!, a[1]!)) : null;
    case Prim.Sub:
      return float ? round(f64v.sub(a[0]!, a[1]!)) : null;
    case Prim.Mul:
      return float ? round(f64v.mul(a[0]!, a[1]!)) : null;
    case Prim.Div:
      return float ? round(f64v.div(a[0]!, a[1]!)) : null;
    case Prim.Neg:
      return float ? f64v.neg(a[0]!) : null;
    case Prim.Abs:
      return float ? f64v.abs(a[0]!) : null;
    case Prim.Floor:
      return float ? f64v.floor(a[0]!) : null;
    case Prim.Sqrt:
      return float ? round(f64v.sqrt(a[0]!)) : null;
    case Prim.Rsqrt:
      return float ? round(f64v.div(one, f64v.sqrt(a[0]!))) : null;
    case Prim.Max:
      return f64v.max(a[0]!, a[1]!);
    case Prim.Min:
      return f64v.min(a[0]!, a[1]!);
    case Prim.Sign:
      return float ? bits.select(one, bits.select(bits.constF64(-1, -1), a[0]!, f64v.lt(a[0]!, zero)), f64v.gt(a[0]!, zero)) : null;
    case Prim.StopGradient:
      return a[0]!;
    case Prim.ConvertElementType:
      // NaN and ±0 are false; float32 rounds; float64 and bool values are already exact.
      return out === "bool" ? truth(f64v.gt(f64v.abs(a[0]!), zero)) : round(a[0]!);
    case Prim.SelectN: {
      const [w, ...cases] = a;
      let r = cases[cases.length - 1]!;
      for (let c = cases.length - 2; c >= 0; c--) r = bits.select(cases[c]!, r, f64v.le(w!, bits.constF64(c, c)));
      return r;
    }
    default: {
      const name = FAST[e.prim];
      if (name === undefined || inDtype !== "float32" || out !== "float32") return null;
      return probe ? [] : round(fast32(c, name, a[0]!));
    }
  }
}

const zero = bits.constF64(0, 0);
