/**
 * nn.dotProductAttention against a loop-by-loop float64 reference (bias, boolean mask, causal,
 * grouped-query heads, no batch axis), its derivatives, vmap and jit; nn.initializers' shapes,
 * bounds and statistics (a Kolmogorov–Smirnov test for the truncated normal).
 */
import { describe, expect, it } from "vitest";
import { ArgumentError, DTypeError, type NDArray, ShapeError, jit, nn, np, random, vmap } from "../../src/index.js";
import { checkGrads } from "../../laws/index.js";
import { expectClose, toNums } from "../helpers.js";

/** Deterministic pseudo-random float64 values in [-1, 1) (a linear congruential sequence). */
function values(shape: number[], seed: number): NDArray {
  const n = shape.reduce((a, b) => a * b, 1);
  let s = seed >>> 0;
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s / 2 ** 31 - 1;
  }
  return np.array(out, { shape, dtype: "float64" });
}

/** The reference: loops over b, t, n, s, h with JAX's semantics. */
function reference(
  q: NDArray,
  k: NDArray,
  v: NDArray,
  opts: {
    bias?: (b: number, n: number, t: number, s: number) => number;
    mask?: (b: number, n: number, t: number, s: number) => boolean;
    causal?: boolean;
    scale?: number;
  },
): number[] {
  const [B, T, N, H] = q.shape as number[];
  const [, S, K] = k.shape as number[];
  const Q = toNums(q),
    Kd = toNums(k),
    V = toNums(v);
  const scale = opts.scale ?? 1 / Math.sqrt(H!);
  const out = new Array<number>(B! * T! * N! * H!).fill(0);
  for (let b = 0; b < B!; b++)
    for (let n = 0; n < N!; n++) {
      const kh = Math.floor(n / (N! / K!));
      for (let t = 0; t < T!; t++) {
        const logits: number[] = [];
        for (let s = 0; s < S!; s++) {
          let l = 0;
          for (let h = 0; h < H!; h++) l += Q[((b * T! + t) * N! + n) * H! + h]! * Kd[((b * S! + s) * K! + kh) * H! + h]!;
          l = l * scale + (opts.bias ? opts.bias(b, n, t, s) : 0);
          const keep = (opts.mask ? opts.mask(b, n, t, s) : true) && (!opts.causal || s <= t);
          logits.push(keep ? l : -0.7 * Number.MAX_VALUE);
        }
        const m = Math.max(...logits);
        const e = logits.map((l) => Math.exp(l - m));
        const z = e.reduce((a, c) => a + c, 0);
        for (let h = 0; h < H!; h++) {
          let acc = 0;
          for (let s = 0; s < S!; s++) acc += (e[s]! / z) * V[((b * S! + s) * K! + kh) * H! + h]!;
          out[((b * T! + t) * N! + n) * H! + h] = acc;
        }
      }
    }
  return out;
}

describe("nn.dotProductAttention", () => {
  const q = values([2, 3, 4, 5], 1),
    k = values([2, 6, 4, 5], 2),
    v = values([2, 6, 4, 5], 3);

  it("plain attention equals the reference, batched and unbatched", () => {
    expectClose(nn.dotProductAttention(q, k, v), reference(q, k, v, {}), 1e-12);
    const q0 = np.take(q, 0, 0),
      k0 = np.take(k, 0, 0),
      v0 = np.take(v, 0, 0);
    const out0 = nn.dotProductAttention(q0, k0, v0);
    expect(out0.shape).toEqual([3, 4, 5]);
    expectClose(out0, np.take(nn.dotProductAttention(q, k, v), 0, 0), 1e-14);
  });

  it("bias, boolean mask, scale and isCausal", () => {
    const bias = values([1, 4, 3, 6], 4);
    const B = toNums(bias);
    const mask = np.array(
      Array.from({ length: 3 }, (_, t) => Array.from({ length: 6 }, (_, s) => (t + 2 * s) % 3 !== 0)),
      { dtype: "bool" },
    );
    const M = toNums(mask);
    const got = nn.dotProductAttention(q, k, v, { bias, mask, scale: 0.7, isCausal: true });
    const want = reference(q, k, v, {
      bias: (_b, n, t, s) => B[(n * 3 + t) * 6 + s]!,
      mask: (_b, _n, t, s) => M[t * 6 + s] === 1,
      causal: true,
      scale: 0.7,
    });
    expectClose(got, want, 1e-12);
  });

  it("a fully masked row averages the values (as JAX)", () => {
    const mask = np.zeros([3, 6], "bool");
    const got = nn.dotProductAttention(q, k, v, { mask });
    expectClose(got, reference(q, k, v, { mask: () => false }), 1e-12);
  });

  it("grouped-query attention: 4 query heads share 2 key/value heads", () => {
    const k2 = values([2, 6, 2, 5], 5),
      v2 = values([2, 6, 2, 5], 6);
    expectClose(nn.dotProductAttention(q, k2, v2, { isCausal: true }), reference(q, k2, v2, { causal: true }), 1e-12);
  });

  it("derivatives in q, k, v and bias (both modes, second order), vmap = loop, jit = eager", () => {
    const qs = values([1, 2, 2, 3], 7),
      ks = values([1, 3, 2, 3], 8),
      vs = values([1, 3, 2, 3], 9),
      bs = values([1, 2, 2, 3], 10);
    const f = (a: NDArray, b: NDArray, c: NDArray, bias: NDArray) => nn.dotProductAttention(a, b, c, { bias, isCausal: true });
    checkGrads(f, [qs, ks, vs, bs], { order: 2 });
    const stacked: [NDArray, NDArray, NDArray] = [values([3, 1, 2, 2, 3], 11), values([3, 1, 3, 2, 3], 12), values([3, 1, 3, 2, 3], 13)];
    const batched = vmap((a: NDArray, b: NDArray, c: NDArray) => nn.dotProductAttention(a, b, c, { isCausal: true }))(...stacked);
    for (let i = 0; i < 3; i++) {
      const [a, b, c] = stacked.map((s) => np.take(s, i, 0));
      expectClose(np.take(batched, i, 0), nn.dotProductAttention(a!, b!, c!, { isCausal: true }), 1e-14, 1e-12);
    }
    expectClose(jit(f)(qs, ks, vs, bs), f(qs, ks, vs, bs), 1e-12, 1e-12);
  });

  it("typed errors for bad options", () => {
    expect(() => nn.dotProductAttention(q, k, v, { scale: "1" } as never)).toThrow(ArgumentError);
    expect(() => nn.dotProductAttention(q, k, v, { isCausal: 1 } as never)).toThrow(ArgumentError);
    expect(() => nn.dotProductAttention(q, k, v, { bias: np.zeros([4, 3, 7]) })).toThrow(ShapeError);
    expect(() => nn.dotProductAttention(q, k.astype("float32"), v)).toThrow(DTypeError);
  });
});

/** erf by its Maclaurin series (exact to ~1e-15 for |x| <= 3), independent of the library. */
function erfSeries(x: number): number {
  let term = x,
    sum = x;
  for (let n = 1; n < 80; n++) {
    term *= (-x * x) / n;
    sum += term / (2 * n + 1);
  }
  return (2 / Math.sqrt(Math.PI)) * sum;
}
const Phi = (x: number) => 0.5 * (1 + erfSeries(x / Math.SQRT2));

const moments = (xs: number[]) => {
  const m = xs.reduce((a, b) => a + b, 0) / xs.length;
  return [m, xs.reduce((a, b) => a + (b - m) ** 2, 0) / xs.length] as const;
};

describe("nn.initializers", () => {
  const key = random.key(42);
  const I = nn.initializers;

  it("zeros, ones, constant: shape and dtype, the key unused", () => {
    expect(toNums(I.zeros(key, [2, 3]))).toEqual([0, 0, 0, 0, 0, 0]);
    expect(I.ones(key, [2], "float64").dtype).toBe("float64");
    expect(toNums(I.constant(2.5)(key, [3]))).toEqual([2.5, 2.5, 2.5]);
    expect(() => I.zeros(key, [-1])).toThrow(ShapeError);
  });

  it("glorotUniform and heUniform: bounds sqrt(3 · scale / fan) and variance scale / fan", () => {
    const shape = [200, 100];
    const g = toNums(I.glorotUniform()(key, shape));
    const limG = Math.sqrt(3 / 150);
    expect(g.every((x) => Math.abs(x) <= limG)).toBe(true);
    expect(moments(g)[1]).toBeCloseTo(1 / 150, 3);
    const h = toNums(I.heUniform()(key, shape, "float64"));
    expect(moments(h)[1] / (2 / 200)).toBeGreaterThan(0.97);
    expect(moments(h)[1] / (2 / 200)).toBeLessThan(1.03);
  });

  it("heNormal, lecunNormal, glorotNormal: truncated at 2 standard deviations of the untruncated normal, with the target variance", () => {
    const shape = [3, 3, 40, 50]; // a conv kernel: receptive field 9
    const fanIn = 9 * 40,
      fanOut = 9 * 50;
    for (const [init, variance] of [
      [I.heNormal(), 2 / fanIn],
      [I.lecunNormal(), 1 / fanIn],
      [I.glorotNormal(), 2 / (fanIn + fanOut)],
    ] as const) {
      const xs = toNums(init(key, shape, "float64"));
      const bound = (2 * Math.sqrt(variance)) / 0.87962566103423978;
      expect(xs.every((x) => Math.abs(x) <= bound + 1e-12)).toBe(true);
      const [m, v] = moments(xs);
      expect(Math.abs(m)).toBeLessThan(0.03 * Math.sqrt(variance));
      expect(v / variance).toBeGreaterThan(0.95);
      expect(v / variance).toBeLessThan(1.05);
    }
  });

  it("truncatedNormal passes a Kolmogorov–Smirnov test against the truncated normal CDF", () => {
    const n = 4000;
    const xs = toNums(I.truncatedNormal(1, -1.5, 2)(key, [n], "float64")).sort((a, b) => a - b);
    const cdf = (x: number) => (Phi(x) - Phi(-1.5)) / (Phi(2) - Phi(-1.5));
    let dmax = 0;
    xs.forEach((x, i) => (dmax = Math.max(dmax, Math.abs(cdf(x) - i / n), Math.abs(cdf(x) - (i + 1) / n))));
    expect(dmax).toBeLessThan(1.95 / Math.sqrt(n)); // the 0.1 % critical value
    expect(xs[0]!).toBeGreaterThanOrEqual(-1.5);
    expect(xs[n - 1]!).toBeLessThanOrEqual(2);
  });

  it("normal and uniform factories scale as JAX's (stddev, [0, scale))", () => {
    const z = toNums(I.normal(0.5)(key, [4000], "float64"));
    expect(Math.sqrt(moments(z)[1])).toBeCloseTo(0.5, 1);
    const u = toNums(I.uniform(0.2)(key, [1000]));
    expect(u.every((x) => x >= 0 && x < 0.2)).toBe(true);
  });

  it("orthogonal: orthonormal columns or rows along columnAxis, times scale; Haar moments of an entry", () => {
    for (const [shape, axis] of [
      [[6, 4], -1],
      [[3, 7], -1],
      [[2, 3, 5], -1],
      [[4, 9], 0],
    ] as const) {
      const q = I.orthogonal(2, axis)(key, [...shape], "float64");
      expect(q.shape).toEqual(shape);
      const cols = shape[axis < 0 ? shape.length + axis : axis]!;
      const m = np.moveaxis(q, axis, -1).reshape([-1, cols]);
      const [r, c] = m.shape as [number, number];
      const gram = toNums(r >= c ? np.matmul(m.T, m) : np.matmul(m, m.T));
      const k = Math.min(r, c);
      gram.forEach((g, t) => expect(Math.abs(g - (t % (k + 1) === 0 ? 4 : 0))).toBeLessThan(1e-12));
    }
    // Over many keys, Q[0, 0] of a Haar 4×4 matrix has mean 0 and variance 1/4.
    const q00 = toNums(vmap((k: NDArray) => np.take(I.orthogonal()(k, [4, 4], "float64").reshape([16]), 0))(random.split(random.key(7), 4000)));
    const [mean, variance] = moments(q00);
    expect(Math.abs(mean)).toBeLessThan(4 * Math.sqrt(0.25 / 4000));
    expect(Math.abs(variance - 0.25)).toBeLessThan(0.02);
    expect(() => I.orthogonal()(key, [5])).toThrow(ShapeError);
    expect(() => I.orthogonal(1, 1.5)).toThrow(ArgumentError);
  });

  it("typed errors: rank-1 shapes for fan-based ones, int dtypes, bad modes", () => {
    expect(() => I.glorotUniform()(key, [5])).toThrow(ShapeError);
    expect(() => I.heNormal()(key, [2, 2], "int32")).toThrow(DTypeError);
    expect(() => I.varianceScaling(1, "fan_in" as never, "normal")).toThrow(ArgumentError);
    expect(() => I.truncatedNormal(1, 2, -2)).toThrow(ArgumentError);
  });
});
