/**
 * The composed elementwise np functions: values against float64 references from JavaScript's own
 * Math (independent of the code under test) or hand tables, derivatives by finite differences
 * (both modes, second order), vmap against a loop and jit against eager.
 */
import { describe, expect, it } from "vitest";
import { DTypeError, type NDArray, grad, np } from "../../src/index.js";
import { expectClose, expectGrads, expectVmapJit, f64 } from "./helpers.js";
import { primitiveByPrimitive, rawBits } from "../helpers.js";

type Unary = (x: NDArray) => NDArray;
const unary: [string, Unary, (x: number) => number, number[], boolean][] = [
  ["arcsin", np.arcsin, Math.asin, [-0.9, -0.3, 0, 0.4, 0.8], true],
  ["arccos", np.arccos, Math.acos, [-0.9, -0.3, 0, 0.4, 0.8], true],
  ["arcsinh", np.arcsinh, Math.asinh, [-30, -1, -1e-9, 0, 0.3, 4, 1e5], true],
  ["arccosh", np.arccosh, Math.acosh, [1.01, 1.5, 3, 100], true],
  ["arctanh", np.arctanh, Math.atanh, [-0.9, -0.1, 0, 1e-9, 0.5], true],
  ["log2", np.log2, Math.log2, [0.1, 1, 3, 1024], true],
  ["log10", np.log10, Math.log10, [0.1, 1, 3, 1000], true],
  ["exp2", np.exp2, (x) => 2 ** x, [-3, 0, 0.5, 10], true],
  ["cbrt", np.cbrt, Math.cbrt, [-8, -0.5, 0.2, 27], true],
  ["deg2rad", np.deg2rad, (x) => (x * Math.PI) / 180, [-90, 0, 45, 360], true],
  ["rad2deg", np.rad2deg, (x) => (x * 180) / Math.PI, [-1, 0, 2], true],
  ["sinc", np.sinc, (x) => (x === 0 ? 1 : Math.sin(Math.PI * x) / (Math.PI * x)), [-2.5, -0.3, 0, 1e-5, 0.7, 3.2], true],
  ["ceil", np.ceil, Math.ceil, [-2.5, -0.2, 0, 0.2, 3.7], false],
  ["trunc", np.trunc, Math.trunc, [-2.5, -0.2, 0, 0.2, 3.7], false],
];

describe("unary elementwise functions", () => {
  for (const [name, f, ref, xs, smooth] of unary) {
    it(`np.${name}: values, ${smooth ? "derivatives, " : ""}vmap and jit`, () => {
      expectClose(f(f64(xs)), xs.map(ref), 1e-13);
      expectVmapJit(f, f64([xs, xs.map((v) => v)]));
      if (smooth) for (const v of xs.filter((t) => Math.abs(t) < 1e4)) expectGrads(f, [f64(v)]);
      else
        expectClose(
          grad((x: NDArray) => np.sum(f(x)))(f64(xs.map((v) => v + 0.01))),
          xs.map(() => 0),
        );
    });
  }

  it("np.sinc has the Taylor second derivative -π²/3 at 0", () => {
    expectClose(grad(grad((x: NDArray) => np.sinc(x)))(f64(0)), [-(Math.PI ** 2) / 3], 1e-9);
  });

  it("np.round / around / rint round half to even, with decimals", () => {
    const xs = [0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 0.49999999999999994, 2.6, -2.6, 1e15 + 1];
    expectClose(np.round(f64(xs)), [0, 2, 2, -0, -2, -2, 0, 3, -3, 1e15 + 1], 0);
    expectClose(np.around(f64([1.2345, -0.125]), 2), [1.23, -0.12], 1e-12);
    expectClose(np.rint(f64([3.5])), [4], 0);
    expect(np.round(np.array([3], { dtype: "int32" })).dtype).toBe("int32");
    expectVmapJit(
      (x) => np.round(x),
      f64([
        [0.5, 1.5],
        [2.5, -3.5],
      ]),
    );
    expect(() => np.round(f64([1]), 0.5)).toThrow(/decimals must be an integer/);
  });

  it("np.isnan / isinf / isfinite, also on integers", () => {
    const xs = f64([0, NaN, Infinity, -Infinity, 1e308]);
    expect((np.isnan(xs).tolist() as number[]).map(Boolean)).toEqual([false, true, false, false, false]);
    expect((np.isinf(xs).tolist() as number[]).map(Boolean)).toEqual([false, false, true, true, false]);
    expect((np.isfinite(xs).tolist() as number[]).map(Boolean)).toEqual([true, false, false, false, true]);
    expect((np.isfinite(np.array([1, 2], { dtype: "int32" })).tolist() as number[]).map(Boolean)).toEqual([true, true]);
    expect((np.isnan(np.array([1, 2], { dtype: "int32" })).tolist() as number[]).map(Boolean)).toEqual([false, false]);
  });

  it("np.nanToNum replaces NaN and infinities", () => {
    expectClose(np.nanToNum(f64([NaN, Infinity, -Infinity, 2])), [0, Number.MAX_VALUE, -Number.MAX_VALUE, 2], 0);
    expectClose(np.nanToNum(f64([NaN, Infinity]), { nan: 7, posinf: 9 }), [7, 9], 0);
    expect(() => np.nanToNum(f64([1]), { nam: 1 } as never)).toThrow(/unknown option/);
  });
});

type Binary = (x: NDArray, y: NDArray) => NDArray;
const pyMod = (a: number, b: number) => {
  const r = a % b;
  return r !== 0 && r < 0 !== b < 0 ? r + b : r;
};
const binaryCases: [string, Binary, (x: number, y: number) => number, [number, number][]][] = [
  [
    "arctan2",
    np.arctan2,
    Math.atan2,
    [
      [1, 1],
      [1, -1],
      [-1, -1],
      [-1, 1],
      [0.3, 2],
      [-2, -0.1],
      [2, 0.5],
    ],
  ],
  [
    "mod",
    np.mod,
    pyMod,
    [
      [5.5, 3],
      [-5.5, 3],
      [5.5, -3],
      [-5.5, -3],
      [7.25, 0.5 + 1e-3],
    ],
  ],
  [
    "fmod",
    np.fmod,
    (a, b) => a % b,
    [
      [5.5, 3],
      [-5.5, 3],
      [5.5, -3],
      [-5.5, -3],
      [7.25, 0.51],
    ],
  ],
  [
    "logaddexp",
    np.logaddexp,
    (a, b) => Math.max(a, b) + Math.log1p(Math.exp(-Math.abs(a - b))),
    [
      [0, 0.5],
      [-800, -801],
      [3, -2],
      [100, 100.25],
    ],
  ],
  [
    "logaddexp2",
    np.logaddexp2,
    (a, b) => Math.log2(2 ** a + 2 ** b),
    [
      [0, 0.5],
      [3, -2],
      [10, 9],
    ],
  ],
  [
    "hypot",
    np.hypot,
    Math.hypot,
    [
      [3, 4],
      [-1, 2],
      [0.5, -0.25],
    ],
  ],
  [
    "copysign",
    np.copysign,
    (a, b) => Math.abs(a) * (b < 0 || Object.is(b, -0) ? -1 : 1),
    [
      [2, -1],
      [-2, 3],
      [1.5, -0.5],
    ],
  ],
  [
    "fmax",
    np.fmax,
    Math.max,
    [
      [1, 2],
      [3, -1],
    ],
  ],
  [
    "fmin",
    np.fmin,
    Math.min,
    [
      [1, 2],
      [3, -1],
    ],
  ],
  [
    "floatPower",
    np.floatPower,
    (a, b) => a ** b,
    [
      [2, 3],
      [1.5, 0.5],
      [0.7, -2],
    ],
  ],
];

describe("binary elementwise functions", () => {
  for (const [name, f, ref, pairs] of binaryCases) {
    it(`np.${name}: values, derivatives in both operands, vmap and jit`, () => {
      const xs = pairs.map((p) => p[0]),
        ys = pairs.map((p) => p[1]);
      expectClose(
        f(f64(xs), f64(ys)),
        pairs.map(([a, b]) => ref(a, b)),
        1e-13,
      );
      expectVmapJit(f, f64([xs, ys]), f64([ys, xs]));
      for (const [a, b] of pairs) expectGrads(f, [f64(a), f64(b)]);
    });
  }

  it("np.power with an integer exponent multiplies, as JAX's integer_pow: x ** 2 is x · x, integers wrap", () => {
    const xs = [-3.7, -1.1, -0.5, 0, 0.3, 1.9, 2.6, 1e20, NaN];
    // The products of binary exponentiation, each rounded to the dtype: 2 = x·x, 3 = x·x², 5 = x·(x²)², -3 = 1/(x·x²).
    const round32 = (v: number) => Math.fround(v);
    const chain = (r: (v: number) => number) => ({
      2: (x: number) => r(x * x),
      3: (x: number) => r(x * r(x * x)),
      5: (x: number) => r(x * r(r(x * x) * r(x * x))),
      [-3]: (x: number) => r(1 / r(x * r(x * x))),
      0: () => 1,
      1: (x: number) => r(x),
    });
    for (const [dtype, r] of [
      ["float64", (v: number) => v],
      ["float32", round32],
    ] as const) {
      const x = np.array(xs, { dtype });
      for (const [n, ref] of Object.entries(chain(r))) {
        const got = Array.from(np.power(x, Number(n)).dataSync());
        expect(got, `${dtype} ** ${n}`).toEqual(xs.map((v) => ref(r(v))));
        expect(np.power(x, Number(n)).dtype).toBe(dtype);
      }
    }
    // int32 wraps as its products do (2000³ = 8e9 is past 2^31); a negative exponent keeps pow's integer result.
    const ints = np.array([2000, -7, 3, 0], { dtype: "int32" });
    expect(Array.from(np.power(ints, 3).dataSync())).toEqual([2000, -7, 3, 0].map((v) => Math.imul(v, Math.imul(v, v))));
    expect(np.power(ints, 3).dtype).toBe("int32");
    expect(Array.from(np.power(ints, -1).dataSync())).toEqual([0, -0, 0, Infinity].map((v) => v | 0));
    // Derivatives through the products, and the staged program's bits primitive by primitive.
    for (const n of [3, 5, -3, 0]) expectGrads((x) => np.power(x, n), [f64(1.3)]);
    expectVmapJit((x) => np.power(x, 5), f64([xs.slice(0, 4), xs.slice(4, 8)]));
    expect(rawBits(np.power(np.array(xs), 5))).toEqual(rawBits(primitiveByPrimitive(() => np.power(np.array(xs), 5))));
    // Non-integer and array exponents still go through pow.
    expectClose(np.power(f64([2, 9]), 0.5), [Math.SQRT2, 3], 1e-15);
    expectClose(np.power(f64([2, 3]), f64([3, 2])), [8, 9], 1e-15);
  });

  it("np.arctan2 handles the axes and signed zeros as NumPy", () => {
    const ys = [0, -0, 0, -0, 2, -2, 0];
    const xs = [-1, -1, 1, 1, 0, 0, 0];
    expectClose(
      np.arctan2(f64(ys), f64(xs)),
      ys.map((y, i) => Math.atan2(y, xs[i]!)),
      1e-15,
    );
  });

  it("np.mod / remainder / floorDivide / divmod on integers follow Python's signs", () => {
    const i = (v: number[]) => np.array(v, { dtype: "int32" });
    expect(np.mod(i([7, -7, 7, -7]), i([3, 3, -3, -3])).tolist()).toEqual([1, 2, -2, -1]);
    expect(np.remainder(i([7]), i([3])).tolist()).toEqual([1]);
    expect(np.fmod(i([7, -7]), i([3, 3])).tolist()).toEqual([1, -1]);
    expect(np.floorDivide(i([7, -7, 7, -7]), i([2, 2, -2, -2])).tolist()).toEqual([3, -4, -4, 3]);
    expectClose(np.floorDivide(f64([7.5, -7.5]), f64([2, 2])), [3, -4], 0);
    const [q, r] = np.divmod(f64([-7]), f64([2]));
    expectClose(q, [-4], 0);
    expectClose(r, [1], 0);
    expect(() => np.fmod(np.array([true]), np.array([true]))).toThrow(DTypeError);
    // uint32: truncation is floor, and values past 2^31 stay unsigned.
    const u = (v: number[]) => np.array(v, { dtype: "uint32" });
    const big = 4_000_000_001;
    expect(np.floorDivide(u([7, big, 5]), u([2, 3, 5])).tolist()).toEqual([3, Math.floor(big / 3), 1]);
    expect(np.mod(u([7, big, 5]), u([2, 3, 5])).tolist()).toEqual([1, big % 3, 0]);
    expect(np.fmod(u([7, big]), u([4, 7])).tolist()).toEqual([3, big % 7]);
    expect(np.divmod(u([9]), u([4])).map((t) => t.tolist())).toEqual([[2], [1]]);
  });

  it("np.logaddexp of two -inf is -inf and its gradient at a tie splits evenly", () => {
    expectClose(np.logaddexp(f64([-Infinity]), f64([-Infinity])), [-Infinity]);
    expectClose(grad((x: NDArray) => np.logaddexp(x, f64(1)))(f64(1)), [0.5], 1e-14);
    // The second derivative at a tie is 1/4 (the curvature of log(e^x + e^y)), not lost at a kink.
    expectClose(grad(grad((x: NDArray) => np.logaddexp(x, f64(1))))(f64(1)), [0.25], 1e-12);
    expectGrads((x: NDArray) => np.logaddexp(x, np.mean(x)), [f64([0, 0])]);
    expectClose(np.logaddexp(f64([Infinity, -Infinity, 3]), f64([Infinity, 2, -Infinity])), [Infinity, 2, 3]);
  });

  it("np.heaviside, logicalXor, isclose, allclose, arrayEqual, select", () => {
    expectClose(np.heaviside(f64([-1, 0, 2]), 0.5), [0, 0.5, 1], 0);
    expect((np.logicalXor(np.array([true, true, false]), np.array([true, false, false])).tolist() as number[]).map(Boolean)).toEqual([
      false,
      true,
      false,
    ]);
    expect((np.isclose(f64([1, 1, NaN, Infinity]), f64([1 + 1e-9, 1.1, NaN, Infinity])).tolist() as number[]).map(Boolean)).toEqual([
      true,
      false,
      false,
      true,
    ]);
    expect((np.isclose(f64([NaN]), f64([NaN]), { equalNan: true }).tolist() as number[]).map(Boolean)).toEqual([true]);
    expect(np.allclose(f64([1, 2]), f64([1, 2 + 1e-9])).item()).toBe(1);
    expect(np.arrayEqual(f64([1, 2]), f64([1, 2])).item()).toBe(1);
    expect(np.arrayEqual(f64([1, 2]), f64([1, 2, 3])).item()).toBe(0);
    const x = f64([-2, 0.5, 3]);
    expectClose(np.select([np.less(x, 0), np.greater(x, 1)], [np.negative(x), np.square(x)], -1), [2, -1, 9], 0);
  });
});
