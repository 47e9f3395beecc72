/**
 * `evalShape` (the shapes and dtypes a function returns, found by staging it on abstract inputs,
 * without computing anything) and `linearTranspose` (the transpose of a linear function, found by
 * staging it and transposing the program), as JAX's `eval_shape` and `linear_transpose`.
 */
import { transposeProgram } from "../../interpreters/vjp/index.js";
import { type DType, checkDType, isFloat } from "../core/dtype.js";
import { ArgumentError, DTypeError, LinearityError } from "../core/errors.js";
import { baseInterpreter, currentInterpreter, withInterpreter } from "../core/interpreter.js";
import * as lax from "../core/lax.js";
import { type Aval, NDArray } from "../core/ndarray.js";
import { checkShape } from "../core/shape.js";
import { StageInterpreter } from "../ir/trace.js";
import { flatten, unflatten } from "../tree.js";
import { checkFn, flattenArrays, leafArray, matchTree } from "./args.js";
import type { ArrayTree, Fn, MapLeaves } from "../types.js";

/** An abstract array: a shape and a dtype, no values (JAX's `ShapeDtypeStruct`). */
export class ShapeDtypeStruct implements Aval {
  readonly shape: number[];
  readonly dtype: DType;
  constructor(shape: number[], dtype: DType = "float32") {
    this.shape = checkShape("ShapeDtypeStruct", shape).slice();
    this.dtype = checkDType("ShapeDtypeStruct", dtype);
  }
  get ndim(): number {
    return this.shape.length;
  }
  get size(): number {
    return this.shape.reduce((a, b) => a * b, 1);
  }
  toString(): string {
    return `ShapeDtypeStruct(${this.dtype}[${this.shape}])`;
  }
}

type LooseFn = (...args: any[]) => any;

/**
 * What `f(...args)` would return, as a tree of `ShapeDtypeStruct`s, computed by staging `f`, so no
 * array work runs. Arguments may be arrays, numbers or `ShapeDtypeStruct`s (inputs without data).
 *
 * @example
 * evalShape((x) => np.matmul(x, x.T), new ShapeDtypeStruct([3, 4])); // ShapeDtypeStruct(float32[3,3])
 */
export function evalShape<F extends Fn>(f: F, ...args: unknown[]): MapLeaves<ReturnType<F>, ShapeDtypeStruct>;
export function evalShape(f: LooseFn, ...args: unknown[]): any {
  checkFn("evalShape", f);
  const [raw, def] = flatten(args);
  const avals: Aval[] = raw.map((l) => (l instanceof ShapeDtypeStruct ? l : leafArray("evalShape", "the arguments", l)));
  const stage = new StageInterpreter(baseInterpreter(), "evalShape", "all");
  try {
    const ins = avals.map((a) => stage.newInput({ shape: a.shape.slice(), dtype: a.dtype }));
    const [outs, outDef] = flattenArrays(
      "evalShape",
      "the output of f",
      withInterpreter(stage, () => f(...(unflatten(def, ins) as unknown[]))),
    );
    return unflatten(
      outDef,
      outs.map((o) => new ShapeDtypeStruct(o.shape, o.dtype)),
    );
  } finally {
    stage.tag.alive = false;
  }
}

/**
 * The transpose of a linear function `f`, at the shapes and dtypes of `primals` (their values are
 * not used): `linearTranspose(f, ...primals)(ct)` returns one cotangent per primal, the
 * `fᵀ(ct)` with `<fᵀ(ct), x> = <ct, f(x)>`. `f` is staged once, with its inputs unknown; a use of
 * them that is not linear is a typed error.
 *
 * @example
 * const fT = linearTranspose((x) => np.sum(x.mul(2)), np.zeros([3]));
 * fT(np.array(1)); // [[2, 2, 2]]
 */
export function linearTranspose<F extends Fn>(f: F, ...primals: unknown[]): (ct: unknown) => ArrayTree<Parameters<F>>;
export function linearTranspose(f: LooseFn, ...primals: unknown[]): (ct: unknown) => any[] {
  const fn = "linearTranspose";
  checkFn(fn, f);
  const [raw, def] = flatten(primals);
  const xs: Aval[] = raw.map((l) => (l instanceof ShapeDtypeStruct ? l : leafArray(fn, "primals", l)));
  xs.forEach((x, i) => {
    if (!isFloat(x.dtype)) throw new DTypeError(`${fn}: primal leaf ${i} is ${x.dtype}[${x.shape}]; a linear function's inputs must be floats`);
  });
  const stage = new StageInterpreter(currentInterpreter(), fn);
  let program, outs: NDArray[], outDef;
  try {
    const ins = xs.map((x) => stage.newInput({ shape: x.shape.slice(), dtype: x.dtype }));
    [outs, outDef] = flattenArrays(
      fn,
      "the output of f",
      withInterpreter(stage, () => f(...(unflatten(def, ins) as unknown[]))),
    );
    program = stage.build(outs);
  } finally {
    stage.tag.alive = false;
  }
  const like = outs.map((o) => lax.zerosOf(o));
  const outTree = outDef;
  const closed = program;
  return (ct: unknown) => {
    const cts = matchTree(fn, "the cotangent", ct, outTree, like);
    let inCts: (NDArray | null)[];
    try {
      inCts = transposeProgram(closed, cts);
    } catch (e) {
      if (!(e instanceof LinearityError)) throw e;
      throw new ArgumentError(
        `${fn}: f is not linear in its inputs (${e.message.split(":")[0]} met an input used nonlinearly); only linear functions have a transpose`,
      );
    }
    return unflatten(
      def,
      xs.map((x, i) => inCts[i] ?? lax.zerosOf(x)),
    ) as any[];
  };
}
