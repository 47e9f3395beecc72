import { afterEach, describe, expect, it } from "vitest";
import { configureMatmul, lastMatmulPath, matmul } from "../../interpreters/eval/kernels/matmul.js";
import { matvecTransposedWasm, matvecWasm } from "../../interpreters/eval/kernels/matvec_wasm.js";
import { holdDuring } from "../../src/core/buffers.js";
import { type NDArray, grad, jit, lax, np } from "../../src/index.js";
import { rng } from "../../laws/numeric.js";

/**
 * The matrix-vector wasm kernel (N = 1) must give the JavaScript kernel's bits, since eager calls and
 * compiled loops may reach either. The reference below spells out that arithmetic: per row, four
 * float64 partial sums over depths p ≡ 0..3 (mod 4), leftovers into the first, then
 * s0 + s1 + (s2 + s3), rounded once into the output array.
 */
function reference(a: ArrayLike<number>, x: ArrayLike<number>, out: Float32Array | Float64Array, batch: number, m: number, k: number): void {
  for (let b = 0; b < batch; b++) {
    for (let i = 0; i < m; i++) {
      const s = [0, 0, 0, 0];
      let p = 0;
      for (; p + 4 <= k; p += 4) for (let r = 0; r < 4; r++) s[r]! += a[(b * m + i) * k + p + r]! * x[b * k + p + r]!;
      for (; p < k; p++) s[0]! += a[(b * m + i) * k + p]! * x[b * k + p]!;
      out[b * m + i] = s[0]! + s[1]! + (s[2]! + s[3]!);
    }
  }
}

const SHAPES: [number, number, number][] = [
  [1, 64, 64],
  [1, 64, 32],
  [1, 4, 64], // exactly one block of rows
  [1, 7, 67], // row and depth remainders
  [1, 130, 3], // depth below one vector step
  [3, 33, 29], // batch
  [1, 2100, 513], // more rows than one 4 MiB chunk (float32) / two chunks (float64)
];

describe("matrix-vector wasm kernel", () => {
  afterEach(() => {
    configureMatmul({ wasm: true });
  });

  for (const Ctor of [Float32Array, Float64Array]) {
    for (const [batch, m, k] of SHAPES) {
      it(`${Ctor.name.replace("Array", "")} batch ${batch}, ${m} × ${k}: same bits as the JavaScript kernel and the reference`, () => {
        const next = rng(m * 1000 + k);
        const a = new Ctor(batch * m * k).map(() => next() * 2 - 1),
          x = new Ctor(batch * k).map(() => next() * 4 - 2);
        if (k > 5) [a[3], x[1], a[k + 2]] = [-0, Infinity, NaN];
        const want = new Ctor(batch * m);
        reference(a, x, want, batch, m, k);
        const viaWasm = new Ctor(batch * m);
        matmul(a, x, viaWasm, batch, m, k, 1);
        expect(lastMatmulPath().path).toBe("wasm");
        configureMatmul({ wasm: false });
        const viaJs = new Ctor(batch * m);
        matmul(a, x, viaJs, batch, m, k, 1);
        expect(lastMatmulPath().path).toBe("js");
        for (let i = 0; i < want.length; i++) {
          if (!Object.is(viaWasm[i], want[i]) || !Object.is(viaJs[i], want[i]))
            expect.fail(`element ${i}: wasm ${viaWasm[i]}, js ${viaJs[i]}, reference ${want[i]}`);
        }
      });
    }
  }

  for (const Ctor of [Float32Array, Float64Array]) {
    for (const [k, m] of [
      [64, 64],
      [67, 63], // odd column count: the last pair's second lane is dropped
      [5, 65],
      [300, 1],
      [3, 129],
    ] as const) {
      it(`${Ctor.name.replace("Array", "")} transposed ${k} × ${m}: the bits of the product with the transposed copy`, () => {
        const next = rng(k * 7 + m);
        const a = new Ctor(k * m).map(() => next() * 2 - 1),
          x = new Ctor(k).map(() => next() * 4 - 2);
        if (m > 3) [a[2], x[k - 1]] = [Infinity, -0];
        const at = new Ctor(m * k);
        for (let p = 0; p < k; p++) for (let i = 0; i < m; i++) at[i * k + p] = a[p * m + i]!;
        const want = new Ctor(m),
          got = new Ctor(m);
        reference(at, x, want, 1, m, k);
        expect(matvecTransposedWasm(a, x, got, m, k)).toBe(true);
        for (let i = 0; i < m; i++) if (!Object.is(got[i], want[i])) expect.fail(`element ${i}: wasm ${got[i]}, reference ${want[i]}`);
      });
    }
  }

  it("an RNN gradient (Wᵀ·v every backward step) has the same bits with the wasm kernels off", () => {
    const next = rng(5);
    const vals = (n: number, s: number) => Array.from({ length: n }, () => (next() * 2 - 1) * s);
    const w = np.array(vals(48 * 48, 0.2), { shape: [48, 48] }),
      xs = np.array(vals(6 * 48, 1), { shape: [6, 48] });
    const loss = (w: NDArray) =>
      np.sum(np.square(lax.scan((h: NDArray, x: NDArray) => [np.tanh(np.matmul(w, h).add(x)), null], np.zeros([48]), xs)[0]));
    const on = grad(loss)(w).dataSync();
    configureMatmul({ wasm: false });
    const off = grad(loss)(w).dataSync();
    expect(Array.from(on)).toEqual(Array.from(off));
  });

  it("keeps a matrix a loop holds in its memory for that hold only (both kernels), and copies others every call", () => {
    const m = 24,
      k = 40;
    const a = Float32Array.from({ length: m * k }, (_, i) => Math.sin(i)),
      x = Float32Array.from({ length: k }, (_, i) => Math.cos(i));
    const product = () => {
      const y = new Float32Array(m),
        yt = new Float32Array(k);
      expect(matvecWasm(a, x, y, 1, m, k)).toBe(true);
      expect(matvecTransposedWasm(a, x.subarray(0, m), yt, k, m)).toBe(true);
      return [...y, ...yt];
    };
    const before = product();
    holdDuring([a], () => {
      expect(product()).toEqual(before); // the first call copies a in
      // A held array must not change; if it did, the kept copy would still be used:
      a[0] = 1000;
      expect(product()).toEqual(before);
    });
    // Outside the hold (and in a later hold) the kernels read a afresh.
    const after = product();
    expect(after).not.toEqual(before);
    expect(holdDuring([a], product)).toEqual(after);
    a[0] = Math.sin(0);
    expect(product()).toEqual(before);
  });

  it("an RNN step under jit (weights kept for the scan) gives the eager bits", () => {
    const next = rng(9);
    const vals = (n: number, s: number) => Array.from({ length: n }, () => (next() * 2 - 1) * s);
    const w = np.array(vals(64 * 64, 0.2), { shape: [64, 64] }),
      u = np.array(vals(64 * 32, 0.2), { shape: [64, 32] }),
      xs = np.array(vals(20 * 32, 1), { shape: [20, 32] });
    const last = (w: NDArray, u: NDArray, xs: NDArray) =>
      lax.scan((h: NDArray, x: NDArray) => [np.tanh(np.matmul(w, h).add(np.matmul(u, x))), null], np.zeros([64]), xs)[0];
    const eager = last(w, u, xs).dataSync();
    const f = jit(last);
    expect(Array.from(f(w, u, xs).dataSync())).toEqual(Array.from(eager));
    // New weights in the same storage shape: nothing kept from the previous run is reused.
    const w2 = np.array(vals(64 * 64, 0.2), { shape: [64, 64] });
    expect(Array.from(f(w2, u, xs).dataSync())).toEqual(Array.from(last(w2, u, xs).dataSync()));
  });

  it("leaves tiny products to JavaScript", () => {
    const c = new Float32Array(3);
    matmul(new Float32Array(12).fill(1), new Float32Array(4).fill(2), c, 1, 3, 4, 1);
    expect(lastMatmulPath().path).toBe("js");
    expect(Array.from(c)).toEqual([8, 8, 8]);
  });
});
