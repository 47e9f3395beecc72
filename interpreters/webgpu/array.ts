/**
 * Device arrays. A `GpuArray` is a view (shape, dtype) of a reference-counted `Storage` (one
 * GPUBuffer), so zero-copy reshapes and repeated uploads of one CPU array share a buffer. Each
 * array holds one reference, dropped by `dispose()` (idempotent) or, when the array is garbage
 * collected, by a FinalizationRegistry; the buffer goes back to the context's pool with its last
 * reference. Storage on the device: float32 as f32, int32 as i32, uint32 as u32, bool as u32 0/1 (4 bytes each).
 */
import { type Backend, DeviceArray, DeviceError } from "../../src/core/device.js";
import type { DType, TypedArray } from "../../src/core/dtype.js";
import { type Aval, ConcreteArray, type NDArray, fmtAval } from "../../src/core/ndarray.js";
import { sizeOf } from "../../src/core/shape.js";
import type { Binding, GpuContext } from "./context.js";
import { wgslType } from "./wgsl.js";

export class Storage {
  private refs = 0;
  constructor(
    readonly ctx: GpuContext,
    readonly buffer: GPUBuffer,
  ) {}
  retain(): void {
    this.refs++;
  }
  release(): void {
    if (--this.refs === 0) this.ctx.release(this.buffer);
  }
}

const registry = new FinalizationRegistry<Storage>((s) => s.release());

/** The WebGPU backend as arrays and kernels see it. */
export type GpuBackend = Backend & { readonly ctx: GpuContext };

export class GpuArray extends DeviceArray {
  private store: Storage | null;

  constructor(
    readonly backend: GpuBackend,
    storage: Storage,
    readonly shape: number[],
    readonly dtype: DType,
  ) {
    super();
    storage.retain();
    this.store = storage;
    registry.register(this, storage, this);
  }

  /** The storage, or a DeviceError if this array was disposed. */
  storage(fn: string): Storage {
    if (this.store === null) {
      throw new DeviceError(`${fn}: this ${fmtAval(this)} webgpu array was disposed; keep it alive until its last use (dispose() frees it now)`);
    }
    return this.store;
  }

  /** The buffer as a kernel binding (bytes = 4 per element). */
  bind(fn: string): Binding {
    return { buffer: this.storage(fn).buffer, bytes: 4 * sizeOf(this.shape) };
  }

  get disposed(): boolean {
    return this.store === null;
  }

  /** A new array over the same buffer (its own reference), with another shape. */
  view(shape: number[] = this.shape, dtype: DType = this.dtype): GpuArray {
    return new GpuArray(this.backend, this.storage("reshape"), shape, dtype);
  }

  override dispose(): void {
    const s = this.store;
    if (s === null) return;
    this.store = null;
    registry.unregister(this);
    s.release();
  }

  [Symbol.dispose](): void {
    this.dispose();
  }

  override async read(): Promise<TypedArray> {
    const ctx = this.backend.ctx;
    ctx.check("data");
    const n = sizeOf(this.shape);
    const bytes = await ctx.readBuffer(this.storage("data").buffer, 4 * n);
    switch (this.dtype) {
      case "float32":
        return new Float32Array(bytes);
      case "int32":
        return new Int32Array(bytes);
      case "uint32":
        return new Uint32Array(bytes);
      case "bool":
        return Uint8Array.from(new Uint32Array(bytes));
      case "float64":
        throw new DeviceError("data: a float64 array cannot live on webgpu");
    }
  }
}

/** A fresh, uninitialised device array of `aval` (its buffer comes from the pool). */
export function empty(backend: GpuBackend, aval: Aval): GpuArray {
  wgslType(aval.dtype, "webgpu");
  const bytes = 4 * sizeOf(aval.shape);
  const max = backend.ctx.device.limits.maxStorageBufferBindingSize;
  if (bytes > max)
    throw new DeviceError(
      `webgpu: a ${fmtAval(aval)} array needs ${bytes} bytes, over this device's ${max}-byte limit for one buffer; split the work or run it on the cpu`,
    );
  const s = new Storage(backend.ctx, backend.ctx.alloc(bytes));
  return new GpuArray(backend, s, aval.shape.slice(), aval.dtype);
}

/** Uploads a CPU array into a new buffer. float64 is a DTypeError naming `fn`. */
export function uploadFresh(backend: GpuBackend, x: ConcreteArray, fn: string): GpuArray {
  wgslType(x.dtype, fn);
  const v = x.values;
  const data = x.dtype === "bool" ? Uint32Array.from(v as Uint8Array) : v;
  return new GpuArray(backend, new Storage(backend.ctx, backend.ctx.allocWith(data)), x.shape.slice(), x.dtype);
}

/** Uploads of CPU operands per backend, kept while the CPU array lives (CPU arrays are never mutated). */
const uploadsOf = new WeakMap<GpuBackend, WeakMap<ConcreteArray, GpuArray>>();

/**
 * The device array for an operand: itself if on the device, else its (cached) upload. The result
 * is for reading inside the backend only; results handed out are always new views.
 */
export function onDevice(backend: GpuBackend, x: NDArray, fn: string): GpuArray {
  if (x instanceof GpuArray) {
    x.storage(fn);
    if (x.backend !== backend) throw new DeviceError(`${fn}: an operand lives on another webgpu device; move it with await x.toAsync("cpu") first`);
    return x;
  }
  if (!(x instanceof ConcreteArray)) throw new DeviceError(`${fn}: operand ${String(x)} is neither a cpu nor a webgpu array`);
  if (x.values.length === 1) {
    const v = x.values[0]!;
    return scalarUpload(backend, `${x.dtype}:${x.shape.join(",")}:${Object.is(v, -0) ? "-0" : String(v)}`, () => x, fn);
  }
  let uploads = uploadsOf.get(backend);
  if (uploads === undefined) uploadsOf.set(backend, (uploads = new WeakMap()));
  let up = uploads.get(x);
  if (up === undefined || up.disposed) {
    up = uploadFresh(backend, x, fn);
    uploads.set(x, up);
  }
  return up;
}

/** For each CPU array seen (of more than one element): the bits of its one value, or null when its elements differ. */
const uniformOf = new WeakMap<ConcreteArray, number | null>();

function uniformBits(x: ConcreteArray): number | null {
  let u = uniformOf.get(x);
  if (u === undefined) {
    const v = x.values;
    // Compare bits (NaN == NaN, -0 != 0): a float32 array through an integer view of its memory.
    const w = v instanceof Float32Array ? new Uint32Array(v.buffer, v.byteOffset, v.length) : v;
    const first = w[0]!;
    let i = 1;
    while (i < w.length && w[i] === first) i++;
    uniformOf.set(x, (u = i === w.length ? first : null));
  }
  return u;
}

/**
 * For an operand of an elementwise kernel: when `x` is a CPU array whose elements all hold one
 * value (what `y.mul(0.999)` broadcasts), the one-element device copy of that value, which the
 * kernel reads at index 0 for every element; else null. It spares an upload of the whole array
 * (a new buffer per op, as each eager op broadcasts a new CPU array).
 */
export function splatOperand(backend: GpuBackend, x: NDArray, fn: string): GpuArray | null {
  if (!(x instanceof ConcreteArray) || x.values.length < 2) return null;
  wgslType(x.dtype, fn); // a dtype WGSL lacks (float64) is refused before its values are scanned
  const bits = uniformBits(x);
  if (bits === null) return null;
  return scalarUpload(backend, `${x.dtype}:splat:${bits}`, () => new ConcreteArray(x.values.slice(0, 1), [1], x.dtype), fn);
}

/** Uploads of one-element CPU arrays by value (eager code makes a new one per `x.mul(0.5)`). */
const scalarsOf = new WeakMap<GpuBackend, Map<string, GpuArray>>();
const SCALARS_KEPT = 256;

/**
 * The device copy of a one-element CPU array, shared by every array of the same `key` (dtype,
 * shape and value): an upload creates a buffer, the dearest part of an eager op. The oldest of
 * more than SCALARS_KEPT values is dropped (a dispatch already recorded still reads it in queue order).
 */
function scalarUpload(backend: GpuBackend, key: string, x: () => ConcreteArray, fn: string): GpuArray {
  let kept = scalarsOf.get(backend);
  if (kept === undefined) scalarsOf.set(backend, (kept = new Map()));
  let up = kept.get(key);
  if (up === undefined || up.disposed) {
    up = uploadFresh(backend, x(), fn);
    kept.set(key, up);
    if (kept.size > SCALARS_KEPT) {
      const [oldest, arr] = kept.entries().next().value!;
      kept.delete(oldest);
      arr.dispose();
    }
  }
  return up;
}
