/**
 * Coverage entries of the linear-algebra primitives: each reaches its primitive through the public
 * API inside its smooth domain — positive-definite matrices for cholesky, a diagonal far from 0 for
 * triangular solves, the determinant (smooth across pivot changes) for lu, and matrices whose
 * eigenvalues / singular values are well separated and away from 0 for eigh, svd and qr.
 */
import fc from "fast-check";
import { type NDArray, Prim, linalg, np } from "../../src/index.js";
import { arb, makeCase } from "../../laws/index.js";
import type { PrimEntry } from "./coverage.js";
import { squash } from "./squash.js";

type Fn = (...args: any[]) => unknown;

/** An entry over one or two operands of fixed shapes (a batch axis in front when `batch` is drawn). */
function matrixEntry(shapes: (b: number[]) => number[][], f: Fn, source: string): PrimEntry {
  const cases = fc
    .record({ dtype: arb.floatDType(), lead: fc.constantFrom<number[]>([], [2]) })
    .chain(({ dtype, lead }) =>
      fc
        .array(fc.tuple(...shapes(lead).map((s) => arb.array({ shape: s, dtype, min: -1, max: 1 }))), { minLength: 3, maxLength: 3 })
        .map(([a, ...rest]) => makeCase({ f: squash(f), args: a!, batch: rest, source: `tanh ∘ ${source} with lead ${JSON.stringify(lead)}` })),
    );
  return { cases };
}

/** x plus a constant diagonal `d` (broadcast over leading axes). */
const plusDiag = (x: NDArray, d: number[]): NDArray =>
  np.add(x, np.multiply(np.eye(d.length, undefined, 0, x.dtype), np.array(d, { dtype: x.dtype })));

export const linalgCoverage: Partial<Record<Prim, PrimEntry>> = {
  [Prim.Cholesky]: matrixEntry(
    (b) => [[...b, 3, 3]],
    (x: NDArray) => np.linalg.cholesky(plusDiag(np.matmul(x, np.swapaxes(x, -1, -2)), [1, 1, 1])),
    "np.linalg.cholesky(x xᵀ + I)",
  ),
  [Prim.TriangularSolve]: matrixEntry(
    (b) => [
      [...b, 3, 3],
      [...b, 3, 2],
    ],
    (a: NDArray, y: NDArray) => linalg.solveTriangular(plusDiag(a, [3, 3, 3]), y, { lower: true }),
    "linalg.solveTriangular(a + 3I, b, { lower: true })",
  ),
  [Prim.Lu]: matrixEntry(
    (b) => [[...b, 3, 3]],
    (x: NDArray) => np.linalg.det(plusDiag(x, [3, -3, 3])),
    "np.linalg.det(x + diag(3, -3, 3))",
  ),
  [Prim.Qr]: matrixEntry(
    (b) => [[...b, 3, 2]],
    (x: NDArray) =>
      np.linalg.qr(
        np.add(
          np.multiply(x, 0.3),
          np.array(
            [
              [2, 0],
              [0, 3],
              [0, 0],
            ],
            { dtype: x.dtype },
          ),
        ),
      ),
    "np.linalg.qr(0.3 x + [[2, 0], [0, 3], [0, 0]])",
  ),
  [Prim.Eigh]: matrixEntry(
    (b) => [[...b, 3, 3]],
    (x: NDArray) => np.linalg.eigh(plusDiag(x, [0, 10, 20])),
    "np.linalg.eigh(x + diag(0, 10, 20))",
  ),
  [Prim.Svd]: matrixEntry(
    (b) => [[...b, 3, 2]],
    (x: NDArray) =>
      np.linalg.svd(
        np.add(
          np.multiply(x, 0.3),
          np.array(
            [
              [2, 0],
              [0, 4],
              [0, 0],
            ],
            { dtype: x.dtype },
          ),
        ),
        { fullMatrices: false },
      ),
    "np.linalg.svd(0.3 x + [[2, 0], [0, 4], [0, 0]], { fullMatrices: false })",
  ),
};
