/**
 * nn functions of several primitives, and np's var, std, prod, the doubling scans and the float
 * functions of many primitives, run eagerly as cached compiled programs (src/core/staged.ts).
 * Each must give the bits it gives primitive by primitive (under a pass-through interpreter nothing
 * is staged), for every static argument the cache key holds (axes, keepdims, epsilon, alpha, which
 * optional operands are given) and for operands of other shapes, ranks and dtypes under one key.
 */
import { describe, expect, it } from "vitest";
import { type NDArray, lax, nn, np } from "../../src/index.js";
import { clearStaged } from "../../src/core/staged.js";
import { primitiveByPrimitive, rawBits } from "../helpers.js";

const data = (shape: number[], dtype: "float32" | "float64" = "float32", seed = 1): NDArray => {
  const n = shape.reduce((a, b) => a * b, 1);
  const v = Array.from({ length: n }, (_, i) => Math.sin(i * 1.7 + seed) * (2 + (i % 5)));
  if (n > 3) v[1] = -Infinity; // a -inf logit, and a zero
  if (n > 4) v[3] = 0;
  return np.array(v, { dtype }).reshape(shape);
};

describe("nn functions and np reductions called eagerly equal their primitive-by-primitive bits", () => {
  const calls: [string, (x: NDArray) => NDArray][] = [
    ["softplus", (x) => nn.softplus(x)],
    ["logsumexp all", (x) => nn.logsumexp(x)],
    ["logsumexp axis 0 keepdims", (x) => nn.logsumexp(x, { axis: 0, keepdims: true })],
    ["logSoftmax", (x) => nn.logSoftmax(x)],
    ["logSoftmax axis 0", (x) => nn.logSoftmax(x, 0)],
    ["softmax", (x) => nn.softmax(x)],
    ["softmax all axes", (x) => nn.softmax(x, null)],
    ["gelu tanh", (x) => nn.gelu(x)],
    ["gelu erf", (x) => nn.gelu(x, { approximate: false })],
    ["elu", (x) => nn.elu(x)],
    ["elu alpha 0.5", (x) => nn.elu(x, 0.5)],
    ["celu alpha 2", (x) => nn.celu(x, { alpha: 2 })],
    ["selu", (x) => nn.selu(x)],
    ["hardSilu", (x) => nn.hardSilu(x)],
    [
      "lax.reduceWindow sum, max and min: SAME, VALID, pairs, strides, dilations",
      (x) => {
        const ones = x.shape.map(() => 1),
          twos = x.shape.map(() => 2);
        return np.concatenate(
          [
            np.ravel(lax.reduceWindow(x, 0, np.add, twos, ones, "SAME")),
            np.ravel(lax.reduceWindow(x, -Infinity, np.maximum, twos, twos, "VALID")),
            np.ravel(
              lax.reduceWindow(
                x,
                1,
                np.minimum,
                twos,
                ones,
                x.shape.map(() => [1, 0] as [number, number]),
                { windowDilation: twos },
              ),
            ),
          ],
          0,
        );
      },
    ],
    [
      "nn.avgPool counting the padding or not, nn.maxPool",
      (x) =>
        np.concatenate([
          np.ravel(nn.avgPool(x, [2], { padding: "SAME" })),
          np.ravel(nn.avgPool(x, [2], { padding: "SAME", countIncludePad: false })),
          np.ravel(nn.maxPool(x, [2], { strides: [2] })),
        ]),
    ],
    ["relu (NaN kept)", (x) => nn.relu(np.where(np.greater(x, 2.5), NaN, x))],
    ["relu of int32", (x) => nn.relu(np.astype(x, "int32"))],
    ["leakyRelu, and slope 0.2", (x) => np.stack([nn.leakyRelu(x), nn.leakyRelu(x, 0.2)])],
    ["silu", (x) => nn.silu(x)],
    ["relu6, hardTanh, hardSigmoid", (x) => np.stack([nn.relu6(np.multiply(x, 2)), nn.hardTanh(x), nn.hardSigmoid(x)])],
    ["softSign", (x) => nn.softSign(x)],
    [
      "oneHot, 4 and 7 classes, float64 and axis 0",
      (x) => np.stack([np.sum(nn.oneHot(np.abs(x), 4), -1), np.sum(nn.oneHot(np.abs(x), 7, { dtype: "float64", axis: 0 }), 0)]),
    ],
    ["logSigmoid", (x) => nn.logSigmoid(x)],
    ["standardize", (x) => nn.standardize(x)],
    ["standardize given mean and variance", (x) => nn.standardize(x, { axis: 0, mean: 0.5, variance: np.ones([x.shape[1]!]), epsilon: 1e-3 })],
    ["standardize given mean only", (x) => nn.standardize(x, { mean: np.zeros([x.shape[0]!, 1]) })],
    ["layerNorm", (x) => nn.layerNorm(x)],
    ["layerNorm scale and bias", (x) => nn.layerNorm(x, { scale: np.linspace(0.5, 2, x.shape[1]!), bias: 0.25, epsilon: 1e-6 })],
    ["layerNorm bias only", (x) => nn.layerNorm(x, { bias: np.ones([x.shape[1]!]) })],
    ["rmsNorm", (x) => nn.rmsNorm(x)],
    ["rmsNorm scale", (x) => nn.rmsNorm(x, { scale: np.linspace(1, 3, x.shape[1]!) })],
    ["np.var", (x) => np.var(x)],
    ["np.var axis 0, ddof 1, keepdims", (x) => np.var(x, { axis: 0, ddof: 1, keepdims: true })],
    ["np.std over all axes", (x) => np.std(x, null)],
    ["np.prod axis 1", (x) => np.prod(np.tanh(x), 1)],
    ["np.prod of int32, keepdims", (x) => np.prod(np.astype(np.sign(x), "int32"), { axis: 0, keepdims: true })],
    ["np.sinc (its series near 0, the quotient beyond)", (x) => np.sinc(np.multiply(x, 0.05))],
    ["np.arcsinh and arccosh", (x) => np.add(np.arcsinh(x), np.arccosh(np.add(np.abs(x), 1)))],
    ["np.logaddexp, logaddexp2 and hypot", (x) => np.stack([np.logaddexp(x, np.flip(x)), np.logaddexp2(x, 1), np.hypot(x, np.cos(x))])],
    [
      "np.cumprod, cummax, cummin both ways",
      (x) => np.stack([np.cumprod(np.tanh(x), { axis: 0 }), np.cummax(x, { axis: -1 }), np.cummin(x, { axis: 0, reverse: true })]),
    ],
  ];
  for (const [name, call] of calls)
    it(name, () => {
      clearStaged();
      // Back to back under the same keys: shapes, a rank, a dtype and values the keys do not hold
      // (the cases with operands shaped for a matrix take matrices only).
      const matrices = [data([6, 5]), data([3, 8], "float32", 2), data([6, 5], "float64")];
      const inputs = /given|scale|bias/.test(name) ? matrices : [...matrices, data([2, 3, 4])];
      for (const x of inputs) expect(rawBits(call(x)), `${name} [${x.shape}] ${x.dtype}`).toEqual(rawBits(primitiveByPrimitive(() => call(x))));
    });
});

describe("nn.dotProductAttention called eagerly", () => {
  it("equals its primitive-by-primitive bits with and without bias, mask and causality, grouped heads, unbatched", () => {
    clearStaged();
    const q = data([2, 5, 4, 3]),
      k = data([2, 6, 2, 3], "float32", 2),
      v = data([2, 6, 2, 3], "float32", 3);
    const mask = np.greater(data([4, 5, 6], "float32", 4), -1);
    const calls: (() => NDArray)[] = [
      () => nn.dotProductAttention(q, k, v),
      () => nn.dotProductAttention(q, k, v, { isCausal: true }),
      () => nn.dotProductAttention(q, k, v, { scale: 0.25, isCausal: true }),
      () => nn.dotProductAttention(q, k, v, { bias: data([5, 6], "float32", 5) }),
      () => nn.dotProductAttention(q, k, v, { bias: data([5, 6], "float32", 5), mask }),
      () => nn.dotProductAttention(q, k, v, { mask, isCausal: true }),
      () => nn.dotProductAttention(np.take(q, 0, 0), np.take(k, 0, 0), np.take(v, 0, 0), { bias: data([4, 5, 6], "float32", 6) }),
      () => nn.dotProductAttention(data([2, 5, 4, 3], "float64"), data([2, 6, 4, 3], "float64", 2), data([2, 6, 4, 3], "float64", 3)),
    ];
    for (const [i, call] of calls.entries()) expect(rawBits(call()), `call ${i}`).toEqual(rawBits(primitiveByPrimitive(call)));
  });
});
