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
import { type Code, bits, f32v, f64v } from "../../src/codegen/wasm_asm.js";
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

/** The dtypes f32x4 lanes hold (bool as 0.0f / 1.0f). */
export const LANE32: ReadonlySet<DType> = new Set(["float32", "bool"]);

/**
 * The f32x4 code of one equation whose operands and result are float32 or bool, or null if
 * float32 lanes do not cover it (then the run uses float64 lanes). Each arithmetic step is the
 * float32 operation the JavaScript loop computes as fround of the float64 one (the same for +,
 * -, *, / and sqrt); comparisons, selections and bool logic are exact either way.
 */
export function op32(c: MathContext, e: Eqn, a: Code[]): Code | null {
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
