/**
 * The differentiation transforms: jvp, linearize, vjp, grad, valueAndGrad. Forward mode runs the
 * jvp interpreter; reverse mode runs jvp on top of the staging interpreter (linearize: primal work
 * now, tangent work recorded as a linear program), then transposes that program.
 */
import { JvpInterpreter, Zero } from "../../interpreters/jvp/index.js";
import { StageInterpreter } from "../ir/trace.js";
import { transposeProgram } from "../../interpreters/vjp/index.js";
import { isFloat } from "../core/dtype.js";
import { ArgumentError, DTypeError, ShapeError, describe } from "../core/errors.js";
import { currentInterpreter, withInterpreter } from "../core/interpreter.js";
import * as lax from "../core/lax.js";
import { NDArray, fmtAval } from "../core/ndarray.js";
import { type ClosedProgram, evalProgram } from "../ir/ir.js";
import { type TreeDef, map as treeMap, unflatten } from "../tree.js";
import { checkFn, checkOptions, flattenArrays, matchTree, normArgnums, requireFloat } from "./args.js";
import type { ArgsAt, Argnums, ArrayTree, AuxOf, Fn, Inputs } from "../types.js";

/** The implementations' view of f: any function, called with the caller's arguments. */
type LooseFn = (...args: any[]) => any;

/** What grad returns for f and argnums A: the gradient tree(s), with aux `[grad, aux]`. */
type GradResult<F extends Fn, A extends Argnums, Aux extends boolean> = Aux extends true
  ? [ArgsAt<Parameters<F>, A>, AuxOf<ReturnType<F>>]
  : ArgsAt<Parameters<F>, A>;

/** The value part of valueAndGrad's result: the scalar, with aux `[value, aux]`. */
type ValueResult<F extends Fn, Aux extends boolean> = Aux extends true ? [NDArray, AuxOf<ReturnType<F>>] : NDArray;

/** Forward mode: `[f(...primals), J·tangents]`. */
export function jvp<F extends Fn>(
  f: F,
  primals: readonly unknown[],
  tangents: readonly unknown[],
): [ArrayTree<ReturnType<F>>, ArrayTree<ReturnType<F>>];
export function jvp(f: LooseFn, primals: readonly unknown[], tangents: readonly unknown[]): [any, any] {
  checkFn("jvp", f);
  if (!Array.isArray(primals) || !Array.isArray(tangents))
    throw new ArgumentError("jvp: primals and tangents must be arrays with one entry per argument of f");
  const [xs, def] = flattenArrays("jvp", "primals", primals);
  const ts = matchTree("jvp", "tangents", tangents, def, xs);
  const interp = new JvpInterpreter(currentInterpreter(), "jvp");
  const ins = xs.map((x, i) => interp.pack(x, isFloat(x.dtype) ? ts[i]! : new Zero(x)));
  let outs: NDArray[], outDef: TreeDef;
  try {
    [outs, outDef] = flattenArrays(
      "jvp",
      "the output of f",
      withInterpreter(interp, () => f(...unflatten(def, ins))),
    );
    const pairs = outs.map((o) => interp.unpack(o));
    return [
      unflatten(
        outDef,
        pairs.map(([p]) => p),
      ),
      unflatten(
        outDef,
        pairs.map(([p, t]) => (t instanceof Zero ? lax.zerosOf(p) : t)),
      ),
    ];
  } finally {
    interp.tag.alive = false;
  }
}

/** The result of linearizing a flat function: its outputs and the linear program of its derivative. */
interface Linearized {
  outs: NDArray[];
  outDef: TreeDef;
  /** Maps tangents of the float inputs to tangents of every output. */
  linear: ClosedProgram;
  /** Which inputs are floats (and so inputs of `linear`). */
  floatIn: boolean[];
  /** With hasAux: the auxiliary output, passed through with its values (not differentiated). */
  aux?: unknown;
}

/**
 * Linearizes `f` at `xs`. With `hasAux`, f returns `[out, aux]`: only `out` is differentiated and
 * aux leaves are unpacked to their primal values.
 */
function linearizeFlat(fn: string, f: (ins: NDArray[]) => unknown, xs: NDArray[], hasAux = false): Linearized {
  const stage = new StageInterpreter(currentInterpreter(), fn);
  const interp = new JvpInterpreter(stage, fn);
  const floatIn = xs.map((x) => isFloat(x.dtype));
  const ins = xs.map((x, i) => (floatIn[i] ? interp.pack(x, stage.newInput(x)) : x));
  try {
    let result = withInterpreter(interp, () => f(ins));
    let aux: unknown;
    if (hasAux) {
      if (!Array.isArray(result) || result.length !== 2) throw new ArgumentError(`${fn}: with hasAux, f must return [value, aux]`);
      aux = treeMap((l: unknown) => (l instanceof NDArray ? interp.unpack(l)[0] : l), result[1]);
      result = result[0];
    }
    const [outs, outDef] = flattenArrays(fn, "the output of f", result);
    const pairs = outs.map((o) => interp.unpack(o));
    const linear = stage.build(pairs.map(([p, t]) => (t instanceof Zero ? lax.zerosOf(p) : t)));
    return { outs: pairs.map(([p]) => p), outDef, linear, floatIn, aux };
  } finally {
    interp.tag.alive = false;
    stage.tag.alive = false;
  }
}

/** Pulls output cotangents back through a linearized function, one cotangent per input (zeros for non-floats). */
function pullback(lin: Linearized, xs: readonly NDArray[], cts: readonly (NDArray | null)[]): NDArray[] {
  const inCts = transposeProgram(lin.linear, cts);
  let k = 0;
  return xs.map((x, i) => (lin.floatIn[i] ? (inCts[k++] ?? lax.zerosOf(x)) : lax.zerosOf(x)));
}

/** `[f(...primals), fJvp]` where `fJvp(...tangents)` applies the linear map J at the primals. */
export function linearize<F extends Fn>(
  f: F,
  ...primals: Inputs<Parameters<F>>
): [ArrayTree<ReturnType<F>>, (...tangents: unknown[]) => ArrayTree<ReturnType<F>>];
export function linearize(f: LooseFn, ...primals: unknown[]): [any, (...tangents: unknown[]) => any] {
  checkFn("linearize", f);
  const [xs, def] = flattenArrays("linearize", "primals", primals);
  const lin = linearizeFlat("linearize", (ins) => f(...unflatten(def, ins)), xs);
  const fJvp = (...tangents: unknown[]) => {
    const ts = matchTree("linearize", "tangents", tangents, def, xs);
    const outs = evalProgram(
      lin.linear.program,
      lin.linear.consts,
      ts.filter((_, i) => lin.floatIn[i]),
    );
    return unflatten(lin.outDef, outs);
  };
  return [unflatten(lin.outDef, lin.outs), fJvp];
}

/** `[f(...primals), vjpFn]` where `vjpFn(ct)` returns one cotangent per primal. */
export function vjp<F extends Fn>(f: F, ...primals: Inputs<Parameters<F>>): [ArrayTree<ReturnType<F>>, (ct: unknown) => ArrayTree<Parameters<F>>];
export function vjp(f: LooseFn, ...primals: unknown[]): [any, (ct: unknown) => any[]] {
  checkFn("vjp", f);
  const [xs, def] = flattenArrays("vjp", "primals", primals);
  const lin = linearizeFlat("vjp", (ins) => f(...unflatten(def, ins)), xs);
  const vjpFn = (ct: unknown): any[] => {
    const cts = matchTree("vjp", "the cotangent", ct, lin.outDef, lin.outs);
    return unflatten(def, pullback(lin, xs, cts));
  };
  return [unflatten(lin.outDef, lin.outs), vjpFn];
}

export interface GradOptions<A extends Argnums = Argnums, Aux extends boolean = boolean> {
  /** Which positional argument(s) to differentiate with respect to (default 0). */
  argnums?: A;
  /** f returns `[value, aux]`; aux is passed through undifferentiated. */
  hasAux?: Aux;
}

/** `(...args) => [value, grad]` (with aux: `[[value, aux], grad]`). f must return a float scalar. */
export function valueAndGrad<F extends Fn, const A extends Argnums = 0, Aux extends boolean = false>(
  f: F,
  options?: GradOptions<A, Aux>,
): (...args: Inputs<Parameters<F>>) => [ValueResult<F, Aux>, ArgsAt<Parameters<F>, A>];
export function valueAndGrad(f: LooseFn, options: GradOptions = {}): (...args: any[]) => [any, any] {
  return valueAndGradAs("valueAndGrad", f, options);
}

/** valueAndGrad whose errors name `fnName` (grad shares it). */
function valueAndGradAs(fnName: string, f: LooseFn, options: GradOptions = {}): (...args: any[]) => [any, any] {
  checkFn(fnName, f);
  checkOptions(fnName, options, ["argnums", "hasAux"]);
  const { argnums = 0, hasAux = false } = options;
  if (typeof hasAux !== "boolean") throw new ArgumentError(`${fnName}: hasAux must be a boolean, got ${describe(hasAux)}`);
  return (...args: any[]) => {
    const nums = normArgnums(fnName, argnums, args.length);
    const [xs, def] = flattenArrays(
      fnName,
      "the differentiated arguments",
      nums.map((i) => args[i]),
    );
    requireFloat(fnName, xs, `argument ${nums.join(", ")}`);
    const call = (ins: NDArray[]) => {
      const full = args.slice();
      const vals = unflatten(def, ins) as unknown[];
      nums.forEach((a, i) => (full[a] = vals[i]));
      return f(...full);
    };
    const lin = linearizeFlat(fnName, call, xs, hasAux);
    if (lin.outs.length !== 1) throw new ShapeError(`${fnName}: f must return a single float scalar${hasAux ? " as the value in [value, aux]" : ""}`);
    const value = lin.outs[0]!;
    if (value.ndim !== 0 || !isFloat(value.dtype)) {
      const bad = value.ndim !== 0 ? ShapeError : DTypeError;
      throw new bad(
        `${fnName}: f must return a float scalar, got ${fmtAval(value)}; reduce it (e.g. np.sum) or use vjp/jacrev for non-scalar outputs`,
      );
    }
    const grads = unflatten(def, pullback(lin, xs, [lax.full([], 1, value.dtype)])) as unknown[];
    const g = typeof argnums === "number" ? grads[0] : grads;
    return [hasAux ? [value, lin.aux] : value, g];
  };
}

/** The gradient of a float-scalar function (with aux: `[grad, aux]`). */
export function grad<F extends Fn, const A extends Argnums = 0, Aux extends boolean = false>(
  f: F,
  options?: GradOptions<A, Aux>,
): (...args: Inputs<Parameters<F>>) => GradResult<F, A, Aux>;
export function grad(f: LooseFn, options: GradOptions = {}): (...args: any[]) => any {
  const vg = valueAndGradAs("grad", f, options);
  return (...args: any[]) => {
    const [out, g] = vg(...args);
    return options.hasAux ? [g, out[1]] : g;
  };
}
