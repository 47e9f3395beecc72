/**
 * WebGPU programs equal the CPU: random small programs (eager on the device, and jit(f, { device })
 * with fused WGSL kernels), their gradients, control flow staged inside jit, and
 * jit(valueAndGrad(mlpLoss), { device: "webgpu" }).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type NDArray, Prim, bind1, grad, jit, lax, nn, np, valueAndGrad } from "../../src/index.js";
import { Rng } from "../primitives/cases_util.js";
import { REDUCE_SEGMENT } from "../../interpreters/webgpu/kernels/reduce.js";
import { backend, expectSame, requireAdapterInCI, runGpu } from "./setup.js";

type F = (x: NDArray, y: NDArray, w: NDArray, v: NDArray) => NDArray[];

const rand = (rng: Rng, shape: number[], lo = -1, hi = 1) =>
  np.array(
    Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => rng.uniform(lo, hi)),
    { shape },
  );

/** One random step on a [R, C] value `a` (with other values, a [C, C] weight and a [C] vector). */
const OPS: ((a: NDArray, b: NDArray, w: NDArray, v: NDArray) => NDArray)[] = [
  (a) => np.sin(a),
  (a) => np.cos(a).mul(1.5),
  (a) => np.tanh(a.mul(2)),
  (a) => np.exp(np.clip(a, -3, 3)),
  (a) => np.log1p(a.mul(a)),
  (a) => np.sqrt(a.mul(a).add(1)),
  (a) => nn.sigmoid(a),
  (a) => np.arctan(a.mul(3)),
  (a, b) => a.add(b),
  (a, b) => a.sub(b.mul(0.5)),
  (a, b) => a.mul(b),
  (a, b) => np.maximum(a, b),
  (a, b) => np.minimum(a, b.neg()),
  (a, b) => a.div(b.mul(b).add(1)),
  (a, _b, _w, v) => a.add(v),
  (a, _b, _w, v) => a.mul(v).sub(v),
  (a) => a.sub(np.sum(a, { axis: 1, keepdims: true }).mul(0.25)),
  (a) => a.sub(np.max(a, { axis: 0, keepdims: true })),
  (a, _b, w) => np.matmul(a, w).mul(0.5),
  (a, _b, w) => np.matmul(np.matmul(a, np.transpose(w)), w).mul(0.25),
  (a, b) => np.where(a.greater(b), a, b.mul(2)),
  (a) => np.cumsum(a, 0).mul(0.5),
  (a) => nn.softmax(a, 1),
  (a) => np.flip(a, 1).add(a),
  (a) => np.concatenate([a.take(np.array([1, 2], { dtype: "int32" }), 0), a.take(np.array([0], { dtype: "int32" }), 0)], 0),
  (a) =>
    np
      .pad(a, [
        [1, 0],
        [0, 1],
      ])
      .take(np.array([0, 1, 2], { dtype: "int32" }), 0)
      .take(np.array([1, 2, 3, 4], { dtype: "int32" }), 1)
      .add(a),
];

/** A random program of `len` steps over inputs x, y [3, 4], w [4, 4], v [4]. */
function randomProgram(rng: Rng, len: number): { f: F; ops: number[] } {
  const ops = Array.from({ length: len }, () => rng.int(0, OPS.length - 1));
  const picks = ops.map(() => rng.int(0, 1000));
  const f: F = (x, y, w, v) => {
    const vals = [x, y];
    ops.forEach((k, i) => {
      const a = vals[picks[i]! % vals.length]!,
        b = vals[(picks[i]! >> 3) % vals.length]!;
      vals.push(OPS[k]!(a, b, w, v));
    });
    const last = vals[vals.length - 1]!;
    return [last, np.sum(vals.slice(2).reduce((s, t) => s.add(t.mul(0.1)), last))];
  };
  return { f, ops };
}

describe.runIf(runGpu)("webgpu programs == cpu", () => {
  requireAdapterInCI();

  for (let seed = 1; seed <= 24; seed++) {
    it(`random program ${seed}: eager, jit on the device, and grad of the jitted program`, async () => {
      const rng = new Rng(seed * 7919);
      const { f, ops } = randomProgram(rng, 2 + (seed % 6));
      const args = [rand(rng, [3, 4]), rand(rng, [3, 4]), rand(rng, [4, 4]), rand(rng, [4])];
      const want = f(...(args as [NDArray, NDArray, NDArray, NDArray]));
      const dev = args.map((a) => a.to("webgpu")) as [NDArray, NDArray, NDArray, NDArray];
      const eager = f(...dev);
      const jitted = jit(f, { device: "webgpu" })(...(args as [NDArray, NDArray, NDArray, NDArray]));
      for (let k = 0; k < want.length; k++) {
        await expectSame(`ops ${ops} eager output ${k}`, eager[k]!, want[k]!, 1e-4);
        await expectSame(`ops ${ops} jit output ${k}`, jitted[k]!, want[k]!, 1e-4);
      }
      const loss = (x: NDArray, y: NDArray, w: NDArray, v: NDArray) => f(x, y, w, v)[1]!;
      const four = args as [NDArray, NDArray, NDArray, NDArray];
      const gWant: NDArray[] = grad(loss, { argnums: [0, 1, 2, 3] })(...four);
      const gGot: NDArray[] = jit(grad(loss, { argnums: [0, 1, 2, 3] }), { device: "webgpu" })(...four);
      for (let k = 0; k < 4; k++) await expectSame(`ops ${ops} grad ${k}`, gGot[k]!, gWant[k]!, 2e-4, 1e-6);
    });
  }

  it("jit(valueAndGrad(mlpLoss), { device }) equals the cpu", async () => {
    const rng = new Rng(42);
    const params = {
      w1: rand(rng, [8, 16], -0.5, 0.5),
      b1: rand(rng, [16], -0.1, 0.1),
      w2: rand(rng, [16, 3], -0.5, 0.5),
      b2: rand(rng, [3], -0.1, 0.1),
    };
    const x = rand(rng, [32, 8]);
    const labels = np.array(
      Int32Array.from({ length: 32 }, () => rng.int(0, 2)),
      { dtype: "int32" },
    );
    const mlpLoss = (p: typeof params, xs: NDArray, ys: NDArray) => {
      const h = np.tanh(np.matmul(xs, p.w1).add(p.b1));
      const logits = np.matmul(h, p.w2).add(p.b2);
      return np.mean(nn.logSoftmax(logits, 1).mul(nn.oneHot(ys, 3)).sum(1)).neg();
    };
    const [lw, gw] = valueAndGrad(mlpLoss)(params, x, labels);
    const [lg, gg] = jit(valueAndGrad(mlpLoss), { device: "webgpu" })(params, x, labels);
    await expectSame("loss", lg, lw, 1e-5);
    for (const k of ["w1", "b1", "w2", "b2"] as const) await expectSame(`grad ${k}`, gg[k], gw[k], 1e-4);
  });

  it("control flow inside jit: cond on a device predicate, scan, fori, dynamic slices", async () => {
    const f = (x: NDArray, k: NDArray) => {
      const c = lax.cond(
        np.sum(x).greater(0),
        (a: NDArray) => np.sin(a).mul(2),
        (a: NDArray) => np.cos(a),
        x,
      );
      const [carry, ys] = lax.scan(
        (h: NDArray, xt: NDArray) => {
          const nh = np.tanh(h.mul(0.9).add(xt));
          return [nh, np.sum(nh.mul(nh))];
        },
        np.zeros([4]),
        x,
      );
      const acc = lax.fori(
        0,
        3,
        (i: NDArray, a: NDArray) => a.add(bind1(Prim.DynamicSlice, [x, i, np.array(0, { dtype: "int32" })], { sizes: [1, 4] }).reshape([4])),
        np.zeros([4]),
      );
      const upd = bind1(Prim.DynamicUpdateSlice, [x, np.ones([2, 2]), k, k], {});
      return [c, carry, ys, acc, upd];
    };
    const rng = new Rng(3);
    for (const sign of [1, -1]) {
      const x = rand(rng, [5, 4], 0, 1).mul(sign);
      for (const kk of [-1, 1, 7]) {
        const k = np.array(kk, { dtype: "int32" });
        const want = f(x, k);
        const got = jit(f, { device: "webgpu" })(x, k);
        for (let i = 0; i < want.length; i++) await expectSame(`output ${i} (sign ${sign}, k ${kk})`, got[i]!, want[i]!, 1e-5);
      }
    }
  });

  it("grad through a scan and a cond on the device", async () => {
    const loss = (w: NDArray, xs: NDArray) => {
      const [h] = lax.scan((h: NDArray, xt: NDArray) => [np.tanh(np.matmul(h, w).add(xt)), null], np.zeros([3]), xs);
      return lax.cond(
        np.sum(h).greater(0),
        (a: NDArray) => np.sum(a.mul(a)),
        (a: NDArray) => np.sum(np.sin(a)),
        h,
      );
    };
    const rng = new Rng(9);
    const w = rand(rng, [3, 3]),
      xs = rand(rng, [6, 3]);
    await expectSame("grad", jit(grad(loss), { device: "webgpu" })(w, xs), grad(loss)(w, xs), 1e-4);
  });

  it("a large elementwise program, reductions over long axes and a 300x200x100 matmul", async () => {
    const rng = new Rng(5);
    const a = rand(rng, [300, 100]),
      b = rand(rng, [100, 200]),
      big = rand(rng, [70000]);
    const f = (a: NDArray, b: NDArray, big: NDArray) => [
      np.matmul(a, b),
      np.matmul(np.transpose(b), np.transpose(a)),
      np.sum(np.sin(big)),
      np.max(big.reshape([7, 10000]), 1),
      np.argmin(big.reshape([70, 1000]), 1),
      np.sum(a, 0),
    ];
    const want = f(a, b, big);
    const got = jit(f, { device: "webgpu" })(a, b, big);
    for (let i = 0; i < want.length; i++) await expectSame(`output ${i}`, got[i]!, want[i]!, 1e-4);
  });

  describe("a reduction of an elementwise run is computed in the run's kernel", () => {
    const rng = new Rng(11);
    const x = rand(rng, [6, 40, 5]),
      long = rand(rng, [2 * REDUCE_SEGMENT + 3]);
    /** Dispatches of one call of jit(f) on the device after the first call. */
    const dispatches = (f: (...a: NDArray[]) => NDArray | NDArray[], ...args: NDArray[]): number => {
      const g = jit(f, { device: "webgpu" });
      const dev = args.map((a) => a.to("webgpu"));
      g(...dev);
      const ctx = backend(dev[0]!).ctx;
      const d0 = ctx.stats.dispatches;
      g(...dev);
      return ctx.stats.dispatches - d0;
    };
    const cases: [string, (a: NDArray) => NDArray | NDArray[], NDArray][] = [
      ["sum of all", (a) => np.sum(np.exp(np.sin(a).mul(2).add(1))), x],
      ["sum over leading axes", (a) => np.sum(np.cos(a).mul(a), [0, 1]), x],
      ["max over the middle axis", (a) => np.max(np.tanh(a.mul(3)), 1), x],
      ["min over trailing axes", (a) => np.min(a.mul(a).sub(0.5), [1, 2]), x],
      ["sum of a reshaped run (an alias in the run)", (a) => np.sum(np.sin(a).reshape([30, 40]), 1), x],
      ["max keeps a NaN made in the run", (a) => np.max(np.log(a), 2), x],
      ["an int32 sum of a comparison", (a) => np.sum(a.greater(0).astype("int32"), 1), x],
      [
        "a run value also needed outside",
        (a) => {
          const y = np.sin(a).mul(2);
          return [np.sum(y, [1, 2]), y.add(1)];
        },
        x,
      ],
      ["a long sum (several passes)", (a) => np.sum(np.sqrt(a.mul(a).add(1))), long],
      ["a long sum with readers of its result (the epilogue in the last pass)", (a) => np.log(np.sum(np.exp(a.mul(0.5)))).mul(3), long],
      ["many short rows (one thread per output)", (a) => np.sum(np.sin(a), 2), rand(rng, [300, 4, 8])],
      [
        "elementwise readers of the result after it (a softmax)",
        (a) => {
          const e = np.exp(a.sub(np.max(a, { axis: 2, keepdims: true })));
          return e.div(np.sum(e, { axis: 2, keepdims: true }));
        },
        x,
      ],
      [
        "a reader of the result that also reads the run before the reduction",
        (a) => {
          const y = np.sin(a);
          return np.sum(y, { axis: 0, keepdims: true }).add(y);
        },
        rand(rng, [1, 30]),
      ],
      [
        "a reduction of a stored value, then its readers",
        (a) => {
          const y = np.exp(a);
          return [y, np.log(np.sum(y, 1)).mul(2)];
        },
        x,
      ],
      ["axes not adjacent (not fused, still right)", (a) => np.sum(np.sin(a), [0, 2]), x],
    ];
    for (const [name, f, input] of cases) {
      it(`${name} equals the cpu`, async () => {
        const want = f(input);
        const got = jit(f, { device: "webgpu" })(input);
        const ws = Array.isArray(want) ? want : [want],
          gs = Array.isArray(got) ? got : [got];
        for (let i = 0; i < ws.length; i++) await expectSame(`${name}, output ${i}`, gs[i]!, ws[i]!, 1e-5);
      });
    }

    it("sum(exp(sin(x)·2+1)) is one dispatch, and one more pass past a segment", () => {
      const f = (a: NDArray) => np.sum(np.exp(np.sin(a).mul(2).add(1)));
      expect(dispatches(f, rand(rng, [1000]))).toBe(1);
      expect(dispatches(f, long)).toBe(2);
      // A softmax over rows: max, then exp and sum, then the division; and the result's readers.
      expect(
        dispatches(
          (a: NDArray) => {
            const e = np.exp(a.sub(np.max(a, { axis: 1, keepdims: true })));
            return e.div(np.sum(e, { axis: 1, keepdims: true }));
          },
          rand(rng, [8, 100]),
        ),
      ).toBe(3);
      expect(dispatches((a: NDArray) => np.log(np.sum(np.exp(a), 1)).mul(2), rand(rng, [8, 100]))).toBe(1);
      // A value of the run needed outside is stored by the same kernel.
      expect(
        dispatches(
          (a: NDArray) => {
            const y = np.sin(a);
            return [np.sum(y), y];
          },
          rand(rng, [1000]),
        ),
      ).toBe(1);
    });
  });

  for (const kernel of ["tiled", "large-tile", "barrier-free"] as const) {
    describe(`elementwise equations after a product run in its kernel (${kernel} matmul)`, () => {
      let saved: { software: boolean; largeTileMin: number } | null = null;
      beforeAll(() => {
        const ctx = backend(np.ones([1]).to("webgpu")).ctx;
        saved = { software: ctx.software, largeTileMin: ctx.largeTileMin };
        ctx.software = kernel === "barrier-free";
        ctx.largeTileMin = kernel === "large-tile" ? 1 : Infinity;
      });
      afterAll(() => {
        if (saved !== null) Object.assign(backend(np.ones([1]).to("webgpu")).ctx, saved);
      });
      const rng = new Rng(12);
      const x = rand(rng, [70, 33]),
        w = rand(rng, [33, 90]),
        b = rand(rng, [90]);
      const cases: [string, (...a: NDArray[]) => NDArray | NDArray[], NDArray[]][] = [
        ["bias and relu", (x, w, b) => nn.relu(np.matmul(x, w).add(b)), [x, w, b]],
        [
          "the product also needed outside",
          (x, w, b) => {
            const z = np.matmul(x, w);
            return [np.tanh(z.add(b)), z.mul(2)];
          },
          [x, w, b],
        ],
        ["a transposed operand (copied first) and a scale", (x, w) => np.matmul(np.transpose(w), np.transpose(x)).mul(0.5), [x, w]],
        ["batched", (a, c) => np.exp(np.matmul(a, c).mul(0.1)), [rand(rng, [3, 20, 7]), rand(rng, [3, 7, 11])]],
        [
          "int32, with a comparison",
          (a, c) => np.where(np.matmul(a, c).greater(0), 1, -1),
          [
            np.array(
              Int32Array.from({ length: 35 }, (_, i) => (i % 7) - 3),
              { shape: [5, 7], dtype: "int32" },
            ),
            np.array(
              Int32Array.from({ length: 28 }, (_, i) => (i % 5) - 2),
              { shape: [7, 4], dtype: "int32" },
            ),
          ],
        ],
        ["K past one dispatch (not fused, still right)", (a, c) => np.matmul(a, c).add(1), [rand(rng, [3, 5000]), rand(rng, [5000, 4])]],
      ];
      for (const [name, f, args] of cases) {
        it(`${name} equals the cpu`, async () => {
          const want = f(...args);
          const got = jit(f, { device: "webgpu" })(...args);
          const ws = Array.isArray(want) ? want : [want],
            gs = Array.isArray(got) ? got : [got];
          for (let i = 0; i < ws.length; i++) await expectSame(`${name}, output ${i}`, gs[i]!, ws[i]!, 1e-5);
        });
      }

      it("a layer, x·w + b through relu, is one dispatch", () => {
        const layer = (x: NDArray, w: NDArray, b: NDArray) => nn.relu(np.matmul(x, w).add(b));
        const g = jit(layer, { device: "webgpu" });
        const dev = [x, w, b].map((a) => a.to("webgpu"));
        g(dev[0]!, dev[1]!, dev[2]!);
        const ctx = backend(dev[0]!).ctx;
        const d0 = ctx.stats.dispatches;
        g(dev[0]!, dev[1]!, dev[2]!);
        expect(ctx.stats.dispatches - d0).toBe(1);
      });
    });
  }

  it("the CPU compiler's rewrites run first: a broadcast of a broadcast and an outer product cost no kernel of their own", async () => {
    const rng = new Rng(21);
    const s = np.array(0.5),
      g = rand(rng, [32, 10]),
      u = rand(rng, [32]),
      v = rand(rng, [10]);
    const f = (s: NDArray, g: NDArray, u: NDArray, v: NDArray) => {
      const twice = lax.broadcastInDim(lax.broadcastInDim(s, [32], []), [32, 10], [0]);
      // A dot_general contracting nothing: the outer product of u and v.
      const outer = bind1(Prim.DotGeneral, [u, v], { contract: [[], []], batch: [[], []] });
      return g.mul(twice).add(outer);
    };
    await expectSame("result", jit(f, { device: "webgpu" })(s, g, u, v), f(s, g, u, v), 1e-6);
    const jf = jit(f, { device: "webgpu" });
    const dev = [s, g, u, v].map((a) => a.to("webgpu"));
    jf(dev[0]!, dev[1]!, dev[2]!, dev[3]!);
    const ctx = backend(dev[1]!).ctx;
    const d0 = ctx.stats.dispatches;
    jf(dev[0]!, dev[1]!, dev[2]!, dev[3]!);
    expect(ctx.stats.dispatches - d0, "one fused kernel").toBe(1);
  });
});
