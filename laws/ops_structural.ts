/**
 * The op menu of random programs, part two: reductions (sum, mean, max, min, argmax, var, prod,
 * norm, cumsum, logsumexp, softmax), shape ops (reshape, transpose, expandDims, squeeze,
 * broadcastTo, flip, take, pad, tile, strided slice, interior pad, dynamic slices, scatter-add,
 * batched gather) and contractions (matmul, einsum, outer, concatenate, stack). Each op's `plan`
 * decides from shapes alone whether it applies and what its params are.
 */
import { Prim } from "../src/index.js";
import type { Builder } from "./builder.js";
import { type OpDef, MAX_SIZE, type Shape, defineOp, sizeOf, spread } from "./ops_elementwise.js";
import { rng } from "./numeric.js";

const range = (n: number) => Array.from({ length: n }, (_, i) => i);
const pickFrom = <X>(xs: readonly X[], choice: number): X => xs[choice % xs.length]!;
const fits = (s: Shape): Shape | null => (sizeOf(s) <= MAX_SIZE ? s : null);

/** Axes chosen by the bits of `choice` (none set: all axes, as `axis: null`). */
function axesOf(rank: number, choice: number): number[] | null {
  const axes = range(rank).filter((d) => (choice >> d) & 1);
  return axes.length === 0 ? null : axes;
}
const reduced = (s: Shape, axes: number[] | null, keep: boolean): Shape =>
  keep ? s.map((n, d) => (axes === null || axes.includes(d) ? 1 : n)) : s.filter((_, d) => axes !== null && !axes.includes(d));

interface Red {
  shape: Shape;
  axis: number[] | null;
  keepdims: boolean;
  n: number;
  choice: number;
}

/** A reduction over axes chosen by `choice`, with keepdims from bit 5. */
const reduction = (name: string, build: <T>(b: Builder<T>, x: T, p: Red) => T, single = false): OpDef<Red> =>
  defineOp({
    name,
    arity: 1,
    plan: ([s], choice) => {
      if (single && s!.length === 0) return null;
      const axis = single ? [choice % s!.length] : axesOf(s!.length, choice);
      const keepdims = ((choice >> 5) & 1) === 1;
      const n = sizeOf(axis === null ? s! : axis.map((d) => s![d]!));
      return { params: { shape: s!, axis, keepdims, n, choice }, shape: reduced(s!, axis, keepdims) };
    },
    build: (b, [x], p) => build(b, x!, p),
  });

export const reductionOps: OpDef[] = [
  reduction("sum", (b, x, p) => b.call("np.multiply", b.call("np.sum", x, { axis: p.axis, keepdims: p.keepdims }), 1 / p.n)),
  reduction("mean", (b, x, p) => b.call("np.mean", x, { axis: p.axis, keepdims: p.keepdims })),
  reduction("max", (b, x, p) => b.call("np.max", spread(b, x, p.shape, p.choice), { axis: p.axis, keepdims: p.keepdims })),
  reduction("min", (b, x, p) => b.call("np.min", spread(b, x, p.shape, p.choice), { axis: p.axis, keepdims: p.keepdims })),
  reduction("var", (b, x, p) => b.call("np.var", b.call("np.tanh", x), { axis: p.axis, keepdims: p.keepdims })),
  reduction("logsumexp", (b, x, p) => b.call("nn.logsumexp", x, p.axis, { keepdims: p.keepdims })),
  reduction(
    "prod",
    (b, x, p) => b.call("np.prod", b.call("np.add", b.call("np.multiply", b.call("np.tanh", x), 0.5), 1), { axis: p.axis, keepdims: p.keepdims }),
    true,
  ),
  reduction("norm", (b, x, p) => b.call("np.linalg.norm", b.call("np.add", b.call("np.cos", x), 1.5), { axis: p.axis, keepdims: p.keepdims }), true),
];

interface Ax {
  shape: Shape;
  axis: number;
  choice: number;
}

/** An op along one axis of a non-scalar, keeping the shape unless `shape` says otherwise. */
const alongAxis = (name: string, build: <T>(b: Builder<T>, x: T, p: Ax) => T, shape: (s: Shape, axis: number) => Shape = (s) => s): OpDef<Ax> =>
  defineOp({
    name,
    arity: 1,
    plan: ([s], choice) =>
      s!.length === 0 ? null : { params: { shape: s!, axis: choice % s!.length, choice }, shape: shape(s!, choice % s!.length) },
    build: (b, [x], p) => build(b, x!, p),
  });

/** argmax/argmin of a spread-out mean along `axis`, used to take one slice of x there. */
const argTake = (name: "argmax" | "argmin") =>
  alongAxis(
    `${name}Take`,
    (b, x, p) => {
      const others = range(p.shape.length).filter((d) => d !== p.axis);
      const m = b.call("np.mean", x, { axis: others });
      const idx = b.call(`np.${name}`, spread(b, m, [p.shape[p.axis]!], p.choice));
      return b.call("np.take", x, idx, p.axis);
    },
    (s, axis) => s.filter((_, d) => d !== axis),
  );

export const axisOps: OpDef[] = [
  alongAxis("cumsum", (b, x, p) => b.call("np.multiply", b.call("np.cumsum", x, p.axis), 1 / p.shape[p.axis]!)),
  alongAxis("cumsumReverse", (b, x, p) => b.call("np.multiply", b.bind(Prim.Cumsum, [x], { axis: p.axis, reverse: true }), 1 / p.shape[p.axis]!)),
  alongAxis("softmax", (b, x, p) => b.call("nn.softmax", x, p.axis)),
  alongAxis("logSoftmax", (b, x, p) => b.call("nn.logSoftmax", b.call("np.tanh", x), p.axis)),
  argTake("argmax"),
  argTake("argmin"),
];

/** All ways to write `n` as an ordered product of at most 4 factors (1s included, at most one). */
function factorizations(n: number): number[][] {
  const out: number[][] = [[n]];
  for (let a = 2; a <= n; a++) if (n % a === 0 && a < n) out.push([a, n / a]);
  for (let a = 2; a <= n; a++) for (let c = 2; a * c <= n; c++) if (n % (a * c) === 0 && a * c < n) out.push([a, c, n / (a * c)]);
  out.push([1, n], [n, 1]);
  return out;
}

/** A shape op of one operand: `plan` gives params and the output shape. */
const shapeOp = <P>(
  name: string,
  plan: (s: Shape, choice: number) => { params: P; shape: Shape } | null,
  build: <T>(b: Builder<T>, x: T, p: P) => T,
): OpDef<P> => defineOp({ name, arity: 1, plan: ([s], choice) => plan(s!, choice), build: (b, [x], p) => build(b, x!, p) });

/** Sorted distinct indices in [0, n) of length m, from `choice`. */
function indices(n: number, m: number, choice: number, distinctOnly: boolean): number[] {
  const next = rng(choice * 31 + 17);
  const out = Array.from({ length: m }, () => Math.floor(next() * n));
  return distinctOnly ? [...new Set(out)] : out;
}

export const shapeOps: OpDef[] = [
  shapeOp(
    "reshape",
    (s, c) => {
      const shape = pickFrom(factorizations(sizeOf(s)), c);
      return { params: { shape }, shape };
    },
    (b, x, p) => b.call("np.reshape", x, p.shape),
  ),
  shapeOp(
    "transpose",
    (s, c) => {
      if (s.length < 2) return null;
      const perm = range(s.length);
      const next = rng(c);
      for (let i = perm.length - 1; i > 0; i--) {
        const j = Math.floor(next() * (i + 1));
        [perm[i], perm[j]] = [perm[j]!, perm[i]!];
      }
      return { params: { perm }, shape: perm.map((d) => s[d]!) };
    },
    (b, x, p) => b.call("np.transpose", x, p.perm),
  ),
  shapeOp(
    "expandDims",
    (s, c) => {
      if (s.length >= 4) return null;
      const axis = c % (s.length + 1);
      return { params: { axis }, shape: [...s.slice(0, axis), 1, ...s.slice(axis)] };
    },
    (b, x, p) => b.call("np.expandDims", x, p.axis),
  ),
  shapeOp(
    "squeeze",
    (s, c) => {
      const ones = range(s.length).filter((d) => s[d] === 1);
      if (ones.length === 0) return null;
      const axis = pickFrom(ones, c);
      return { params: { axis }, shape: s.filter((_, d) => d !== axis) };
    },
    (b, x, p) => b.call("np.squeeze", x, p.axis),
  ),
  shapeOp(
    "broadcastTo",
    (s, c) => {
      const ones = range(s.length).filter((d) => s[d] === 1);
      const shape = ones.length && c % 2 ? s.map((n, d) => (d === pickFrom(ones, c >> 1) ? 3 : n)) : s.length < 4 ? [2, ...s] : null;
      return shape && fits(shape) ? { params: { shape }, shape } : null;
    },
    (b, x, p) => b.call("np.broadcastTo", x, p.shape),
  ),
  shapeOp(
    "flip",
    (s, c) => (s.length === 0 ? null : { params: { axis: c % s.length }, shape: s }),
    (b, x, p) => b.call("np.flip", x, p.axis),
  ),
  shapeOp(
    "take",
    (s, c) => {
      if (s.length === 0) return null;
      const axis = c % s.length,
        n = s[axis]!;
      const idx = indices(n, 1 + ((c >> 3) % 3), c, false).map((i, k) => (k === 0 && (c >> 6) % 2 ? i - n : i));
      const shape = [...s.slice(0, axis), idx.length, ...s.slice(axis + 1)];
      return fits(shape) ? { params: { axis, idx }, shape } : null;
    },
    (b, x, p) => b.call("np.take", x, p.idx, p.axis),
  ),
  shapeOp(
    "pad",
    (s, c) => {
      if (s.length === 0) return null;
      const widths = s.map((_, d) => [(c >> (2 * d)) & 1, (c >> (2 * d + 1)) & 1]);
      const shape = s.map((n, d) => n + widths[d]![0]! + widths[d]![1]!);
      return fits(shape) ? { params: { widths, value: (c % 3) * 0.25 }, shape } : null;
    },
    (b, x, p) => b.call("np.pad", x, p.widths, { constantValues: p.value }),
  ),
  shapeOp(
    "tile",
    (s, c) => {
      if (s.length === 0) return null;
      const reps = s.map((_, d) => 1 + ((c >> d) & 1));
      const shape = s.map((n, d) => n * reps[d]!);
      return fits(shape) ? { params: { reps }, shape } : null;
    },
    (b, x, p) => b.call("np.tile", x, p.reps),
  ),
  shapeOp(
    "slice",
    (s, c) => {
      if (s.length === 0) return null;
      const next = rng(c);
      const start = s.map((n) => Math.floor(next() * n));
      const limit = s.map((n, d) => start[d]! + 1 + Math.floor(next() * (n - start[d]!)));
      const step = s.map(() => 1 + Math.floor(next() * 2));
      return { params: { start, limit, step }, shape: s.map((_, d) => Math.ceil((limit[d]! - start[d]!) / step[d]!)) };
    },
    (b, x, p) => b.bind(Prim.Slice, [x], p),
  ),
  shapeOp(
    "dynamicSlice",
    (s, c) => {
      if (s.length === 0) return null;
      const next = rng(c);
      const sizes = s.map((n) => 1 + Math.floor(next() * n));
      const starts = s.map((n) => Math.floor(next() * (n + 1)) - (c % 5 === 0 ? 1 : 0));
      return { params: { sizes, starts }, shape: sizes };
    },
    (b, x, p) => b.bind(Prim.DynamicSlice, [x, ...p.starts.map((v: number) => b.constant([v], [], "int32"))], { sizes: p.sizes }),
  ),
  shapeOp(
    "scatterAdd",
    (s, c) => {
      if (s.length === 0) return null;
      const axis = c % s.length,
        n = s[axis]!,
        m = 1 + ((c >> 2) % 3);
      const idx = indices(n, m, c, false),
        src = indices(n, m, c + 1, false);
      return { params: { axis, idx, src, m }, shape: s };
    },
    (b, x, p) => {
      const upd = b.call("np.tanh", b.call("np.take", x, p.src, p.axis));
      return b.bind(Prim.ScatterAdd, [x, b.constant(p.idx, [p.m], "int32"), upd], { axis: p.axis, batchDims: 0 });
    },
  ),
  shapeOp(
    "gatherBatched",
    (s, c) => {
      if (s.length < 2) return null;
      const m = 1 + (c % 2);
      const idx = indices(s[1]!, s[0]! * m, c, false);
      const shape = [s[0]!, m, ...s.slice(2)];
      return fits(shape) ? { params: { idx, m, rows: s[0]! }, shape } : null;
    },
    (b, x, p) => b.bind(Prim.Gather, [x, b.constant(p.idx, [p.rows, p.m], "int32")], { axis: 1, batchDims: 1 }),
  ),
];
