/**
 * scatter_add and scatter with more updates than one pass folds (SCATTER_CHUNK), so several passes
 * run in index order: over 65,536 updates piled onto a few positions (each output scans the
 * indices) and spread over many (the hits are sorted by position first), checked against plain
 * loops on the host (int32 exactly, with its wrap-around; float32 against float64 sums within
 * rounding; "set" keeping the last write, min and max), and an embedding lookup's gradient.
 */
import { describe, expect, it } from "vitest";
import { type NDArray, Prim, bind1, grad, np } from "../../src/index.js";
import { type GatherDims, SCATTER_CHUNK, sortsHits } from "../../interpreters/webgpu/kernels/gather.js";
import { requireAdapterInCI, runGpu } from "./setup.js";

const UPDATES = 70_000;
/** Indices into [0, n) from a fixed pattern, with a few out of range (clamped by scatter_add). */
const indices = (n: number) => Int32Array.from({ length: UPDATES }, (_, i) => (i % 997 === 0 ? (i % 2 ? -3 : n + 5) : (i * 7919 + (i >> 5)) % n));
const clamp = (j: number, n: number) => Math.min(n - 1, Math.max(0, j));
/** The way the kernel takes for these sizes, named in the test titles. */
const way = (d: Partial<GatherDims> & { n: number; I: number }) => (sortsHits({ B: 1, P: 1, Q: 1, ...d }) ? "sorted hits" : "scan");

describe.runIf(runGpu)("webgpu scatter over more updates than one pass", () => {
  requireAdapterInCI();
  expect(UPDATES).toBeGreaterThan(65_536);
  expect(UPDATES).toBeGreaterThan(4 * SCATTER_CHUNK);

  for (const n of [5, 3000]) {
    it(`scatter_add of ${UPDATES} updates onto ${n} positions (${way({ n, I: UPDATES })}): int32 exact (wrapping), float32 within rounding`, async () => {
      const idx = indices(n);
      const ints = Int32Array.from({ length: UPDATES }, (_, i) => ((i * 48271) % 2_000_001) * 997 - 1_000_000_000);
      const want = new Int32Array(n).fill(7);
      idx.forEach((j, i) => (want[clamp(j, n)] = (want[clamp(j, n)]! + ints[i]!) | 0));
      const x = np.full([n], 7, "int32").to("webgpu");
      const got = bind1(Prim.ScatterAdd, [x, np.array(idx, { dtype: "int32" }), np.array(ints, { dtype: "int32" })], { axis: 0, batchDims: 0 });
      expect(Array.from(await got.data())).toEqual(Array.from(want));

      const floats = Float32Array.from({ length: UPDATES }, (_, i) => ((i * 7919) % 1000) / 1000 - 0.25);
      const sums = new Float64Array(n);
      const mass = new Float64Array(n);
      idx.forEach((j, i) => {
        sums[clamp(j, n)]! += floats[i]!;
        mass[clamp(j, n)]! += Math.abs(floats[i]!);
      });
      const gf = bind1(Prim.ScatterAdd, [np.zeros([n]).to("webgpu"), np.array(idx, { dtype: "int32" }), np.array(floats)], { axis: 0, batchDims: 0 });
      const vals = Array.from(await gf.data());
      vals.forEach((v, j) => {
        if (!(Math.abs(v - sums[j]!) <= 1e-6 * mass[j]! * Math.log2(UPDATES))) expect.fail(`position ${j}: ${v} on webgpu, ${sums[j]} on the host`);
      });
    });
  }

  it(`scatter_add along a middle axis with trailing elements ([2, 40, 3] onto axis 1, ${way({ P: 2, n: 40, Q: 3, I: UPDATES })}): exact in int32`, async () => {
    const n = 40,
      idx = indices(n);
    const upd = Int32Array.from({ length: 2 * UPDATES * 3 }, (_, k) => (k % 13) - 6);
    const want = new Int32Array(2 * n * 3);
    for (let p = 0; p < 2; p++)
      for (let i = 0; i < UPDATES; i++) for (let q = 0; q < 3; q++) want[(p * n + clamp(idx[i]!, n)) * 3 + q] += upd[(p * UPDATES + i) * 3 + q]!;
    const got = bind1(
      Prim.ScatterAdd,
      [np.zeros([2, n, 3], "int32").to("webgpu"), np.array(idx, { dtype: "int32" }), np.array(upd, { dtype: "int32" }).reshape([2, UPDATES, 3])],
      { axis: 1, batchDims: 0 },
    );
    expect(Array.from(await got.data())).toEqual(Array.from(want));
  });

  it(`scatter_add with a batch dim ([3, 2000] by [3, 30000] indices, ${way({ B: 3, n: 2000, I: 30_000 })}): exact in int32`, async () => {
    const [B, n, I] = [3, 2000, 30_000];
    const idx = Int32Array.from({ length: B * I }, (_, k) => (((k * 2654435761) >>> 7) % (n + 40)) - 20);
    const upd = Int32Array.from({ length: B * I }, (_, k) => (k % 101) - 50);
    const want = new Int32Array(B * n);
    for (let b = 0; b < B; b++) for (let i = 0; i < I; i++) want[b * n + clamp(idx[b * I + i]!, n)] += upd[b * I + i]!;
    const got = bind1(
      Prim.ScatterAdd,
      [np.zeros([B, n], "int32").to("webgpu"), np.array(idx, { dtype: "int32" }).reshape([B, I]), np.array(upd, { dtype: "int32" }).reshape([B, I])],
      { axis: 1, batchDims: 1 },
    );
    expect(Array.from(await got.data())).toEqual(Array.from(want));
  });

  for (const [op, n] of [
    ["set", 50],
    ["min", 50],
    ["max", 50],
    ["set", 3000],
    ["min", 3000],
    ["max", 3000],
  ] as const) {
    it(`scatter ${op} of ${UPDATES} updates onto ${n} positions (${way({ n, I: UPDATES })}) folds them in index order`, async () => {
      const idx = indices(n);
      const upd = Int32Array.from({ length: UPDATES }, (_, i) => ((i * 104729) % 100_003) - 50_000);
      const want = Int32Array.from({ length: n }, (_, j) => j);
      idx.forEach((j, i) => {
        if (j < 0 || j >= n) return;
        const v = upd[i]!;
        want[j] = op === "set" ? v : op === "min" ? Math.min(want[j]!, v) : Math.max(want[j]!, v);
      });
      const x = np.arange(n).astype("int32").to("webgpu");
      const got = bind1(Prim.Scatter, [x, np.array(idx, { dtype: "int32" }), np.array(upd, { dtype: "int32" })], { axis: 0, batchDims: 0, op });
      expect(Array.from(await got.data())).toEqual(Array.from(want));
    });
  }

  it(`the gradient of an embedding lookup (np.take of 5000 ids from a [3000, 8] table, ${way({ n: 3000, Q: 8, I: 5000 })}) sums each row's cotangents`, async () => {
    const [rows, dim, ids] = [3000, 8, 5000];
    const id = Int32Array.from({ length: ids }, (_, i) => (i * 7919) % (rows / 2));
    const w = Float32Array.from({ length: ids * dim }, (_, k) => ((k * 31) % 17) / 16 - 0.5);
    const loss = (table: NDArray) => np.sum(np.take(table, np.array(id, { dtype: "int32" }), 0).mul(np.array(w).reshape([ids, dim])));
    const got = Array.from(await grad(loss)(np.zeros([rows, dim]).to("webgpu")).data());
    const want = new Float64Array(rows * dim);
    id.forEach((r, i) => {
      for (let q = 0; q < dim; q++) want[r * dim + q] += w[i * dim + q]!;
    });
    got.forEach((v, k) => {
      if (!(Math.abs(v - want[k]!) <= 1e-5)) expect.fail(`element ${k}: ${v} on webgpu, ${want[k]} on the host`);
    });
  });
});
