/**
 * Elementwise CPU kernels, generated once per (primitive, dtype) as straight loops so V8 sees one
 * monomorphic typed-array kind per function. The generated source interpolates only the fixed
 * expressions in this file, never user input.
 */
import type { DType, TypedArray } from "../../../src/core/dtype.js";
import { Prim } from "../../../src/core/prim.js";

type Kernel = (out: TypedArray, n: number, ...ins: TypedArray[]) => void;

/** Scalar expressions over inputs `a`, `b` (and `c` for selects); `I` marks the int32 variant. */
const EXPR: Partial<Record<Prim, string | { f: string; i: string }>> = {
  [Prim.Add]: "a + b",
  [Prim.Sub]: "a - b",
  [Prim.Mul]: { f: "a * b", i: "Math.imul(a, b)" },
  [Prim.Div]: { f: "a / b", i: "b === 0 ? 0 : (a / b) | 0" },
  [Prim.Max]: { f: "a > b || a !== a ? a : (a === b && a === 0 ? (1 / a > 0 ? a : b) : b)", i: "a > b ? a : b" },
  [Prim.Min]: { f: "a < b || a !== a ? a : (a === b && a === 0 ? (1 / a < 0 ? a : b) : b)", i: "a < b ? a : b" },
  [Prim.Pow]: "Math.pow(a, b)",
  [Prim.Eq]: "a === b ? 1 : 0",
  [Prim.Ne]: "a !== b ? 1 : 0",
  [Prim.Lt]: "a < b ? 1 : 0",
  [Prim.Le]: "a <= b ? 1 : 0",
  [Prim.Gt]: "a > b ? 1 : 0",
  [Prim.Ge]: "a >= b ? 1 : 0",
  [Prim.And]: "a & b",
  [Prim.Or]: "a | b",
  [Prim.Not]: "a ? 0 : 1",
  [Prim.Neg]: "-a",
  [Prim.Exp]: "Math.exp(a)",
  [Prim.Log]: "Math.log(a)",
  [Prim.Log1p]: "Math.log1p(a)",
  [Prim.Expm1]: "Math.expm1(a)",
  [Prim.Sin]: "Math.sin(a)",
  [Prim.Cos]: "Math.cos(a)",
  [Prim.Tanh]: "Math.tanh(a)",
  [Prim.Atan]: "Math.atan(a)",
  [Prim.Logistic]: "a >= 0 ? 1 / (1 + Math.exp(-a)) : Math.exp(a) / (1 + Math.exp(a))",
  [Prim.Sqrt]: "Math.sqrt(a)",
  [Prim.Rsqrt]: "1 / Math.sqrt(a)",
  [Prim.Abs]: "Math.abs(a)",
  [Prim.Sign]: "a > 0 ? 1 : a < 0 ? -1 : a",
  [Prim.Floor]: "Math.floor(a)",
  [Prim.StopGradient]: "a",
  [Prim.ConvertElementType]: "a",
};

const NAMES = ["a", "b", "c", "d"];
const cache = new Map<string, Kernel>();

/** The kernel computing `prim` over `arity` inputs of `dtype` into `out`. */
export function elementwiseKernel(prim: Prim, dtype: DType, arity: number): Kernel {
  const key = `${prim}:${dtype}:${arity}`;
  let k = cache.get(key);
  if (k === undefined) {
    const e = EXPR[prim];
    if (e === undefined) throw new Error(`no elementwise kernel for ${prim}`);
    const expr = typeof e === "string" ? e : dtype === "int32" ? e.i : e.f;
    const params = NAMES.slice(0, arity);
    const loads = params.map((p, j) => `const ${p} = in${j}[i];`).join(" ");
    const body = `for (let i = 0; i < n; i++) { ${loads} out[i] = ${expr}; }`;
    k = new Function("out", "n", ...params.map((_, j) => `in${j}`), body) as Kernel;
    cache.set(key, k);
  }
  return k;
}

/** select_n: out[i] = cases[which[i]][i]. */
export function selectKernel(out: TypedArray, which: TypedArray, cases: TypedArray[]): void {
  if (cases.length === 2) {
    const [f, t] = cases as [TypedArray, TypedArray];
    for (let i = 0; i < out.length; i++) out[i] = which[i] ? t[i]! : f[i]!;
  } else {
    for (let i = 0; i < out.length; i++) out[i] = cases[Math.min(Math.max(which[i]!, 0), cases.length - 1)]![i]!;
  }
}
