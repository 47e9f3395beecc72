/**
 * The staging interpreter: records primitives applied to its own tracers as equations of a
 * `Program`, and forwards everything else to its parent to compute now. Under jvp this is partial
 * evaluation: primal work runs at once, tangent work is recorded (linearize). Values from outside
 * (concrete arrays, other transforms' tracers) become constvars.
 */
import { abstractEval } from "../../src/core/abstract_eval.js";
import type { Interpreter } from "../../src/core/interpreter.js";
import { type Aval, type NDArray, Tag, Tracer, concretizationError } from "../../src/core/ndarray.js";
import type { Prim, PrimParams } from "../../src/core/prim.js";
import { type ClosedProgram, type Eqn, Program, Var } from "../../src/ir/ir.js";

export class StageTracer extends Tracer {
  constructor(readonly tag: Tag, readonly v: Var) {
    super();
  }
  get shape(): number[] {
    return this.v.aval.shape as number[];
  }
  get dtype() {
    return this.v.aval.dtype;
  }
  toConcrete(fn: string): never {
    throw concretizationError(fn, this);
  }
}

export class StageInterpreter implements Interpreter {
  readonly tag: Tag;
  private readonly eqns: Eqn[] = [];
  private readonly invars: Var[] = [];
  private readonly constvars = new Map<NDArray, Var>();

  constructor(readonly parent: Interpreter, transform = "stage") {
    this.tag = new Tag(transform);
  }

  /** A new program input of the given aval, and the tracer that stands for it. */
  newInput(aval: Aval): StageTracer {
    const v = new Var(aval);
    this.invars.push(v);
    return new StageTracer(this.tag, v);
  }

  private own(x: NDArray): x is StageTracer {
    return x instanceof StageTracer && x.tag === this.tag;
  }

  private atom(x: NDArray): Var {
    if (this.own(x)) return x.v;
    let v = this.constvars.get(x);
    if (v === undefined) {
      v = new Var(x);
      this.constvars.set(x, v);
    }
    return v;
  }

  process<P extends Prim>(prim: P, args: readonly NDArray[], params: PrimParams[P]): NDArray[] {
    let mine = false;
    for (let i = 0; i < args.length; i++) if (this.own(args[i]!)) { mine = true; break; }
    if (!mine) return this.parent.process(prim, args, params);
    const outs = abstractEval(prim, args, params).map((a) => new Var(a));
    this.eqns.push({ prim, inputs: args.map((a) => this.atom(a)), params, outvars: outs });
    return outs.map((v) => new StageTracer(this.tag, v));
  }

  /** Closes the recording over `outs`; outputs that are not this interpreter's tracers become constants. */
  build(outs: readonly NDArray[]): ClosedProgram {
    const outvars = outs.map((o) => this.atom(o));
    const program = new Program([...this.constvars.values()], this.invars.slice(), this.eqns.slice(), outvars);
    return { program, consts: [...this.constvars.keys()] };
  }
}
