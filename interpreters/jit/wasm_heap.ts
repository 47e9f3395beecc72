/**
 * The linear memories of the fused wasm kernels (`wasm_loop.ts`, `wasm_sum.ts`): a shared one for
 * runs split across the loop threads and an unshared one beside it for the calling thread alone,
 * each laid out as the fast-math tables, the thread pool's control words, the split sum's table,
 * then scratch data from DATA. A fused run hands values on in place as views of this scratch
 * (`Heap.pending` marks how far the ones still to be read reach); growing an unshared memory
 * detaches its buffer, so those views are copied out first (`keepViews`).
 */
import { ConcreteArray } from "../../src/core/ndarray.js";
import { type WasmMemory, ModuleBuilder, V128, f64v, hardwareThreads, scalar, set, wasmApi } from "../../src/codegen/wasm_asm.js";
import { TABLES_END, writeTables } from "../../src/codegen/wasm_math.js";
import { CTL_BYTES, LoopPool } from "./wasm_pool.js";

const PAGE = 65536;
const MAX_THREADS = 8;
/** Linear memory is declared up to 2 GiB (every address a non-negative i32). */
export const MAX_PAGES = 32768;

/**
 * The thread pool's control words sit after the fast-math tables, then the table of a split sum
 * (`wasm_sum.ts`: SUM_PARTS entries of a byte address, a length and a float64 result), then
 * scratch data.
 */
export const CTL = Math.ceil(TABLES_END / 64) * 64;
export const SUM_TABLE = CTL + CTL_BYTES;
export const SUM_PARTS = 16;
export const DATA = SUM_TABLE + SUM_PARTS * 16;

export type LaneDType = "float32" | "float64" | "bool" | "int32" | "uint32";
type Views = Record<LaneDType, Float32Array | Float64Array | Uint8Array | Int32Array | Uint32Array>;
export interface Heap {
  readonly memory: WasmMemory;
  readonly shared: boolean;
  /** Threads for large runs (null: this thread only). */
  readonly pool: LoopPool | null;
  buffer: ArrayBuffer | SharedArrayBuffer;
  /**
   * Every buffer object the memory has had while shared: growing a shared memory gives a new one,
   * and views of the old ones still see the same bytes.
   */
  readonly buffers: WeakSet<ArrayBufferLike>;
  views: Views;
  /**
   * End (byte address) of the values runs handed on in place that later steps may still read (the
   * last run's, and those below its layout); DATA when there are none. Reductions (`wasm_sum.ts`)
   * write only above it, and never grow the memory while values are pending.
   */
  pending: number;
}
let heap: Heap | null | undefined;
let local: Heap | null | undefined;

let kernelIds = 0;
/** A fresh kernel id for the thread pool. */
export const nextKernelId = (): number => ++kernelIds;

function viewsOf(buffer: ArrayBuffer | SharedArrayBuffer): Views {
  return {
    float32: new Float32Array(buffer),
    float64: new Float64Array(buffer),
    bool: new Uint8Array(buffer),
    int32: new Int32Array(buffer),
    uint32: new Uint32Array(buffer),
  };
}

/** A heap on a new memory, shared (with a thread pool) or not; null where WebAssembly SIMD is missing. */
function makeHeap(shared: boolean, threads: number): Heap | null {
  try {
    const memory = new wasmApi!.Memory({ initial: Math.ceil(DATA / PAGE) + 16, maximum: MAX_PAGES, shared });
    writeTables(new Float64Array(memory.buffer));
    // A module using SIMD: if this engine lacks it, the JavaScript loops stay.
    new wasmApi!.Instance(new wasmApi!.Module(probeModule(shared)), imports(memory));
    return {
      memory,
      shared,
      pool: shared ? new LoopPool(memory, CTL, threads) : null,
      buffer: memory.buffer,
      buffers: new WeakSet([memory.buffer]),
      views: viewsOf(memory.buffer),
      pending: DATA,
    };
  } catch {
    return null;
  }
}

/**
 * The linear memory of fused kernels that may run on threads, made on first use: shared where
 * threads can help (it needs SharedArrayBuffer), else a private one; null where WebAssembly SIMD is
 * missing.
 */
export function sharedHeap(): Heap | null {
  if (heap !== undefined) return heap;
  heap = null;
  if (wasmApi === undefined) return null;
  const threads = Math.min(hardwareThreads(), MAX_THREADS);
  if (threads > 1 && typeof SharedArrayBuffer !== "undefined") heap = makeHeap(true, threads);
  return (heap ??= makeHeap(false, 1));
}

/**
 * The memory of fused kernels that run on this thread alone (runs too small for threads): an
 * unshared one beside a shared `sharedHeap`, as V8 copies into and out of shared memory in short
 * pieces, about twice as slowly (a 64 KiB operand: 2.3 against 1.3 µs in, 3.9 against 1.3 out).
 */
export function localHeap(): Heap | null {
  if (local !== undefined) return local;
  const h = sharedHeap();
  return (local = h === null || !h.shared ? h : (makeHeap(false, 1) ?? h));
}

/** The heap whose memory holds `buffer` (a value a fused run handed on in place), if any. */
export function heapHolding(buffer: ArrayBufferLike): Heap | null {
  for (const h of [local, heap]) if (h && (h.buffer === buffer || h.memory.buffer === buffer || (h.shared && h.buffers.has(buffer)))) return h;
  return null;
}

export function imports(memory: WasmMemory): Record<string, Record<string, unknown>> {
  return { env: { memory, sin: Math.sin, cos: Math.cos } };
}

/** Makes room for `bytes` of scratch data (renewing the views if the memory grew); false if it cannot grow. */
export function heapFor(h: Heap, bytes: number): boolean {
  const need = DATA + bytes;
  if (h.memory.buffer.byteLength < need)
    try {
      h.memory.grow(Math.ceil((need - h.memory.buffer.byteLength) / PAGE));
    } catch {
      return false;
    }
  if (h.buffer !== h.memory.buffer) {
    h.buffer = h.memory.buffer;
    if (h.shared) h.buffers.add(h.buffer);
    h.views = viewsOf(h.buffer);
  }
  return true;
}

/** A module using SIMD: if this engine lacks it, making a heap fails and the JavaScript loops stay. */
function probeModule(shared: boolean): Uint8Array {
  const m = new ModuleBuilder({ initial: 1, maximum: MAX_PAGES, shared });
  const f = m.func("probe", []);
  f.local(V128);
  f.body = set({ index: 0, type: V128 }, f64v.splat(scalar.f64Const(0)));
  return m.encode();
}

/** Replaces each array of `env` that is a view of `h`'s memory with a copy of its own. */
export function keepViews(h: Heap, env: ConcreteArray[]): void {
  for (let s = 0; s < env.length; s++) {
    const a = env[s];
    if (a !== undefined && a.values.buffer === h.memory.buffer) env[s] = new ConcreteArray(a.values.slice(), a.shape as number[], a.dtype);
  }
}
