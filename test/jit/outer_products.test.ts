/**
 * dot_generals that contract nothing (outer products per batch entry): eager and jit give each
 * element as the one product `mul` gives (its -0 and its int32 wrap-around), against a loop over
 * the result written here; jit turns them into broadcasts and a multiply (`outerProducts`), with
 * operands whose dims land out of order transposed first.
 */
import { describe, expect, it } from "vitest";
import { type DType, type NDArray, grad, jit, lax, makeJaxpr, np, vmap } from "../../src/index.js";
import { outerProducts } from "../../src/ir/passes.js";

type Dims = readonly [readonly number[], readonly number[]];
interface Case {
  name: string;
  l: number[];
  r: number[];
  batch: Dims;
}

const CASES: Case[] = [
  { name: "plain outer product", l: [5], r: [7], batch: [[], []] },
  { name: "per-example (batch first on both)", l: [6, 9], r: [6], batch: [[0], [0]] },
  { name: "batch dim last on the left, middle on the right", l: [3, 4, 5], r: [2, 5, 3], batch: [[2], [1]] },
  {
    name: "two batch dims in swapped order",
    l: [2, 3, 4],
    r: [3, 2],
    batch: [
      [0, 1],
      [1, 0],
    ],
  },
  { name: "scalar operand", l: [], r: [4, 3], batch: [[], []] },
];

/** Row-major strides of a shape. */
const strides = (shape: readonly number[]) => shape.map((_, d) => shape.slice(d + 1).reduce((a, b) => a * b, 1));

/** dot_general with no contracted dims, element by element: out[b, i, j] = combine(l[b, i], r[b, j]). */
function reference(l: number[], ls: number[], r: number[], rs: number[], [lb, rb]: Dims, combine: (a: number, b: number) => number): number[] {
  const lFree = ls.map((_, d) => d).filter((d) => !lb.includes(d)),
    rFree = rs.map((_, d) => d).filter((d) => !rb.includes(d));
  const shape = [...lb.map((d) => ls[d]!), ...lFree.map((d) => ls[d]!), ...rFree.map((d) => rs[d]!)];
  const lst = strides(ls),
    rst = strides(rs),
    ost = strides(shape);
  const n = shape.reduce((a, b) => a * b, 1);
  const out: number[] = [];
  for (let t = 0; t < n; t++) {
    const idx = shape.map((s, a) => Math.floor(t / ost[a]!) % s);
    let li = 0,
      ri = 0;
    lb.forEach((d, i) => (li += idx[i]! * lst[d]!));
    rb.forEach((d, i) => (ri += idx[i]! * rst[d]!));
    lFree.forEach((d, i) => (li += idx[lb.length + i]! * lst[d]!));
    rFree.forEach((d, i) => (ri += idx[lb.length + lFree.length + i]! * rst[d]!));
    out.push(combine(l[li]!, r[ri]!));
  }
  return out;
}

/** Values (as stored in `dtype`) with zeros of both signs, so -0 products show, and int32 products that wrap. */
const values = (n: number, seed: number, dtype: DType) =>
  Array.from({ length: n }, (_, i) => {
    const k = (i * 7 + seed) % 11;
    if (dtype === "int32") return (k - 5) * 123456789;
    const v = k === 3 ? 0 : k === 8 ? -0 : (k - 5) / 3 + seed / 10;
    return dtype === "float32" ? Math.fround(v) : v;
  });

const COMBINE: Partial<Record<DType, (a: number, b: number) => number>> = {
  float32: (a, b) => Math.fround(a * b),
  float64: (a, b) => a * b,
  int32: (a, b) => Math.imul(a, b),
};

describe("dot_general without contracted dims", () => {
  for (const c of CASES)
    for (const dtype of ["float32", "float64", "int32"] as const)
      it(`${c.name}, ${dtype}: eager and jit give mul's bits`, () => {
        const n = (s: number[]) => s.reduce((a, b) => a * b, 1);
        const lv = values(n(c.l), 1, dtype),
          rv = values(n(c.r), 4, dtype);
        const l = np.array(lv, { dtype }).reshape(c.l),
          r = np.array(rv, { dtype }).reshape(c.r);
        const f = (a: NDArray, b: NDArray) => lax.dotGeneral(a, b, [[[], []], c.batch as [number[], number[]]]);
        const want = reference(lv, c.l, rv, c.r, c.batch, COMBINE[dtype]!);
        for (const got of [f(l, r), jit(f)(l, r)]) {
          const data = Array.from(got.dataSync() as ArrayLike<number>);
          expect(data).toHaveLength(want.length);
          // toEqual tells -0 from +0: a product of a zero and a negative number keeps its sign.
          expect(data).toEqual(want);
        }
      });

  it("becomes a multiply of broadcasts under jit, the out-of-order operand transposed", () => {
    const l = np.zeros([3, 4, 5]),
      r = np.zeros([2, 5, 3]);
    const staged = makeJaxpr((a: NDArray, b: NDArray) =>
      lax.dotGeneral(a, b, [
        [[], []],
        [[2], [1]],
      ]),
    )(l, r).program;
    const rewritten = outerProducts(staged);
    expect(rewritten.eqns.map((e) => e.prim)).toEqual(["transpose", "broadcast_in_dim", "transpose", "broadcast_in_dim", "mul"]);
    expect(rewritten.eqns[0]!.params).toEqual({ perm: [2, 0, 1] });
    expect(rewritten.eqns[1]!.params).toEqual({ shape: [5, 3, 4, 2, 3], broadcastDimensions: [0, 1, 2] });
    expect(rewritten.eqns[2]!.params).toEqual({ perm: [1, 0, 2] });
    expect(rewritten.eqns[3]!.params).toEqual({ shape: [5, 3, 4, 2, 3], broadcastDimensions: [0, 3, 4] });
    expect(rewritten.outvars).toEqual(staged.outvars);
    const plain = makeJaxpr((a: NDArray, b: NDArray) =>
      lax.dotGeneral(a, b, [
        [[2], [1]],
        [[], []],
      ]),
    )(l, r).program;
    expect(outerProducts(plain)).toBe(plain);
  });

  it("per-example gradients of a linear model (jit(vmap(grad))) multiply instead of a product kernel", () => {
    const loss = (w: NDArray, x: NDArray, y: NDArray) => np.square(np.subtract(np.dot(x, w), y));
    const w = np.array([0.5, -1, 2]),
      xs = np.array([
        [1, 2, 3],
        [0, -1, 4],
        [2, 0, -0.5],
        [1, 1, 1],
      ]),
      ys = np.array([1, 0, -2, 3]);
    const g = vmap(grad(loss), { inAxes: [null, 0, 0] });
    const staged = makeJaxpr(g)(w, xs, ys).program;
    expect(staged.eqns.some((e) => e.prim === "dot_general" && (e.params as { contract: Dims }).contract[0].length === 0)).toBe(true);
    expect(outerProducts(staged).eqns.some((e) => e.prim === "dot_general" && (e.params as { contract: Dims }).contract[0].length === 0)).toBe(false);
    // d/dw (x·w - y)² = 2 (x·w - y) x, row by row.
    const want = [
      [1, 2, 3],
      [0, -1, 4],
      [2, 0, -0.5],
      [1, 1, 1],
    ].map((x, i) => {
      const e = x[0]! * 0.5 - x[1]! + 2 * x[2]! - [1, 0, -2, 3][i]!;
      return x.map((v) => Math.fround(Math.fround(2 * e) * v));
    });
    expect(jit(g)(w, xs, ys).tolist()).toEqual(want);
    expect(g(w, xs, ys).tolist()).toEqual(want);
  });
});

/** A product contracting only dims of size 1, and the same product written without them. */
interface DepthOneCase {
  name: string;
  l: number[];
  r: number[];
  dims: [Dims, Dims];
  /** The operands' shapes with the contracted unit dims dropped, and the batch dims there. */
  lSqueezed: number[];
  rSqueezed: number[];
  batch: Dims;
}

const DEPTH_ONE: DepthOneCase[] = [
  {
    name: "column times row (K = 1)",
    l: [5, 1],
    r: [1, 7],
    dims: [
      [[1], [0]],
      [[], []],
    ],
    lSqueezed: [5],
    rSqueezed: [7],
    batch: [[], []],
  },
  {
    name: "a scan step's weight gradient (rhs stored [n, 1])",
    l: [6, 1],
    r: [4, 1],
    dims: [
      [[1], [1]],
      [[], []],
    ],
    lSqueezed: [6],
    rSqueezed: [4],
    batch: [[], []],
  },
  {
    name: "contracted unit dim first",
    l: [1, 5],
    r: [1, 3],
    dims: [
      [[0], [0]],
      [[], []],
    ],
    lSqueezed: [5],
    rSqueezed: [3],
    batch: [[], []],
  },
  {
    name: "batched, two unit dims contracted",
    l: [3, 1, 4, 1],
    r: [1, 3, 1, 2],
    dims: [
      [
        [1, 3],
        [0, 2],
      ],
      [[0], [1]],
    ],
    lSqueezed: [3, 4],
    rSqueezed: [3, 2],
    batch: [[0], [0]],
  },
];

describe("dot_general contracting only dims of size 1", () => {
  for (const c of DEPTH_ONE)
    for (const dtype of ["float32", "float64", "int32"] as const)
      it(`${c.name}, ${dtype}: eager and jit give mul's bits`, () => {
        const n = (s: number[]) => s.reduce((a, b) => a * b, 1);
        const lv = values(n(c.l), 2, dtype),
          rv = values(n(c.r), 5, dtype);
        const l = np.array(lv, { dtype }).reshape(c.l),
          r = np.array(rv, { dtype }).reshape(c.r);
        const f = (a: NDArray, b: NDArray) => lax.dotGeneral(a, b, c.dims as [[number[], number[]], [number[], number[]]]);
        // Dropping unit dims keeps the element order, so the squeezed operands hold the same values.
        const want = reference(lv, c.lSqueezed, rv, c.rSqueezed, c.batch, COMBINE[dtype]!);
        for (const got of [f(l, r), jit(f)(l, r)]) expect(Array.from(got.dataSync() as ArrayLike<number>)).toEqual(want);
      });

  it("becomes a multiply of reshaped broadcasts under jit", () => {
    const staged = makeJaxpr((a: NDArray, b: NDArray) =>
      lax.dotGeneral(a, b, [
        [[1], [1]],
        [[], []],
      ]),
    )(np.zeros([6, 1]), np.zeros([4, 1])).program;
    const rewritten = outerProducts(staged);
    expect(rewritten.eqns.map((e) => e.prim)).toEqual(["reshape", "broadcast_in_dim", "reshape", "broadcast_in_dim", "mul"]);
    expect(rewritten.eqns[1]!.params).toEqual({ shape: [6, 4], broadcastDimensions: [0] });
    expect(rewritten.eqns[3]!.params).toEqual({ shape: [6, 4], broadcastDimensions: [1] });
    // A contracted dim longer than 1 is a real product.
    const deep = makeJaxpr((a: NDArray, b: NDArray) => np.matmul(a, b))(np.zeros([6, 2]), np.zeros([2, 4])).program;
    expect(outerProducts(deep)).toBe(deep);
  });

  it("the gradient of an RNN through scan: jit's bits are eager's, and its backward step has no product of depth 1", () => {
    const H = 16,
      I = 8,
      S = 12;
    const rnnLoss = (w: NDArray, u: NDArray, xs: NDArray) => {
      const step = (h: NDArray, x: NDArray): [NDArray, null] => [np.tanh(np.add(np.matmul(w, h), np.matmul(u, x))), null];
      return np.sum(np.square(lax.scan(step, np.zeros([H]), xs)[0]));
    };
    const rand = (shape: number[], seed: number) =>
      np.array(Array.from({ length: shape.reduce((a, b) => a * b, 1) }, (_, i) => Math.sin(i * 1.7 + seed) * 0.4)).reshape(shape);
    const w = rand([H, H], 1),
      u = rand([H, I], 2),
      xs = rand([S, I], 3);
    const g = grad(rnnLoss, { argnums: [0, 1] });
    const eager = g(w, u, xs) as NDArray[],
      compiled = jit(g)(w, u, xs) as NDArray[];
    compiled.forEach((c, i) => expect(c.tolist()).toEqual(eager[i]!.tolist()));
    const scans = makeJaxpr(g)(w, u, xs).program.eqns.filter((e) => e.prim === "scan");
    const backward = (scans[scans.length - 1]!.params as { body: { program: Parameters<typeof outerProducts>[0] } }).body.program;
    const depthOne = (p: Parameters<typeof outerProducts>[0]) =>
      p.eqns.filter((e) => e.prim === "dot_general" && (e.params as { contract: Dims }).contract[0].every((d) => e.inputs[0]!.aval.shape[d] === 1));
    expect(depthOne(backward).length).toBeGreaterThan(0);
    expect(depthOne(outerProducts(backward))).toEqual([]);
  });
});
