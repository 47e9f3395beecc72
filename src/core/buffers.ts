/**
 * Storage recycled between arrays of a program. A fresh large typed array costs a page fault per 4 KiB
 * page the first time it is written (the allocator returns freed blocks to the system), which for
 * a 4 MB array is often more than the arithmetic that fills it. The jit's executor knows when an
 * intermediate array of a program dies (its last reader ran and nothing else holds its storage)
 * and hands its storage here; `allocate` and the generated loops take it back for the next array
 * of the same dtype and length. Arrays users can see are never recycled: only storage the
 * executor proved unreferenced comes in.
 */
import type { DType, TypedArray } from "./dtype.js";

/**
 * Smaller arrays are not worth tracking. Above about 1 KiB a fresh typed array costs
 * microseconds (backing store, external-memory accounting, the GC it brings forward), where
 * refilling a held one costs tens of nanoseconds.
 */
export const RECYCLE_MIN_BYTES = 1024;
/** Most bytes held for reuse, and most arrays held per dtype and length. */
const MAX_HELD_BYTES = 128 * 1024 * 1024;
const MAX_PER_SIZE = 4;

/** Bytes per element of each dtype's CPU storage. */
export const ELEMENT_BYTES: Record<DType, number> = { float32: 4, float64: 8, int32: 4, uint32: 4, bool: 1 };
/** Held arrays by dtype, then by length. */
const held = new Map<DType, Map<number, TypedArray[]>>();
let heldBytes = 0;

/** Recycled storage for `length` elements of `dtype` (contents arbitrary), if some is held. */
export function takeRecycled(dtype: DType, length: number): TypedArray | undefined {
  if (heldBytes === 0 || length * ELEMENT_BYTES[dtype] < RECYCLE_MIN_BYTES) return undefined;
  const a = held.get(dtype)?.get(length)?.pop();
  if (a !== undefined) heldBytes -= a.byteLength;
  return a;
}

/**
 * Takes back the storage of an array nothing references any more. Only whole buffers are kept
 * (a view into a larger buffer may share it with live arrays).
 */
export function recycle(dtype: DType, a: TypedArray): void {
  if (a.byteLength < RECYCLE_MIN_BYTES || a.byteOffset !== 0 || a.byteLength !== a.buffer.byteLength) return;
  if (heldBytes + a.byteLength > MAX_HELD_BYTES) return;
  let byLength = held.get(dtype);
  if (byLength === undefined) held.set(dtype, (byLength = new Map()));
  let list = byLength.get(a.length);
  if (list === undefined) byLength.set(a.length, (list = []));
  if (list.length >= MAX_PER_SIZE) return;
  list.push(a);
  heldBytes += a.byteLength;
}

/** Drops every held buffer (for tests and for callers that want the memory back). */
export function releaseRecycled(): void {
  held.clear();
  heldBytes = 0;
}

/**
 * Arrays a running loop reads on every iteration and keeps unchanged until it ends (its body's
 * constants). A kernel may keep its own copy of such an array for as long as the hold lasts: the
 * matrix-vector kernel keeps the matrices of an RNN step in its wasm memory instead of copying them
 * in on every step. A hold is identified by a fresh token; nested loops hold in turn.
 */
let holding: { token: object; arrays: ReadonlySet<TypedArray> } | null = null;

/** Runs `run` with `arrays` held (see above); the previous hold is back afterwards. */
export function holdDuring<T>(arrays: readonly TypedArray[], run: () => T): T {
  const outer = holding;
  holding = { token: {}, arrays: new Set(arrays) };
  try {
    return run();
  } finally {
    holding = outer;
  }
}

/** The token of the hold that keeps `a` unchanged, or null when no running loop holds it. */
export function holdOf(a: TypedArray): object | null {
  return holding !== null && holding.arrays.has(a) ? holding.token : null;
}
