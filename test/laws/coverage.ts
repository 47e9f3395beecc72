/**
 * The coverage table: for every primitive, cases that exercise it through the public API inside
 * its smooth domain (logs of positives, no ties for max, no kinks for abs/floor/comparisons). Each
 * case draws its params once and three examples of its arguments (the vmap laws stack them).
 * coverage.test.ts runs every law over every entry and fails, naming it, for a primitive that has
 * no entry here. An entry may skip a law only with a reason, and the test then checks that the law
 * is refused with a typed error rather than silently wrong.
 */
import fc from "fast-check";
import { type NDArray, Prim, bind1, checkpoint, customJvp, customVjp, debug, jit, lax, nn, np } from "../../src/index.js";
import { type ArrayOptions, type Case, arb, makeCase } from "../../laws/index.js";
import { coverageIndexing } from "./coverage_indexing.js";
import { randomCoverage } from "./coverage_random.js";
import { linalgCoverage } from "./coverage_linalg.js";
import { convCoverage } from "./coverage_conv.js";
import { squash } from "./squash.js";

type Fn = (...args: any[]) => unknown;

export interface PrimEntry {
  readonly cases: fc.Arbitrary<Case>;
  /** Laws that do not apply, with the reason; each must be refused with a FluxionError. */
  readonly skip?: Readonly<Record<string, string>>;
  /** Why the primitive is bound only inside a transform's own staged program, out of sight of an outer interpreter. */
  readonly hidden?: string;
}

/** An entry: params drawn once, then three examples of arguments for them. */
function entry<P>(
  params: fc.Arbitrary<P>,
  make: (p: P) => { f: Fn; args: fc.Arbitrary<unknown[]>; source: string },
  extra: Omit<PrimEntry, "cases"> = {},
): PrimEntry {
  const cases = params.chain((p) => {
    const m = make(p);
    return fc
      .array(m.args, { minLength: 3, maxLength: 3 })
      .map(([a, ...rest]) => makeCase({ f: squash(m.f), args: a!, batch: rest, source: `tanh ∘ ${m.source} with ${JSON.stringify(p)}` }));
  });
  return { cases, ...extra };
}

const dt = arb.floatDType();
const shape = arb.shape({ maxRank: 3, maxDim: 3 });
const A = (s: number[], dtype: "float32" | "float64" | "int32", o: Omit<ArrayOptions, "shape" | "dtype"> = {}) =>
  arb.array({ shape: s, dtype, ...o });
const I = (values: fc.Arbitrary<number>) => values.map((v) => np.array(v, { dtype: "int32" }));
const sd = fc.record({ s: shape, dtype: dt });

/** One float operand of any shape, with a domain. */
const unary = (f: (x: NDArray) => NDArray, source: string, o = {}) => entry(sd, ({ s, dtype }) => ({ f, args: fc.tuple(A(s, dtype, o)), source }));

/** Two float operands of shapes that broadcast. */
const binary = (f: (x: NDArray, y: NDArray) => NDArray, source: string, oy = {}) =>
  entry(fc.record({ ss: arb.broadcastableShapes({ maxRank: 3, maxDim: 3 }), dtype: dt }), ({ ss: [a, b], dtype }) => ({
    f,
    args: fc.tuple(A(a, dtype), A(b, dtype, oy)),
    source,
  }));

/** Two operands of one shape at least 0.1 apart elementwise: no ties for max, min and comparisons. */
const apart = (f: (x: NDArray, y: NDArray) => NDArray, source: string) =>
  entry(sd, ({ s, dtype }) => ({
    f,
    source,
    args: fc.tuple(A(s, dtype), A(s, dtype, { avoid: [0], margin: 0.1 })).map(([x, d]) => [x, np.add(x, d)]),
  }));

/** Two operands of one shape, each away from 0, for masks built from their signs. */
const signs = (f: (x: NDArray, y: NDArray) => NDArray, source: string) =>
  entry(sd, ({ s, dtype }) => ({ f, source, args: fc.tuple(A(s, dtype, { avoid: [0] }), A(s, dtype, { avoid: [0] })) }));

const noInts = { avoid: [-2, -1, 0, 1, 2], margin: 0.05 };
const nonEmpty = fc.record({ s: arb.shape({ minRank: 1, maxRank: 3, maxDim: 3 }), dtype: dt });
const axisOf = (s: number[]) => fc.nat({ max: s.length - 1 });
const subset = (s: number[]) =>
  fc.subarray(
    s.map((_, d) => d),
    { minLength: 1 },
  );

const reduceSumLike = (op: "sum" | "max" | "min", o = {}) =>
  entry(
    nonEmpty.chain((p) => fc.record({ p: fc.constant(p), axes: subset(p.s), keepdims: fc.boolean() })),
    ({ p: { s, dtype }, axes, keepdims }) => ({
      f: (x: NDArray) => np[op](x, { axis: axes, keepdims }),
      args: fc.tuple(A(s, dtype, o)),
      source: `x => np.${op}(x, { axis, keepdims })`,
    }),
  );

const argEntry = (op: "argmax" | "argmin") =>
  entry(fc.record({ n: fc.integer({ min: 1, max: 4 }), dtype: dt }), ({ n, dtype }) => ({
    f: (x: NDArray, y: NDArray) => np.take(x, np[op](y)),
    source: `(x, y) => np.take(x, np.${op}(y))`,
    args: fc.tuple(A([n], dtype), A([n], dtype, { distinct: 0.1 })),
  }));

const divisorsShape = (n: number) =>
  fc.constantFrom(
    ...[
      [n],
      [1, n],
      [n, 1],
      ...Array.from({ length: n }, (_, i) => i + 1)
        .filter((d) => n % d === 0)
        .map((d) => [d, n / d]),
    ],
  );

/** lax.dot_general with random batch / contracting / free dims, each operand's dims permuted. */
const dotGeneral = entry(
  fc.record({
    b: fc.array(fc.integer({ min: 1, max: 2 }), { maxLength: 1 }),
    c: fc.array(fc.integer({ min: 1, max: 3 }), { maxLength: 2 }),
    f1: fc.array(fc.integer({ min: 1, max: 3 }), { maxLength: 1 }),
    f2: fc.array(fc.integer({ min: 1, max: 3 }), { maxLength: 1 }),
    p1: fc.nat(),
    p2: fc.nat(),
    dtype: dt,
  }),
  ({ b, c, f1, f2, p1, p2, dtype }) => {
    const perm = (n: number, k: number) => {
      const r = Array.from({ length: n }, (_, i) => i);
      for (let i = n - 1; i > 0; i--) {
        const j = (k >> i) % (i + 1);
        [r[i], r[j]] = [r[j]!, r[i]!];
      }
      return r;
    };
    const L = [...b, ...c, ...f1],
      R = [...b, ...c, ...f2];
    const pl = perm(L.length, p1),
      pr = perm(R.length, p2);
    const at = (pm: number[], logical: number) => pm.indexOf(logical);
    const contract: [number[], number[]] = [c.map((_, i) => at(pl, b.length + i)), c.map((_, i) => at(pr, b.length + i))];
    const batch: [number[], number[]] = [b.map((_, i) => at(pl, i)), b.map((_, i) => at(pr, i))];
    return {
      f: (x: NDArray, y: NDArray) => bind1(Prim.DotGeneral, [x, y], { contract, batch }),
      source: `(x, y) => bind1(Prim.DotGeneral, [x, y], ${JSON.stringify({ contract, batch })})`,
      args: fc.tuple(
        A(
          pl.map((d) => L[d]!),
          dtype,
        ),
        A(
          pr.map((d) => R[d]!),
          dtype,
        ),
      ),
    };
  },
);

const slices = nonEmpty.chain(({ s, dtype }) =>
  fc.record({
    s: fc.constant(s),
    dtype: fc.constant(dtype),
    start: fc.tuple(...s.map((n) => fc.nat({ max: n - 1 }))),
    step: fc.tuple(...s.map(() => fc.integer({ min: 1, max: 2 }))),
  }),
);

/** The function and rules of the custom-derivative entries. */
const customSin = customVjp(
  (x: NDArray) => np.sin(x),
  (x: NDArray) => [np.sin(x), x],
  (x: NDArray, ct: NDArray) => [np.multiply(np.cos(x), ct)],
);
const reverseOnly = "customVjp functions have no forward mode (a typed error, as documented); give a customJvp for that";
// Forward-over-reverse (hessian, jvp of grad) still works: the bwd rule is ordinary, differentiable code.
const fwdSkips = Object.fromEntries(
  ["jvpMatchesFiniteDifferences", "jvpIsLinear", "transposeIdentity", "vmapCommutesWithJvp", "noPerturbationConfusion", "primalsAgree"].map((l) => [
    l,
    reverseOnly,
  ]),
);
const noReverse = "while loops have no reverse mode (unknown trip count), as in JAX: a typed error that suggests lax.scan or lax.fori";
// linearize (and vjp's primal) of a while loop works, as in JAX; transposing it is refused.
const revSkips = Object.fromEntries(
  ["transposeIdentity", "vmapCommutesWithGrad", "hessianIsSymmetric", "jvpOfGradIsHessianVector", "noPerturbationConfusion"].map((l) => [
    l,
    noReverse,
  ]),
);

export const table: Partial<Record<Prim, PrimEntry>> = {
  ...coverageIndexing,
  ...randomCoverage,
  ...convCoverage,
  [Prim.Add]: binary(np.add, "np.add"),
  [Prim.Sub]: binary(np.subtract, "np.subtract"),
  [Prim.Neg]: unary(np.negative, "np.negative"),
  [Prim.ConvertElementType]: entry(shape, (s) => ({
    f: (x: NDArray) => np.sin(x.astype("float64")),
    args: fc.tuple(A(s, "float32")),
    source: `x => np.sin(x.astype("float64"))`,
  })),
  [Prim.SelectN]: entry(fc.record({ s: shape, dtype: dt, bits: fc.nat() }), ({ s, dtype, bits }) => {
    const n = s.reduce((a, b) => a * b, 1);
    const which = np
      .array(
        Array.from({ length: n }, (_, i) => (bits >> (i % 30)) % 3),
        { dtype: "int32" },
      )
      .reshape(s);
    return {
      f: (x: NDArray, y: NDArray, z: NDArray) => bind1(Prim.SelectN, [which, x, y, z], {}),
      args: fc.tuple(A(s, dtype), A(s, dtype), A(s, dtype)),
      source: "(x, y, z) => bind1(Prim.SelectN, [which, x, y, z], {})",
    };
  }),
  [Prim.Mul]: binary(np.multiply, "np.multiply"),
  [Prim.Div]: binary(np.divide, "np.divide", { avoid: [0], margin: 0.5 }),
  [Prim.Exp]: unary(np.exp, "np.exp"),
  [Prim.Log]: unary(np.log, "np.log", { min: 0.2, max: 3 }),
  [Prim.Log1p]: unary(np.log1p, "np.log1p", { min: -0.5, max: 2 }),
  [Prim.Expm1]: unary(np.expm1, "np.expm1"),
  [Prim.Sin]: unary(np.sin, "np.sin"),
  [Prim.Cos]: unary(np.cos, "np.cos"),
  [Prim.Tanh]: unary(np.tanh, "np.tanh"),
  [Prim.Atan]: unary(np.arctan, "np.arctan"),
  [Prim.Logistic]: unary(nn.sigmoid, "nn.sigmoid"),
  [Prim.Sqrt]: unary(np.sqrt, "np.sqrt", { min: 0.2, max: 3 }),
  [Prim.Rsqrt]: unary((x) => bind1(Prim.Rsqrt, [x], {}), "x => bind1(Prim.Rsqrt, [x], {})", { min: 0.2, max: 3 }),
  [Prim.Abs]: unary(np.abs, "np.abs", { avoid: [0] }),
  [Prim.Pow]: entry(sd, ({ s, dtype }) => ({
    f: np.power,
    args: fc.tuple(A(s, dtype, { min: 0.3, max: 2 }), A(s, dtype, { min: -1.5, max: 1.5, avoid: [0] })),
    source: "np.power",
  })),
  [Prim.Max]: apart(np.maximum, "np.maximum"),
  [Prim.Min]: apart(np.minimum, "np.minimum"),
  [Prim.Sign]: unary((x) => np.multiply(x, np.sign(x)), "x => x * np.sign(x)", { avoid: [0] }),
  [Prim.Floor]: unary((x) => np.multiply(x, np.floor(x)), "x => x * np.floor(x)", noInts),
  [Prim.Eq]: unary((x) => np.where(np.equal(np.floor(x), 0), x, np.square(x)), "x => np.where(np.floor(x) == 0, x, x²)", noInts),
  [Prim.Ne]: unary((x) => np.where(np.notEqual(np.floor(x), 0), x, np.square(x)), "x => np.where(np.floor(x) != 0, x, x²)", noInts),
  [Prim.Lt]: apart((x, y) => np.where(np.less(x, y), x, np.sin(y)), "(x, y) => np.where(x < y, x, sin y)"),
  [Prim.Le]: apart((x, y) => np.where(np.lessEqual(x, y), x, np.sin(y)), "(x, y) => np.where(x <= y, x, sin y)"),
  [Prim.Gt]: apart((x, y) => np.where(np.greater(x, y), x, np.sin(y)), "(x, y) => np.where(x > y, x, sin y)"),
  [Prim.Ge]: apart((x, y) => np.where(np.greaterEqual(x, y), x, np.sin(y)), "(x, y) => np.where(x >= y, x, sin y)"),
  [Prim.And]: signs((x, y) => np.where(np.logicalAnd(np.greater(x, 0), np.greater(y, 0)), x, y), "(x, y) => np.where(x > 0 && y > 0, x, y)"),
  [Prim.Or]: signs((x, y) => np.where(np.logicalOr(np.greater(x, 0), np.greater(y, 0)), x, y), "(x, y) => np.where(x > 0 || y > 0, x, y)"),
  [Prim.Not]: unary((x) => np.where(np.logicalNot(np.greater(x, 0)), np.sin(x), x), "x => np.where(!(x > 0), sin x, x)", { avoid: [0] }),
  // exp(x - sg(x)) exp(sg(x)) = exp(x) with the same derivative: the one use central differences can check.
  [Prim.StopGradient]: unary(
    (x) => np.multiply(np.exp(np.subtract(x, np.stopGradient(x))), np.exp(np.stopGradient(x))),
    "x => exp(x - sg(x)) exp(sg(x))",
  ),
  [Prim.ReduceSum]: reduceSumLike("sum"),
  [Prim.ReduceMax]: reduceSumLike("max", { distinct: 0.1 }),
  [Prim.ReduceMin]: reduceSumLike("min", { distinct: 0.1 }),
  [Prim.ArgMax]: argEntry("argmax"),
  [Prim.ArgMin]: argEntry("argmin"),
  [Prim.Cumsum]: entry(
    nonEmpty.chain((p) => fc.record({ p: fc.constant(p), axis: axisOf(p.s), reverse: fc.boolean() })),
    ({ p: { s, dtype }, axis, reverse }) => ({
      f: (x: NDArray) => bind1(Prim.Cumsum, [x], { axis, reverse }),
      args: fc.tuple(A(s, dtype)),
      source: "x => bind1(Prim.Cumsum, [x], { axis, reverse })",
    }),
  ),
  // Distinct values: the sorted order (and so the derivative's permutation) is the same at nearby points.
  [Prim.Argsort]: entry(
    nonEmpty.chain((p) => fc.record({ p: fc.constant(p), axis: axisOf(p.s), descending: fc.boolean() })),
    ({ p: { s, dtype }, axis, descending }) => ({
      f: (x: NDArray) => np.sort(x, { axis, descending }),
      args: fc.tuple(A(s, dtype, { distinct: 0.1 })),
      source: "x => np.sort(x, { axis, descending })",
    }),
  ),
  [Prim.BroadcastInDim]: entry(fc.record({ ss: arb.broadcastableShapes({ maxRank: 3, maxDim: 3 }), dtype: dt }), ({ ss: [a, b], dtype }) => {
    const wide =
      a.length >= b.length
        ? a.map((n, d) => Math.max(n, b[d - a.length + b.length] ?? 1))
        : b.map((n, d) => Math.max(n, a[d - b.length + a.length] ?? 1));
    const target = [2, ...wide];
    return { f: (x: NDArray) => np.broadcastTo(x, target), args: fc.tuple(A(a, dtype)), source: `x => np.broadcastTo(x, [${target}])` };
  }),
  [Prim.Reshape]: entry(
    fc
      .record({ n: fc.integer({ min: 1, max: 12 }), dtype: dt })
      .chain((p) => fc.record({ p: fc.constant(p), from: divisorsShape(p.n), to: divisorsShape(p.n) })),
    ({ p: { dtype }, from, to }) => ({
      f: (x: NDArray) => bind1(Prim.Reshape, [x], { shape: to }),
      args: fc.tuple(A(from, dtype)),
      source: `x => bind1(Prim.Reshape, [x], { shape: [${to}] })`,
    }),
  ),
  [Prim.Transpose]: entry(
    nonEmpty.chain((p) =>
      fc.record({
        p: fc.constant(p),
        perm: fc.shuffledSubarray(
          p.s.map((_, d) => d),
          { minLength: p.s.length },
        ),
      }),
    ),
    ({ p: { s, dtype }, perm }) => ({
      f: (x: NDArray) => bind1(Prim.Transpose, [x], { perm }),
      args: fc.tuple(A(s, dtype)),
      source: `x => bind1(Prim.Transpose, [x], { perm: [${perm}] })`,
    }),
  ),
  [Prim.Rev]: entry(
    nonEmpty.chain((p) => fc.record({ p: fc.constant(p), axes: subset(p.s) })),
    ({ p: { s, dtype }, axes }) => ({
      f: (x: NDArray) => np.flip(x, axes),
      args: fc.tuple(A(s, dtype)),
      source: `x => np.flip(x, [${axes}])`,
    }),
  ),
  [Prim.Slice]: entry(slices, ({ s, dtype, start, step }) => {
    const limit = s.map((n, d) => Math.max(start[d]! + 1, n - (d % 2)));
    return {
      f: (x: NDArray) => bind1(Prim.Slice, [x], { start, limit, step }),
      args: fc.tuple(A(s, dtype)),
      source: "x => bind1(Prim.Slice, [x], { start, limit, step })",
    };
  }),
  [Prim.Pad]: entry(
    nonEmpty.chain((p) =>
      fc.record({ p: fc.constant(p), config: fc.tuple(...p.s.map(() => fc.tuple(fc.nat({ max: 1 }), fc.nat({ max: 1 }), fc.nat({ max: 1 })))) }),
    ),
    ({ p: { s, dtype }, config }) => ({
      f: (x: NDArray, v: NDArray) => bind1(Prim.Pad, [x, v], { config }),
      args: fc.tuple(A(s, dtype), A([], dtype)),
      source: "(x, v) => bind1(Prim.Pad, [x, v], { config })",
    }),
  ),
  [Prim.Concatenate]: entry(
    nonEmpty.chain((p) => fc.record({ p: fc.constant(p), axis: axisOf(p.s), m: fc.integer({ min: 1, max: 2 }) })),
    ({ p: { s, dtype }, axis, m }) => ({
      f: (x: NDArray, y: NDArray) => np.concatenate([x, y, x], axis),
      source: "(x, y) => np.concatenate([x, y, x], axis)",
      args: fc.tuple(
        A(s, dtype),
        A(
          s.map((n, d) => (d === axis ? m : n)),
          dtype,
        ),
      ),
    }),
  ),
  [Prim.Gather]: entry(
    fc.record({ s: arb.shape({ minRank: 2, maxRank: 3, maxDim: 3 }), dtype: dt, m: fc.integer({ min: 1, max: 3 }), batched: fc.boolean() }),
    ({ s, dtype, m, batched }) =>
      batched
        ? {
            f: (x: NDArray, i: NDArray) => bind1(Prim.Gather, [x, i], { axis: 1, batchDims: 1 }),
            source: "(x, i) => bind1(Prim.Gather, [x, i], { axis: 1, batchDims: 1 })",
            args: fc.tuple(A(s, dtype), A([s[0]!, m], "int32", { min: 0, max: s[1]! - 1 })),
          }
        : {
            f: (x: NDArray, i: NDArray) => np.take(x, i, 0),
            source: "(x, i) => np.take(x, i, 0)",
            args: fc.tuple(A(s, dtype), A([m], "int32", { min: -s[0]!, max: s[0]! - 1 })),
          },
  ),
  [Prim.ScatterAdd]: entry(
    nonEmpty.chain((p) => fc.record({ p: fc.constant(p), axis: axisOf(p.s), m: fc.integer({ min: 1, max: 3 }) })),
    ({ p: { s, dtype }, axis, m }) => ({
      f: (x: NDArray, i: NDArray, u: NDArray) => bind1(Prim.ScatterAdd, [x, i, u], { axis, batchDims: 0 }),
      source: "(x, i, u) => bind1(Prim.ScatterAdd, [x, i, u], { axis, batchDims: 0 })",
      args: fc.tuple(
        A(s, dtype),
        A([m], "int32", { min: 0, max: s[axis]! - 1 }),
        A(
          s.map((n, d) => (d === axis ? m : n)),
          dtype,
        ),
      ),
    }),
  ),
  [Prim.DynamicSlice]: entry(slices, ({ s, dtype, start }) => {
    const sizes = s.map((n, d) => Math.max(1, n - start[d]!));
    return {
      f: (x: NDArray, ...st: NDArray[]) => bind1(Prim.DynamicSlice, [x, ...st], { sizes }),
      source: `(x, ...starts) => bind1(Prim.DynamicSlice, [x, ...starts], { sizes: [${sizes}] })`,
      args: fc.tuple(A(s, dtype), ...s.map((n) => I(fc.integer({ min: -1, max: n })))),
    };
  }),
  [Prim.DynamicUpdateSlice]: entry(slices, ({ s, dtype, start }) => {
    const sizes = s.map((n, d) => Math.max(1, n - start[d]!));
    return {
      f: (x: NDArray, u: NDArray, ...st: NDArray[]) => bind1(Prim.DynamicUpdateSlice, [x, u, ...st], {}),
      source: "(x, u, ...starts) => bind1(Prim.DynamicUpdateSlice, [x, u, ...starts], {})",
      args: fc.tuple(A(s, dtype), A(sizes, dtype), ...s.map((n) => I(fc.integer({ min: -1, max: n })))),
    };
  }),
  [Prim.DotGeneral]: dotGeneral,
  [Prim.JitCall]: binary(
    jit((x: NDArray, y: NDArray) => np.multiply(np.sin(x), y)),
    "jit((x, y) => np.sin(x) * y)",
  ),
  [Prim.Cond]: entry(sd, ({ s, dtype }) => ({
    f: (x: NDArray, p: NDArray) =>
      lax.cond(
        p,
        (a: NDArray) => np.sin(a),
        (a: NDArray) => np.multiply(np.cos(a), 2),
        x,
      ),
    source: "(x, p) => lax.cond(p, sin, 2 cos, x)",
    args: fc.tuple(
      A(s, dtype),
      fc.boolean().map((b) => np.array(b)),
    ),
  })),
  [Prim.While]: {
    ...unary(
      (x) =>
        lax.whileLoop(
          ([i]: NDArray[]) => np.less(i!, 3),
          ([i, v]: NDArray[]) => [np.add(i!, 1), np.sin(v!)],
          [np.array(0, { dtype: "int32" }), x],
        )[1]!,
      "x => lax.whileLoop(([i]) => i < 3, ([i, v]) => [i + 1, sin v], [0, x])[1]",
    ),
    skip: revSkips,
  },
  [Prim.Scan]: entry(fc.record({ s: shape, dtype: dt, n: fc.integer({ min: 1, max: 3 }), reverse: fc.boolean() }), ({ s, dtype, n, reverse }) => ({
    f: (c: NDArray, xs: NDArray) => lax.scan((h: NDArray, x: NDArray) => [np.sin(np.multiply(h, x)), np.add(h, x)], c, xs, { reverse }),
    source: "(c, xs) => lax.scan((h, x) => [sin(h x), h + x], c, xs, { reverse })",
    args: fc.tuple(A(s, dtype), A([n, ...s], dtype)),
  })),
  [Prim.CustomJvpCall]: unary(
    customJvp(
      (x: NDArray) => np.sin(x),
      ([x]: NDArray[], [t]: NDArray[]) => [np.sin(x!), np.multiply(np.cos(x!), t!)],
    ),
    "customJvp(sin, cos · t)",
  ),
  [Prim.CustomVjpCall]: { ...unary(customSin, "customVjp(sin, cos · ct)"), skip: fwdSkips },
  [Prim.CustomLin]: {
    ...unary(customSin, "customVjp(sin, cos · ct)"),
    skip: fwdSkips,
    hidden: "custom_lin lives only in reverse mode's linear program, which is transposed (never bound on an outer interpreter)",
  },
  [Prim.DebugCallback]: unary((x: NDArray) => {
    debug.callback((_x: NDArray) => {}, x);
    return np.sin(x);
  }, "debug.callback(noop, x); sin x"),
  [Prim.Remat]: unary(
    checkpoint((x: NDArray) => np.multiply(np.sin(np.sin(x)), x)),
    "checkpoint(x => sin(sin x) x)",
  ),
  ...linalgCoverage,
};
