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
import { EFFECTFUL, Prim, type PrimParams } from "../core/prim.js";
import { type ClosedProgram, type Eqn, Program, Var } from "./ir.js";

export class StageTracer extends Tracer {
  constructor(
    readonly tag: Tag,
    readonly v: Var,
  ) {
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

/**
 * What a checkpointed block does when partially evaluated: "recompute" (linearize: the recorded
 * half recomputes the block's primal work) or "split" (transposition: that work happens now).
 */
export type RematMode = "recompute" | "split";

/** What a partial-evaluation rule may do: compute on known values now, or record. */
export interface PartialContext {
  readonly remat: RematMode;
  /** Performs `prim` now on known operands (on the parent interpreter). */
  known<P extends Prim>(prim: P, args: readonly NDArray[], params: PrimParams[P]): NDArray[];
  /** Records `prim` (at least one operand is unknown). */
  unknown<P extends Prim>(prim: P, args: readonly NDArray[], params: PrimParams[P]): NDArray[];
}

/**
 * A partial-evaluation rule: the outputs of `prim` on `args`, of which those flagged in `unknown`
 * are this interpreter's tracers (at least one is). Known outputs are computed now; unknown ones
 * are recorded, and must be linear in the unknown operands under linearize.
 */
export type PartialRule<P extends Prim> = (st: PartialContext, args: readonly NDArray[], unknown: boolean[], params: PrimParams[P]) => NDArray[];
export type PartialRules = { [P in Prim]: PartialRule<P> };

let partialRules: PartialRules | null = null;
/** Installs the rule table (src/ir/partial_eval.ts does, which keeps this module acyclic). */
export function installPartialRules(rules: PartialRules): void {
  partialRules = rules;
}

export class StageInterpreter implements Interpreter, PartialContext {
  readonly tag: Tag;
  private readonly eqns: Eqn[] = [];
  private readonly invars: Var[] = [];
  private readonly constvars = new Map<NDArray, Var>();

  constructor(
    readonly parent: Interpreter,
    transform = "stage",
    readonly mode: StageMode = "partial",
    readonly remat: RematMode = "recompute",
  ) {
    this.tag = new Tag(transform);
  }

  /** A new program input of the given aval, and the tracer that stands for it. */
  newInput(aval: Aval): StageTracer {
    const v = new Var(aval);
    this.invars.push(v);
    return new StageTracer(this.tag, v);
  }

  /** Whether `x` is one of this interpreter's tracers. */
  owns(x: NDArray): x is StageTracer {
    return x instanceof StageTracer && x.tag === this.tag;
  }

  private atom(x: NDArray): Var {
    if (this.owns(x)) return x.v;
    let v = this.constvars.get(x);
    if (v === undefined) {
      v = new Var(x);
      this.constvars.set(x, v);
    }
    return v;
  }

  private record<P extends Prim>(prim: P, args: readonly NDArray[], params: PrimParams[P]): StageTracer[] {
    const avals = abstractEval(prim, args, params);
    const outvars = new Array<Var>(avals.length),
      tracers = new Array<StageTracer>(avals.length),
      inputs = new Array<Var>(args.length);
    for (let i = 0; i < args.length; i++) inputs[i] = this.atom(args[i]!);
    for (let i = 0; i < avals.length; i++) tracers[i] = new StageTracer(this.tag, (outvars[i] = new Var(avals[i]!)));
    this.eqns.push({ prim, inputs, params, outvars });
    return tracers;
  }

  process<P extends Prim>(prim: P, args: readonly NDArray[], params: PrimParams[P]): NDArray[] {
    let mine = false,
      traced = false;
    for (let i = 0; i < args.length; i++) {
      const a = args[i]!;
      if (this.owns(a)) mine = true;
      else if (a instanceof Tracer) traced = true;
    }
    // In "all" mode constant work is folded now, except broadcasts: staged, a broadcast of a small
    // constant stays small (the compiler turns it into index arithmetic, not a full array).
    // An effect is staged too, so it happens each time the program runs.
    const fold = this.mode === "all" ? !mine && !traced && prim !== Prim.BroadcastInDim && !EFFECTFUL.has(prim) : !mine;
    if (fold) return this.parent.process(prim, args, params);
    if (this.mode === "partial") {
      if (partialRules === null) throw new Error("fluxion: partial-evaluation rules are not installed; import from the package root");
      return (partialRules[prim] as PartialRule<P>)(
        this,
        args,
        args.map((a) => this.owns(a)),
        params,
      );
    }
    return this.record(prim, args, params);
  }

  known<P extends Prim>(prim: P, args: readonly NDArray[], params: PrimParams[P]): NDArray[] {
    return this.parent.process(prim, args, params);
  }

  unknown<P extends Prim>(prim: P, args: readonly NDArray[], params: PrimParams[P]): NDArray[] {
    return this.record(prim, args, params);
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
    const consts: ConcreteArray[] = [],
      constvars: Var[] = [],
      lifted: Tracer[] = [],
      liftedVars: Var[] = [];
    for (const [x, v] of this.constvars) {
      if (x instanceof Tracer) {
        lifted.push(x);
        liftedVars.push(v);
      } else {
        consts.push(x as ConcreteArray);
        constvars.push(v);
      }
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
