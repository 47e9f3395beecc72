/**
 * Rearranging arrays: split, arraySplit, roll, rot90, fliplr, flipud, hstack, vstack, dstack,
 * columnStack, atleast1d/2d/3d, append, repeat, broadcastArrays, meshgrid, diag, diff, cross,
 * tensordot, and einsum with "..." (expanded to letters, then np.einsum's contraction).
 * Every one is composed from primitives, so all transforms apply.
 */
import { ArgumentError, ShapeError, describe, naming } from "../core/errors.js";
import * as lax from "../core/lax.js";
import type { NDArray } from "../core/ndarray.js";
import { checkOptionsObject } from "../core/options.js";
import { broadcastShapes, fmtShape, normAxes, normAxis, range } from "../core/shape.js";
import { type ArrayLike, asArray } from "./base.js";
import { einsum as einsumLetters } from "./linalg.js";
import { concatenate } from "./shapes.js";

const arr = (fn: string, x: ArrayLike, arg = "x"): NDArray => asArray(fn, x, undefined, arg);

/** An axis given as a number or as `{ axis }`. */
function axisOf(fn: string, arg: number | { axis?: number } | undefined, ndim: number, fallback: number): number {
  const o = typeof arg === "object" && arg !== null ? checkOptionsObject(fn, arg, ["axis"]) : { axis: arg };
  const axis = o.axis ?? fallback;
  if (typeof axis !== "number") throw new ArgumentError(`${fn}: axis must be an integer, got ${describe(axis)}`);
  return normAxis(fn, axis, ndim);
}

/** Pieces of `x` along the axis at the cut points `cuts` (sorted, clamped). */
function cutAt(x: NDArray, axis: number, cuts: number[]): NDArray[] {
  const n = x.shape[axis]!;
  const edges = [0, ...cuts.map((c) => Math.min(Math.max(c < 0 ? c + n : c, 0), n)), n];
  return edges.slice(1).map((hi, i) => lax.sliceAxis(x, axis, Math.min(edges[i]!, hi), hi));
}

/** Splits into `sections` pieces of (almost) equal size, the first ones one longer; or at the given indices. */
export function arraySplit(x: ArrayLike, sections: number | number[], arg?: number | { axis?: number }): NDArray[] {
  const a = arr("np.arraySplit", x);
  const axis = axisOf("np.arraySplit", arg, a.ndim, 0);
  if (Array.isArray(sections)) return cutAt(a, axis, sections);
  if (!Number.isSafeInteger(sections) || sections < 1)
    throw new ArgumentError(`np.arraySplit: sections must be a positive integer or a list of indices, got ${describe(sections)}`);
  const n = a.shape[axis]!;
  const q = Math.floor(n / sections),
    r = n % sections;
  const cuts: number[] = [];
  for (let i = 1, at = 0; i < sections; i++) cuts.push((at += q + (i - 1 < r ? 1 : 0)));
  return cutAt(a, axis, cuts);
}

/** Splits into `sections` equal pieces (a typed error if they cannot be equal) or at the given indices. */
export function split(x: ArrayLike, sections: number | number[], arg?: number | { axis?: number }): NDArray[] {
  const a = arr("np.split", x);
  const axis = axisOf("np.split", arg, a.ndim, 0);
  if (typeof sections === "number" && a.shape[axis]! % sections !== 0)
    throw new ShapeError(
      `np.split: axis ${axis} of shape ${fmtShape(a.shape)} does not divide into ${sections} equal sections; use np.arraySplit for unequal ones`,
    );
  return naming("np.split", () => arraySplit(a, sections, { axis }));
}

/** Rolls elements along the axes by `shift` (over the flattened array without an axis). */
export function roll(x: ArrayLike, shift: number | number[], arg?: number | number[] | { axis?: number | number[] | null }): NDArray {
  const a = arr("np.roll", x);
  const o = typeof arg === "object" && arg !== null && !Array.isArray(arg) ? checkOptionsObject("np.roll", arg, ["axis"]) : { axis: arg };
  if (o.axis === null || o.axis === undefined) {
    if (typeof shift !== "number") throw new ArgumentError("np.roll: without an axis, shift must be one integer");
    return lax.reshape(roll(lax.reshape(a, [a.size]), shift, { axis: 0 }), a.shape);
  }
  const axes = normAxes("np.roll", typeof o.axis === "number" ? [o.axis] : o.axis, a.ndim);
  const shifts = typeof shift === "number" ? axes.map(() => shift) : shift;
  if (shifts.length !== axes.length || !shifts.every(Number.isSafeInteger))
    throw new ArgumentError(`np.roll: shift must be an integer or one integer per axis, got ${describe(shift)} for axes ${describe(axes)}`);
  let out = a;
  axes.forEach((ax, i) => {
    const n = out.shape[ax]!;
    if (n === 0) return;
    const s = ((shifts[i]! % n) + n) % n;
    if (s !== 0) out = lax.concatenate([lax.sliceAxis(out, ax, n - s, n), lax.sliceAxis(out, ax, 0, n - s)], ax);
  });
  return out;
}

/** Rotates by 90° k times in the plane of `axes` (default the first two). */
export function rot90(x: ArrayLike, k = 1, options: { axes?: [number, number] } = {}): NDArray {
  const a = arr("np.rot90", x);
  const o = checkOptionsObject("np.rot90", options, ["axes"]);
  if (a.ndim < 2) throw new ShapeError(`np.rot90: x must have at least 2 dims, got shape ${fmtShape(a.shape)}`);
  if (!Number.isSafeInteger(k)) throw new ArgumentError(`np.rot90: k must be an integer, got ${describe(k)}`);
  const [a0, a1] = normAxes("np.rot90", o.axes ?? [0, 1], a.ndim);
  if (a0 === a1) throw new ArgumentError("np.rot90: the two axes must differ");
  const swap = (t: NDArray) => {
    const perm = range(t.ndim);
    [perm[a0!], perm[a1!]] = [a1!, a0!];
    return lax.transpose(t, perm);
  };
  const turns = ((k % 4) + 4) % 4;
  if (turns === 0) return a;
  if (turns === 2) return lax.rev(a, [a0!, a1!]);
  return turns === 1 ? swap(lax.rev(a, [a1!])) : lax.rev(swap(a), [a1!]);
}

/** Reverses the columns (axis 1). */
export const fliplr = (x: ArrayLike): NDArray => {
  const a = arr("np.fliplr", x);
  if (a.ndim < 2) throw new ShapeError(`np.fliplr: x must have at least 2 dims, got shape ${fmtShape(a.shape)}`);
  return lax.rev(a, [1]);
};
/** Reverses the rows (axis 0). */
export const flipud = (x: ArrayLike): NDArray => {
  const a = arr("np.flipud", x);
  if (a.ndim < 1) throw new ShapeError("np.flipud: x must have at least 1 dim");
  return lax.rev(a, [0]);
};

/** `x` with at least n dims (1-d gets [1, n]; 2-d [m, n, 1] for three dims, as NumPy). */
function atleast(n: 1 | 2 | 3, a: NDArray): NDArray {
  if (a.ndim >= n) return a;
  if (a.ndim === 0) return lax.reshape(a, new Array<number>(n).fill(1));
  if (a.ndim === 1) return lax.reshape(a, n === 2 ? [1, a.shape[0]!] : [1, a.shape[0]!, 1]);
  return lax.reshape(a, [...a.shape, 1]);
}
export const atleast1d = (x: ArrayLike): NDArray => atleast(1, arr("np.atleast1d", x));
export const atleast2d = (x: ArrayLike): NDArray => atleast(2, arr("np.atleast2d", x));
export const atleast3d = (x: ArrayLike): NDArray => atleast(3, arr("np.atleast3d", x));

const list = (fn: string, xs: ArrayLike[]): NDArray[] => {
  if (!Array.isArray(xs) || xs.length === 0) throw new ArgumentError(`${fn}: needs a non-empty list of arrays`);
  return xs.map((x) => arr(fn, x, "arrays"));
};
/** Concatenates along axis 1 (axis 0 for 1-d arrays). */
export const hstack = (xs: ArrayLike[]): NDArray => {
  const as = list("np.hstack", xs).map((a) => atleast(1, a));
  return naming("np.hstack", () => concatenate(as, as[0]!.ndim === 1 ? 0 : 1));
};
/** Stacks rows: concatenates along axis 0 after making each array at least 2-d. */
export const vstack = (xs: ArrayLike[]): NDArray =>
  naming("np.vstack", () =>
    concatenate(
      list("np.vstack", xs).map((a) => atleast(2, a)),
      0,
    ),
  );
/** Stacks along a third axis. */
export const dstack = (xs: ArrayLike[]): NDArray =>
  naming("np.dstack", () =>
    concatenate(
      list("np.dstack", xs).map((a) => atleast(3, a)),
      2,
    ),
  );
/** Stacks 1-d arrays as columns of a 2-d array. */
export const columnStack = (xs: ArrayLike[]): NDArray =>
  naming("np.columnStack", () =>
    concatenate(
      list("np.columnStack", xs).map((a) => (a.ndim < 2 ? lax.reshape(a, [a.size, 1]) : a)),
      1,
    ),
  );

/** `values` appended to `x` along the axis (both flattened without one). */
export function append(x: ArrayLike, values: ArrayLike, arg?: number | { axis?: number | null }): NDArray {
  const a = arr("np.append", x),
    v = arr("np.append", values, "values");
  const axis = typeof arg === "object" && arg !== null ? checkOptionsObject("np.append", arg, ["axis"]).axis : arg;
  return naming("np.append", () =>
    axis === null || axis === undefined ? concatenate([lax.reshape(a, [a.size]), lax.reshape(v, [v.size])], 0) : concatenate([a, v], axis),
  );
}

/** Repeats each element `repeats` times (one count, or one per element) along the axis (flattened without one). */
export function repeat(x: ArrayLike, repeats: number | number[], arg?: number | { axis?: number | null }): NDArray {
  let a = arr("np.repeat", x);
  let axis = typeof arg === "object" && arg !== null ? checkOptionsObject("np.repeat", arg, ["axis"]).axis : arg;
  if (axis === null || axis === undefined) {
    a = lax.reshape(a, [a.size]);
    axis = 0;
  }
  const ax = normAxis("np.repeat", axis, a.ndim);
  const n = a.shape[ax]!;
  const counts = typeof repeats === "number" ? new Array<number>(n).fill(repeats) : repeats;
  if (!Array.isArray(counts) || counts.length !== n || !counts.every((c) => Number.isSafeInteger(c) && c >= 0))
    throw new ArgumentError(`np.repeat: repeats must be a non-negative integer or ${n} of them, got ${describe(repeats)}`);
  const idx: number[] = counts.flatMap((c, i) => new Array<number>(c).fill(i));
  const ii = lax.full([idx.length], 0, "int32");
  idx.forEach((v, i) => (ii.values[i] = v));
  return lax.gather(a, ii, ax);
}

/** The arrays broadcast to their common shape. */
export function broadcastArrays(...xs: ArrayLike[]): NDArray[] {
  const as = xs.map((x) => arr("np.broadcastArrays", x, "arrays"));
  const shape = as.reduce<number[]>((s, a) => broadcastShapes("np.broadcastArrays", s, a.shape), []);
  return as.map((a) => lax.broadcastTo(a, shape));
}

/** Coordinate grids from 1-d arrays; `indexing: "xy"` (default, as NumPy) swaps the first two output axes. */
export function meshgrid(...args: (ArrayLike | { indexing?: "xy" | "ij" })[]): NDArray[] {
  const last = args[args.length - 1];
  const isOpts = typeof last === "object" && last !== null && !Array.isArray(last) && !("shape" in last);
  const o = isOpts ? checkOptionsObject("np.meshgrid", last as { indexing?: "xy" | "ij" }, ["indexing"]) : {};
  const indexing = o.indexing ?? "xy";
  if (indexing !== "xy" && indexing !== "ij") throw new ArgumentError(`np.meshgrid: indexing must be "xy" or "ij", got ${describe(indexing)}`);
  const xs = (isOpts ? args.slice(0, -1) : args).map((x) => {
    const a = arr("np.meshgrid", x as ArrayLike, "xi");
    if (a.ndim !== 1) throw new ShapeError(`np.meshgrid: each input must be 1-d, got shape ${fmtShape(a.shape)}; flatten it first`);
    return a;
  });
  const sizes = xs.map((a) => a.shape[0]!);
  const swap = indexing === "xy" && xs.length >= 2;
  if (swap) [sizes[0], sizes[1]] = [sizes[1]!, sizes[0]!];
  return xs.map((a, i) => {
    const dim = swap && i < 2 ? 1 - i : i;
    return lax.broadcastInDim(a, sizes, [dim]);
  });
}

/** A 2-d array with `v` on diagonal k, or (for a 2-d `v`) its diagonal k as 1-d. */
export function diag(v: ArrayLike, k = 0): NDArray {
  const a = arr("np.diag", v, "v");
  if (!Number.isSafeInteger(k)) throw new ArgumentError(`np.diag: k must be an integer, got ${describe(k)}`);
  if (a.ndim === 1) {
    const n = a.shape[0]! + Math.abs(k);
    const mask = lax.full([n, n], 0, a.dtype);
    for (let i = 0; i < a.shape[0]!; i++) mask.values[(k >= 0 ? i : i - k) * n + (k >= 0 ? i + k : i)] = 1;
    const cols = lax.broadcastInDim(lax.pad(a, lax.scalar(0, a.dtype), [[k >= 0 ? k : 0, k >= 0 ? 0 : -k, 0]]), [n, n], [1]);
    return lax.mul(mask, cols);
  }
  if (a.ndim !== 2) throw new ShapeError(`np.diag: v must be 1-d or 2-d, got shape ${fmtShape(a.shape)}`);
  const [r, c] = a.shape as [number, number];
  const len = Math.max(0, Math.min(r - Math.max(-k, 0), c - Math.max(k, 0)));
  if (len === 0) return lax.full([0], 0, a.dtype);
  const flat = lax.reshape(a, [r * c]);
  const start = Math.max(-k, 0) * c + Math.max(k, 0);
  return lax.slice(flat, [start], [start + (len - 1) * (c + 1) + 1], [c + 1]);
}

/** n-th discrete difference along the axis (default the last): `np.diff(x, { n, axis })` or `np.diff(x, n)`. */
export function diff(x: ArrayLike, arg?: number | { n?: number; axis?: number }): NDArray {
  let a = arr("np.diff", x);
  const o = typeof arg === "object" && arg !== null ? checkOptionsObject("np.diff", arg, ["n", "axis"]) : { n: arg };
  const n = o.n ?? 1;
  if (!Number.isSafeInteger(n) || n < 0) throw new ArgumentError(`np.diff: option n must be a non-negative integer, got ${describe(n)}`);
  if (a.ndim === 0) throw new ShapeError("np.diff: x must have at least 1 dim");
  const axis = normAxis("np.diff", o.axis ?? -1, a.ndim);
  if (a.dtype === "bool") throw new ArgumentError('np.diff: not defined for bool arrays; convert with .astype("int32")');
  for (let i = 0; i < n; i++) {
    const m = a.shape[axis]!;
    if (m === 0) break;
    a = lax.sub(lax.sliceAxis(a, axis, 1, m), lax.sliceAxis(a, axis, 0, m - 1));
  }
  return a;
}

/** Cross product of 3-vectors along the last axis (broadcast over the leading axes). */
export function cross(a: ArrayLike, b: ArrayLike): NDArray {
  const x = arr("np.cross", a, "a"),
    y = arr("np.cross", b, "b");
  if (x.shape[x.ndim - 1] !== 3 || y.shape[y.ndim - 1] !== 3)
    throw new ShapeError(`np.cross: both operands need a last axis of size 3, got ${fmtShape(x.shape)} and ${fmtShape(y.shape)}`);
  const shape = broadcastShapes("np.cross", x.shape, y.shape);
  const [u, v] = [x, y].map((t) => lax.broadcastTo(t, shape));
  const c = (t: NDArray, i: number) => lax.sliceAxis(t, shape.length - 1, i, i + 1);
  const comp = (i: number, j: number) => lax.sub(lax.mul(c(u!, i), c(v!, j)), lax.mul(c(u!, j), c(v!, i)));
  return lax.concatenate([comp(1, 2), comp(2, 0), comp(0, 1)], shape.length - 1);
}

/** Sums products over the last `axes` dims of a and the first of b, or over the given axis pairs. */
export function tensordot(a: ArrayLike, b: ArrayLike, axes: number | [number[], number[]] | [number, number] = 2): NDArray {
  const x = arr("np.tensordot", a, "a"),
    y = arr("np.tensordot", b, "b");
  let ca: number[], cb: number[];
  if (typeof axes === "number") {
    if (!Number.isSafeInteger(axes) || axes < 0 || axes > x.ndim || axes > y.ndim)
      throw new ArgumentError(
        `np.tensordot: axes must be an integer in [0, ${Math.min(x.ndim, y.ndim)}] for shapes ${fmtShape(x.shape)} and ${fmtShape(y.shape)}, got ${describe(axes)}`,
      );
    ca = range(axes).map((i) => x.ndim - axes + i);
    cb = range(axes);
  } else if (Array.isArray(axes) && axes.length === 2) {
    ca = normAxes("np.tensordot", typeof axes[0] === "number" ? [axes[0]] : axes[0], x.ndim);
    cb = normAxes("np.tensordot", typeof axes[1] === "number" ? [axes[1]] : axes[1], y.ndim);
  } else throw new ArgumentError(`np.tensordot: axes must be an integer or a pair of axis lists, got ${describe(axes)}`);
  if (ca.length !== cb.length || ca.some((d, i) => x.shape[d] !== y.shape[cb[i]!]))
    throw new ShapeError(
      `np.tensordot: contracted dims of ${fmtShape(x.shape)} (axes ${describe(ca)}) and ${fmtShape(y.shape)} (axes ${describe(cb)}) differ`,
    );
  return naming("np.tensordot", () => {
    const letters = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
    const la = range(x.ndim).map((d) => letters[d]!);
    const lb = range(y.ndim).map((d) => letters[x.ndim + d]!);
    cb.forEach((d, i) => (lb[d] = la[ca[i]!]!));
    const out = [...la.filter((_, d) => !ca.includes(d)), ...lb.filter((_, d) => !cb.includes(d))];
    return einsumLetters(`${la.join("")},${lb.join("")}->${out.join("")}`, x, y);
  });
}

/**
 * Einstein summation, with "..." standing for the broadcast leading dims (expanded into letters
 * no term uses, then contracted by the letter-only einsum). Without "->", the output is the
 * "..." dims followed by the letters used once, in alphabetical order, as NumPy.
 */
export function einsum(spec: string, ...operands: ArrayLike[]): NDArray {
  if (typeof spec !== "string") throw new ArgumentError(`np.einsum: spec must be a string, got ${describe(spec)}`);
  if (!spec.includes("...")) return einsumLetters(spec, ...operands);
  const ops = operands.map((o) => arr("np.einsum", o, "operands"));
  const compact = spec.replace(/\s+/g, "");
  const [lhs, rhs] = compact.split("->") as [string, string | undefined];
  const terms = lhs.split(",");
  if (terms.length !== ops.length) throw new ArgumentError(`np.einsum: spec "${spec}" names ${terms.length} operands, got ${ops.length}`);
  const used = new Set(compact.replace(/[^A-Za-z]/g, ""));
  const free = "ZYXWVUTSRQPONMLKJIHGFEDCBAzyxwvutsrqponmlkjihgfedcba".split("").filter((c) => !used.has(c));
  const ellipsisRank = Math.max(0, ...terms.map((t, i) => (t.includes("...") ? ops[i]!.ndim - (t.length - 3) : 0)));
  if (ellipsisRank > free.length) throw new ArgumentError(`np.einsum: too many dims under "..." in "${spec}"`);
  const ell = free.slice(0, ellipsisRank).reverse();
  const expanded = terms.map((t, i) => {
    if (!t.includes("...")) return t;
    const r = ops[i]!.ndim - (t.length - 3);
    if (r < 0) throw new ShapeError(`np.einsum: operand ${i} has shape ${fmtShape(ops[i]!.shape)}, fewer dims than the letters of "${t}"`);
    return t.replace("...", ell.slice(ellipsisRank - r).join(""));
  });
  // Broadcast size-1 "..." dims against the others: letters must have one size in the letter-only einsum.
  const sizes = new Map<string, number>();
  expanded.forEach((t, i) => t.split("").forEach((c, d) => ell.includes(c) && sizes.set(c, Math.max(sizes.get(c) ?? 1, ops[i]!.shape[d]!))));
  const bops = ops.map((o, i) =>
    lax.broadcastTo(
      o,
      expanded[i]!.split("").map((c, d) => (ell.includes(c) ? sizes.get(c)! : o.shape[d]!)),
    ),
  );
  let out: string;
  if (rhs === undefined) {
    const counts = new Map<string, number>();
    for (const c of expanded.join("")) if (!ell.includes(c)) counts.set(c, (counts.get(c) ?? 0) + 1);
    out =
      ell.join("") +
      [...counts]
        .filter(([, n]) => n === 1)
        .map(([c]) => c)
        .sort()
        .join("");
  } else out = rhs.replace("...", ell.join(""));
  return einsumLetters(`${expanded.join(",")}->${out}`, ...bops);
}
