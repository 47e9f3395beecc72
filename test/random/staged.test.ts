/**
 * Samplers called eagerly run as cached compiled programs (src/core/staged.ts). Their draws must be
 * the bits the same samplers give primitive by primitive: under a pass-through interpreter nothing
 * is staged (the current interpreter is not the base one), so each call below is made both ways and
 * compared bit for bit. Calls that share a program's cache key but differ in what the key leaves to
 * the jit's signature (operand shapes, dtypes, values) must not see each other's program.
 */
import { describe, expect, it } from "vitest";
import { type NDArray, jit, np, random, vmap } from "../../src/index.js";
import { primitiveByPrimitive, rawBits as bits } from "../helpers.js";
import { wasmLoopsCompiled } from "../../interpreters/jit/wasm_loop.js";
import { clearStaged } from "../../src/core/staged.js";

describe("samplers called eagerly run as compiled programs with the same bits", () => {
  const k = random.key(42);
  const cases: [string, () => NDArray | NDArray[]][] = [
    ["split", () => random.split(k, 3)],
    ["foldIn number", () => random.foldIn(k, 12345)],
    ["foldIn int32 array", () => random.foldIn(k, np.array(-7, { dtype: "int32" }))],
    ["bits", () => random.bits(k, [3, 5])],
    ["uniform float32", () => random.uniform(k, [300])],
    ["uniform float64 with bounds", () => random.uniform(k, [7, 9], "float64", -3, 2.5)],
    ["uniform with array bounds", () => random.uniform(k, [4, 3], "float32", np.array([0, 1, 2]), np.array([1, 2, 10]))],
    ["normal float32", () => random.normal(k, [513])],
    ["normal float64", () => random.normal(k, [40, 3], "float64")],
    ["truncatedNormal", () => random.truncatedNormal(k, -1.5, 0.5, [200])],
    ["bernoulli", () => random.bernoulli(k, np.array([0.1, 0.5, 0.9]), [50, 3])],
    ["gumbel", () => random.gumbel(k, [100])],
    ["exponential", () => random.exponential(k, [100], "float64")],
    ["laplace", () => random.laplace(k, [100])],
    ["logistic", () => random.logistic(k, [100])],
    ["cauchy", () => random.cauchy(k, [100])],
    ["rademacher", () => random.rademacher(k, [64], "float32")],
    [
      "categorical",
      () =>
        random.categorical(
          k,
          np.array([
            [0, 1, 2],
            [2, 1, 0],
          ]),
          { shape: [5, 2] },
        ),
    ],
    ["randint", () => random.randint(k, [400], -5, 1000)],
    ["permutation of n", () => random.permutation(k, 300)],
    ["permutation of rows", () => random.permutation(k, np.arange(24).reshape([8, 3]))],
    ["choice with p", () => random.choice(k, 10, { shape: [6], p: np.array([1, 0, 0, 2, 0, 0, 3, 0, 0, 4]).div(10) })],
    ["choice without replacement", () => random.choice(k, np.arange(20), { shape: [5], replace: false })],
    [
      "multivariateNormal",
      () =>
        random.multivariateNormal(
          k,
          np.array([1, -1]),
          np.array([
            [2, 0.5],
            [0.5, 1],
          ]),
          [30],
        ),
    ],
    ["orthogonal", () => random.orthogonal(k, 4, [2])],
    ["gamma, a shape parameter below and above 1", () => random.gamma(k, np.array([0.3, 2.5]), [40, 2])],
    ["beta (two staged gammas)", () => random.beta(k, 2, 3, [30])],
    ["dirichlet", () => random.dirichlet(k, np.array([0.5, 1, 4]), [10])],
    ["poisson", () => random.poisson(k, np.array([0.5, 3, 12]), [20, 3])],
  ];
  for (const [name, draw] of cases) {
    it(name, () => {
      clearStaged();
      const staged = bits(draw());
      const again = bits(draw()); // the cached program
      const direct = bits(primitiveByPrimitive(draw));
      expect(staged).toEqual(direct);
      expect(again).toEqual(direct);
    });
  }
});

describe("one program per cache key, whatever the key leaves to the signature", () => {
  it("draws of other shapes, dtypes and static arguments back to back each get their own program", () => {
    clearStaged();
    const k = random.key(4);
    const draws: (() => NDArray)[] = [];
    for (const shape of [[4], [6, 2], [5]])
      for (const dtype of ["float32", "float64"] as const)
        draws.push(
          () => random.uniform(k, shape, dtype),
          () => random.normal(k, shape, dtype),
          () => random.gumbel(k, shape, dtype),
          () => random.truncatedNormal(k, -1, shape.length, shape, dtype),
          () => random.bits(k, shape),
          () => random.randint(k, shape, 0, 3 + shape.length),
          () => random.bernoulli(k, 0.5, shape),
        );
    draws.push(
      () => random.split(k, 2),
      () => random.split(k, 5),
      () => random.permutation(k, 6),
      () => random.permutation(k, 9),
      () => random.orthogonal(k, 2),
      () => random.orthogonal(k, 3),
    );
    for (const draw of draws) expect(bits(draw())).toEqual(bits(primitiveByPrimitive(draw)));
  });

  it("bounds given as numbers are operands, not baked into the program: -0 and 0, and new values", () => {
    const k = random.key(3);
    for (const [lo, hi] of [
      [0, 1],
      [-0, 1],
      [5, 6],
      [-2, -1],
    ] as const) {
      const staged = bits(random.uniform(k, [64], "float32", lo, hi));
      expect(staged).toEqual(bits(primitiveByPrimitive(() => random.uniform(k, [64], "float32", lo, hi))));
    }
  });

  it("categorical with the same draw shape and axis but more categories, and choice from larger pools", () => {
    const k = random.key(9);
    for (const logits of [np.array([0, 0, 0]), np.array([0, 0, 0, 0, 0, 0, 5])]) {
      expect(bits(random.categorical(k, logits, { shape: [40] }))).toEqual(
        bits(primitiveByPrimitive(() => random.categorical(k, logits, { shape: [40] }))),
      );
    }
    for (const pool of [np.arange(5), np.arange(50)]) {
      const draw = () => random.choice(k, pool, { shape: [4], replace: false });
      expect(bits(draw())).toEqual(bits(primitiveByPrimitive(draw)));
    }
    // A sample of 100 draws over 7 categories must reach the 7th (weighted e^5): not the 3-category program.
    expect(Math.max(...Array.from(random.categorical(k, np.array([0, 0, 0, 0, 0, 0, 5]), { shape: [100] }).dataSync()))).toBe(6);
  });

  it("keys that are tracers still trace inline under jit and vmap", () => {
    const keys = random.split(random.key(1), 4);
    const direct = bits(primitiveByPrimitive(() => np.stack([...keys].map((kk) => random.normal(kk, [5])))));
    expect(bits(vmap((kk: NDArray) => random.normal(kk, [5]))(keys))).toEqual(direct);
    expect(bits(jit((ks: NDArray) => np.stack([...ks].map((kk) => random.normal(kk, [5]))))(keys))).toEqual(direct);
  });

  it("an eager draw compiles its program once per shape (the fused loop of a normal draw is wasm)", () => {
    clearStaged();
    const k = random.key(2);
    const before = wasmLoopsCompiled();
    random.normal(k, [777]);
    const first = wasmLoopsCompiled();
    random.normal(random.key(3), [777]);
    expect(first).toBeGreaterThan(before);
    expect(wasmLoopsCompiled()).toBe(first);
  });
});
