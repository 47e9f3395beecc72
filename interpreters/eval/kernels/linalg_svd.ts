/**
 * The SVD of matrices above JACOBI_MAX columns (and rows), by Golub–Kahan: Householder
 * bidiagonalisation A = Q·B·Pᵀ (blocked past BLOCKED_MIN columns), then implicit-shift QR on the
 * bidiagonal B (Demmel–Kahan: relative convergence tests, zero shifts when the shift would spoil
 * the small singular values, chasing from whichever end is larger), whose rotations are applied
 * to Q and P. Same contract as `svd` in `linalg.ts`, which handles the small matrices (one-sided
 * Jacobi, accurate and fast there).
 */
import { equilibrate, givens, house, reflectLeft, reflectRight, scaleBy } from "./linalg_householder.js";
import { type Rotator, rotators } from "./linalg_rotate.js";
import { addRowPairs, rowDots, workspace } from "./linalg_blas2.js";
import { block, gemmSub, tr } from "./linalg_gemm.js";
import { formQ, formQRows } from "./linalg_qr.js";
import * as k from "./linalg.js";

/** Matrices with min(m, n) at most this use the one-sided Jacobi of `linalg.ts`. */
export const JACOBI_MAX = 16;

const EPS = 2.220446049250313e-16;
const UNFL = 2.2250738585072014e-308;
/** Sweeps allowed per singular value, on average, before giving up (LAPACK's MAXITR). */
const MAXITR = 6;

/**
 * SVD of the m×n `a`: u (m×uc), s (k, descending), vh (vr×n), with uc = vr = k, or m and n when
 * `full`; each column of u has its largest-magnitude entry positive (vh's rows follow; rows of a
 * full vh beyond k get the same convention themselves).
 */
export function svd(a: Float64Array, m: number, n: number, full: boolean, u: Float64Array, s: Float64Array, vh: Float64Array): void {
  const scale = equilibrate(a);
  factor(a, m, n, full, u, s, vh);
  scaleBy(s, -scale);
}

/** `svd` of a matrix whose entries need no scaling. */
function factor(a: Float64Array, m: number, n: number, full: boolean, u: Float64Array, s: Float64Array, vh: Float64Array): void {
  if (Math.min(m, n) <= JACOBI_MAX) return k.svd(a, m, n, full, u, s, vh);
  // NaN or ±∞ anywhere makes every output NaN (as LAPACK's), without iterating to the cap.
  if (!a.every(Number.isFinite)) {
    for (const o of [u, s, vh]) o.fill(NaN);
    return;
  }
  const tall = m >= n;
  // Work on the tall one of A and Aᵀ: A' = U'·S·V'ᵀ with A' M×N, M >= N.
  const M = tall ? m : n,
    N = tall ? n : m,
    Uc = full ? M : N;
  const w = tall ? Float64Array.from(a) : k.transposed(a, m, n);
  const { d, e, tauq, taup } = bidiagonalize(w, M, N);
  // U' = H_0···H_{N-1}·I[:, :Uc]; V' = G_0···G_{N-2}, G_j acting on indices j+1.. with row j's vector.
  const uq = new Float64Array(M * Uc);
  formQ(w, N, M, N, tauq, uq, Uc);
  const vq = new Float64Array(N * N);
  formQRows(w, N, N - 1, taup, vq);
  bidiagonalQr(N, d, e, uq, M, Uc, vq, N, N);
  // Non-negative, descending singular values: flip V' columns, then sort both factors' columns.
  for (let j = 0; j < N; j++) {
    if (d[j]! >= 0) continue;
    d[j] = -d[j]!;
    for (let i = 0; i < N; i++) vq[i * N + j] = -vq[i * N + j]!;
  }
  const order = Array.from({ length: N }, (_, j) => j).sort((i, j) => d[j]! - d[i]! || i - j);
  order.forEach((o, j) => (s[j] = d[o]!));
  permuteColumns(uq, M, Uc, order);
  permuteColumns(vq, N, N, order);
  // A = U'·S·V'ᵀ (tall) or A = V'·S·U'ᵀ (wide).
  const [uf, ur, uc, vf, vr] = tall ? [uq, M, Uc, vq, N] : [vq, N, N, uq, Uc];
  u.set(uf.subarray(0, ur * uc));
  // vh = V''ᵀ, where V'' (n×vr) is the other factor.
  for (let i = 0; i < n; i++) for (let j = 0; j < vr; j++) vh[j * n + i] = vf[i * vr + j]!;
  k.svdSigns(u, vh, m, n, uc, vr);
}

/** Reorders the first order.length columns of the r×c row-major x: new column j = old column order[j]. */
function permuteColumns(x: Float64Array, r: number, c: number, order: number[]): void {
  const row = new Float64Array(order.length);
  for (let i = 0; i < r; i++) {
    for (let j = 0; j < order.length; j++) row[j] = x[i * c + order[j]!]!;
    x.set(row, i * c);
  }
}

/** Columns per panel of the blocked bidiagonalisation, and the narrowest matrix it is used for. */
const PANEL = 32,
  BLOCKED_MIN = 96;

/**
 * Reduces the M×N `w` (M >= N, row-major) in place to upper bidiagonal form: returns its diagonal d
 * and superdiagonal e; H_j's vector stays in column j below the diagonal, G_j's in row j right of
 * the superdiagonal, with their taus. While more than BLOCKED_MIN columns remain, PANEL of them
 * are reduced by `panel`, which defers their effect on the rest to two GEMM products.
 */
function bidiagonalize(w: Float64Array, M: number, N: number): { d: Float64Array; e: Float64Array; tauq: Float64Array; taup: Float64Array } {
  const d = new Float64Array(N),
    e = new Float64Array(Math.max(N - 1, 0)),
    tauq = new Float64Array(N),
    taup = new Float64Array(N);
  let j = 0;
  if (N > BLOCKED_MIN) {
    // The panels work on a copy in the matrix-vector kernels' memory (when there is one), with
    // their two vectors beside it.
    const ws = workspace(M * N + N + M);
    const a = ws === null ? w : ws.subarray(0, M * N);
    if (ws !== null) a.set(w);
    const yc = ws === null ? new Float64Array(N) : ws.subarray(M * N, M * N + N),
      xc = ws === null ? new Float64Array(M) : ws.subarray(M * N + N);
    for (; N - j > BLOCKED_MIN; j += PANEL) panel(a, M, N, j, PANEL, d, e, tauq, taup, yc, xc);
    if (ws !== null) w.set(a);
  }
  const dots = new Float64Array(N);
  for (; j < N; j++) {
    const tq = (tauq[j] = house(w, j * N + j, N, M - j));
    d[j] = w[j * N + j]!;
    // H_j·W[j.., j+1..] with v = (1, W[j+1.., j]).
    reflectLeft(w, N, j, j + 1, N, tq, w, j * N + j, N, M - j, dots);
    if (j >= N - 1) continue;
    const tp = (taup[j] = house(w, j * N + j + 1, 1, N - j - 1));
    e[j] = w[j * N + j + 1]!;
    reflectRight(w, N, j + 1, M, j + 1, tp, w, j * N + j + 1, N - j - 1);
  }
  return { d, e, tauq, taup };
}

/**
 * Reduces columns and rows j0..j0+nb-1 of w (LAPACK's dlabrd). Within the panel, A stands for the
 * block w[j0.., j0..] (m×n) as it was when the panel began, except for the columns and rows
 * already reduced; X (m×nb) and Y (n×nb) gather the panel's effect on the rest, which is
 * A ← A - V·Yᵀ - X·Uᵀ (V: the left vectors, below the diagonal; U: the right vectors, right of the
 * superdiagonal; their unit entries are stored in place during the panel). Each step applies that
 * to its own column and row before reducing them, and extends X and Y by one column. Its two
 * passes over the trailing matrix per step (Aᵀ·v into yc, A·u into xc) are `linalg_blas2.ts`'s
 * kernels, in WebAssembly when w, yc and xc are views of that module's workspace.
 */
function panel(
  w: Float64Array,
  M: number,
  N: number,
  j0: number,
  nb: number,
  d: Float64Array,
  e: Float64Array,
  tauq: Float64Array,
  taup: Float64Array,
  yc: Float64Array,
  xc: Float64Array,
): void {
  const m = M - j0,
    n = N - j0,
    o = j0 * N + j0;
  const x = new Float64Array(m * nb),
    y = new Float64Array(n * nb),
    t = new Float64Array(nb + 1),
    vt = new Float64Array(nb),
    xt = new Float64Array(nb),
    yu = new Float64Array(nb + 1),
    uu = new Float64Array(nb);
  /** Index of A(r, c) in w. */
  const at = (r: number, c: number): number => o + r * N + c;
  for (let i = 0; i < nb; i++) {
    // Column i: A(i:, i) -= A(i:, 0:i)·Y(i, 0:i)ᵀ + X(i:, 0:i)·A(0:i, i).
    for (let p = 0; p < i; p++) t[p] = w[at(p, i)]!;
    for (let r = i; r < m; r++) {
      let s = 0;
      const ar = at(r, 0);
      for (let p = 0; p < i; p++) s += w[ar + p]! * y[i * nb + p]! + x[r * nb + p]! * t[p]!;
      w[ar + i] -= s;
    }
    tauq[j0 + i] = house(w, at(i, i), N, m - i);
    d[j0 + i] = w[at(i, i)]!;
    w[at(i, i)] = 1;
    const tq = tauq[j0 + i]!;
    // Y(i+1:, i) = tauq·(A(i:, i+1:)ᵀ·v - Y(i+1:, 0:i)·(V(i:, 0:i)ᵀ·v) - U(0:i, i+1:)ᵀ·(X(i:, 0:i)ᵀ·v)).
    yc.fill(0, 0, n);
    vt.fill(0);
    xt.fill(0);
    addRowPairs(w, at(i, i + 1), N, w, at(i, i), N, m - i, yc, i + 1, n - i - 1);
    addRowPairs(w, at(i, 0), N, w, at(i, i), N, m - i, vt, 0, i);
    addRowPairs(x, i * nb, nb, w, at(i, i), N, m - i, xt, 0, i);
    for (let c = i + 1; c < n; c++) {
      let s = 0;
      for (let p = 0; p < i; p++) s += y[c * nb + p]! * vt[p]!;
      yc[c] -= s;
    }
    for (let p = 0; p < i; p++) {
      const f = xt[p]!,
        ap = at(p, 0);
      for (let c = i + 1; c < n; c++) yc[c] -= w[ap + c]! * f;
    }
    for (let c = i + 1; c < n; c++) y[c * nb + i] = tq * yc[c]!;
    // Row i: A(i, i+1:) -= Y(i+1:, 0:i+1)·A(i, 0:i+1)ᵀ + U(0:i, i+1:)ᵀ·X(i, 0:i)ᵀ.
    const ai = at(i, 0);
    for (let c = i + 1; c < n; c++) {
      let s = 0;
      for (let p = 0; p <= i; p++) s += y[c * nb + p]! * w[ai + p]!;
      w[ai + c] -= s;
    }
    for (let p = 0; p < i; p++) {
      const f = x[i * nb + p]!,
        ap = at(p, 0);
      for (let c = i + 1; c < n; c++) w[ai + c] -= w[ap + c]! * f;
    }
    taup[j0 + i] = house(w, at(i, i + 1), 1, n - i - 1);
    e[j0 + i] = w[at(i, i + 1)]!;
    w[at(i, i + 1)] = 1;
    const tp = taup[j0 + i]!;
    // X(i+1:, i) = taup·(A(i+1:, i+1:)·u - V(i+1:, 0:i+1)·(Y(i+1:, 0:i+1)ᵀ·u) - X(i+1:, 0:i)·(U(0:i, i+1:)·u)).
    yu.fill(0);
    for (let c = i + 1; c < n; c++) {
      const uc = w[ai + c]!;
      for (let p = 0; p <= i; p++) yu[p] += y[c * nb + p]! * uc;
    }
    for (let p = 0; p < i; p++) {
      const ap = at(p, 0);
      let s = 0;
      for (let c = i + 1; c < n; c++) s += w[ap + c]! * w[ai + c]!;
      uu[p] = s;
    }
    rowDots(w, at(i + 1, i + 1), N, w, at(i, i + 1), m - i - 1, n - i - 1, xc, 0);
    for (let r = i + 1; r < m; r++) {
      const ar = at(r, 0);
      let s = xc[r - i - 1]!;
      for (let p = 0; p <= i; p++) s -= w[ar + p]! * yu[p]!;
      for (let p = 0; p < i; p++) s -= x[r * nb + p]! * uu[p]!;
      x[r * nb + i] = tp * s;
    }
  }
  // The rest: A(nb:, nb:) -= V(nb:, 0:nb)·Y(nb:, 0:nb)ᵀ + X(nb:, 0:nb)·U(0:nb, nb:).
  const rest = block(w, at(nb, nb), N);
  gemmSub(rest, block(w, at(nb, 0), N), tr(block(y, nb * nb, nb)), m - nb, nb, n - nb);
  gemmSub(rest, block(x, nb * nb, nb), block(w, at(0, nb), N), m - nb, nb, n - nb);
}

/** The smaller singular value of [[f, g], [0, h]] (LAPACK's dlas2, without cancellation). */
function smallerSingular(f: number, g: number, h: number): number {
  const fa = Math.abs(f),
    ga = Math.abs(g),
    ha = Math.abs(h);
  const fhmn = Math.min(fa, ha),
    fhmx = Math.max(fa, ha);
  if (fhmn === 0) return 0;
  if (ga < fhmx) {
    const as = 1 + fhmn / fhmx,
      at = (fhmx - fhmn) / fhmx,
      au = (ga / fhmx) ** 2;
    return (fhmn * 2) / (Math.sqrt(as * as + au) + Math.sqrt(at * at + au));
  }
  const au = fhmx / ga;
  if (au === 0) return (fhmn * fhmx) / ga;
  const as = 1 + fhmn / fhmx,
    at = (fhmx - fhmn) / fhmx;
  const c = 1 / (Math.sqrt(1 + (as * au) ** 2) + Math.sqrt(1 + (at * au) ** 2));
  return 2 * fhmn * c * au;
}

/**
 * Diagonalises the n×n upper bidiagonal (d, e) by implicit QR sweeps (LAPACK's dbdsqr with relative
 * accuracy): d ends up holding the singular values (with signs), and every rotation that acts on
 * the columns of B from the right (left) is applied to columns 0..n-1 of v (u), so U·B·Vᵀ is kept.
 */
export function bidiagonalQr(
  n: number,
  d: Float64Array,
  e: Float64Array,
  u: Float64Array,
  uRows: number,
  uLd: number,
  v: Float64Array,
  vRows: number,
  vLd: number,
): void {
  if (n <= 1) return;
  const tol = Math.max(10, Math.min(100, EPS ** -0.125)) * EPS;
  const cr = new Float64Array(n),
    sr = new Float64Array(n),
    cl = new Float64Array(n),
    sl = new Float64Array(n),
    g3 = new Float64Array(3);
  const [ru, rv] = rotators(
    [
      { x: u, rows: uRows, ld: uLd, cols: n },
      { x: v, rows: vRows, ld: vLd, cols: n },
    ],
    n,
  ) as [Rotator, Rotator];
  // Estimate of the smallest singular value, for the absolute threshold below which e is zero.
  let sminoa = Math.abs(d[0]!);
  for (let i = 1, mu = sminoa; i < n && sminoa !== 0; i++) {
    mu = Math.abs(d[i]!) * (mu / (mu + Math.abs(e[i - 1]!)));
    sminoa = Math.min(sminoa, mu);
  }
  const thresh = Math.max((tol * sminoa) / Math.sqrt(n), MAXITR * n * n * UNFL);
  const maxit = MAXITR * n * n;
  let iter = 0,
    oldll = -1,
    oldm = -1,
    idir = 0,
    m = n - 1;
  outer: while (m > 0 && iter <= maxit) {
    // The unreduced block ll..m at the bottom: e[ll-1] negligible (or ll = 0).
    let smax = Math.abs(d[m]!),
      ll = 0;
    for (let i = m - 1; i >= 0; i--) {
      const abse = Math.abs(e[i]!);
      if (abse <= thresh) {
        e[i] = 0;
        ll = i + 1;
        break;
      }
      smax = Math.max(smax, Math.abs(d[i]!), abse);
    }
    if (ll === m) {
      m--;
      continue;
    }
    // A block apart from the last one: chase the bulge from its larger end.
    if (ll > oldm || m < oldll) idir = Math.abs(d[ll]!) >= Math.abs(d[m]!) ? 1 : 2;
    // Relative convergence tests (Demmel–Kahan), each pass also estimating the smallest singular value.
    let sminl: number;
    if (idir === 1) {
      if (Math.abs(e[m - 1]!) <= tol * Math.abs(d[m]!)) {
        e[m - 1] = 0;
        continue;
      }
      let mu = Math.abs(d[ll]!);
      sminl = mu;
      for (let i = ll; i < m; i++) {
        if (Math.abs(e[i]!) <= tol * mu) {
          e[i] = 0;
          continue outer;
        }
        mu = Math.abs(d[i + 1]!) * (mu / (mu + Math.abs(e[i]!)));
        sminl = Math.min(sminl, mu);
      }
    } else {
      if (Math.abs(e[ll]!) <= tol * Math.abs(d[ll]!)) {
        e[ll] = 0;
        continue;
      }
      let mu = Math.abs(d[m]!);
      sminl = mu;
      for (let i = m - 1; i >= ll; i--) {
        if (Math.abs(e[i]!) <= tol * mu) {
          e[i] = 0;
          continue outer;
        }
        mu = Math.abs(d[i]!) * (mu / (mu + Math.abs(e[i]!)));
        sminl = Math.min(sminl, mu);
      }
    }
    oldll = ll;
    oldm = m;
    // The shift: the smaller singular value of the trailing 2×2 (leading, when chasing upwards),
    // or zero when it is negligible against the block's largest entry.
    let shift = 0;
    if (!(n * tol * (sminl / smax) <= Math.max(EPS, 0.01 * tol))) {
      const sll = idir === 1 ? Math.abs(d[ll]!) : Math.abs(d[m]!);
      shift = idir === 1 ? smallerSingular(d[m - 1]!, e[m - 1]!, d[m]!) : smallerSingular(d[ll]!, e[ll]!, d[ll + 1]!);
      if (sll > 0 && (shift / sll) ** 2 < EPS) shift = 0;
    }
    iter += m - ll;
    const cnt = m - ll;
    if (idir === 1) {
      if (shift === 0) {
        let cs = 1,
          oldcs = 1,
          oldsn = 0;
        for (let i = ll; i < m; i++) {
          givens(d[i]! * cs, e[i]!, g3);
          cs = g3[0]!;
          const sn = g3[1]!,
            r = g3[2]!;
          if (i > ll) e[i - 1] = oldsn * r;
          givens(oldcs * r, d[i + 1]! * sn, g3);
          oldcs = g3[0]!;
          oldsn = g3[1]!;
          d[i] = g3[2]!;
          cr[i - ll] = cs;
          sr[i - ll] = sn;
          cl[i - ll] = oldcs;
          sl[i - ll] = oldsn;
        }
        const h = d[m]! * cs;
        d[m] = h * oldcs;
        e[m - 1] = h * oldsn;
      } else {
        const dl = d[ll]!;
        let f = (Math.abs(dl) - shift) * ((dl >= 0 ? 1 : -1) + shift / dl),
          g = e[ll]!;
        for (let i = ll; i < m; i++) {
          givens(f, g, g3);
          const c1 = g3[0]!,
            s1 = g3[1]!;
          if (i > ll) e[i - 1] = g3[2]!;
          f = c1 * d[i]! + s1 * e[i]!;
          e[i] = c1 * e[i]! - s1 * d[i]!;
          g = s1 * d[i + 1]!;
          d[i + 1] = c1 * d[i + 1]!;
          givens(f, g, g3);
          const c2 = g3[0]!,
            s2 = g3[1]!;
          d[i] = g3[2]!;
          f = c2 * e[i]! + s2 * d[i + 1]!;
          d[i + 1] = c2 * d[i + 1]! - s2 * e[i]!;
          if (i < m - 1) {
            g = s2 * e[i + 1]!;
            e[i + 1] = c2 * e[i + 1]!;
          }
          cr[i - ll] = c1;
          sr[i - ll] = s1;
          cl[i - ll] = c2;
          sl[i - ll] = s2;
        }
        e[m - 1] = f;
      }
      rv.apply(ll, cnt, cr, sr, true);
      ru.apply(ll, cnt, cl, sl, true);
      if (Math.abs(e[m - 1]!) <= thresh) e[m - 1] = 0;
    } else {
      if (shift === 0) {
        let cs = 1,
          oldcs = 1,
          oldsn = 0;
        for (let i = m; i > ll; i--) {
          givens(d[i]! * cs, e[i - 1]!, g3);
          cs = g3[0]!;
          const sn = g3[1]!,
            r = g3[2]!;
          if (i < m) e[i] = oldsn * r;
          givens(oldcs * r, d[i - 1]! * sn, g3);
          oldcs = g3[0]!;
          oldsn = g3[1]!;
          d[i] = g3[2]!;
          cr[i - 1 - ll] = cs;
          sr[i - 1 - ll] = -sn;
          cl[i - 1 - ll] = oldcs;
          sl[i - 1 - ll] = -oldsn;
        }
        const h = d[ll]! * cs;
        d[ll] = h * oldcs;
        e[ll] = h * oldsn;
      } else {
        const dm = d[m]!;
        let f = (Math.abs(dm) - shift) * ((dm >= 0 ? 1 : -1) + shift / dm),
          g = e[m - 1]!;
        for (let i = m; i > ll; i--) {
          givens(f, g, g3);
          const c1 = g3[0]!,
            s1 = g3[1]!;
          if (i < m) e[i] = g3[2]!;
          f = c1 * d[i]! + s1 * e[i - 1]!;
          e[i - 1] = c1 * e[i - 1]! - s1 * d[i]!;
          g = s1 * d[i - 1]!;
          d[i - 1] = c1 * d[i - 1]!;
          givens(f, g, g3);
          const c2 = g3[0]!,
            s2 = g3[1]!;
          d[i] = g3[2]!;
          f = c2 * e[i - 1]! + s2 * d[i - 1]!;
          d[i - 1] = c2 * d[i - 1]! - s2 * e[i - 1]!;
          if (i > ll + 1) {
            g = s2 * e[i - 2]!;
            e[i - 2] = c2 * e[i - 2]!;
          }
          // Each rotation met plane (i-1, i) from its lower end: as a rotation of (i-1, i), -s.
          cr[i - 1 - ll] = c1;
          sr[i - 1 - ll] = -s1;
          cl[i - 1 - ll] = c2;
          sl[i - 1 - ll] = -s2;
        }
        e[ll] = f;
      }
      // Chasing upwards works on Bᵀ: the first rotation of each step acts on u, the second on v.
      ru.apply(ll, cnt, cr, sr, false);
      rv.apply(ll, cnt, cl, sl, false);
      if (Math.abs(e[ll]!) <= thresh) e[ll] = 0;
    }
  }
  ru.finish();
  rv.finish();
}
