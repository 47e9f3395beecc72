/**
 * Every primitive on the device equals the CPU: the cases of the primitive table
 * (test/primitives/table.ts) run with float32 operands uploaded to WebGPU (all of them, and again
 * with only operand 0 on the device, the rest uploaded by the backend) and are compared with the
 * CPU result of the same bind within float32 tolerance. Cases that need float64 are skipped; a
 * case whose value mode fails by design must fail the same way on the device; while loops are a
 * DeviceError on the device; the matrix decompositions are a NotOnDeviceError.
 */
import { describe, expect, it } from "vitest";
import { DeviceError, NotOnDeviceError, type NDArray, Prim, type PrimParams, bind, np } from "../../src/index.js";
import { type Operand, Rng, seedOf } from "../primitives/cases_util.js";
import { type PrimCase, primitiveCases } from "../primitives/table.js";
import { expectSame, requireAdapterInCI, runGpu } from "./setup.js";

type AnyCase = PrimCase<any>;

/** The matrix decompositions have no WebGPU kernel: a NotOnDeviceError that says to move to the cpu. */
const HOST_ONLY = new Set<Prim>([Prim.Cholesky, Prim.TriangularSolve, Prim.Lu, Prim.Qr, Prim.Eigh, Prim.Svd]);

const toND = (o: Operand): NDArray => np.array(Float64Array.from(o.data), { shape: o.shape, dtype: o.dtype });
const paramsOf = (c: AnyCase): PrimParams[Prim] => (typeof c.params === "function" ? c.params("float32") : c.params);

/** Whether a case can run in float32: no float64 operand, and params that stage without float64. */
function float32Only(c: AnyCase, xs: Operand[]): boolean {
  if (xs.some((x) => x.dtype === "float64")) return false;
  const p = paramsOf(c) as { dtype?: string };
  return p.dtype !== "float64";
}

describe.runIf(runGpu)("webgpu primitives == cpu", () => {
  requireAdapterInCI();
  let ran = 0;
  for (const prim of Object.values(Prim)) {
    describe(prim, () => {
      for (const c of primitiveCases[prim] as AnyCase[]) {
        const probe = c.make(new Rng(seedOf(`${prim}|${c.name}|gpu`)), "float32");
        if (!float32Only(c, probe)) continue;
        const failsByDesign = c.expectError?.value;
        for (const placement of ["all on device", "operand 0 on device"] as const) {
          if (placement === "operand 0 on device" && probe.length < 2) continue;
          it(`${c.name} (${placement})`, async () => {
            const xs = c.make(new Rng(seedOf(`${prim}|${c.name}|gpu`)), "float32");
            const params = paramsOf(c);
            const dev = xs.map((x, j) => (placement === "all on device" || j === 0 ? toND(x).to("webgpu") : toND(x)));
            const run = (args: NDArray[]) => bind(prim as Prim, args, params);
            if (prim === Prim.While) {
              expect(() => run(dev)).toThrow(DeviceError);
              expect(() => run(dev)).toThrow(/while loop/);
              ran++;
              return;
            }
            if (HOST_ONLY.has(prim as Prim)) {
              expect(() => run(dev)).toThrow(NotOnDeviceError);
              expect(() => run(dev)).toThrow(/move the (operands|arrays) to the cpu/);
              ran++;
              return;
            }
            if (failsByDesign !== undefined) {
              expect(() => run(dev)).toThrow(failsByDesign.error as never);
              return;
            }
            const want = run(xs.map(toND));
            const got = run(dev);
            expect(got.length).toBe(want.length);
            for (let k = 0; k < want.length; k++) {
              expect(got[k]!.device, `output ${k} stays on the device`).toBe("webgpu");
              await expectSame(`output ${k}`, got[k]!, want[k]!);
            }
            ran++;
          });
        }
      }
    });
  }
  it("ran a device case for every primitive but custom_lin", () => {
    expect(ran).toBeGreaterThan(0);
  });
});
