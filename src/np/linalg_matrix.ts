/**
 * `np.linalg` beyond norms: decompositions (thin wrappers of the linear-algebra primitives) and
 * what is composed from them — solve, inv, det, slogdet, lstsq, pinv, matrixPower — plus trace,
 * diagonal, tril, triu and kron. Everything works on the last two axes and batches over the leading
 * ones; integer and bool inputs are promoted to float32 as JAX does. Composed functions need no
 * rules of their own: grad, jvp, vmap and jit go through the primitives.
 */
import { isFloat } from "../core/dtype.js";
import { ArgumentError, ShapeError, describe, naming } from "../core/errors.js";
import * as lax from "../core/lax.js";
import { diagonal as diag0, eyeLike, mT, mm, tril as tril0, triu as triu0 } from "../core/lax_linalg.js";
import type { NDArray } from "../core/ndarray.js";
import { checkOptionsObject } from "../core/options.js";
import { broadcastShapes, fmtShape, range } from "../core/shape.js";
import { type ArrayLike, asArray } from "./base.js";

/** `x` as a float array (int and bool promoted to float32). */
function asFloat(fn: string, x: ArrayLike, arg = "a"): NDArray {
  const a = asArray(fn, x, undefined, arg);
  return isFloat(a.dtype) ? a : lax.convert(a, "float32");
}

/** A float stack of matrices (rank >= 2), optionally square. */
export function matrixArg(fn: string, x: ArrayLike, square: boolean, arg = "a"): NDArray {
  const a = asFloat(fn, x, arg);
  if (a.ndim < 2) throw new ShapeError(`${fn}: ${arg} must have at least 2 dimensions (a stack of matrices), got shape ${fmtShape(a.shape)}`);
  const [m, n] = a.shape.slice(-2) as [number, number];
  if (square && m !== n) throw new ShapeError(`${fn}: ${arg} must be square in its last two axes, got shape ${fmtShape(a.shape)}`);
  return a;
}

/**
 * a and b broadcast over their leading axes for a solve with a [..., n, n]: b is a stack of
 * a vector [n] when it is 1-D (NumPy 2 and JAX), else a stack of matrices [..., n, k].
 * Returns a, b as matrices, and whether b was a vector.
 */
export function solveOperands(fn: string, a: NDArray, y: ArrayLike, sizeAxis: "rows" | "cols" = "rows"): [NDArray, NDArray, boolean] {
  let b = asArray(fn, y, a.dtype, "b");
  if (!isFloat(b.dtype)) b = lax.convert(b, a.dtype);
  if (b.dtype !== a.dtype) {
    const dt = a.dtype === "float64" || b.dtype === "float64" ? "float64" : "float32";
    a = lax.convert(a, dt);
    b = lax.convert(b, dt);
  }
  const n = a.shape[a.ndim - 1]!;
  const vec = b.ndim === 1;
  if (b.ndim === 0) throw new ShapeError(`${fn}: b must be a vector or a matrix, got a scalar`);
  if (vec) b = lax.reshape(b, sizeAxis === "rows" ? [...b.shape, 1] : [...b.shape.slice(0, -1), 1, b.shape[b.ndim - 1]!]);
  const along = sizeAxis === "rows" ? b.shape[b.ndim - 2] : b.shape[b.ndim - 1];
  if (along !== n) {
    throw new ShapeError(
      `${fn}: a has shape ${fmtShape(a.shape)} but b has shape ${fmtShape(asArray(fn, y, undefined, "b").shape)}; b's ${vec ? "last" : sizeAxis === "rows" ? "second-to-last" : "last"} axis must have size ${n}`,
    );
  }
  const batch = broadcastShapes(fn, a.shape.slice(0, -2), b.shape.slice(0, -2));
  return [lax.broadcastTo(a, [...batch, ...a.shape.slice(-2)]), lax.broadcastTo(b, [...batch, ...b.shape.slice(-2)]), vec];
}

const unvec = (x: NDArray, vec: boolean, sizeAxis: "rows" | "cols" = "rows"): NDArray =>
  vec ? lax.reshape(x, sizeAxis === "rows" ? x.shape.slice(0, -1) : [...x.shape.slice(0, -2), x.shape[x.ndim - 1]!]) : x;

/** Rows of the [..., n, k] `b` in the order `perm` [..., n] (int32): P·b. */
export function permuteRows(b: NDArray, perm: NDArray): NDArray {
  const r = b.ndim;
  return lax.gather(b, perm, r - 2, r - 2);
}

/** Solves with an LU factorization: x = U⁻¹ L⁻¹ P b. */
export function luSolveWith(lu: NDArray, perm: NDArray, b: NDArray): NDArray {
  const y = lax.triangularSolve(lu, permuteRows(b, perm), { leftSide: true, lower: true, transposeA: false, unitDiagonal: true });
  return lax.triangularSolve(lu, y, { leftSide: true, lower: false, transposeA: false, unitDiagonal: false });
}

/**
 * The lower Cholesky factor L of a symmetric positive-definite a (a = L·Lᵀ), from the symmetric
 * part (a + aᵀ)/2 as JAX does; NaN where a is not positive definite.
 *
 * @example
 * np.linalg.cholesky([[4, 2], [2, 3]]); // [[2, 0], [1, 1.414...]]
 */
export function cholesky(a: ArrayLike): NDArray {
  return lax.cholesky(matrixArg("np.linalg.cholesky", a, true));
}

/**
 * x with a·x = b, by LU with partial pivoting; b is a vector [n] or a stack [..., n, k], leading axes broadcast.
 *
 * @example
 * np.linalg.solve([[3, 1], [1, 2]], [9, 8]); // [2, 3]
 */
export function solve(a: ArrayLike, b: ArrayLike): NDArray {
  const fn = "np.linalg.solve";
  const [aa, bb, vec] = solveOperands(fn, matrixArg(fn, a, true), b);
  const [lu, , perm] = lax.lu(aa);
  return unvec(luSolveWith(lu!, perm!, bb), vec);
}

/** The inverse of each square matrix (solve against the identity). */
export function inv(a: ArrayLike): NDArray {
  const aa = matrixArg("np.linalg.inv", a, true);
  const [lu, , perm] = lax.lu(aa);
  return luSolveWith(lu!, perm!, eyeLike(aa));
}

/** (−1)^(number of row swaps) from LU pivots [..., n], as a float of `dtype`. */
function parity(pivots: NDArray, dtype: NDArray["dtype"]): NDArray {
  const n = pivots.shape[pivots.ndim - 1]!;
  const iota = lax.full([n], 0, "int32");
  for (let i = 0; i < n; i++) iota.values[i] = i;
  const swaps = lax.reduceSum(lax.convert(lax.ne(pivots, lax.broadcastTo(iota, pivots.shape)), dtype), [pivots.ndim - 1]);
  const half = lax.mul(swaps, lax.fill(swaps, 0.5));
  const odd = lax.sub(half, lax.floor(half)); // 0 or 1/2
  return lax.sub(lax.fill(swaps, 1), lax.mul(odd, lax.fill(odd, 4)));
}

/**
 * Determinant of each square matrix: the product of U's diagonal from LU, times the sign of the
 * row permutation. Its derivative (through the LU rule) is det(a)·a⁻ᵀ, sign included.
 */
export function det(a: ArrayLike): NDArray {
  const aa = matrixArg("np.linalg.det", a, true);
  const [lu, piv] = lax.lu(aa);
  const d = diag0(lu!);
  return lax.mul(prodLast(d), parity(piv!, aa.dtype));
}

/** Product over the last axis, with a gradient that is right when an entry is 0 (as a running product). */
function prodLast(d: NDArray): NDArray {
  const n = d.shape[d.ndim - 1]!;
  if (n === 0) return lax.full(d.shape.slice(0, -1), 1, d.dtype); // the empty product
  let p = lax.sliceAxis(d, d.ndim - 1, 0, 1);
  for (let i = 1; i < n; i++) p = lax.mul(p, lax.sliceAxis(d, d.ndim - 1, i, i + 1));
  return lax.reshape(p, d.shape.slice(0, -1));
}

/**
 * [sign, logabsdet] with det(a) = sign·exp(logabsdet), without overflow for large matrices.
 * A singular matrix gives sign 0 and logabsdet −Infinity.
 */
export function slogdet(a: ArrayLike): [NDArray, NDArray] {
  const aa = matrixArg("np.linalg.slogdet", a, true);
  const [lu, piv] = lax.lu(aa);
  const d = diag0(lu!);
  const last = d.ndim - 1;
  const signs = lax.sign(d);
  return [lax.mul(prodLast(lax.stopGradient(signs)), parity(piv!, aa.dtype)), lax.reduceSum(lax.log(lax.abs(d)), [last])];
}

export interface QrOptions {
  /** "reduced" (default: q m×k, r k×n), "complete" (q m×m, r m×n) or "r" (only r). */
  mode?: "reduced" | "complete" | "r";
}

/**
 * QR decomposition by Householder reflections, diag(r) >= 0: [q, r] (or [r] for mode "r").
 * Differentiable for m >= n in mode "reduced" (JAX's rule).
 */
export function qr(a: ArrayLike, options: QrOptions = {}): NDArray[] {
  const fn = "np.linalg.qr";
  const { mode = "reduced" } = checkOptionsObject(fn, options, ["mode"]);
  if (mode !== "reduced" && mode !== "complete" && mode !== "r")
    throw new ArgumentError(`${fn}: mode must be "reduced", "complete" or "r", got ${describe(mode)}`);
  const [q, r] = lax.qr(matrixArg(fn, a, false), mode === "complete");
  return mode === "r" ? [r!] : [q!, r!];
}

/**
 * [w, v]: eigenvalues (ascending) and orthonormal eigenvectors (columns of v) of the symmetric part
 * of a, by Householder tridiagonalisation and implicit QL (cyclic Jacobi rotations up to 16 rows).
 * Each eigenvector's largest-magnitude entry is positive. Where eigenvalues repeat, the eigenvector
 * derivative leaves the repeated subspace's basis unrotated.
 */
export function eigh(a: ArrayLike): [NDArray, NDArray] {
  const [w, v] = lax.eigh(matrixArg("np.linalg.eigh", a, true));
  return [w!, v!];
}

/** Eigenvalues of the symmetric part of a, ascending. */
export function eigvalsh(a: ArrayLike): NDArray {
  return eigh(a)[0];
}

export interface SvdOptions {
  /** u m×m and vh n×n (default true, as NumPy and JAX); false gives k = min(m, n) columns/rows. */
  fullMatrices?: boolean;
  /** Return only the singular values (default true: [u, s, vh]). */
  computeUv?: boolean;
}

/**
 * Singular value decomposition a = u·diag(s)·vh by Golub–Kahan (bidiagonalisation and implicit-shift
 * QR; one-sided Jacobi when a dimension is at most 16), s descending. With repeated singular values
 * the singular-vector derivative leaves that subspace's basis unrotated; a
 * non-square matrix with a zero singular value has infinite singular-vector derivatives (as JAX).
 */
export function svd(a: ArrayLike, options: SvdOptions = {}): NDArray[] {
  const fn = "np.linalg.svd";
  const { fullMatrices = true, computeUv = true } = checkOptionsObject(fn, options, ["fullMatrices", "computeUv"]);
  if (typeof fullMatrices !== "boolean" || typeof computeUv !== "boolean")
    throw new ArgumentError(`${fn}: fullMatrices and computeUv must be booleans`);
  const outs = lax.svd(matrixArg(fn, a, false), computeUv ? fullMatrices : false);
  return computeUv ? outs : [outs[1]!];
}

/** Default cutoff for small singular values: eps(dtype) · max(m, n), relative to the largest. */
const defaultRcond = (a: NDArray): number => (a.dtype === "float64" ? 2.220446049250313e-16 : 1.1920929e-7) * Math.max(...a.shape.slice(-2));

/** s⁺: 1/s where s > rcond · max(s), else 0. */
function pinvValues(s: NDArray, rcond: number): NDArray {
  const last = s.ndim - 1;
  const cutoff = lax.mul(lax.broadcastInDim(lax.reduceMax(lax.stopGradient(s), [last]), s.shape, range(last)), lax.fill(s, rcond));
  const keep = lax.gt(s, cutoff);
  const safe = lax.selectN(keep, lax.fill(s, 1), s);
  return lax.selectN(keep, lax.fill(s, 0), lax.div(lax.fill(s, 1), safe));
}

/** The Moore–Penrose pseudo-inverse V·diag(s⁺)·Uᵀ from the reduced SVD. */
export function pinv(a: ArrayLike, options: { rcond?: number } = {}): NDArray {
  const fn = "np.linalg.pinv";
  const aa = matrixArg(fn, a, false);
  const { rcond = defaultRcond(aa) } = checkOptionsObject(fn, options, ["rcond"]);
  if (typeof rcond !== "number" || !(rcond >= 0)) throw new ArgumentError(`${fn}: rcond must be a non-negative number, got ${describe(rcond)}`);
  const [u, s, vh] = lax.svd(aa, false);
  const sp = pinvValues(s!, rcond);
  const k = sp.shape[sp.ndim - 1]!;
  const scaled = lax.mul(mT(vh!), lax.broadcastInDim(sp, [...sp.shape.slice(0, -1), aa.shape[aa.ndim - 1]!, k], [...range(sp.ndim - 1), sp.ndim]));
  return mm(scaled, mT(u!));
}

/**
 * Least squares: [x, residuals, rank, s] minimising ‖a·x − b‖ (minimum-norm x for rank-deficient a),
 * via the SVD as NumPy does. residuals are the squared residual norms per column whenever m > n
 * (also for a rank-deficient a, since the rank is not known while tracing), else an empty array;
 * rank is int32. a is 2-D (vmap it for stacks).
 */
export function lstsq(a: ArrayLike, b: ArrayLike, options: { rcond?: number } = {}): [NDArray, NDArray, NDArray, NDArray] {
  const fn = "np.linalg.lstsq";
  const aa = matrixArg(fn, a, false);
  if (aa.ndim !== 2) throw new ShapeError(`${fn}: a must be 2-D (use vmap for stacks), got shape ${fmtShape(aa.shape)}`);
  const [m, n] = aa.shape as [number, number];
  const bb0 = asFloat(fn, b, "b");
  if (bb0.ndim < 1 || bb0.ndim > 2 || bb0.shape[0] !== m) {
    throw new ShapeError(`${fn}: b must be [${m}] or [${m}, k] to match a's ${m} rows, got shape ${fmtShape(bb0.shape)}`);
  }
  const { rcond = defaultRcond(aa) } = checkOptionsObject(fn, options, ["rcond"]);
  const dt = aa.dtype === "float64" || bb0.dtype === "float64" ? "float64" : "float32";
  const a2 = lax.convert(aa, dt);
  const vec = bb0.ndim === 1;
  const b2 = lax.convert(vec ? lax.reshape(bb0, [m, 1]) : bb0, dt);
  const [u, s, vh] = lax.svd(a2, false);
  const sp = pinvValues(s!, rcond);
  const utb = lax.mul(mm(mT(u!), b2), lax.broadcastInDim(sp, [sp.shape[0]!, b2.shape[1]!], [0]));
  const x = mm(mT(vh!), utb);
  const rank = lax.reduceSum(lax.convert(lax.ne(sp, lax.fill(sp, 0)), "int32"), [0]);
  const resid = mm(a2, x);
  const r = lax.sub(resid, b2);
  const full = m > n;
  const residuals = full ? lax.reduceSum(lax.mul(r, r), [0]) : lax.full([0], 0, dt);
  return [vec ? lax.reshape(x, [n]) : x, vec && full ? lax.reshape(residuals, [1]) : residuals, rank, s!];
}

/** a raised to the integer power p by repeated squaring; p < 0 uses inv(a), p = 0 the identity. */
export function matrixPower(a: ArrayLike, p: number): NDArray {
  const fn = "np.linalg.matrixPower";
  if (!Number.isSafeInteger(p)) throw new ArgumentError(`${fn}: the power must be an integer, got ${describe(p)}`);
  let base = matrixArg(fn, a, true);
  if (p === 0) return eyeLike(base);
  if (p < 0) base = inv(base);
  let e = Math.abs(p);
  let acc: NDArray | null = null;
  while (e > 0) {
    if (e & 1) acc = acc === null ? base : mm(acc, base);
    e = Math.floor(e / 2);
    if (e > 0) base = mm(base, base);
  }
  return acc!;
}

/** Diagonal `offset` of the last two axes: [..., m, n] -> [..., len]. */
export function diagonal(x: ArrayLike, offset = 0): NDArray {
  const fn = "np.linalg.diagonal";
  const a = asArray(fn, x, undefined, "x");
  if (a.ndim < 2) throw new ShapeError(`${fn}: x must have at least 2 dimensions, got shape ${fmtShape(a.shape)}`);
  if (!Number.isSafeInteger(offset)) throw new ArgumentError(`${fn}: offset must be an integer, got ${describe(offset)}`);
  const r = a.ndim,
    m = a.shape[r - 2]!,
    n = a.shape[r - 1]!;
  const r0 = Math.max(0, -offset),
    c0 = Math.max(0, offset);
  const len = Math.max(0, Math.min(m - r0, n - c0));
  const block = lax.slice(
    a,
    a.shape.map((_, d) => (d === r - 2 ? r0 : d === r - 1 ? c0 : 0)),
    a.shape.map((s, d) => (d === r - 2 ? r0 + len : d === r - 1 ? c0 + len : s)),
  );
  return diag0(block);
}

/** Sum of diagonal `offset` of the last two axes. */
export function trace(x: ArrayLike, offset = 0): NDArray {
  const d = diagonal(x, offset);
  return lax.reduceSum(d, [d.ndim - 1]);
}

/** Entries on and below diagonal k of the last two axes; zeros above. */
export function tril(x: ArrayLike, k = 0): NDArray {
  if (!Number.isSafeInteger(k)) throw new ArgumentError(`np.linalg.tril: k must be an integer, got ${describe(k)}`);
  const a = asArray("np.linalg.tril", x, undefined, "x");
  if (a.ndim < 2) throw new ShapeError(`np.linalg.tril: x must have at least 2 dimensions, got shape ${fmtShape(a.shape)}`);
  return tril0(a, k);
}

/** Entries on and above diagonal k of the last two axes; zeros below. */
export function triu(x: ArrayLike, k = 0): NDArray {
  if (!Number.isSafeInteger(k)) throw new ArgumentError(`np.linalg.triu: k must be an integer, got ${describe(k)}`);
  const a = asArray("np.linalg.triu", x, undefined, "x");
  if (a.ndim < 2) throw new ShapeError(`np.linalg.triu: x must have at least 2 dimensions, got shape ${fmtShape(a.shape)}`);
  return triu0(a, k);
}

/** Kronecker product: block (i, j) of the result is a[i, j]·b (any ranks, padded with leading 1s). */
export function kron(x: ArrayLike, y: ArrayLike): NDArray {
  const fn = "np.linalg.kron";
  let a = asArray(fn, x, undefined, "a"),
    b = asArray(fn, y, a.dtype, "b");
  if (a.dtype !== b.dtype) {
    const order = ["bool", "int32", "float32", "float64"];
    const dt = order[Math.max(order.indexOf(a.dtype), order.indexOf(b.dtype), 1)] as NDArray["dtype"];
    a = lax.convert(a, dt);
    b = lax.convert(b, dt);
  }
  if (a.dtype === "bool") {
    a = lax.convert(a, "int32");
    b = lax.convert(b, "int32");
  }
  const r = Math.max(a.ndim, b.ndim);
  const as = [...new Array<number>(r - a.ndim).fill(1), ...a.shape],
    bs = [...new Array<number>(r - b.ndim).fill(1), ...b.shape];
  const wide = range(r).flatMap((d) => [as[d]!, bs[d]!]);
  const ea = lax.broadcastInDim(
    lax.reshape(a, as),
    wide,
    range(r).map((d) => 2 * d),
  );
  const eb = lax.broadcastInDim(
    lax.reshape(b, bs),
    wide,
    range(r).map((d) => 2 * d + 1),
  );
  return lax.reshape(
    lax.mul(ea, eb),
    range(r).map((d) => as[d]! * bs[d]!),
  );
}

/** `f` with its errors naming `np.linalg.<name>` (a helper's message gets that prefix). */

function named<F extends (...args: any[]) => unknown>(name: string, f: F): F {
  return ((...args: Parameters<F>) => naming(`np.linalg.${name}`, () => f(...args))) as F;
}

/** The functions of `np.linalg` besides norm, each reporting errors under its own name. */
export const matrixFunctions = {
  cholesky: named("cholesky", cholesky),
  solve: named("solve", solve),
  inv: named("inv", inv),
  det: named("det", det),
  slogdet: named("slogdet", slogdet),
  qr: named("qr", qr),
  eigh: named("eigh", eigh),
  eigvalsh: named("eigvalsh", eigvalsh),
  svd: named("svd", svd),
  lstsq: named("lstsq", lstsq),
  pinv: named("pinv", pinv),
  matrixPower: named("matrixPower", matrixPower),
  trace: named("trace", trace),
  diagonal: named("diagonal", diagonal),
  tril: named("tril", tril),
  triu: named("triu", triu),
  kron: named("kron", kron),
};
