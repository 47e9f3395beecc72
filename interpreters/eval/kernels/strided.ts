/**
 * The one data-movement kernel: copy an index space of `shape` from `src` to `dst`, each side with
 * its own base offset and per-dim strides (a stride may be 0 to broadcast, or negative to reverse).
 * Transpose, broadcast, slice, rev, pad, concatenate and the dynamic slices are all this copy with
 * different offsets and strides. Iterative: an odometer over the outer dims, a tight inner loop.
 */
import type { TypedArray } from "../../../src/core/dtype.js";

export function copyStrided(
  src: TypedArray,
  srcBase: number,
  srcStrides: readonly number[],
  dst: TypedArray,
  dstBase: number,
  dstStrides: readonly number[],
  shape: readonly number[],
): void {
  const nd = shape.length;
  for (let d = 0; d < nd; d++) if (shape[d] === 0) return;
  if (nd === 0) {
    dst[dstBase] = src[srcBase]!;
    return;
  }
  const inner = shape[nd - 1]!,
    sIn = srcStrides[nd - 1]!,
    dIn = dstStrides[nd - 1]!;
  const idx = new Array<number>(nd - 1).fill(0);
  let s = srcBase,
    t = dstBase;
  for (;;) {
    if (sIn === 1 && dIn === 1) {
      for (let i = 0; i < inner; i++) dst[t + i] = src[s + i]!;
    } else {
      for (let i = 0, si = s, ti = t; i < inner; i++, si += sIn, ti += dIn) dst[ti] = src[si]!;
    }
    // advance the odometer over dims nd-2 .. 0
    let d = nd - 2;
    for (; d >= 0; d--) {
      s += srcStrides[d]!;
      t += dstStrides[d]!;
      if (++idx[d]! < shape[d]!) break;
      s -= srcStrides[d]! * shape[d]!;
      t -= dstStrides[d]! * shape[d]!;
      idx[d] = 0;
    }
    if (d < 0) return;
  }
}
