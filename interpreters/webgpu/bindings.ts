/**
 * Bind group layouts and the bind group cache. Every kernel binds storage buffers 0..k-1 of group 0
 * (each read-only or read-write) and, optionally, its parameter block as group 1, so its layout is
 * one of a few shape classes; pipelines of one class share one explicit layout (a `layout: "auto"`
 * layout belongs to its pipeline alone, so groups made for it fit no other pipeline). Group 0 names
 * only storage buffers and their bound sizes, so eager ops over the same buffers, whatever the
 * kernel of their class, reuse one group: creating a group is the dearest call of a dispatch (about
 * 30 µs in Dawn on lavapipe, against 3 µs to record the dispatch). Group 1 is one window of the
 * uniform parameter ring per slot, made once. (A dynamic offset into the ring, in group 0, would
 * need no second group, but lavapipe runs such dispatches some 20 µs slower each.)
 */

/** The shape class of a kernel's bindings. */
export interface LayoutClass {
  /** Dense index of the class (part of the bind group keys). */
  readonly id: number;
  readonly bindGroupLayout: GPUBindGroupLayout;
  readonly pipelineLayout: GPUPipelineLayout;
  /** Per storage binding, whether the shader writes it (WGSL `read_write`). */
  readonly writes: readonly boolean[];
  /** Whether the kernel reads a parameter block (group 1). */
  readonly params: boolean;
}

const DECL = /@group\((\d+)\)\s*@binding\((\d+)\)\s*var<\s*(uniform|storage\s*,\s*read_write|storage\s*,\s*read|storage)\s*>/g;

/**
 * The binding shape a generated WGSL source declares: storage bindings 0..k-1 of group 0 in order,
 * and at most one uniform, the parameter block, at group 1 binding 0. Reading the declarations
 * keeps the explicit layout in step with the shader (Dawn rejects a pipeline whose `read` /
 * `read_write` access differs from the layout's buffer type).
 */
export function declaredBindings(wgsl: string): { writes: boolean[]; params: boolean } {
  const writes: boolean[] = [];
  let params = false;
  for (const m of wgsl.matchAll(DECL)) {
    const group = Number(m[1]),
      binding = Number(m[2]);
    const kind = m[3]!.replace(/\s+/g, "");
    if (kind === "uniform") {
      if (params || group !== 1 || binding !== 0)
        throw new Error(`webgpu: a kernel's parameter block must be group 1 binding 0, got group ${group} binding ${binding}`);
      params = true;
    } else {
      if (group !== 0 || binding !== writes.length)
        throw new Error(`webgpu: a kernel's storage bindings must be group 0 bindings 0..k-1, got group ${group} binding ${binding}`);
      // `var<storage>` without an access mode is read-only in WGSL.
      writes.push(kind === "storage,read_write");
    }
  }
  return { writes, params };
}

const classKey = (writes: readonly boolean[], params: boolean): string => writes.map((w) => (w ? "w" : "r")).join("") + (params ? "+p" : "");

/** Most bind groups kept; past this the least recently used one is dropped. */
export const MAX_GROUPS = 2048;

interface Entry {
  readonly group: GPUBindGroup;
  readonly buffers: readonly GPUBuffer[];
}

/**
 * The layout classes of one device and the bind groups made for them, keyed by (class, buffers,
 * bound sizes). A group holds its buffers, so one whose buffer is destroyed is dropped (`forget`),
 * and at most MAX_GROUPS are kept.
 */
export class BindGroups {
  private readonly classes = new Map<string, LayoutClass>();
  private readonly paramsLayout: GPUBindGroupLayout;
  /** Group 1 for each parameter slot of the ring, made on first use. */
  private readonly slotGroups: (GPUBindGroup | undefined)[] = [];
  private readonly groups = new Map<string, Entry>();
  /** The keys of the groups that bind each buffer. */
  private readonly keysOf = new Map<GPUBuffer, Set<string>>();
  /** Small ids of the buffers seen, for the keys (a plain map: `forget` drops a destroyed buffer's). */
  private readonly ids = new Map<GPUBuffer, number>();
  private nextId = 0;
  /** Storage (group 0) groups created, for tests and benchmarks (the slot groups are at most one per slot). */
  created = 0;

  constructor(
    private readonly device: GPUDevice,
    /** The uniform ring of parameter slots. */
    private readonly ring: GPUBuffer,
    /** Bytes of one parameter slot. */
    private readonly slot: number,
  ) {
    this.paramsLayout = device.createBindGroupLayout({
      label: "fluxion params",
      entries: [{ binding: 0, visibility: GPUShaderStage.COMPUTE, buffer: { type: "uniform", minBindingSize: slot } }],
    });
  }

  /** The shared layout for the binding shape `wgsl` declares. */
  layoutFor(wgsl: string): LayoutClass {
    const { writes, params } = declaredBindings(wgsl);
    const key = classKey(writes, params);
    let c = this.classes.get(key);
    if (c === undefined) {
      const entries: GPUBindGroupLayoutEntry[] = writes.map((w, i) => ({
        binding: i,
        visibility: GPUShaderStage.COMPUTE,
        buffer: { type: w ? "storage" : "read-only-storage" },
      }));
      const bindGroupLayout = this.device.createBindGroupLayout({ label: `fluxion ${key}`, entries });
      const pipelineLayout = this.device.createPipelineLayout({
        bindGroupLayouts: params ? [bindGroupLayout, this.paramsLayout] : [bindGroupLayout],
      });
      c = { id: this.classes.size, bindGroupLayout, pipelineLayout, writes, params };
      this.classes.set(key, c);
    }
    return c;
  }

  /** The id of `buf`, or -1 (and an id for next time) when no dispatch has bound it yet. */
  private idOf(buf: GPUBuffer): number {
    const id = this.ids.get(buf);
    if (id !== undefined) return id;
    this.ids.set(buf, this.nextId++);
    return -1;
  }

  /** Bound sizes are at least 4 bytes (an empty array still binds one word). */
  static size(bytes: number): number {
    return Math.max(4, bytes);
  }

  /** Group 1 for the parameter slot at byte `offset` of the ring. */
  slotGroup(offset: number): GPUBindGroup {
    const k = offset / this.slot;
    let g = this.slotGroups[k];
    if (g === undefined) {
      g = this.device.createBindGroup({
        layout: this.paramsLayout,
        entries: [{ binding: 0, resource: { buffer: this.ring, offset, size: this.slot } }],
      });
      this.slotGroups[k] = g;
    }
    return g;
  }

  /** Group 0 binding `buffers` with `sizes` bytes each. */
  get(c: LayoutClass, buffers: readonly GPUBuffer[], sizes: readonly number[]): GPUBindGroup {
    let key = `${c.id}`;
    let fresh = false;
    for (let i = 0; i < buffers.length; i++) {
      const id = this.idOf(buffers[i]!);
      fresh ||= id < 0;
      key += `|${id}:${BindGroups.size(sizes[i]!)}`;
    }
    if (fresh) {
      // A buffer bound for the first time (most often a new output in an eager loop that never
      // disposes): its group is used once and not kept, since keeping groups that are never used
      // again costs more (some 20 µs an op on lavapipe) than it saves. It is kept from the
      // buffer's second use (from the pool) on.
      return this.make(c, buffers, sizes);
    }
    const hit = this.groups.get(key);
    if (hit !== undefined) {
      // Re-insert: the map's order is least recently used first.
      this.groups.delete(key);
      this.groups.set(key, hit);
      return hit.group;
    }
    const group = this.make(c, buffers, sizes);
    this.groups.set(key, { group, buffers });
    for (const b of buffers) {
      let keys = this.keysOf.get(b);
      if (keys === undefined) this.keysOf.set(b, (keys = new Set()));
      keys.add(key);
    }
    if (this.groups.size > MAX_GROUPS) this.drop(this.groups.keys().next().value!);
    return group;
  }

  private make(c: LayoutClass, buffers: readonly GPUBuffer[], sizes: readonly number[]): GPUBindGroup {
    this.created++;
    const entries: GPUBindGroupEntry[] = buffers.map((buffer, i) => ({
      binding: i,
      resource: { buffer, offset: 0, size: BindGroups.size(sizes[i]!) },
    }));
    return this.device.createBindGroup({ layout: c.bindGroupLayout, entries });
  }

  private drop(key: string): void {
    const e = this.groups.get(key);
    if (e === undefined) return;
    this.groups.delete(key);
    for (const b of e.buffers) {
      const keys = this.keysOf.get(b);
      if (keys === undefined) continue;
      keys.delete(key);
      if (keys.size === 0) this.keysOf.delete(b);
    }
  }

  /** Drops every group that binds `buf` (before it is destroyed: a group must not outlive its buffers). */
  forget(buf: GPUBuffer): void {
    this.ids.delete(buf);
    const keys = this.keysOf.get(buf);
    if (keys === undefined) return;
    for (const k of [...keys]) this.drop(k);
    this.keysOf.delete(buf);
  }

  /** Groups kept now. */
  get size(): number {
    return this.groups.size;
  }

  /** Buffers some kept group binds (the index must not grow past the groups it serves). */
  get indexedBuffers(): number {
    return this.keysOf.size;
  }

  /** Whether some kept group binds `buf`. */
  binds(buf: GPUBuffer): boolean {
    return this.keysOf.has(buf);
  }
}
