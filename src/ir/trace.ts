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
import { ArgumentError } from "../core/errors.js";
import * as lax from "../core/lax.js";
import { range } from "../core/shape.js";
import { type ClosedProgram, type Eqn, Program, Var, evalProgram, permuteProgram } from "./ir.js";
import { partialEval, partialEvalRemat } from "./partial_eval.js";

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
    if (this.mode === "partial") {
      const own = args.map((a) => this.own(a));
      switch (prim) {
        case Prim.JitCall: return this.partialJitCall(args, params as PrimParams[Prim.JitCall]);
        case Prim.Cond: if (!own[0]) return partialCond(this, args, own, params as PrimParams[Prim.Cond]); break;
        case Prim.Scan: return partialScan(this, args, own, params as PrimParams[Prim.Scan]);
        case Prim.Remat: return partialRemat(this, args, own, params as PrimParams[Prim.Remat]);
        case Prim.While: throw new ArgumentError(
          "lax.whileLoop: reverse-mode differentiation (grad, vjp, jacrev) of a while loop is not defined, " +
            "since its trip count is unknown; use lax.scan, or lax.fori with static (number) bounds",
        );
      }
    }
    return this.record(prim, args, params);
  }

  /** Records `prim` (used by the partial-evaluation rules below). */
  recordCall<P extends Prim>(prim: P, args: readonly NDArray[], params: PrimParams[P]): NDArray[] {
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

// ---- partial evaluation of higher-order primitives under linearize ----

/** Interleaves known and unknown results back into output order. */
function merge(outKnown: readonly boolean[], known: readonly NDArray[], unknown: readonly NDArray[]): NDArray[] {
  let k = 0, u = 0;
  return outKnown.map((b) => (b ? known[k++]! : unknown[u++]!));
}

/**
 * cond with a known index: split every branch, force a common set of unknown outputs, and give
 * all branches one residual list (each branch fills its own slots and zeros the others').
 */
function partialCond(st: StageInterpreter, [index, ...ops]: readonly NDArray[], own: boolean[], { branches }: PrimParams[Prim.Cond]): NDArray[] {
  const knownIn = own.slice(1).map((o) => !o);
  const first = branches.map((b) => partialEval(b, knownIn));
  const outKnown = first[0]!.outKnown.map((_, i) => first.every((pe) => pe.outKnown[i]));
  const pes = branches.map((b) => partialEval(b, knownIn, outKnown.map((k) => !k)));
  const nKnown = outKnown.filter((k) => k).length;
  const resAvals = pes.flatMap((pe) => pe.known.program.outvars.slice(nKnown).map((v) => v.aval));
  const offsets = pes.map((_, k) => pes.slice(0, k).reduce((n, pe) => n + pe.known.program.outvars.length - nKnown, 0));
  const knownBranches = pes.map((pe, k) => traceToProgram("cond", pe.known.program.invars.map((v) => v.aval), (ins) => {
    const outs = evalProgram(pe.known.program, pe.known.consts, ins);
    const mine = outs.slice(nKnown);
    return [...outs.slice(0, nKnown), ...resAvals.map((a, j) => mine[j - offsets[k]!] ?? lax.zerosOf(a))];
  }));
  const unknownBranches = pes.map((pe, k) => {
    const p = pe.unknown.program, nRes = p.invars.length - own.slice(1).filter((o) => o).length;
    const lead = resAvals.map((a, j) => (j >= offsets[k]! && j < offsets[k]! + nRes ? p.invars[j - offsets[k]!]! : new Var(a)));
    return { program: new Program(p.constvars, [...lead, ...p.invars.slice(nRes)], p.eqns, p.outvars), consts: pe.unknown.consts };
  });
  const knownOuts = st.parent.process(Prim.Cond, [index!, ...ops.filter((_, i) => knownIn[i])], { branches: knownBranches });
  const residuals = knownOuts.slice(nKnown);
  const unknownOuts = st.recordCall(Prim.Cond, [index!, ...residuals, ...ops.filter((_, i) => !knownIn[i])], { branches: unknownBranches });
  return merge(outKnown, knownOuts.slice(0, nKnown), unknownOuts);
}

/**
 * scan: the known loop runs now and stacks one residual per step; the unknown (linear) loop is
 * recorded with those residuals as extra xs. Carries are unknown if any step makes them so.
 */
function partialScan(st: StageInterpreter, args: readonly NDArray[], own: boolean[], params: PrimParams[Prim.Scan]): NDArray[] {
  const { body, length, reverse, numConsts: nc, numCarry: k } = params;
  if (!own.some((o) => o)) return st.parent.process(Prim.Scan, args, params);
  const known = own.map((o) => !o);
  let carryKnown = known.slice(nc, nc + k);
  for (;;) {
    const pe = partialEval(body, [...known.slice(0, nc), ...carryKnown, ...known.slice(nc + k)]);
    const next = carryKnown.map((c, i) => c && pe.outKnown[i]!);
    if (next.every((c, i) => c === carryKnown[i])) break;
    carryKnown = next;
  }
  const knownIn = [...known.slice(0, nc), ...carryKnown, ...known.slice(nc + k)];
  const ny = body.program.outvars.length - k;
  const pe = partialEval(body, knownIn, [...carryKnown.map((c) => !c), ...new Array<boolean>(ny).fill(false)]);
  const nKc = carryKnown.filter((c) => c).length, nKy = pe.outKnown.slice(k).filter((b) => b).length;
  const kc = known.slice(0, nc).filter((b) => b).length;
  const pick = (from: number, to: number, want: boolean) => args.slice(from, to).filter((_, i) => knownIn[from + i] === want);
  const knownOuts = st.parent.process(Prim.Scan, [...pick(0, nc, true), ...pick(nc, nc + k, true), ...pick(nc + k, args.length, true)], {
    body: pe.known, length, reverse, numConsts: kc, numCarry: nKc,
  });
  const residuals = knownOuts.slice(nKc + nKy);
  // The unknown program's inputs are (residuals, unknown consts, unknown carry, unknown xs); a
  // scan wants (consts, carry, xs), with the per-step residuals among the xs.
  const nRes = residuals.length, uc = nc - kc, uk = k - nKc, ux = args.length - nc - k - (known.slice(nc + k).filter((b) => b).length);
  const order = [...range(uc).map((i) => nRes + i), ...range(uk).map((i) => nRes + uc + i), ...range(nRes), ...range(ux).map((i) => nRes + uc + uk + i)];
  const unknownBody = permuteProgram(pe.unknown, order, range(pe.unknown.program.outvars.length));
  const unknownOuts = st.recordCall(Prim.Scan, [...pick(0, nc, false), ...pick(nc, nc + k, false), ...residuals, ...pick(nc + k, args.length, false)], {
    body: unknownBody, length, reverse, numConsts: uc, numCarry: uk,
  });
  const carryOut = merge(carryKnown, knownOuts.slice(0, nKc), unknownOuts.slice(0, uk));
  const ysOut = merge(pe.outKnown.slice(k), knownOuts.slice(nKc, nKc + nKy), unknownOuts.slice(uk));
  return [...carryOut, ...ysOut];
}

/** checkpoint: the known half runs now; the recorded half recomputes from the known inputs. */
function partialRemat(st: StageInterpreter, args: readonly NDArray[], own: boolean[], { body, policy, name }: PrimParams[Prim.Remat]): NDArray[] {
  const knownIn = own.map((o) => !o);
  const pe = partialEvalRemat(body, knownIn, policy === "dots");
  const nKnown = pe.outKnown.filter((b) => b).length;
  const knownArgs = args.filter((_, i) => knownIn[i]);
  const knownOuts = st.parent.process(Prim.Remat, knownArgs, { body: pe.known, policy, name });
  const saved = knownOuts.slice(nKnown);
  const unknownOuts = st.recordCall(Prim.Remat, [...knownArgs, ...saved, ...args.filter((_, i) => !knownIn[i])], { body: pe.unknown, policy, name });
  return merge(pe.outKnown, knownOuts.slice(0, nKnown), unknownOuts);
}
