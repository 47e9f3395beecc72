/**
 * Dtypes: names, promotion, and the typed arrays that hold each one on the CPU.
 * The lattice is bool < {uint32, int32} < float32 < float64, as JAX's with 64-bit types disabled:
 * uint32 with int32 gives int32 (JAX's int64, narrowed), anything with a float gives the float.
 * JS numbers are weakly typed (see `weakDType`).
 */
import { ELEMENT_BYTES, RECYCLE_MIN_BYTES, takeRecycled } from "./buffers.js";
import { DTypeError, ShapeError } from "./errors.js";

export type DType = "float32" | "float64" | "int32" | "uint32" | "bool";
export type TypedArray = Float32Array | Float64Array | Int32Array | Uint32Array | Uint8Array;

export const DTYPES: readonly DType[] = ["bool", "uint32", "int32", "float32", "float64"];
const RANK: Record<DType, number> = { bool: 0, uint32: 1, int32: 1, float32: 2, float64: 3 };

export function isFloat(dtype: DType): boolean {
  return dtype === "float32" || dtype === "float64";
}

/** Whether a dtype is an integer (int32 or uint32), the dtypes the bit operations accept besides bool. */
export function isInteger(dtype: DType): boolean {
  return dtype === "int32" || dtype === "uint32";
}

/**
 * The dtype both operands are converted to: the larger in bool < {uint32, int32} < float32 < float64.
 * uint32 with int32 is int32: JAX promotes the pair to int64, which becomes int32 with 64-bit types off.
 */
export function promote(a: DType, b: DType): DType {
  if (a !== b && isInteger(a) && isInteger(b)) return "int32";
  return RANK[a] >= RANK[b] ? a : b;
}

/** The dtype a JS number takes next to an array of `other` (JAX's weak typing). */
export function weakDType(value: number, other: DType): DType {
  if (other === "bool") return Number.isInteger(value) ? "int32" : "float32";
  if (other === "int32" || other === "uint32") return Number.isInteger(value) ? other : "float32";
  return other;
}

/** Validates a dtype name given by a user. */
export function checkDType(fn: string, dtype: unknown): DType {
  if (typeof dtype === "string" && Object.hasOwn(RANK, dtype)) return dtype as DType;
  throw new DTypeError(
    `${fn}: unknown dtype ${typeof dtype === "string" ? JSON.stringify(dtype.slice(0, 40)) : typeof dtype}; use one of "float32", "float64", "int32", "uint32", "bool"`,
  );
}

/**
 * Small arrays are carved from shared slabs. A typed array over 64 bytes gets its own backing store
 * outside V8's heap, and making one costs about a microsecond (the store, its external-memory
 * accounting, the GC work it brings forward) — a quarter of a jitted RNN step's time. A view into a
 * slab costs tens of nanoseconds. Slabs are handed out front to back and never reused, so a fresh
 * view is zeroed; a slab is freed when the last view into it dies. The price is retention: a
 * long-lived small array keeps its whole slab (at most SLAB_BYTES) alive.
 */
const SLAB_BYTES = 8192;
/**
 * Arrays of more bytes than this and fewer than `RECYCLE_MIN_BYTES` come from slabs; up to this
 * size V8 keeps a typed array inside its own heap (until something asks for its `.buffer`).
 */
export const ON_HEAP_BYTES = 64;
const slabs = new WeakSet<ArrayBufferLike>();
let slab = new ArrayBuffer(0);
let slabUsed = 0;

/** Whether a buffer is a slab shared by small arrays (never recycled as a whole, see `allocate`). */
export function isSlab(buffer: ArrayBufferLike): boolean {
  return slabs.has(buffer);
}

function slabView(dtype: DType, size: number, bytes: number): TypedArray {
  // Views start on 8-byte boundaries, which every element type accepts.
  const at = (slabUsed + 7) & ~7;
  if (at + bytes > slab.byteLength) {
    slab = new ArrayBuffer(SLAB_BYTES);
    slabs.add(slab);
    slabUsed = bytes;
    return viewOf(dtype, slab, 0, size);
  }
  slabUsed = at + bytes;
  return viewOf(dtype, slab, at, size);
}

function viewOf(dtype: DType, buffer: ArrayBuffer, at: number, size: number): TypedArray {
  switch (dtype) {
    case "float32":
      return new Float32Array(buffer, at, size);
    case "float64":
      return new Float64Array(buffer, at, size);
    case "int32":
      return new Int32Array(buffer, at, size);
    case "uint32":
      return new Uint32Array(buffer, at, size);
    case "bool":
      return new Uint8Array(buffer, at, size);
  }
}

/** Fresh zeroed storage; a typed error (not a RangeError) when the memory cannot be had. */
export function allocate(dtype: DType, size: number): TypedArray {
  const bytes = size * (ELEMENT_BYTES[dtype] ?? 0);
  if (bytes > ON_HEAP_BYTES && bytes < RECYCLE_MIN_BYTES) return slabView(dtype, size, bytes);
  const recycled = takeRecycled(dtype, size);
  if (recycled !== undefined) return recycled.fill(0);
  return fresh(dtype, size);
}

/** A new zeroed typed array with a buffer of its own. */
function fresh(dtype: DType, size: number): TypedArray {
  try {
    switch (dtype) {
      case "float32":
        return new Float32Array(size);
      case "float64":
        return new Float64Array(size);
      case "int32":
        return new Int32Array(size);
      case "uint32":
        return new Uint32Array(size);
      case "bool":
        return new Uint8Array(size);
    }
  } catch (e) {
    if (!(e instanceof RangeError)) throw e;
    throw new ShapeError(
      `cannot allocate an array of ${size} ${dtype} elements (${size * ELEMENT_BYTES[dtype]} bytes): ${e.message}; use a smaller shape`,
    );
  }
  throw new DTypeError(`allocate: unknown dtype ${typeof dtype === "string" ? JSON.stringify((dtype as string).slice(0, 40)) : typeof dtype}`);
}

/**
 * Node's allocation without zero-filling, where there is one: a fresh zeroed array over 1 KiB
 * costs its zeroing too (4 µs for 64 KiB, 14 µs for 256 KiB, against 1.2 and 2.2 uninitialised).
 */
const unfilled = (globalThis as { Buffer?: { allocUnsafeSlow?: (bytes: number) => Uint8Array } }).Buffer?.allocUnsafeSlow;

/**
 * A new typed array with a buffer of its own (never a slab, never recycled storage) whose contents
 * are arbitrary under Node (unfilled past 1 KiB) and zero elsewhere: for copies handed to users.
 */
export function allocateUnfilled(dtype: DType, size: number): TypedArray {
  const bytes = size * (ELEMENT_BYTES[dtype] ?? 0);
  if (unfilled === undefined || bytes < RECYCLE_MIN_BYTES) return fresh(dtype, size);
  let b: Uint8Array;
  try {
    b = unfilled(bytes);
  } catch {
    return fresh(dtype, size); // the typed error for memory that cannot be had
  }
  return viewOf(dtype, b.buffer as ArrayBuffer, b.byteOffset, size);
}

/**
 * Storage for a result its writer overwrites in full before anything reads it: recycled storage,
 * a slab for a small array, else `allocateUnfilled`'s. Only for writers that provably write every
 * element; anything that accumulates into its output, or may decline half-way, takes `allocate`.
 */
export function allocateFull(dtype: DType, size: number): TypedArray {
  const bytes = size * (ELEMENT_BYTES[dtype] ?? 0);
  if (bytes < RECYCLE_MIN_BYTES) return allocate(dtype, size);
  return takeRecycled(dtype, size) ?? allocateUnfilled(dtype, size);
}

/** The dtype whose CPU storage is this typed array, if any. */
export function dtypeOfTyped(data: unknown): DType | null {
  if (data instanceof Float32Array) return "float32";
  if (data instanceof Float64Array) return "float64";
  if (data instanceof Int32Array) return "int32";
  if (data instanceof Uint32Array) return "uint32";
  if (data instanceof Uint8Array) return "bool";
  return null;
}

/** Short dtype names for printing avals: f32[2,3]. */
export const SHORT: Record<DType, string> = { float32: "f32", float64: "f64", int32: "i32", uint32: "u32", bool: "bool" };
