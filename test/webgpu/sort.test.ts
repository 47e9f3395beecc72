/**
 * argsort on the device is a bitonic network of compare-exchange passes: checked against a stable
 * host sort (NaN last) over rows that are not powers of two, inner strides, long rows and every
 * dtype the device holds; sort's gradient on the device equals the cpu's.
 */
import { describe, expect, it } from "vitest";
import { type NDArray, grad, jit, np } from "../../src/index.js";
import { requireAdapterInCI, runGpu } from "./setup.js";

/** The stable ascending order of `row`, NaN after everything (-0 and +0 tie). */
const hostOrder = (row: readonly number[]): number[] =>
  row
    .map((v, i) => [v, i] as const)
    .sort(([a, i], [b, j]) => {
      if (Number.isNaN(a) || Number.isNaN(b)) return Number.isNaN(a) && Number.isNaN(b) ? i - j : Number.isNaN(a) ? 1 : -1;
      return a < b ? -1 : a > b ? 1 : i - j;
    })
    .map(([, i]) => i);

const EDGES = [NaN, Infinity, -Infinity, 0, -0, 2.5, -2.5];
const values = (n: number, seed: number) =>
  Array.from({ length: n }, (_, i) => (i % 13 === 5 ? EDGES[(i + seed) % EDGES.length]! : ((i * 7919 + seed) % 101) - 50));

describe.runIf(runGpu)("webgpu argsort", () => {
  requireAdapterInCI();

  it("orders each row of a [3, 1000] float32 array with ties, NaN, ±inf and ±0 (axis 1)", async () => {
    const rows = [0, 1, 2].map((r) => values(1000, r));
    const got = await np.argsort(np.array(rows, { dtype: "float32" }).to("webgpu"), 1).data();
    expect(Array.from(got)).toEqual(rows.flatMap(hostOrder));
  });

  it("orders along axis 0 of a [777, 3] array (inner stride 3)", async () => {
    const cols = [0, 1, 2].map((c) => values(777, 10 + c));
    const x = np.array(cols, { dtype: "float32" }).transpose().to("webgpu");
    const got = Array.from(await np.argsort(x, 0).data());
    const want = cols.map(hostOrder);
    expect(got).toEqual(Array.from({ length: 777 * 3 }, (_, t) => want[t % 3]![Math.floor(t / 3)]!));
  });

  it("orders 70,000 values in one row (a 2^17-wide network)", async () => {
    const host = values(70_000, 3);
    expect(Array.from(await np.argsort(np.array(host, { dtype: "float32" }).to("webgpu")).data())).toEqual(
      hostOrder(Array.from(Float32Array.from(host))),
    );
  });

  it("int32 (negative), uint32 (past 2^31) and bool keys", async () => {
    const ints = Array.from({ length: 300 }, (_, i) => ((i * 37) % 61) - 30);
    expect(Array.from(await np.argsort(np.array(ints, { dtype: "int32" }).to("webgpu")).data())).toEqual(hostOrder(ints));
    const big = Array.from({ length: 300 }, (_, i) => ((i * 2654435761) % 4294967296) >>> 0);
    expect(Array.from(await np.argsort(np.array(big, { dtype: "uint32" }).to("webgpu")).data())).toEqual(hostOrder(big));
    const bools = Array.from({ length: 50 }, (_, i) => i % 3 === 0);
    expect(Array.from(await np.argsort(np.array(bools).to("webgpu")).data())).toEqual(hostOrder(bools.map(Number)));
  });

  it("jit(grad) of a loss through np.sort on the device equals the cpu", async () => {
    const host = values(64, 7).map((v) => (Number.isFinite(v) ? v / 10 + 0.001 * (v % 7) : 0.5));
    const loss = (x: NDArray) => np.sum(np.multiply(np.sort(x), np.linspace(0, 1, 64)));
    const want = Array.from(grad(loss)(np.array(host, { dtype: "float32" })).dataSync());
    const got = Array.from(await jit(grad(loss))(np.array(host, { dtype: "float32" }).to("webgpu")).data());
    expect(got).toEqual(want);
  });
});
