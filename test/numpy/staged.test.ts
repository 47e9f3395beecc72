/**
 * np functions of several primitives run eagerly as cached compiled programs (src/core/staged.ts).
 * Each must give the bits it gives primitive by primitive (under a pass-through interpreter nothing
 * is staged), for every static argument its cache key holds (decimals, axes, keepdims, ddof, the
 * nanToNum replacements, the isclose tolerances) and for operands of other shapes, ranks and
 * dtypes under one key. Cases with static arguments call them back to back with values that
 * differ in one of them at a time, so a key that dropped one would reuse the wrong program.
 */
import { describe, expect, it } from "vitest";
import { type NDArray, np } from "../../src/index.js";
import { clearStaged } from "../../src/core/staged.js";
import { primitiveByPrimitive, rawBits } from "../helpers.js";

/** Values of both signs and several sizes, with -inf, 0, -0, NaN and +inf among them. */
const data = (shape: number[], dtype: "float32" | "float64" = "float32", seed = 1): NDArray => {
  const n = shape.reduce((a, b) => a * b, 1);
  const v = Array.from({ length: n }, (_, i) => Math.sin(i * 1.7 + seed) * (2 + (i % 5)));
  for (const [i, s] of [
    [1, -Infinity],
    [3, 0],
    [4, -0],
    [6, NaN],
    [9, Infinity],
  ] as const)
    if (i < n) v[i] = s;
  return np.array(v, { dtype }).reshape(shape);
};
/** A second operand: `x` reversed, so zeros, infinities and NaN meet other values. */
const other = (x: NDArray): NDArray => np.flip(x);
/** A result's shapes and raw bits: a program reused with the wrong keepdims gives the right bits in the wrong shape. */
const shapesAndBits = (r: NDArray | NDArray[]): { shapes: number[][]; bits: number[][] } => ({
  shapes: (Array.isArray(r) ? r : [r]).map((a) => a.shape),
  bits: rawBits(r),
});
/** `x` as int32 (finite values times 3, truncated; the conversion's own choice for the rest). */
const ints = (x: NDArray): NDArray => np.astype(np.multiply(np.nanToNum(x, { posinf: 50, neginf: -50 }), 3), "int32");

describe("np functions called eagerly equal their primitive-by-primitive bits", () => {
  const calls: [string, (x: NDArray) => NDArray | NDArray[]][] = [
    ["cbrt, trunc, ceil", (x) => [np.cbrt(x), np.trunc(x), np.ceil(x)]],
    ["tan, sinh, cosh", (x) => [np.tan(x), np.sinh(x), np.cosh(x)]],
    ["arccos, arctanh (in and out of the domain)", (x) => [np.arccos(np.multiply(x, 0.2)), np.arctanh(np.multiply(x, 0.2))]],
    ["log2, log10, exp2", (x) => [np.log2(x), np.log10(np.abs(x)), np.exp2(x)]],
    ["cbrt of int32", (x) => np.cbrt(ints(x))],
    ["round, decimals 0, 2, -1 and 2 again", (x) => [np.round(x), np.round(x, 2), np.round(x, -1), np.round(np.multiply(x, 3), 2)]],
    ["around decimals 1 and 3, rint", (x) => [np.around(x, 1), np.around(x, 3), np.rint(np.multiply(x, 0.5))]],
    [
      "arctan2 (signed zeros, infinities)",
      (x) => [np.arctan2(x, other(x)), np.arctan2(x, np.negative(x)), np.arctan2(x, x), np.arctan2(other(x), 0)],
    ],
    ["fmod, mod, remainder", (x) => [np.fmod(x, other(x)), np.mod(x, other(x)), np.remainder(x, 1.5), np.mod(x, -0.75)]],
    ["floorDivide, divmod", (x) => [np.floorDivide(x, other(x)), ...np.divmod(x, other(x)), ...np.divmod(x, -0.75)]],
    [
      "fmod, mod, floorDivide, divmod of int32",
      (x) => {
        const [a, b] = [ints(x), np.add(np.abs(ints(other(x))), 1)];
        return [np.fmod(a, b), np.mod(a, np.negative(b)), np.floorDivide(a, np.negative(b)), ...np.divmod(a, b), np.floorDivide(np.abs(a), b)];
      },
    ],
    ["copysign, heaviside", (x) => [np.copysign(other(x), x), np.copysign(x, -0), np.heaviside(x, other(x)), np.heaviside(x, 0.5)]],
    ["fmax, fmin", (x) => [np.fmax(x, other(x)), np.fmin(x, other(x)), np.fmax(x, NaN)]],
    [
      "logicalAnd, logicalOr, logicalXor, logicalNot",
      (x) => [np.logicalAnd(x, other(x)), np.logicalOr(x, other(x)), np.logicalXor(x, other(x)), np.logicalNot(x)],
    ],
    ["logical ops of int32", (x) => [np.logicalAnd(ints(x), 0), np.logicalXor(ints(x), ints(other(x))), np.logicalNot(ints(x))]],
    ["isinf, isfinite", (x) => [np.isinf(x), np.isfinite(x)]],
    ["rightShift of int32", (x) => np.rightShift(ints(x), np.astype(np.abs(ints(other(x))), "int32"))],
    [
      "nanToNum: defaults, then nan, posinf, neginf given one at a time",
      (x) => [np.nanToNum(x), np.nanToNum(x, { nan: 1 }), np.nanToNum(x, { nan: 1, posinf: 2 }), np.nanToNum(x, { nan: 1, posinf: 2, neginf: -3 })],
    ],
    [
      "isclose: defaults, rtol, atol, equalNan given one at a time",
      (x) => {
        const y = np.add(x, np.multiply(np.cos(x), 0.3));
        return [
          np.isclose(x, y),
          np.isclose(x, y, { rtol: 0.5 }),
          np.isclose(x, y, { rtol: 0.5, atol: 0.2 }),
          np.isclose(x, y, { rtol: 0.5, atol: 0.2, equalNan: true }),
        ];
      },
    ],
    ["allclose", (x) => [np.allclose(x, x), np.allclose(x, x, { equalNan: true }), np.allclose(x, np.add(x, 0.1), { atol: 0.2 })]],
    [
      "all, any, countNonzero: all axes, axis 0, keepdims",
      (x) => [np.all(x), np.any(x), np.countNonzero(x), np.all(x, 0), np.any(x, 0), np.countNonzero(x, 0)],
    ],
    [
      "all, any, countNonzero: keepdims and not, axis 1 and -1",
      (x) => [np.all(x, { axis: 1 }), np.all(x, { axis: 1, keepdims: true }), np.any(x, { axis: -1, keepdims: true }), np.countNonzero(x, [0, 1])],
    ],
    [
      "nansum, nanprod, nanmean over all axes and axis 0",
      (x) => [np.nansum(x), np.nanprod(np.tanh(x)), np.nanmean(x), np.nansum(x, 0), np.nanprod(np.tanh(x), 0), np.nanmean(x, 0)],
    ],
    [
      "nansum, nanprod, nanmean keepdims",
      (x) => [
        np.nansum(x, 0),
        np.nansum(x, { axis: 0, keepdims: true }),
        np.nanprod(x, 1),
        np.nanprod(x, { axis: 1, keepdims: true }),
        np.nanmean(x, 1),
        np.nanmean(x, { axis: 1, keepdims: true }),
      ],
    ],
    [
      "nanvar, nanstd: axes, then ddof, then keepdims",
      (x) => [
        np.nanvar(x),
        np.nanvar(x, 0),
        np.nanvar(x, { axis: 0, ddof: 1 }),
        np.nanvar(x, { axis: 0, ddof: 1, keepdims: true }),
        np.nanstd(x, 1),
        np.nanstd(x, { axis: 1, ddof: 2 }),
      ],
    ],
    [
      "nanvar then nanstd, and keepdims, over all axes (infinities made finite, NaN kept)",
      (x) => {
        const f = np.where(np.isinf(x), 1, x);
        return [np.nanvar(f, { axis: null }), np.nanstd(f, { axis: null }), np.nanstd(f, { axis: null, keepdims: true })];
      },
    ],
    [
      "nanmax, nanmin (all-NaN slices too)",
      (x) => [
        np.nanmax(x),
        np.nanmin(x),
        np.nanmax(x, 0),
        np.nanmax(x, { axis: 0, keepdims: true }),
        np.nanmax(np.where(np.less(x, 2.5), NaN, x), { axis: 0, keepdims: true }),
        np.nanmin(np.where(np.greater(x, -2), NaN, x), 1),
      ],
    ],
    ["nanmax, nanmin of int32", (x) => [np.nanmax(ints(x), 0), np.nanmin(ints(x))]],
    [
      "nanargmax, nanargmin: flattened, axis 0, keepdims",
      (x) => [
        np.nanargmax(x),
        np.nanargmin(x),
        np.nanargmax(x, 0),
        np.nanargmin(x, 0),
        np.nanargmin(x, { axis: 0, keepdims: true }),
        np.nanargmax(x, { axis: 1 }),
      ],
    ],
    [
      "average with weights: all axes, axis 0, keepdims",
      (x) => {
        const w = np.linspace(0.5, 2, x.shape[x.ndim - 1]!);
        return [
          np.average(x, { weights: w }),
          np.average(x, { axis: 0, weights: np.abs(other(x)) }),
          np.average(x, { axis: 0, weights: w, keepdims: true }),
        ];
      },
    ],
    [
      "searchsorted both sides, interp with and without left and right",
      (x) => {
        const sorted = np.sort(np.ravel(x)),
          xp = np.linspace(-3, 3, 7);
        return [
          np.searchsorted(sorted, x),
          np.searchsorted(sorted, x, { side: "right" }),
          np.interp(x, xp, np.cos(xp)),
          np.interp(x, xp, np.linspace(0, 1, 7), { left: -1, right: 2 }),
          np.interp(x, xp, np.linspace(0, 1, 7), { left: -1 }),
        ];
      },
    ],
    [
      "take in fill mode: each axis, flattened, and fill values back to back",
      (x) => {
        const idx = np.array([0, -1, 2, 40, -40, 1], { dtype: "int32" });
        return [
          np.take(x, idx),
          np.take(x, idx, { axis: 0 }),
          np.take(x, idx, { axis: -1 }),
          np.take(x, idx, { axis: 0, fillValue: 7 }),
          np.take(x, idx, { axis: 0, fillValue: -0 }),
          np.take(ints(x), np.reshape(idx, [2, 3]), { axis: 0 }),
        ];
      },
    ],
    ["arrayEqual", (x) => [np.arrayEqual(x, x), np.arrayEqual(np.nanToNum(x), np.nanToNum(x)), np.arrayEqual(x, np.abs(x))]],
  ];
  for (const [name, call] of calls)
    it(name, () => {
      clearStaged();
      // Back to back under the same keys: shapes, a rank, a dtype and values the keys do not hold.
      for (const x of [data([6, 5]), data([3, 8], "float32", 2), data([6, 5], "float64"), data([2, 3, 4])])
        expect(shapesAndBits(call(x)), `${name} [${x.shape}] ${x.dtype}`).toEqual(shapesAndBits(primitiveByPrimitive(() => call(x))));
    });
});

describe("binary ops and where with a broadcast operand, called eagerly on large results", () => {
  // From their second call on (per op, dtype and operand shapes) these run as a staged program
  // whose broadcasts are free: each call must give the bits of the primitive-by-primitive path,
  // but for a NaN's sign (large eager ops run in the same wasm loops, whose NaNs may differ in sign
  // from the JavaScript kernels' the pass-through path takes).
  const canonical = (r: NDArray): NDArray => (r.dtype === "float32" || r.dtype === "float64" ? np.where(np.isnan(r), NaN, r) : r);
  const big = (shape: number[], dtype: "float32" | "float64" | "int32" = "float32", seed = 1): NDArray => {
    const x = data(shape, dtype === "int32" ? "float32" : dtype, seed);
    return dtype === "int32" ? np.astype(np.nanToNum(np.multiply(x, 3)), "int32") : x;
  };
  const ops: [string, (a: NDArray, b: NDArray | number) => NDArray][] = [
    ["add", np.add],
    ["subtract", np.subtract],
    ["multiply", np.multiply],
    ["divide", np.divide],
    ["power", np.power],
    ["maximum", np.maximum],
    ["less", np.less],
    ["equal", np.equal],
    ["where, a number as the condition", (a, b) => np.where(a, a, b)],
    ["where, a bool condition", (a, b) => np.where(np.greater(a, 0), b, a)],
  ];
  const pairs: [string, () => [NDArray, NDArray | number]][] = [
    ["[64, 64] and [64]", () => [big([64, 64]), big([64], "float32", 2)]],
    ["[64] and [64, 64]", () => [big([64], "float32", 3), big([64, 64])]],
    ["[1000, 10] and [1000, 1], float64", () => [big([1000, 10], "float64"), big([1000, 1], "float64", 2)]],
    ["[8, 32, 32] and a number", () => [big([8, 32, 32]), 1.5]],
    ["int32 [64, 80] and [80]", () => [big([64, 80], "int32"), big([80], "int32", 2)]],
  ];
  for (const [name, operands] of pairs)
    it(`${name}: every op, three calls each, the bits of the unstaged path`, () => {
      const [a, b] = operands();
      for (const [op, f] of ops)
        for (let call = 0; call < 3; call++)
          expect(shapesAndBits(canonical(f(a, b))), `${op} call ${call}`).toEqual(shapesAndBits(canonical(primitiveByPrimitive(() => f(a, b)))));
    });
});
