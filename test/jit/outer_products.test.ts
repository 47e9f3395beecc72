/**
 * dot_generals that contract nothing (outer products per batch entry): eager and jit give each
 * element as the one product `mul` gives (its -0 and its int32 wrap-around), against a loop over
 * the result written here; jit turns them into broadcasts and a multiply (`outerProducts`), with
 * operands whose dims land out of order transposed first.
 */
import { describe, expect, it } from "vitest";
import { type DType, type NDArray, grad, jit, lax, makeJaxpr, np, vmap } from "../../src/index.js";
import { outerProducts } from "../../interpreters/jit/passes.js";

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
