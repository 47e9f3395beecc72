/**
 * The deviceEqualsCpu law from fluxion/laws over random float32 programs, and a planted device
 * bug it must catch.
 */
import { describe, expect, it } from "vitest";
import { backendFor } from "../../src/core/device.js";
import { Prim, np } from "../../src/index.js";
import { LawViolation, arb, assertDeviceEqualsCpu, checkDeviceEqualsCpu, makeCase } from "../../laws/index.js";
import { requireAdapterInCI, runGpu } from "./setup.js";

describe.runIf(runGpu)("law: device equals CPU", () => {
  requireAdapterInCI();

  it("holds on random float32 programs", async () => {
    const jitted = await assertDeviceEqualsCpu(arb.programCases({ dtypes: ["float32"] }), { numRuns: 60, seed: 20261126 });
    const eager = await assertDeviceEqualsCpu(arb.programCases({ dtypes: ["float32"] }), { numRuns: 30, seed: 7, jit: false });
    // Programs that convert to float64 inside do not apply to WebGPU; most programs do.
    expect(jitted).toBeGreaterThanOrEqual(40);
    expect(eager).toBeGreaterThanOrEqual(20);
  });

  it("catches a planted device bug (sin computed as cos on the device)", async () => {
    const backend = backendFor("test", "webgpu");
    const original = backend.process.bind(backend);
    const c = makeCase({ f: (x) => np.sin(x), args: [np.array([0.3, -1.1, 2.0])] });
    await checkDeviceEqualsCpu(c, { jit: false });
    backend.process = ((prim, args, params, outs) =>
      original(prim === Prim.Sin ? Prim.Cos : prim, args, params as never, outs)) as typeof backend.process;
    try {
      await expect(checkDeviceEqualsCpu(c, { jit: false })).rejects.toThrow(LawViolation);
    } finally {
      backend.process = original;
    }
    await checkDeviceEqualsCpu(c, { jit: false });
  });
});
