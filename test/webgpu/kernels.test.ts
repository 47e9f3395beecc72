/**
 * The device kernels at their edges, against the CPU: the three matmul kernels (tiled with workgroup
 * memory for GPUs, barrier-free for software adapters) over ragged, batched and transposed shapes;
 * tree and sequential reductions, arg-reductions with ties and NaN, empty reductions; copies of
 * rank > 8; float corner cases (NaN, ±0, overflow, int wrapping); fused kernels past the binding
 * limit; clamped dynamic slices; scatter_add with repeated indices; launches past 65535 workgroups; contractions longer than
 * one dispatch's K chunk.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type NDArray, Prim, bind1, jit, np } from "../../src/index.js";
import { Rng } from "../primitives/cases_util.js";
import { backend, expectSame, requireAdapterInCI, runGpu, values } from "./setup.js";

const rand = (rng: Rng, shape: number[], lo = -1, hi = 1) =>
  np.array(
    Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => rng.uniform(lo, hi)),
    { shape },
  );
const gpu = (x: NDArray) => x.to("webgpu");
const f32 = (xs: number[]) => np.array(xs, { dtype: "float32" });

describe.runIf(runGpu)("webgpu kernels", () => {
  requireAdapterInCI();
  const dot = (l: NDArray, r: NDArray, contract: [number[], number[]], batch: [number[], number[]] = [[], []]) =>
    bind1(Prim.DotGeneral, [l, r], { contract, batch });

  // The GPU kernels (64x64 tiles, and 128x128 double-buffered tiles, which the device picks for
  // large products only and these tests force) and the software adapters' barrier-free kernel.
  for (const kernel of ["tiled", "large-tile", "barrier-free"] as const) {
    describe(`${kernel} matmul`, () => {
      let saved: { software: boolean; largeTileMin: number } | null = null;
      const use = () => {
        const ctx = backend(np.ones([1]).to("webgpu")).ctx;
        saved ??= { software: ctx.software, largeTileMin: ctx.largeTileMin };
        ctx.software = kernel === "barrier-free";
        ctx.largeTileMin = kernel === "large-tile" ? 1 : Infinity;
      };
      afterAll(() => {
        if (saved !== null) Object.assign(backend(np.ones([1]).to("webgpu")).ctx, saved);
      });
      const cases: [string, number[], number[], [number[], number[]], [number[], number[]]][] = [
        ["1x1 . 1x1", [1, 1], [1, 1], [[1], [0]], [[], []]],
        ["65x17 . 17x130", [65, 17], [17, 130], [[1], [0]], [[], []]],
        ["130x70 . (90x70)^T (strided rhs)", [130, 70], [90, 70], [[1], [1]], [[], []]],
        ["(33x64)^T . 33x20 (strided lhs)", [33, 64], [33, 20], [[0], [0]], [[], []]],
        ["batched 3x70x33 . 3x33x5", [3, 70, 33], [3, 33, 5], [[2], [1]], [[0], [0]]],
        [
          "batch last, two contracting dims (needs a permute)",
          [4, 3, 5, 2],
          [3, 2, 6, 4],
          [
            [1, 3],
            [0, 1],
          ],
          [[0], [3]],
        ],
        [
          "contracting dims in swapped order",
          [2, 3, 4],
          [4, 3, 5],
          [
            [1, 2],
            [1, 0],
          ],
          [[], []],
        ],
        ["empty contraction", [3, 0], [0, 4], [[1], [0]], [[], []]],
        // Eight or more 64x64 tiles: the barrier-free kernel's 16x16 workgroups (fewer take 8x8).
        ["ragged 200x150 . 150x270 (many tiles)", [200, 150], [150, 270], [[1], [0]], [[], []]],
        ["batched 9x33x20 . 9x20x40 (one tile per entry)", [9, 33, 20], [9, 20, 40], [[2], [1]], [[0], [0]]],
        ["matvec 200x150 . 150", [200, 150], [150], [[1], [0]], [[], []]],
        // K past K_CHUNK: three dispatches, the last one ragged (split-K keeps shader loops short).
        ["long K: 3x9000 . 9000x5 (split into chunks)", [3, 9000], [9000, 5], [[1], [0]], [[], []]],
        ["long K, batched and strided: 2x(9000x3)^T . 2x9000x4", [2, 9000, 3], [2, 9000, 4], [[1], [1]], [[0], [0]]],
      ];
      for (const [name, ls, rs, c, b] of cases) {
        it(name, async () => {
          use();
          const rng = new Rng(name.length * 31);
          const l = rand(rng, ls),
            r = rand(rng, rs);
          await expectSame(name, dot(gpu(l), gpu(r), c, b), dot(l, r, c, b), 1e-5);
        });
      }
      it("int32 matmul", async () => {
        use();
        const l = np.array(
          Int32Array.from({ length: 70 * 9 }, (_, i) => (i % 7) - 3),
          { shape: [70, 9], dtype: "int32" },
        );
        const r = np.array(
          Int32Array.from({ length: 9 * 66 }, (_, i) => (i % 5) - 2),
          { shape: [9, 66], dtype: "int32" },
        );
        await expectSame("int32", np.matmul(gpu(l), gpu(r)), np.matmul(l, r));
      });
      it("K past 70,000 (past the 65,535 loop iterations some drivers allow): int32 exact, float32 to rounding", async () => {
        use();
        const k = 70_001;
        const l = np.array(
          Int32Array.from({ length: 2 * k }, (_, i) => (i % 7) - 3),
          { shape: [2, k], dtype: "int32" },
        );
        const r = np.array(
          Int32Array.from({ length: k * 3 }, (_, i) => (i % 5) - 2),
          { shape: [k, 3], dtype: "int32" },
        );
        await expectSame("int32, K = 70,001", np.matmul(gpu(l), gpu(r)), np.matmul(l, r));
        const rng = new Rng(70);
        const a = rand(rng, [2, k]),
          b = rand(rng, [k, 3]);
        await expectSame("float32, K = 70,001", np.matmul(gpu(a), gpu(b)), np.matmul(a, b), 1e-4);
      });
    });
  }

  // Workgroup reductions combined by subgroups (where the device has them) or by a tree, as on a
  // GPU; and a software adapter's choice, which keeps axes up to a segment to one thread per output.
  const modes = [
    { name: "combined by subgroup operations (where the device has them)", subgroups: true, software: false },
    { name: "combined by a shared-memory tree", subgroups: false, software: false },
    { name: "as a software adapter runs them", subgroups: true, software: true },
  ];
  for (const mode of modes) {
    describe(`reductions ${mode.name}`, () => {
      let saved: { subgroups: boolean; software: boolean } | null = null;
      beforeAll(() => {
        const ctx = backend(np.ones([1]).to("webgpu")).ctx;
        saved = { subgroups: ctx.subgroups, software: ctx.software };
        ctx.subgroups = mode.subgroups && saved.subgroups;
        ctx.software = mode.software;
      });
      afterAll(() => {
        if (saved !== null) Object.assign(backend(np.ones([1]).to("webgpu")).ctx, saved);
      });
      it("reductions: tree and sequential, contiguous and not, int and bool, empty", async () => {
        const rng = new Rng(4);
        const x = rand(rng, [6, 300, 5]);
        for (const axes of [[1], [0, 2], [0, 1], [2], [0, 1, 2]]) {
          await expectSame(`sum ${axes}`, np.sum(gpu(x), axes), np.sum(x, axes), 1e-5);
          await expectSame(`max ${axes}`, np.max(gpu(x), axes), np.max(x, axes));
          await expectSame(`min ${axes}`, np.min(gpu(x), axes), np.min(x, axes));
        }
        const xi = np.array(
          Int32Array.from({ length: 600 }, (_, i) => ((i * 7919) % 1000) - 500),
          { shape: [2, 300], dtype: "int32" },
        );
        for (const op of [np.sum, np.max, np.min]) await expectSame(`int ${op.name}`, op(gpu(xi), 1), op(xi, 1));
        const e = np.zeros([3, 0]);
        await expectSame("empty sum", np.sum(gpu(e), 1), np.sum(e, 1));
        await expectSame("empty max", bind1(Prim.ReduceMax, [gpu(e)], { axes: [1] }), bind1(Prim.ReduceMax, [e], { axes: [1] }));
        const b = np.array([1, 1, 0, 1], { dtype: "bool" });
        await expectSame("bool sum", bind1(Prim.ReduceSum, [gpu(b)], { axes: [0] }), bind1(Prim.ReduceSum, [b], { axes: [0] }));
      });

      it("argmax/argmin take the first extremum; a NaN counts as one; max/min propagate NaN", async () => {
        const long = Array.from({ length: 700 }, (_, i) => (i % 3 === 0 ? 5 : i % 10));
        for (const data of [[1, 3, 3, 2], [1, NaN, 3, NaN], long, long.map((v, i) => (i === 650 ? NaN : v)), [-0, 0, -0]]) {
          const x = f32(data);
          for (const p of [Prim.ArgMax, Prim.ArgMin] as const) {
            await expectSame(`${p} of ${data.slice(0, 8)}`, bind1(p, [gpu(x)], { axis: 0 }), bind1(p, [x], { axis: 0 }));
          }
          await expectSame(`max of ${data.slice(0, 8)}`, np.max(gpu(x)), np.max(x));
          await expectSame(`min of ${data.slice(0, 8)}`, np.min(gpu(x)), np.min(x));
        }
      });

      it("argmax and argmin over many short rows and over strided columns, ties and NaN included", async () => {
        const host = Float32Array.from({ length: 300 * 10 }, (_, i) => ((i * 37) % 11) - 5);
        host[45] = Number.NaN;
        host[1203] = Number.NaN;
        const x = np.array(host).reshape([300, 10]);
        for (const p of [Prim.ArgMax, Prim.ArgMin] as const)
          for (const axis of [0, 1]) await expectSame(`${p} axis ${axis}`, bind1(p, [gpu(x)], { axis }), bind1(p, [x], { axis }));
      });

      it("max and min keep a NaN wherever it falls in a workgroup, and sums of 4,096 floats stay close", async () => {
        const rng = new Rng(9);
        const x = rand(rng, [4096]);
        await expectSame("sum 4096", np.sum(gpu(x)), np.sum(x), 1e-5);
        for (const at of [0, 7, 8, 255, 256, 4095]) {
          const host = Float32Array.from(x.dataSync() as Float32Array);
          host[at] = Number.NaN;
          const y = np.array(host);
          await expectSame(`max, NaN at ${at}`, np.max(gpu(y)), np.max(y));
          await expectSame(`min, NaN at ${at}`, np.min(gpu(y)), np.min(y));
        }
      });
    });
  }

  it("exp is within 1 ulp of float64 exp (subnormal and overflowing results included), sin and cos within 2", async () => {
    const xs: number[] = [];
    for (let k = 0; k <= 20000; k++) xs.push(-104 + (193 * k) / 20000); // [-104, 89]: results from 0 through subnormals to inf
    const x = np.array(xs, { dtype: "float32" });
    const host = x.dataSync() as Float32Array;
    const ulpOff = (got: number, want: number) => {
      if (got === Math.fround(want)) return 0;
      if (!Number.isFinite(want) || !Number.isFinite(got)) return Infinity;
      const spacing = Math.max(Math.abs(want), 2 ** -126) * 2 ** -23;
      return Math.abs(got - want) / spacing;
    };
    for (const [name, dev, ref, range, bound] of [
      ["exp", np.exp, Math.exp, 89, 1],
      ["sin", np.sin, Math.sin, 100, 2],
      ["cos", np.cos, Math.cos, 100, 2],
    ] as const) {
      const got = await dev(gpu(x)).data();
      for (let i = 0; i < host.length; i++) {
        const v = host[i]!;
        if (Math.abs(v) > range) continue;
        const off = ulpOff(got[i]!, ref(v));
        if (off > bound) expect.fail(`${name}(${v}) = ${got[i]} on webgpu, ${ref(v)} in float64: ${off.toFixed(2)} ulp`);
      }
    }
  });

  for (const software of [false, true]) {
    it(`elementwise kernels reach every element of any count (${software ? "sixteen" : "one"} per invocation)`, async () => {
      const ctx = backend(np.ones([1]).to("webgpu")).ctx;
      const saved = ctx.software;
      ctx.software = software;
      try {
        expect(ctx.elementsPerThread).toBe(software ? 16 : 1);
        const f = (x: NDArray) => np.sin(x).mul(2).add(x);
        for (const n of [1, 255, 256, 4095, 4097, 65537]) {
          const x = np.array(Float32Array.from({ length: n }, (_, i) => (i % 97) / 10 - 4));
          await expectSame(`eager, ${n}`, np.sin(gpu(x)), np.sin(x));
          await expectSame(`fused, ${n}`, jit(f, { device: "webgpu" })(gpu(x)), f(x), 1e-5);
        }
      } finally {
        ctx.software = saved;
      }
    });
  }

  it("float and int corner cases match the cpu", async () => {
    // (|x| <= 1e5 for sin and cos: beyond, the device's builtins are used)
    const a = f32([NaN, 1, -0, 0, Infinity, -Infinity, 3e9, -3e9, 2.5, -2.5, 1e-30, -1, 0.5, 100, -100, 5e-8]);
    const trig = f32([
      NaN,
      1,
      -0,
      0,
      Infinity,
      -Infinity,
      8000.5,
      -99999,
      2.5,
      -2.5,
      1e-30,
      -1,
      0.5,
      100,
      -100,
      5e-8,
      3.14159274,
      1.5707964,
      4.712389,
      -7.853982,
    ]);
    const b = f32([1, NaN, 0, -0, 2, 3, -1, 0.5, -2, 3, 2, 0.5, -1.5, 0, -3, 2]);
    const A = gpu(a),
      B = gpu(b);
    const binary = [np.maximum, np.minimum, np.add, np.multiply, np.divide, np.power, np.equal, np.notEqual, np.less, np.greaterEqual] as const;
    for (const op of binary) await expectSame(op.name, op(A, B), op(a, b), 1e-5);
    const unary: [string, (x: NDArray) => NDArray][] = [
      ["sign", np.sign],
      ["abs", np.abs],
      ["floor", np.floor],
      ["exp", np.exp],
      ["log", np.log],
      ["log1p", np.log1p],
      ["expm1", np.expm1],
      ["sqrt", np.sqrt],
      ["tanh", np.tanh],
      ["arctan", np.arctan],
      ["sin", np.sin],
      ["cos", np.cos],
      ["rsqrt", (x) => bind1(Prim.Rsqrt, [x], {})],
      ["logistic", (x) => bind1(Prim.Logistic, [x], {})],
      ["to int32", (x) => x.astype("int32")],
      ["to bool", (x) => x.astype("bool")],
    ];
    for (const [name, op] of unary) {
      const x = name === "sin" || name === "cos" ? trig : a;
      await expectSame(name, op(gpu(x)), op(x), 1e-5);
    }
    const i = np.array([2147483647, -2147483648, 7, -7, 0, 3], { dtype: "int32" });
    const j = np.array([1, -1, 2, 0, 0, -2], { dtype: "int32" });
    for (const p of [Prim.Add, Prim.Sub, Prim.Mul, Prim.Div, Prim.Pow, Prim.Max] as const) {
      await expectSame(`int ${p}`, bind1(p, [gpu(i), gpu(j)], {}), bind1(p, [i, j], {}));
    }
    for (const p of [Prim.Neg, Prim.Abs, Prim.Sign] as const) await expectSame(`int ${p}`, bind1(p, [gpu(i)], {}), bind1(p, [i], {}));
    await expectSame("int to float", gpu(i).astype("float32"), i.astype("float32"));
  });

  it("copies of rank > 8, reversed, stepped and padded", async () => {
    const rng = new Rng(8);
    const x = rand(rng, [2, 3, 2, 2, 3, 2, 2, 3, 2, 2]);
    const perm = [9, 1, 8, 2, 7, 3, 6, 4, 5, 0];
    await expectSame("rank-10 transpose", np.transpose(gpu(x), perm), np.transpose(x, perm));
    const y = rand(rng, [7, 9, 4]);
    const sl = { start: [1, 0, 1], limit: [7, 9, 4], step: [2, 3, 2] };
    await expectSame("slice with steps", bind1(Prim.Slice, [gpu(y)], sl), bind1(Prim.Slice, [y], sl));
    await expectSame("rev", bind1(Prim.Rev, [gpu(y)], { axes: [0, 2] }), bind1(Prim.Rev, [y], { axes: [0, 2] }));
    const pad = {
      config: [
        [1, 2, 1],
        [0, 0, 2],
        [3, 1, 0],
      ] as [number, number, number][],
    };
    await expectSame(
      "pad",
      bind1(Prim.Pad, [gpu(y), f32([]).reshape([0]).sum().add(1.5)], pad),
      bind1(Prim.Pad, [y, np.array(1.5, { dtype: "float32" })], pad),
    );
    const parts = Array.from({ length: 11 }, (_, k) => rand(rng, [2, k + 1]));
    await expectSame("concatenate 11", np.concatenate(parts.map(gpu), 1), np.concatenate(parts, 1));
  });

  it("a fused kernel past the storage-binding limit is split", async () => {
    const rng = new Rng(12);
    const xs = Array.from({ length: 24 }, () => rand(rng, [50]));
    const f = (...a: NDArray[]) => [a.reduce((s, v, k) => s.add(np.sin(v).mul(k + 1))), a.reduce((s, v) => s.mul(0.5).add(v))];
    const want = f(...xs),
      got = jit(f, { device: "webgpu" })(...xs);
    for (let k = 0; k < 2; k++) await expectSame(`output ${k}`, got[k]!, want[k]!, 1e-5);
  });

  it("dynamic slices clamp device start indices like the cpu; scatter_add sums repeated indices", async () => {
    const rng = new Rng(13);
    const x = rand(rng, [6, 5]),
      u = rand(rng, [2, 3]);
    for (const [s0, s1] of [
      [-3, 1],
      [5, 4],
      [2, 9],
      [1, 1],
    ]) {
      const a = np.array(s0, { dtype: "int32" }),
        b = np.array(s1, { dtype: "int32" });
      await expectSame(
        `dynamic_slice ${s0},${s1}`,
        bind1(Prim.DynamicSlice, [gpu(x), gpu(a), gpu(b)], { sizes: [3, 2] }),
        bind1(Prim.DynamicSlice, [x, a, b], { sizes: [3, 2] }),
      );
      await expectSame(
        `dynamic_update_slice ${s0},${s1}`,
        bind1(Prim.DynamicUpdateSlice, [gpu(x), gpu(u), gpu(a), b], {}),
        bind1(Prim.DynamicUpdateSlice, [x, u, a, b], {}),
      );
    }
    const idx = np.array([0, 2, 2, -1, 9, 2], { dtype: "int32" });
    const upd = rand(rng, [6, 5]);
    await expectSame(
      "scatter_add",
      bind1(Prim.ScatterAdd, [gpu(x), gpu(idx), gpu(upd)], { axis: 0, batchDims: 0 }),
      bind1(Prim.ScatterAdd, [x, idx, upd], { axis: 0, batchDims: 0 }),
      1e-6,
    );
  });

  it("launches past 65535 workgroups (2-D grids)", async () => {
    const n = 65536 * 256 + 1000;
    const x = np.array(
      Float32Array.from({ length: n }, (_, i) => (i % 1000) / 1000),
      { shape: [n] },
    );
    const y = gpu(x).mul(2).add(1);
    const v = await values(y);
    expect(v[n - 1]).toBeCloseTo(((n - 1) % 1000) / 500 + 1, 5);
    expect(v[12345]).toBeCloseTo((12345 % 1000) / 500 + 1, 5);
    await expectSame("sum", np.sum(y), np.sum(x.mul(2).add(1)), 1e-4);
  });
});
