/**
 * Shared pieces of the primitive table: the `PrimCase` type, a small seeded generator, host arrays
 * (plain JS numbers in row-major order) with naive index arithmetic for the float64 reference
 * implementations, and operand builders that keep values inside each primitive's smooth domain.
 * Nothing here calls the library: references must stay independent of it.
 */
import type { DType, Prim, PrimParams } from "../../src/index.js";

export type FloatDType = "float32" | "float64";

/** A reference array: shape and row-major values as JS numbers (bools as 0/1). */
export interface Host {
  shape: number[];
  data: number[];
}

/** An operand as the table builds it: values already representable in `dtype`. */
export interface Operand extends Host {
  dtype: DType;
}

/** Tolerance overrides for a case whose output is coarser than float64. */
export interface CaseTol {
  /** Finite-difference step (default 1e-6). */
  eps?: number;
  /** Relative tolerance of jvp vs central differences (default 1e-6). */
  fd?: number;
  /** Relative tolerance of the transpose identity (default 1e-10). */
  transpose?: number;
}

/**
 * The groups of checks a case runs. `value`: bind vs the reference. `jvp` (forward mode): jvp vs
 * central differences (or the zero / documented tangent) and vmap of jvp. `vjp` (reverse mode): vjp
 * vs central differences and vjp of vmap. `vmap`: vmap vs a stacked loop. The transpose identity
 * of `linear` groups needs both derivatives and takes each from the best source that is on: J v
 * from jvp, else from `ref` (so a group must then be linear, not affine); J^T u from vjp, else from
 * the primitive's own transpose rule applied to a staged call of it.
 */
export type Mode = "value" | "jvp" | "vjp" | "vmap";

/** An error a mode raises by design: its class, and a pattern its message must match. */
export interface ErrorSpec {
  error: abstract new (...args: never[]) => Error;
  message: RegExp;
}

export interface PrimCase<P extends Prim> {
  /** Shown in the test name. */
  name: string;
  /** Fresh operands drawn from `rng`; float operands in `fdt` unless the case fixes their dtype. */
  make: (rng: Rng, fdt: FloatDType) => Operand[];
  /** Static params (a function when they depend on the float dtype of the run). */
  params: PrimParams[P] | ((fdt: FloatDType) => PrimParams[P]);
  /** The naive float64 reference (exact for integer and bool results); a list for several outputs. */
  ref: (xs: Operand[], params: PrimParams[P]) => Host | Host[];
  /** The output dtype, or one per output (default: operand 0's for every output). */
  outDtype?: (xs: Operand[], params: PrimParams[P]) => DType | DType[];
  /** Indices of the differentiable (float) operands. */
  diff: number[];
  /** The output tangent is exactly zero for every input tangent. */
  zeroDerivative?: boolean;
  /**
   * For a case placed on a kink on purpose (ties of max/min): the documented tangent for tangents
   * `vs` of the `diff` operands, checked instead of central differences.
   */
  tangentRef?: (xs: Operand[], vs: Operand[], params: PrimParams[P]) => Host | Host[];
  /** Groups of operands the primitive is linear in, with the other operands held fixed. */
  linear?: number[][];
  tol?: CaseTol;
  /**
   * Modes not checked for this case (all are on by default): `{ vjp: false }` for a primitive
   * without reverse mode, and so on. A mode listed in `expectError` is off as well.
   */
  modes?: Partial<Record<Mode, false>>;
  /**
   * Modes that fail by design: each gets a test that running it (bind for `value`, jvp / vjp with
   * respect to the `diff` operands, vmap over all operands) throws the given error, in place of its
   * checks.
   */
  expectError?: Partial<Record<Mode, ErrorSpec>>;
}

/** Whether a case checks `mode` (not turned off, not failing by design). */
export const modeOn = (c: { modes?: Partial<Record<Mode, false>>; expectError?: Partial<Record<Mode, ErrorSpec>> }, mode: Mode): boolean =>
  c.modes?.[mode] !== false && c.expectError?.[mode] === undefined;

// ---------------------------------------------------------------- seeded generator

/** mulberry32: a tiny deterministic generator of uniforms in [0, 1). */
export class Rng {
  private s: number;
  constructor(seed: number) {
    this.s = seed >>> 0;
  }
  next(): number {
    let t = (this.s = (this.s + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  uniform(lo: number, hi: number): number {
    return lo + (hi - lo) * this.next();
  }
  /** An integer in [lo, hi] inclusive. */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }
  /** A value of magnitude in [lo, hi] with a random sign. */
  awayFromZero(lo: number, hi: number): number {
    return (this.next() < 0.5 ? -1 : 1) * this.uniform(lo, hi);
  }
  shuffle<T>(xs: T[]): T[] {
    for (let i = xs.length - 1; i > 0; i--) {
      const j = this.int(0, i);
      [xs[i], xs[j]] = [xs[j]!, xs[i]!];
    }
    return xs;
  }
}

/** A 32-bit FNV-1a hash: seeds each test from its name. */
export function seedOf(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

// ---------------------------------------------------------------- host arrays and indices

export const sizeOfShape = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);

export function stridesOfShape(shape: readonly number[]): number[] {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let d = shape.length - 1; d >= 0; d--) {
    s[d] = acc;
    acc *= shape[d]!;
  }
  return s;
}

export function unravel(flat: number, shape: readonly number[]): number[] {
  const idx = new Array<number>(shape.length);
  for (let d = shape.length - 1; d >= 0; d--) {
    idx[d] = flat % shape[d]!;
    flat = Math.floor(flat / shape[d]!);
  }
  return idx;
}

export function ravel(idx: readonly number[], shape: readonly number[]): number {
  let flat = 0;
  for (let d = 0; d < shape.length; d++) flat = flat * shape[d]! + idx[d]!;
  return flat;
}

export const at = (x: Host, idx: readonly number[]): number => x.data[ravel(idx, x.shape)]!;

/** Builds an array of `shape` from a function of the multi-index. */
export function build(shape: readonly number[], f: (idx: number[]) => number): Host {
  const n = sizeOfShape(shape);
  const data = new Array<number>(n);
  for (let i = 0; i < n; i++) data[i] = f(unravel(i, shape));
  return { shape: shape.slice(), data };
}

/** Every multi-index of `shape` in row-major order. */
export function* indices(shape: readonly number[]): Generator<number[]> {
  const n = sizeOfShape(shape);
  for (let i = 0; i < n; i++) yield unravel(i, shape);
}

/** Elementwise map over equal-shaped operands. */
export function zipMap(xs: readonly Host[], f: (...v: number[]) => number): Host {
  const x0 = xs[0]!;
  return { shape: x0.shape.slice(), data: x0.data.map((_, i) => f(...xs.map((x) => x.data[i]!))) };
}

export const clampInt = (v: number, lo: number, hi: number): number => Math.min(Math.max(v, lo), hi);

// ---------------------------------------------------------------- operand builders

/** Rounds to a dtype's values (float32 rounding, int32 / uint32 truncation and wrapping, bool 0/1). */
export function representable(v: number, dtype: DType): number {
  switch (dtype) {
    case "float32":
      return Math.fround(v);
    case "float64":
      return v;
    case "int32":
      return Math.trunc(v) | 0;
    case "uint32":
      return Math.trunc(v) >>> 0;
    case "bool":
      return v ? 1 : 0;
  }
}

export function operand(shape: number[], dtype: DType, f: (i: number) => number): Operand {
  const data = Array.from({ length: sizeOfShape(shape) }, (_, i) => representable(f(i), dtype));
  return { shape, dtype, data };
}

export const uni = (rng: Rng, shape: number[], dtype: DType, lo = -1, hi = 1): Operand => operand(shape, dtype, () => rng.uniform(lo, hi));
export const away = (rng: Rng, shape: number[], dtype: DType, lo = 0.3, hi = 2): Operand => operand(shape, dtype, () => rng.awayFromZero(lo, hi));
export const ints = (rng: Rng, shape: number[], lo: number, hi: number): Operand => operand(shape, "int32", () => rng.int(lo, hi));
export const bools = (rng: Rng, shape: number[]): Operand => operand(shape, "bool", () => (rng.next() < 0.5 ? 1 : 0));
export const scalarInt = (v: number): Operand => ({ shape: [], dtype: "int32", data: [v | 0] });

/** Values with pairwise gaps of at least `gap` (a shuffled, jittered grid): no ties, no near-ties. */
export function distinct(rng: Rng, shape: number[], dtype: DType, gap = 0.25): Operand {
  const n = sizeOfShape(shape);
  const grid = rng.shuffle(Array.from({ length: n }, (_, i) => (i - n / 2) * gap * 2));
  return operand(shape, dtype, (i) => grid[i]! + rng.uniform(-gap / 2, gap / 2));
}

/** A second operand that differs from `a` by at least `gap` everywhere, in either direction. */
export function apart(rng: Rng, a: Operand, gap = 0.2): Operand {
  return operand(a.shape, a.dtype, (i) => a.data[i]! + rng.awayFromZero(gap, 1));
}

/** A second operand equal to `a` in about `pEqual` of the places: for comparisons. */
export function partlyEqual(rng: Rng, a: Operand, pEqual = 0.4): Operand {
  return operand(a.shape, a.dtype, (i) => (rng.next() < pEqual ? a.data[i]! : a.data[i]! + rng.awayFromZero(0.1, 1)));
}
