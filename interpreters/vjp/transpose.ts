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
  const known = new Map<Var, NDArray>();
  for (let i = 0; i < constvars.length; i++) known.set(constvars[i]!, consts[i]!);
  const acc = new Map<Var, NDArray>();
  const addCt = (v: Var, ct: NDArray | null) => {
    if (ct === null || known.has(v)) return;
    const prev = acc.get(v);
    acc.set(v, prev === undefined ? ct : lax.add(prev, ct));
  };
  for (let i = 0; i < outvars.length; i++) addCt(outvars[i]!, cts[i] ?? null);
  for (let k = eqns.length - 1; k >= 0; k--) {
    const e = eqns[k]!;
    let outCts: (NDArray | null)[] | null = null;
    for (let j = 0; j < e.outvars.length; j++) {
      const v = e.outvars[j]!,
        ct = acc.get(v);
      if (ct === undefined) continue;
      acc.delete(v);
      outCts ??= new Array<NDArray | null>(e.outvars.length).fill(null);
      outCts[j] = ct;
    }
    if (outCts === null) continue;
    const args = new Array<LinArg>(e.inputs.length);
    for (let j = 0; j < args.length; j++) {
      const v = e.inputs[j]!;
      args[j] = known.get(v) ?? new UndefPrimal(v.aval);
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
    for (let j = 0; j < e.inputs.length; j++) addCt(e.inputs[j]!, ctIns[j] ?? null);
  }
  const out = new Array<NDArray | null>(invars.length);
  for (let i = 0; i < invars.length; i++) out[i] = acc.get(invars[i]!) ?? null;
  return out;
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
