import { afterAll, beforeAll, describe, it, expect } from "vitest";
import { configureMatmul, matmul, type FloatArray, type MatmulConfig } from "../../interpreters/eval/kernels/matmul.js";
import { rng } from "../../laws/numeric.js";

// These tests cover the JavaScript kernels; matmul_wasm.test.ts covers the WebAssembly backend.
let saved: MatmulConfig;
beforeAll(() => {
  saved = configureMatmul({ wasm: false });
});
afterAll(() => {
  configureMatmul(saved);
});

/** [batch, M, K, N]: edge cases, block-boundary straddlers and batch > 1. */
const SHAPES: [number, number, number, number][] = [
  [1, 1, 1, 1],
  [1, 0, 5, 3],
  [1, 4, 5, 0],
  [1, 3, 0, 4],
  [0, 3, 4, 5], // empty results / empty depth
  [1, 1, 1000, 37], // vector-matrix (M = 1)
  [1, 2, 9, 70],
  [1, 3, 5, 3], // M < 4
  [1, 57, 123, 1],
  [1, 9, 10, 2], // matrix-vector (N = 1, 2)
  [1, 40, 1, 33],
  [1, 17, 3, 9], // outer product (K = 1), K < 4
  [1, 4, 4, 4],
  [1, 8, 8, 8],
  [1, 7, 13, 5],
  [1, 13, 7, 3],
  [1, 33, 65, 17],
  [1, 64, 64, 64],
  [1, 100, 6, 130],
  [1, 21, 517, 9], // depth block boundary (KC = 512) plus a K remainder
  [1, 12, 9, 530], // column block boundary (NC = 512)
  [1, 15, 1030, 520], // both boundaries, row groups 8 + 4 + 1 + 1 + 1
  [3, 5, 7, 6],
  [4, 1, 1, 1],
  [2, 9, 1, 11],
  [3, 19, 31, 2],
  [2, 33, 20, 17],
];

/** Straightforward float64 reference: C[b] = A[b] · B[b], naive i-j-p loop. */
function reference(a: ArrayLike<number>, b: ArrayLike<number>, batch: number, m: number, k: number, n: number) {
  const c = new Float64Array(batch * m * n);
  for (let bi = 0; bi < batch; bi++) {
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        let s = 0;
        for (let p = 0; p < k; p++) s += a[bi * m * k + i * k + p] * b[bi * k * n + p * n + j];
        c[bi * m * n + i * n + j] = s;
      }
    }
  }
  return c;
}

/** Same reference for Int32Array, with int32 wrap-around. */
function referenceInt(a: Int32Array, b: Int32Array, batch: number, m: number, k: number, n: number) {
  const c = new Int32Array(batch * m * n);
  for (let bi = 0; bi < batch; bi++) {
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        let s = 0;
        for (let p = 0; p < k; p++) s = (s + Math.imul(a[bi * m * k + i * k + p], b[bi * k * n + p * n + j])) | 0;
        c[bi * m * n + i * n + j] = s;
      }
    }
  }
  return c;
}

type FloatCtor = Float32ArrayConstructor | Float64ArrayConstructor;

/** A new array of the given type with element i set to f(i). */
function filled(Ctor: new (length: number) => FloatArray, length: number, f: (i: number) => number): FloatArray {
  const out = new Ctor(length);
  for (let i = 0; i < length; i++) out[i] = f(i);
  return out;
}

/** Max over entries of |got - want| / (1 + sum_p |a_ip * b_pj|), a scale-aware relative error. */
function maxScaledError(got: FloatArray, want: Float64Array, a: FloatArray, b: FloatArray, batch: number, m: number, k: number, n: number): number {
  let worst = 0;
  for (let bi = 0; bi < batch; bi++) {
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        let scale = 1;
        for (let p = 0; p < k; p++) scale += Math.abs(a[bi * m * k + i * k + p] * b[bi * k * n + p * n + j]);
        const idx = bi * m * n + i * n + j;
        worst = Math.max(worst, Math.abs(got[idx] - want[idx]) / scale);
      }
    }
  }
  return worst;
}

function checkFloat(Ctor: FloatCtor, tol: number, [batch, m, k, n]: [number, number, number, number], seed: number) {
  const r = rng(seed);
  const a = filled(Ctor, batch * m * k, () => r() * 2 - 1);
  const b = filled(Ctor, batch * k * n, () => r() * 2 - 1);
  const c = new Ctor(batch * m * n).fill(Number.NaN); // must be fully overwritten
  matmul(a, b, c, batch, m, k, n);
  const want = reference(a, b, batch, m, k, n);
  for (let i = 0; i < c.length; i++) expect(Number.isFinite(c[i])).toBe(true);
  expect(maxScaledError(c, want, a, b, batch, m, k, n)).toBeLessThanOrEqual(tol);
}

describe("matmul kernel", () => {
  for (const [name, Ctor, tol] of [
    ["Float32Array", Float32Array, 1e-4],
    ["Float64Array", Float64Array, 1e-12],
  ] as const) {
    describe(name, () => {
      SHAPES.forEach((shape, idx) => {
        it(`matches the float64 reference for [batch, M, K, N] = [${shape.join(", ")}]`, () => {
          checkFloat(Ctor, tol, shape, 1000 + idx);
        });
      });

      it("overwrites C (does not accumulate) on repeated calls", () => {
        const a = new Ctor([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
        const b = new Ctor([1, 0, 0, 1, 1, 1]);
        const c = new Ctor(8).fill(123);
        matmul(a, b, c, 1, 4, 3, 2);
        matmul(a, b, c, 1, 4, 3, 2);
        expect(Array.from(c)).toEqual([4, 5, 10, 11, 16, 17, 22, 23]);
      });

      it("zeroes C when K = 0", () => {
        const c = new Ctor(6).fill(7);
        matmul(new Ctor(0), new Ctor(0), c, 2, 1, 0, 3);
        expect(Array.from(c)).toEqual([0, 0, 0, 0, 0, 0]);
      });

      it("computes exact small-integer products on a large blocked shape", () => {
        const [m, k, n] = [37, 600, 45];
        const a = filled(Ctor, m * k, (i) => (i % 7) - 3);
        const b = filled(Ctor, k * n, (i) => (i % 5) - 2);
        const c = new Ctor(m * n);
        matmul(a, b, c, 1, m, k, n);
        expect(Array.from(c)).toEqual(Array.from(reference(a, b, 1, m, k, n)));
      });
    });
  }

  describe("Int32Array", () => {
    SHAPES.forEach(([batch, m, k, n], idx) => {
      it(`matches the wrapped int32 reference exactly for [batch, M, K, N] = [${[batch, m, k, n].join(", ")}]`, () => {
        const r = rng(2000 + idx);
        const a = filled(Int32Array, batch * m * k, () => Math.floor(r() * 2001) - 1000) as Int32Array;
        const b = filled(Int32Array, batch * k * n, () => Math.floor(r() * 2001) - 1000) as Int32Array;
        const c = new Int32Array(batch * m * n).fill(-1);
        matmul(a, b, c, batch, m, k, n);
        expect(Array.from(c)).toEqual(Array.from(referenceInt(a, b, batch, m, k, n)));
      });
    });

    it("wraps overflowing products and sums to int32", () => {
      const a = new Int32Array([0x7fffffff, 0x40000000, -0x80000000, 3]);
      const b = new Int32Array([0x7fffffff, 2, 0x40000000, 5]);
      const c = new Int32Array(4);
      matmul(a, b, c, 1, 2, 2, 2);
      expect(Array.from(c)).toEqual([
        (Math.imul(0x7fffffff, 0x7fffffff) + Math.imul(0x40000000, 0x40000000)) | 0,
        (Math.imul(0x7fffffff, 2) + Math.imul(0x40000000, 5)) | 0,
        (Math.imul(-0x80000000, 0x7fffffff) + Math.imul(3, 0x40000000)) | 0,
        (Math.imul(-0x80000000, 2) + 15) | 0,
      ]);
      expect(c[0]).toBe(1); // (2^31 - 1)^2 + 2^60 = 1 (mod 2^32)
    });
  });

  describe("argument checks", () => {
    it("rejects buffers that are too short", () => {
      expect(() => matmul(new Float64Array(5), new Float64Array(6), new Float64Array(4), 1, 2, 3, 2)).toThrow(RangeError);
    });
    it("rejects negative or fractional sizes", () => {
      const z = new Float64Array(0);
      expect(() => matmul(z, z, z, 1, -1, 0, 0)).toThrow(RangeError);
      expect(() => matmul(z, z, z, 1.5, 0, 0, 0)).toThrow(RangeError);
    });
    it("rejects mixed element types", () => {
      expect(() => matmul(new Float32Array(1), new Float64Array(1), new Float32Array(1), 1, 1, 1, 1)).toThrow(TypeError);
    });
  });
});
