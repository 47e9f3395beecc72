/**
 * `matmul` with A stored transposed (K x M per batch entry, as a layer's input is in its weight
 * gradient Xᵀ·G) or B (N x K, weights in X·Wᵀ), or both: the wasm kernel packs them from those
 * layouts (`gemmT`, `packBT`), on one thread and on two; the strided kernel gathers them with
 * their strides; the JavaScript kernels read row-major copies. Every path gives the bits of
 * transposing first and multiplying, and `dot_general` takes the transposed routes.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { configureMatmul, lastMatmulPath, matmul, type MatmulConfig } from "../../interpreters/eval/kernels/matmul.js";
import { rng } from "../../laws/numeric.js";
import { lax, np } from "../../src/index.js";

type Ctor = Float32ArrayConstructor | Float64ArrayConstructor | Int32ArrayConstructor;

/** A [batch, k, m] (stored transposed) as [batch, m, k] row-major. */
function transpose(a: ArrayLike<number>, Ctor: Ctor, batch: number, m: number, k: number) {
  const t = new Ctor(batch * m * k);
  for (let b = 0; b < batch; b++) for (let i = 0; i < m; i++) for (let q = 0; q < k; q++) t[(b * m + i) * k + q] = a[(b * k + q) * m + i]!;
  return t;
}

/** The first element whose bits differ, or -1 (deep equality on a million bytes would take seconds). */
function firstDifference(a: ArrayBufferView, b: ArrayBufferView): number {
  const x = new Uint8Array(a.buffer, a.byteOffset, a.byteLength),
    y = new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
  if (x.length !== y.length) return 0;
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return i;
  return -1;
}

let saved: MatmulConfig;
beforeAll(() => {
  saved = configureMatmul({});
});
afterAll(() => {
  configureMatmul(saved);
});

const SHAPES: [number, number, number, number][] = [
  [1, 784, 128, 256], // a dense layer's weight gradient: in x batch by batch x out
  [3, 37, 19, 41], // edge tiles everywhere
  [2, 5, 300, 33], // deep, a partial last depth block (KC 256)
  [1, 130, 20, 1030], // more columns than one column block (NC 1024)
  [4, 9, 7, 6], // few columns: the strided kernel
  [2, 17, 5, 1], // one column: a matrix-vector product
];

describe("matmul with A stored transposed", () => {
  for (const [label, cfg] of [
    ["one thread", { wasm: true, threads: 1 }],
    ["two threads", { wasm: true, threads: 2, threadMinWork: 0 }],
    ["JavaScript kernels", { wasm: false }],
  ] as const)
    for (const Ctor of [Float32Array, Float64Array, Int32Array] as Ctor[])
      it(`${label}, ${Ctor.name}: the bits of transposing A first`, () => {
        configureMatmul({ ...saved, ...cfg });
        const r = rng(7);
        for (const [batch, m, k, n] of SHAPES) {
          const value = () => (Ctor === Int32Array ? Math.floor(r() * 2000) - 1000 : 2 * r() - 1);
          const at = Ctor.from(Array.from({ length: batch * k * m }, value)),
            bt = Ctor.from(Array.from({ length: batch * n * k }, value));
          const a = transpose(at, Ctor, batch, m, k),
            b = transpose(bt, Ctor, batch, k, n);
          const want = new Ctor(batch * m * n);
          matmul(a, b, want, batch, m, k, n);
          for (const [tA, tB] of [
            [true, false],
            [false, true],
            [true, true],
          ] as const) {
            const got = new Ctor(batch * m * n).fill(7);
            matmul(tA ? at : a, tB ? bt : b, got, batch, m, k, n, tA, tB);
            expect(firstDifference(got, want), `${batch}x${m}x${k}x${n} A ${tA ? "transposed" : "plain"}, B ${tB ? "transposed" : "plain"}`).toBe(-1);
          }
        }
        if (label === "two threads" && Ctor !== Int32Array) {
          // The last large product ran on the wasm kernel (threaded where the machine has two cores).
          const at = new Ctor(784 * 128).fill(0.5),
            b = new Ctor(128 * 256).fill(0.25);
          matmul(at, b, new Ctor(784 * 256), 1, 784, 128, 256, true);
          expect(lastMatmulPath()).toMatchObject({ path: "wasm" });
        }
      });

  it("dot_general contracting a matrix's first axis (Xᵀ·G), or its second with a second (X·Wᵀ), gives the bits of the explicit transpose", () => {
    configureMatmul(saved);
    const r = rng(11);
    const x = np.array(Float32Array.from({ length: 128 * 200 }, () => 2 * r() - 1)).reshape([128, 200]),
      g = np.array(Float32Array.from({ length: 128 * 64 }, () => 2 * r() - 1)).reshape([128, 64]);
    const direct = lax.dotGeneral(x, g, [
      [[0], [0]],
      [[], []],
    ]);
    const viaTranspose = np.matmul(np.array(Array.from(np.transpose(x).dataSync() as Float32Array)).reshape([200, 128]), g);
    expect(direct.shape).toEqual([200, 64]);
    expect(firstDifference(direct.dataSync() as Float32Array, viaTranspose.dataSync() as Float32Array)).toBe(-1);
    const w = np.array(Float32Array.from({ length: 96 * 200 }, () => 2 * r() - 1)).reshape([96, 200]);
    const xt = np.array(Array.from(np.transpose(x).dataSync() as Float32Array)).reshape([200, 128]);
    const xw = lax.dotGeneral(xt, w, [
      [[0], [1]],
      [[], []],
    ]);
    const wT = np.array(Array.from(np.transpose(w).dataSync() as Float32Array)).reshape([200, 96]);
    expect(xw.shape).toEqual([128, 96]);
    expect(firstDifference(xw.dataSync() as Float32Array, np.matmul(x, wT).dataSync() as Float32Array)).toBe(-1);
  });
});
