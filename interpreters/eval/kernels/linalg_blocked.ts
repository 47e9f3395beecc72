/**
 * Blocked Cholesky, triangular solve and LU for matrices larger than one block: same contracts as
 * their unblocked counterparts in `linalg.ts` (which still handle matrices of at most BLOCK rows),
 * but the O(n³) part of each is a matrix product, C -= A·B, run by `gemmSub` (the WebAssembly SIMD
 * GEMM); the scalar code left touches only O(n²·BLOCK) entries. All are right-looking (LAPACK's
 * dpotrf, dtrsm, dgetrf): factor or solve one block (column) in scalar code, then subtract its
 * contribution from everything after it in one product.
 */
import { block, gemmSub } from "./linalg_gemm.js";
import * as k from "./linalg.js";

/**
 * Block size: the depth of every product. Larger blocks make the products more efficient but leave
 * more scalar work in the panels; 64 measured best at n = 512 (48 and 96 within 10 %).
 */
export const BLOCK = 64;

/** Lower Cholesky factor of the symmetric n×n `s` into `l` (zeros above); all NaN when s is not positive definite. */
export function cholesky(s: Float64Array, n: number, l: Float64Array): void {
  if (n <= BLOCK) return k.cholesky(s, n, l);
  l.set(s);
  for (let j0 = 0; j0 < n; j0 += BLOCK) {
    const j1 = Math.min(j0 + BLOCK, n);
    // Columns j0..j1 of L, all rows below the diagonal: the earlier blocks' contributions have
    // already been subtracted, so only the products within this block column remain.
    for (let j = j0; j < j1; j++) {
      const rj = j * n;
      let d = l[rj + j]!;
      for (let p = j0; p < j; p++) d -= l[rj + p]! * l[rj + p]!;
      if (!(d > 0)) {
        l.fill(NaN);
        return;
      }
      const ljj = Math.sqrt(d);
      l[rj + j] = ljj;
      for (let i = j + 1; i < n; i++) {
        const ri = i * n;
        let v = l[ri + j]!;
        for (let p = j0; p < j; p++) v -= l[ri + p]! * l[rj + p]!;
        l[ri + j] = v / ljj;
      }
    }
    // Trailing update of the lower triangle: S22 -= L21·L21ᵀ.
    const m = n - j1,
      w = j1 - j0;
    if (m === 0) break;
    const l21t = new Float64Array(w * m);
    for (let i = 0; i < m; i++) for (let p = 0; p < w; p++) l21t[p * m + i] = l[(j1 + i) * n + j0 + p]!;
    gemmSub(block(l, j1 * n + j1, n), block(l, j1 * n + j0, n), block(l21t, 0, m), m, w, m, true);
  }
  for (let i = 0; i < n; i++) l.fill(0, i * n + i + 1, (i + 1) * n);
}

/**
 * Solves M·X = B in place in `b` (n×c, row-major) where M(i, j) = a[i][j] (or a[j][i] when
 * `trans`), reading only M's lower (`lower`) or upper triangle; ones on the diagonal when `unit`.
 */
export function triangularSolveLeft(a: Float64Array, b: Float64Array, n: number, c: number, lower: boolean, trans: boolean, unit: boolean): void {
  if (n <= BLOCK) return k.triangularSolveLeft(a, b, n, c, lower, trans, unit);
  const m = trans ? k.transposed(a, n, n) : a;
  // Lower: blocks top to bottom, each then removed from the rows below; upper: bottom to top.
  const starts = Array.from({ length: Math.ceil(n / BLOCK) }, (_, t) => t * BLOCK);
  if (!lower) starts.reverse();
  for (const i0 of starts) {
    const i1 = Math.min(i0 + BLOCK, n);
    for (let step = i0; step < i1; step++) {
      const i = lower ? step : i0 + i1 - 1 - step;
      const ri = i * c;
      const lo = lower ? i0 : i + 1,
        hi = lower ? i : i1;
      for (let j = lo; j < hi; j++) {
        const mij = m[i * n + j]!,
          rj = j * c;
        for (let q = 0; q < c; q++) b[ri + q] -= mij * b[rj + q]!;
      }
      if (!unit) {
        const d = m[i * n + i]!;
        for (let q = 0; q < c; q++) b[ri + q] /= d;
      }
    }
    const w = i1 - i0;
    if (lower) gemmSub(block(b, i1 * c, c), block(m, i1 * n + i0, n), block(b, i0 * c, c), n - i1, w, c);
    else gemmSub(block(b, 0, c), block(m, i0, n), block(b, i0 * c, c), i0, w, c);
  }
}

/**
 * LU with partial pivoting of the n×n `a`, in place (L strictly below the diagonal, U on and
 * above); `piv[k]` is the row swapped with row k at step k, `perm` the final row order.
 */
export function lu(a: Float64Array, n: number, piv: Int32Array, perm: Int32Array): void {
  if (n <= BLOCK) return k.lu(a, n, piv, perm);
  for (let i = 0; i < n; i++) perm[i] = i;
  for (let j0 = 0; j0 < n; j0 += BLOCK) {
    const j1 = Math.min(j0 + BLOCK, n);
    // Panel: unblocked LU of columns j0..j1 (rows j0..n), swapping whole rows as it pivots.
    for (let s = j0; s < j1; s++) {
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
        for (let j = s + 1; j < j1; j++) a[i * n + j] -= f * a[s * n + j]!;
      }
    }
    if (j1 === n) break;
    // U12 = L11⁻¹ A12 (unit lower triangular, forward substitution on the rows of the block).
    for (let s = j0; s < j1; s++) {
      for (let i = s + 1; i < j1; i++) {
        const f = a[i * n + s]!;
        for (let j = j1; j < n; j++) a[i * n + j] -= f * a[s * n + j]!;
      }
    }
    // A22 -= L21·U12.
    gemmSub(block(a, j1 * n + j1, n), block(a, j1 * n + j0, n), block(a, j0 * n + j1, n), n - j1, j1 - j0, n - j1);
  }
}
