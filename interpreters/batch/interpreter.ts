/**
 * The batch interpreter (vmap). A `BatchTracer` holds a value with the batch axis always at 0; a
 * value that is not one of this interpreter's tracers is unbatched. Rules see the operands and
 * which are batched and return outputs batched at 0 (or unbatched).
 */
import { type Interpreter, withInterpreter } from "../../src/core/interpreter.js";
import { type NDArray, Tag, Tracer, concretizationError } from "../../src/core/ndarray.js";
import type { Prim, PrimParams } from "../../src/core/prim.js";

export type BatchRule<P extends Prim> = (args: NDArray[], batched: boolean[], params: PrimParams[P], size: number) => [NDArray[], boolean[]];
export type BatchRules = { [P in Prim]: BatchRule<P> };

let batchRules: BatchRules;
/** Installs the rule table (done once by this folder's index, which keeps rules → interpreter acyclic). */
export function installBatchRules(rules: BatchRules): void {
  batchRules = rules;
}

export class BatchTracer extends Tracer {
  readonly shape: number[];
  constructor(
    readonly tag: Tag,
    readonly val: NDArray,
  ) {
    super();
    this.shape = val.shape.slice(1);
  }
  get dtype() {
    return this.val.dtype;
  }
  toConcrete(fn: string): never {
    throw concretizationError(fn, this);
  }
}

export class BatchInterpreter implements Interpreter {
  readonly tag: Tag;
  constructor(
    readonly parent: Interpreter,
    readonly axisSize: number,
  ) {
    this.tag = new Tag("vmap");
  }

  /** A value of this interpreter batched along axis 0 of `val`. */
  pack(val: NDArray): BatchTracer {
    return new BatchTracer(this.tag, val);
  }

  /** The batched value (axis 0) of `x`, or null when `x` is not batched here. */
  unpack(x: NDArray): NDArray | null {
    return x instanceof BatchTracer && x.tag === this.tag ? x.val : null;
  }

  process<P extends Prim>(prim: P, args: readonly NDArray[], params: PrimParams[P]): NDArray[] {
    let mine = false;
    const vals = new Array<NDArray>(args.length),
      batched = new Array<boolean>(args.length);
    for (let i = 0; i < args.length; i++) {
      const v = this.unpack(args[i]!);
      batched[i] = v !== null;
      vals[i] = v ?? args[i]!;
      mine ||= v !== null;
    }
    if (!mine) return this.parent.process(prim, args, params);
    const [outs, outBatched] = withInterpreter(this.parent, () => (batchRules[prim] as BatchRule<P>)(vals, batched, params, this.axisSize));
    return outs.map((o, i) => (outBatched[i] ? this.pack(o) : o));
  }
}
