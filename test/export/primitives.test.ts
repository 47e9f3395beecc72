/**
 * Every exportable primitive, through ONNX Runtime: for each case of the primitive table
 * (test/primitives), the function binding that primitive is exported, run in onnxruntime-node, and
 * its outputs compared with fluxion's eager result, in float32 and float64.
 */
import { describe, expect, it } from "vitest";
import { ExportError, NDArray, Prim, type PrimParams, bind, exportOnnx, np } from "../../src/index.js";
import { onnxRules } from "../../src/export/onnx_rules.js";
import { GraphBuilder, ModelState } from "../../src/export/onnx_graph.js";
import { Rng, modeOn, seedOf } from "../primitives/cases_util.js";
import { type FloatDType, type PrimCase, primitiveCases } from "../primitives/table.js";
import { expectClose, runOnnx } from "./ort.js";

/** Primitives ONNX cannot run (custom_lin has its own test below). */
const NOT_EXPORTABLE = new Set<Prim>([Prim.CustomLin]);
/** Primitives ONNX has no operator for: every case must be refused with an ExportError naming it. */
const REFUSED = new Set<Prim>([
  Prim.Cholesky,
  Prim.TriangularSolve,
  Prim.Lu,
  Prim.Qr,
  Prim.Eigh,
  Prim.Svd,
  Prim.ShiftLeft,
  Prim.ShiftRightLogical,
  Prim.BitcastConvertType,
  Prim.Scatter,
  Prim.DebugCallback,
]);

/** Cases of an exportable primitive that ONNX's operator cannot express (refused with an ExportError). */
function refusedCase(prim: Prim, params: PrimParams[Prim], xs: NDArray[]): boolean {
  if (prim !== Prim.ConvGeneralDilated) return false;
  const p = params as PrimParams[Prim.ConvGeneralDilated];
  return xs[0]!.dtype === "int32" || p.lhsDilation.some((d) => d !== 1) || p.batchGroupCount !== 1 || p.padding.some(([lo, hi]) => lo < 0 || hi < 0);
}

for (const prim of Object.values(Prim)) {
  if (NOT_EXPORTABLE.has(prim)) continue;
  describe(`onnx: ${prim}`, () => {
    const cases = primitiveCases[prim] as PrimCase<Prim>[];
    for (const c of cases) {
      if (!modeOn(c, "value")) continue;
      for (const fdt of ["float32", "float64"] as FloatDType[]) {
        it(`${c.name} (${fdt})`, async () => {
          const ops = c.make(new Rng(seedOf(`${prim}/${c.name}/${fdt}`)), fdt);
          const params = (typeof c.params === "function" ? c.params(fdt) : c.params) as PrimParams[Prim];
          const xs = ops.map((o) => np.array(o.dtype === "bool" ? o.data.map(Boolean) : o.data, { dtype: o.dtype }).reshape(o.shape));
          const f = (...a: NDArray[]) => bind(prim, a, params);
          if (REFUSED.has(prim) || refusedCase(prim, params, xs)) {
            expect(() => exportOnnx(f, ...xs)).toThrow(ExportError);
            return;
          }
          const want = f(...xs);
          if (prim === Prim.ConvGeneralDilated && fdt === "float64") {
            // ONNX allows double Conv; onnxruntime's CPU provider has only a float one.
            await expect(runOnnx(exportOnnx(f, ...xs), xs)).rejects.toThrow(/Could not find an implementation for Conv/);
            return;
          }
          const got = await runOnnx(exportOnnx(f, ...xs), xs);
          expect(got.length).toBe(want.length);
          want.forEach((w, i) => expectClose(got[i]!, w, `${prim} ${c.name} output ${i}`));
        });
      }
    }
  });
}

describe("onnx: primitives ONNX cannot express", () => {
  it("custom_lin raises ExportError naming it", () => {
    const g = new GraphBuilder(new ModelState());
    const eqn = { prim: Prim.CustomLin as const, inputs: [], outvars: [], params: { bwd: () => [], numRes: 0, outAvals: [], name: "f" } };
    expect(() => onnxRules[Prim.CustomLin](g, [], eqn, () => [])).toThrow(ExportError);
    expect(() => onnxRules[Prim.CustomLin](g, [], eqn, () => [])).toThrow(/custom_lin/);
  });
});
