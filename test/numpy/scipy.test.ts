/**
 * scipy.special and scipy.stats: values against independent references (quadrature of the
 * defining integrals, closed forms at integers and half-integers, hand-computed densities),
 * derivatives by finite differences to second order, vmap against a loop, jit against eager.
 */
import { describe, expect, it } from "vitest";
import { ArgumentError, type NDArray, ShapeError, grad, np, scipy } from "../../src/index.js";
import { expectClose, expectGrads, expectVmapJit, f64, refErf, refErfc } from "./helpers.js";

const sp = scipy.special;
const EULER = 0.5772156649015329;
const fact = (n: number): number => (n <= 1 ? 1 : n * fact(n - 1));

describe("scipy.special", () => {
  it("erf and erfc against quadrature, both tails included", () => {
    const xs = [-4, -2.5, -1, -0.2, 0, 0.3, 1, 1.9, 2, 2.1, 3, 5];
    expectClose(
      sp.erf(f64(xs)),
      xs.map((x) => (x < 0 ? -refErf(-x) : refErf(x))),
      1e-12,
    );
    const ys = [-1.5, 0, 0.5, 1.5, 2, 3, 6, 10, 26];
    const want = ys.map((x) => (x < 0 ? 2 - refErfc(-x) : refErfc(x)));
    const got = Array.from(sp.erfc(f64(ys)).dataSync());
    got.forEach((g, i) => expect(Math.abs(g - want[i]!) / want[i]!, `erfc(${ys[i]})`).toBeLessThan(1e-9));
  });
  it("erf / erfc / erfinv derivatives (second order), vmap and jit", () => {
    for (const x of [-2.7, -0.4, 0.8, 1.99, 2.01, 3.5]) {
      expectGrads(sp.erf, [f64(x)]);
      expectGrads(sp.erfc, [f64(x)]);
    }
    for (const y of [-0.95, -0.3, 0, 0.5, 0.99]) expectGrads(sp.erfinv, [f64(y)]);
    expectVmapJit(
      sp.erf,
      f64([
        [0.1, 2.5],
        [-3, 1],
      ]),
    );
    expectVmapJit(
      sp.erfinv,
      f64([
        [0.1, 0.5],
        [-0.7, 0.9],
      ]),
    );
  });
  it("erfinv inverts the quadrature erf and is ±inf at ±1", () => {
    const ys = [-0.999, -0.6, -0.1, 0, 0.25, 0.9, 0.99999];
    const got = Array.from(sp.erfinv(f64(ys)).dataSync());
    got.forEach((x, i) => expect(Math.abs((x < 0 ? -refErf(-x) : refErf(x)) - ys[i]!), `erf(erfinv(${ys[i]}))`).toBeLessThan(1e-12));
    expectClose(sp.erfinv(f64([1, -1])), [Infinity, -Infinity]);
    expectClose(sp.erfinv(f64([1.5])), [NaN]);
  });
  it("gammaln and gamma against factorials and half-integer closed forms, and the reflection below 1/2", () => {
    const ns = [1, 2, 3, 5, 10, 20, 60];
    expectClose(
      sp.gammaln(f64(ns)),
      ns.map((n) => Math.log(fact(n - 1))),
      1e-13,
    );
    // Γ(n + 1/2) = (2n)! √π / (4ⁿ n!)
    const hs = [0, 1, 2, 6];
    expectClose(
      sp.gammaln(f64(hs.map((n) => n + 0.5))),
      hs.map((n) => Math.log((fact(2 * n) * Math.sqrt(Math.PI)) / (4 ** n * fact(n)))),
      1e-13,
    );
    // Γ(1/2 - n) = (-4)ⁿ n! √π / (2n)!
    const negs = [1, 2, 3];
    const gNeg = negs.map((n) => ((-4) ** n * fact(n) * Math.sqrt(Math.PI)) / fact(2 * n));
    expectClose(
      sp.gammaln(f64(negs.map((n) => 0.5 - n))),
      gNeg.map((g) => Math.log(Math.abs(g))),
      1e-13,
    );
    expectClose(sp.gamma(f64(negs.map((n) => 0.5 - n))), gNeg, 1e-13);
    expectClose(sp.gamma(f64([5, 0.5])), [24, Math.sqrt(Math.PI)], 1e-13);
    expectClose(sp.gammaln(f64([0, -2])), [Infinity, Infinity]);
  });
  it("digamma against ψ(n) = -γ + Σ 1/k and ψ(n + 1/2) = -γ - 2 log 2 + Σ 2/(2k - 1); it is gammaln's derivative", () => {
    const ns = [1, 2, 4, 9, 30];
    const h = (n: number) => Array.from({ length: n - 1 }, (_, k) => 1 / (k + 1)).reduce((a, b) => a + b, 0);
    expectClose(
      sp.digamma(f64(ns)),
      ns.map((n) => -EULER + h(n)),
      1e-13,
    );
    const hs = [0, 1, 3];
    const half = (n: number) => -EULER - 2 * Math.LN2 + Array.from({ length: n }, (_, k) => 2 / (2 * k + 1)).reduce((a, b) => a + b, 0);
    expectClose(sp.digamma(f64(hs.map((n) => n + 0.5))), hs.map(half), 1e-13);
    // Below 1/2, by the recurrence ψ(x) = ψ(x + 1) - 1/x twice: ψ(-1.5) = ψ(0.5) + 1/0.5 + 1/1.5.
    expectClose(sp.digamma(f64([-1.5])), [half(0) + 1 / 0.5 + 1 / 1.5], 1e-12);
    for (const x of [0.3, 1.7, 6, 12.5, -0.7]) {
      expectClose(grad((t: NDArray) => sp.gammaln(t))(f64(x)), Array.from(sp.digamma(f64(x)).dataSync()), 1e-11);
      expectGrads(sp.gammaln, [f64(x)]);
      expectGrads(sp.digamma, [f64(x)]);
    }
    expectVmapJit(
      sp.gammaln,
      f64([
        [0.3, 2.5],
        [9, -0.5],
      ]),
    );
    expectVmapJit(
      sp.digamma,
      f64([
        [0.3, 2.5],
        [9, -0.5],
      ]),
    );
  });
  it("xlogy, xlog1py, entr are 0 at x = 0 with finite gradients there", () => {
    expectClose(sp.xlogy(f64([0, 2, 3]), f64([0, 3, 0.5])), [0, 2 * Math.log(3), 3 * Math.log(0.5)], 1e-15);
    expectClose(sp.xlog1py(f64([0, 2]), f64([-1, 0.5])), [0, 2 * Math.log1p(0.5)], 1e-15);
    expectClose(sp.entr(f64([0, 0.5, -1])), [0, -0.5 * Math.log(0.5), -Infinity], 1e-15);
    expectClose(grad((y: NDArray) => sp.xlogy(f64(0), y))(f64(0)), [0]);
    expectGrads(sp.xlogy, [f64(1.5), f64(0.7)]);
    expectGrads(sp.xlog1py, [f64(1.5), f64(0.7)]);
    expectVmapJit(
      sp.xlogy,
      f64([
        [0, 1],
        [2, 3],
      ]),
      f64([
        [1, 2],
        [0.5, 4],
      ]),
    );
  });
  it("logit, expit, logsumexp (with b, axes, keepdims, infinities), softmax, logSoftmax", () => {
    expectClose(sp.logit(f64([0.25, 0.5])), [Math.log(1 / 3), 0], 1e-15);
    expectClose(sp.expit(f64([0, 2])), [0.5, 1 / (1 + Math.exp(-2))], 1e-15);
    const x = f64([
      [1, 2, 3],
      [-1000, -1000, -Infinity],
    ]);
    expectClose(sp.logsumexp(x, { axis: 1 }), [Math.log(Math.exp(1) + Math.exp(2) + Math.exp(3)), -1000 + Math.LN2], 1e-13);
    expectClose(sp.logsumexp(f64([-Infinity, -Infinity])), [-Infinity]);
    expectClose(sp.logsumexp(f64([1, 2]), { b: f64([2, 0.5]) }), [Math.log(2 * Math.E + 0.5 * Math.exp(2))], 1e-14);
    expect(sp.logsumexp(x, { axis: 1, keepdims: true }).shape).toEqual([2, 1]);
    expectClose(
      sp.softmax(f64([1, 2, 3])),
      [1, 2, 3].map((v) => Math.exp(v) / (Math.E + Math.exp(2) + Math.exp(3))),
      1e-15,
    );
    expectClose(
      np.sum(
        sp.softmax(
          f64([
            [1, 2],
            [3, 4],
          ]),
          { axis: 0 },
        ),
        { axis: 0 },
      ),
      [1, 1],
      1e-15,
    );
    expectGrads(
      (t: NDArray) => sp.logsumexp(t, { axis: 1 }),
      [
        f64([
          [1, 2, 3],
          [0.5, -1, 2],
        ]),
      ],
    );
    expectGrads(
      (t: NDArray) => sp.logSoftmax(t),
      [
        f64([
          [1, 2, 3],
          [0.5, -1, 2],
        ]),
      ],
    );
    expectVmapJit(
      (t: NDArray) => sp.logsumexp(t),
      f64([
        [1, 2],
        [3, 4],
      ]),
    );
    expect(() => sp.logsumexp(x, { axes: 1 } as never)).toThrow(ArgumentError);
  });
  it("ndtr, logNdtr (deep left tail), ndtri, betaln, multigammaln", () => {
    const xs = [-3, -0.5, 0, 1.2];
    expectClose(
      sp.ndtr(f64(xs)),
      xs.map((x) => (x < 0 ? refErfc(-x / Math.SQRT2) / 2 : 1 - refErfc(x / Math.SQRT2) / 2)),
      1e-11,
    );
    // log Φ(-40) from the asymptotic series: -x²/2 - log(-x √(2π)) + log(1 - 1/x² + 3/x⁴ - 15/x⁶)
    const t = -40;
    const want = (-t * t) / 2 - Math.log(-t * Math.sqrt(2 * Math.PI)) + Math.log(1 - 1 / t ** 2 + 3 / t ** 4 - 15 / t ** 6);
    expectClose(sp.logNdtr(f64([t])), [want], 1e-10);
    expectClose(sp.logNdtr(f64([0])), [Math.log(0.5)], 1e-15);
    expectClose(sp.ndtri(f64([0.5, 0.975, 0.025])), [0, 1.959963984540054, -1.959963984540054], 1e-12);
    expectClose(sp.betaln(f64([2]), f64([3])), [Math.log(1 / 12)], 1e-13);
    // Γ₂(a) = π^(1/2) Γ(a) Γ(a - 1/2): at a = 3, log(√π · 2 · (3√π/4)).
    expectClose(sp.multigammaln(f64([3]), 2), [Math.log(Math.sqrt(Math.PI) * 2 * ((3 * Math.sqrt(Math.PI)) / 4))], 1e-13);
    expectGrads(sp.logNdtr, [f64(-5)]);
    expectGrads(sp.ndtri, [f64(0.3)]);
    expect(() => sp.multigammaln(f64([3]), 0)).toThrow(ArgumentError);
  });
});

describe("zeta and polygamma", () => {
  it("against ζ(2) = π²/6, ζ(4) = π⁴/90, ζ(2, 1/2) = π²/2, ζ(3) (Apéry), ψ'(1) = π²/6, ψ''(1) = -2ζ(3)", () => {
    const apery = 1.2020569031595942;
    expectClose(sp.zeta(f64([2, 4, 2, 3]), f64([1, 1, 0.5, 1])), [Math.PI ** 2 / 6, Math.PI ** 4 / 90, Math.PI ** 2 / 2, apery], 1e-13);
    expectClose(sp.polygamma(1, f64([1, 0.5])), [Math.PI ** 2 / 6, Math.PI ** 2 / 2], 1e-13);
    expectClose(sp.polygamma(2, f64([1])), [-2 * apery], 1e-13);
    expectClose(sp.polygamma(0, f64([1])), [-EULER], 1e-14);
    // ψ' is digamma's derivative.
    expectClose(grad((t: NDArray) => sp.digamma(t))(f64(2.5)), Array.from(sp.polygamma(1, f64(2.5)).dataSync()), 1e-10);
    expectGrads((s: NDArray, q: NDArray) => sp.zeta(s, q), [f64(2.5), f64(1.5)]);
    expectVmapJit(
      (t: NDArray) => sp.polygamma(1, t),
      f64([
        [0.5, 1],
        [2, 7],
      ]),
    );
    expect(() => sp.polygamma(-1, f64([1]))).toThrow(ArgumentError);
  });
});

describe("gammainc and gammaincc", () => {
  /** Q(n, x) = Σ_{k<n} e^-x x^k / k! for integer n, each term from its logarithm (no overflow at large n). */
  const qInt = (n: number, x: number) => {
    let s = 0,
      logFact = 0;
    for (let j = 0; j < n; j++) {
      if (j > 0) logFact += Math.log(j);
      s += Math.exp(-x + (j === 0 ? 0 : j * Math.log(x)) - logFact);
    }
    return s;
  };

  it("P(1/2, x) = erf(√x), and Q(n, x) by its finite sum, on both sides of x = a + 1 and far into the tail", () => {
    const xs = [0, 0.01, 0.5, 1, 1.5, 2, 4, 9, 30];
    expectClose(
      sp.gammainc(0.5, f64(xs)),
      xs.map((x) => refErf(Math.sqrt(x))),
      1e-13,
    );
    for (const n of [1, 2, 7, 40, 400]) {
      const ys = [0.3, n / 2, n - 1, n, n + 1, n + 2 * Math.sqrt(n), 3 * n + 20];
      expectClose(
        sp.gammaincc(f64(n), f64(ys)),
        ys.map((x) => qInt(n, x)),
        1e-11,
      );
      expectClose(
        sp.gammainc(f64(n), f64(ys)),
        ys.map((x) => 1 - qInt(n, x)),
        1e-11,
      );
    }
    // Q keeps its relative accuracy in the far tail, where 1 - P would be all rounding.
    const far = sp.gammaincc(f64(2), f64(60)).item() as number;
    expect(Math.abs(far / qInt(2, 60) - 1)).toBeLessThan(1e-12);
  });

  it("edges: x = 0 and x = inf; NaN for a <= 0 or x < 0", () => {
    expect(sp.gammainc(f64([2, 2]), f64([0, Infinity])).tolist()).toEqual([0, 1]);
    expect(sp.gammaincc(f64([2, 2]), f64([0, Infinity])).tolist()).toEqual([1, 0]);
    expect(Array.from(sp.gammainc(f64([0, -1, 1]), f64([1, 1, -0.5])).dataSync()).every(Number.isNaN)).toBe(true);
  });

  it("derivatives in a and x (both modes, order 2), vmap and jit", () => {
    const dPdx = (a: number, x: number) => Math.exp((a - 1) * Math.log(x) - x) / fact(a - 1);
    expectClose(grad((x: NDArray) => sp.gammainc(3, x))(f64(2)), [dPdx(3, 2)], 1e-12);
    expectClose(grad((x: NDArray) => sp.gammainc(3, x))(f64(7)), [dPdx(3, 7)], 1e-12);
    for (const [a, x] of [
      [0.7, 0.4],
      [2.5, 6],
    ])
      expectGrads((aa: NDArray, xx: NDArray) => sp.gammainc(aa, xx), [f64(a!), f64(x!)]);
    expectVmapJit((x: NDArray) => sp.gammaincc(2.5, x), f64([0.5, 3, 9]));
  });
});

describe("i0e", () => {
  /** e^-|x| I0(x) = (1/π) ∫₀^π e^(|x|(cos t - 1)) dt by the trapezoid rule (exponentially accurate for this periodic integrand). */
  const ref = (x: number) => {
    const n = 20000;
    let s = 0;
    for (let i = 0; i <= n; i++) s += (i === 0 || i === n ? 0.5 : 1) * Math.exp(Math.abs(x) * (Math.cos((Math.PI * i) / n) - 1));
    return s / n;
  };

  it("values against the integral, across the switch to the asymptotic series", () => {
    const xs = [0, 0.5, -1, 3, -10, 19.9, 20, 20.1, 45, -300, 1e4];
    expectClose(sp.i0e(f64(xs)), xs.map(ref), 1e-12);
    expect(sp.i0e(f64([Infinity, NaN])).tolist()).toEqual([0, NaN]);
  });

  it("derivatives (both modes, order 2) away from the kink at 0, vmap and jit", () => {
    for (const x of [0.7, -2.5, 19.5, 21, -35]) expectGrads((v: NDArray) => sp.i0e(v), [f64(x)]);
    expectVmapJit((v: NDArray) => sp.i0e(v), f64([0.3, -4, 25]));
  });
});

describe("scipy.special in float32", () => {
  it("erf, erfc, gammaln, digamma and erfinv stay within float32 accuracy of the float64 values", () => {
    const xs = Array.from({ length: 81 }, (_, i) => -4 + i * 0.1 + 0.05);
    const a = np.array(xs, { dtype: "float32" });
    const widened = Array.from(a.dataSync());
    const cases: [(x: NDArray) => NDArray, number][] = [
      [sp.erf, 1e-6],
      [sp.erfc, 1e-6],
      [sp.gammaln, 2e-5],
      [sp.digamma, 2e-5],
    ];
    for (const [f, tol] of cases) {
      const got = f(a);
      expect(got.dtype).toBe("float32");
      expectClose(got, Array.from(f(f64(widened)).dataSync()), tol);
    }
    const ps = np.array([-0.99, -0.5, 0.1, 0.9, 0.999], { dtype: "float32" });
    expectClose(sp.erfinv(ps), Array.from(sp.erfinv(f64(Array.from(ps.dataSync()))).dataSync()), 2e-6);
  });
});

describe("scipy.stats", () => {
  const st = scipy.stats;
  it("norm: logpdf, pdf, cdf, logcdf, sf, ppf with loc and scale", () => {
    const x = [-1, 0.5, 2];
    const z = x.map((v) => (v - 0.5) / 2);
    expectClose(
      st.norm.logpdf(f64(x), 0.5, 2),
      z.map((v) => -0.5 * v * v - Math.log(2 * Math.sqrt(2 * Math.PI))),
      1e-14,
    );
    expectClose(
      st.norm.pdf(f64(x), 0.5, 2),
      z.map((v) => Math.exp(-0.5 * v * v) / (2 * Math.sqrt(2 * Math.PI))),
      1e-14,
    );
    expectClose(np.add(st.norm.cdf(f64(x), 0.5, 2), st.norm.sf(f64(x), 0.5, 2)), [1, 1, 1], 1e-14);
    expectClose(st.norm.logcdf(f64([0.5]), 0.5, 2), [Math.log(0.5)], 1e-14);
    expectClose(st.norm.ppf(st.norm.cdf(f64(x), 0.5, 2), 0.5, 2), x, 1e-10);
    expectGrads((a: NDArray, m: NDArray, s: NDArray) => st.norm.logpdf(a, m, s), [f64(0.3), f64(-0.2), f64(1.5)]);
    expectGrads((a: NDArray) => st.norm.cdf(a), [f64(0.3)]);
    expectVmapJit(
      (a: NDArray) => st.norm.logcdf(a),
      f64([
        [0.3, -3],
        [2, 0],
      ]),
    );
  });
  it("multivariateNormal.logpdf against the 2x2 closed form, batched, with derivatives in x, mean and cov", () => {
    const cov = [
      [2, 0.5],
      [0.5, 1],
    ];
    const det = 2 - 0.25;
    const inv = [
      [1 / det, -0.5 / det],
      [-0.5 / det, 2 / det],
    ];
    const ref = (x: number[]) => {
      const q = x[0]! * (inv[0]![0]! * x[0]! + inv[0]![1]! * x[1]!) + x[1]! * (inv[1]![0]! * x[0]! + inv[1]![1]! * x[1]!);
      return -0.5 * q - 0.5 * Math.log(det) - Math.log(2 * Math.PI);
    };
    const xs = [
      [1, 2],
      [-0.5, 0.3],
      [0, 0],
    ];
    expectClose(st.multivariateNormal.logpdf(f64(xs), f64([0, 0]), f64(cov)), xs.map(ref), 1e-13);
    expectClose(st.multivariateNormal.pdf(f64([1, 2]), f64([1, 2]), f64(cov)), [Math.exp(ref([0, 0]))], 1e-13);
    const sym = (c: NDArray) => np.divide(np.add(c, np.transpose(c)), 2);
    expectGrads((x: NDArray, m: NDArray, c: NDArray) => st.multivariateNormal.logpdf(x, m, sym(c)), [f64([1, 2]), f64([0.1, -0.3]), f64(cov)]);
    expectVmapJit((x: NDArray) => st.multivariateNormal.logpdf(x, f64([0, 0]), f64(cov)), f64(xs));
    expect(() => st.multivariateNormal.logpdf(f64([1, 2]), f64([0, 0]), f64([[1, 0, 0]]))).toThrow(ShapeError);
  });
  it("the other log-densities against closed forms, -inf outside the support", () => {
    expectClose(st.uniform.logpdf(f64([0.5, 2, -1]), 0, 1.5), [-Math.log(1.5), -Infinity, -Infinity], 1e-15);
    expectClose(st.expon.logpdf(f64([2, -1]), 0, 0.5), [-4 - Math.log(0.5), -Infinity], 1e-15);
    expectClose(st.laplace.logpdf(f64([1.5]), 0.5, 2), [-0.5 - Math.log(4)], 1e-15);
    expectClose(st.logistic.logpdf(f64([0.7])), [-0.7 - 2 * Math.log1p(Math.exp(-0.7))], 1e-15);
    expectClose(st.cauchy.logpdf(f64([1])), [-Math.log(2 * Math.PI)], 1e-15);
    // t with 1 degree of freedom is Cauchy; with ν = 3 at 0: Γ(2)/(Γ(3/2)√(3π)).
    expectClose(st.t.logpdf(f64([1.3]), 1), [-Math.log(Math.PI * (1 + 1.69))], 1e-13);
    expectClose(st.t.logpdf(f64([0]), 3), [Math.log(1 / ((Math.sqrt(Math.PI) / 2) * Math.sqrt(3 * Math.PI)))], 1e-13);
    expectClose(st.gamma.logpdf(f64([2, -1]), 3), [Math.log((4 * Math.exp(-2)) / 2), -Infinity], 1e-13);
    expectClose(st.beta.logpdf(f64([0.25, 1.5]), 2, 3), [Math.log(12 * 0.25 * 0.75 ** 2), -Infinity], 1e-13);
    expectClose(st.bernoulli.logpmf(f64([1, 0, 2]), 0.3), [Math.log(0.3), Math.log(0.7), -Infinity], 1e-15);
    expectClose(st.poisson.logpmf(f64([3, 0, 1.5]), 2), [Math.log((8 * Math.exp(-2)) / 6), -2, -Infinity], 1e-13);
    expectClose(st.dirichlet.logpdf(f64([0.2, 0.3, 0.5]), f64([1, 2, 3])), [Math.log(60 * 0.3 * 0.25)], 1e-13);
    expectGrads((x: NDArray, a: NDArray) => st.gamma.logpdf(x, a), [f64(1.3), f64(2.5)]);
    // Second derivative of the logistic log-density at its mode: -1/2.
    expectClose(grad(grad((x: NDArray) => st.logistic.logpdf(x)))(f64(0)), [-0.5], 1e-12);
    expectGrads((x: NDArray, a: NDArray, b: NDArray) => st.beta.logpdf(x, a, b), [f64(0.3), f64(2.5), f64(1.5)]);
    expectGrads((x: NDArray, n: NDArray) => st.t.logpdf(x, n), [f64(0.3), f64(4.5)]);
    expectVmapJit(
      (x: NDArray) => st.poisson.logpmf(x, 2),
      f64([
        [0, 1],
        [2, 5],
      ]),
    );
  });
});
