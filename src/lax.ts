/**
 * `lax`: structured control flow whose bodies are staged into closed programs, so every transform
 * sees the whole loop or branch: `cond`, `whileLoop`, `fori` and `scan`. Operands and carries are
 * pytrees; bodies may close over arrays and over other transforms' tracers.
 */

import { ArgumentError, DTypeError, ShapeError, describe, naming } from "./core/errors.js";
import { bind } from "./core/interpreter.js";
import * as lax from "./core/lax.js";
import { type Aval, NDArray, fmtAval } from "./core/ndarray.js";
import { Prim } from "./core/prim.js";
import { shapeEq } from "./core/shape.js";
import { type Closure, traceClosure, unifyLifted } from "./ir/closure.js";
import { type TreeDef, flatten, unflatten } from "./tree.js";
import { asArray } from "./np/base.js";
import type { ArrayTree } from "./types.js";

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
export { convGeneralDilated, reduceWindow, type ConvOptions, type ConvPadding, type ReduceWindowOptions } from "./lax_conv.js";
