/**
 * The eval interpreter: the bottom of every interpreter stack. It checks that every operand is a
 * concrete array, runs the primitive's abstract rule (shapes, dtypes, validation), then its CPU impl
 * — or, when an operand lives on another device, that device's backend.
 */
import { abstractEval } from "../../src/core/abstract_eval.js";
import { type Interpreter, escapedError } from "../../src/core/interpreter.js";
import { DeviceArray, operandBackend } from "../../src/core/device.js";
import { ConcreteArray, type NDArray, type Tracer } from "../../src/core/ndarray.js";
import type { Prim, PrimParams } from "../../src/core/prim.js";
import { type Impl, impls } from "./impl.js";

export class EvalInterpreter implements Interpreter {
  readonly parent = null;

  process<P extends Prim>(prim: P, args: readonly NDArray[], params: PrimParams[P]): NDArray[] {
    let onDevice = false;
    for (let i = 0; i < args.length; i++) {
      const a = args[i]!;
      if (a instanceof ConcreteArray) continue;
      if (a instanceof DeviceArray) {
        onDevice = true;
        continue;
      }
      // A live tracer can reach here only from a transform that is no longer on the stack.
      throw escapedError(prim, a as Tracer);
    }
    const outs = abstractEval(prim, args, params);
    // Work on another device's arrays runs on that device's backend.
    if (onDevice) return operandBackend(prim, args)!.process(prim, args, params, outs);
    return (impls[prim] as Impl<P>)(args as ConcreteArray[], params, outs);
  }
}

export { impls, type Impl, convWithLayout, setElementwiseAccelerator, setReduceAccelerator } from "./impl.js";
