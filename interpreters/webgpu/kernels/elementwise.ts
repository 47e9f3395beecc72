/**
 * The eager elementwise kernel: one pipeline per (primitive, dtypes, arity, splat operands,
 * elements per invocation); the element count is a parameter, so every shape reuses it. A splat operand is a one-element buffer
 * read at index 0 for every element (a CPU operand whose elements are all one value).
 */
import type { DType } from "../../../src/core/dtype.js";
import type { Prim } from "../../../src/core/prim.js";
import { sizeOf } from "../../../src/core/shape.js";
import type { GpuArray } from "../array.js";
import { WG } from "../context.js";
import { ENTRY, WGSL_HELPERS, elementLoop, paramsDecl, storageDecl, wgslExpr, wgslType } from "../wgsl.js";

const sources = new Map<string, string>();

function source(prim: Prim, inDtypes: readonly DType[], outDtype: DType, splat: readonly boolean[], per: number): string {
  const key = `${prim}:${inDtypes.join(",")}:${outDtype}:${splat.map((s) => (s ? 1 : 0)).join("")}:${per}`;
  let src = sources.get(key);
  if (src === undefined) {
    const decls = inDtypes.map((d, j) => storageDecl(j, `in${j}`, wgslType(d, prim), false));
    const expr = wgslExpr(
      prim,
      inDtypes.map((_, j) => (splat[j] === true ? `in${j}[0]` : `in${j}[i]`)),
      inDtypes[inDtypes.length - 1]!,
      outDtype,
    );
    if (expr === null) throw new Error(`webgpu: ${prim} is not elementwise`);
    src = `${WGSL_HELPERS}
${decls.join("\n")}
${storageDecl(inDtypes.length, "out", wgslType(outDtype, prim), true)}
${paramsDecl()}
${ENTRY} {
  ${elementLoop(per, "prm(0u)", `out[i] = ${expr};`)}
}`;
    sources.set(key, src);
  }
  return src;
}

/**
 * out = prim(...ins) elementwise (all of out's shape); `splat[j]` marks an operand given as its
 * one element.
 */
export function elementwise(prim: Prim, ins: readonly GpuArray[], out: GpuArray, splat: readonly boolean[] = []): void {
  const n = sizeOf(out.shape);
  const ctx = out.backend.ctx,
    per = ctx.elementsPerThread;
  const src = source(
    prim,
    ins.map((x) => x.dtype),
    out.dtype,
    splat,
    per,
  );
  ctx.dispatch(src, [...ins.map((x) => x.bind(prim)), out.bind(prim)], [n], Math.ceil(n / (WG * per)));
}
