/**
 * The staging interpreter: records primitives as equations of a `Program`.
 *
 * Two modes. "partial" (linearize): record only primitives that touch this interpreter's own
 * tracers and forward everything else to the parent to compute now; under jvp this is partial
 * evaluation (primal work now, tangent work recorded). "all" (jit, program transforms): record
 * every primitive that touches any live tracer, and fold only all-constant work. Values from
 * outside become constvars; in "all" mode, constvars that are other transforms' tracers are
 * returned separately so the caller can pass them as explicit operands.
 */
import { abstractEval } from "../core/abstract_eval.js";
import { type Interpreter, baseInterpreter, withInterpreter } from "../core/interpreter.js";
import { type Aval, ConcreteArray, type NDArray, Tag, Tracer, concretizationError } from "../core/ndarray.js";
import { Prim, type PrimParams } from "../core/prim.js";
import { type ClosedProgram, type Eqn, Program, Var } from "./ir.js";
import { partialEval } from "./partial_eval.js";

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

export type StageMode = "partial" | "all";

export class StageInterpreter implements Interpreter {
  readonly tag: Tag;
  private readonly eqns: Eqn[] = [];
  private readonly invars: Var[] = [];
  private readonly constvars = new Map<NDArray, Var>();

  constructor(readonly parent: Interpreter, transform = "stage", readonly mode: StageMode = "partial") {
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

  private record<P extends Prim>(prim: P, args: readonly NDArray[], params: PrimParams[P]): StageTracer[] {
    const outs = abstractEval(prim, args, params).map((a) => new Var(a));
    this.eqns.push({ prim, inputs: args.map((a) => this.atom(a)), params, outvars: outs });
    return outs.map((v) => new StageTracer(this.tag, v));
  }

  process<P extends Prim>(prim: P, args: readonly NDArray[], params: PrimParams[P]): NDArray[] {
    let mine = false, traced = false;
    for (let i = 0; i < args.length; i++) {
      const a = args[i]!;
      if (this.own(a)) mine = true;
      else if (a instanceof Tracer) traced = true;
    }
    // In "all" mode constant work is folded now, except broadcasts: staged, a broadcast of a small
    // constant stays small (the compiler turns it into index arithmetic, not a full array).
    const fold = this.mode === "all" ? !mine && !traced && prim !== Prim.BroadcastInDim : !mine;
    if (fold) return this.parent.process(prim, args, params);
    if (this.mode === "partial" && prim === Prim.JitCall) {
      return this.partialJitCall(args, params as PrimParams[Prim.JitCall]);
    }
    return this.record(prim, args, params);
  }

  /** A compiled call with some known operands: run the known part now, record the rest. */
  private partialJitCall(args: readonly NDArray[], { program, name }: PrimParams[Prim.JitCall]): NDArray[] {
    const known = args.map((a) => !this.own(a));
    const pe = partialEval(program, known);
    const knownOuts = this.parent.process(Prim.JitCall, args.filter((_, i) => known[i]), { program: pe.known, name });
    const nOut = pe.outKnown.length;
    const residuals = knownOuts.slice(pe.outKnown.filter((k) => k).length);
    const unknownOuts = this.record(Prim.JitCall, [...residuals, ...args.filter((_, i) => !known[i])], { program: pe.unknown, name });
    let k = 0, u = 0;
    const out: NDArray[] = [];
    for (let i = 0; i < nOut; i++) out.push(pe.outKnown[i] ? knownOuts[k++]! : unknownOuts[u++]!);
    return out;
  }

  /** Closes the recording over `outs`; outputs that are not this interpreter's tracers become constants. */
  build(outs: readonly NDArray[]): ClosedProgram {
    const outvars = outs.map((o) => this.atom(o));
    const program = new Program([...this.constvars.values()], this.invars.slice(), this.eqns.slice(), outvars);
    return { program, consts: [...this.constvars.keys()] };
  }

  /**
   * Like `build`, but constvars that are other transforms' tracers become trailing program inputs;
   * returns the program (with only concrete consts) and those tracers.
   */
  buildLifted(outs: readonly NDArray[]): [ClosedProgram, Tracer[]] {
    const outvars = outs.map((o) => this.atom(o));
    const consts: ConcreteArray[] = [], constvars: Var[] = [], lifted: Tracer[] = [], liftedVars: Var[] = [];
    for (const [x, v] of this.constvars) {
      if (x instanceof Tracer) { lifted.push(x); liftedVars.push(v); }
      else { consts.push(x as ConcreteArray); constvars.push(v); }
    }
    const program = new Program(constvars, [...this.invars, ...liftedVars], this.eqns.slice(), outvars);
    return [{ program, consts }, lifted];
  }
}

/**
 * Stages `fn` on abstract inputs of `avals` into a closed program (mode "all", folding constant
 * work on the base evaluator). Tracers of enclosing transforms that `fn` closes over are not
 * allowed here; `fn` must take everything it depends on as inputs.
 */
export function traceToProgram(name: string, avals: readonly Aval[], fn: (ins: NDArray[]) => NDArray[]): ClosedProgram {
  const stage = new StageInterpreter(baseInterpreter(), name, "all");
  const ins = avals.map((a) => stage.newInput(a));
  try {
    const outs = withInterpreter(stage, () => fn(ins));
    return stage.build(outs);
  } finally {
    stage.tag.alive = false;
  }
}
