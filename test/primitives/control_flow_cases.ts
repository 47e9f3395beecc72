/**
 * Table cases of the control-flow primitives `cond`, `while` and `scan`. Their branches and bodies
 * are small programs staged with `makeJaxpr` on operands of the run's float dtype (see `staged` in
 * higher_order_cases.ts); each reference runs the same computation as a plain float64 loop over
 * host arrays and does not call the library.
 *
 * `while` has no reverse mode by design (its trip count is unknown): its cases expect vjp to throw
 * the typed error that points to lax.scan / lax.fori, and check jvp and vmap only. Their operands
 * keep every iterate well away from the loop's threshold, so the trip count is locally constant
 * and central differences are valid.
 */
import { ArgumentError, type NDArray, Prim } from "../../src/index.js";
import {
  type FloatDType,
  type Host,
  type Operand,
  type PrimCase,
  Rng,
  at,
  build,
  clampInt,
  operand,
  scalarInt,
  sizeOfShape,
  uni,
  zipMap,
} from "./cases_util.js";
import { type Spec, staged } from "./higher_order_cases.js";

export type ControlFlowPrim = Prim.Cond | Prim.While | Prim.Scan;

const scalar = (v: number): Host => ({ shape: [], data: [v] });
const sum = (x: Host): number => x.data.reduce((a, b) => a + b, 0);
const map1 = (x: Host, f: (v: number) => number): Host => ({ shape: x.shape.slice(), data: x.data.map(f) });

// ---------------------------------------------------------------- cond

type CondBranch = {
  fn: (...ops: NDArray[]) => NDArray[];
  ref: (ops: Operand[]) => Host[];
};

/**
 * A cond case over `branches` (each staged on the operands after the index, as `make` builds them);
 * the index operand is drawn by `index` (values outside [0, n) test the clamp).
 */
function condCase(
  name: string,
  index: (rng: Rng) => number,
  makeOps: (rng: Rng, fdt: FloatDType) => Operand[],
  branches: CondBranch[],
  rest: Omit<PrimCase<Prim.Cond>, "name" | "make" | "params" | "ref">,
): PrimCase<Prim.Cond> {
  return {
    name,
    make: (rng, fdt) => [scalarInt(index(rng)), ...makeOps(rng, fdt)],
    params: (fdt) => {
      const specs = makeOps(new Rng(1), fdt);
      return { branches: branches.map((b) => staged(b.fn, specs)) };
    },
    ref: ([i, ...ops]) => branches[clampInt(i!.data[0]!, 0, branches.length - 1)]!.ref(ops),
    // the branches' outputs have the float operands' dtype (operand 0 is the int32 index)
    outDtype: ([, x]) => x!.dtype,
    ...rest,
  };
}

const condCases: PrimCase<Prim.Cond>[] = [
  condCase(
    "2 branches, index in range: [sin(x) * y] | [x * x - y]",
    (rng) => rng.int(0, 1),
    (rng, fdt) => [uni(rng, [2, 3], fdt, -2, 2), uni(rng, [2, 3], fdt, -2, 2)],
    [
      { fn: (x, y) => [x.sin().mul(y)], ref: ([x, y]) => [zipMap([x!, y!], (a, b) => Math.sin(a) * b)] },
      { fn: (x, y) => [x.mul(x).sub(y)], ref: ([x, y]) => [zipMap([x!, y!], (a, b) => a * a - b)] },
    ],
    { diff: [1, 2] },
  ),
  condCase(
    "2 branches, index out of range (clamped): [exp(x) * y] | [x * y * y]",
    (rng) => (rng.next() < 0.5 ? rng.int(-3, -1) : rng.int(2, 4)),
    (rng, fdt) => [uni(rng, [3], fdt), uni(rng, [3], fdt)],
    [
      { fn: (x, y) => [x.exp().mul(y)], ref: ([x, y]) => [zipMap([x!, y!], (a, b) => Math.exp(a) * b)] },
      { fn: (x, y) => [x.mul(y).mul(y)], ref: ([x, y]) => [zipMap([x!, y!], (a, b) => a * b * b)] },
    ],
    { diff: [1, 2] },
  ),
  condCase(
    "3 branches, two outputs, index in [-1, 3]: [tanh(x) + y, sum(x * y)] | [x * y * y, sum(exp(x))] | [cos(x - y), 2 * sum(x)]",
    (rng) => rng.int(-1, 3),
    (rng, fdt) => [uni(rng, [3], fdt), uni(rng, [3], fdt)],
    [
      {
        fn: (x, y) => [x.tanh().add(y), x.mul(y).sum()],
        ref: ([x, y]) => [zipMap([x!, y!], (a, b) => Math.tanh(a) + b), scalar(sum(zipMap([x!, y!], (a, b) => a * b)))],
      },
      {
        fn: (x, y) => [x.mul(y).mul(y), x.exp().sum()],
        ref: ([x, y]) => [zipMap([x!, y!], (a, b) => a * b * b), scalar(sum(map1(x!, Math.exp)))],
      },
      {
        fn: (x, y) => [x.sub(y).cos(), x.sum().mul(2)],
        ref: ([x, y]) => [zipMap([x!, y!], (a, b) => Math.cos(a - b)), scalar(2 * sum(x!))],
      },
    ],
    { diff: [1, 2] },
  ),
  condCase(
    "3 branches, linear in the operands, index in [0, 2]: [2x + y] | [x - 3y] | [-y]",
    (rng) => rng.int(0, 2),
    (rng, fdt) => [uni(rng, [2, 2], fdt), uni(rng, [2, 2], fdt)],
    [
      { fn: (x, y) => [x.mul(2).add(y)], ref: ([x, y]) => [zipMap([x!, y!], (a, b) => 2 * a + b)] },
      { fn: (x, y) => [x.sub(y.mul(3))], ref: ([x, y]) => [zipMap([x!, y!], (a, b) => a - 3 * b)] },
      { fn: (_x, y) => [y.neg()], ref: ([, y]) => [map1(y!, (b) => -b)] },
    ],
    { diff: [1, 2], linear: [[1, 2], [2]] },
  ),
];

// ---------------------------------------------------------------- while

const WHILE_ERROR = { error: ArgumentError, message: /reverse-mode differentiation .*while loop.*lax\.scan.*lax\.fori/s };

/** The iterates of `c <- c * 1.5 + x` from c while c < limit (the loop of the first while case). */
function growIterates(limit: number, x: number, c: number): number[] {
  const its = [c];
  while (c < limit) its.push((c = c * 1.5 + x));
  return its;
}

const whileCases: PrimCase<Prim.While>[] = [
  {
    name: "cond consts and body consts, int counter: while c < limit: (i, c) = (i + 1, 1.5 c + x)",
    // operands: limit (cond const), x (body const), i (int32 carry), c (float carry). Positive x
    // and c make c grow, so the loop ends for any mix of lanes; every iterate is at least 2% of
    // the limit away from it, so small perturbations keep the trip count.
    make: (rng, fdt) => {
      for (;;) {
        const limit = rng.uniform(5, 20),
          x = rng.uniform(0.1, 1),
          c = rng.uniform(0.5, 2);
        const ops = [operand([], fdt, () => limit), operand([], fdt, () => x), scalarInt(rng.int(0, 3)), operand([], fdt, () => c)];
        const [l, xr, cr] = [ops[0]!.data[0]!, ops[1]!.data[0]!, ops[3]!.data[0]!];
        if (growIterates(l, xr, cr).every((v) => Math.abs(v - l) > 0.02 * l)) return ops;
      }
    },
    params: (fdt) => {
      const s: Spec[] = [
        { shape: [], dtype: fdt },
        { shape: [], dtype: "int32" },
        { shape: [], dtype: fdt },
      ];
      return {
        cond: staged((limit, _i, c) => [c.less(limit)], s),
        body: staged((x, i, c) => [i.add(1), c.mul(1.5).add(x)], s),
        condConsts: 1,
        bodyConsts: 1,
      };
    },
    ref: ([limit, x, i, c]) => {
      const its = growIterates(limit!.data[0]!, x!.data[0]!, c!.data[0]!);
      return [scalar(i!.data[0]! + its.length - 1), scalar(its[its.length - 1]!)];
    },
    outDtype: ([, , i, c]) => [i!.dtype, c!.dtype],
    diff: [0, 1, 3],
    expectError: { vjp: WHILE_ERROR },
  },
  {
    name: "int cond const, vector carry: while i < n: (i, v) = (i + 1, sin(v) * w + v), n - i in [-2, 4]",
    // operands: n (int32 cond const), w (float [3] body const), i (int32 carry), v (float [3] carry)
    make: (rng, fdt) => [scalarInt(rng.int(0, 4)), uni(rng, [3], fdt, -1.5, 1.5), scalarInt(rng.int(0, 2)), uni(rng, [3], fdt, -2, 2)],
    params: (fdt) => {
      const n: Spec = { shape: [], dtype: "int32" },
        w: Spec = { shape: [3], dtype: fdt };
      return {
        cond: staged((nn, i, _v) => [i.less(nn)], [n, n, w]),
        body: staged((ww, i, v) => [i.add(1), v.sin().mul(ww).add(v)], [w, n, w]),
        condConsts: 1,
        bodyConsts: 1,
      };
    },
    ref: ([n, w, i, v]) => {
      let k = i!.data[0]!,
        cur = v!.data.slice();
      for (; k < n!.data[0]!; k++) cur = cur.map((a, j) => Math.sin(a) * w!.data[j]! + a);
      return [scalar(k), { shape: [3], data: cur }];
    },
    outDtype: ([, , i, v]) => [i!.dtype, v!.dtype],
    diff: [1, 3],
    expectError: { vjp: WHILE_ERROR },
  },
];

// ---------------------------------------------------------------- scan

/**
 * The naive scan: `step(consts, carry, x_t) => [carry, y_t]` over t = 0..length-1 (backwards when
 * reverse); returns the final carry and the ys stacked at their step's index.
 */
function scanRef(
  length: number,
  reverse: boolean,
  consts: Host[],
  carry: Host[],
  xs: Host[],
  step: (consts: Host[], carry: Host[], xt: Host[]) => [Host[], Host[]],
  yShapes: number[][],
): Host[] {
  const ys = yShapes.map((s) => ({ shape: [length, ...s], data: new Array<number>(length * sizeOfShape(s)).fill(0) }));
  for (let s = 0; s < length; s++) {
    const t = reverse ? length - 1 - s : s;
    const xt = xs.map((x) => {
      const n = sizeOfShape(x.shape.slice(1));
      return { shape: x.shape.slice(1), data: x.data.slice(t * n, (t + 1) * n) };
    });
    const [c, y] = step(consts, carry, xt);
    carry = c;
    y.forEach((yt, j) => yt.data.forEach((v, i) => (ys[j]!.data[t * yt.data.length + i] = v)));
  }
  return [...carry, ...ys];
}

/** Scan case 1/2's body: h = tanh(h * w + x); s = s + sum(h * h); ys = [h * s_old, sin(s)]. */
const rnnStep = ([w]: Host[], [h, s]: Host[], [x]: Host[]): [Host[], Host[]] => {
  const h2 = build([2], ([i]) => Math.tanh(at(h!, [i!]) * at(w!, [i!]) + at(x!, [i!])));
  const s2 = s!.data[0]! + sum(map1(h2, (v) => v * v));
  return [
    [h2, scalar(s2)],
    [map1(h2, (v) => v * s!.data[0]!), scalar(Math.sin(s2))],
  ];
};

function rnnCase(reverse: boolean): PrimCase<Prim.Scan> {
  return {
    name: `${reverse ? "reverse" : "forward"}, a const, two carries, two ys: h = tanh(h * w + x_t), s += sum(h * h), ys = [h * s, sin(s)]`,
    // operands: w (const [2]), h (carry [2]), s (carry []), xs [4, 2]
    make: (rng, fdt) => [uni(rng, [2], fdt, -1.5, 1.5), uni(rng, [2], fdt), uni(rng, [], fdt), uni(rng, [4, 2], fdt)],
    params: (fdt) => {
      const v: Spec = { shape: [2], dtype: fdt },
        sc: Spec = { shape: [], dtype: fdt };
      return {
        body: staged(
          (w, h, s, x) => {
            const h2 = h.mul(w).add(x).tanh();
            const s2 = s.add(h2.mul(h2).sum());
            return [h2, s2, h2.mul(s), s2.sin()];
          },
          [v, v, sc, v],
        ),
        length: 4,
        reverse,
        numConsts: 1,
        numCarry: 2,
      };
    },
    ref: ([w, h, s, xs]) => scanRef(4, reverse, [w!], [h!, s!], [xs!], rnnStep, [[2], []]),
    diff: [0, 1, 2, 3],
  };
}

const scanCases: PrimCase<Prim.Scan>[] = [
  rnnCase(false),
  rnnCase(true),
  {
    name: "no xs (length 3): c = sin(c) * a + c, y = c * c",
    // operands: a (const []), c (carry [3])
    make: (rng, fdt) => [uni(rng, [], fdt, -1.5, 1.5), uni(rng, [3], fdt, -2, 2)],
    params: (fdt) => ({
      body: staged(
        (a, c) => {
          const c2 = c.sin().mul(a).add(c);
          return [c2, c2.mul(c2)];
        },
        [
          { shape: [], dtype: fdt },
          { shape: [3], dtype: fdt },
        ],
      ),
      length: 3,
      reverse: false,
      numConsts: 1,
      numCarry: 1,
    }),
    ref: ([a, c]) =>
      scanRef(
        3,
        false,
        [a!],
        [c!],
        [],
        ([aa], [cc]) => {
          const c2 = map1(cc!, (v) => Math.sin(v) * aa!.data[0]! + v);
          return [[c2], [map1(c2, (v) => v * v)]];
        },
        [[3]],
      ),
    diff: [0, 1],
  },
  {
    name: "linear in (carry, xs) and in (const, carry): c = 0.5 c + x_t * w, y = c + 2 c_old, reverse",
    // operands: w (const [2]), c (carry [2]), xs [3, 2]
    make: (rng, fdt) => [uni(rng, [2], fdt), uni(rng, [2], fdt), uni(rng, [3, 2], fdt)],
    params: (fdt) => {
      const v: Spec = { shape: [2], dtype: fdt };
      return {
        body: staged(
          (w, c, x) => {
            const c2 = c.mul(0.5).add(x.mul(w));
            return [c2, c2.add(c.mul(2))];
          },
          [v, v, v],
        ),
        length: 3,
        reverse: true,
        numConsts: 1,
        numCarry: 1,
      };
    },
    ref: ([w, c, xs]) =>
      scanRef(
        3,
        true,
        [w!],
        [c!],
        [xs!],
        ([ww], [cc], [x]) => {
          const c2 = zipMap([cc!, x!, ww!], (a, b, k) => 0.5 * a + b * k);
          return [[c2], [zipMap([c2, cc!], (a, b) => a + 2 * b)]];
        },
        [[2]],
      ),
    diff: [0, 1, 2],
    linear: [
      [1, 2],
      [0, 1],
    ],
  },
  {
    name: "no consts, int carry and int ys: (k, c) = (k + 1, c * cos(x_t) + k * x_t), ys = [k, sum(c)]",
    // operands: k (int32 carry []), c (float carry [2]), xs [3, 2]
    make: (rng, fdt) => [scalarInt(rng.int(-2, 2)), uni(rng, [2], fdt), uni(rng, [3, 2], fdt, -2, 2)],
    params: (fdt) => {
      const v: Spec = { shape: [2], dtype: fdt };
      return {
        body: staged(
          (k, c, x) => {
            const c2 = c.mul(x.cos()).add(x.mul(k.astype(fdt)));
            return [k.add(1), c2, k, c2.sum()];
          },
          [{ shape: [], dtype: "int32" }, v, v],
        ),
        length: 3,
        reverse: false,
        numConsts: 0,
        numCarry: 2,
      };
    },
    ref: ([k, c, xs]) =>
      scanRef(
        3,
        false,
        [],
        [k!, c!],
        [xs!],
        (_c, [kk, cc], [x]) => {
          const kv = kk!.data[0]!;
          const c2 = zipMap([cc!, x!], (a, b) => a * Math.cos(b) + kv * b);
          return [
            [scalar(kv + 1), c2],
            [scalar(kv), scalar(sum(c2))],
          ];
        },
        [[], []],
      ),
    outDtype: ([k, c]) => [k!.dtype, c!.dtype, k!.dtype, c!.dtype],
    diff: [1, 2],
  },
];

export const controlFlowCases: { [P in ControlFlowPrim]: PrimCase<P>[] } = {
  [Prim.Cond]: condCases,
  [Prim.While]: whileCases,
  [Prim.Scan]: scanCases,
};
