/**
 * Shape manipulation: reshape, transpose, broadcastTo, expandDims, squeeze, concatenate, stack,
 * flip, tile, pad, take. All are linear primitives (or compositions of them) underneath.
 */
import { ArgumentError, DTypeError, ShapeError, describe, naming } from "../core/errors.js";
import * as lax from "../core/lax.js";
import { type ConcreteArray, NDArray } from "../core/ndarray.js";
import { broadcastShapes, checkShape, fmtShape, normAxes, normAxis, range, sizeOf } from "../core/shape.js";
import { isFloat, promote } from "../core/dtype.js";
import { type ArrayLike, type Nested, array, asArray } from "./base.js";
import { where } from "./math.js";
import { numberKey, staged } from "../core/staged.js";

/** Reshapes to `shape`; one entry may be -1 and is inferred. */
export function reshape(x: ArrayLike, shape: number[]): NDArray {
  const a = asArray("reshape", x, undefined, "x");
  if (!Array.isArray(shape)) throw new ShapeError(`np.reshape: shape must be an array of integers, got ${describe(shape)}`);
  const unknown = shape.filter((d) => d === -1).length;
  if (unknown > 1) throw new ShapeError(`np.reshape: only one dimension of ${fmtShape(shape)} can be -1`);
  let target = shape;
  if (unknown === 1) {
    const known = sizeOf(shape.filter((d) => d !== -1));
    if (known === 0 || a.size % known !== 0)
      throw new ShapeError(`np.reshape: cannot reshape x of shape ${fmtShape(a.shape)} (size ${a.size}) into shape ${fmtShape(shape)}`);
    target = shape.map((d) => (d === -1 ? a.size / known : d));
  }
  checkShape("np.reshape", target);
  if (sizeOf(target) !== a.size)
    throw new ShapeError(
      `np.reshape: cannot reshape x of shape ${fmtShape(a.shape)} (size ${a.size}) into shape ${fmtShape(shape)} (size ${sizeOf(target)})`,
    );
  return lax.reshape(a, target);
}

export function ravel(x: ArrayLike): NDArray {
  const a = asArray("ravel", x, undefined, "x");
  return lax.reshape(a, [a.size]);
}

/** Permutes the axes (reverses them when `axes` is omitted). */
export function transpose(x: ArrayLike, axes?: number[]): NDArray {
  const a = asArray("transpose", x, undefined, "x");
  if (axes !== undefined && !Array.isArray(axes)) throw new ArgumentError(`np.transpose: axes must be a list of integers, got ${describe(axes)}`);
  const perm = axes === undefined ? range(a.ndim).reverse() : axes.map((d) => normAxis("np.transpose", d, a.ndim));
  if (perm.length !== a.ndim || new Set(perm).size !== perm.length) {
    throw new ShapeError(`np.transpose: axes ${fmtShape(axes ?? [])} are not a permutation of the ${a.ndim} axes of ${fmtShape(a.shape)}`);
  }
  return lax.transpose(a, perm);
}

export function swapaxes(x: ArrayLike, a1: number, a2: number): NDArray {
  const a = asArray("swapaxes", x, undefined, "x");
  const perm = range(a.ndim);
  const i = normAxis("np.swapaxes", a1, a.ndim),
    j = normAxis("np.swapaxes", a2, a.ndim);
  [perm[i], perm[j]] = [perm[j]!, perm[i]!];
  return lax.transpose(a, perm);
}

export function moveaxis(x: ArrayLike, source: number, destination: number): NDArray {
  const a = asArray("moveaxis", x, undefined, "x");
  return lax.moveAxis(a, normAxis("np.moveaxis", source, a.ndim), normAxis("np.moveaxis", destination, a.ndim));
}

export function broadcastTo(x: ArrayLike, shape: number[]): NDArray {
  const a = asArray("broadcastTo", x, undefined, "x");
  checkShape("np.broadcastTo", shape);
  const b = broadcastShapes("np.broadcastTo", a.shape, shape);
  if (b.length !== shape.length || b.some((n, i) => n !== shape[i])) {
    throw new ShapeError(`np.broadcastTo: cannot broadcast x of shape ${fmtShape(a.shape)} to shape ${fmtShape(shape)}`);
  }
  return lax.broadcastTo(a, shape);
}

/** An axis argument given positionally or as `{ axis }` (the np.sum convention); both mean the same. */
export type AxisArg<A> = A | { axis?: A };

/** The axis of an `AxisArg`: the number (or list) itself, or the `axis` field of an options object. */
function axisOf<A>(fn: string, v: AxisArg<A> | undefined): A | undefined {
  if (typeof v !== "object" || v === null || Array.isArray(v)) return v as A | undefined;
  const extra = Object.keys(v).filter((k) => k !== "axis");
  if (extra.length > 0) throw new ArgumentError(`${fn}: unknown option ${extra.map((k) => `"${k}"`).join(", ")}; the options are { axis }`);
  return (v as { axis?: A }).axis;
}

/** Inserts size-1 axes at the given positions of the result. */
export function expandDims(x: ArrayLike, axisArg: AxisArg<number | number[]>): NDArray {
  const a = asArray("expandDims", x, undefined, "x");
  const axis = axisOf("np.expandDims", axisArg)!;
  const list = typeof axis === "number" ? [axis] : axis;
  if (!Array.isArray(list)) throw new ArgumentError(`np.expandDims: axis must be an integer or a list of integers, got ${describe(axis)}`);
  const nd = a.ndim + list.length;
  const axes = normAxes("np.expandDims", list, nd);
  const shape: number[] = [];
  let k = 0;
  for (let d = 0; d < nd; d++) shape.push(axes.includes(d) ? 1 : a.shape[k++]!);
  return lax.reshape(a, shape);
}

/** Removes size-1 axes (all of them, or those named). */
export function squeeze(x: ArrayLike, axisArg?: AxisArg<number | number[]>): NDArray {
  const a = asArray("squeeze", x, undefined, "x");
  const axis = axisOf("np.squeeze", axisArg);
  const axes =
    axis === undefined ? range(a.ndim).filter((d) => a.shape[d] === 1) : normAxes("np.squeeze", typeof axis === "number" ? [axis] : axis, a.ndim);
  for (const d of axes) if (a.shape[d] !== 1) throw new ShapeError(`np.squeeze: axis ${d} of ${fmtShape(a.shape)} has size ${a.shape[d]}, not 1`);
  return lax.reshape(
    a,
    a.shape.filter((_, d) => !axes.includes(d)),
  );
}

export function concatenate(arrays: ArrayLike[], axisArg: AxisArg<number> = 0): NDArray {
  const axis = axisOf("np.concatenate", axisArg) ?? 0;
  if (!Array.isArray(arrays) || arrays.length === 0) throw new ArgumentError("np.concatenate: needs a non-empty list of arrays");
  const as = arrays.map((x) => asArray("concatenate", x, undefined, "arrays"));
  const nd = as[0]!.ndim;
  if (nd === 0) throw new ShapeError("np.concatenate: zero-dimensional arrays cannot be concatenated; use np.stack");
  const ax = normAxis("np.concatenate", axis, nd);
  for (const b of as) {
    if (b.ndim !== nd || b.shape.some((n, d) => d !== ax && n !== as[0]!.shape[d])) {
      throw new ShapeError(`np.concatenate: shapes ${as.map((c) => fmtShape(c.shape)).join(", ")} differ outside axis ${ax}`);
    }
  }
  const dtype = as.map((a) => a.dtype).reduce(promote);
  return lax.concatenate(
    as.map((a) => lax.convert(a, dtype)),
    ax,
  );
}

export function stack(arrays: ArrayLike[], axisArg: AxisArg<number> = 0): NDArray {
  const axis = axisOf("np.stack", axisArg) ?? 0;
  if (!Array.isArray(arrays) || arrays.length === 0) throw new ArgumentError("np.stack: needs a non-empty list of arrays");
  const as = arrays.map((x) => asArray("stack", x, undefined, "arrays"));
  for (const b of as)
    if (b.shape.join() !== as[0]!.shape.join()) {
      throw new ShapeError(`np.stack: all arrays must have the same shape, got ${as.map((c) => fmtShape(c.shape)).join(", ")}`);
    }
  const ax = normAxis("np.stack", axis, as[0]!.ndim + 1);
  return concatenate(
    as.map((a) => expandDims(a, ax)),
    ax,
  );
}

/** Reverses the order of elements along the given axes (all when omitted). */
export function flip(x: ArrayLike, axisArg?: AxisArg<number | number[]>): NDArray {
  const axis = axisOf("np.flip", axisArg);
  const a = asArray("flip", x, undefined, "x");
  const axes = axis === undefined ? range(a.ndim) : normAxes("np.flip", typeof axis === "number" ? [axis] : axis, a.ndim);
  return lax.rev(a, axes);
}

/** Repeats `x` `reps` times along each axis. */
export function tile(x: ArrayLike, reps: number | number[]): NDArray {
  let a = asArray("tile", x, undefined, "x");
  if (typeof reps !== "number" && !Array.isArray(reps))
    throw new ArgumentError(`np.tile: reps must be an integer or a list of integers, got ${describe(reps)}`);
  const r = typeof reps === "number" ? [reps] : reps.slice();
  checkShape("np.tile", r);
  while (r.length < a.ndim) r.unshift(1);
  if (a.ndim < r.length) a = lax.reshape(a, [...new Array<number>(r.length - a.ndim).fill(1), ...a.shape]);
  const inter = a.shape.flatMap((n, d) => [r[d]!, n]);
  const b = lax.broadcastInDim(
    a,
    inter,
    range(a.ndim).map((d) => 2 * d + 1),
  );
  return lax.reshape(
    b,
    a.shape.map((n, d) => n * r[d]!),
  );
}

export type PadWidth = number | [number, number] | [number, number][];

/** Pads with a constant (default 0): widths as n, [before, after], or one pair per axis. */
export function pad(x: ArrayLike, widths: PadWidth, options: { constantValues?: number } = {}): NDArray {
  const a = asArray("pad", x, undefined, "x");
  if (typeof widths !== "number" && !Array.isArray(widths))
    throw new ArgumentError(`np.pad: widths must be a number, a [before, after] pair or one pair per axis, got ${describe(widths)}`);
  if (typeof options !== "object" || options === null)
    throw new ArgumentError(`np.pad: options must be an object { constantValues? }, got ${describe(options)}`);
  const cv = options.constantValues ?? 0;
  if (typeof cv !== "number") throw new ArgumentError(`np.pad: constantValues must be a number, got ${describe(cv)}`);
  const pairs: [number, number][] =
    typeof widths === "number"
      ? a.shape.map(() => [widths, widths])
      : typeof widths[0] === "number"
        ? a.shape.map(() => widths as [number, number])
        : (widths as [number, number][]);
  if (pairs.length !== a.ndim || pairs.some((p) => !Array.isArray(p) || p.length !== 2 || p.some((w) => !Number.isInteger(w) || w < 0))) {
    throw new ShapeError(
      `np.pad: widths ${describe(widths)} must be non-negative integers, one [before, after] pair per axis of ${fmtShape(a.shape)}`,
    );
  }
  return lax.pad(
    a,
    lax.scalar(cv, a.dtype),
    pairs.map(([lo, hi]) => [lo, hi, 0]),
  );
}

/** How `np.take` treats an index outside [-n, n) along the axis (JAX's modes). */
export type TakeMode = "fill" | "clip" | "wrap";
export interface TakeOptions {
  /**
   * "fill" (default, as JAX): an index in [-n, n) selects (negative ones count from the end), any
   * other gives `fillValue`. "clip": indices are clamped to [0, n - 1] (a negative index gives the
   * first element, as in NumPy's clip mode). "wrap": indices are taken modulo n.
   */
  mode?: TakeMode;
  /** The value of out-of-bounds entries in "fill" mode: NaN for floats, the least int32, true for bool (as JAX). */
  fillValue?: number | boolean;
}

/** Integer indices as an int32 array: integer NDArrays as they are, JS numbers/lists only when whole. */
function indexArray(fn: string, indices: ArrayLike): NDArray {
  if (indices instanceof NDArray) {
    if (indices.dtype === "int32") return indices;
    throw new DTypeError(`${fn}: indices must be int32, got ${indices.dtype}; round and convert them with .astype("int32") first`);
  }
  const wide = naming(`${fn} (argument indices)`, () => array(indices as Nested, { dtype: "float64" })) as ConcreteArray;
  for (const v of wide.values) {
    if (!Number.isInteger(v) || v < -(2 ** 31) || v >= 2 ** 31) {
      throw new ArgumentError(`${fn}: indices must be integers within int32, got ${v}; fractional indices have no meaning (round them first)`);
    }
  }
  return lax.convert(wide, "int32");
}

/**
 * Elements of `x` at `indices` along `axis` (of the flattened array when no axis is given);
 * out-of-bounds indices follow `options.mode` (default "fill", as JAX).
 */
export function take(
  x: ArrayLike,
  indices: ArrayLike,
  axisArg?: number | null | (TakeOptions & { axis?: number | null }),
  options: TakeOptions = {},
): NDArray {
  // np.take(x, i, axis, { mode }) or np.take(x, i, { axis, mode }).
  let axis: number | null | undefined;
  if (typeof axisArg === "object" && axisArg !== null) {
    const { axis: ax, ...rest } = axisArg;
    axis = ax;
    options = { ...rest, ...options };
  } else axis = axisArg;
  let a = asArray("np.take", x, undefined, "x");
  const idx = indexArray("np.take", indices);
  if (typeof options !== "object" || options === null)
    throw new ArgumentError(`np.take: options must be an object { mode?, fillValue? }, got ${describe(options)}`);
  const mode = options.mode ?? "fill";
  if (mode !== "fill" && mode !== "clip" && mode !== "wrap")
    throw new ArgumentError(`np.take: option mode must be "fill", "clip" or "wrap", got ${describe(mode)}`);
  if (axis === null || axis === undefined) {
    a = lax.reshape(a, [a.size]);
    axis = 0;
  }
  const ax = normAxis("np.take", axis, a.ndim);
  const n = a.shape[ax]!;
  if (n === 0) throw new ShapeError(`np.take: cannot take from an empty axis ${ax} of ${fmtShape(a.shape)}`);
  const c = (v: number) => lax.fill(idx, v);
  if (mode === "clip") return lax.gather(a, lax.min(lax.max(idx, c(0)), c(n - 1)), ax, 0);
  if (mode === "wrap") {
    // ((i % n) + n) % n with JS remainder semantics (truncating), so negatives wrap too.
    const r = lax.sub(idx, lax.mul(lax.div(idx, c(n)), c(n)));
    return lax.gather(a, where(lax.lt(r, c(0)), lax.add(r, c(n)), r), ax, 0);
  }
  const fv = options.fillValue;
  if (fv !== undefined && typeof fv !== "number" && typeof fv !== "boolean")
    throw new ArgumentError(`np.take: fillValue must be a number or a boolean, got ${describe(fv)}`);
  const fill = fv === undefined ? (isFloat(a.dtype) ? NaN : a.dtype === "int32" ? -(2 ** 31) : 1) : Number(fv);
  // One staged program eagerly: the mask and the select fuse into one loop over the result.
  return staged(`np.take fill ${ax} ${numberKey(fill)}`, [a, idx], (v, i) => takeFilled(v, i, ax, fill));
}

/** x's elements at idx along ax, wrapping negative indices; out-of-range ones give `fill`. */
function takeFilled(a: NDArray, idx: NDArray, ax: number, fill: number): NDArray {
  const n = a.shape[ax]!;
  const c = (v: number) => lax.fill(idx, v);
  const inRange = lax.and(lax.ge(idx, c(-n)), lax.lt(idx, c(n)));
  const wrapped = where(lax.lt(idx, c(0)), lax.add(idx, c(n)), idx);
  const safe = where(inRange, wrapped, c(0));
  const got = lax.gather(a, safe, ax, 0);
  // The in-range mask, laid along the gathered axes of the output.
  const mask = lax.broadcastInDim(
    inRange,
    got.shape,
    range(idx.ndim).map((d) => ax + d),
  );
  return where(mask, got, lax.fill(got, fill));
}

/** idx (int32, x's rank) broadcast against x on every dim but `axis`, negatives wrapped; both with `axis` last and the rest flattened. */
function alongAxis(fn: string, x: NDArray, indices: ArrayLike, axis: number, xShapeFixed: boolean) {
  const idx = indexArray(fn, indices);
  if (idx.ndim !== x.ndim) throw new ShapeError(`${fn}: indices must have x's rank ${x.ndim}, got ${fmtShape(idx.shape)} for x ${fmtShape(x.shape)}`);
  const ax = normAxis(fn, axis, x.ndim);
  const n = x.shape[ax]!,
    m = idx.shape[ax]!;
  const others = (s: readonly number[]) => s.filter((_, d) => d !== ax);
  const lead = others(x.shape).map((a, d) => {
    const b = others(idx.shape)[d]!;
    if (a !== b && b !== 1 && (a !== 1 || xShapeFixed))
      throw new ShapeError(`${fn}: indices ${fmtShape(idx.shape)} do not broadcast against x ${fmtShape(x.shape)} outside axis ${ax}`);
    return a === 1 && !xShapeFixed ? b : a;
  });
  const toLast = (a: NDArray, len: number) => lax.reshape(lax.broadcastTo(lax.moveAxis(a, ax, a.ndim - 1), [...lead, len]), [sizeOf(lead), len]);
  const c = (v: number) => lax.fill(idx, v);
  const wrapped = where(lax.lt(idx, c(0)), lax.add(idx, c(n)), idx);
  const back = (flat: NDArray, len: number) => lax.moveAxis(lax.reshape(flat, [...lead, len]), x.ndim - 1, ax);
  return { x2: toLast(x, n), i2: toLast(wrapped, m), n, m, lead, back };
}

/**
 * NumPy's `take_along_axis`: `out[..., j, ...] = x[..., idx[..., j, ...], ...]` along `axis`
 * (`null`: over the flattened x); idx is int32 with x's rank and broadcasts against x on the other
 * dims. Negative indices count from the end; out-of-range ones are clamped (as JAX's gather).
 * @example np.takeAlongAxis(x, np.argsort(x, 1), 1)
 */
export function takeAlongAxis(x: ArrayLike, indices: ArrayLike, axis: number | null): NDArray {
  let a = asArray("np.takeAlongAxis", x, undefined, "x");
  if (axis === null) {
    a = lax.reshape(a, [a.size]);
    axis = 0;
  }
  const { x2, i2, m, back } = alongAxis("np.takeAlongAxis", a, indices, axis, false);
  return back(lax.gather(x2, i2, 1, 1), m);
}

/**
 * NumPy's `put_along_axis`, functional as in JAX: a new array with `values` written at
 * `x[..., idx[..., j, ...], ...]` along `axis`. idx broadcasts to x's shape on the other dims,
 * values to idx's shape; with repeated indices the last write wins; out-of-range ones are dropped.
 * @example np.putAlongAxis(x, np.array([[0], [2]], { dtype: "int32" }), 0, 1)
 */
export function putAlongAxis(x: ArrayLike, indices: ArrayLike, values: ArrayLike, axis: number): NDArray {
  const fn = "np.putAlongAxis";
  const a = asArray(fn, x, undefined, "x");
  const { x2, i2, m, lead } = alongAxis(fn, a, indices, axis, true);
  const ax = normAxis(fn, axis, a.ndim);
  const v = lax.convert(asArray(fn, values, a.dtype, "values"), a.dtype);
  const vShape = [...lead.slice(0, ax), m, ...lead.slice(ax)];
  let vb: NDArray;
  try {
    vb = broadcastTo(v, vShape);
  } catch {
    throw new ShapeError(`${fn}: values ${fmtShape(v.shape)} do not broadcast to the indices' shape ${fmtShape(vShape)}`);
  }
  const v2 = lax.reshape(lax.moveAxis(vb, ax, a.ndim - 1), [sizeOf(lead), m]);
  const out = lax.scatter(x2, i2, v2, 1, "set", 1);
  return lax.moveAxis(lax.reshape(out, [...lead, a.shape[ax]!]), a.ndim - 1, ax);
}
