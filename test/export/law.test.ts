/**
 * The onnxEqualsEager law on random programs (laws' `arb.programCases` and
 * `arb.nestedProgramCases`: jit, checkpoint, cond, scan and customJvp nested), a quick pass run by
 * onnxruntime-node (programs holding a primitive ONNX cannot express are not counted; most are
 * checked); plus a planted bug the law must catch.
 */
import { describe, expect, it } from "vitest";
import { type NDArray, np } from "../../src/index.js";
import { LawViolation, arb, assertOnnxEqualsEager, checkOnnxEqualsEager, makeCase } from "../../laws/index.js";
import { ortRunner } from "./ort.js";

/**
 * float32 programs: onnxruntime's CPU provider has no float64 Conv kernel (ONNX allows one), and
 * random programs hold convolutions. float64 export is checked per primitive (test/export/primitives)
 * and on whole models (test/export/models).
 */
const F32 = ["float32"] as const;

describe("onnxEqualsEager", () => {
  it("holds on random programs", async () => {
    expect(
      await assertOnnxEqualsEager(arb.programCases({ dtypes: F32 }), ortRunner, {
        numRuns: Number(process.env.ONNX_RUNS ?? 25),
        seed: Number(process.env.ONNX_SEED ?? 1),
      }),
    ).toBeGreaterThanOrEqual(0.6 * Number(process.env.ONNX_RUNS ?? 25));
  }, 60_000);
  it("holds on random nested programs", async () => {
    expect(
      await assertOnnxEqualsEager(arb.nestedProgramCases({ dtypes: F32 }), ortRunner, {
        numRuns: Number(process.env.ONNX_RUNS ?? 25),
        seed: Number(process.env.ONNX_SEED ?? 2),
      }),
    ).toBeGreaterThanOrEqual(0.6 * Number(process.env.ONNX_RUNS ?? 25));
  }, 60_000);
  it("catches a runtime that computes something else", async () => {
    const wrong = async (m: Uint8Array, xs: NDArray[]) => (await ortRunner(m, xs)).map((y) => y.add(1e-2));
    const c = makeCase({ f: (x: NDArray) => np.sin(x), args: [np.array([0.1, 0.2])] });
    await expect(checkOnnxEqualsEager(c, wrong)).rejects.toThrow(LawViolation);
  });
});
