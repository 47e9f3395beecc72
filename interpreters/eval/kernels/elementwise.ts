/**
 * Elementwise CPU kernels, generated once per (primitive, dtypes, arity) as straight loops so V8
 * sees one monomorphic typed-array kind per function. The scalar expressions come from
 * `src/codegen/js_expr.ts`, the same ones the jit's fused loops use.
 */
import type { DType, TypedArray } from "../../../src/core/dtype.js";
import type { Prim } from "../../../src/core/prim.js";
import { JS_HELPER_NAMES, JS_HELPER_VALUES, jsExpr } from "../../../src/codegen/js_expr.js";

type Kernel = (out: TypedArray, n: number, ...ins: TypedArray[]) => void;

/** Kernels by primitive, then by a number packing (in dtype, out dtype, arity): no string per call. */
const cache = new Map<Prim, Map<number, Kernel>>();
const DTYPE_CODE: Record<DType, number> = { bool: 0, uint32: 1, int32: 2, float32: 3, float64: 4 };

/** The kernel computing `prim` over `arity` inputs of `inDtype` into an `outDtype` array. */
export function elementwiseKernel(prim: Prim, inDtype: DType, outDtype: DType, arity: number): Kernel {
  let byPrim = cache.get(prim);
  if (byPrim === undefined) cache.set(prim, (byPrim = new Map()));
  const key = (DTYPE_CODE[inDtype] * 8 + DTYPE_CODE[outDtype]) * 1024 + arity;
  let k = byPrim.get(key);
  if (k === undefined) {
    const ins = Array.from({ length: arity }, (_, j) => `in${j}`);
    const expr = jsExpr(
      prim,
      ins.map((n) => `${n}[i]`),
      inDtype,
      outDtype,
    );
    if (expr === null) throw new Error(`no elementwise kernel for ${prim}`);
    const body = `return function ${prim}(out, n, ${ins.join(", ")}) { for (let i = 0; i < n; i++) out[i] = ${expr}; };`;
    k = new Function(...JS_HELPER_NAMES, body)(...JS_HELPER_VALUES) as Kernel;
    byPrim.set(key, k);
  }
  return k;
}
