/**
 * Householder QR for matrices of any size, and `formQ`, which multiplies out the reflections of a
 * factorization (QR here, the bidiagonal and tridiagonal reductions of `linalg_svd.ts` and
 * `linalg_eigh.ts`). Reflection j's vector is stored in column j of the row-major factored matrix,
 * below row j, with v[0] = 1 implied (LAPACK's layout).
 */
import { house, reflectLeft } from "./linalg_householder.js";

/**
 * q (rows×qc) = H_0···H_{kRef-1}·I[:, :qc], where H_j = I - tau[j]·v·vᵀ acts on rows j.. with the
 * vector in column j of w (row length ld) below row j.
 */
export function formQ(w: Float64Array, ld: number, rows: number, kRef: number, tau: Float64Array, q: Float64Array, qc: number): void {
  q.fill(0);
  for (let i = 0; i < Math.min(rows, qc); i++) q[i * qc + i] = 1;
  const dots = new Float64Array(qc);
  // Last reflection first: H_j then only meets columns j.. of the partial product.
  for (let j = kRef - 1; j >= 0; j--) reflectLeft(q, qc, j, j, qc, tau[j]!, w, j * ld + j, ld, rows - j, dots);
}

/**
 * q (n×n) = G_0···G_{count-1}, where G_j = I - tau[j]·v·vᵀ acts on indices j+1.. with the vector
 * in row j of the n×n `w` from column j+1 on (the right-hand reflections of a bidiagonal or
 * tridiagonal reduction). Transposed, they are the reflections of a QR of an (n-1)×(n-1) matrix.
 */
export function formQRows(w: Float64Array, n: number, count: number, tau: Float64Array, q: Float64Array): void {
  q.fill(0);
  q[0] = 1;
  if (n < 2) return;
  const s = n - 1,
    sub = new Float64Array(s * s),
    subQ = new Float64Array(s * s);
  for (let j = 0; j < count; j++) for (let i = j + 1; i < n; i++) sub[(i - 1) * s + j] = w[j * n + i]!;
  formQ(sub, s, s, count, tau, subQ, s);
  for (let i = 1; i < n; i++) q.set(subQ.subarray((i - 1) * s, i * s), i * n + 1);
}

/**
 * Householder QR of the m×n `a` (overwritten): q (m×qc, qc = k or m when `full`) and r (qc×n), with
 * diag(r) >= 0.
 */
export function qr(a: Float64Array, m: number, n: number, full: boolean, q: Float64Array, r: Float64Array): void {
  const kk = Math.min(m, n),
    qc = full ? m : kk;
  const tau = new Float64Array(kk),
    dots = new Float64Array(n);
  for (let j = 0; j < kk; j++) {
    tau[j] = house(a, j * n + j, n, m - j);
    reflectLeft(a, n, j, j + 1, n, tau[j]!, a, j * n + j, n, m - j, dots);
  }
  formQ(a, n, m, kk, tau, q, qc);
  r.fill(0);
  for (let i = 0; i < Math.min(qc, m); i++) {
    // A negative diagonal entry: flip row i of r and column i of q.
    const flip = i < kk && a[i * n + i]! < 0 ? -1 : 1;
    for (let c = i; c < n; c++) r[i * n + c] = flip * a[i * n + c]!;
    if (flip < 0) for (let row = 0; row < m; row++) q[row * qc + i] = -q[row * qc + i]!;
  }
}
