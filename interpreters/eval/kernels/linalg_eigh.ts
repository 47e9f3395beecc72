/**
 * The symmetric eigenproblem above JACOBI_MAX rows: Householder tridiagonalisation A = Q·T·Qᵀ
 * (blocked past BLOCKED_MIN rows), then implicit QL sweeps with Wilkinson's shift on T, whose
 * rotations are applied to Q's columns.
 * Same contract as `eigh` in `linalg.ts`, which handles the small matrices (cyclic Jacobi).
 */
import { symmetricProduct, workspace } from "./linalg_blas2.js";
import { block, gemmSub, tr } from "./linalg_gemm.js";
import { equilibrate, house, scaleBy } from "./linalg_householder.js";
import { rotators } from "./linalg_rotate.js";
import { formQRows } from "./linalg_qr.js";
import * as k from "./linalg.js";
import { JACOBI_MAX } from "./linalg_svd.js";

const EPS = 2.220446049250313e-16;
/** Sweeps allowed per eigenvalue, on average, before giving up. */
const MAXITR = 30;

/**
 * Eigen-decomposition of the symmetric n×n `s` (overwritten): ascending eigenvalues into `w`,
 * orthonormal eigenvectors into the columns of `v`, each column's largest-magnitude entry positive.
 */
export function eigh(s: Float64Array, n: number, w: Float64Array, v: Float64Array): void {
  const scale = equilibrate(s);
  decompose(s, n, w, v);
  scaleBy(w, -scale);
}

/** `eigh` of a matrix whose entries need no scaling. */
function decompose(s: Float64Array, n: number, w: Float64Array, v: Float64Array): void {
  if (n <= JACOBI_MAX) return k.eigh(s, n, w, v);
  // NaN or ±∞ anywhere makes every output NaN (as LAPACK's), without iterating to the cap.
  if (!s.every(Number.isFinite)) {
    w.fill(NaN);
    v.fill(NaN);
    return;
  }
  const d = new Float64Array(n),
    e = new Float64Array(n),
    tau = tridiagonalize(s, n, d, e);
  formQRows(s, n, n - 2, tau, v);
  tridiagonalQl(n, d, e, v);
  const order = Array.from({ length: n }, (_, i) => i).sort((i, j) => d[i]! - d[j]! || i - j);
  order.forEach((o, j) => (w[j] = d[o]!));
  const row = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) row[j] = v[i * n + order[j]!]!;
    v.set(row, i * n);
  }
  k.positiveColumns(v, n, n);
}

/**
 * Reduces the symmetric n×n `a` to tridiagonal T = Qᵀ·A·Q with Q = G_0···G_{n-3}, reading and
 * updating only its lower triangle: diagonal into d, subdiagonal into e[0..n-2]; G_j's vector is
 * left in row j from column j+1 (the upper triangle, see `formQRows`); returns the taus. While more
 * than BLOCKED_MIN rows remain, PANEL columns at a time go through `panel`.
 */
function tridiagonalize(a: Float64Array, n: number, d: Float64Array, e: Float64Array): Float64Array {
  const tau = new Float64Array(Math.max(n - 2, 0)),
    v = new Float64Array(n),
    p = new Float64Array(n);
  let j = 0;
  if (n > BLOCKED_MIN) {
    // The panels work on a copy in the matrix-vector kernels' memory (when there is one), with
    // their two vectors beside it.
    const ws = workspace(n * n + 2 * n);
    const s = ws === null ? a : ws.subarray(0, n * n);
    if (ws !== null) s.set(a);
    const pv = ws === null ? new Float64Array(n) : ws.subarray(n * n, n * n + n),
      py = ws === null ? new Float64Array(n) : ws.subarray(n * n + n);
    for (; n - j > BLOCKED_MIN; j += PANEL) panel(s, n, j, PANEL, d, e, tau, pv, py);
    if (ws !== null) a.set(s);
  }
  for (; j < n - 2; j++) {
    const len = n - j - 1,
      off = j * n + j + 1;
    // Column j below the diagonal, copied into row j, becomes G_j's vector there.
    for (let i = 1; i <= len; i++) a[off + i - 1] = a[(j + i) * n + j]!;
    const t = (tau[j] = house(a, off, 1, len));
    d[j] = a[j * n + j]!;
    e[j] = a[off]!;
    if (t === 0) continue;
    v[0] = 1;
    for (let c = 1; c < len; c++) v[c] = a[off + c]!;
    // p = A22·v (scaled by tau below).
    symmetricProduct(a, (j + 1) * n + j + 1, n, len, v, 0, p, 0);
    // A22 ← H·A22·H = A22 - v·wᵀ - w·vᵀ, with w = p - (tau/2)(pᵀv)·v (p scaled by tau).
    let pv = 0;
    for (let r = 0; r < len; r++) pv += p[r]! * v[r]!;
    const kk = 0.5 * t * t * pv;
    for (let r = 0; r < len; r++) p[r] = t * p[r]! - kk * v[r]!;
    for (let r = 0; r < len; r++) {
      const row = (j + 1 + r) * n + j + 1,
        vr = v[r]!,
        wr = p[r]!;
      for (let c = 0; c <= r; c++) a[row + c] -= vr * p[c]! + wr * v[c]!;
    }
  }
  if (n >= 2) {
    d[n - 2] = a[(n - 2) * n + n - 2]!;
    e[n - 2] = a[(n - 1) * n + n - 2]!;
  }
  d[n - 1] = a[n * n - 1]!;
  return tau;
}

/** Columns per panel of the blocked tridiagonalisation, and the smallest order it is used for. */
const PANEL = 32,
  BLOCKED_MIN = 96;

/**
 * Reduces columns j0..j0+nb-1 of the symmetric a (lower triangle; LAPACK's dlatrd). Within the
 * panel, A stands for the block a[j0.., j0..] (m×m) as it was when the panel began, except for the
 * columns already reduced; W (m×nb) gathers the panel's effect on the rest, A ← A - V·Wᵀ - W·Vᵀ
 * (V: the vectors, below the subdiagonal, their unit entries stored in place during the panel),
 * applied by two GEMM products on the lower triangle once the panel is done. v and y (m each) hold
 * each step's reflection vector and S·v, computed in WebAssembly when a, v and y are views of
 * `linalg_blas2.ts`'s workspace.
 */
function panel(
  a: Float64Array,
  n: number,
  j0: number,
  nb: number,
  d: Float64Array,
  e: Float64Array,
  tau: Float64Array,
  v: Float64Array,
  y: Float64Array,
): void {
  const m = n - j0,
    o = j0 * n + j0,
    w = new Float64Array(m * nb),
    t1 = new Float64Array(nb),
    t2 = new Float64Array(nb);
  /** Index of A(r, c) in a. */
  const at = (r: number, c: number): number => o + r * n + c;
  for (let i = 0; i < nb; i++) {
    // Column i: A(i:, i) -= A(i:, 0:i)·W(i, 0:i)ᵀ + W(i:, 0:i)·A(i, 0:i)ᵀ.
    const ai = at(i, 0);
    for (let r = i; r < m; r++) {
      const ar = at(r, 0);
      let x = 0;
      for (let q = 0; q < i; q++) x += a[ar + q]! * w[i * nb + q]! + w[r * nb + q]! * a[ai + q]!;
      a[ar + i] -= x;
    }
    d[j0 + i] = a[at(i, i)]!;
    // The reflection of A(i+1:, i), made on a contiguous copy and written back as V's column i.
    const len = m - i - 1;
    for (let r = 0; r < len; r++) v[r] = a[at(i + 1 + r, i)]!;
    const t = (tau[j0 + i] = house(v, 0, 1, len));
    e[j0 + i] = v[0]!;
    v[0] = 1;
    for (let r = 0; r < len; r++) a[at(i + 1 + r, i)] = v[r]!;
    // W(i+1:, i) = tau·(A(i+1:, i+1:)·v - A(i+1:, 0:i)·(W(i+1:, 0:i)ᵀ·v) - W(i+1:, 0:i)·(A(i+1:, 0:i)ᵀ·v)),
    // then += alpha·v with alpha = -tau/2·(wᵀv): the symmetric product from the lower triangle.
    symmetricProduct(a, at(i + 1, i + 1), n, len, v, 0, y, 0);
    t1.fill(0, 0, i);
    t2.fill(0, 0, i);
    for (let r = 0; r < len; r++) {
      const ar = at(i + 1 + r, 0),
        wr = (i + 1 + r) * nb,
        vr = v[r]!;
      for (let q = 0; q < i; q++) {
        t1[q] += w[wr + q]! * vr;
        t2[q] += a[ar + q]! * vr;
      }
    }
    let wv = 0;
    for (let r = 0; r < len; r++) {
      const ar = at(i + 1 + r, 0),
        wr = (i + 1 + r) * nb;
      let x = y[r]!;
      for (let q = 0; q < i; q++) x -= a[ar + q]! * t1[q]! + w[wr + q]! * t2[q]!;
      x *= t;
      w[wr + i] = x;
      wv += x * v[r]!;
    }
    const alpha = -0.5 * t * wv;
    for (let r = 0; r < len; r++) w[(i + 1 + r) * nb + i] += alpha * v[r]!;
  }
  // The rest, lower triangle: A(nb:, nb:) -= V(nb:, :)·W(nb:, :)ᵀ + W(nb:, :)·V(nb:, :)ᵀ.
  const rest = block(a, at(nb, nb), n),
    vb = block(a, at(nb, 0), n),
    wb = block(w, nb * nb, nb);
  gemmSub(rest, vb, tr(wb), m - nb, nb, m - nb, true);
  gemmSub(rest, wb, tr(vb), m - nb, nb, m - nb, true);
  // formQRows reads G_j's vector from row j.
  for (let q = 0; q < nb; q++) for (let r = q + 1; r < m; r++) a[at(q, r)] = a[at(r, q)]!;
}

/**
 * Diagonalises the symmetric tridiagonal (d, e[0..n-2]) by implicit QL sweeps with Wilkinson's
 * shift: d ends up holding the eigenvalues, and every rotation of planes (i, i+1) is applied to
 * columns i, i+1 of the n×n `z`, so Z·T·Zᵀ is kept.
 */
export function tridiagonalQl(n: number, d: Float64Array, e: Float64Array, z: Float64Array): void {
  const cs = new Float64Array(n),
    sn = new Float64Array(n);
  e[n - 1] = 0;
  const [rz] = rotators([{ x: z, rows: n, ld: n, cols: n }], n);
  let iter = 0;
  for (let l = 0; l < n; l++) {
    for (;;) {
      // The first negligible e[m] from l down: T's block l..m is unreduced.
      let m = l;
      for (; m < n - 1; m++) if (Math.abs(e[m]!) <= EPS * (Math.abs(d[m]!) + Math.abs(d[m + 1]!))) break;
      e[m] = 0;
      if (m === l || ++iter > MAXITR * n) break;
      // Wilkinson's shift from the leading 2×2, folded into the first rotation's g.
      let g = (d[l + 1]! - d[l]!) / (2 * e[l]!),
        r = Math.hypot(g, 1);
      g = d[m]! - d[l]! + e[l]! / (g + (g >= 0 ? r : -r));
      let s = 1,
        c = 1,
        p = 0,
        i = m - 1;
      for (; i >= l; i--) {
        const f = s * e[i]!,
          b = c * e[i]!;
        r = Math.hypot(f, g);
        e[i + 1] = r;
        if (r === 0) {
          // Underflow: the block splits at i + 1; undo the shift there and try again.
          d[i + 1] -= p;
          e[m] = 0;
          break;
        }
        s = f / r;
        c = g / r;
        g = d[i + 1]! - p;
        r = (d[i]! - g) * s + 2 * c * b;
        p = s * r;
        d[i + 1] = g + p;
        g = c * r - b;
        // Columns (i, i+1) of z: col_i ← c·col_i - s·col_{i+1}, col_{i+1} ← s·col_i + c·col_{i+1}.
        cs[i - l] = c;
        sn[i - l] = -s;
      }
      // Rotations not made (after an early split) act as the identity.
      for (let t = l; t <= i; t++) {
        cs[t - l] = 1;
        sn[t - l] = 0;
      }
      rz!.apply(l, m - l, cs, sn, false);
      if (i >= l) continue;
      d[l] -= p;
      e[l] = g;
      e[m] = 0;
    }
  }
  rz!.finish();
}
