/**
 * The matrix-vector steps of the Householder reductions (interpreters/eval/kernels/linalg_blas2.ts):
 * on arrays in the kernels' workspace they run in WebAssembly, elsewhere in JavaScript, and both
 * give the same bits; both equal plain sums to rounding. The SVD and eigh panels take the
 * WebAssembly path.
 */
import { afterEach, describe, expect, it } from "vitest";
import { np } from "../../src/index.js";
import { addRowPairs, blas2Paths, rowDots, symmetricProduct, workspace } from "../../interpreters/eval/kernels/linalg_blas2.js";
import { configureMatmul } from "../../interpreters/eval/kernels/matmul.js";
import { rand } from "./matrices.js";

/** Copies of the arrays laid out one after another in the workspace. */
function inWorkspace(...xs: Float64Array[]): Float64Array[] {
  const ws = workspace(xs.reduce((n, x) => n + x.length, 0));
  if (ws === null) throw new Error("no workspace");
  let at = 0;
  return xs.map((x) => {
    const view = ws.subarray(at, at + x.length);
    view.set(x);
    at += x.length;
    return view;
  });
}

const close = (got: ArrayLike<number>, want: number[], what: string) =>
  want.forEach((w, i) => expect(Math.abs(got[i]! - w), `${what} [${i}]`).toBeLessThanOrEqual(1e-12 * (1 + Math.abs(w))));

/** Row counts and column counts around the kernels' groups (4 rows, 2 rows, 2 columns), with padded row strides. */
const SHAPES = [
  [7, 9, 12],
  [8, 8, 8],
  [1, 5, 5],
  [33, 31, 40],
  [2, 1, 3],
  [6, 2, 4],
  [5, 3, 3],
  [0, 3, 3],
  [4, 0, 3],
] as const;

describe("matrix-vector kernels of the reductions", () => {
  const saved = configureMatmul();
  afterEach(() => void configureMatmul(saved));

  it("addRowPairs and rowDots: WebAssembly on the workspace equals JavaScript bit for bit, and plain sums to rounding", () => {
    for (const [rows, cols, lda] of SHAPES) {
      const seed = rows * 100 + cols;
      // A at offset 3 with row stride lda; v every third entry from 1; y and out from 1.
      const a = rand(rows * lda + 8, seed),
        v = rand(3 * rows + 2, seed + 1),
        y = rand(cols + 2, seed + 2),
        u = rand(cols + 2, seed + 3),
        out = rand(rows + 2, seed + 4);
      const A = (r: number, c: number) => a[3 + r * lda + c]!;
      const wantY = Array.from(
        { length: cols },
        (_, c) => y[1 + c]! + Array.from({ length: rows }, (_, r) => v[1 + 3 * r]! * A(r, c)).reduce((s, t) => s + t, 0),
      );
      const wantOut = Array.from({ length: rows }, (_, r) => Array.from({ length: cols }, (_, c) => A(r, c) * u[1 + c]!).reduce((s, t) => s + t, 0));
      const [wa, wv, wy, wu, wo] = inWorkspace(a, v, y, u, out);
      const before = blas2Paths();
      addRowPairs(wa!, 3, lda, wv!, 1, 3, rows, wy!, 1, cols);
      rowDots(wa!, 3, lda, wu!, 1, rows, cols, wo!, 1);
      expect(blas2Paths().wasm - before.wasm).toBe(2);
      addRowPairs(a, 3, lda, v, 1, 3, rows, y, 1, cols);
      rowDots(a, 3, lda, u, 1, rows, cols, out, 1);
      expect(blas2Paths().js - before.js).toBe(2);
      expect(wy, `y ${rows}×${cols}`).toEqual(y);
      expect(wo, `out ${rows}×${cols}`).toEqual(out);
      close(y.subarray(1), wantY, `y ${rows}×${cols}`);
      close(out.subarray(1), wantOut, `out ${rows}×${cols}`);
      // Entries outside the ranges are untouched.
      expect([y[0], out[0], out[rows + 1]]).toEqual([rand(cols + 2, seed + 2)[0], rand(rows + 2, seed + 4)[0], rand(rows + 2, seed + 4)[rows + 1]]);
    }
  });

  it("symmetricProduct: S·v from the lower triangle alone, WebAssembly equal to JavaScript bit for bit; odd and even orders", () => {
    for (const len of [0, 1, 2, 3, 6, 7, 32, 33]) {
      const ld = len + 3;
      // The upper triangle holds garbage that must not be read.
      const a = rand(len * ld + 4, len),
        v = rand(len + 2, len + 1),
        y = rand(len + 2, len + 2);
      const S = (r: number, c: number) => a[2 + Math.max(r, c) * ld + Math.min(r, c)]!;
      const want = Array.from({ length: len }, (_, r) => Array.from({ length: len }, (_, c) => S(r, c) * v[1 + c]!).reduce((s, t) => s + t, 0));
      const [wa, wv, wy] = inWorkspace(a, v, y);
      const before = blas2Paths();
      symmetricProduct(wa!, 2, ld, len, wv!, 1, wy!, 1);
      expect(blas2Paths().wasm - before.wasm).toBe(1);
      symmetricProduct(a, 2, ld, len, v, 1, y, 1);
      expect(wy, `order ${len}`).toEqual(y);
      close(y.subarray(1), want, `order ${len}`);
      expect(y[len + 1]).toBe(rand(len + 2, len + 2)[len + 1]);
    }
  });

  it("with the WebAssembly kernels off there is no workspace, and the SVD and eigh panels run the JavaScript loops", () => {
    configureMatmul({ wasm: false });
    expect(workspace(16)).toBeNull();
    const before = blas2Paths();
    np.linalg.svd(np.array(Array.from(rand(110 * 100, 3)), { dtype: "float64" }).reshape([110, 100]));
    expect(blas2Paths().wasm).toBe(before.wasm);
    expect(blas2Paths().js).toBeGreaterThan(before.js);
  });

  it("the SVD and eigh panels run in WebAssembly", () => {
    configureMatmul({ wasm: true });
    const n = 100,
      a = rand(n * n, 5),
      sym = a.map((_, k) => a[k]! + a[(k % n) * n + Math.floor(k / n)]!);
    let before = blas2Paths();
    np.linalg.svd(np.array(Array.from(a), { dtype: "float64" }).reshape([n, n]));
    expect(blas2Paths().wasm - before.wasm).toBeGreaterThanOrEqual(32 * 2);
    before = blas2Paths();
    np.linalg.eigh(np.array(Array.from(sym), { dtype: "float64" }).reshape([n, n]));
    expect(blas2Paths().wasm - before.wasm).toBeGreaterThanOrEqual(32);
  });
});
