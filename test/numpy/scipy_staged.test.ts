/**
 * scipy.special's functions and scipy.stats's densities run eagerly as one cached compiled program
 * each (src/core/staged.ts). Each must give the bits it gives primitive by primitive (under a
 * pass-through interpreter nothing is staged), for calls that share a cache key across shapes,
 * ranks and dtypes, and for every static argument the key holds (polygamma's n, multigammaln's d,
 * logsumexp's axes, keepdims and weights, softmax's axes). Operands are broadcast inside the
 * program, so scalar and full-shaped parameters are mixed too. A NaN's sign and payload are the
 * one thing compiled loops and eager kernels need not share (as for the jit = eager law), so every
 * NaN is compared as one pattern.
 */
import { describe, expect, it } from "vitest";
import { type NDArray, ShapeError, np, scipy } from "../../src/index.js";
import { clearStaged } from "../../src/core/staged.js";
import { primitiveByPrimitive, rawBits } from "../helpers.js";

/** `rawBits` with every NaN made the one NaN first. */
const bits = (x: NDArray): number[][] => rawBits(np.where(np.isnan(x), NaN, x));

const sp = scipy.special,
  st = scipy.stats;

/** Values through `shape`, with NaN, ±inf, 0 and -0 among them. */
const data = (shape: number[], dtype: "float32" | "float64" = "float32", seed = 1): NDArray => {
  const n = shape.reduce((a, b) => a * b, 1);
  const v = Array.from({ length: n }, (_, i) => Math.sin(i * 1.7 + seed) * (2 + (i % 5)));
  const special = [NaN, Infinity, -Infinity, 0, -0];
  for (let j = 0; j < special.length && 2 * j + 1 < n; j++) v[2 * j + 1] = special[j]!;
  return np.array(v, { dtype }).reshape(shape);
};
const pos = (x: NDArray) => np.add(np.abs(x), 0.25);
const unit = (x: NDArray) => np.tanh(x);
const prob = (x: NDArray) => np.multiply(np.add(np.tanh(x), 1), 0.5);

describe("scipy functions called eagerly equal their primitive-by-primitive bits", () => {
  const calls: [string, (x: NDArray) => NDArray][] = [
    ["erf, erfc", (x) => np.stack([sp.erf(x), sp.erfc(x)])],
    ["erfinv, ndtri", (x) => np.stack([sp.erfinv(unit(x)), sp.ndtri(prob(x))])],
    ["gammaln, gamma, digamma", (x) => np.stack([sp.gammaln(x), sp.gamma(x), sp.digamma(x)])],
    ["xlogy, xlog1py against a scalar and an array", (x) => np.stack([sp.xlogy(x, pos(x)), sp.xlog1py(0.5, x)])],
    ["entr, logit", (x) => np.stack([sp.entr(x), sp.logit(prob(x))])],
    ["ndtr, logNdtr", (x) => np.stack([sp.ndtr(x), sp.logNdtr(x)])],
    ["betaln, zeta", (x) => np.stack([sp.betaln(pos(x), 1.5), sp.zeta(np.add(pos(x), 1), pos(x))])],
    ["polygamma 1 then 2 (n in the key)", (x) => np.stack([sp.polygamma(1, pos(x)), sp.polygamma(2, pos(x))])],
    ["multigammaln 2 then 3 (d in the key)", (x) => np.stack([sp.multigammaln(np.add(pos(x), 1), 2), sp.multigammaln(np.add(pos(x), 2), 3)])],
    ["gammainc, gammaincc", (x) => np.stack([sp.gammainc(pos(x), np.abs(x)), sp.gammaincc(1.5, np.abs(x))])],
    ["i0e", (x) => sp.i0e(x)],
    [
      "logsumexp: all axes, axis 0 dropped then kept, with weights",
      (x) =>
        np.stack([
          np.broadcastTo(sp.logsumexp(x), x.shape),
          np.broadcastTo(sp.logsumexp(x, 0), x.shape),
          np.broadcastTo(sp.logsumexp(x, { axis: 0, keepdims: true }), x.shape),
          np.broadcastTo(sp.logsumexp(x, { axis: 0, keepdims: true, b: prob(x) }), x.shape),
        ]),
    ],
    ["softmax, logSoftmax along -1 then 0", (x) => np.stack([sp.softmax(x), sp.logSoftmax(x), sp.softmax(x, 0), sp.logSoftmax(x, 0)])],
    [
      "norm: logpdf, pdf, cdf, logcdf, sf, ppf, scalar and array loc and scale",
      (x) =>
        np.stack([
          st.norm.logpdf(x),
          st.norm.pdf(x, 0.5, pos(x)),
          st.norm.cdf(x, x, 2),
          st.norm.logcdf(x),
          st.norm.sf(x, 1),
          st.norm.ppf(prob(x), 0.5, 2),
        ]),
    ],
    [
      "uniform, expon, laplace, logistic, cauchy",
      (x) =>
        np.stack([st.uniform.logpdf(x, -1, 3), st.expon.pdf(x), st.laplace.logpdf(x, 0.5), st.logistic.pdf(x, 0, 2), st.cauchy.logpdf(x, x, pos(x))]),
    ],
    [
      "t, gamma, beta",
      (x) =>
        np.stack([
          st.t.logpdf(x, 3),
          st.t.pdf(x, pos(x), 1, 2),
          st.gamma.logpdf(pos(x), 2),
          st.beta.logpdf(prob(x), 2, pos(x)),
          st.beta.pdf(prob(x), 0.5, 0.5),
        ]),
    ],
    [
      "bernoulli, poisson",
      (x) =>
        np.stack([
          st.bernoulli.logpmf(np.floor(prob(x)), prob(x)),
          st.poisson.pmf(np.floor(pos(x)), 2),
          st.poisson.logpmf(np.round(np.abs(x)), pos(x)),
        ]),
    ],
    ["dirichlet over the last axis", (x) => np.stack([st.dirichlet.logpdf(prob(x), pos(x)), st.dirichlet.pdf(prob(x), 2)])],
  ];
  for (const [name, call] of calls)
    it(name, () => {
      clearStaged();
      for (const x of [data([6, 5]), data([3, 8], "float32", 2), data([6, 5], "float64"), data([2, 3, 4])])
        expect(bits(call(x)), `${name} [${x.shape}] ${x.dtype}`).toEqual(bits(primitiveByPrimitive(() => call(x))));
    });

  it("multivariateNormal logpdf and pdf, for one and for a batch of covariances", () => {
    clearStaged();
    const cov = np.array([
      [2, 0.3, 0.1],
      [0.3, 1, 0.2],
      [0.1, 0.2, 1.5],
    ]);
    for (const [x, c] of [
      [data([4, 3]), cov],
      [data([2, 5, 3], "float32", 3), np.stack([cov, np.multiply(cov, 2)]).reshape([2, 1, 3, 3])],
    ] as const) {
      const call = () => np.stack([st.multivariateNormal.logpdf(x, np.zeros([3]), c), st.multivariateNormal.pdf(x, 0.5, c)]);
      expect(bits(call())).toEqual(bits(primitiveByPrimitive(call)));
    }
  });

  it("logsumexp keeps the reduced axes only when asked, whichever call came first", () => {
    clearStaged();
    const x = data([6, 5]);
    expect(sp.logsumexp(x, 0).shape).toEqual([5]);
    expect(sp.logsumexp(x, { axis: 0, keepdims: true }).shape).toEqual([1, 5]);
    expect(sp.logsumexp(x, 0).shape).toEqual([5]);
  });

  it("checks shapes before its program traces: a mean that does not broadcast, a scalar dirichlet", () => {
    expect(() => st.multivariateNormal.logpdf(data([4, 3]), np.zeros([2]), np.eye(3))).toThrow(ShapeError);
    expect(() => st.dirichlet.logpdf(0.5, 2)).toThrow(/need a last axis/);
  });
});
