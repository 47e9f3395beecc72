/**
 * The one data-movement kernel: copy an index space of `shape` from `src` to `dst`, each side with
 * its own base offset and per-dim strides (a stride may be 0 to broadcast, or negative to reverse).
 * Transpose, broadcast, slice, rev, pad, concatenate and the dynamic slices are all this copy with
 * different offsets and strides. Iterative: an odometer over the outer dims, a tight inner loop.
 */
import type { TypedArray } from "../../../src/core/dtype.js";
import { int } from "../../../src/codegen/tokens.js";

/**
 * Shortest contiguous run copied by `set` (memcpy) instead of an element loop, and shortest run of
 * one repeated value written by `fill`. Measured per element on runs of 8 to 1024 float32: an
 * element loop costs about 1.4 ns whatever the length; `set` with its `subarray` 1.3 ns at 32 and
 * 0.4 at 128; `fill` 1.3 ns at 16, 0.7 at 32 and 0.2 at 128.
 */
const SET_MIN = 32;
const FILL_MIN = 16;
/**
 * Edge of the square blocks a transposing copy walks (`TILED_SOURCE`). Walking a [1024, 1024]
 * float32 transpose row by row reads a new cache line per element (3.1 ns each); in blocks of this
 * edge every line read is used whole while it is cached.
 */
const TILE = 16;
/** Both dims of a transposing pair need this many indices for blocks to pay for their loops. */
const TILE_MIN = 8;

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

/**
 * Source text that moves the odometer over the dims before `last` (exclusive) on to the next
 * position, stepping s and t, and returns from the copy after the final one.
 */
const advance = (last: "nd - 2" | "nd - 3"): string => `let d = ${last};
    for (; d >= 0; d--) {
      s += srcStrides[d];
      t += dstStrides[d];
      if (++idx[d] < shape[d]) break;
      s -= srcStrides[d] * shape[d];
      t -= dstStrides[d] * shape[d];
      idx[d] = 0;
    }
    if (d < 0) return;`;

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
    else if (sIn === 0 && dIn === 1 && inner >= ${int(FILL_MIN)}) dst.fill(src[s], t, t + inner);
    else for (let i = 0, si = s, ti = t; i < inner; i++, si += sIn, ti += dIn) dst[ti] = src[si];
    ${advance("nd - 2")}
  }
};`;

/**
 * The copy of a transposing pair of dims, the last two of `shape` (at least two): one of them
 * steps through the source one element at a time, the other (last) through the destination. An
 * odometer over the dims before them, and for each of its positions the pair walked in TILE x TILE
 * blocks, so that the lines of both sides a block touches stay cached while it is copied.
 */
const TILED_SOURCE = `return function tiled(src, s, srcStrides, dst, t, dstStrides, shape) {
  const nd = shape.length, rows = shape[nd - 2], cols = shape[nd - 1];
  const sR = srcStrides[nd - 2], dR = dstStrides[nd - 2], sC = srcStrides[nd - 1], dC = dstStrides[nd - 1];
  const idx = new Array(nd - 2).fill(0);
  for (;;) {
    for (let r0 = 0; r0 < rows; r0 += ${int(TILE)}) {
      const r1 = Math.min(rows, r0 + ${int(TILE)});
      for (let c0 = 0; c0 < cols; c0 += ${int(TILE)}) {
        const c1 = Math.min(cols, c0 + ${int(TILE)});
        for (let r = r0; r < r1; r++)
          for (let c = c0, si = s + r * sR + c0 * sC, ti = t + r * dR + c0 * dC; c < c1; c++, si += sC, ti += dC) dst[ti] = src[si];
      }
    }
    ${advance("nd - 3")}
  }
};`;

const copies = new Map<unknown, Copy>();
const tiledCopies = new Map<unknown, Copy>();
/** The copy loop (or tiled loop) for arrays of one constructor (both sides share it; a mixed pair gets its own). */
function copyFor(src: TypedArray, dst: TypedArray, tiled: boolean): Copy {
  const key = src.constructor === dst.constructor ? src.constructor : `${src.constructor.name} ${dst.constructor.name}`;
  const cache = tiled ? tiledCopies : copies;
  let c = cache.get(key);
  if (c === undefined) cache.set(key, (c = new Function(tiled ? TILED_SOURCE : COPY_SOURCE)() as Copy));
  return c;
}

/**
 * The dim to pair with the last one for a tiled copy, or -1: the last dim writes the destination
 * one element at a time but reads the source with a longer stride, and this earlier dim reads the
 * source one element at a time (a transpose, or a transpose with broadcasts or slices around it).
 * Blocks reorder the writes, so the destination's positions must all differ (no zero stride) and
 * the two sides must be separate buffers.
 */
function tilePartner(
  src: TypedArray,
  srcStrides: readonly number[],
  dst: TypedArray,
  dstStrides: readonly number[],
  shape: readonly number[],
): number {
  const last = shape.length - 1;
  if (last < 1 || Math.abs(dstStrides[last]!) !== 1 || Math.abs(srcStrides[last]!) <= 1 || shape[last]! < TILE_MIN) return -1;
  let d = last - 1;
  while (d >= 0 && !(Math.abs(srcStrides[d]!) === 1 && shape[d]! >= TILE_MIN)) d--;
  // Asked last: `buffer` moves a small on-heap array's storage off the heap.
  return d < 0 || dstStrides.includes(0) || src.buffer === dst.buffer ? -1 : d;
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
  if (shape.length === 0) {
    dst[dstBase] = src[srcBase]!;
    return;
  }
  const partner = tilePartner(src, srcStrides, dst, dstStrides, shape);
  if (partner < 0) {
    copyFor(src, dst, false)(src, srcBase, srcStrides, dst, dstBase, dstStrides, shape);
    return;
  }
  // The partner moves next to the last dim; the odometer's order of the others is kept.
  const order = [...shape.keys()].filter((d) => d !== partner && d !== shape.length - 1);
  order.push(partner, shape.length - 1);
  const pick = (a: readonly number[]) => order.map((d) => a[d]!);
  copyFor(src, dst, true)(src, srcBase, pick(srcStrides), dst, dstBase, pick(dstStrides), pick(shape));
}
