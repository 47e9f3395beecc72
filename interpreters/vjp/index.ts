/**
 * Reverse mode's second half: transposing a linear program. Walks the equations backwards (a loop,
 * never recursion), feeding each equation's output cotangent to its primitive's transpose rule and
 * summing cotangents that meet at a variable. Variables nobody reads back get no work.
 */
import * as lax from "../../src/core/lax.js";
import type { NDArray } from "../../src/core/ndarray.js";
import type { Prim } from "../../src/core/prim.js";
import type { ClosedProgram, Var } from "../../src/ir/ir.js";
import { type LinArg, type TransposeRule, UndefPrimal, transposeRules } from "./rules.js";

export { UndefPrimal, transposeRules } from "./rules.js";

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
  program.outvars.forEach((v, i) => addCt(v, cts[i] ?? null));
  for (let k = program.eqns.length - 1; k >= 0; k--) {
    const e = program.eqns[k]!;
    const ct = acc.get(e.outvars[0]!);
    if (ct === undefined) continue;
    acc.delete(e.outvars[0]!);
    const args: LinArg[] = e.inputs.map((v) => known.get(v) ?? new UndefPrimal(v.aval));
    const ctIns = (transposeRules[e.prim] as TransposeRule<Prim>)(ct, args, e.params);
    e.inputs.forEach((v, i) => addCt(v, ctIns[i] ?? null));
  }
  return program.invars.map((v) => acc.get(v) ?? null);
}
