/**
 * Blocked Cholesky, triangular solve and LU for matrices larger than BLOCK rows: same contracts as
 * their unblocked counterparts in `linalg.ts` (which still handle the smaller ones), but nearly all
 * of their O(n³) work is matrix products, C -= A·B, run by `gemmSub` (the WebAssembly SIMD GEMM).
 *
 * Each algorithm is recursive (Gustavson; Toledo for LU): split the columns in two halves, solve the
 * first half, subtract its contribution from the second half in one product, solve the second half.
 * The recursion stops at LEAF columns, where scalar code does the O(n²·LEAF) rest. Compared with a
 * loop over fixed blocks, the products are as large as the matrix allows (depth n/2 at the top),
 * and the scalar leaves are narrow.
 */
import { type Block, at, block, gemmSub, tr } from "./linalg_gemm.js";
import * as k from "./linalg.js";

/** Matrices of at most this order use `linalg.ts`. */
export const BLOCK = 64;
/** Columns at which the recursion stops (at n = 512, 8 and 32 were not faster than 16). */
const LEAF = 16;

/** The first half of w columns, a multiple of LEAF so the leaves stay LEAF wide. */
const half = (w: number): number => Math.ceil(w / 2 / LEAF) * LEAF;

/**
 * Solves M·X = B in place in the row-major n×c block `b`, for the n×n triangle of M that `lower`
 * names (M may be a transposed view: read in place, as a transposed copy costs as much as a solve
 * with several right-hand sides).
 */
function trsm(m: Block, b: Block, n: number, c: number, lower: boolean, unit: boolean): void {
  if (n <= LEAF) return trsmLeaf(m, b, n, c, lower, unit);
  const n1 = half(n),
    n2 = n - n1;
  // [M11 0; M21 M22]·[X1; X2] = [B1; B2]: X1 first, then B2 -= M21·X1 (upper: the mirror image).
  if (lower) {
    trsm(m, b, n1, c, lower, unit);
    gemmSub(at(b, n1, 0), at(m, n1, 0), b, n2, n1, c);
    trsm(at(m, n1, n1), at(b, n1, 0), n2, c, lower, unit);
  } else {
    trsm(at(m, n1, n1), at(b, n1, 0), n2, c, lower, unit);
    gemmSub(b, at(m, 0, n1), at(b, n1, 0), n1, n2, c);
    trsm(m, b, n1, c, lower, unit);
  }
}

/** Substitution, one row of B at a time (each a contiguous axpy). */
function trsmLeaf(m: Block, b: Block, n: number, c: number, lower: boolean, unit: boolean): void {
  const md = m.data,
    bd = b.data,
    sj = m.cs;
  for (let step = 0; step < n; step++) {
    const i = lower ? step : n - 1 - step;
    const ri = b.off + i * b.rs,
      mi = m.off + i * m.rs;
    const hi = lower ? i : n;
    let j = lower ? 0 : i + 1;
    // Two rows of X per pass over row i of B: half the loads and stores of b[ri + q].
    for (; j + 1 < hi; j += 2) {
      const m0 = md[mi + j * sj]!,
        m1 = md[mi + (j + 1) * sj]!,
        r0 = b.off + j * b.rs,
        r1 = r0 + b.rs;
      for (let q = 0; q < c; q++) bd[ri + q] -= m0 * bd[r0 + q]! + m1 * bd[r1 + q]!;
    }
    if (j < hi) {
      const mij = md[mi + j * sj]!,
        rj = b.off + j * b.rs;
      for (let q = 0; q < c; q++) bd[ri + q] -= mij * bd[rj + q]!;
    }
    if (!unit) {
      const d = md[mi + i * sj]!;
      for (let q = 0; q < c; q++) bd[ri + q] /= d;
    }
  }
}

/**
 * Solves op(A)·X = B (`leftSide`) or X·op(A) = B in place in `b` (r×c, row-major), where A is the
 * n×n `a`, op(A) = Aᵀ when `trans`, and only A's lower (`lower`) or upper triangle is read; ones
 * on the diagonal when `unit`.
 */
export function triangularSolve(
  a: Float64Array,
  b: Float64Array,
  n: number,
  r: number,
  c: number,
  leftSide: boolean,
  lower: boolean,
  trans: boolean,
  unit: boolean,
): void {
  if (!leftSide) {
    // x·op(A) = b  <=>  op(A)ᵀ·xᵀ = bᵀ: a left-side solve on the transposes.
    const t = k.transposed(b, r, c);
    triangularSolve(a, t, n, c, r, true, lower, !trans, unit);
    b.set(k.transposed(t, c, r));
    return;
  }
  // The triangle of op(A) is the other one when transposed.
  const opLower = lower !== trans;
  if (n <= BLOCK) return k.triangularSolveLeft(a, b, n, c, opLower, trans, unit);
  trsm(trans ? tr(block(a, 0, n)) : block(a, 0, n), block(b, 0, c), n, c, opLower, unit);
}

/** Lower Cholesky factor of the symmetric n×n `s` into `l` (zeros above); all NaN when s is not positive definite. */
export function cholesky(s: Float64Array, n: number, l: Float64Array): void {
  if (n <= BLOCK) return k.cholesky(s, n, l);
  l.set(s);
  if (!choleskyRec(l, n, 0, n)) {
    l.fill(NaN);
    return;
  }
  for (let i = 0; i < n; i++) l.fill(0, i * n + i + 1, (i + 1) * n);
}

/**
 * Factors the diagonal block [j0, j0 + w)² of the n×n `l` in place (lower triangle), given that the
 * contributions of all columns before j0 have been subtracted from it; false if not positive definite.
 */
function choleskyRec(l: Float64Array, n: number, j0: number, w: number): boolean {
  if (w <= LEAF) {
    for (let j = j0; j < j0 + w; j++) {
      const rj = j * n;
      let d = l[rj + j]!;
      for (let p = j0; p < j; p++) d -= l[rj + p]! * l[rj + p]!;
      if (!(d > 0)) return false;
      const ljj = Math.sqrt(d);
      l[rj + j] = ljj;
      for (let i = j + 1; i < j0 + w; i++) {
        const ri = i * n;
        let v = l[ri + j]!;
        for (let p = j0; p < j; p++) v -= l[ri + p]! * l[rj + p]!;
        l[ri + j] = v / ljj;
      }
    }
    return true;
  }
  const w1 = half(w),
    w2 = w - w1,
    j1 = j0 + w1;
  if (!choleskyRec(l, n, j0, w1)) return false;
  // L21 = A21·L11⁻ᵀ, solved as L11·L21ᵀ = A21ᵀ on a transposed copy (wide rows for the solve), which
  // is also the right operand of the trailing update A22 -= L21·L21ᵀ (lower triangle only).
  const t = new Float64Array(w1 * w2);
  for (let i = 0; i < w2; i++) for (let p = 0; p < w1; p++) t[p * w2 + i] = l[(j1 + i) * n + j0 + p]!;
  trsm(block(l, j0 * n + j0, n), block(t, 0, w2), w1, w2, true, false);
  for (let i = 0; i < w2; i++) for (let p = 0; p < w1; p++) l[(j1 + i) * n + j0 + p] = t[p * w2 + i]!;
  gemmSub(block(l, j1 * n + j1, n), block(l, j1 * n + j0, n), block(t, 0, w2), w2, w1, w2, true);
  return choleskyRec(l, n, j1, w2);
}

/**
 * LU with partial pivoting of the n×n `a`, in place (L strictly below the diagonal, U on and
 * above); `piv[k]` is the row swapped with row k at step k, `perm` the final row order.
 */
export function lu(a: Float64Array, n: number, piv: Int32Array, perm: Int32Array): void {
  if (n <= BLOCK) return k.lu(a, n, piv, perm);
  for (let i = 0; i < n; i++) perm[i] = i;
  luRec(a, n, 0, n, piv, perm);
}

/**
 * Factors columns [c0, c0 + w) of rows [c0, n) of the n×n `a` in place, given that the contributions
 * of all columns before c0 have been subtracted from them; pivoting swaps whole rows.
 */
function luRec(a: Float64Array, n: number, c0: number, w: number, piv: Int32Array, perm: Int32Array): void {
  if (w <= LEAF) {
    for (let s = c0; s < c0 + w; s++) {
      let p = s,
        best = Math.abs(a[s * n + s]!);
      for (let i = s + 1; i < n; i++) {
        const v = Math.abs(a[i * n + s]!);
        if (v > best) {
          best = v;
          p = i;
        }
      }
      piv[s] = p;
      if (p !== s) {
        for (let j = 0; j < n; j++) {
          const t = a[s * n + j]!;
          a[s * n + j] = a[p * n + j]!;
          a[p * n + j] = t;
        }
        const t = perm[s]!;
        perm[s] = perm[p]!;
        perm[p] = t;
      }
      const d = a[s * n + s]!;
      // A zero pivot means the column is zero from row s down (the pivot has the largest magnitude).
      if (d === 0) continue;
      for (let i = s + 1; i < n; i++) {
        const f = (a[i * n + s]! /= d);
        for (let j = s + 1; j < c0 + w; j++) a[i * n + j] -= f * a[s * n + j]!;
      }
    }
    return;
  }
  const w1 = half(w),
    w2 = w - w1,
    c1 = c0 + w1;
  luRec(a, n, c0, w1, piv, perm);
  // U12 = L11⁻¹·A12 (unit lower), then A22 -= L21·U12, then the right half's own factorization.
  trsm(block(a, c0 * n + c0, n), block(a, c0 * n + c1, n), w1, w2, true, true);
  gemmSub(block(a, c1 * n + c1, n), block(a, c1 * n + c0, n), block(a, c0 * n + c1, n), n - c1, w1, w2);
  luRec(a, n, c1, w2, piv, perm);
}
