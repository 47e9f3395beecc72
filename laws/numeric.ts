/**
 * Host-side numerics for the laws: a seeded PRNG, reading arrays back as float64, random directions
 * shaped like a list of leaves, inner products, and elementwise comparison with dtype-scaled
 * tolerances. Everything here works on flat lists of leaves; it never calls a transform.
 */
import { ArgumentError, type DType, NDArray, np, tree } from "../src/index.js";

/** A deterministic uniform [0, 1) generator (mulberry32). */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export const isFloat = (d: DType): boolean => d === "float32" || d === "float64";

/** A leaf as an array: JS numbers are float32 scalars (as transforms treat them), booleans bool. */
export function asLeaf(x: unknown): NDArray {
  if (x instanceof NDArray) return x;
  if (typeof x === "number") return np.array(x, { dtype: "float32" });
  if (typeof x === "boolean") return np.array(x, { dtype: "bool" });
  const proto = typeof x === "object" && x !== null ? Object.getPrototypeOf(x) : undefined;
  throw new ArgumentError(
    `laws: a leaf of the arguments or outputs is ${x === null ? "null" : typeof x}${proto === null ? " with a null prototype" : ""}, ` +
      `not an array or number${proto === null ? "; fluxion's pytrees read such objects as leaves: build records with fc.record(..., { noNullPrototype: true })" : ""}`,
  );
}

/** The leaves of a pytree, as arrays. */
export const leavesOf = (t: unknown): NDArray[] => tree.flatten(t)[0].map(asLeaf);

export function host(x: NDArray): Float64Array {
  return Float64Array.from(x.dataSync(), Number);
}

export function fromHost(values: ArrayLike<number>, shape: readonly number[], dtype: DType): NDArray {
  return np.array(Float64Array.from(values), { shape: shape.slice(), dtype });
}

/** Uniform [-1, 1] values shaped like each leaf (float leaves; other leaves get zeros of their dtype). */
export function randomLike(next: () => number, xs: readonly NDArray[]): NDArray[] {
  return xs.map((x) => {
    const v = new Float64Array(x.size);
    if (isFloat(x.dtype)) for (let i = 0; i < v.length; i++) v[i] = 2 * next() - 1;
    return fromHost(v, x.shape, x.dtype);
  });
}

/** Each leaf converted to the dtype of the matching leaf of `like` (a no-op where they agree). */
export const castLike = (xs: readonly NDArray[], like: readonly NDArray[]): NDArray[] =>
  xs.map((x, i) => (x.dtype === like[i]!.dtype ? x : x.astype(like[i]!.dtype)));

/** Float leaves converted to float64 (others unchanged). */
export const toFloat64 = (xs: readonly NDArray[]): NDArray[] => xs.map((x) => (x.dtype === "float32" ? x.astype("float64") : x));

/** a xs + b ys, leafwise on the host, in the dtype of xs. */
export function combine(a: number, xs: readonly NDArray[], b: number, ys: readonly NDArray[]): NDArray[] {
  return xs.map((x, i) => {
    const u = host(x),
      w = host(ys[i]!);
    return fromHost(
      u.map((ui, k) => a * ui + b * w[k]!),
      x.shape,
      x.dtype,
    );
  });
}

/** `sum_i x_i y_i` over the float leaves, in float64, with `sum_i |x_i y_i|` (the scale of its rounding error). */
export function vdot(xs: readonly NDArray[], ys: readonly NDArray[]): { value: number; absSum: number } {
  let value = 0,
    absSum = 0;
  xs.forEach((x, i) => {
    if (!isFloat(x.dtype)) return;
    const u = host(x),
      w = host(ys[i]!);
    for (let k = 0; k < u.length; k++) {
      value += u[k]! * w[k]!;
      absSum += Math.abs(u[k]! * w[k]!);
    }
  });
  return { value, absSum };
}

/** Elements in the float leaves. */
export const floatSize = (xs: readonly NDArray[]): number => xs.reduce((n, x) => n + (isFloat(x.dtype) ? x.size : 0), 0);

/** float32 if any float leaf is float32 (it sets the tolerance), else float64. */
export function toleranceDType(xs: readonly NDArray[]): "float32" | "float64" {
  return xs.some((x) => x.dtype === "float32") ? "float32" : "float64";
}

export interface Tolerance {
  atol: number;
  rtol: number;
}

/**
 * Default tolerances. `"fd"`: a derivative against float64 central differences (f32 about 2e-3,
 * f64 about 1e-5, as in JAX). `"ad"`: two exact computations of one quantity, which differ only by
 * rounding in the input dtype.
 */
export function defaultTolerance(kind: "fd" | "ad", dtype: "float32" | "float64"): Tolerance {
  if (kind === "fd") return dtype === "float32" ? { atol: 2e-3, rtol: 2e-3 } : { atol: 1e-5, rtol: 1e-5 };
  return dtype === "float32" ? { atol: 1e-4, rtol: 1e-3 } : { atol: 1e-9, rtol: 1e-8 };
}

/** The worst element of a leafwise comparison, as a ratio of error to tolerance. */
export interface Worst {
  error: number;
  tolerance: number;
  actual: number;
  expected: number;
  at: { leaf: number; index: number };
}

/**
 * Compares float leaves elementwise: |a - e| <= atol * sizeScale + rtol * max(|a|, |e|). Returns the
 * element with the largest error-to-tolerance ratio (NaN against a number fails; NaN against NaN
 * agrees, as in NumPy's allclose), or a string when shapes or dtypes differ.
 */
export function worstElement(actual: readonly NDArray[], expected: readonly NDArray[], tol: Tolerance, sizeScale = 1): Worst | string {
  if (actual.length !== expected.length) return `${actual.length} leaves against ${expected.length}`;
  let best: Worst = { error: 0, tolerance: tol.atol * sizeScale, actual: 0, expected: 0, at: { leaf: 0, index: 0 } };
  let bestRatio = -1;
  for (let l = 0; l < actual.length; l++) {
    const a = actual[l]!,
      e = expected[l]!;
    if (a.shape.join() !== e.shape.join()) return `leaf ${l} has shape [${a.shape}] against [${e.shape}]`;
    if (!isFloat(e.dtype) && a.dtype !== e.dtype) return `leaf ${l} has dtype ${a.dtype} against ${e.dtype}`;
    const u = host(a),
      w = host(e);
    for (let k = 0; k < u.length; k++) {
      const ak = u[k]!,
        ek = w[k]!;
      if (ak === ek || (Number.isNaN(ak) && Number.isNaN(ek))) continue;
      const err = Math.abs(ak - ek);
      const t = tol.atol * sizeScale + tol.rtol * Math.max(Math.abs(ak), Math.abs(ek));
      const ratio = Number.isNaN(err) ? Infinity : err / t;
      if (ratio > bestRatio) {
        bestRatio = ratio;
        best = { error: Number.isNaN(err) ? Infinity : err, tolerance: t, actual: ak, expected: ek, at: { leaf: l, index: k } };
      }
    }
  }
  return best;
}
