/**
 * Traced random numbers: the threefry2x32 cipher against the Random123 known-answer vectors, keys,
 * split and uniform/normal against values JAX prints, determinism and independence, every sampler
 * under jit / vmap / scan equal to eager, and statistical tests at fixed seeds (Kolmogorov–Smirnov
 * against exact CDFs written here, chi-square for the discrete samplers).
 */
import { describe, expect, it } from "vitest";
import { type NDArray, jit, lax, np, random, vmap } from "../../src/index.js";
import { threefry2x32 } from "../../src/random.js";

const u32 = (a: number[]) => np.array(a, { dtype: "uint32" });
const vals = (x: NDArray): number[] => Array.from(x.dataSync(), Number);

// ---------------------------------------------------------------- references (independent of the library)

/** erf by its Maclaurin series (|x| < 5 in float64 loses < 1e-9 to cancellation), 1 beyond. */
function erfRef(x: number): number {
  if (Math.abs(x) > 5) return Math.sign(x);
  let term = x,
    sum = x;
  for (let n = 1; n < 200; n++) {
    term *= (-x * x) / n;
    sum += term / (2 * n + 1);
  }
  return (2 / Math.sqrt(Math.PI)) * sum;
}
const phi = (x: number) => 0.5 * (1 + erfRef(x / Math.SQRT2));

/** The Kolmogorov–Smirnov distance between a sample and a continuous CDF. */
function ks(sample: number[], cdf: (x: number) => number): number {
  const s = sample.slice().sort((a, b) => a - b);
  const n = s.length;
  let d = 0;
  s.forEach((x, i) => {
    const f = cdf(x);
    d = Math.max(d, Math.abs(f - i / n), Math.abs((i + 1) / n - f));
  });
  return d;
}
/** The KS critical distance at significance 0.001 (asymptotic: 1.949 / √n). */
const ksCrit = (n: number) => 1.949 / Math.sqrt(n);

/** Pearson's chi-square statistic of observed counts against expected probabilities. */
function chiSquare(sample: number[], probs: number[]): number {
  const n = sample.length;
  const counts = probs.map(() => 0);
  for (const v of sample) counts[v]!++;
  return counts.reduce((s, c, i) => s + (c - n * probs[i]!) ** 2 / (n * probs[i]!), 0);
}
/** Chi-square critical values at significance 0.001 for small degrees of freedom. */
const CHI_CRIT: Record<number, number> = { 1: 10.83, 2: 13.82, 3: 16.27, 4: 18.47, 5: 20.52, 9: 27.88 };

const N = 8000;

describe("threefry2x32", () => {
  // Random123's known-answer vectors for threefry2x32_20 (kat_vectors): key, counter -> output.
  const kat: [number[], number[], number[]][] = [
    [
      [0, 0],
      [0, 0],
      [0x6b200159, 0x99ba4efe],
    ],
    [
      [0xffffffff, 0xffffffff],
      [0xffffffff, 0xffffffff],
      [0x1cb996fc, 0xbb002be7],
    ],
    [
      [0x13198a2e, 0x03707344],
      [0x243f6a88, 0x85a308d3],
      [0xc4923a9c, 0x483df7a0],
    ],
  ];
  it.each(kat)("matches Random123 for key %j, counter %j", (k, c, want) => {
    const [y0, y1] = threefry2x32(u32(k), u32([c[0]!]), u32([c[1]!]));
    expect([...vals(y0), ...vals(y1)]).toEqual(want);
  });

  it("gives the same bits under jit and vmap", () => {
    const f = (k: NDArray, a: NDArray, b: NDArray) => np.stack(threefry2x32(k, a, b));
    const k = u32([0x13198a2e, 0x03707344]),
      a = u32([0x243f6a88, 1, 2]),
      b = u32([0x85a308d3, 3, 4]);
    expect(vals(jit(f)(k, a, b))).toEqual(vals(f(k, a, b)));
    const keys = u32([0, 0, 0xffffffff, 0xffffffff]).reshape([2, 2]);
    const batched = vmap((kk: NDArray) => f(kk, a, b))(keys);
    expect(vals(batched)).toEqual([...vals(f(u32([0, 0]), a, b)), ...vals(f(u32([0xffffffff, 0xffffffff]), a, b))]);
  });
});

describe("keys", () => {
  it("key(seed) is JAX's PRNGKey: [seed / 2^32, seed mod 2^32] as uint32", () => {
    expect(random.key(0).dtype).toBe("uint32");
    expect(vals(random.key(0))).toEqual([0, 0]);
    expect(vals(random.key(42))).toEqual([0, 42]);
    expect(vals(random.key(2 ** 32 + 5))).toEqual([1, 5]);
  });

  it("split(key(0)) is the value JAX prints: [[4146024105, 967050713], [2718843009, 1272950319]]", () => {
    const ks = random.split(random.key(0));
    expect(ks.shape).toEqual([2, 2]);
    expect(ks.tolist()).toEqual([
      [4146024105, 967050713],
      [2718843009, 1272950319],
    ]);
  });

  it("split returns an array that destructures into keys (arrays iterate over axis 0)", () => {
    const [k1, k2, k3] = random.split(random.key(7), 3);
    expect(k1!.shape).toEqual([2]);
    expect(vals(k3!)).toEqual(vals(random.split(random.key(7), 3)).slice(4, 6));
    expect(vals(k1!)).not.toEqual(vals(k2!));
    expect(() => [...np.array(1)]).toThrow(/0-d/);
  });

  it("foldIn is deterministic, differs per datum, and agrees for a number and an int32 scalar", () => {
    const k = random.key(3);
    expect(vals(random.foldIn(k, 5))).toEqual(vals(random.foldIn(k, 5)));
    expect(vals(random.foldIn(k, 5))).not.toEqual(vals(random.foldIn(k, 6)));
    expect(vals(random.foldIn(k, np.array(5, { dtype: "int32" })))).toEqual(vals(random.foldIn(k, 5)));
    expect(vals(jit((kk: NDArray, d: NDArray) => random.foldIn(kk, d))(k, np.array(5, { dtype: "int32" })))).toEqual(vals(random.foldIn(k, 5)));
  });

  it("rejects a non-key with a typed error that names the function", () => {
    expect(() => random.normal(np.array([0, 0], { dtype: "int32" }))).toThrow(/random\.normal: a key is a uint32 array of shape \[2\]/);
    expect(() => random.uniform(random.split(random.key(0), 4))).toThrow(/vmap over it/);
    expect(() => random.split(random.key(0), 0)).toThrow(/positive integer/);
  });
});

describe("uniform and normal match JAX", () => {
  it("uniform(key(0)) = 0.41845703 and normal(key(0)) = -0.20584226, JAX's printed values", () => {
    expect(random.uniform(random.key(0)).item()).toBe(Math.fround(0.41845703125));
    expect(random.normal(random.key(0)).item()).toBeCloseTo(-0.20584226, 6);
  });

  it("uniform's float32 values are multiples of 2^-23 in [0, 1)", () => {
    const u = vals(random.uniform(random.key(1), [1000]));
    for (const v of u) {
      expect(v).toBeGreaterThanOrEqual(0);
      expect(v).toBeLessThan(1);
      expect(Number.isInteger(v * 2 ** 23)).toBe(true);
    }
  });
});

describe("determinism and independence", () => {
  it("the same key gives the same draws; split keys give uncorrelated draws", () => {
    const k = random.key(11);
    expect(vals(random.normal(k, [50]))).toEqual(vals(random.normal(k, [50])));
    const [a, b] = random.split(k);
    const x = vals(random.normal(a!, [N])),
      y = vals(random.normal(b!, [N]));
    const corr = x.reduce((s, v, i) => s + v * y[i]!, 0) / N;
    // |correlation| of independent standard normals has standard deviation 1/√N.
    expect(Math.abs(corr)).toBeLessThan(4 / Math.sqrt(N));
  });
});

/** Every sampler, as a function of the key only, with its exact CDF (continuous) or probabilities. */
const continuous: [string, (k: NDArray, shape: number[]) => NDArray, (x: number) => number][] = [
  ["uniform", (k, s) => random.uniform(k, s), (x) => Math.min(Math.max(x, 0), 1)],
  ["uniform [-2, 3)", (k, s) => random.uniform(k, s, "float32", -2, 3), (x) => Math.min(Math.max((x + 2) / 5, 0), 1)],
  ["uniform float64", (k, s) => random.uniform(k, s, "float64"), (x) => Math.min(Math.max(x, 0), 1)],
  ["normal", (k, s) => random.normal(k, s), phi],
  ["normal float64", (k, s) => random.normal(k, s, "float64"), phi],
  ["exponential", (k, s) => random.exponential(k, s), (x) => (x < 0 ? 0 : 1 - Math.exp(-x))],
  ["laplace", (k, s) => random.laplace(k, s), (x) => (x < 0 ? 0.5 * Math.exp(x) : 1 - 0.5 * Math.exp(-x))],
  ["logistic", (k, s) => random.logistic(k, s), (x) => 1 / (1 + Math.exp(-x))],
  ["gumbel", (k, s) => random.gumbel(k, s), (x) => Math.exp(-Math.exp(-x))],
  ["cauchy", (k, s) => random.cauchy(k, s), (x) => 0.5 + Math.atan(x) / Math.PI],
  ["cauchy float64", (k, s) => random.cauchy(k, s, "float64"), (x) => 0.5 + Math.atan(x) / Math.PI],
  [
    "truncatedNormal [-1, 2]",
    (k, s) => random.truncatedNormal(k, -1, 2, s),
    (x) => Math.min(Math.max((phi(x) - phi(-1)) / (phi(2) - phi(-1)), 0), 1),
  ],
];

describe("continuous samplers: Kolmogorov–Smirnov against the exact CDF at fixed seeds", () => {
  it.each(continuous)("%s", (_name, draw, cdf) => {
    const x = vals(draw(random.key(2024), [N]));
    expect(ks(x, cdf)).toBeLessThan(ksCrit(N));
  });

  it("normal has mean 0 and variance 1 within 4 standard errors", () => {
    const x = vals(random.normal(random.key(5), [N]));
    const m = x.reduce((a, b) => a + b) / N;
    const v = x.reduce((a, b) => a + (b - m) ** 2, 0) / (N - 1);
    expect(Math.abs(m)).toBeLessThan(4 / Math.sqrt(N));
    // var of the sample variance of a normal is 2/(N-1)
    expect(Math.abs(v - 1)).toBeLessThan(4 * Math.sqrt(2 / (N - 1)));
  });

  it("truncatedNormal stays inside its bounds", () => {
    const x = vals(random.truncatedNormal(random.key(9), 0.5, 0.7, [2000]));
    for (const v of x) expect(v >= Math.fround(0.5) && v <= Math.fround(0.7)).toBe(true);
  });
});

describe("discrete samplers: chi-square at fixed seeds", () => {
  it("bernoulli(p = 0.3)", () => {
    const x = vals(random.bernoulli(random.key(1), 0.3, [N]));
    expect(chiSquare(x, [0.7, 0.3])).toBeLessThan(CHI_CRIT[1]!);
  });

  it("rademacher gives ±1 with probability 1/2 each, int32 unless a float dtype is asked for", () => {
    const r = random.rademacher(random.key(4), [N]);
    expect(r.dtype).toBe("int32");
    const x = vals(r);
    expect(x.every((v) => v === 1 || v === -1)).toBe(true);
    expect(
      chiSquare(
        x.map((v) => (v + 1) / 2),
        [0.5, 0.5],
      ),
    ).toBeLessThan(CHI_CRIT[1]!);
    expect(random.rademacher(random.key(4), [3], "float64").dtype).toBe("float64");
    expect(() => random.rademacher(random.key(4), [3], "bool")).toThrow(/random.rademacher: dtype/);
  });

  it("bernoulli with an array p broadcasts and takes p's shape by default", () => {
    const b = random.bernoulli(random.key(2), np.array([0, 1, 0.5]));
    expect(b.shape).toEqual([3]);
    expect(vals(b).slice(0, 2)).toEqual([0, 1]);
  });

  it("randint in [-3, 7)", () => {
    const x = vals(random.randint(random.key(3), [N], -3, 7));
    expect(
      chiSquare(
        x.map((v) => v + 3),
        new Array(10).fill(0.1),
      ),
    ).toBeLessThan(CHI_CRIT[9]!);
    expect(random.randint(random.key(3), [2], -3, 7).dtype).toBe("int32");
  });

  it("categorical follows softmax(logits)", () => {
    const p = [0.1, 0.2, 0.3, 0.4];
    const x = vals(random.categorical(random.key(4), np.log(np.array(p)), { shape: [N] }));
    expect(chiSquare(x, p)).toBeLessThan(CHI_CRIT[3]!);
  });

  it("categorical over axis 0 of a [4, 3] batch of logits gives 3 draws", () => {
    const logits = np.array([
      [0, -50, -50],
      [-50, 0, -50],
      [-50, -50, 0],
      [-50, -50, -50],
    ]);
    expect(vals(random.categorical(random.key(0), logits, { axis: 0 }))).toEqual([0, 1, 2]);
  });

  it("permutation is a permutation, uniform over first positions", () => {
    const p = vals(random.permutation(random.key(6), 10));
    expect(p.slice().sort((a, b) => a - b)).toEqual([...Array(10).keys()]);
    const all = vals(vmap((k: NDArray) => random.permutation(k, 5))(random.split(random.key(8), 2000)));
    const firsts = all.filter((_, i) => i % 5 === 0);
    expect(chiSquare(firsts, new Array(5).fill(0.2))).toBeLessThan(CHI_CRIT[4]!);
  });

  it("shuffle permutes an array's rows", () => {
    const x = np.arange(12).reshape([4, 3]);
    const y = random.shuffle(random.key(1), x).tolist() as number[][];
    expect(y.map((r) => r[0]!).sort((a, b) => a - b)).toEqual([0, 3, 6, 9]);
    for (const r of y) expect(r).toEqual([r[0]!, r[0]! + 1, r[0]! + 2]);
  });
});

/** Samplers as functions of a key only, for the transform checks. */
const samplers: [string, (k: NDArray) => NDArray][] = [
  ["split", (k) => random.split(k, 3)],
  ["foldIn", (k) => random.foldIn(k, 17)],
  ["bits", (k) => random.bits(k, [5])],
  ["uniform", (k) => random.uniform(k, [2, 3])],
  ["normal", (k) => random.normal(k, [5])],
  ["normal float64", (k) => random.normal(k, [3], "float64")],
  ["truncatedNormal", (k) => random.truncatedNormal(k, -1, 1, [4])],
  ["bernoulli", (k) => random.bernoulli(k, 0.4, [6])],
  ["gumbel", (k) => random.gumbel(k, [3])],
  ["exponential", (k) => random.exponential(k, [3])],
  ["laplace", (k) => random.laplace(k, [3])],
  ["logistic", (k) => random.logistic(k, [3])],
  ["cauchy", (k) => random.cauchy(k, [3])],
  ["rademacher", (k) => random.rademacher(k, [5])],
  ["categorical", (k) => random.categorical(k, np.array([0.5, 1, -1]), { shape: [4] })],
  ["randint", (k) => random.randint(k, [5], 0, 100)],
  ["permutation", (k) => random.permutation(k, 6)],
];

describe("every sampler under jit, vmap and scan equals eager", () => {
  const keys = random.split(random.key(99), 3);
  it.each(samplers)("%s", (_name, f) => {
    const k = random.key(123);
    const eager = f(k);
    expect(vals(jit(f)(k))).toEqual(vals(eager));
    const batched = vmap(f)(keys);
    const loop = [...keys].map((kk) => vals(f(kk)));
    expect(vals(batched)).toEqual(loop.flat());
    expect(vals(jit(vmap(f))(keys))).toEqual(loop.flat());
    const [, ys] = lax.scan((c: NDArray, kk: NDArray) => [c, f(kk)], np.zeros([]), keys);
    expect(vals(ys as NDArray)).toEqual(loop.flat());
  });
});

describe("poisson and choice", () => {
  const fact = (k: number): number => (k <= 1 ? 1 : k * fact(k - 1));
  it("poisson(3) passes chi-square against e^-λ λ^k / k! (tail pooled) and returns int32", () => {
    const lam = 3;
    const x = vals(random.poisson(random.key(12), lam, [N]));
    expect(random.poisson(random.key(12), lam, [2]).dtype).toBe("int32");
    const probs = [0, 1, 2, 3, 4, 5].map((k) => (Math.exp(-lam) * lam ** k) / fact(k));
    probs.push(1 - probs.reduce((a, b) => a + b, 0));
    expect(
      chiSquare(
        x.map((v) => Math.min(v, 6)),
        probs,
      ),
    ).toBeLessThan(22.46); // 6 degrees of freedom, 0.001
  });

  it("choice with replacement follows p", () => {
    const p = [0.5, 0.25, 0.125, 0.125];
    const x = vals(random.choice(random.key(13), 4, { shape: [N], p: np.array(p) }));
    expect(chiSquare(x, p)).toBeLessThan(CHI_CRIT[3]!);
  });

  it("choice without replacement gives distinct entries; its first pick follows p", () => {
    const picks = random.choice(random.key(14), np.arange(10).mul(10), { shape: [10], replace: false });
    expect(vals(picks).sort((a, b) => a - b)).toEqual([0, 10, 20, 30, 40, 50, 60, 70, 80, 90]);
    const p = [0.1, 0.2, 0.3, 0.4];
    const first = vals(
      vmap((k: NDArray) => random.choice(k, 4, { shape: [2], replace: false, p: np.array(p) }))(random.split(random.key(15), 3000)),
    ).filter((_, i) => i % 2 === 0);
    expect(chiSquare(first, p)).toBeLessThan(CHI_CRIT[3]!);
    expect(() => random.choice(random.key(0), 3, { shape: [4], replace: false })).toThrow(/without replacement/);
  });

  it("poisson and choice under jit, vmap and scan equal eager", () => {
    const fs = [(k: NDArray) => random.poisson(k, 2.5, [4]), (k: NDArray) => random.choice(k, 5, { shape: [3], replace: false })];
    const keys = random.split(random.key(21), 3);
    for (const f of fs) {
      const loop = [...keys].flatMap((kk) => vals(f(kk)));
      expect(vals(jit(f)(random.key(1)))).toEqual(vals(f(random.key(1))));
      expect(vals(vmap(f)(keys))).toEqual(loop);
      const [, ys] = lax.scan((c: NDArray, kk: NDArray) => [c, f(kk)], np.zeros([]), keys);
      expect(vals(ys as NDArray)).toEqual(loop);
    }
  });
});

describe("multivariateNormal", () => {
  it("has the given mean and covariance within sampling error, and jit/vmap equal eager", () => {
    const mean = [1, -2, 0.5];
    const cov = [
      [2, 0.6, -0.4],
      [0.6, 1, 0.2],
      [-0.4, 0.2, 0.5],
    ];
    const x = vals(random.multivariateNormal(random.key(31), np.array(mean), np.array(cov), [N]));
    const m = [0, 1, 2].map((j) => x.filter((_, i) => i % 3 === j).reduce((s, v) => s + v, 0) / N);
    m.forEach((v, j) => expect(Math.abs(v - mean[j]!)).toBeLessThan(4 * Math.sqrt(cov[j]![j]! / N)));
    for (let a = 0; a < 3; a++)
      for (let b = 0; b < 3; b++) {
        let c = 0;
        for (let i = 0; i < N; i++) c += (x[3 * i + a]! - m[a]!) * (x[3 * i + b]! - m[b]!);
        c /= N - 1;
        // sd of a sample covariance: sqrt((σ_aa σ_bb + σ_ab²) / N)
        expect(Math.abs(c - cov[a]![b]!)).toBeLessThan(5 * Math.sqrt((cov[a]![a]! * cov[b]![b]! + cov[a]![b]! ** 2) / N));
      }
    const f = (k: NDArray) => random.multivariateNormal(k, np.array(mean), np.array(cov), [2]);
    const keys = random.split(random.key(1), 2);
    expect(vals(jit(f)(random.key(3)))).toEqual(vals(f(random.key(3))));
    expect(vals(vmap(f)(keys))).toEqual([...keys].flatMap((kk) => vals(f(kk))));
  });
});

describe("orthogonal", () => {
  it("gives QᵀQ = I, Haar moments of Q[0, 0] (mean 0, variance 1/n), and jit equal to eager", () => {
    const n = 4;
    const q = vals(random.orthogonal(random.key(40), n));
    for (let a = 0; a < n; a++)
      for (let b = 0; b < n; b++) {
        let s = 0;
        for (let i = 0; i < n; i++) s += q[i * n + a]! * q[i * n + b]!;
        expect(Math.abs(s - (a === b ? 1 : 0))).toBeLessThan(1e-5);
      }
    // Haar: the first entry Q[0, 0] of an n x n draw has mean 0 and variance 1/n.
    const firsts = vals(vmap((k: NDArray) => random.orthogonal(k, 3))(random.split(random.key(41), 3000))).filter((_, i) => i % 9 === 0);
    const m = firsts.reduce((s, v) => s + v, 0) / firsts.length;
    const v = firsts.reduce((s, x) => s + x * x, 0) / firsts.length;
    expect(Math.abs(m)).toBeLessThan(4 * Math.sqrt(1 / 3 / 3000));
    expect(Math.abs(v - 1 / 3)).toBeLessThan(0.03);
    const f = (k: NDArray) => random.orthogonal(k, 3);
    expect(vals(jit(f)(random.key(2)))).toEqual(vals(f(random.key(2))));
    expect(random.orthogonal(random.key(0), 2, [5]).shape).toEqual([5, 2, 2]);
  });
});
