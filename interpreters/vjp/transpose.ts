/**
 * Reverse mode's second half: transposing a linear program. Walks the equations backwards (a loop,
 * never recursion), feeding each equation's output cotangents to its primitive's transpose rule
 * and summing cotangents that meet at a variable. Variables nobody reads back get no work.
 */
import { bind } from "../../src/core/interpreter.js";
import * as lax from "../../src/core/lax.js";
import type { Aval, NDArray } from "../../src/core/ndarray.js";
import type { Prim, PrimParams } from "../../src/core/prim.js";
import { type ClosedProgram, Program, type Var } from "../../src/ir/ir.js";

/** A linear operand whose value is not known: the one a transpose rule produces a cotangent for. */
export class UndefPrimal {
  constructor(readonly aval: Aval) {}
}
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
 * input and equation output is linear; constvars are the known residuals.
 */
export function transposeProgram({ program, consts }: ClosedProgram, cts: readonly (NDArray | null)[]): (NDArray | null)[] {
  const known = new Map<Var, NDArray>();
  program.constvars.forEach((v, i) => known.set(v, consts[i]!));
  const acc = new Map<Var, NDArray>();
  const addCt = (v: Var, ct: NDArray | null) => {
    if (ct === null || known.has(v)) return;
    const prev = acc.get(v);
    acc.set(v, prev === undefined ? ct : lax.add(prev, ct));
  };
  // Equations on known values only (a checkpointed block's recomputation) run forward first.
  for (const e of program.eqns) {
    if (!e.inputs.every((v) => known.has(v))) continue;
    const outs = bind(e.prim, e.inputs.map((v) => known.get(v)!), e.params);
    e.outvars.forEach((v, i) => known.set(v, outs[i]!));
  }
  program.outvars.forEach((v, i) => addCt(v, cts[i] ?? null));
  for (let k = program.eqns.length - 1; k >= 0; k--) {
    const e = program.eqns[k]!;
    let any = false;
    const outCts = e.outvars.map((v) => {
      const ct = acc.get(v);
      if (ct === undefined) return null;
      acc.delete(v);
      any = true;
      return ct;
    });
    if (!any) continue;
    const args: LinArg[] = e.inputs.map((v) => known.get(v) ?? new UndefPrimal(v.aval));
    const ctIns = (transposeRules[e.prim] as TransposeRule<Prim>)(outCts, args, e.params);
    e.inputs.forEach((v, i) => addCt(v, ctIns[i] ?? null));
  }
  return program.invars.map((v) => acc.get(v) ?? null);
}

/**
 * Cotangents of the linear operands (`UndefPrimal`s in `args`) of a call of `cp` whose other
 * operands are known, given cotangents of its outputs.
 */
export function transposeCall(cp: ClosedProgram, args: readonly LinArg[], cts: readonly (NDArray | null)[]): (NDArray | null)[] {
  const p = cp.program;
  const knownIdx = args.flatMap((a, i) => (a instanceof UndefPrimal ? [] : [i]));
  const linIdx = args.flatMap((a, i) => (a instanceof UndefPrimal ? [i] : []));
  const view = new Program([...p.constvars, ...knownIdx.map((i) => p.invars[i]!)], linIdx.map((i) => p.invars[i]!), p.eqns, p.outvars);
  const res = transposeProgram({ program: view, consts: [...cp.consts, ...knownIdx.map((i) => args[i] as NDArray)] }, cts);
  const out: (NDArray | null)[] = args.map(() => null);
  linIdx.forEach((i, k) => (out[i] = res[k]!));
  return out;
}
