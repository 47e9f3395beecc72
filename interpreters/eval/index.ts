/**
 * The eval interpreter: the bottom of every interpreter stack. It checks that every operand is a
 * concrete array, runs the primitive's abstract rule (shapes, dtypes, validation), then its CPU impl.
 */
import { abstractEval } from "../../src/core/abstract_eval.js";
import { type Interpreter, escapedError } from "../../src/core/interpreter.js";
import { ConcreteArray, type NDArray, Tracer } from "../../src/core/ndarray.js";
import type { Prim, PrimParams } from "../../src/core/prim.js";
import { type Impl, impls } from "./impl.js";

export class EvalInterpreter implements Interpreter {
  readonly parent = null;

  process<P extends Prim>(prim: P, args: readonly NDArray[], params: PrimParams[P]): NDArray[] {
    for (let i = 0; i < args.length; i++) {
      const a = args[i]!;
      // A live tracer can reach here only from a transform that is no longer on the stack.
      if (!(a instanceof ConcreteArray)) throw escapedError(prim, a as Tracer);
    }
    return (impls[prim] as Impl<P>)(args as ConcreteArray[], params, abstractEval(prim, args, params));
  }
}
