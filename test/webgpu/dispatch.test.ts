/**
 * The dispatch path's reuse: eager ops over the same buffers share one bind group (whatever the
 * kernel of their binding class), and no group is kept for a buffer's first use; a buffer released
 * to the pool and reused within one batch keeps every result right; the bind group cache is
 * bounded and drops the groups of destroyed buffers; parameters copied from device scalars land
 * in each dispatch's own slot; a CPU operand holding one value (an eager `x.mul(0.5)` broadcast)
 * is bound as one element, not uploaded; eager broadcasting ops with a device operand run staged, so
 * the device never receives a host array broadcast out in full.
 */
import { describe, expect, it } from "vitest";
import { type NDArray, lax, np } from "../../src/index.js";
import type { GpuArray } from "../../interpreters/webgpu/index.js";
import { MAX_GROUPS, declaredBindings } from "../../interpreters/webgpu/bindings.js";
import { backend, requireAdapterInCI, runGpu, values } from "./setup.js";

const bufferOf = (x: NDArray): GPUBuffer => (x as GpuArray).storage("test").buffer;
const seq = (n: number, f: (i: number) => number) => Float32Array.from({ length: n }, (_, i) => f(i));

describe("declaredBindings", () => {
  it("reads the storage access modes and the parameter block from WGSL", () => {
    const src = `@group(0) @binding(0) var<storage, read> a: array<f32>;
@group(0) @binding(1) var<storage> b: array<f32>;
@group(0) @binding(2) var<storage, read_write> o: array<f32>;
@group(1) @binding(0) var<uniform> P: Params;`;
    expect(declaredBindings(src)).toEqual({ writes: [false, false, true], params: true });
    expect(declaredBindings("@group(0) @binding(0) var<storage, read_write> o: array<u32>;")).toEqual({ writes: [true], params: false });
  });

  it("refuses bindings out of order or a parameter block elsewhere", () => {
    expect(() => declaredBindings("@group(0) @binding(1) var<storage, read> a: array<f32>;")).toThrow(/bindings 0..k-1/);
    expect(() => declaredBindings("@group(0) @binding(0) var<uniform> P: Params;")).toThrow(/group 1 binding 0/);
  });
});

describe.runIf(runGpu)("webgpu dispatch reuse", () => {
  requireAdapterInCI();

  it("eager ops over the same buffers reuse one bind group", async () => {
    const x = np.array(seq(1000, (i) => i / 7)).to("webgpu");
    const y = np.array(seq(1000, (i) => 1 - i / 3)).to("webgpu");
    const ctx = backend(x).ctx;
    // Warm up: pipelines, and one output buffer of this size in the pool, bound once before.
    x.mul(y).dispose();
    x.sub(y).dispose();
    await Promise.resolve();
    const g0 = ctx.stats.bindGroups;
    const a = x.mul(y);
    const buf = bufferOf(a);
    const want = await values(a);
    a.dispose();
    // Another kernel of the same class (two inputs, one output, parameters), same buffers.
    const b = x.sub(y);
    expect(bufferOf(b), "the output comes from the pool").toBe(buf);
    expect(ctx.stats.bindGroups - g0, "groups created by mul then sub over the same buffers").toBe(0);
    expect(want.slice(0, 3)).toEqual([
      0,
      Math.fround(Math.fround(1 / 7) * Math.fround(1 - 1 / 3)),
      Math.fround(Math.fround(2 / 7) * Math.fround(1 - 2 / 3)),
    ]);
    expect((await values(b)).slice(0, 2)).toEqual([-1, Math.fround(Math.fround(1 / 7) - Math.fround(1 - 1 / 3))]);
    // A new buffer set is a new group.
    const c = y.mul(x);
    expect(ctx.stats.bindGroups - g0).toBe(1);
    c.dispose();
    b.dispose();
  });

  it("a buffer released and reused within one batch keeps every result right", async () => {
    const n = 512;
    const x = np.array(seq(n, (i) => i)).to("webgpu");
    const ctx = backend(x).ctx;
    await Promise.resolve();
    const s0 = ctx.stats.submits;
    const a = x.mul(2);
    const aBuf = bufferOf(a);
    const b = a.add(1); // reads a
    a.dispose(); // a's buffer goes back to the pool, with b's dispatch still unsubmitted
    const c = x.mul(3); // its output takes a's buffer: the queue runs b's read first
    expect(bufferOf(c)).toBe(aBuf);
    const d = c.sub(x);
    expect(ctx.stats.submits - s0, "all in one batch").toBe(0);
    expect(await values(b)).toEqual(Array.from({ length: n }, (_, i) => 2 * i + 1));
    expect(await values(c)).toEqual(Array.from({ length: n }, (_, i) => 3 * i));
    expect(await values(d)).toEqual(Array.from({ length: n }, (_, i) => 2 * i));
  });

  it("the bind group cache is bounded, keeps no group of a first-use buffer, and forgets destroyed buffers", async () => {
    const x = np.array(seq(64, (i) => i)).to("webgpu");
    const ctx = backend(x).ctx;
    ctx.trim();
    const kept0 = ctx.groups.size;
    const outs: NDArray[] = [];
    // Each output is a new buffer (all kept alive): their groups are used once, so none is kept.
    for (let i = 0; i < MAX_GROUPS + 100; i++) outs.push(x.neg());
    expect(ctx.groups.size - kept0, "groups kept for first-use buffers").toBe(0);
    // Now every buffer has been bound before: each op below (over outs[i] and one pooled output) is a kept group.
    for (const o of outs) o.neg().dispose();
    expect(ctx.groups.size).toBe(MAX_GROUPS);
    expect(ctx.groups.indexedBuffers).toBeLessThanOrEqual(MAX_GROUPS + 1);
    expect(await values(outs[outs.length - 1]!.neg())).toEqual(Array.from({ length: 64 }, (_, i) => i));
    const bufs = outs.slice(-10).map(bufferOf);
    expect(bufs.every((b) => ctx.groups.binds(b))).toBe(true);
    for (const o of outs) o.dispose();
    ctx.trim(); // destroys the pooled buffers
    expect(
      bufs.some((b) => ctx.groups.binds(b)),
      "groups of destroyed buffers",
    ).toBe(false);
    // The device still works (no group of a destroyed buffer is used).
    expect((await values(x.neg())).slice(0, 3)).toEqual([-0, -1, -2]);
  });

  it("parameters copied from device scalars reach each dispatch of a batch", async () => {
    const x = np.array(seq(16, (i) => i)).to("webgpu");
    const starts = [0, 5, 12, 3, 20, -1].map((s) => np.array(s, { dtype: "int32" }).to("webgpu"));
    await Promise.resolve();
    // One batch, one bind group (x, a pooled output) reused across dispatches with different slots.
    const outs: NDArray[] = [];
    for (const s of starts) outs.push(lax.dynamicSlice(x, [s], [4]));
    const want = [0, 5, 12, 3, 12, 0].map((s) => [s, s + 1, s + 2, s + 3]);
    for (let k = 0; k < outs.length; k++) expect(await values(outs[k]!), `start ${k}`).toEqual(want[k]);
  });

  it("a CPU operand holding one value is bound as one element, not uploaded", async () => {
    const n = 4096;
    const x = np.array(seq(n, (i) => i - 2000)).to("webgpu");
    const ctx = backend(x).ctx;
    x.mul(0.5).dispose();
    await Promise.resolve();
    const b0 = ctx.stats.buffers;
    const y = x.mul(0.5); // 0.5 is broadcast to [4096] on the cpu first
    expect(ctx.stats.buffers - b0, "buffers created: none (the output comes from the pool)").toBe(0);
    expect(await values(y)).toEqual(Array.from({ length: n }, (_, i) => (i - 2000) * 0.5));
    // Bits decide: -0 and 0 differ, so this operand is uploaded whole and each sign is kept.
    const signs = np.array(seq(n, (i) => (i % 2 === 0 ? 0 : -0)));
    const z = await values(np.ones([n]).to("webgpu").mul(signs));
    expect(z.slice(0, 4).map((v) => Object.is(v, -0))).toEqual([false, true, false, true]);
    // NaN payloads all compare equal as bits when they are the same; a uniform NaN array is a splat.
    const nan = await values(x.add(np.full([n], NaN)));
    expect(nan.every(Number.isNaN)).toBe(true);
    // Int32 and bool operands.
    const i = np
      .array(
        Int32Array.from({ length: n }, (_, k) => k),
        { dtype: "int32" },
      )
      .to("webgpu");
    expect((await values(i.mul(np.full([n], 3, "int32")))).slice(0, 3)).toEqual([0, 3, 6]);
    const mask = np.full([n], true);
    expect((await values(np.where(mask, x, x.neg()))).slice(0, 2)).toEqual([-2000, -1999]);
  });

  it("eager broadcasting ops with a device operand never hand the device a broadcast host array", async () => {
    const x = np.array(seq(4096, (i) => i / 4096)).to("webgpu");
    const be = backend(x);
    const original = be.process.bind(be);
    let hostOperands = 0;
    be.process = ((prim, args, params, outs) => {
      hostOperands += args.filter((a) => a.device === "cpu" && a.size > 1).length;
      return original(prim, args, params as never, outs);
    }) as typeof be.process;
    try {
      const y = x
        .mul(0.5)
        .add(
          np
            .array(seq(4096, () => 1))
            .reshape([1, 4096])
            .to("webgpu"),
        )
        .sub(2);
      const z = np.where(x.greater(0.5), x, 0);
      const got = await values(y);
      expect(got[10]).toBe(Math.fround(Math.fround(Math.fround(Math.fround(10 / 4096) * 0.5) + 1) - 2));
      expect((await values(z)).slice(2047, 2050)).toEqual([0, 0, Math.fround(2049 / 4096)]);
    } finally {
      be.process = original;
    }
    expect(hostOperands, "host operands of more than one element").toBe(0);
  });
});
