/**
 * Functions whose output length depends on the values: nonzero, flatnonzero, argwhere and unique.
 * As in JAX, a static `size` makes them traceable (under jit, vmap, grad): the result has exactly
 * `size` entries, cut or padded with `fillValue`. Without `size` the input must be a concrete array,
 * whose values fix the length. Both paths run the same composition of primitives: a stable argsort
 * moves the wanted positions to the front in order, and a mask past the true count applies the fill.
 */
import { ArgumentError, ConcretizationError, ShapeError, describe, naming } from "../core/errors.js";
import * as lax from "../core/lax.js";
import { ConcreteArray, type NDArray } from "../core/ndarray.js";
import { checkOptionsObject } from "../core/options.js";
import { fmtShape, sizeOf } from "../core/shape.js";
import { type ArrayLike, asArray } from "./base.js";

/** Options of nonzero, flatnonzero and argwhere. */
export interface NonzeroOptions {
  /** The number of entries to return (required under a transform): the first ones, padded with `fillValue`. */
  size?: number;
  /** What pads a result longer than the true count (default 0). */
  fillValue?: number;
}

/** Options of unique. */
export interface UniqueOptions {
  /** The number of unique values to return (required under a transform): the smallest ones, padded with `fillValue`. */
  size?: number;
  /** What pads the values past the true count (default: the smallest unique value). */
  fillValue?: number;
  /** Whether NaNs count as one value (default true, as in JAX). */
  equalNan?: boolean;
  /** Also return the index of each value's first occurrence in the flattened input. */
  returnIndex?: boolean;
  /** Also return, for each input element, the index of its value among the unique values (input's shape). */
  returnInverse?: boolean;
  /** Also return how many times each value occurs (0 for padding). */
  returnCounts?: boolean;
}

const int32 = (n: number) => lax.scalar(n, "int32");
const iota = (n: number) =>
  new ConcreteArray(
    Int32Array.from({ length: n }, (_, i) => i),
    [n],
    "int32",
  );

/** The size a result takes: the static one (checked), or the true count read from a concrete input. */
function resolveSize(fn: string, size: number | undefined, x: NDArray, count: NDArray): number {
  if (size !== undefined) {
    if (!Number.isSafeInteger(size) || size < 0) throw new ArgumentError(`${fn}: size must be a non-negative integer, got ${describe(size)}`);
    return size;
  }
  if (!(x instanceof ConcreteArray))
    throw new ConcretizationError(
      `${fn}: the length of the result depends on the values of x (${x.dtype}${fmtShape(x.shape)}), which are traced here; pass { size } (a static length, padded with fillValue), as under jax.jit`,
    );
  return Number(count.item());
}

function fillOf(fn: string, v: unknown, fallback: number): number {
  if (v === undefined) return fallback;
  if (typeof v !== "number") throw new ArgumentError(`${fn}: fillValue must be a number, got ${describe(v)}`);
  return v;
}

/** The first `size` entries of the int32 vector v (padded with zeros past its end). */
function head(v: NDArray, size: number): NDArray {
  const n = v.shape[0]!;
  return size <= n ? lax.slice(v, [0], [size]) : lax.pad(v, int32(0), [[0, size - n, 0]]);
}

/** Flat positions of the nonzero entries of x (int32 [size], fill past the count) and the validity mask. */
function flatHits(fn: string, x: NDArray, o: NonzeroOptions): { idx: NDArray; valid: NDArray; fill: number } {
  const flat = lax.reshape(x, [x.size]);
  const zero = x.dtype === "bool" ? lax.not(flat) : lax.eq(flat, lax.fill(flat, 0));
  const count = lax.reduceSum(lax.convert(lax.not(zero), "int32"), [0]);
  const size = resolveSize(fn, o.size, x, count);
  const fill = fillOf(fn, o.fillValue, 0);
  // Nonzero entries (key 0) first, each group in index order.
  const order = head(lax.argsort(lax.convert(zero, "int32"), 0), size);
  return { idx: order, valid: below(size, count), fill };
}

/** Whether each of 0..size-1 is below `count` (a scalar): the entries holding real results. */
const below = (size: number, count: NDArray): NDArray => lax.lt(iota(size), lax.broadcastInDim(count, [size], []));

const masked = (valid: NDArray, v: NDArray, fill: number) => lax.selectN(valid, lax.fill(v, fill), v);

/**
 * The indices of the nonzero entries, one int32 array per dim (row-major order), as NumPy; with
 * `size`, each has exactly that length, padded with `fillValue`.
 * @example np.nonzero(np.array([[0, 3], [4, 0]])) // [[0, 1], [1, 0]]
 */
export function nonzero(x: ArrayLike, options?: NonzeroOptions): NDArray[] {
  return naming("np.nonzero", () => {
    const a = asArray("np.nonzero", x, undefined, "x");
    const o = checkOptionsObject("np.nonzero", options, ["size", "fillValue"]);
    if (a.ndim === 0) throw new ShapeError("np.nonzero: x is 0-d, which has no axes to index (as in NumPy 2 and JAX); use np.atleast1d(x) first");
    const { idx, valid, fill } = flatHits("np.nonzero", a, o);
    return a.shape.map((n, d) => {
      const q = lax.div(idx, lax.fill(idx, sizeOf(a.shape.slice(d + 1))));
      return masked(valid, lax.sub(q, lax.mul(lax.div(q, lax.fill(q, n)), lax.fill(q, n))), fill);
    });
  });
}

/**
 * The flat (row-major) indices of the nonzero entries, as int32.
 * @example np.flatnonzero(np.array([0, 2, 0, 5])) // [1, 3]
 */
export function flatnonzero(x: ArrayLike, options?: NonzeroOptions): NDArray {
  return naming("np.flatnonzero", () => {
    const a = asArray("np.flatnonzero", x, undefined, "x");
    const { idx, valid, fill } = flatHits("np.flatnonzero", a, checkOptionsObject("np.flatnonzero", options, ["size", "fillValue"]));
    return masked(valid, idx, fill);
  });
}

/**
 * The indices of the nonzero entries as rows of an int32 [count, ndim] array.
 * @example np.argwhere(np.array([[0, 3], [4, 0]])) // [[0, 1], [1, 0]]
 */
export function argwhere(x: ArrayLike, options?: NonzeroOptions): NDArray {
  return naming("np.argwhere", () => {
    const cols = nonzero(x, options);
    const n = cols[0]!.shape[0]!;
    return lax.concatenate(
      cols.map((c) => lax.reshape(c, [n, 1])),
      1,
    );
  });
}

/**
 * The sorted unique values of the flattened input (NaN last, all NaNs one value unless
 * `equalNan: false`). With any `return*` flag, a list: [values, indices?, inverse?, counts?] in
 * that order, as JAX's tuple (the overloads give the matching type when the flags are literals).
 * The values' derivative flows to each value's first occurrence.
 * @example np.unique(np.array([3, 1, 3, 2])) // [1, 2, 3]
 * @example np.unique(x, { size: 4, fillValue: -1 }) // under jit: exactly 4 values
 */
export function unique(x: ArrayLike, options?: UniqueOptions & { returnIndex?: false; returnInverse?: false; returnCounts?: false }): NDArray;
export function unique(x: ArrayLike, options: UniqueOptions & ({ returnIndex: true } | { returnInverse: true } | { returnCounts: true })): NDArray[];
export function unique(x: ArrayLike, options?: UniqueOptions): NDArray | NDArray[];
export function unique(x: ArrayLike, options?: UniqueOptions): NDArray | NDArray[] {
  return naming("np.unique", () => {
    const fn = "np.unique";
    const a = asArray(fn, x, undefined, "x");
    const o = checkOptionsObject(fn, options, ["size", "fillValue", "equalNan", "returnIndex", "returnInverse", "returnCounts"]);
    for (const k of ["equalNan", "returnIndex", "returnInverse", "returnCounts"] as const)
      if (o[k] !== undefined && typeof o[k] !== "boolean") throw new ArgumentError(`${fn}: ${k} must be a boolean, got ${describe(o[k])}`);
    const n = a.size;
    const flat = lax.reshape(a, [n]);
    const order = lax.argsort(flat, 0);
    const s = lax.gather(flat, order, 0);
    // first[k]: the sorted entry k starts a new value (differs from entry k - 1; NaNs equal unless equalNan is false).
    let first: NDArray;
    if (n === 0) first = lax.full([0], 0, "bool");
    else {
      const cur = lax.slice(s, [1], [n]),
        prev = lax.slice(s, [0], [n - 1]);
      let differ = lax.ne(cur, prev);
      if (o.equalNan !== false) differ = lax.and(differ, lax.not(lax.and(lax.ne(cur, cur), lax.ne(prev, prev))));
      first = lax.concatenate([lax.full([1], 1, "bool"), differ], 0);
    }
    const firstInt = lax.convert(first, "int32");
    const count = lax.reduceSum(firstInt, [0]);
    const size = resolveSize(fn, o.size, a, count);
    // Positions in s of each value's first entry, in order (0 past the true count, a safe index).
    const valid = below(size, count);
    const starts = masked(valid, head(lax.argsort(lax.sub(lax.fill(firstInt, 1), firstInt), 0), size), 0);
    const picked = lax.gather(s, starts, 0);
    const fillValue =
      o.fillValue === undefined
        ? n === 0
          ? lax.fill(picked, 0)
          : lax.broadcastInDim(lax.reshape(lax.slice(s, [0], [1]), []), [size], [])
        : lax.fill(picked, fillOf(fn, o.fillValue, 0));
    const values = lax.selectN(valid, fillValue, picked);
    if (!o.returnIndex && !o.returnInverse && !o.returnCounts) return values;
    const out = [values];
    if (o.returnIndex) out.push(masked(valid, lax.gather(order, starts, 0), 0));
    if (o.returnInverse) {
      // The id of sorted entry k is (number of value starts up to k) - 1; the inverse permutation of `order` maps it back.
      const ids = lax.sub(lax.cumsum(firstInt, 0), lax.fill(firstInt, 1));
      out.push(lax.reshape(lax.gather(ids, lax.argsort(order, 0), 0), a.shape.slice()));
    }
    if (o.returnCounts) {
      const next = lax.slice(lax.pad(starts, int32(n), [[0, 1, 0]]), [1], [size + 1]);
      // A value's entries end where the next value starts, or at n for the last one.
      const ends = lax.selectN(below(size, lax.sub(count, int32(1))), lax.fill(next, n), next);
      out.push(masked(valid, lax.sub(ends, starts), 0));
    }
    return out;
  });
}
