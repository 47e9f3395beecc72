/**
 * The one data-movement kernel: copy an index space of `shape` from `src` to `dst`, each side with
 * its own base offset and per-dim strides (a stride may be 0 to broadcast, or negative to reverse).
 * Transpose, broadcast, slice, rev, pad, concatenate and the dynamic slices are all this copy with
 * different offsets and strides. Iterative: an odometer over the outer dims, a tight inner loop.
 */
import type { TypedArray } from "../../../src/core/dtype.js";
import { int } from "../../../src/codegen/tokens.js";

/** Shortest contiguous run copied by `set` (memcpy) instead of an element loop. */
const SET_MIN = 32;

/**
 * The same index space with adjacent dims fused where both sides step through them as one (e.g. a
 * [1, 0, 2, 3] transpose becomes a copy of whole contiguous planes), and size-1 dims dropped.
 */
function merged(
  srcStrides: readonly number[],
  dstStrides: readonly number[],
  shape: readonly number[],
): { srcStrides: number[]; dstStrides: number[]; shape: number[] } {
  const ss: number[] = [],
    ds: number[] = [],
    sh: number[] = [];
  for (let d = 0; d < shape.length; d++) {
    if (shape[d] === 1) continue;
    const last = sh.length - 1;
    if (last >= 0 && ss[last] === srcStrides[d]! * shape[d]! && ds[last] === dstStrides[d]! * shape[d]!) {
      sh[last]! *= shape[d]!;
      ss[last] = srcStrides[d]!;
      ds[last] = dstStrides[d]!;
    } else {
      ss.push(srcStrides[d]!);
      ds.push(dstStrides[d]!);
      sh.push(shape[d]!);
    }
  }
  return { srcStrides: ss, dstStrides: ds, shape: sh };
}

/** The copy after merging: `shape` has no size-1 dims and at least one dim. */
type Copy = (
  src: TypedArray,
  s: number,
  srcStrides: readonly number[],
  dst: TypedArray,
  t: number,
  dstStrides: readonly number[],
  shape: readonly number[],
) => void;

/**
 * The copy loop as source, compiled once per typed-array kind (`copyFor`): one loop shared by every
 * dtype sees five kinds at its element accesses, which V8 then handles generically, about 10x slower
 * per element (a 64x16 float32 transpose took 11 µs, 3 µs monomorphic).
 */
const COPY_SOURCE = `return function copy(src, s, srcStrides, dst, t, dstStrides, shape) {
  const nd = shape.length, inner = shape[nd - 1], sIn = srcStrides[nd - 1], dIn = dstStrides[nd - 1];
  const idx = new Array(nd - 1).fill(0);
  for (;;) {
    if (sIn === 1 && dIn === 1 && inner >= ${int(SET_MIN)}) dst.set(src.subarray(s, s + inner), t);
    else if (sIn === 1 && dIn === 1) for (let i = 0; i < inner; i++) dst[t + i] = src[s + i];
    else for (let i = 0, si = s, ti = t; i < inner; i++, si += sIn, ti += dIn) dst[ti] = src[si];
    let d = nd - 2;
    for (; d >= 0; d--) {
      s += srcStrides[d];
      t += dstStrides[d];
      if (++idx[d] < shape[d]) break;
      s -= srcStrides[d] * shape[d];
      t -= dstStrides[d] * shape[d];
      idx[d] = 0;
    }
    if (d < 0) return;
  }
};`;

const copies = new Map<unknown, Copy>();
/** The copy loop for arrays of one constructor (both sides share it; a mixed pair gets its own). */
function copyFor(src: TypedArray, dst: TypedArray): Copy {
  const key = src.constructor === dst.constructor ? src.constructor : `${src.constructor.name} ${dst.constructor.name}`;
  let c = copies.get(key);
  if (c === undefined) copies.set(key, (c = new Function(COPY_SOURCE)() as Copy));
  return c;
}

/**
 * Copies the index space `shape` from `src` (from `srcBase`, stepping `srcStrides` per dim) to
 * `dst` (from `dstBase`, stepping `dstStrides`): an odometer over the outer dims, a tight inner
 * loop, contiguous runs copied by `set`.
 */
export function copyStrided(
  src: TypedArray,
  srcBase: number,
  srcStrides: readonly number[],
  dst: TypedArray,
  dstBase: number,
  dstStrides: readonly number[],
  shape: readonly number[],
): void {
  for (let d = 0; d < shape.length; d++) if (shape[d] === 0) return;
  ({ srcStrides, dstStrides, shape } = merged(srcStrides, dstStrides, shape));
  if (shape.length === 0) dst[dstBase] = src[srcBase]!;
  else copyFor(src, dst)(src, srcBase, srcStrides, dst, dstBase, dstStrides, shape);
}
