/**
 * `lax`: structured control flow whose bodies are staged into closed programs, so every transform
 * sees the whole loop or branch: `cond`, `whileLoop`, `fori` and `scan`. Operands and carries are
 * pytrees; bodies may close over arrays and over other transforms' tracers.
 */

import { ArgumentError, DTypeError, ShapeError, describe, naming } from "./core/errors.js";
import { bind } from "./core/interpreter.js";
import * as lax from "./core/lax.js";
import { type Aval, NDArray, fmtAval } from "./core/ndarray.js";
import { checkDType } from "./core/dtype.js";
import { Prim } from "./core/prim.js";
import { normAxis, shapeEq } from "./core/shape.js";
import { checkOptionsObject } from "./core/options.js";
import { type Closure, traceClosure, unifyLifted } from "./ir/closure.js";
import { type TreeDef, flatten, unflatten } from "./tree.js";
import { type ArrayLike, asArray, toFloat } from "./np/base.js";
import { argsort } from "./np/sorting.js";
import type { ArrayTree } from "./types.js";

export { dynamicSlice, dynamicUpdateSlice } from "./lax_indexing.js";

/** Refuses a branch or body that is not a function. */
function needFn(fn: string, what: string, f: unknown): void {
  if (typeof f !== "function") throw new ArgumentError(`${fn}: ${what} must be a function, got ${describe(f)}`);
}

/** Leaves of a tree as arrays (JS numbers float32 unless `like` gives a dtype). */
function arrays(fn: string, what: string, tree: unknown, like?: readonly Aval[]): [NDArray[], TreeDef] {
  const [leaves, def] = naming(`${fn} (argument ${what})`, () => flatten(tree));
  return [
    leaves.map((l, i) => {
      if (l instanceof NDArray) return l;
      if (typeof l === "number" || typeof l === "boolean") return asArray(fn, l, like?.[i]?.dtype, what);
      throw new ArgumentError(`${fn}: ${what} has a leaf that is ${describe(l)}; use arrays and numbers`);
    }),
    def,
  ];
}

/** Stages `fn` over a tree of inputs with the structure `def` and avals `avals`. */
function stage(
  fn: string,
  what: string,
  avals: Aval[],
  def: TreeDef,
  body: (tree: any) => unknown,
  like?: readonly Aval[],
): Closure & { outDef: TreeDef } {
  let outDef!: TreeDef;
  const c = traceClosure(fn, avals, (ins) => {
    const [outs, d] = arrays(fn, `the result of ${what}`, body(unflatten(def, ins)), like);
    outDef = d;
    return outs;
  });
  return { ...c, outDef };
}

function checkSame(fn: string, what: string, got: readonly Aval[], gotDef: TreeDef, want: readonly Aval[], wantDef: TreeDef): void {
  if (!gotDef.equals(wantDef)) throw new ArgumentError(`${fn}: ${what} has structure ${gotDef} but must have ${wantDef}`);
  got.forEach((a, i) => {
    const b = want[i]!;
    if (!shapeEq(a.shape, b.shape)) throw new ShapeError(`${fn}: ${what} leaf ${i} is ${fmtAval(a)} but must be ${fmtAval(b)}`);
    if (a.dtype !== b.dtype)
      throw new DTypeError(`${fn}: ${what} leaf ${i} is ${fmtAval(a)} but must be ${fmtAval(b)}; convert with .astype("${b.dtype}")`);
  });
}

const avalsOf = (c: Closure) => c.cp.program.outvars.map((v) => v.aval);

/** A scalar predicate as an int32 branch index (false/0 -> 0, anything else -> 1). */
function predicateIndex(fn: string, pred: unknown): NDArray {
  const p = asArray(fn, pred as number, undefined, "pred");
  if (p.ndim !== 0) throw new ShapeError(`${fn}: the predicate must be a scalar, got shape [${p.shape}]`);
  return lax.convert(p.dtype === "bool" ? p : lax.ne(p, lax.full([], 0, p.dtype)), "int32");
}

/** `pred ? trueFn(...operands) : falseFn(...operands)`, with both branches staged. */
export function cond<T, const Ops extends readonly unknown[]>(
  pred: unknown,
  trueFn: (...ops: { -readonly [K in keyof Ops]: ArrayTree<Ops[K]> }) => T,
  falseFn: (...ops: { -readonly [K in keyof Ops]: ArrayTree<Ops[K]> }) => T,
  ...operands: Ops
): T;
export function cond(pred: unknown, trueFn: (...ops: any[]) => unknown, falseFn: (...ops: any[]) => unknown, ...operands: unknown[]): unknown {
  needFn("lax.cond", "trueFn", trueFn);
  needFn("lax.cond", "falseFn", falseFn);
  const index = predicateIndex("lax.cond", pred);
  const [leaves, def] = arrays("lax.cond", "operands", operands);
  const avals = leaves.map((l) => ({ shape: l.shape, dtype: l.dtype }));
  const f = stage("lax.cond", "falseFn", avals, def, (ops) => falseFn(...ops));
  const t = stage("lax.cond", "trueFn", avals, def, (ops) => trueFn(...ops), avalsOf(f));
  checkSame("lax.cond", "trueFn's result", avalsOf(t), t.outDef, avalsOf(f), f.outDef);
  const { cps, lifted } = unifyLifted([f, t]);
  const outs = bind(Prim.Cond, [index, ...lifted, ...leaves], { branches: cps });
  return unflatten(f.outDef, outs);
}

/**
 * `branches[index](...operands)`, with every branch staged and `index` clamped to the valid range
 * (as JAX's `lax.switch`). Under vmap a batched index runs every branch and selects.
 */
function switchCase<T, const Ops extends readonly unknown[]>(
  index: unknown,
  branches: readonly ((...ops: { -readonly [K in keyof Ops]: ArrayTree<Ops[K]> }) => T)[],
  ...operands: Ops
): T;
function switchCase(index: unknown, branches: readonly ((...ops: any[]) => unknown)[], ...operands: unknown[]): unknown {
  const fn = "lax.switch";
  if (!Array.isArray(branches) || branches.length === 0) {
    throw new ArgumentError(`${fn}: branches must be a non-empty list of functions, got ${describe(branches)}`);
  }
  branches.forEach((b, i) => needFn(fn, `branches[${i}]`, b));
  const i = asArray(fn, index as number, "int32", "index");
  if (i.ndim !== 0) throw new ShapeError(`${fn}: the index must be a scalar, got shape [${i.shape}]`);
  if (i.dtype !== "int32" && i.dtype !== "bool")
    throw new DTypeError(`${fn}: the index must be an integer, got ${i.dtype}; convert with .astype("int32")`);
  const n = branches.length;
  const idx = lax.max(lax.min(lax.convert(i, "int32"), lax.scalar(n - 1, "int32")), lax.scalar(0, "int32"));
  const [leaves, def] = arrays(fn, "operands", operands);
  const avals = leaves.map((l) => ({ shape: l.shape, dtype: l.dtype }));
  const first = stage(fn, "branches[0]", avals, def, (ops) => branches[0]!(...ops));
  const staged = [first];
  for (let k = 1; k < n; k++) {
    const s = stage(fn, `branches[${k}]`, avals, def, (ops) => branches[k]!(...ops), avalsOf(first));
    checkSame(fn, `the result of branches[${k}]`, avalsOf(s), s.outDef, avalsOf(first), first.outDef);
    staged.push(s);
  }
  if (n === 1) return unflatten(first.outDef, bind(Prim.Cond, [idx, ...first.lifted, ...leaves], { branches: [first.cp] }));
  const { cps, lifted } = unifyLifted(staged);
  return unflatten(first.outDef, bind(Prim.Cond, [idx, ...lifted, ...leaves], { branches: cps }));
}

export { switchCase as switch };

/** `f` applied to each slice of `xs` along axis 0, stacked: a scan without a carry (JAX's `lax.map`). */
export function map<X, Y>(f: (x: ArrayTree<X>) => Y, xs: X): ArrayTree<Y>;
export function map(f: (x: any) => unknown, xs: unknown): unknown {
  needFn("lax.map", "f", f);
  return naming("lax.map", () => scan((carry: null, x: unknown) => [carry, f(x)], null, xs)[1]);
}

export interface AssociativeScanOptions {
  /** Scan from the end: the result at i combines elements i..n-1. */
  reverse?: boolean;
  /** The axis to scan along (default 0). */
  axis?: number;
}

/** Elements `[start, limit)` by `step` along `axis`. */
function strided(x: NDArray, axis: number, start: number, limit: number, step: number): NDArray {
  const s = x.shape.map(() => 0),
    l = x.shape.slice(),
    st = x.shape.map(() => 1);
  s[axis] = start;
  l[axis] = Math.max(start, limit);
  st[axis] = step;
  return lax.slice(x, s, l, st);
}

/** Interleaves `even` (positions 0, 2, …) and `odd` (1, 3, …) along `axis`, by interior padding. */
function interleave(even: NDArray, odd: NDArray, axis: number): NDArray {
  const ne = even.shape[axis]!,
    no = odd.shape[axis]!;
  const cfg = (lo: number, hi: number) => even.shape.map((_, d): [number, number, number] => (d === axis ? [lo, hi, 1] : [0, 0, 0]));
  const zero = lax.scalar(0, even.dtype);
  const a = lax.pad(even, zero, cfg(0, no - ne + 1));
  const b = lax.pad(odd, zero, cfg(1, ne - no));
  return even.dtype === "bool" ? lax.or(a, b) : lax.add(a, b);
}

/**
 * The inclusive prefix scan of an associative `fn` over `elems` (a pytree of arrays, all the same
 * size along `axis`), by the parallel (Blelloch-style) recursion as JAX's `associative_scan`:
 * combine neighbouring pairs, scan those recursively, then fill in the even positions. O(log n)
 * depth of slices, pads and `fn` calls, so it differentiates and batches like any composition.
 * `fn(a, b)` receives pytrees of slices along `axis` and must combine them elementwise.
 */
export function associativeScan<T>(fn: (a: ArrayTree<T>, b: ArrayTree<T>) => unknown, elems: T, options?: AssociativeScanOptions): ArrayTree<T>;
export function associativeScan(fn: (a: any, b: any) => unknown, elems: unknown, options: AssociativeScanOptions = {}): unknown {
  const name = "lax.associativeScan";
  needFn(name, "fn", fn);
  const o = checkOptionsObject(name, options, ["reverse", "axis"]);
  if (o.reverse !== undefined && typeof o.reverse !== "boolean")
    throw new ArgumentError(`${name}: reverse must be a boolean, got ${describe(o.reverse)}`);
  const [leaves, def] = arrays(name, "elems", elems);
  if (leaves.length === 0) return elems;
  const axis = normAxis(name, o.axis ?? 0, leaves[0]!.ndim);
  const n = leaves[0]!.shape[axis];
  for (const l of leaves) {
    if (l.ndim !== leaves[0]!.ndim || l.shape[axis] !== n) {
      throw new ShapeError(
        `${name}: every elems leaf needs the same size along axis ${axis}; got shapes ${leaves.map((x) => `[${x.shape}]`).join(", ")}`,
      );
    }
  }
  const combine = (a: NDArray[], b: NDArray[]): NDArray[] => {
    const [out, outDef] = arrays(name, "the result of fn", fn(unflatten(def, a), unflatten(def, b)));
    checkSame(
      name,
      "the result of fn",
      out,
      outDef,
      a.map((x) => ({ shape: x.shape, dtype: x.dtype })),
      def,
    );
    return out;
  };
  const rec = (xs: NDArray[]): NDArray[] => {
    const len = xs[0]!.shape[axis]!;
    if (len < 2) return xs;
    const odd = rec(
      combine(
        xs.map((x) => strided(x, axis, 0, len - 1, 2)),
        xs.map((x) => strided(x, axis, 1, len, 2)),
      ),
    );
    const tail = xs.map((x) => strided(x, axis, 2, len, 2));
    const head = len % 2 === 0 ? odd.map((x) => lax.sliceAxis(x, axis, 0, x.shape[axis]! - 1)) : odd;
    const even = combine(head, tail).map((e, i) => lax.concatenate([lax.sliceAxis(xs[i]!, axis, 0, 1), e], axis));
    return even.map((e, i) => interleave(e, odd[i]!, axis));
  };
  const flip = (xs: NDArray[]) => (o.reverse ? xs.map((x) => lax.rev(x, [axis])) : xs);
  return unflatten(def, flip(rec(flip(leaves))));
}

/** Repeats `carry = bodyFn(carry)` while `condFn(carry)`; forward-mode differentiable and batchable. */
export function whileLoop<T>(condFn: (carry: T) => unknown, bodyFn: (carry: T) => T, init: T): T {
  needFn("lax.whileLoop", "condFn", condFn);
  needFn("lax.whileLoop", "bodyFn", bodyFn);
  const [leaves, def] = arrays("lax.whileLoop", "init", init);
  const avals = leaves.map((l) => ({ shape: l.shape, dtype: l.dtype }));
  const c = stage("lax.whileLoop", "condFn", avals, def, (carry) => {
    const p = asArray("lax.whileLoop", condFn(carry) as number, undefined, "condFn's result");
    if (p.ndim !== 0) throw new ShapeError(`lax.whileLoop: condFn must return a scalar, got shape [${p.shape}]`);
    return p.dtype === "bool" ? p : lax.ne(p, lax.full([], 0, p.dtype));
  });
  const b = stage("lax.whileLoop", "bodyFn", avals, def, bodyFn, avals);
  checkSame("lax.whileLoop", "bodyFn's result", avalsOf(b), b.outDef, avals, def);
  const outs = bind(Prim.While, [...c.lifted, ...b.lifted, ...leaves], {
    cond: c.cp,
    body: b.cp,
    condConsts: c.lifted.length,
    bodyConsts: b.lifted.length,
  });
  return unflatten(def, outs);
}

export interface ScanOptions {
  /** The number of steps; required when xs is null, checked against xs otherwise. */
  length?: number;
  /** Scan from the last element to the first (ys still line up with xs). */
  reverse?: boolean;
}

/**
 * `[carry, ys] = scan(f, init, xs)`: for each slice x of xs along axis 0, `[carry, y] = f(carry, x)`;
 * ys stacks the y's. Differentiable in both modes; reverse mode stores one residual per step.
 */
export function scan<C, X, Y = unknown>(f: (carry: C, x: ArrayTree<X>) => [C, Y], init: C, xs: X, options?: ScanOptions): [C, Y];
export function scan(f: (carry: any, x: any) => [unknown, unknown], init: unknown, xs: unknown, options: ScanOptions = {}): [unknown, unknown] {
  needFn("lax.scan", "f", f);
  if (typeof options !== "object" || options === null)
    throw new ArgumentError(`lax.scan: options must be an object { length?, reverse? }, got ${describe(options)}`);
  const [carry, carryDef] = arrays("lax.scan", "init", init);
  const [xLeaves, xDef] = arrays("lax.scan", "xs", xs);
  let length = options.length;
  for (const x of xLeaves) {
    if (x.ndim === 0) throw new ShapeError("lax.scan: every xs leaf needs a leading axis to scan over");
    if (length === undefined) length = x.shape[0];
    else if (x.shape[0] !== length) throw new ShapeError(`lax.scan: xs leaves must all have leading axis ${length}, got shape [${x.shape}]`);
  }
  if (length === undefined || !Number.isInteger(length) || length < 0) {
    throw new ArgumentError("lax.scan: give xs or a non-negative integer `length`");
  }
  const carryAvals = carry.map((l) => ({ shape: l.shape, dtype: l.dtype }));
  const xAvals = xLeaves.map((l) => ({ shape: l.shape.slice(1), dtype: l.dtype }));
  const nC = carry.length;
  let yDef!: TreeDef;
  const body = traceClosure("lax.scan", [...carryAvals, ...xAvals], (ins) => {
    const res = f(unflatten(carryDef, ins.slice(0, nC)), unflatten(xDef, ins.slice(nC)));
    if (!Array.isArray(res) || res.length !== 2) throw new ArgumentError("lax.scan: f must return [carry, y]");
    const [c, cd] = arrays("lax.scan", "the carry returned by f", res[0], carryAvals);
    checkSame("lax.scan", "the carry returned by f", c, cd, carryAvals, carryDef);
    const [y, yd] = arrays("lax.scan", "the y returned by f", res[1]);
    yDef = yd;
    return [...c, ...y];
  });
  const outs = bind(Prim.Scan, [...body.lifted, ...carry, ...xLeaves], {
    body: body.cp,
    length,
    reverse: options.reverse ?? false,
    numConsts: body.lifted.length,
    numCarry: nC,
  });
  return [unflatten(carryDef, outs.slice(0, nC)), unflatten(yDef, outs.slice(nC))];
}

/**
 * `for (i = lower; i < upper; i++) carry = bodyFn(i, carry)` with an int32 counter. Static (number)
 * bounds lower to a scan, so reverse mode works; traced bounds lower to a while loop.
 */
export function fori<T>(lower: unknown, upper: unknown, bodyFn: (i: NDArray, carry: T) => T, init: T): T {
  needFn("lax.fori", "bodyFn", bodyFn);
  if (typeof lower === "number" && typeof upper === "number") {
    if (!Number.isInteger(lower) || !Number.isInteger(upper))
      throw new ArgumentError(`lax.fori: bounds must be integers, got ${describe(lower)}, ${describe(upper)}`);
    const n = Math.max(0, upper - lower);
    const counter = lax.full([n], 0, "int32");
    for (let i = 0; i < n; i++) counter.values[i] = lower + i;
    return scan((c: T, i: NDArray) => [bodyFn(i, c), null], init, counter)[0];
  }
  const lo = lax.convert(asArray("lax.fori", lower as number, undefined, "lower"), "int32");
  const hi = lax.convert(asArray("lax.fori", upper as number, undefined, "upper"), "int32");
  const [, out] = whileLoop(
    ([i]: [NDArray, T]) => lax.lt(i, hi),
    ([i, c]: [NDArray, T]) => [lax.add(i, lax.scalar(1, "int32")), bodyFn(i, c)] as [NDArray, T],
    [lo, init] as [NDArray, T],
  );
  return out;
}

/**
 * The 32 bits of each element read as another 32-bit dtype (float32, int32, uint32), as
 * jax.lax.bitcast_convert_type; e.g. the uniform sampler builds floats from random mantissa bits.
 * Its derivative is zero (the map is not smooth in the value).
 */
export function bitcastConvertType(x: NDArray, dtype: Aval["dtype"]): NDArray {
  return naming("lax.bitcastConvertType", () => {
    const a = asArray("lax.bitcastConvertType", x, undefined, "x");
    return lax.bitcastConvertType(a, checkDType("lax.bitcastConvertType", dtype));
  });
}
/** An integer-list argument (each at least `min`), checked here so that a bad one is named. */
function intList(fn: string, arg: string, v: unknown, min = 0, length?: number): number[] {
  if (!Array.isArray(v) || !v.every((n) => Number.isSafeInteger(n) && n >= min))
    throw new ArgumentError(`${fn}: ${arg} must be an array of integers ≥ ${min}, got ${describe(v)}`);
  if (length !== undefined && v.length !== length)
    throw new ArgumentError(`${fn}: ${arg} needs one entry per dim of x (${length}), got ${describe(v)}`);
  return v as number[];
}

/** Elementwise 1/√x, as jax.lax.rsqrt. @example lax.rsqrt(np.array([4, 16])) // [0.5, 0.25] */
export function rsqrt(x: ArrayLike): NDArray {
  return naming("lax.rsqrt", () => lax.rsqrt(toFloat(asArray("lax.rsqrt", x, undefined, "x"))));
}

/**
 * jax.lax.dot_general: contracts `lhs` and `rhs` over `dimensionNumbers = [[lhsContract, rhsContract],
 * [lhsBatch, rhsBatch]]`; the result's dims are the batch dims, then lhs's free dims, then rhs's.
 * @example lax.dotGeneral(a, b, [[[2], [1]], [[0], [0]]]) // a batched matmul of [B, M, K] by [B, K, N]
 */
export function dotGeneral(lhs: ArrayLike, rhs: ArrayLike, dimensionNumbers: [[number[], number[]], [number[], number[]]]): NDArray {
  return naming("lax.dotGeneral", () => {
    const a = asArray("lax.dotGeneral", lhs, undefined, "lhs"),
      b = asArray("lax.dotGeneral", rhs, undefined, "rhs");
    const dn: unknown = dimensionNumbers;
    const pairs = Array.isArray(dn) && dn.length === 2 && dn.every((q) => Array.isArray(q) && q.length === 2) ? (dn as unknown[][]) : null;
    const lists = pairs?.flat().map((l) => (Array.isArray(l) && l.every((n) => Number.isSafeInteger(n) && n >= 0) ? (l as number[]) : null));
    if (!lists || lists.some((l) => l === null))
      throw new ArgumentError(
        `lax.dotGeneral: dimensionNumbers must be [[lhsContract, rhsContract], [lhsBatch, rhsBatch]] (arrays of dims), got ${describe(dn)}`,
      );
    const [lc, rc, lb, rb] = lists as number[][];
    if (lc!.length !== rc!.length || lb!.length !== rb!.length)
      throw new ArgumentError(`lax.dotGeneral: dimensionNumbers must pair as many lhs dims as rhs dims, got ${describe(dn)}`);
    const bad = [...lc!, ...lb!].find((d) => d >= a.ndim) ?? [...rc!, ...rb!].find((d) => d >= b.ndim);
    if (bad !== undefined) throw new ArgumentError(`lax.dotGeneral: dimensionNumbers name dim ${bad}, past lhs [${a.shape}] or rhs [${b.shape}]`);
    return lax.dotGeneral(a, b, [lc!, rc!], [lb!, rb!]);
  });
}

/**
 * jax.lax.broadcast_in_dim: `x`'s dim i becomes dim `broadcastDimensions[i]` of `shape` (equal
 * size, or 1 to stretch); the other dims of `shape` are new.
 * @example lax.broadcastInDim(np.array([1, 2]), [3, 2], [1]) // three rows [1, 2]
 */
export function broadcastInDim(x: ArrayLike, shape: number[], broadcastDimensions: number[]): NDArray {
  return naming("lax.broadcastInDim", () => {
    const a = asArray("lax.broadcastInDim", x, undefined, "x");
    const s = intList("lax.broadcastInDim", "shape", shape);
    const bd = intList("lax.broadcastInDim", "broadcastDimensions", broadcastDimensions, 0, a.ndim);
    if (bd.some((d, i) => d >= s.length || (s[d] !== a.shape[i] && a.shape[i] !== 1)))
      throw new ShapeError(`lax.broadcastInDim: x [${a.shape}] cannot go to dims [${bd}] of shape [${s}] (each dim must match or be 1)`);
    return lax.broadcastInDim(a, s, bd);
  });
}

/**
 * jax.lax.slice: the block from `startIndices` (inclusive) to `limitIndices` (exclusive) taking every
 * `strides[d]`-th element (1 by default).
 * @example lax.slice(np.arange(10), [1], [8], [3]) // [1, 4, 7]
 */
export function slice(x: ArrayLike, startIndices: number[], limitIndices: number[], strides?: number[]): NDArray {
  return naming("lax.slice", () => {
    const a = asArray("lax.slice", x, undefined, "x");
    const start = intList("lax.slice", "startIndices", startIndices, 0, a.ndim),
      limit = intList("lax.slice", "limitIndices", limitIndices, 0, a.ndim),
      step = strides === undefined ? start.map(() => 1) : intList("lax.slice", "strides", strides, 1, a.ndim);
    if (start.some((s, d) => s > limit[d]! || limit[d]! > a.shape[d]!))
      throw new ArgumentError(`lax.slice: need startIndices ≤ limitIndices ≤ shape per dim, got [${start}], [${limit}] for x [${a.shape}]`);
    return lax.slice(a, start, limit, step);
  });
}

/**
 * jax.lax.pad: `x` with `paddingValue` (a scalar) added per dim as `[low, high, interior]`; negative
 * low/high remove elements from that end, as in JAX.
 * @example lax.pad(np.array([1, 2]), 0, [[1, 2, 1]]) // [0, 1, 0, 2, 0, 0]
 */
export function pad(x: ArrayLike, paddingValue: ArrayLike, paddingConfig: [number, number, number][]): NDArray {
  return naming("lax.pad", () => {
    const a = asArray("lax.pad", x, undefined, "x");
    const v = asArray("lax.pad", paddingValue, a.dtype, "paddingValue");
    if (v.ndim !== 0) throw new ShapeError(`lax.pad: paddingValue must be a scalar, got shape [${v.shape}]`);
    const cfg: unknown = paddingConfig;
    if (!Array.isArray(cfg) || cfg.length !== a.ndim || !cfg.every((t) => Array.isArray(t) && t.length === 3 && t.every(Number.isSafeInteger)))
      throw new ArgumentError(
        `lax.pad: paddingConfig must hold one [low, high, interior] integer triple per dim of x (${a.ndim}), got ${describe(cfg)}`,
      );
    const triples = cfg as [number, number, number][];
    const grown = lax.pad(
      a,
      v.dtype === a.dtype ? v : lax.convert(v, a.dtype),
      triples.map(([lo, hi, k]) => [Math.max(lo, 0), Math.max(hi, 0), k]),
    );
    if (triples.every(([lo, hi]) => lo >= 0 && hi >= 0)) return grown;
    return lax.slice(
      grown,
      triples.map(([lo]) => Math.max(-lo, 0)),
      triples.map(([, hi], d) => grown.shape[d]! - Math.max(-hi, 0)),
    );
  });
}

/**
 * jax.lax.top_k: the `k` largest entries along the last axis, in descending order, and their
 * indices (int32); ties keep index order, NaN counts as the largest. The values' derivative flows
 * to the picked entries.
 * @example lax.topK(np.array([3, 1, 4, 1, 5]), 2) // [[5, 4], [4, 2]]
 */
export function topK(x: ArrayLike, k: number): [NDArray, NDArray] {
  return naming("lax.topK", () => {
    const a = asArray("lax.topK", x, undefined, "x");
    if (a.ndim === 0) throw new ShapeError("lax.topK: x must have at least one axis, got a scalar");
    const last = a.ndim - 1,
      n = a.shape[last]!;
    if (!Number.isSafeInteger(k) || k < 0 || k > n)
      throw new ArgumentError(`lax.topK: k must be an integer in [0, ${n}] (the last axis of [${a.shape}]), got ${describe(k)}`);
    const idx = lax.sliceAxis(argsort(a, { axis: last, descending: true }), last, 0, k);
    return [lax.gather(a, idx, last, last), idx];
  });
}

export { convGeneralDilated, reduceWindow, type ConvOptions, type ConvPadding, type ReduceWindowOptions } from "./lax_conv.js";
