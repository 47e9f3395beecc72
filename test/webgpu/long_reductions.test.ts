/**
 * Reductions over axes longer than one workgroup's segment run in several passes (no invocation
 * loops long); checked against float64 sums on the host, including past 2^24 elements.
 */
import { describe, expect, it } from "vitest";
import { Prim, bind1, np } from "../../src/index.js";
import { REDUCE_SEGMENT, SEGMENT } from "../../interpreters/webgpu/kernels/reduce.js";
import { requireAdapterInCI, runGpu } from "./setup.js";

const pattern = (n: number) => Float32Array.from({ length: n }, (_, i) => ((i * 7919) % 1000) / 1000);
const hostSum = (xs: Float32Array, from = 0, to = xs.length) => {
  let s = 0;
  for (let i = from; i < to; i++) s += xs[i]!;
  return s;
};

describe.runIf(runGpu)("webgpu reductions over long axes", () => {
  requireAdapterInCI();

  it("sums 17,000,000 floats (past 2^24, several passes) to float32 accuracy", async () => {
    const host = pattern(17_000_000);
    const [got] = await np.sum(np.array(host).to("webgpu")).data();
    const want = hostSum(host);
    expect(Math.abs(got! - want) / want).toBeLessThan(1e-6);
  });

  it("reduces each row of a [3, 5 segments + 7] array, with max and min keeping NaN across segments", async () => {
    const n = 5 * REDUCE_SEGMENT + 7,
      host = pattern(3 * n);
    host[n + 2 * REDUCE_SEGMENT + 5] = 3; // row 1's maximum, in its third segment
    host[2 * n + 4 * REDUCE_SEGMENT + 1] = Number.NaN; // row 2, in its fifth segment
    const x = np.array(host).reshape([3, n]).to("webgpu");
    const sums = Array.from(await np.sum(x, 1).data());
    expect(sums[0]).toBeCloseTo(hostSum(host, 0, n), 1);
    expect(sums[1]).toBeCloseTo(hostSum(host, n, 2 * n), 1);
    expect(Number.isNaN(sums[2])).toBe(true);
    const maxes = Array.from(await np.max(x, 1).data());
    expect(maxes[1]).toBe(3);
    expect(Number.isNaN(maxes[2])).toBe(true);
    const mins = Array.from(await np.min(x, 1).data());
    expect(mins[0]).toBe(0);
    expect(Number.isNaN(mins[2])).toBe(true);
  });

  it("argmax and argmin over segments: the first extremum wins across segments, and a NaN counts as one", async () => {
    const n = 3 * SEGMENT + 5,
      host = pattern(2 * n);
    host[SEGMENT + 3] = 5;
    host[2 * SEGMENT + 1] = 5; // a tie in a later segment: the first wins
    host[n + 2 * SEGMENT + 9] = Number.NaN;
    host[n + 3 * SEGMENT + 2] = Number.NaN;
    const x = np.array(host).reshape([2, n]).to("webgpu");
    expect(Array.from(await np.argmax(x, 1).data())).toEqual([SEGMENT + 3, 2 * SEGMENT + 9]);
    host[2 * SEGMENT + 4] = -1;
    const y = np.array(host).reshape([2, n]).to("webgpu");
    expect(Array.from(await np.argmin(y, 1).data())).toEqual([2 * SEGMENT + 4, 2 * SEGMENT + 9]);
  });

  it("argmax over 17,000,000 floats (three passes)", async () => {
    const host = pattern(17_000_000);
    host[16_999_000] = 2;
    expect(Array.from(await np.argmax(np.array(host).to("webgpu")).data())).toEqual([16_999_000]);
  });

  for (const reverse of [false, true]) {
    it(`cumsum over long rows (blocked scan${reverse ? ", from the end" : ""}) matches float64 running sums`, async () => {
      const n = 3 * SEGMENT + 77,
        host = pattern(2 * n);
      const x = np.array(host).reshape([2, n]).to("webgpu");
      const got = Array.from(await bind1(Prim.Cumsum, [x], { axis: 1, reverse }).data());
      for (let row = 0; row < 2; row++) {
        let acc = 0;
        for (let k = 0; k < n; k++) {
          const i = reverse ? n - 1 - k : k;
          acc += host[row * n + i]!;
          const g = got[row * n + i]!;
          if (Math.abs(g - acc) > 1e-6 * Math.max(1, acc) + 1e-3) expect.fail(`row ${row} position ${i}: ${g} vs ${acc}`);
        }
      }
    });
  }

  it("cumsum of a long int32 column (strided rows) is exact, past 65,536 positions", async () => {
    const n = 70_000;
    const host = Int32Array.from({ length: 2 * n }, (_, i) => (i % 13) - 6);
    const got = await np.cumsum(np.array(host, { dtype: "int32" }).reshape([n, 2]).to("webgpu"), 0).data();
    const acc = [0, 0];
    for (let k = 0; k < n; k++) {
      for (let c = 0; c < 2; c++) {
        acc[c]! += host[k * 2 + c]!;
        if (got[k * 2 + c] !== acc[c]) expect.fail(`position ${k}, column ${c}: ${got[k * 2 + c]} vs ${acc[c]}`);
      }
    }
  });

  it("sums a long int32 axis exactly", async () => {
    const n = 3 * REDUCE_SEGMENT + 11;
    const host = Int32Array.from({ length: n }, (_, i) => (i % 17) - 8);
    let want = 0;
    for (const v of host) want += v;
    const [got] = await np.sum(np.array(host, { dtype: "int32" }).to("webgpu")).data();
    expect(got).toBe(want);
  });
});
