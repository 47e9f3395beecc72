/**
 * Device memory and the device-array contract: 1,000 jitted training steps hold a flat count of
 * live device buffers; dispose() is idempotent and a disposed array is a typed error; float64 is
 * a typed error; dataSync on a device array names `await x.data()`; a failed command and a lost
 * device surface as DeviceErrors; eager ops and jit programs are batched into one submit and fuses an elementwise
 * chain into one kernel.
 */
import { describe, expect, it } from "vitest";
import { DTypeError, DeviceError, type NDArray, jit, np, valueAndGrad } from "../../src/index.js";
import { type WebGpuBackend, initWebGPU, liveBuffers } from "../../interpreters/webgpu/index.js";
import type { ConcreteArray } from "../../src/core/ndarray.js";
import { Rng } from "../primitives/cases_util.js";
import { backend, collect, expectSame, requireAdapterInCI, runGpu } from "./setup.js";

const rand = (rng: Rng, shape: number[], lo = -1, hi = 1) =>
  np.array(
    Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => rng.uniform(lo, hi)),
    { shape },
  );

type Params = { w1: NDArray; b1: NDArray; w2: NDArray; b2: NDArray };

const loss = (p: Params, x: NDArray, y: NDArray) => {
  const h = np.tanh(np.matmul(x, p.w1).add(p.b1));
  return np.mean(np.square(np.matmul(h, p.w2).add(p.b2).sub(y)));
};

const sgd = (p: Params, x: NDArray, y: NDArray): [NDArray, Params] => {
  const [l, g] = valueAndGrad(loss)(p, x, y) as [NDArray, Params];
  return [l, { w1: p.w1.sub(g.w1.mul(0.05)), b1: p.b1.sub(g.b1.mul(0.05)), w2: p.w2.sub(g.w2.mul(0.05)), b2: p.b2.sub(g.b2.mul(0.05)) }];
};

describe.runIf(runGpu)("webgpu memory and errors", () => {
  requireAdapterInCI();

  it("1,000 training steps hold a flat count of live device buffers, and train like the cpu", async () => {
    const rng = new Rng(11);
    const init: Params = {
      w1: rand(rng, [4, 16], -0.5, 0.5),
      b1: rand(rng, [16], -0.1, 0.1),
      w2: rand(rng, [16, 2], -0.5, 0.5),
      b2: rand(rng, [2], -0.1, 0.1),
    };
    const x = rand(rng, [64, 4]);
    const y = np.stack(
      [np.sin(x.take(np.array([0], { dtype: "int32" }), 1).reshape([64])), np.cos(x.take(np.array([1], { dtype: "int32" }), 1).reshape([64]))],
      1,
    );
    const stepGpu = jit(sgd, { device: "webgpu" });
    const stepCpu = jit(sgd);
    let p: Params = init,
      q: Params = init;
    let lGpu: NDArray = np.zeros([]),
      lCpu: NDArray = np.zeros([]);
    const counts: number[] = [];
    for (let t = 1; t <= 1000; t++) {
      [lGpu, p] = stepGpu(p, x, y);
      [lCpu, q] = stepCpu(q, x, y);
      if (t === 100 || t === 500 || t === 1000) {
        await lGpu.data();
        await collect();
        counts.push(liveBuffers());
      }
    }
    expect(counts[2]!, `live buffers after 100, 500, 1000 steps: ${counts}`).toBeLessThanOrEqual(counts[0]! + 4);
    expect(counts[1]!, `live buffers after 100, 500, 1000 steps: ${counts}`).toBeLessThanOrEqual(counts[0]! + 4);
    expect((await lGpu.data())[0]!).toBeLessThan((await loss(init, x, y).data())[0]!);
    await expectSame("loss after 1000 steps", lGpu, lCpu, 1e-3);
    await expectSame("w2 after 1000 steps", p.w2, q.w2, 1e-3);
  });

  it("dispose frees a buffer now, is idempotent, and a disposed array is a DeviceError", async () => {
    const x = np.ones([1000]).to("webgpu");
    const y = x.mul(2);
    await y.data();
    backend(y).trim();
    const before = liveBuffers();
    y.dispose();
    y.dispose();
    backend(x).trim();
    expect(liveBuffers()).toBe(before - 1);
    expect(() => y.add(1)).toThrow(DeviceError);
    expect(() => y.add(1)).toThrow(/disposed/);
    await expect(y.data()).rejects.toThrow(DeviceError);
    // A reshape shares the buffer: disposing one view leaves the other readable.
    const r = x.reshape([10, 100]);
    x.dispose();
    expect((await r.data()).length).toBe(1000);
  });

  it("dispose of an uploaded array frees its buffer at once, cached upload included", async () => {
    const x = np.ones([1000]);
    const g = x.to("webgpu");
    await g.data();
    backend(g).trim();
    const before = liveBuffers();
    g.dispose();
    backend(g).trim();
    expect(liveBuffers()).toBe(before - 1);
    // The CPU array uploads afresh on its next use.
    expect(Array.from(await x.to("webgpu").mul(2).data())).toEqual(new Array(1000).fill(2));
  });

  it("float64 is a typed error naming the op and suggesting float32", () => {
    expect(() => np.array([1, 2], { dtype: "float64" }).to("webgpu")).toThrow(DTypeError);
    expect(() => np.array([1, 2], { dtype: "float64" }).to("webgpu")).toThrow(/float32/);
    const x = np.ones([2]).to("webgpu");
    expect(() => x.astype("float64")).toThrow(/convert_element_type.*float64|float64.*convert_element_type/);
    expect(() => x.add(np.array([1, 2], { dtype: "float64" }))).toThrow(DTypeError);
  });

  it("dataSync and item on a device array are DeviceErrors that point to await x.data()", async () => {
    const x = np.ones([3]).to("webgpu");
    expect(() => x.dataSync()).toThrow(DeviceError);
    expect(() => x.dataSync()).toThrow(/await x\.data\(\)/);
    expect(() => x.sum().item()).toThrow(/await x\.data\(\)/);
    expect(Array.from(await x.data())).toEqual([1, 1, 1]);
    const back = await x.toAsync("cpu");
    expect(back.device).toBe("cpu");
    expect(Array.from(back.dataSync())).toEqual([1, 1, 1]);
  });

  it("bool and int32 arrays round-trip and compute on the device", async () => {
    const b = np.array([1, 0, 1], { dtype: "bool" }).to("webgpu");
    const i = np.array([3, -4, 5], { dtype: "int32" }).to("webgpu");
    expect(Array.from(await b.data())).toEqual([1, 0, 1]);
    expect((await b.data()) instanceof Uint8Array).toBe(true);
    expect(Array.from(await np.where(b, i, i.neg()).data())).toEqual([3, 4, 5]);
    expect(Array.from(await i.mul(2147483647).data())).toEqual(Array.from(np.array([3, -4, 5], { dtype: "int32" }).mul(2147483647).dataSync()));
  });

  it("eager ops recorded back to back share one submit, made when the caller yields", async () => {
    const x = np.ones([256]).to("webgpu");
    await x.data();
    const stats = backend(x).ctx.stats;
    const d0 = stats.dispatches,
      s0 = stats.submits;
    let y = x;
    for (let i = 0; i < 10; i++) y = i % 2 === 0 ? y.mul(0.5) : y.add(1);
    expect(stats.dispatches - d0).toBe(10);
    expect(stats.submits - s0).toBe(0);
    await Promise.resolve();
    expect(stats.submits - s0).toBe(1);
    let want = 1;
    for (let i = 0; i < 10; i++) want = i % 2 === 0 ? want * 0.5 : want + 1;
    expect(Array.from(await y.data())).toEqual(new Array(256).fill(want));
  });

  it("jit records a program as one submit and fuses an elementwise chain into one kernel", async () => {
    const x = np.ones([4096]).to("webgpu");
    const v = np.ones([64]).to("webgpu");
    const f = jit((x: NDArray, v: NDArray) => np.tanh(np.sin(x.mul(3).add(1)).mul(x).reshape([64, 64]).add(v)).sub(0.5), { device: "webgpu" });
    await f(x, v).data();
    const stats = backend(x).ctx.stats;
    const d0 = stats.dispatches,
      s0 = stats.submits;
    const out = f(x, v);
    expect(stats.dispatches - d0, "dispatches of the fused program").toBe(1);
    expect(stats.submits - s0, "nothing submitted before the caller yields").toBe(0);
    await Promise.resolve();
    expect(stats.submits - s0, "submits of one call").toBe(1);
    await expectSame(
      "fused",
      out,
      np
        .tanh(
          np
            .sin(np.ones([4096]).mul(3).add(1))
            .reshape([64, 64])
            .add(np.ones([64])),
        )
        .sub(0.5),
    );
  });

  it("a failed command and a lost device surface as DeviceErrors on the next call", async () => {
    // A second device, so that breaking it leaves the shared one alone.
    const be = (await initWebGPU()) as WebGpuBackend;
    const x = be.upload(np.array([1, 2, 3], { dtype: "float32" }) as ConcreteArray);
    be.ctx.dispatch("this is not WGSL", [], null, 1);
    be.ctx.flush();
    let caught: unknown = null;
    for (let k = 0; k < 100 && caught === null; k++) {
      await new Promise((r) => setTimeout(r, 10));
      try {
        x.add(1);
      } catch (e) {
        caught = e;
      }
    }
    expect(caught).toBeInstanceOf(DeviceError);
    expect((caught as Error).message).toMatch(/earlier WebGPU command failed/);
    // The error is reported once; the device still works.
    expect(Array.from(await x.mul(2).data())).toEqual([2, 4, 6]);
    be.ctx.device.destroy();
    await be.ctx.device.lost;
    expect(() => x.add(1)).toThrow(DeviceError);
    expect(() => x.add(1)).toThrow(/lost/);
  });
});
