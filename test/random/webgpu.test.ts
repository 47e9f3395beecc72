/**
 * The random generator on the WebGPU backend (u32 in WGSL): jitted split, uniform and normal on the
 * device equal the CPU's, and the wrapping uint32 chain matches BigInt. Skipped without an adapter
 * (required in CI, as the other WebGPU suites).
 */
import { describe, expect, it } from "vitest";
import { type NDArray, jit, np, random } from "../../src/index.js";
import { requireAdapterInCI, runGpu } from "../webgpu/setup.js";

requireAdapterInCI();

describe.runIf(runGpu)("random on webgpu", () => {
  it("split, uniform and normal under jit on the device equal the cpu bit for bit", async () => {
    const fs = [(k: NDArray) => random.split(k, 3), (k: NDArray) => random.uniform(k, [7]), (k: NDArray) => random.normal(k, [5])];
    for (const f of fs) {
      const gpu = Array.from(await jit(f, { device: "webgpu" })(random.key(42)).data());
      expect(gpu).toEqual(Array.from(f(random.key(42)).dataSync()));
    }
  });

  it("wrapping uint32 multiply, shifts and xor match BigInt", async () => {
    const x = [0xffffffff, 7, 0x12345678],
      y = [3, 0x80000001, 0x9abcdef0];
    const f = (a: NDArray, b: NDArray) => np.rightShift(np.bitwiseXor(np.multiply(a, b), np.leftShift(a, 3)), 5);
    const got = Array.from(await jit(f, { device: "webgpu" })(np.array(x, { dtype: "uint32" }), np.array(y, { dtype: "uint32" })).data());
    const M = 0xffffffffn;
    const want = x.map((a, i) => Number(((((BigInt(a) * BigInt(y[i]!)) & M) ^ ((BigInt(a) << 3n) & M)) >> 5n) & M));
    expect(got).toEqual(want);
  });
});
