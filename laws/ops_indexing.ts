/**
 * The op menu of random programs, indexing part: NumPy basic indexing with slice strings (steps,
 * negative steps), advanced indexing with a constant int32 array (repeated and negative entries),
 * `np.takeAlongAxis`, and `scatter` ("set" and "mul", the ops `x.at[...]` lowers to) with repeated
 * indices. min/max scatters are left to the coverage table, whose operands keep them off ties.
 */
import { Prim } from "../src/index.js";
import type { Builder } from "./builder.js";
import { type OpDef, MAX_SIZE, type Shape, defineOp, sizeOf } from "./ops_elementwise.js";
import { rng } from "./numeric.js";

/** Slice strings and the length each leaves of a dim of size n (NumPy's rule, for these forms). */
const SLICES: readonly [string, (n: number) => number][] = [
  [":", (n) => n],
  ["::-1", (n) => n],
  ["1:", (n) => Math.max(0, n - 1)],
  ["::2", (n) => Math.ceil(n / 2)],
  ["-1::-2", (n) => Math.ceil(n / 2)],
];

const ints = (n: number, m: number, choice: number, negative: boolean): number[] => {
  const next = rng(choice * 37 + 11);
  return Array.from({ length: m }, () => Math.floor(next() * n) - (negative && next() < 0.3 ? n : 0));
};

const one = <P>(
  name: string,
  plan: (s: Shape, c: number) => { params: P; shape: Shape } | null,
  build: <T>(b: Builder<T>, x: T, p: P) => T,
): OpDef<P> => defineOp({ name, arity: 1, plan: ([s], c) => plan(s!, c), build: (b, [x], p) => build(b, x!, p) });

export const indexingOps: OpDef[] = [
  one(
    "indexSlices",
    (s, c) => {
      if (s.length === 0) return null;
      const picks = s.map((n, d) => SLICES[(c >> (2 * d)) % SLICES.length]!);
      const shape = s.map((n, d) => picks[d]![1](n));
      return shape.every((n) => n > 0) ? { params: { specs: picks.map((p) => p[0]) }, shape } : null;
    },
    (b, x, p) => b.call("np.index", x, ...p.specs),
  ),
  one(
    "indexArray",
    (s, c) => {
      if (s.length === 0) return null;
      const m = 1 + (c % 3);
      const shape = [m, ...s.slice(1)];
      return sizeOf(shape) <= MAX_SIZE ? { params: { idx: ints(s[0]!, m, c, true), m }, shape } : null;
    },
    (b, x, p) => b.call("np.index", x, b.constant(p.idx, [p.m], "int32")),
  ),
  one(
    "takeAlongAxis",
    (s, c) => {
      if (s.length === 0) return null;
      const axis = c % s.length,
        m = 1 + ((c >> 2) % 3);
      const shape = s.map((n, d) => (d === axis ? m : n));
      return sizeOf(shape) <= MAX_SIZE ? { params: { axis, shape, idx: ints(s[axis]!, sizeOf(shape), c, true) }, shape } : null;
    },
    (b, x, p) => b.call("np.takeAlongAxis", x, b.constant(p.idx, p.shape, "int32"), p.axis),
  ),
  one(
    "scatter",
    (s, c) => {
      if (s.length === 0) return null;
      const axis = c % s.length,
        m = 1 + ((c >> 2) % 3);
      const op = (c >> 4) % 2 === 0 ? "set" : "mul";
      return { params: { axis, m, op, idx: ints(s[axis]!, m, c, false), src: ints(s[axis]!, m, c + 1, false) }, shape: s };
    },
    (b, x, p) => {
      const upd = b.call("np.tanh", b.call("np.take", x, b.constant(p.src, [p.m], "int32"), p.axis));
      return b.bind(Prim.Scatter, [x, b.constant(p.idx, [p.m], "int32"), upd], { axis: p.axis, batchDims: 0, op: p.op });
    },
  ),
];
