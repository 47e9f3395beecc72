/**
 * Householder QR, and `formQ`, which multiplies out the reflections of a factorization (QR here,
 * the bidiagonal and tridiagonal reductions of `linalg_svd.ts` and `linalg_eigh.ts`). Reflection
 * j's vector is stored in column j of the row-major factored matrix, below row j, with v[0] = 1
 * implied (LAPACK's layout).
 *
 * Past NB columns both are blocked: NB reflections H_j···H_{j+NB-1} are one block reflector
 * I - V·T·Vᵀ (compact WY, T upper triangular), applied to the rest of the matrix as two products
 * in the WebAssembly GEMM (`gemmSub`); only the NB-column panels are reduced one reflection at a time.
 */
import { equilibrate, house, reflectLeft, scaleBy } from "./linalg_householder.js";
import { block, gemmSub, tr } from "./linalg_gemm.js";

/** Reflections per block. */
const NB = 32;

/**
 * The block reflector of reflections c0..c0+nb-1 stored in w (row length ld), over rows r0..r0+rows:
 * H_{c0}···H_{c0+nb-1} = I - V·T·Vᵀ, with V (rows×nb, row-major, unit lower trapezoidal) and its
 * negation (the left operand of Vᵀ·C as `gemmSub` subtracts), and T (nb×nb upper triangular).
 */
function blockReflector(
  w: Float64Array,
  ld: number,
  r0: number,
  c0: number,
  rows: number,
  nb: number,
  tau: Float64Array,
): { v: Float64Array; neg: Float64Array; t: Float64Array } {
  const v = new Float64Array(rows * nb),
    t = new Float64Array(nb * nb),
    g = new Float64Array(nb * nb);
  for (let r = 0; r < rows; r++) {
    const src = (r0 + r) * ld + c0;
    for (let j = 0; j < Math.min(r, nb); j++) v[r * nb + j] = w[src + j]!;
    if (r < nb) v[r * nb + r] = 1;
  }
  const neg = v.map((x) => -x);
  // G = VᵀV, as G -= (-V)ᵀ·V.
  gemmSub(block(g, 0, nb), tr(block(neg, 0, nb)), block(v, 0, nb), nb, rows, nb);
  // dlarft, forward: T[0:i, i] = -tau_i·T[0:i, 0:i]·(V[:, 0:i]ᵀ·v_i), T[i][i] = tau_i.
  for (let i = 0; i < nb; i++) {
    const ti = tau[c0 + i]!;
    t[i * nb + i] = ti;
    for (let a = 0; a < i; a++) {
      let s = 0;
      for (let b = a; b < i; b++) s += t[a * nb + b]! * g[b * nb + i]!;
      t[a * nb + i] = -ti * s;
    }
  }
  return { v, neg, t };
}

/**
 * C ← (I - V·op(T)·Vᵀ)·C for the rows×nc block of the row-major c at `off` (row length ldc), with
 * op(T) = Tᵀ when `trans` (that applies Hᵀ = H_{last}···H_{first}).
 */
function applyBlock(
  r: { v: Float64Array; neg: Float64Array; t: Float64Array },
  rows: number,
  nb: number,
  c: Float64Array,
  off: number,
  ldc: number,
  nc: number,
  trans: boolean,
): void {
  if (nc <= 0) return;
  const w = new Float64Array(nb * nc),
    tw = new Float64Array(nb * nc);
  // W = Vᵀ·C, as W -= (-V)ᵀ·C.
  gemmSub(block(w, 0, nc), tr(block(r.neg, 0, nb)), block(c, off, ldc), nb, rows, nc);
  // TW = op(T)·W (nb×nb triangular times nb×nc, small).
  const t = r.t;
  for (let a = 0; a < nb; a++) {
    const ro = a * nc;
    for (let b = trans ? 0 : a; b < (trans ? a + 1 : nb); b++) {
      const f = trans ? t[b * nb + a]! : t[a * nb + b]!;
      if (f === 0) continue;
      const wo = b * nc;
      for (let j = 0; j < nc; j++) tw[ro + j] += f * w[wo + j]!;
    }
  }
  // C -= V·TW.
  gemmSub(block(c, off, ldc), block(r.v, 0, nb), block(tw, 0, nc), rows, nb, nc);
}

/**
 * q (rows×qc) = H_0···H_{kRef-1}·I[:, :qc], where H_j = I - tau[j]·v·vᵀ acts on rows j.. with the
 * vector in column j of w (row length ld) below row j.
 */
export function formQ(w: Float64Array, ld: number, rows: number, kRef: number, tau: Float64Array, q: Float64Array, qc: number): void {
  q.fill(0);
  for (let i = 0; i < Math.min(rows, qc); i++) q[i * qc + i] = 1;
  const dots = new Float64Array(qc);
  // Last reflection first: H_j then only meets columns j.. of the partial product.
  if (kRef <= 2 * NB) {
    for (let j = kRef - 1; j >= 0; j--) reflectLeft(q, qc, j, j, qc, tau[j]!, w, j * ld + j, ld, rows - j, dots);
    return;
  }
  // Blocks of NB from the end, then the first kRef mod NB reflections as one narrower block.
  const first = kRef % NB;
  const apply = (j0: number, nb: number) =>
    applyBlock(blockReflector(w, ld, j0, j0, rows - j0, nb, tau), rows - j0, nb, q, j0 * qc + j0, qc, qc - j0, false);
  for (let j0 = kRef - NB; j0 >= first; j0 -= NB) apply(j0, NB);
  if (first > 0) apply(0, first);
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
    qc = full ? m : kk,
    scale = equilibrate(a);
  const tau = new Float64Array(kk),
    dots = new Float64Array(n);
  for (let j0 = 0; j0 < kk; j0 += NB) {
    // The panel's columns one reflection at a time; then its block reflector on the columns after it.
    const nb = Math.min(NB, kk - j0),
      blocked = kk > 2 * NB && j0 + nb < n;
    const end = blocked ? j0 + nb : n;
    for (let j = j0; j < j0 + nb; j++) {
      tau[j] = house(a, j * n + j, n, m - j);
      reflectLeft(a, n, j, j + 1, end, tau[j]!, a, j * n + j, n, m - j, dots);
    }
    if (blocked) applyBlock(blockReflector(a, n, j0, j0, m - j0, nb, tau), m - j0, nb, a, j0 * n + end, n, n - end, true);
  }
  formQ(a, n, m, kk, tau, q, qc);
  r.fill(0);
  for (let i = 0; i < Math.min(qc, m); i++) {
    // A negative diagonal entry: flip row i of r and column i of q.
    const flip = i < kk && a[i * n + i]! < 0 ? -1 : 1;
    for (let c = i; c < n; c++) r[i * n + c] = flip * a[i * n + c]!;
    if (flip < 0) for (let row = 0; row < m; row++) q[row * qc + i] = -q[row * qc + i]!;
  }
  scaleBy(r, -scale);
}
