/**
 * Table cases of the elementwise primitives, each with a naive float64 reference.
 * Domains avoid kinks and ties: log/sqrt/rsqrt get positive inputs, pow a positive base, abs/sign
 * values away from 0, floor values away from integers, max/min operands at least 0.2 apart.
 */
import { Prim } from "../../src/index.js";
import {
  type FloatDType,
  type Operand,
  type PrimCase,
  type Rng,
  apart,
  away,
  bools,
  ints,
  operand,
  partlyEqual,
  representable,
  uni,
  zipMap,
} from "./cases_util.js";

export type ElementwisePrim =
  | Prim.Add
  | Prim.Sub
  | Prim.Neg
  | Prim.ConvertElementType
  | Prim.SelectN
  | Prim.Mul
  | Prim.Div
  | Prim.Exp
  | Prim.Log
  | Prim.Log1p
  | Prim.Expm1
  | Prim.Sin
  | Prim.Cos
  | Prim.Tanh
  | Prim.Atan
  | Prim.Logistic
  | Prim.Sqrt
  | Prim.Rsqrt
  | Prim.Abs
  | Prim.Pow
  | Prim.Max
  | Prim.Min
  | Prim.Sign
  | Prim.Floor
  | Prim.Eq
  | Prim.Ne
  | Prim.Lt
  | Prim.Le
  | Prim.Gt
  | Prim.Ge
  | Prim.And
  | Prim.Or
  | Prim.Not
  | Prim.StopGradient;

/**
 * The case type the helpers build. `PrimCase` is invariant in its primitive, and every
 * parameterless primitive's case has the same shape, so the helpers build it once for all of them.
 */
type NP = PrimCase<any>;
const E = {} as Record<string, never>;
type Gen = (rng: Rng, shape: number[], fdt: FloatDType) => Operand;

const SHAPES: [string, number[]][] = [
  ["scalar", []],
  ["[2,1,3]", [2, 1, 3]],
];
const BIN_SHAPES: [string, number[]][] = [
  ["[3,4]", [3, 4]],
  ["scalar", []],
];

/** A float unary primitive on two shapes, values from `gen`. */
function unary(f: (x: number) => number, gen: Gen, extra: Partial<NP> = {}): NP[] {
  return SHAPES.map(([label, shape]) => ({
    name: `float ${label}`,
    make: (rng, fdt) => [gen(rng, shape, fdt)],
    params: E,
    ref: ([x]) => zipMap([x!], f),
    diff: [0],
    ...extra,
  }));
}

/** A float binary primitive on two shapes; `gen` makes both operands. */
function binary(f: (a: number, b: number) => number, gen: (rng: Rng, shape: number[], fdt: FloatDType) => Operand[], extra: Partial<NP> = {}): NP[] {
  return BIN_SHAPES.map(([label, shape]) => ({
    name: `float ${label}`,
    make: (rng, fdt) => gen(rng, shape, fdt),
    params: E,
    ref: ([a, b]) => zipMap([a!, b!], f),
    diff: [0, 1],
    ...extra,
  }));
}

/** An int32 case of an elementwise primitive (values in [lo, hi]). */
function intCase(arity: number, f: (...v: number[]) => number, lo = -5, hi = 5, shape = [2, 3], gen?: (rng: Rng) => Operand[]): NP {
  return {
    name: `int32 [${shape}]`,
    make: (rng) => gen?.(rng) ?? Array.from({ length: arity }, () => ints(rng, shape, lo, hi)),
    params: E,
    ref: (xs) => zipMap(xs, f),
    diff: [],
  };
}

const indep: Gen = (rng, shape, fdt) => uni(rng, shape, fdt, -2, 2);
const pair = (rng: Rng, shape: number[], fdt: FloatDType): Operand[] => [uni(rng, shape, fdt, -2, 2), uni(rng, shape, fdt, -2, 2)];
/** max/min operands: never tied, never close. */
const separated = (rng: Rng, shape: number[], fdt: FloatDType): Operand[] => {
  const a = uni(rng, shape, fdt, -2, 2);
  return [a, apart(rng, a)];
};

/** max/min with about half the entries tied: the documented tangent splits 1/2 : 1/2 at a tie. */
function tied(pick: (a: number, b: number) => number): NP {
  return {
    name: "float [2,4] with ties (tangent split 1/2 : 1/2)",
    make: (rng, fdt) => {
      const a = uni(rng, [2, 4], fdt, -2, 2);
      return [a, operand([2, 4], fdt, (i) => (i % 2 ? a.data[i]! : a.data[i]! + rng.awayFromZero(0.2, 1)))];
    },
    params: E,
    ref: ([a, b]) => zipMap([a!, b!], pick),
    diff: [0, 1],
    tangentRef: ([a, b], [ta, tb]) => zipMap([a!, b!, ta!, tb!], (x, y, tx, ty) => (x === y ? (tx + ty) / 2 : pick(x, y) === x ? tx : ty)),
  };
}

const BOOL: NP["outDtype"] = () => "bool";

/** A comparison: a float case with some equal entries, and an int32 case with many. */
function comparison(f: (a: number, b: number) => boolean): NP[] {
  const ref: NP["ref"] = ([a, b]) => zipMap([a!, b!], (x, y) => (f(x, y) ? 1 : 0));
  return [
    {
      name: "float [3,4] with ties",
      make: (rng, fdt) => {
        const a = uni(rng, [3, 4], fdt, -2, 2);
        return [a, partlyEqual(rng, a)];
      },
      params: E,
      ref,
      outDtype: BOOL,
      diff: [0, 1],
      zeroDerivative: true,
    },
    { name: "float scalar", make: (rng, fdt) => pair(rng, [], fdt), params: E, ref, outDtype: BOOL, diff: [0, 1], zeroDerivative: true },
    { ...intCase(2, () => 0, -2, 2), ref, outDtype: BOOL, zeroDerivative: true },
  ];
}

function logical(arity: number, f: (...v: number[]) => number): NP[] {
  return [
    ["[2,3]", [2, 3]],
    ["scalar", []],
  ].map(([label, shape]) => ({
    name: `bool ${label}`,
    make: (rng: Rng) => Array.from({ length: arity }, () => bools(rng, shape as number[])),
    params: E,
    ref: (xs: Operand[]) => zipMap(xs, f),
    diff: [],
    zeroDerivative: true,
  }));
}

const logistic = (x: number) => 1 / (1 + Math.exp(-x));

type CvtCase = PrimCase<Prim.ConvertElementType>;
const convertRef: CvtCase["ref"] = ([x], { dtype }) => zipMap([x!], (v) => representable(v, dtype));
const convertOut: CvtCase["outDtype"] = (_xs, { dtype }) => dtype;

type SelCase = PrimCase<Prim.SelectN>;
const selectRef: SelCase["ref"] = ([which, ...cases]) => ({
  shape: cases[0]!.shape.slice(),
  data: which!.data.map((w, i) => cases[w]!.data[i]!),
});
const selectOut: SelCase["outDtype"] = (xs) => xs[1]!.dtype;

export const elementwiseCases: { [P in ElementwisePrim]: PrimCase<P>[] } = {
  [Prim.Add]: [...binary((a, b) => a + b, pair, { linear: [[0, 1]] }), intCase(2, (a, b) => a + b)],
  [Prim.Sub]: [...binary((a, b) => a - b, pair, { linear: [[0, 1]] }), intCase(2, (a, b) => a - b)],
  [Prim.Neg]: [...unary((x) => -x, indep, { linear: [[0]] }), intCase(1, (a) => -a)],
  [Prim.Mul]: [...binary((a, b) => a * b, pair, { linear: [[0], [1]] }), intCase(2, (a, b) => a * b)],
  [Prim.Div]: [
    ...binary(
      (a, b) => a / b,
      (rng, shape, fdt) => [uni(rng, shape, fdt, -2, 2), away(rng, shape, fdt, 0.5, 2)],
      { linear: [[0]] },
    ),
    intCase(
      2,
      (a, b) => Math.trunc(a / b),
      0,
      0,
      [2, 4],
      (rng) => [ints(rng, [2, 4], -9, 9), operand([2, 4], "int32", () => rng.int(1, 4) * (rng.next() < 0.5 ? -1 : 1))],
    ),
  ],
  [Prim.Exp]: unary(Math.exp, indep),
  [Prim.Log]: unary(Math.log, (rng, s, fdt) => uni(rng, s, fdt, 0.2, 3)),
  [Prim.Log1p]: unary(Math.log1p, (rng, s, fdt) => uni(rng, s, fdt, -0.7, 2)),
  [Prim.Expm1]: unary(Math.expm1, indep),
  [Prim.Sin]: unary(Math.sin, (rng, s, fdt) => uni(rng, s, fdt, -3, 3)),
  [Prim.Cos]: unary(Math.cos, (rng, s, fdt) => uni(rng, s, fdt, -3, 3)),
  [Prim.Tanh]: unary(Math.tanh, indep),
  [Prim.Atan]: unary(Math.atan, (rng, s, fdt) => uni(rng, s, fdt, -3, 3)),
  [Prim.Logistic]: unary(logistic, (rng, s, fdt) => uni(rng, s, fdt, -5, 5)),
  [Prim.Sqrt]: unary(Math.sqrt, (rng, s, fdt) => uni(rng, s, fdt, 0.2, 3)),
  [Prim.Rsqrt]: unary(
    (x) => 1 / Math.sqrt(x),
    (rng, s, fdt) => uni(rng, s, fdt, 0.2, 3),
  ),
  [Prim.Abs]: [...unary(Math.abs, (rng, s, fdt) => away(rng, s, fdt, 0.2, 2)), intCase(1, Math.abs)],
  [Prim.Pow]: [...binary(Math.pow, (rng, shape, fdt) => [uni(rng, shape, fdt, 0.5, 2), uni(rng, shape, fdt, -1.5, 2.5)])],
  [Prim.Max]: [...binary(Math.max, separated), tied(Math.max), intCase(2, Math.max, -2, 2)],
  [Prim.Min]: [...binary(Math.min, separated), tied(Math.min), intCase(2, Math.min, -2, 2)],
  [Prim.Sign]: [
    ...unary(
      (x) => (x > 0 ? 1 : x < 0 ? -1 : 0),
      (rng, s, fdt) => away(rng, s, fdt, 0.2, 2),
      { zeroDerivative: true },
    ),
    {
      name: "float [5] with zeros",
      make: (rng, fdt) => [operand([5], fdt, (i) => (i % 2 ? 0 : rng.awayFromZero(0.2, 2)))],
      params: E,
      ref: ([x]) => zipMap([x!], (v) => (v > 0 ? 1 : v < 0 ? -1 : 0)),
      diff: [0],
      zeroDerivative: true,
    },
    intCase(1, (a) => (a > 0 ? 1 : a < 0 ? -1 : 0), -2, 2),
  ],
  [Prim.Floor]: unary(Math.floor, (rng, s, fdt) => operand(s, fdt, () => rng.int(-3, 3) + rng.uniform(0.1, 0.9)), { zeroDerivative: true }),
  [Prim.StopGradient]: [...unary((x) => x, indep, { zeroDerivative: true }), { ...intCase(1, (a) => a), zeroDerivative: true }],
  [Prim.Eq]: comparison((a, b) => a === b),
  [Prim.Ne]: comparison((a, b) => a !== b),
  [Prim.Lt]: comparison((a, b) => a < b),
  [Prim.Le]: comparison((a, b) => a <= b),
  [Prim.Gt]: comparison((a, b) => a > b),
  [Prim.Ge]: comparison((a, b) => a >= b),
  [Prim.And]: logical(2, (a, b) => a & b),
  [Prim.Or]: logical(2, (a, b) => a | b),
  [Prim.Not]: logical(1, (a) => (a ? 0 : 1)),
  [Prim.ConvertElementType]: [
    {
      name: "float -> same float",
      make: (rng, fdt) => [uni(rng, [2, 3], fdt, -2, 2)],
      params: (fdt) => ({ dtype: fdt }),
      ref: convertRef,
      outDtype: convertOut,
      diff: [0],
      linear: [[0]],
    },
    {
      name: "float -> float64 (widening in the float32 run)",
      make: (rng, fdt) => [uni(rng, [4, 1], fdt, -2, 2)],
      params: { dtype: "float64" },
      ref: convertRef,
      outDtype: convertOut,
      diff: [0],
      linear: [[0]],
    },
    {
      // Narrowing: the output has float32 resolution, so finite differences need a wide step.
      name: "float64 -> float32 (narrowing)",
      make: (rng) => [uni(rng, [3], "float64", -2, 2)],
      params: { dtype: "float32" },
      ref: convertRef,
      outDtype: convertOut,
      diff: [0],
      linear: [[0]],
      tol: { eps: 1e-2, fd: 1e-5, transpose: 1e-6 },
    },
    {
      name: "float -> int32 (truncates toward zero)",
      make: (rng, fdt) => [operand([2, 3], fdt, () => rng.int(-3, 3) + rng.awayFromZero(0.1, 0.9))],
      params: { dtype: "int32" },
      ref: convertRef,
      outDtype: convertOut,
      diff: [0],
      zeroDerivative: true,
    },
    {
      name: "float -> bool (zeros are false)",
      make: (rng, fdt) => [operand([5], fdt, (i) => (i % 2 ? 0 : rng.awayFromZero(0.2, 2)))],
      params: { dtype: "bool" },
      ref: convertRef,
      outDtype: convertOut,
      diff: [0],
      zeroDerivative: true,
    },
    {
      name: "int32 -> float",
      make: (rng) => [ints(rng, [2, 2], -100, 100)],
      params: (fdt) => ({ dtype: fdt }),
      ref: convertRef,
      outDtype: convertOut,
      diff: [],
    },
    {
      name: "bool -> float",
      make: (rng) => [bools(rng, [2, 3])],
      params: (fdt) => ({ dtype: fdt }),
      ref: convertRef,
      outDtype: convertOut,
      diff: [],
    },
    {
      name: "int32 -> bool",
      make: (rng) => [ints(rng, [5], -2, 2)],
      params: { dtype: "bool" },
      ref: convertRef,
      outDtype: convertOut,
      diff: [],
    },
    {
      name: "bool -> int32",
      make: (rng) => [bools(rng, [4])],
      params: { dtype: "int32" },
      ref: convertRef,
      outDtype: convertOut,
      diff: [],
    },
  ],
  [Prim.SelectN]: [
    {
      name: "bool predicate, 2 float cases [2,3]",
      make: (rng, fdt) => [bools(rng, [2, 3]), uni(rng, [2, 3], fdt), uni(rng, [2, 3], fdt)],
      params: E,
      ref: selectRef,
      outDtype: selectOut,
      diff: [1, 2],
      linear: [[1, 2]],
    },
    {
      name: "int32 predicate, 3 float cases [2,4]",
      make: (rng, fdt) => [ints(rng, [2, 4], 0, 2), uni(rng, [2, 4], fdt), uni(rng, [2, 4], fdt), uni(rng, [2, 4], fdt)],
      params: E,
      ref: selectRef,
      outDtype: selectOut,
      diff: [1, 2, 3],
      linear: [[1, 2, 3], [2]],
    },
    {
      name: "scalar bool predicate",
      make: (rng, fdt) => [bools(rng, []), uni(rng, [], fdt), uni(rng, [], fdt)],
      params: E,
      ref: selectRef,
      outDtype: selectOut,
      diff: [1, 2],
      linear: [[1, 2]],
    },
    {
      name: "int32 predicate, 3 int32 cases [5]",
      make: (rng) => [ints(rng, [5], 0, 2), ints(rng, [5], -9, 9), ints(rng, [5], -9, 9), ints(rng, [5], -9, 9)],
      params: E,
      ref: selectRef,
      outDtype: selectOut,
      diff: [],
    },
  ],
};
