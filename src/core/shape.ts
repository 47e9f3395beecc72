/**
 * Shape arithmetic shared by every layer: sizes, strides, broadcasting and axis normalisation.
 * Pure functions on number arrays; errors name the calling function.
 */
import { ArgumentError, ShapeError, describe } from "./errors.js";

export type Shape = readonly number[];

/** The most elements one array may hold (indices stay within int32 on every backend). */
export const MAX_ELEMENTS = 2 ** 31 - 1;

export function sizeOf(shape: Shape): number {
  let n = 1;
  for (let i = 0; i < shape.length; i++) n *= shape[i]!;
  return n;
}

export function stridesOf(shape: Shape): number[] {
  const strides = new Array<number>(shape.length);
  let s = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    strides[i] = s;
    s *= shape[i]!;
  }
  return strides;
}

export function shapeEq(a: Shape, b: Shape): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

export function fmtShape(shape: Shape): string {
  return `[${shape.join(",")}]`;
}

/** NumPy broadcasting of two shapes, or a ShapeError naming `fn` and both shapes. */
export function broadcastShapes(fn: string, a: Shape, b: Shape): number[] {
  if (shapeEq(a, b)) return a.slice();
  const n = Math.max(a.length, b.length);
  const out = new Array<number>(n);
  for (let i = 0; i < n; i++) {
    const da = a[a.length - n + i] ?? 1;
    const db = b[b.length - n + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1) {
      throw new ShapeError(
        `${fn}: shapes ${fmtShape(a)} and ${fmtShape(b)} cannot be broadcast together ` +
          `(axis ${i - n} has sizes ${da} and ${db}); reshape one operand or use np.expandDims`,
      );
    }
    out[i] = da === 1 ? db : da;
  }
  return out;
}

/** Normalises a possibly negative axis into [0, ndim), or throws a ShapeError. */
export function normAxis(fn: string, axis: number, ndim: number): number {
  if (typeof axis !== "number") throw new ArgumentError(`${fn}: an axis must be an integer, got ${describe(axis)}`);
  if (!Number.isInteger(axis) || axis < -ndim || axis >= ndim) {
    throw new ShapeError(`${fn}: axis ${axis} is out of range for an array of rank ${ndim}; use -${ndim} <= axis < ${ndim}`);
  }
  return axis < 0 ? axis + ndim : axis;
}

/** Normalises a list of axes (sorted, no repeats). */
export function normAxes(fn: string, axes: readonly number[], ndim: number): number[] {
  if (!Array.isArray(axes)) throw new ArgumentError(`${fn}: axes must be an integer or a list of integers, got ${describe(axes)}`);
  const out = axes.map((a) => normAxis(fn, a, ndim)).sort((x, y) => x - y);
  for (let i = 1; i < out.length; i++) {
    if (out[i] === out[i - 1]) throw new ShapeError(`${fn}: axis ${out[i]} is repeated in ${fmtShape(axes)}`);
  }
  return out;
}

/** A user's shape: a list of non-negative safe integers with at most MAX_ELEMENTS elements in all. */
export function checkShape(fn: string, shape: unknown): number[] {
  if (!Array.isArray(shape) || shape.length > 64 || !shape.every((d) => Number.isSafeInteger(d) && d >= 0 && d <= MAX_ELEMENTS)) {
    const shown = Array.isArray(shape) ? `[${shape.slice(0, 8).map(describe).join(", ")}${shape.length > 8 ? ", ..." : ""}]` : describe(shape);
    throw new ShapeError(`${fn}: shape must be a list of at most 64 non-negative integers, got ${shown}`);
  }
  checkSize(fn, shape);
  return shape.slice();
}

/** Refuses a shape with more elements than one array may hold. */
export function checkSize(fn: string, shape: Shape): void {
  const n = sizeOf(shape);
  if (n > MAX_ELEMENTS) {
    throw new ShapeError(`${fn}: shape ${fmtShape(shape)} has ${n} elements, more than the ${MAX_ELEMENTS} one array may hold; use a smaller shape`);
  }
}

export function range(n: number): number[] {
  const out = new Array<number>(n);
  for (let i = 0; i < n; i++) out[i] = i;
  return out;
}

export function invertPerm(perm: readonly number[]): number[] {
  const inv = new Array<number>(perm.length);
  for (let i = 0; i < perm.length; i++) inv[perm[i]!] = i;
  return inv;
}

/**
 * Whether a dot_general whose lhs has `lShape` and contracts `lContract` is an outer product per
 * batch entry: it contracts nothing, or only dims of size 1 (each result element one product).
 */
export const isOuterProduct = (lShape: readonly number[], lContract: readonly number[]): boolean => lContract.every((d) => lShape[d] === 1);

/**
 * Where each dim of a dot_general operand lands in the result, whose axes are the batch dims, then
 * the lhs's free dims, then the rhs's (each in operand order); -1 marks a contracted dim.
 */
export function dotResultAxes(
  lNdim: number,
  rNdim: number,
  [lc, rc]: readonly [readonly number[], readonly number[]],
  [lb, rb]: readonly [readonly number[], readonly number[]],
): [number[], number[]] {
  const l = new Array<number>(lNdim).fill(-1),
    r = new Array<number>(rNdim).fill(-1);
  lb.forEach((d, i) => (l[d] = i));
  rb.forEach((d, i) => (r[d] = i));
  let next = lb.length;
  for (let d = 0; d < lNdim; d++) if (!lb.includes(d) && !lc.includes(d)) l[d] = next++;
  for (let d = 0; d < rNdim; d++) if (!rb.includes(d) && !rc.includes(d)) r[d] = next++;
  return [l, r];
}
