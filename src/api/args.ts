/**
 * Shared plumbing of the public transforms: installing the base evaluator, turning argument
 * pytrees into arrays, validating argnums and tangent/cotangent trees against their primals.
 */
import { EvalInterpreter, type Impl, convWithLayout, impls, setElementwiseAccelerator, setReduceAccelerator } from "../../interpreters/eval/index.js";
import { compileProgram } from "../../interpreters/jit/compile.js";
import { eagerWasmElementwise, eagerWasmReduce } from "../../interpreters/jit/wasm_eager.js";
import { type DType, isFloat } from "../core/dtype.js";
import { ArgumentError, DTypeError, ShapeError, describe, naming } from "../core/errors.js";
import { setBaseInterpreter } from "../core/interpreter.js";
import { checkOptionsObject } from "../core/options.js";
import * as lax from "../core/lax.js";
import { NDArray, fmtAval } from "../core/ndarray.js";
import { fmtShape, shapeEq } from "../core/shape.js";
import { setConvLayoutImpl, setPrimitiveImpl, setProgramCompiler } from "../ir/executable.js";
import type { Prim } from "../core/prim.js";
import { type TreeDef, flatten } from "../tree.js";

setBaseInterpreter(new EvalInterpreter());
setPrimitiveImpl((prim, args, params, outs) => (impls[prim] as Impl<Prim>)(args, params, outs.slice()));
setProgramCompiler(compileProgram);
setConvLayoutImpl(convWithLayout);
setElementwiseAccelerator(eagerWasmElementwise);
setReduceAccelerator(eagerWasmReduce);

/** Refuses, when a transform is created, anything but a function to transform. */
export function checkFn(fn: string, f: unknown, what = "f"): void {
  if (typeof f !== "function") throw new ArgumentError(`${fn}: ${what} must be a function, got ${describe(f)}`);
}

/** Refuses an options argument that is not a plain object or names an unknown option. */
export function checkOptions(fn: string, options: unknown, known: readonly string[]): void {
  if (options === undefined) throw new ArgumentError(`${fn}: options must be an object, got undefined`);
  checkOptionsObject(fn, options as object, known);
}

const isThenable = (x: unknown): x is PromiseLike<unknown> =>
  typeof x === "object" && x !== null && typeof (x as { then?: unknown }).then === "function";

/**
 * The error for a Promise where a transform needs arrays. A transform traces f synchronously and
 * its tracers die when it returns, so work after an `await` would meet dead tracers; the
 * promise's own later failure (that escaped tracer) is marked handled so it cannot crash the process.
 */
function asyncError(fn: string, what: string, p: PromiseLike<unknown>): ArgumentError {
  if (p instanceof Promise) p.catch(() => undefined);
  return new ArgumentError(
    `${fn}: ${what} is a Promise; transforms need synchronous functions, because they trace f once ` +
      "while it runs and its traced values are invalid after it returns (an await would resume too late); " +
      "drop async/await from f and await outside the transform",
  );
}

/** A leaf of a transform's input or output as an array: JS numbers are float32, booleans bool. */
export function leafArray(fn: string, what: string, x: unknown, dtype?: DType): NDArray {
  if (x instanceof NDArray) return x;
  if (typeof x === "number") return lax.scalar(x, dtype ?? "float32");
  if (typeof x === "boolean") return lax.scalar(x ? 1 : 0, "bool");
  if (isThenable(x)) throw asyncError(fn, what, x);
  throw new ArgumentError(`${fn}: ${what} has a leaf that is ${describe(x)}; transforms take trees of NDArrays, numbers and booleans`);
}

/** Flattens a tree into arrays. */
export function flattenArrays(fn: string, what: string, tree: unknown): [NDArray[], TreeDef] {
  if (isThenable(tree)) throw asyncError(fn, what, tree);
  const [leaves, def] = naming(`${fn} (argument ${what})`, () => flatten(tree));
  return [leaves.map((l) => leafArray(fn, what, l)), def];
}

/** argnums as a list of distinct, in-range indices. */
export function normArgnums(fn: string, argnums: number | readonly number[], nargs: number): number[] {
  const list = typeof argnums === "number" ? [argnums] : argnums;
  if (!Array.isArray(list) || list.length === 0)
    throw new ArgumentError(`${fn}: argnums must be a number or a non-empty list, got ${describe(argnums)}`);
  return list.map((a) => {
    if (!Number.isInteger(a) || a < -nargs || a >= nargs) {
      throw new ArgumentError(`${fn}: argnums ${a} is out of range for a call with ${nargs} argument(s)`);
    }
    return a < 0 ? a + nargs : a;
  });
}

/** Leaves to differentiate must be floats. */
export function requireFloat(fn: string, leaves: readonly NDArray[], what: string): void {
  for (const x of leaves) {
    if (!isFloat(x.dtype)) {
      throw new DTypeError(
        `${fn}: ${what} has a leaf of dtype ${x.dtype} (${fmtAval(x)}); only float inputs can be differentiated; convert with .astype("float32") or leave it out of argnums`,
      );
    }
  }
}

/** Checks that `tree` (tangents or cotangents) matches the structure, shapes and dtypes of `like`. */
export function matchTree(fn: string, what: string, tree: unknown, def: TreeDef, like: readonly NDArray[]): NDArray[] {
  const [leaves, d] = flatten(tree);
  if (!d.equals(def)) throw new ArgumentError(`${fn}: ${what} has structure ${d} but must match ${def}`);
  return leaves.map((l, i) => {
    const ref = like[i]!;
    const x = leafArray(fn, what, l, ref.dtype);
    if (!shapeEq(x.shape, ref.shape)) {
      throw new ShapeError(`${fn}: ${what} leaf ${i} has shape ${fmtShape(x.shape)} but its primal has shape ${fmtShape(ref.shape)}`);
    }
    if (x.dtype !== ref.dtype) {
      throw new DTypeError(
        `${fn}: ${what} leaf ${i} has dtype ${x.dtype} but its primal has dtype ${ref.dtype}; convert it with .astype("${ref.dtype}")`,
      );
    }
    return x;
  });
}
