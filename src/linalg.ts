/**
 * `linalg`: JAX's `jax.scipy.linalg` helpers over the linear-algebra primitives — triangular
 * solves, Cholesky and LU factor/solve pairs. Matrices are the last two axes; leading axes batch
 * and broadcast; b may be a vector [n] or a stack of matrices [..., n, k].
 */
import { ArgumentError, describe } from "./core/errors.js";
import * as lax from "./core/lax.js";
import { mT } from "./core/lax_linalg.js";
import type { NDArray } from "./core/ndarray.js";
import { checkOptionsObject } from "./core/options.js";
import type { ArrayLike } from "./np/base.js";
import { luSolveWith, matrixArg, solveOperands } from "./np/linalg_matrix.js";

export interface SolveTriangularOptions {
  /** Use the lower triangle of a (default false: upper, as SciPy). */
  lower?: boolean;
  /** 0 / "N": a·x = b; 1 / "T" (or 2 / "C", the same for real a): aᵀ·x = b. */
  trans?: 0 | 1 | 2 | "N" | "T" | "C";
  /** Take a's diagonal as ones (default false). */
  unitDiagonal?: boolean;
}

const boolOpt = (fn: string, name: string, v: unknown, dflt: boolean): boolean => {
  if (v === undefined) return dflt;
  if (typeof v !== "boolean") throw new ArgumentError(`${fn}: ${name} must be a boolean, got ${describe(v)}`);
  return v;
};

/**
 * x with a·x = b (or aᵀ·x = b) reading only one triangle of a.
 *
 * @example
 * linalg.solveTriangular([[2, 0], [1, 1]], [2, 3], { lower: true }); // [1, 2]
 */
export function solveTriangular(a: ArrayLike, b: ArrayLike, options: SolveTriangularOptions = {}): NDArray {
  const fn = "linalg.solveTriangular";
  const o = checkOptionsObject(fn, options, ["lower", "trans", "unitDiagonal"]);
  const lower = boolOpt(fn, "lower", o.lower, false),
    unitDiagonal = boolOpt(fn, "unitDiagonal", o.unitDiagonal, false);
  const trans = o.trans ?? 0;
  if (![0, 1, 2, "N", "T", "C"].includes(trans)) throw new ArgumentError(`${fn}: trans must be 0, 1, 2, "N", "T" or "C", got ${describe(trans)}`);
  const [aa, bb, vec] = solveOperands(fn, matrixArg(fn, a, true), b);
  const x = lax.triangularSolve(aa, bb, { leftSide: true, lower, transposeA: trans !== 0 && trans !== "N", unitDiagonal });
  return vec ? lax.reshape(x, x.shape.slice(0, -1)) : x;
}

/**
 * [c, lower]: the Cholesky factor of a in the triangle `lower` says (default false: upper, c = Lᵀ,
 * as SciPy), zeros in the other; pass the pair to `choSolve`.
 */
export function choFactor(a: ArrayLike, options: { lower?: boolean } = {}): [NDArray, boolean] {
  const fn = "linalg.choFactor";
  const lower = boolOpt(fn, "lower", checkOptionsObject(fn, options, ["lower"]).lower, false);
  const l = lax.cholesky(matrixArg(fn, a, true));
  return [lower ? l : mT(l), lower];
}

/** x with a·x = b from `choFactor(a)`: two triangular solves. */
export function choSolve(factor: [NDArray, boolean], b: ArrayLike): NDArray {
  const fn = "linalg.choSolve";
  if (!Array.isArray(factor) || factor.length !== 2 || typeof factor[1] !== "boolean") {
    throw new ArgumentError(`${fn}: the factor must be the [c, lower] pair that choFactor returns, got ${describe(factor)}`);
  }
  const [c, lower] = factor;
  const [cc, bb, vec] = solveOperands(fn, matrixArg(fn, c, true, "c"), b);
  // a = L Lᵀ: solve L y = b, then Lᵀ x = y (with c = Lᵀ upper: cᵀ y = b, then c x = y).
  const y = lax.triangularSolve(cc, bb, { leftSide: true, lower, transposeA: !lower, unitDiagonal: false });
  const x = lax.triangularSolve(cc, y, { leftSide: true, lower, transposeA: lower, unitDiagonal: false });
  return vec ? lax.reshape(x, x.shape.slice(0, -1)) : x;
}

/**
 * [lu, piv]: LU with partial pivoting (L unit lower below the diagonal, U on and above); piv[i]
 * (int32) is the row swapped with row i at step i, as SciPy's lu_factor. Pass the pair to `luSolve`.
 */
export function luFactor(a: ArrayLike): [NDArray, NDArray] {
  const [lu, piv] = lax.lu(matrixArg("linalg.luFactor", a, true));
  return [lu!, piv!];
}

/** The row order that applying the swaps `piv` [..., n] in turn gives, as int32 [..., n]. */
function permutationOf(piv: NDArray): NDArray {
  const n = piv.shape[piv.ndim - 1]!,
    last = piv.ndim - 1;
  const iota = lax.full([n], 0, "int32");
  for (let i = 0; i < n; i++) iota.values[i] = i;
  const idx = lax.broadcastTo(iota, piv.shape);
  let perm = idx;
  for (let i = 0; i < n; i++) {
    const pi = lax.sliceAxis(piv, last, i, i + 1); // [..., 1]
    const atI = lax.sliceAxis(perm, last, i, i + 1);
    const atP = lax.gather(perm, pi, last, last);
    const isI = lax.eq(idx, lax.fill(idx, i)),
      isP = lax.eq(idx, lax.broadcastTo(pi, piv.shape));
    perm = lax.selectN(isI, lax.selectN(isP, perm, lax.broadcastTo(atI, piv.shape)), lax.broadcastTo(atP, piv.shape));
  }
  return perm;
}

/** x with a·x = b (or aᵀ·x = b with trans 1) from `luFactor(a)`. */
export function luSolve(factor: [NDArray, NDArray], b: ArrayLike, options: { trans?: 0 | 1 | 2 } = {}): NDArray {
  const fn = "linalg.luSolve";
  if (!Array.isArray(factor) || factor.length !== 2)
    throw new ArgumentError(`${fn}: the factor must be the [lu, piv] pair that luFactor returns, got ${describe(factor)}`);
  const trans = checkOptionsObject(fn, options, ["trans"]).trans ?? 0;
  if (![0, 1, 2].includes(trans)) throw new ArgumentError(`${fn}: trans must be 0, 1 or 2, got ${describe(trans)}`);
  const [lu, piv] = factor;
  const [ll, bb, vec] = solveOperands(fn, matrixArg(fn, lu, true, "lu"), b);
  const perm = permutationOf(lax.broadcastTo(piv, [...ll.shape.slice(0, -1)]));
  let x: NDArray;
  if (trans === 0) x = luSolveWith(ll, perm, bb);
  else {
    // aᵀ = Uᵀ Lᵀ P: solve Uᵀ z = b, Lᵀ y = z, then x = Pᵀ y (scatter rows back).
    const z = lax.triangularSolve(ll, bb, { leftSide: true, lower: false, transposeA: true, unitDiagonal: false });
    const y = lax.triangularSolve(ll, z, { leftSide: true, lower: true, transposeA: true, unitDiagonal: true });
    const r = y.ndim;
    x = lax.scatterAdd(lax.zerosOf(y), perm, y, r - 2, r - 2);
  }
  return vec ? lax.reshape(x, x.shape.slice(0, -1)) : x;
}
