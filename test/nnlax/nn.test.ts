/**
 * nn activations, normalisations and the axis convention: values against float64 references
 * written here, derivatives by finite differences (both modes, second order where smooth), vmap
 * against a loop, jit against eager, and typed errors for bad calls.
 */
import { describe, expect, it } from "vitest";
import { ArgumentError, DTypeError, type NDArray, ShapeError, grad, jit, nn, np, vmap } from "../../src/index.js";
import { checkGrads } from "../../laws/index.js";
import { expectClose } from "../helpers.js";

const d = (data: unknown) => np.array(data as number[], { dtype: "float64" });
const sig = (v: number) => 1 / (1 + Math.exp(-v));
const SELU_A = 1.6732632423543772,
  SELU_L = 1.0507009873554805;

/** Points away from every kink (0, ±1, ±3, 6). */
const XS = [-3.7, -2.1, -0.8, -0.3, 0.2, 0.7, 2.4, 4.5, 7.3];

const unary: [string, (x: NDArray) => NDArray, (v: number) => number, boolean][] = [
  ["silu", nn.silu, (v) => v * sig(v), true],
  ["swish", nn.swish, (v) => v * sig(v), true],
  ["leakyRelu", (x) => nn.leakyRelu(x), (v) => (v >= 0 ? v : 0.01 * v), false],
  ["leakyRelu 0.2", (x) => nn.leakyRelu(x, 0.2), (v) => (v >= 0 ? v : 0.2 * v), false],
  ["leakyRelu { negativeSlope }", (x) => nn.leakyRelu(x, { negativeSlope: 0.2 }), (v) => (v >= 0 ? v : 0.2 * v), false],
  ["elu", (x) => nn.elu(x), (v) => (v > 0 ? v : Math.expm1(v)), false],
  ["elu { alpha }", (x) => nn.elu(x, { alpha: 0.5 }), (v) => (v > 0 ? v : 0.5 * Math.expm1(v)), false],
  ["celu 0.7", (x) => nn.celu(x, 0.7), (v) => (v > 0 ? v : 0.7 * Math.expm1(v / 0.7)), false],
  ["selu", nn.selu, (v) => SELU_L * (v > 0 ? v : SELU_A * Math.expm1(v)), false],
  ["relu6", nn.relu6, (v) => Math.min(Math.max(v, 0), 6), false],
  ["hardTanh", nn.hardTanh, (v) => Math.min(Math.max(v, -1), 1), false],
  ["hardSigmoid", nn.hardSigmoid, (v) => Math.min(Math.max(v + 3, 0), 6) / 6, false],
  ["hardSilu", nn.hardSilu, (v) => (v * Math.min(Math.max(v + 3, 0), 6)) / 6, false],
  ["softSign", nn.softSign, (v) => v / (Math.abs(v) + 1), false],
  ["logSigmoid", nn.logSigmoid, (v) => Math.log(sig(v)), true],
  ["gelu (tanh)", (x) => nn.gelu(x), (v) => 0.5 * v * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (v + 0.044715 * v ** 3))), true],
];

describe("nn activations", () => {
  for (const [name, fn, ref] of unary) {
    it(`${name}: values, derivatives (order 2), vmap = loop, jit = eager`, () => {
      const x = d(XS);
      expectClose(fn(x), XS.map(ref), 1e-12, 1e-12);
      checkGrads(fn, [x], { order: 2 });
      const m = d([XS.slice(0, 3), XS.slice(3, 6), XS.slice(6, 9)]);
      const batched = vmap(fn)(m);
      [0, 1, 2].forEach((i) => expectClose(np.take(batched, i, 0), fn(np.take(m, i, 0)), 0, 0));
      expectClose(jit(fn)(x), fn(x), 1e-12, 1e-12);
      expect(fn(np.array(XS)).dtype).toBe("float32");
    });
  }

  it("logSigmoid, elu, selu and celu keep finite values and gradients at large |x| (no inf · 0)", () => {
    const x = d([-800, 800]);
    expectClose(nn.logSigmoid(x), [-800, 0], 1e-9);
    expectClose(gradOf(nn.logSigmoid)(x), [1, 0], 1e-12);
    expectClose(gradOf(nn.elu)(x), [0, 1], 1e-12);
    expectClose(gradOf(nn.selu)(x), [0, SELU_L], 1e-12);
    expectClose(gradOf((v) => nn.celu(v, 0.5))(x), [0, 1], 1e-12);
  });

  it("relu passes NaN on, as JAX's max(x, 0), with JAX's derivative where(x > 0, 1, 0)", () => {
    const x = d([NaN, -Infinity, -0, 0, -2, 3, 1e30]);
    const want = [NaN, 0, 0, 0, 0, 3, 1e30];
    const dwant = [0, 0, 0, 0, 0, 1, 1];
    expectClose(nn.relu(x), want, 0, 0);
    expectClose(jit(nn.relu)(x), want, 0, 0);
    expectClose(nn.relu(np.astype(x, "float32")), want.map(Math.fround), 0, 0);
    expectClose(gradOf(nn.relu)(x), dwant, 0, 0);
    expectClose(jit(gradOf(nn.relu))(x), dwant, 0, 0);
    expectClose(vmap(gradOf(nn.relu))(np.stack([x, x])), [dwant, dwant], 0, 0);
    expect(Object.is(nn.relu(d([-0])).item(), 0)).toBe(true);
  });

  it("rejects bad scalar options with a typed error", () => {
    expect(() => nn.leakyRelu(d([1]), "0.1" as never)).toThrow(ArgumentError);
    expect(() => nn.elu(d([1]), { alfa: 1 } as never)).toThrow(/unknown option "alfa"/);
    expect(() => nn.celu(d([1]), 0)).toThrow(/alpha must be a positive/);
  });
});

/** The gradient of sum(fn(x)). */
const gradOf = (fn: (x: NDArray) => NDArray) => grad((x: NDArray) => np.sum(fn(x)));

// ---- axis functions: references over a 2-d array along one axis ----

const M = [
  [0.3, -1.2, 2.0, 0.5],
  [1.7, 0.1, -0.6, -2.2],
  [-0.9, 0.8, 1.1, 0.4],
];
/** Applies `row` to each line of `m` along `axis` (0 or 1) and reassembles. */
function alongAxis(m: number[][], axis: 0 | 1, row: (v: number[]) => number[]): number[][] {
  const t = (a: number[][]) => a[0]!.map((_, j) => a.map((r) => r[j]!));
  return axis === 1 ? m.map(row) : t(t(m).map(row));
}
const lse = (v: number[]) => {
  const mx = Math.max(...v);
  return mx + Math.log(v.reduce((s, a) => s + Math.exp(a - mx), 0));
};
const meanOf = (v: number[]) => v.reduce((s, a) => s + a, 0) / v.length;
const stdz = (eps: number) => (v: number[]) => {
  const mu = meanOf(v),
    va = meanOf(v.map((a) => (a - mu) ** 2));
  return v.map((a) => (a - mu) / Math.sqrt(va + eps));
};
const rms = (eps: number) => (v: number[]) => {
  const ms = meanOf(v.map((a) => a * a));
  return v.map((a) => a / Math.sqrt(ms + eps));
};

type AxisFn = (x: NDArray, axis: number | { axis: number }) => NDArray;
const axisTable: [string, AxisFn, (v: number[]) => number[]][] = [
  ["softmax", (x, a) => nn.softmax(x, a), (v) => v.map((a) => Math.exp(a - lse(v)))],
  ["logSoftmax", (x, a) => nn.logSoftmax(x, a), (v) => v.map((a) => a - lse(v))],
  ["standardize", (x, a) => nn.standardize(x, a), stdz(1e-5)],
  ["layerNorm", (x, a) => nn.layerNorm(x, a), stdz(1e-5)],
  ["rmsNorm", (x, a) => nn.rmsNorm(x, a), rms(1e-6)],
];

describe("nn axis functions: positional axis and { axis } mean the same", () => {
  for (const [name, fn, row] of axisTable) {
    it(`${name}: both forms against the reference on each axis; derivatives; vmap; jit`, () => {
      const x = d(M);
      for (const axis of [0, 1] as const) {
        const want = alongAxis(M, axis, row);
        expectClose(fn(x, axis), want, 1e-12, 1e-10);
        expectClose(fn(x, { axis }), want, 1e-12, 1e-10);
        expectClose(fn(x, { axis: axis - 2 }), want, 1e-12, 1e-10);
      }
      checkGrads((v: NDArray) => fn(v, { axis: 0 }), [x], { order: 2 });
      const batched = vmap((v: NDArray) => fn(v, { axis: 0 }))(x);
      [0, 1, 2].forEach((i) => expectClose(np.take(batched, i, 0), fn(np.take(x, i, 0), { axis: 0 }), 1e-14, 1e-12));
      expectClose(jit((v: NDArray) => fn(v, { axis: 1 }))(x), fn(x, { axis: 1 }), 1e-12, 1e-12);
    });

    it(`${name}: a wrong second argument is a typed error that shows the right call`, () => {
      const x = d(M);
      expect(() => fn(x, "1" as never)).toThrow(ArgumentError);
      expect(() => fn(x, "1" as never)).toThrow(/\{ axis/);
      expect(() => fn(x, { axes: 1 } as never)).toThrow(/unknown option "axes"/);
      expect(() => fn(x, { axis: 2 })).toThrow(ShapeError);
      expect(() => fn(x, { axis: "0" } as never)).toThrow(ArgumentError);
    });
  }

  it("logsumexp: every form (axis, { axis, keepdims }, axis + { keepdims }) and -inf rows", () => {
    const x = d(M);
    const want = M.map(lse);
    expectClose(nn.logsumexp(x, 1), want, 1e-12);
    expectClose(nn.logsumexp(x, { axis: 1 }), want, 1e-12);
    expectClose(
      nn.logsumexp(x, { axis: 1, keepdims: true }),
      want.map((v) => [v]),
      1e-12,
    );
    expectClose(
      nn.logsumexp(x, 1, { keepdims: true }),
      want.map((v) => [v]),
      1e-12,
    );
    expectClose(nn.logsumexp(x), [lse(M.flat())], 1e-12);
    expect(nn.logsumexp(d([-Infinity, -Infinity])).item()).toBe(-Infinity);
    expect(() => nn.logsumexp(x, "a" as never)).toThrow(ArgumentError);
    checkGrads((v: NDArray) => nn.logsumexp(v, { axis: 0 }), [x], { order: 2 });
  });

  it("softmax over several axes and the default axis -1", () => {
    const x = d(M);
    const all = M.flat();
    expectClose(
      nn.softmax(x, { axis: [0, 1] }),
      M.map((r) => r.map((a) => Math.exp(a - lse(all)))),
      1e-12,
    );
    expectClose(
      nn.softmax(x),
      alongAxis(M, 1, (v) => v.map((a) => Math.exp(a - lse(v)))),
      1e-12,
    );
    expectClose(
      nn.softmax(x, null),
      M.map((r) => r.map((a) => Math.exp(a - lse(all)))),
      1e-12,
    );
  });

  it("standardize with a given mean/variance and epsilon; with a given mean the variance is E[x²] - mean² (JAX)", () => {
    const x = d(M);
    const mean = d([[0.1], [0.2], [0.3]]),
      variance = d([[2], [3], [4]]);
    const want = M.map((r, i) => r.map((a) => (a - [0.1, 0.2, 0.3][i]!) / Math.sqrt([2, 3, 4][i]! + 0.5)));
    expectClose(nn.standardize(x, { mean, variance, epsilon: 0.5 }), want, 1e-12);
    const want2 = M.map((r, i) => {
      const m = [0.1, 0.2, 0.3][i]!,
        v = meanOf(r.map((a) => a * a)) - m * m;
      return r.map((a) => (a - m) / Math.sqrt(v + 1e-5));
    });
    expectClose(nn.standardize(x, { mean }), want2, 1e-12);
    expect(() => nn.standardize(x, { mean: d([1, 2]) })).toThrow(ShapeError);
    expect(() => nn.standardize(x, { epsilon: "small" } as never)).toThrow(ArgumentError);
  });

  it("layerNorm and rmsNorm apply scale and bias along the feature axis", () => {
    const x = d(M);
    const g = [1.5, -0.5, 2, 0.25],
      b = [0.1, 0.2, -0.3, 0.4];
    const want = M.map((r) => stdz(1e-3)(r).map((v, j) => v * g[j]! + b[j]!));
    expectClose(nn.layerNorm(x, { scale: d(g), bias: d(b), epsilon: 1e-3 }), want, 1e-12);
    expectClose(
      nn.rmsNorm(x, { scale: d(g) }),
      M.map((r) => rms(1e-6)(r).map((v, j) => v * g[j]!)),
      1e-12,
    );
    checkGrads((v: NDArray, s: NDArray, c: NDArray) => nn.layerNorm(v, { scale: s, bias: c }), [x, d(g), d(b)], { order: 2 });
    checkGrads((v: NDArray, s: NDArray) => nn.rmsNorm(v, { scale: s }), [x, d(g)], { order: 2 });
    const per = vmap((v: NDArray, s: NDArray) => nn.layerNorm(v, { scale: s }))(x, d([g, g, g]));
    expectClose(per, nn.layerNorm(x, { scale: d(g) }), 1e-14, 1e-12);
    expect(() => nn.layerNorm(x, { scale: d([1, 2, 3]) })).toThrow(ShapeError);
    expect(() => nn.rmsNorm(x, { bias: d(b) } as never)).toThrow(/unknown option "bias"/);
  });

  it("glu splits the axis in half: a · sigmoid(b)", () => {
    const x = d(M);
    const want = M.map((r) => [r[0]! * sig(r[2]!), r[1]! * sig(r[3]!)]);
    expectClose(nn.glu(x), want, 1e-12);
    expectClose(nn.glu(x, { axis: 1 }), want, 1e-12);
    expectClose(nn.glu(x, 1), want, 1e-12);
    expect(() => nn.glu(x, { axis: 0 })).toThrow(/odd size 3/);
    checkGrads((v: NDArray) => nn.glu(v), [x], { order: 2 });
    expectClose(vmap((v: NDArray) => nn.glu(v))(x), want, 1e-12);
  });

  it("oneHot: the class axis at `axis`, dtype option, typed errors", () => {
    const labels = np.array([2, 0, 1], { dtype: "int32" });
    const last = [
      [0, 0, 1],
      [1, 0, 0],
      [0, 1, 0],
    ];
    expectClose(nn.oneHot(labels, 3), last, 0);
    expectClose(
      nn.oneHot(labels, 3, { axis: 0 }),
      last[0]!.map((_, j) => last.map((r) => r[j]!)),
      0,
    );
    expect(nn.oneHot(labels, 3, { dtype: "float64", axis: -1 }).dtype).toBe("float64");
    expect(() => nn.oneHot(labels, 3, { axis: 2 })).toThrow(ShapeError);
    expect(() => nn.oneHot(labels, 3, "float64" as never)).toThrow(/nn.oneHot\(x, numClasses, \{ axis/);
    expect(() => nn.oneHot(labels, 3, { axes: 0 } as never)).toThrow(ArgumentError);
    expectClose(
      vmap((l: NDArray) => nn.oneHot(l, 3, { axis: 0 }))(labels),
      last.map((r) => r),
      0,
    );
  });
});

describe("nn dtype and shape errors", () => {
  it("dotProductAttention refuses mismatched shapes, dtypes and non-bool masks", () => {
    const q = np.zeros([1, 2, 4, 3]),
      k = np.zeros([1, 5, 2, 3]);
    expect(() => nn.dotProductAttention(q, np.zeros([1, 5, 3, 3]), np.zeros([1, 5, 3, 3]))).toThrow(ShapeError);
    expect(() => nn.dotProductAttention(q, k, k.astype("float64"))).toThrow(DTypeError);
    expect(() => nn.dotProductAttention(q, k, k, { mask: np.ones([2, 5]) })).toThrow(DTypeError);
    expect(() => nn.dotProductAttention(q, k, k, { causal: true } as never)).toThrow(/unknown option "causal"/);
    expect(() => nn.dotProductAttention(np.zeros([2, 3]), k, k)).toThrow(ShapeError);
  });
});
