/**
 * The WebGPU device context: buffers (a size-bucketed pool, counted for `liveBuffers`), the
 * pipeline cache (one pipeline per generated WGSL source, on its binding class's shared layout),
 * the bind group cache (bindings.ts), and the batch that records dispatches.
 *
 * Dispatches are recorded into one open command encoder and submitted together (`flush`): once the
 * JavaScript that recorded them yields (a microtask queued when the batch opens), before a read, or
 * when the batch grows large. So a run of eager ops is one submit, not one per op. Each dispatch's
 * small parameter block (sizes, shapes, strides) goes into a slot of a uniform ring buffer that is
 * written with one `writeBuffer` just before the submit, so shapes are uniforms, not baked into
 * the pipelines; the slot is bound as a group of its own, so storage bind groups are reused across
 * dispatches. WebGPU
 * orders dispatches within a queue, so a buffer released to the pool can be reused by a later
 * dispatch of the same batch; only `destroy` waits for the submit.
 */
import { DeviceError } from "../../src/core/device.js";
import { BindGroups, type LayoutClass } from "./bindings.js";
import { withHelpersUsed } from "./wgsl.js";

/** Bytes of one dispatch's parameter slot: 64 u32s. */
export const SLOT = 256;
const RING_SLOTS = 1024;
/** Bytes kept in the free pool; buffers beyond are destroyed. */
const POOL_BYTES = 256 * 1024 * 1024;
/** Workgroup size of the 1-D kernels. */
export const WG = 256;

export interface Binding {
  buffer: GPUBuffer;
  /** Bytes the shader may touch (a multiple of 4, at least 4). */
  bytes: number;
}

let created = 0;
let pooled = 0;
/**
 * GPU buffers in use: held by live device arrays (and the parameter ring), not counting the free
 * pool. A device array's buffer returns to the pool when it is disposed or garbage collected.
 */
export function liveBuffers(): number {
  return created - pooled;
}

/** Buffer counts: in use (`live`), kept in the free pool for reuse (`pooled`), and both (`created`). */
export function bufferStats(): { live: number; pooled: number; created: number } {
  return { live: created - pooled, pooled, created };
}

const bucket = (bytes: number): number => {
  const b = Math.max(16, bytes);
  if (b <= 4096) return Math.ceil(b / 16) * 16;
  // Above 4 KiB, round up to a quarter power of two (at most 19% slack).
  const p = 2 ** Math.floor(Math.log2(b));
  return Math.ceil(b / (p / 4)) * (p / 4);
};

export class GpuContext {
  readonly maxStorage: number;
  /** Workgroups a product must make in 128x128 tiles to use the large-tile matmul (tests lower it). */
  largeTileMin = 256;

  /**
   * Elements each invocation of an elementwise kernel computes: 16 on software adapters, which pay
   * per workgroup (a 2²⁰-element multiply took 5.0 ms on lavapipe one per invocation, 1.9 ms
   * sixteen per invocation), one on GPUs.
   */
  get elementsPerThread(): number {
    return this.software ? 16 : 1;
  }
  private readonly pipelines = new Map<string, { pipeline: GPUComputePipeline; layout: LayoutClass }>();
  /** Bind groups by (layout class, buffers, bound sizes). */
  readonly groups: BindGroups;
  private readonly pool = new Map<number, GPUBuffer[]>();
  private poolBytes = 0;
  private readonly ring: GPUBuffer;
  private readonly ringData = new Uint32Array((RING_SLOTS * SLOT) / 4);
  private slots = 0;
  private encoder: GPUCommandEncoder | null = null;
  private pass: GPUComputePassEncoder | null = null;
  /** The pipeline last set on the open pass (setting it again is skipped). */
  private passPipeline: GPUComputePipeline | null = null;
  private dispatches = 0;
  /**
   * Counts so far (for tests and benchmarks): dispatches, submits, bind groups created, and
   * buffers created (a pool miss or an upload).
   */
  readonly stats = { dispatches: 0, submits: 0, bindGroups: 0, buffers: 0 };
  /** Buffers to destroy once the open batch is submitted. */
  private doomed: GPUBuffer[] = [];
  private depth = 0;
  private flushQueued = false;
  private lostMessage: string | null = null;
  private errorMessage: string | null = null;

  /** `owners`: objects the device must not outlive (in Node, Dawn's instance and adapter). */
  constructor(
    readonly device: GPUDevice,
    readonly adapterName: string,
    /** A CPU (software) adapter such as lavapipe: matmul avoids workgroup barriers there (tests may flip it). */
    public software: boolean,
    /** Whether kernels may use subgroup operations (the device has them; tests may turn them off). */
    public subgroups: boolean,
    readonly owners: readonly unknown[] = [],
  ) {
    this.maxStorage = device.limits.maxStorageBuffersPerShaderStage;
    this.ring = this.rawBuffer(RING_SLOTS * SLOT, GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST);
    this.groups = new BindGroups(device, this.ring, SLOT);
    void device.lost.then((info) => {
      this.lostMessage = `${info.reason}: ${info.message}`;
    });
    device.onuncapturederror = (ev: GPUUncapturedErrorEvent) => {
      this.errorMessage ??= ev.error.message;
    };
  }

  /** Throws a DeviceError if the device was lost or an earlier command failed. */
  check(fn: string): void {
    if (this.lostMessage !== null) {
      throw new DeviceError(`${fn}: the WebGPU device was lost (${this.lostMessage}); call await devices() again after a reload, or run on the cpu`);
    }
    const err = this.errorMessage;
    if (err !== null) {
      this.errorMessage = null;
      throw new DeviceError(`${fn}: an earlier WebGPU command failed: ${err}`);
    }
  }

  private rawBuffer(bytes: number, usage: number, mapped = false): GPUBuffer {
    created++;
    this.stats.buffers++;
    return this.device.createBuffer({ size: bytes, usage, mappedAtCreation: mapped });
  }

  /** A storage buffer of at least `bytes` (from the pool when one fits). */
  alloc(bytes: number): GPUBuffer {
    const size = bucket(bytes);
    const free = this.pool.get(size);
    if (free !== undefined && free.length > 0) {
      this.poolBytes -= size;
      pooled--;
      return free.pop()!;
    }
    return this.rawBuffer(size, GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST);
  }

  /** A fresh storage buffer holding `data` (never from the pool, so no earlier command can see it). */
  allocWith(data: ArrayBufferView): GPUBuffer {
    const buf = this.rawBuffer(bucket(data.byteLength), GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST, true);
    new Uint8Array(buf.getMappedRange()).set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
    buf.unmap();
    return buf;
  }

  /** Returns a buffer no array uses any more to the pool (or destroys it once submitted). */
  release(buf: GPUBuffer): void {
    const size = buf.size;
    if (this.poolBytes + size <= POOL_BYTES && this.lostMessage === null) {
      let free = this.pool.get(size);
      if (free === undefined) this.pool.set(size, (free = []));
      free.push(buf);
      this.poolBytes += size;
      pooled++;
    } else if (this.encoder !== null) this.doomed.push(buf);
    else this.destroy(buf);
  }

  private destroy(buf: GPUBuffer): void {
    created--;
    this.groups.forget(buf);
    buf.destroy();
  }

  /** Empties the pool (tests use this to count only buffers held by arrays). */
  trim(): void {
    this.flush();
    for (const list of this.pool.values()) for (const b of list) this.destroy(b);
    pooled -= [...this.pool.values()].reduce((n, l) => n + l.length, 0);
    this.pool.clear();
    this.poolBytes = 0;
  }

  /** The pipeline of `wgsl` and its layout class (the class's shared layout, not "auto"). */
  pipeline(wgsl: string): { pipeline: GPUComputePipeline; layout: LayoutClass } {
    let p = this.pipelines.get(wgsl);
    if (p === undefined) {
      const layout = this.groups.layoutFor(wgsl);
      const module = this.device.createShaderModule({ code: withHelpersUsed(wgsl) });
      const pipeline = this.device.createComputePipeline({ layout: layout.pipelineLayout, compute: { module, entryPoint: "main" } });
      this.pipelines.set(wgsl, (p = { pipeline, layout }));
    }
    return p;
  }

  /**
   * Runs `fn` (one backend call) into the open batch. The batch is submitted when the calling
   * JavaScript yields: eager ops recorded back to back share one submit.
   */
  batch<T>(fn: () => T): T {
    this.depth++;
    try {
      return fn();
    } finally {
      if (--this.depth === 0 && this.encoder !== null && !this.flushQueued) {
        this.flushQueued = true;
        queueMicrotask(() => {
          this.flushQueued = false;
          this.flush();
        });
      }
    }
  }

  private ensurePass(): GPUComputePassEncoder {
    this.encoder ??= this.device.createCommandEncoder();
    if (this.pass === null) {
      this.pass = this.encoder.beginComputePass();
      this.passPipeline = null;
    }
    return this.pass;
  }

  private endPass(): GPUCommandEncoder {
    this.encoder ??= this.device.createCommandEncoder();
    if (this.pass !== null) {
      this.pass.end();
      this.pass = null;
    }
    return this.encoder;
  }

  /** Reserves a parameter slot and fills it with `params` (u32 words; i32 values are bit-cast). */
  private slot(params: ArrayLike<number>): number {
    if (this.slots === RING_SLOTS) this.flush();
    if (params.length > SLOT / 4) throw new Error(`webgpu: ${params.length} parameter words do not fit a slot`);
    const at = this.slots++;
    const base = (at * SLOT) / 4;
    for (let k = 0; k < params.length; k++) this.ringData[base + k] = params[k]! >>> 0;
    return at * SLOT;
  }

  /**
   * Records a dispatch of `wgsl` with storage `bindings` 0..k-1 and, when `params` is given, the
   * parameter block at binding k. `groups` is the workgroup count (split over x and y past 65535).
   */
  dispatch(wgsl: string, bindings: readonly Binding[], params: ArrayLike<number> | null, groups: number | readonly [number, number, number]): void {
    if (typeof groups === "number" ? groups === 0 : groups.some((g) => g === 0)) return;
    const { pipeline, layout } = this.pipeline(wgsl);
    if (bindings.length !== layout.writes.length || (params !== null) !== layout.params) {
      throw new Error(
        `webgpu: a dispatch gives ${bindings.length} buffers${params !== null ? " and parameters" : ""} to a kernel that declares ${layout.writes.length}${layout.params ? " and parameters" : ""}`,
      );
    }
    const made = this.groups.created;
    const group = this.groups.get(
      layout,
      bindings.map((b) => b.buffer),
      bindings.map((b) => b.bytes),
    );
    this.stats.bindGroups += this.groups.created - made;
    const offset = params !== null ? this.slot(params) : -1;
    const pass = this.ensurePass();
    if (this.passPipeline !== pipeline) {
      pass.setPipeline(pipeline);
      this.passPipeline = pipeline;
    }
    pass.setBindGroup(0, group);
    if (offset >= 0) pass.setBindGroup(1, this.groups.slotGroup(offset));
    if (typeof groups === "number") {
      const x = Math.min(groups, 65535);
      pass.dispatchWorkgroups(x, Math.ceil(groups / x));
    } else pass.dispatchWorkgroups(groups[0], groups[1], groups[2]);
    this.stats.dispatches++;
    if (++this.dispatches >= 2048) this.flush();
  }

  /** Records a buffer-to-buffer copy (e.g. a device scalar into a dispatch's parameter slot). */
  copy(src: GPUBuffer, srcOffset: number, dst: GPUBuffer, dstOffset: number, bytes: number): void {
    this.endPass().copyBufferToBuffer(src, srcOffset, dst, dstOffset, bytes);
  }

  /**
   * Records a dispatch whose parameter block gets words copied from device buffers first:
   * `fromDevice[k]` (a 4-byte scalar buffer, or null) overwrites parameter word k.
   */
  dispatchWithDeviceParams(
    wgsl: string,
    bindings: readonly Binding[],
    params: number[],
    fromDevice: readonly (GPUBuffer | null)[],
    groups: number,
  ): void {
    if (groups === 0) return;
    if (this.slots === RING_SLOTS) this.flush();
    const offset = this.slots * SLOT;
    const enc = this.endPass();
    fromDevice.forEach((b, k) => b !== null && enc.copyBufferToBuffer(b, 0, this.ring, offset + 4 * k, 4));
    this.dispatch(wgsl, bindings, params, groups);
  }

  /** Submits the open batch (writing its parameter slots first) and destroys buffers doomed by it. */
  flush(): void {
    if (this.encoder === null) return;
    this.endPass();
    if (this.slots > 0) this.device.queue.writeBuffer(this.ring, 0, this.ringData.buffer, 0, this.slots * SLOT);
    this.device.queue.submit([this.encoder.finish()]);
    this.stats.submits++;
    this.encoder = null;
    this.slots = 0;
    this.dispatches = 0;
    const doomed = this.doomed;
    this.doomed = [];
    for (const b of doomed) this.destroy(b);
  }

  /** Copies the first `bytes` of `buf` back to the host. */
  async readBuffer(buf: GPUBuffer, bytes: number): Promise<ArrayBuffer> {
    this.flush();
    const size = Math.max(4, Math.ceil(bytes / 4) * 4);
    const staging = this.rawBuffer(size, GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST);
    const enc = this.device.createCommandEncoder();
    enc.copyBufferToBuffer(buf, 0, staging, 0, size);
    this.device.queue.submit([enc.finish()]);
    // Dawn in Node does not hold the event loop open while a map is pending; a timer does.
    const keepAlive = setInterval(() => {}, 1000);
    try {
      await staging.mapAsync(GPUMapMode.READ);
      return staging.getMappedRange(0, size).slice(0, bytes);
    } catch (e) {
      this.check("data");
      throw new DeviceError(`data: reading a webgpu buffer failed: ${(e as Error).message}`);
    } finally {
      clearInterval(keepAlive);
      this.destroy(staging);
    }
  }
}
