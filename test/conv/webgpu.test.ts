/**
 * Convolution and pooling on the WebGPU backend. The device kernel against the naive float64
 * convolution of reference.ts over a table of configurations (ranks 1 to 3, strides, signed
 * padding, lhs and rhs dilation, feature and batch groups, output channel counts that do not fill
 * the kernel's 4-channel blocks, reductions longer than one chunk, an empty output), int32 and
 * uint32 exactly, through the kernel the adapter picks and through each kernel (direct; tiled, for GPUs)
 * forced; gradients of a small CNN, vmap and jit on the device equal the CPU; pooling and
 * reduceWindow (and their gradients) run on the device.
 */
import { describe, expect, it } from "vitest";
import { type NDArray, grad, jit, lax, nn, np, vmap } from "../../src/index.js";
import { CONV_CHUNK, type ConvOptions, conv } from "../../interpreters/webgpu/kernels/conv.js";
import { convGeometry } from "../../src/core/conv_geometry.js";
import { type GpuArray, empty } from "../../interpreters/webgpu/array.js";
import { type Host, Rng, build } from "../primitives/cases_util.js";
import { expectSame, requireAdapterInCI, runGpu } from "../webgpu/setup.js";
import { type Config, convRef, opts, refParams } from "./reference.js";

requireAdapterInCI();

const CONFIGS: Config[] = [
  { name: "1d valid", x: [2, 3, 8], w: [4, 3, 3], strides: [1], padding: [[0, 0]] },
  { name: "1d strided, padded, rhs dilation", x: [2, 2, 9], w: [3, 2, 4], strides: [2], padding: [[1, 2]], rhsDilation: [2] },
  {
    name: "2d padded, 5 output channels",
    x: [2, 3, 6, 5],
    w: [5, 3, 3, 3],
    strides: [1, 1],
    padding: [
      [1, 1],
      [1, 1],
    ],
  },
  {
    name: "2d negative padding, strides, rhs dilation",
    x: [1, 2, 7, 7],
    w: [3, 2, 3, 2],
    strides: [2, 3],
    padding: [
      [2, -1],
      [-1, 3],
    ],
    rhsDilation: [2, 1],
  },
  {
    name: "2d lhs dilation (transposed conv)",
    x: [1, 2, 4, 3],
    w: [2, 2, 3, 3],
    strides: [1, 1],
    padding: [
      [2, 2],
      [1, 2],
    ],
    lhsDilation: [2, 3],
  },
  {
    name: "2d lhs and rhs dilation, strides, negative padding",
    x: [2, 3, 5, 4],
    w: [4, 3, 2, 3],
    strides: [2, 1],
    padding: [
      [-1, 1],
      [2, 0],
    ],
    lhsDilation: [3, 2],
    rhsDilation: [1, 2],
  },
  {
    name: "2d feature groups",
    x: [2, 4, 5, 5],
    w: [6, 2, 3, 3],
    strides: [1, 2],
    padding: [
      [1, 1],
      [1, 1],
    ],
    featureGroupCount: 2,
  },
  {
    name: "2d depthwise",
    x: [1, 6, 5, 5],
    w: [6, 1, 3, 3],
    strides: [1, 1],
    padding: [
      [1, 1],
      [1, 1],
    ],
    featureGroupCount: 6,
  },
  {
    name: "2d batch groups",
    x: [4, 3, 5, 4],
    w: [4, 3, 2, 2],
    strides: [1, 1],
    padding: [
      [0, 0],
      [0, 0],
    ],
    batchGroupCount: 2,
  },
  {
    name: "2d three batch groups",
    x: [6, 2, 4, 4],
    w: [6, 2, 3, 3],
    strides: [1, 1],
    padding: [
      [1, 0],
      [0, 1],
    ],
    batchGroupCount: 3,
  },
  {
    name: "3d",
    x: [1, 2, 4, 5, 3],
    w: [2, 2, 2, 3, 2],
    strides: [1, 2, 1],
    padding: [
      [0, 1],
      [1, 1],
      [1, 0],
    ],
    rhsDilation: [1, 1, 2],
  },
  {
    name: "3d transposed",
    x: [1, 2, 3, 3, 2],
    w: [3, 2, 2, 2, 2],
    strides: [1, 1, 1],
    padding: [
      [1, 1],
      [1, 1],
      [1, 1],
    ],
    lhsDilation: [2, 2, 2],
  },
  {
    name: "empty output (window wider than the input)",
    x: [1, 1, 2, 2],
    w: [2, 1, 3, 3],
    strides: [1, 1],
    padding: [
      [0, 0],
      [0, 0],
    ],
  },
  {
    name: "2d, 70 output channels over 90 positions (several 64x64 tiles)",
    x: [2, 6, 9, 10],
    w: [70, 6, 3, 3],
    strides: [1, 1],
    padding: [
      [1, 1],
      [1, 1],
    ],
  },
  {
    name: "2d feature groups of 32 channels, strided, dilated",
    x: [1, 8, 12, 12],
    w: [64, 4, 3, 3],
    strides: [1, 2],
    padding: [
      [2, 1],
      [0, 2],
    ],
    rhsDilation: [2, 1],
    lhsDilation: [1, 2],
    featureGroupCount: 2,
  },
  {
    name: "reduction of 4500 terms (two chunks)",
    x: [1, 500, 4, 4],
    w: [3, 500, 3, 3],
    strides: [1, 1],
    padding: [
      [1, 1],
      [1, 1],
    ],
  },
  {
    name: "kernel-gradient shape: 16,384 terms (four chunks)",
    x: [1, 4, 64, 64],
    w: [2, 4, 64, 64],
    strides: [1, 1],
    padding: [
      [0, 0],
      [0, 0],
    ],
  },
];

/** Uniform values already rounded to float32, so the float64 reference sees what the device sees. */
const rand = (rng: Rng, shape: number[]): Host => build(shape, () => Math.fround(rng.uniform(-1, 1)));
const ints = (rng: Rng, shape: number[]): Host => build(shape, () => Math.floor(rng.uniform(-4, 5)));
const uints = (rng: Rng, shape: number[]): Host => build(shape, () => Math.floor(rng.uniform(0, 9)));
const dev = (h: Host, dtype: "float32" | "int32" | "uint32" = "float32") => np.array(h.data, { dtype }).reshape(h.shape).to("webgpu");
const terms = (c: Config) => c.w.slice(1).reduce((a, b) => a * b, 1);

/** got within float32 rounding of a sum of `n` terms of magnitude at most 1 (exact when tol is 0). */
async function closeTo(got: NDArray, want: Host, tol: number): Promise<void> {
  expect(got.device).toBe("webgpu");
  expect(got.shape).toEqual(want.shape);
  const g = Array.from(await got.data(), Number);
  g.forEach((v, i) => {
    if (!(Math.abs(v - want.data[i]!) <= tol)) expect.fail(`element ${i}: ${v} on webgpu, ${want.data[i]} by the reference (tolerance ${tol})`);
  });
}

/** Runs the device kernel itself on c's operands with its test hooks. */
function runKernel(c: Config, x: Host, w: Host, want: Host, dtype: "float32" | "int32" | "uint32", options: ConvOptions): GpuArray {
  const lhs = dev(x, dtype) as GpuArray,
    rhs = dev(w, dtype) as GpuArray;
  const out = empty(lhs.backend, { shape: want.shape, dtype });
  conv(lhs, rhs, out, convGeometry(lhs, rhs, out, refParams(c)), options);
  return out;
}

describe.runIf(runGpu)("conv_general_dilated on webgpu", () => {
  for (const c of CONFIGS) {
    it(`${c.name}: float32 matches the naive float64 convolution, int32 and uint32 exactly (both kernels)`, async () => {
      const rng = new Rng(c.name.length * 7919);
      const x = rand(rng, c.x),
        w = rand(rng, c.w);
      const want = convRef(x, w, refParams(c)),
        tol = 4e-7 * terms(c) ** 0.5 * 8;
      await closeTo(lax.convGeneralDilated(dev(x), dev(w), c.strides, c.padding, opts(c)), want, tol);
      const xi = ints(rng, c.x),
        wi = ints(rng, c.w);
      const wantI = convRef(xi, wi, refParams(c));
      const gi = lax.convGeneralDilated(dev(xi, "int32"), dev(wi, "int32"), c.strides, c.padding, opts(c));
      expect(gi.dtype).toBe("int32");
      await closeTo(gi, wantI, 0);
      const xu = uints(rng, c.x),
        wu = uints(rng, c.w);
      const wantU = convRef(xu, wu, refParams(c));
      const gu = lax.convGeneralDilated(dev(xu, "uint32"), dev(wu, "uint32"), c.strides, c.padding, opts(c));
      expect(gu.dtype).toBe("uint32");
      await closeTo(gu, wantU, 0);
      for (const tiled of [false, true]) {
        await closeTo(runKernel(c, x, w, want, "float32", { tiled }), want, tol);
        await closeTo(runKernel(c, xi, wi, wantI, "int32", { tiled }), wantI, 0);
        await closeTo(runKernel(c, xu, wu, wantU, "uint32", { tiled }), wantU, 0);
      }
    });
  }

  for (const tiled of [false, true])
    it(`a reduction of more chunks than the scratch buffer holds is summed over several rounds (${tiled ? "tiled" : "direct"} kernel)`, async () => {
      // lhs [2, 5, 66, 66], rhs [3, 5, 64, 64]: 20,480 terms (5 chunks or more), 54 outputs, 2 chunks a round.
      const c: Config = {
        name: "",
        x: [2, 5, 66, 66],
        w: [3, 5, 64, 64],
        strides: [1, 1],
        padding: [
          [0, 0],
          [0, 0],
        ],
      };
      expect(Math.ceil(terms(c) / CONV_CHUNK)).toBe(5);
      const rng = new Rng(3);
      const x = rand(rng, c.x),
        w = rand(rng, c.w);
      const want = convRef(x, w, refParams(c));
      await closeTo(runKernel(c, x, w, want, "float32", { tiled, scratch: 2 * 54 }), want, 4e-7 * terms(c) ** 0.5 * 8);
    });

  // Two conv layers (the second with feature groups and stride 2), max pooling, a dense layer.
  const cnn = (p: { w1: NDArray; w2: NDArray; d: NDArray }, x: NDArray) => {
    const h1 = np.tanh(lax.convGeneralDilated(x, p.w1, [1, 1], "SAME"));
    const h2 = nn.relu(lax.convGeneralDilated(h1, p.w2, [2, 2], "VALID", { featureGroupCount: 2 }));
    const pooled = lax.reduceWindow(h2, -Infinity, np.maximum, [1, 1, 2, 2], [1, 1, 1, 1], "VALID");
    const logits = np.matmul(pooled.reshape([x.shape[0]!, -1]), p.d);
    return np.mean(np.square(logits.sub(1)));
  };
  const rng = new Rng(17);
  const host = (shape: number[]) => np.array(rand(rng, shape).data, { dtype: "float32" }).reshape(shape);
  const params = { w1: host([4, 2, 3, 3]), w2: host([6, 2, 3, 3]), d: host([6 * 3 * 3, 3]) };
  const xs = host([3, 2, 9, 9]);

  it("the gradient of a small CNN's loss on the device equals the cpu's (eager and jitted)", async () => {
    const g = grad(cnn);
    const want = g(params, xs);
    // Moved inside the test: a skipped suite's body still runs when vitest collects it.
    const onDev = { w1: params.w1.to("webgpu"), w2: params.w2.to("webgpu"), d: params.d.to("webgpu") };
    const eager = g(onDev, xs.to("webgpu"));
    const jitted = jit(g, { device: "webgpu" })(params, xs);
    for (const k of ["w1", "w2", "d"] as const) {
      await expectSame(`eager ${k}`, eager[k], want[k], 1e-4, 1e-6);
      await expectSame(`jit ${k}`, jitted[k], want[k], 1e-4, 1e-6);
    }
  });

  it("jit on the device equals eager on the device, and vmap on the device equals the cpu", async () => {
    const f = (x: NDArray, w: NDArray) =>
      lax.convGeneralDilated(
        x,
        w,
        [2, 1],
        [
          [1, 0],
          [-1, 2],
        ],
        { rhsDilation: [1, 2], lhsDilation: [1, 2] },
      );
    const x = host([2, 3, 7, 6]),
      w = host([4, 3, 2, 3]);
    await expectSame("jit", jit(f, { device: "webgpu" })(x, w), f(x.to("webgpu"), w.to("webgpu")));
    const xb = host([3, 2, 3, 7, 6]),
      wb = host([3, 4, 3, 2, 3]);
    for (const inAxes of [
      [0, 0],
      [0, null],
      [null, 0],
    ] as const) {
      const a = inAxes[0] === null ? x : xb,
        b = inAxes[1] === null ? w : wb;
      const want = vmap(f, { inAxes: [...inAxes] })(a, b);
      const got = vmap(f, { inAxes: [...inAxes] })(a.to("webgpu"), b.to("webgpu"));
      await expectSame(`vmap ${JSON.stringify(inAxes)}`, got, want);
    }
  });

  it("nn.conv and nn.convTranspose (channels last) and their gradients run on the device", async () => {
    const x = host([2, 6, 6, 3]),
      k = host([3, 3, 3, 4]),
      kt = host([3, 3, 4, 3]);
    const f = (x: NDArray, k: NDArray, kt: NDArray) => np.sum(np.sin(nn.convTranspose(nn.conv(x, k, { strides: 2 }), kt, { strides: 2 })));
    const want = grad(f, { argnums: [0, 1, 2] })(x, k, kt) as NDArray[];
    const got = grad(f, { argnums: [0, 1, 2] })(x.to("webgpu"), k.to("webgpu"), kt.to("webgpu")) as NDArray[];
    for (let i = 0; i < 3; i++) await expectSame(`grad ${i}`, got[i]!, want[i]!, 1e-4, 1e-6);
  });
});

describe.runIf(runGpu)("pooling on webgpu", () => {
  it("nn.maxPool, nn.avgPool and lax.reduceWindow agree with the cpu, values and gradients", async () => {
    const rng = new Rng(21);
    const x = np.array(rand(rng, [2, 7, 6, 3]).data, { dtype: "float32" }).reshape([2, 7, 6, 3]);
    const gx = x.to("webgpu");
    const pools: [string, (x: NDArray) => NDArray][] = [
      ["maxPool", (x) => nn.maxPool(x, [2, 2], { strides: [2, 2] })],
      ["avgPool SAME", (x) => nn.avgPool(x, [3, 3], { padding: "SAME" })],
      [
        "reduceWindow sum, strided, padded, dilated",
        (x) =>
          lax.reduceWindow(
            x,
            0,
            np.add,
            [1, 2, 2, 1],
            [1, 2, 1, 1],
            [
              [0, 0],
              [1, 2],
              [0, 1],
              [0, 0],
            ],
            { windowDilation: [1, 2, 1, 1] },
          ),
      ],
      ["reduceWindow min", (x) => lax.reduceWindow(x, Infinity, np.minimum, [1, 3, 1, 2], [1, 1, 2, 1], "SAME")],
    ];
    for (const [name, f] of pools) {
      const got = f(gx);
      expect(got.device).toBe("webgpu");
      await expectSame(name, got, f(x));
      const loss = (x: NDArray) => np.sum(np.sin(f(x)));
      await expectSame(`grad ${name}`, grad(loss)(gx), grad(loss)(x), 1e-4, 1e-6);
    }
  });
});
