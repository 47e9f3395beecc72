/**
 * Dense linear-algebra kernels for the eval interpreter: Cholesky, triangular solves, LU with
 * partial pivoting, the symmetric eigenproblem (cyclic Jacobi) and the SVD (one-sided Jacobi), for
 * small matrices (the blocked and Householder-based kernels beside this file take the larger ones).
 * Each works on ONE row-major matrix held in a Float64Array (callers loop over the batch and
 * convert float32 in and out, so float32 inputs are factored in float64 and rounded once). This
 * module knows nothing of NDArrays, dtypes or shapes beyond (m, n).
 * Loops run along rows, so the inner loops read contiguous memory.
 */

const EPS = 2.220446049250313e-16;

/** a copy of the symmetric part (a + aᵀ)/2 of an n×n matrix. */
export function symmetricPart(a: Float64Array, n: number): Float64Array {
  const s = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) s[i * n + j] = 0.5 * (a[i * n + j]! + a[j * n + i]!);
  return s;
}

/** Lower Cholesky factor of the symmetric n×n `s` into `l` (zeros above); all NaN when s is not positive definite. */
export function cholesky(s: Float64Array, n: number, l: Float64Array): void {
  l.fill(0);
  for (let j = 0; j < n; j++) {
    const rj = j * n;
    let d = s[rj + j]!;
    for (let k = 0; k < j; k++) d -= l[rj + k]! * l[rj + k]!;
    if (!(d > 0)) {
      l.fill(NaN);
      return;
    }
    const ljj = Math.sqrt(d);
    l[rj + j] = ljj;
    for (let i = j + 1; i < n; i++) {
      const ri = i * n;
      let v = s[ri + j]!;
      for (let k = 0; k < j; k++) v -= l[ri + k]! * l[rj + k]!;
      l[ri + j] = v / ljj;
    }
  }
}

/**
 * Solves M·X = B in place in `b` (n×k, row-major) where M(i, j) = a[i][j] (or a[j][i] when
 * `trans`), reading only M's lower (`lower`) or upper triangle; ones on the diagonal when `unit`.
 */
export function triangularSolveLeft(a: Float64Array, b: Float64Array, n: number, k: number, lower: boolean, trans: boolean, unit: boolean): void {
  const m = (i: number, j: number) => (trans ? a[j * n + i]! : a[i * n + j]!);
  for (let step = 0; step < n; step++) {
    const i = lower ? step : n - 1 - step;
    const ri = i * k;
    const lo = lower ? 0 : i + 1,
      hi = lower ? i : n;
    for (let j = lo; j < hi; j++) {
      const mij = m(i, j);
      if (mij === 0) continue;
      const rj = j * k;
      for (let c = 0; c < k; c++) b[ri + c] -= mij * b[rj + c]!;
    }
    if (!unit) {
      const d = m(i, i);
      for (let c = 0; c < k; c++) b[ri + c] /= d;
    }
  }
}

/** The transpose of an r×c matrix. */
export function transposed(x: Float64Array, r: number, c: number): Float64Array {
  const t = new Float64Array(r * c);
  for (let i = 0; i < r; i++) for (let j = 0; j < c; j++) t[j * r + i] = x[i * c + j]!;
  return t;
}

/**
 * LU with partial pivoting of the n×n `a`, in place (L strictly below the diagonal, U on and
 * above); `piv[k]` is the row swapped with row k at step k, `perm` the final row order.
 */
export function lu(a: Float64Array, n: number, piv: Int32Array, perm: Int32Array): void {
  for (let i = 0; i < n; i++) perm[i] = i;
  for (let k = 0; k < n; k++) {
    let p = k,
      best = Math.abs(a[k * n + k]!);
    for (let i = k + 1; i < n; i++) {
      const v = Math.abs(a[i * n + k]!);
      if (v > best) {
        best = v;
        p = i;
      }
    }
    piv[k] = p;
    if (p !== k) {
      for (let j = 0; j < n; j++) {
        const t = a[k * n + j]!;
        a[k * n + j] = a[p * n + j]!;
        a[p * n + j] = t;
      }
      const t = perm[k]!;
      perm[k] = perm[p]!;
      perm[p] = t;
    }
    const d = a[k * n + k]!;
    if (d === 0) continue;
    for (let i = k + 1; i < n; i++) {
      const f = (a[i * n + k]! /= d);
      if (f === 0) continue;
      for (let j = k + 1; j < n; j++) a[i * n + j] -= f * a[k * n + j]!;
    }
  }
}

/** Makes each column of the r×c `x` have its largest-magnitude entry positive; returns the flips (±1). */
export function positiveColumns(x: Float64Array, r: number, c: number): Float64Array {
  const flips = new Float64Array(c).fill(1);
  for (let j = 0; j < c; j++) {
    let best = -1,
      at = 0;
    for (let i = 0; i < r; i++) {
      const v = Math.abs(x[i * c + j]!);
      if (v > best + 1e-12 * best) {
        best = v;
        at = i;
      }
    }
    if (x[at * c + j]! < 0) {
      flips[j] = -1;
      for (let i = 0; i < r; i++) x[i * c + j] = -x[i * c + j]!;
    }
  }
  return flips;
}

/**
 * Eigen-decomposition of the symmetric n×n `s` (overwritten) by cyclic Jacobi rotations:
 * ascending eigenvalues into `w`, orthonormal eigenvectors into the columns of `v`, each column's
 * largest-magnitude entry positive.
 */
export function eigh(s: Float64Array, n: number, w: Float64Array, v: Float64Array): void {
  v.fill(0);
  for (let i = 0; i < n; i++) v[i * n + i] = 1;
  let total = 0;
  for (let i = 0; i < n * n; i++) total += s[i]! ** 2;
  for (let sweep = 0; sweep < 100; sweep++) {
    let off = 0;
    for (let p = 0; p < n; p++) for (let q = p + 1; q < n; q++) off += s[p * n + q]! ** 2;
    if (off <= EPS * EPS * total * 1e-2 || off === 0) break;
    for (let p = 0; p < n - 1; p++) {
      for (let q = p + 1; q < n; q++) {
        const spq = s[p * n + q]!;
        if (spq === 0) continue;
        const theta = (s[q * n + q]! - s[p * n + p]!) / (2 * spq);
        const t = (theta >= 0 ? 1 : -1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1),
          sn = t * c;
        rotateColumns(s, n, n, p, q, c, sn);
        rotateRows(s, n, p, q, c, sn);
        rotateColumns(v, n, n, p, q, c, sn);
      }
    }
  }
  const order = Array.from({ length: n }, (_, i) => i).sort((i, j) => s[i * n + i]! - s[j * n + j]! || i - j);
  const vv = Float64Array.from(v);
  order.forEach((o, j) => {
    w[j] = s[o * n + o]!;
    for (let i = 0; i < n; i++) v[i * n + j] = vv[i * n + o]!;
  });
  positiveColumns(v, n, n);
}

/** Columns p, q of the r×c `x` times [[c, s], [-s, c]]. */
function rotateColumns(x: Float64Array, r: number, cols: number, p: number, q: number, c: number, s: number): void {
  for (let k = 0; k < r; k++) {
    const xp = x[k * cols + p]!,
      xq = x[k * cols + q]!;
    x[k * cols + p] = c * xp - s * xq;
    x[k * cols + q] = s * xp + c * xq;
  }
}

/** Rows p, q of the n-column `x` premultiplied by [[c, -s], [s, c]]. */
function rotateRows(x: Float64Array, n: number, p: number, q: number, c: number, s: number): void {
  const rp = p * n,
    rq = q * n;
  for (let k = 0; k < n; k++) {
    const xp = x[rp + k]!,
      xq = x[rq + k]!;
    x[rp + k] = c * xp - s * xq;
    x[rq + k] = s * xp + c * xq;
  }
}

/**
 * SVD of the m×n `a` by one-sided Jacobi (Hestenes) on the columns of a (or of aᵀ when m < n):
 * u (m×uc), s (k, descending), vh (vr×n), with uc = vr = k, or m and n when `full`. Columns of u
 * for zero singular values (and the extra ones of `full`) complete an orthonormal basis.
 */
export function svd(a: Float64Array, m: number, n: number, full: boolean, u: Float64Array, s: Float64Array, vh: Float64Array): void {
  const tall = m >= n;
  const M = tall ? m : n,
    N = tall ? n : m;
  // Rows of `cols` are the columns of A' (M×N); rows of `vt` the columns of V (N×N).
  const cols = tall ? transposed(a, m, n) : Float64Array.from(a);
  const vt = new Float64Array(N * N);
  for (let i = 0; i < N; i++) vt[i * N + i] = 1;
  for (let sweep = 0; sweep < 100; sweep++) {
    let rotated = false;
    for (let p = 0; p < N - 1; p++) {
      for (let q = p + 1; q < N; q++) {
        let alpha = 0,
          beta = 0,
          gamma = 0;
        for (let i = 0; i < M; i++) {
          const xp = cols[p * M + i]!,
            xq = cols[q * M + i]!;
          alpha += xp * xp;
          beta += xq * xq;
          gamma += xp * xq;
        }
        if (gamma === 0 || Math.abs(gamma) <= EPS * Math.sqrt(alpha * beta)) continue;
        rotated = true;
        const zeta = (beta - alpha) / (2 * gamma);
        const t = (zeta >= 0 ? 1 : -1) / (Math.abs(zeta) + Math.sqrt(1 + zeta * zeta));
        const c = 1 / Math.sqrt(1 + t * t),
          sn = c * t;
        rotateRows(cols, M, p, q, c, sn);
        rotateRows(vt, N, p, q, c, sn);
      }
    }
    if (!rotated) break;
  }
  const norms = Array.from({ length: N }, (_, j) => {
    let t = 0;
    for (let i = 0; i < M; i++) t += cols[j * M + i]! ** 2;
    return Math.sqrt(t);
  });
  const order = Array.from({ length: N }, (_, j) => j).sort((i, j) => norms[j]! - norms[i]! || i - j);
  const smax = norms[order[0]!] ?? 0;
  const Uc = full ? M : N;
  // U' (M×Uc) as rows = its columns, V' (N×N) likewise.
  const ucols = new Float64Array(Uc * M);
  const vcols = new Float64Array(N * N);
  const filled: boolean[] = new Array(Uc).fill(false);
  order.forEach((o, j) => {
    s[j] = norms[o]!;
    for (let i = 0; i < N; i++) vcols[j * N + i] = vt[o * N + i]!;
    if (norms[o]! > smax * EPS * M && norms[o]! > 0) {
      for (let i = 0; i < M; i++) ucols[j * M + i] = cols[o * M + i]! / norms[o]!;
      filled[j] = true;
    }
  });
  completeBasis(ucols, Uc, M, filled);
  // A = U' S V'ᵀ (tall) or A = V' S U'ᵀ (wide): u's columns and vh's rows.
  const [uRows, uCount, uLen, vRows, vCount, vLen] = tall ? [ucols, Uc, M, vcols, N, N] : [vcols, N, N, ucols, Uc, M];
  const uc = uCount,
    vr = vCount;
  for (let j = 0; j < uc; j++) for (let i = 0; i < uLen; i++) u[i * uc + j] = uRows[j * uLen + i]!;
  for (let j = 0; j < vr; j++) for (let i = 0; i < vLen; i++) vh[j * vLen + i] = vRows[j * vLen + i]!;
  svdSigns(u, vh, m, n, uc, vr);
}

/**
 * The SVD's sign convention: each column of u (m×uc) has its largest entry positive and the
 * matching row of vh (vr×n) flips with it; rows of vh beyond min(m, n) (full, wide) have no partner
 * in u and get the same convention themselves.
 */
export function svdSigns(u: Float64Array, vh: Float64Array, m: number, n: number, uc: number, vr: number): void {
  const flips = positiveColumns(u, m, uc);
  const k = Math.min(m, n);
  for (let j = 0; j < k; j++) if (flips[j] === -1) for (let i = 0; i < n; i++) vh[j * n + i] = -vh[j * n + i]!;
  for (let j = k; j < vr; j++) {
    let best = -1,
      at = 0;
    for (let i = 0; i < n; i++)
      if (Math.abs(vh[j * n + i]!) > best) {
        best = Math.abs(vh[j * n + i]!);
        at = i;
      }
    if (vh[j * n + at]! < 0) for (let i = 0; i < n; i++) vh[j * n + i] = -vh[j * n + i]!;
  }
}

/** Fills the rows of `b` (count × len) not yet `filled` with unit vectors orthogonal to all others (Gram–Schmidt on e_i, twice). */
function completeBasis(b: Float64Array, count: number, len: number, filled: boolean[]): void {
  for (let j = 0; j < count; j++) {
    if (filled[j]) continue;
    let bestVec: Float64Array | null = null,
      bestNorm = -1;
    for (let e = 0; e < len && bestNorm < 0.5; e++) {
      const x = new Float64Array(len);
      x[e] = 1;
      for (let pass = 0; pass < 2; pass++) {
        for (let o = 0; o < count; o++) {
          if (!filled[o]) continue;
          let d = 0;
          for (let i = 0; i < len; i++) d += b[o * len + i]! * x[i]!;
          for (let i = 0; i < len; i++) x[i] -= d * b[o * len + i]!;
        }
      }
      let nrm = 0;
      for (let i = 0; i < len; i++) nrm += x[i]! ** 2;
      nrm = Math.sqrt(nrm);
      if (nrm > bestNorm) {
        bestNorm = nrm;
        bestVec = x;
      }
    }
    for (let i = 0; i < len; i++) b[j * len + i] = bestVec![i]! / bestNorm;
    filled[j] = true;
  }
}
