/**
 * Reverse mode's second half: transposing a linear program. Walks the equations backwards (a loop,
 * never recursion), feeding each equation's output cotangents to its primitive's transpose rule
 * and summing cotangents that meet at a variable. Variables nobody reads back get no work.
 */
import { LinearityError } from "../../src/core/errors.js";
import * as lax from "../../src/core/lax.js";
import type { Aval, NDArray } from "../../src/core/ndarray.js";
import type { Prim, PrimParams } from "../../src/core/prim.js";
import { type ClosedProgram, Program, type Var, evalProgram } from "../../src/ir/ir.js";
import { partialEval } from "../../src/ir/partial_eval.js";

/** A linear operand whose value is not known: the one a transpose rule produces a cotangent for. */
export class UndefPrimal {
  constructor(readonly aval: Aval) {}
}

/** Thrown by a transpose rule that needs an operand to be known; `transposeProgram` names the primitive. */
export class NonlinearUse extends Error {}
export type LinArg = NDArray | UndefPrimal;
/** Cotangents of the linear operands from the output cotangents (null: zero, at least one non-null). */
export type TransposeRule<P extends Prim> = (cts: (NDArray | null)[], args: LinArg[], params: PrimParams[P]) => (NDArray | null)[];
export type TransposeRules = { [P in Prim]: TransposeRule<P> };

let transposeRules: TransposeRules;
/** Installs the rule table (done once by this folder's index, which keeps rules → transpose acyclic). */
export function installTransposeRules(rules: TransposeRules): void {
  transposeRules = rules;
}

/**
 * Cotangents of a linear program's inputs, given cotangents of its outputs (null: zero). Every
 * input and equation output is linear; constvars are the known residuals. Known-only work (a
 * checkpoint's recomputation) never reaches here: linearize records only equations that read a
 * linear value, and `transposeCall` runs a body's known half before transposing the rest.
 */
export function transposeProgram({ program, consts }: ClosedProgram, cts: readonly (NDArray | null)[]): (NDArray | null)[] {
  // Plain loops and no per-equation closures: eager reverse mode of scalar code runs this once per
  // gradient over thousands of one-element equations.
  const { constvars, eqns, outvars, invars } = program;
  const vals = new VarTable(program);
  for (let i = 0; i < constvars.length; i++) vals.setKnown(constvars[i]!, consts[i]!);
  for (let i = 0; i < outvars.length; i++) vals.addCt(outvars[i]!, cts[i] ?? null);
  for (let k = eqns.length - 1; k >= 0; k--) {
    const e = eqns[k]!;
    let outCts: (NDArray | null)[] | null = null;
    for (let j = 0; j < e.outvars.length; j++) {
      const ct = vals.takeCt(e.outvars[j]!);
      if (ct === undefined) continue;
      outCts ??= new Array<NDArray | null>(e.outvars.length).fill(null);
      outCts[j] = ct;
    }
    if (outCts === null) continue;
    const args = new Array<LinArg>(e.inputs.length);
    for (let j = 0; j < args.length; j++) {
      const v = e.inputs[j]!;
      args[j] = vals.known(v) ?? new UndefPrimal(v.aval);
    }
    let ctIns: (NDArray | null)[];
    try {
      ctIns = (transposeRules[e.prim] as TransposeRule<Prim>)(outCts, args, e.params);
    } catch (err) {
      if (!(err instanceof NonlinearUse)) throw err;
      throw new LinearityError(
        `transpose of ${e.prim}: operand ${args.findIndex((a) => a instanceof UndefPrimal)} is a linear value used nonlinearly. ` +
          `Partial evaluation should have kept that use on the known side, so this is a bug in fluxion; please report it with the program`,
      );
    }
    for (let j = 0; j < e.inputs.length; j++) vals.addCt(e.inputs[j]!, ctIns[j] ?? null);
  }
  const out = new Array<NDArray | null>(invars.length);
  for (let i = 0; i < invars.length; i++) out[i] = vals.takeCt(invars[i]!) ?? null;
  return out;
}

/**
 * The known values (constvars) and accumulated cotangents of one transposition, by variable. A
 * program staged in one trace numbers its variables nearly densely, so they are array slots by id
 * (an index costs a few nanoseconds where a Map lookup costs tens, and the scalar chain's gradient
 * makes about eight per equation); a program whose ids are spread out keeps Maps.
 */
class VarTable {
  private readonly lo: number;
  private readonly knownSlots: (NDArray | undefined)[] | null;
  private readonly ctSlots: (NDArray | undefined)[] | null;
  private readonly knownMap = new Map<Var, NDArray>();
  private readonly ctMap = new Map<Var, NDArray>();

  constructor(p: Program) {
    let lo = Infinity,
      hi = -Infinity,
      count = 0;
    const see = (vs: readonly Var[]) => {
      for (let i = 0; i < vs.length; i++) {
        const id = vs[i]!.id;
        if (id < lo) lo = id;
        if (id > hi) hi = id;
      }
      count += vs.length;
    };
    see(p.constvars);
    see(p.invars);
    see(p.outvars);
    for (let k = 0; k < p.eqns.length; k++) see(p.eqns[k]!.outvars);
    const dense = count > 0 && hi - lo < 4 * count + 64;
    this.lo = lo;
    this.knownSlots = dense ? new Array<NDArray | undefined>(hi - lo + 1) : null;
    this.ctSlots = dense ? new Array<NDArray | undefined>(hi - lo + 1) : null;
  }

  setKnown(v: Var, x: NDArray): void {
    if (this.knownSlots !== null) this.knownSlots[v.id - this.lo] = x;
    else this.knownMap.set(v, x);
  }

  known(v: Var): NDArray | undefined {
    // Inputs read by equations are constvars, invars or outputs of earlier equations: all in range.
    return this.knownSlots !== null ? this.knownSlots[v.id - this.lo] : this.knownMap.get(v);
  }

  /** Adds a cotangent for v (nothing for a null one or a known v). */
  addCt(v: Var, ct: NDArray | null): void {
    if (ct === null || this.known(v) !== undefined) return;
    if (this.ctSlots !== null) {
      const i = v.id - this.lo,
        prev = this.ctSlots[i];
      this.ctSlots[i] = prev === undefined ? ct : lax.add(prev, ct);
    } else {
      const prev = this.ctMap.get(v);
      this.ctMap.set(v, prev === undefined ? ct : lax.add(prev, ct));
    }
  }

  /** v's accumulated cotangent, removed from the table (undefined when none reached it). */
  takeCt(v: Var): NDArray | undefined {
    if (this.ctSlots !== null) {
      const i = v.id - this.lo,
        ct = this.ctSlots[i];
      this.ctSlots[i] = undefined;
      return ct;
    }
    const ct = this.ctMap.get(v);
    this.ctMap.delete(v);
    return ct;
  }
}

/**
 * Cotangents of the linear operands (`UndefPrimal`s in `args`) of a call of `cp` whose other
 * operands are known, given cotangents of its outputs. The body is first split by partial
 * evaluation: whatever depends only on known operands (a checkpoint's recomputation, the primal
 * half of a nested call) runs now, and only the linear rest is transposed.
 */
export function transposeCall(cp: ClosedProgram, args: readonly LinArg[], cts: readonly (NDArray | null)[]): (NDArray | null)[] {
  const knownIn = args.map((a) => !(a instanceof UndefPrimal));
  const pe = partialEval(cp, knownIn, undefined, "split");
  const knownOuts = evalProgram(pe.known.program, pe.known.consts, args.filter((_, i) => knownIn[i]) as NDArray[]);
  const residuals = knownOuts.slice(pe.outKnown.filter((k) => k).length);
  const u = pe.unknown.program,
    nRes = residuals.length;
  const view = new Program([...u.constvars, ...u.invars.slice(0, nRes)], u.invars.slice(nRes), u.eqns, u.outvars);
  const res = transposeProgram(
    { program: view, consts: [...pe.unknown.consts, ...residuals] },
    cts.filter((_, i) => !pe.outKnown[i]),
  );
  const out: (NDArray | null)[] = args.map(() => null);
  let k = 0;
  knownIn.forEach((kn, i) => {
    if (!kn) out[i] = res[k++]!;
  });
  return out;
}
