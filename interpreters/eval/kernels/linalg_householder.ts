/**
 * Householder reflections and plane rotations on row-major float64 matrices, shared by the QR,
 * symmetric eigen and singular value kernels (`linalg_qr.ts`, `linalg_eigh.ts`, `linalg_svd.ts`).
 *
 * A reflection is H = I - tau·v·vᵀ with v[0] = 1 (LAPACK's convention): `house` turns a vector x
 * into v (in place, below its first entry) and returns tau and beta with H·x = beta·e₀.
 * A sequence of rotations acting on neighbouring columns (k, k+1) is applied to every row in one
 * pass that carries the running entry (LAPACK's dlasr), so each row is read and written once.
 */

/**
 * Makes the reflection that maps x = data[off + i·stride], i < len, to beta·e₀: writes v[1..] over
 * x[1..] and beta over x[0]; returns tau (0 when x is already a multiple of e₀, then H = I).
 */
export function house(data: Float64Array, off: number, stride: number, len: number): number {
  const alpha = data[off]!;
  let scale = 0;
  for (let i = 1; i < len; i++) scale = Math.max(scale, Math.abs(data[off + i * stride]!));
  if (scale === 0) return 0;
  // ‖x[1..]‖ scaled by its largest entry, so squares neither overflow nor underflow.
  let ss = 0;
  for (let i = 1; i < len; i++) ss += (data[off + i * stride]! / scale) ** 2;
  const xnorm = scale * Math.sqrt(ss);
  const norm = Math.hypot(alpha, xnorm);
  const beta = alpha >= 0 ? -norm : norm;
  const f = 1 / (alpha - beta);
  for (let i = 1; i < len; i++) data[off + i * stride] *= f;
  data[off] = beta;
  return (beta - alpha) / beta;
}

/**
 * x[r0 + i][c0..c1) -= tau·v[i]·(vᵀ·x[r0.., c0..c1)) for i < len, with v[i] = vd[vo + i·vs] for
 * i >= 1 and v[0] = 1: the reflection applied from the left to rows r0.. of the row-major x.
 */
export function reflectLeft(
  x: Float64Array,
  ld: number,
  r0: number,
  c0: number,
  c1: number,
  tau: number,
  vd: Float64Array,
  vo: number,
  vs: number,
  len: number,
  dots: Float64Array,
): void {
  if (tau === 0) return;
  const w = c1 - c0;
  for (let c = 0; c < w; c++) dots[c] = x[r0 * ld + c0 + c]!;
  let i = 1;
  // Two rows per pass over dots: half its loads and stores.
  for (; i + 1 < len; i += 2) {
    const v0 = vd[vo + i * vs]!,
      v1 = vd[vo + (i + 1) * vs]!,
      r0i = (r0 + i) * ld + c0,
      r1i = r0i + ld;
    for (let c = 0; c < w; c++) dots[c] += v0 * x[r0i + c]! + v1 * x[r1i + c]!;
  }
  if (i < len) {
    const vi = vd[vo + i * vs]!,
      ri = (r0 + i) * ld + c0;
    for (let c = 0; c < w; c++) dots[c] += vi * x[ri + c]!;
  }
  for (let c = 0; c < w; c++) x[r0 * ld + c0 + c] -= tau * dots[c]!;
  for (let j = 1; j < len; j++) {
    const f = tau * vd[vo + j * vs]!,
      ri = (r0 + j) * ld + c0;
    if (f === 0) continue;
    for (let c = 0; c < w; c++) x[ri + c] -= f * dots[c]!;
  }
}

/**
 * x[r0..r1)[c0 + j] -= tau·(x[r, c0..]·v)·v[j] for j < len, with v[j] = vd[vo + j] (contiguous) for
 * j >= 1 and v[0] = 1: the reflection applied from the right to columns c0.. of rows r0..r1.
 */
export function reflectRight(
  x: Float64Array,
  ld: number,
  r0: number,
  r1: number,
  c0: number,
  tau: number,
  vd: Float64Array,
  vo: number,
  len: number,
): void {
  if (tau === 0) return;
  for (let r = r0; r < r1; r++) {
    const b = r * ld + c0;
    // Two sums, so the additions do not wait on each other.
    let t = x[b]!,
      t1 = 0,
      j = 1;
    for (; j + 1 < len; j += 2) {
      t += x[b + j]! * vd[vo + j]!;
      t1 += x[b + j + 1]! * vd[vo + j + 1]!;
    }
    if (j < len) t += x[b + j]! * vd[vo + j]!;
    t = (t + t1) * tau;
    if (t === 0) continue;
    x[b] -= t;
    for (let j = 1; j < len; j++) x[b + j] -= t * vd[vo + j]!;
  }
}

/** c, s, r with [c s; -s c]·[f; g] = [r; 0] (r >= 0 unless f = g = 0). */
export function givens(f: number, g: number, out: Float64Array): void {
  if (g === 0) {
    out[0] = 1;
    out[1] = 0;
    out[2] = f;
    return;
  }
  let r = Math.sqrt(f * f + g * g);
  // The plain formula over- or underflowed: take the careful one.
  if (!(r > 0 && r < Infinity)) r = Math.hypot(f, g);
  out[0] = f / r;
  out[1] = g / r;
  out[2] = r;
}

/**
 * Applies rotations k = 0..cnt-1 to columns (c0 + k, c0 + k + 1) of rows [0, rows) of the row-major
 * x: col_k ← c_k·col_k + s_k·col_{k+1}, col_{k+1} ← -s_k·col_k + c_k·col_{k+1}, in increasing k
 * (`forward`) or decreasing k.
 */
export function rotateChain(
  x: Float64Array,
  ld: number,
  rows: number,
  c0: number,
  cnt: number,
  cs: Float64Array,
  sn: Float64Array,
  forward: boolean,
): void {
  if (cnt <= 0) return;
  let r = 0;
  // Four rows per pass: each row's chain waits on its last multiply-add, and four independent
  // chains keep the processor busy meanwhile.
  for (; r + 3 < rows; r += 4) {
    const b0 = r * ld + c0,
      b1 = b0 + ld,
      b2 = b1 + ld,
      b3 = b2 + ld;
    if (forward) {
      let t0 = x[b0]!,
        t1 = x[b1]!,
        t2 = x[b2]!,
        t3 = x[b3]!;
      for (let k = 0; k < cnt; k++) {
        const c = cs[k]!,
          s = sn[k]!,
          y0 = x[b0 + k + 1]!,
          y1 = x[b1 + k + 1]!,
          y2 = x[b2 + k + 1]!,
          y3 = x[b3 + k + 1]!;
        x[b0 + k] = c * t0 + s * y0;
        x[b1 + k] = c * t1 + s * y1;
        x[b2 + k] = c * t2 + s * y2;
        x[b3 + k] = c * t3 + s * y3;
        t0 = c * y0 - s * t0;
        t1 = c * y1 - s * t1;
        t2 = c * y2 - s * t2;
        t3 = c * y3 - s * t3;
      }
      x[b0 + cnt] = t0;
      x[b1 + cnt] = t1;
      x[b2 + cnt] = t2;
      x[b3 + cnt] = t3;
    } else {
      let t0 = x[b0 + cnt]!,
        t1 = x[b1 + cnt]!,
        t2 = x[b2 + cnt]!,
        t3 = x[b3 + cnt]!;
      for (let k = cnt - 1; k >= 0; k--) {
        const c = cs[k]!,
          s = sn[k]!,
          y0 = x[b0 + k]!,
          y1 = x[b1 + k]!,
          y2 = x[b2 + k]!,
          y3 = x[b3 + k]!;
        x[b0 + k + 1] = c * t0 - s * y0;
        x[b1 + k + 1] = c * t1 - s * y1;
        x[b2 + k + 1] = c * t2 - s * y2;
        x[b3 + k + 1] = c * t3 - s * y3;
        t0 = c * y0 + s * t0;
        t1 = c * y1 + s * t1;
        t2 = c * y2 + s * t2;
        t3 = c * y3 + s * t3;
      }
      x[b0] = t0;
      x[b1] = t1;
      x[b2] = t2;
      x[b3] = t3;
    }
  }
  for (; r < rows; r++) {
    const b = r * ld + c0;
    if (forward) {
      let t = x[b]!;
      for (let k = 0; k < cnt; k++) {
        const c = cs[k]!,
          s = sn[k]!,
          y = x[b + k + 1]!;
        x[b + k] = c * t + s * y;
        t = c * y - s * t;
      }
      x[b + cnt] = t;
    } else {
      let t = x[b + cnt]!;
      for (let k = cnt - 1; k >= 0; k--) {
        const c = cs[k]!,
          s = sn[k]!,
          y = x[b + k]!;
        x[b + k + 1] = c * t - s * y;
        t = c * y + s * t;
      }
      x[b] = t;
    }
  }
}

/**
 * Scales x in place by 2^k, exactly, where k brings its largest magnitude near 1 if that lies
 * outside [2^-400, 2^400] (else k = 0): the factorizations then meet no overflow, underflow or
 * subnormal numbers, and their results are scaled back by 2^-k with `scaleBy`. Returns k.
 */
export function equilibrate(x: Float64Array): number {
  let big = 0;
  for (let i = 0; i < x.length; i++) big = Math.max(big, Math.abs(x[i]!));
  if (big === 0 || !Number.isFinite(big) || (big >= 2 ** -400 && big <= 2 ** 400)) return 0;
  const k = -Math.round(Math.log2(big));
  scaleBy(x, k);
  return k;
}

/** x *= 2^k, in two steps so that neither factor overflows (|k| up to about 2100). */
export function scaleBy(x: Float64Array, k: number): void {
  if (k === 0) return;
  const h = Math.trunc(k / 2),
    f1 = 2 ** h,
    f2 = 2 ** (k - h);
  for (let i = 0; i < x.length; i++) x[i] = x[i]! * f1 * f2;
}
