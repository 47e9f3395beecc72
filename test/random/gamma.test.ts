/**
 * gamma, beta, dirichlet: Kolmogorov–Smirnov against CDFs computed here (a naive float64 series for
 * the regularised incomplete gamma function), moments, the reparameterised gradient against finite
 * differences of the CDF-inverse definition x(a) = P⁻¹(u; a), and jit / vmap / scan equal eager.
 */
import { describe, expect, it } from "vitest";
import { type NDArray, grad, jit, lax, np, random, vmap } from "../../src/index.js";

const vals = (x: NDArray): number[] => Array.from(x.dataSync(), Number);

/** log Γ by Lanczos (g = 7, n = 9), accurate to ~1e-15 for z > 0.5, reflection below. */
function lgammaRef(z: number): number {
  const g = 7;
  const p = [
    0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059, 12.507343278686905, -0.13857109526572012,
    9.9843695780195716e-6, 1.5056327351493116e-7,
  ];
  if (z < 0.5) return Math.log(Math.PI / Math.abs(Math.sin(Math.PI * z))) - lgammaRef(1 - z);
  z -= 1;
  let x = p[0]!;
  for (let i = 1; i < g + 2; i++) x += p[i]! / (z + i);
  const t = z + g + 0.5;
  return 0.5 * Math.log(2 * Math.PI) + (z + 0.5) * Math.log(t) - t + Math.log(x);
}

/** P(a, x) by its power series, summed until the terms vanish (fine for the moderate x used here). */
function gammaP(a: number, x: number): number {
  if (x <= 0) return 0;
  let term = 1 / a,
    sum = term;
  for (let n = 1; n < 2000 && term > sum * 1e-17; n++) {
    term *= x / (a + n);
    sum += term;
  }
  return Math.min(1, Math.exp(a * Math.log(x) - x - lgammaRef(a)) * sum);
}

/** x with P(a, x) = u, by bisection. */
function gammaPInv(a: number, u: number): number {
  let lo = 0,
    hi = 200;
  for (let i = 0; i < 200; i++) {
    const mid = (lo + hi) / 2;
    if (gammaP(a, mid) < u) lo = mid;
    else hi = mid;
  }
  return (lo + hi) / 2;
}

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
const N = 4000;
const ksCrit = 1.949 / Math.sqrt(N);

describe("gamma", () => {
  it.each([0.3, 1, 2.5, 9])("Gamma(%f) passes Kolmogorov–Smirnov against P(a, x)", (a) => {
    const x = vals(random.gamma(random.key(17), a, [N]));
    expect(ks(x, (v) => gammaP(a, v))).toBeLessThan(ksCrit);
    for (const v of x) expect(v).toBeGreaterThanOrEqual(0);
  });

  it("the reparameterised gradient equals finite differences of x(a) = P⁻¹(u; a) at fixed u", () => {
    const a = [0.5, 1.3, 2.5, 7];
    const k = random.key(5);
    const x = vals(random.gamma(k, np.array(a, { dtype: "float64" })));
    const g = vals(grad((aa: NDArray) => np.sum(random.gamma(k, aa)))(np.array(a, { dtype: "float64" })));
    const h = 1e-5;
    a.forEach((ai, i) => {
      const u = gammaP(ai, x[i]!);
      const fd = (gammaPInv(ai + h, u) - gammaPInv(ai - h, u)) / (2 * h);
      expect(Math.abs(g[i]! - fd)).toBeLessThan(1e-4 * Math.max(1, Math.abs(fd)));
    });
  });

  it("under jit and vmap equals eager, and inside scan", () => {
    const f = (k: NDArray) => random.gamma(k, 1.7, [3]);
    const keys = random.split(random.key(2), 3);
    const loop = [...keys].flatMap((kk) => vals(f(kk)));
    expect(vals(jit(f)(random.key(4)))).toEqual(vals(f(random.key(4))));
    expect(vals(vmap(f)(keys))).toEqual(loop);
    const [, ys] = lax.scan((c: NDArray, kk: NDArray) => [c, f(kk)], np.zeros([]), keys);
    expect(vals(ys as NDArray)).toEqual(loop);
  });
});

describe("beta and dirichlet", () => {
  it("Beta(2, 3) passes Kolmogorov–Smirnov against its CDF I_x(2, 3) = 6x² - 8x³ + 3x⁴", () => {
    const x = vals(random.beta(random.key(8), 2, 3, [N]));
    expect(ks(x, (v) => (v <= 0 ? 0 : v >= 1 ? 1 : 6 * v * v - 8 * v ** 3 + 3 * v ** 4))).toBeLessThan(ksCrit);
  });

  it("Dirichlet rows sum to 1 and have mean α / Σα", () => {
    const alpha = [1, 2, 3];
    const d = random.dirichlet(random.key(9), np.array(alpha), [N]);
    expect(d.shape).toEqual([N, 3]);
    const v = vals(d);
    for (let i = 0; i < N; i++) expect(Math.abs(v[3 * i]! + v[3 * i + 1]! + v[3 * i + 2]! - 1)).toBeLessThan(1e-5);
    alpha.forEach((ai, j) => {
      const m = v.filter((_, i) => i % 3 === j).reduce((s, x) => s + x, 0) / N;
      const mean = ai / 6,
        sd = Math.sqrt((mean * (1 - mean)) / 7 / N); // Var = m (1 - m) / (Σα + 1)
      expect(Math.abs(m - mean)).toBeLessThan(5 * sd);
    });
  });

  it("beta and dirichlet under jit equal eager", () => {
    const f = (k: NDArray) => np.concatenate([random.beta(k, 2, 0.5, [3]), random.dirichlet(k, np.array([0.5, 1]))]);
    expect(vals(jit(f)(random.key(6)))).toEqual(vals(f(random.key(6))));
  });
});
