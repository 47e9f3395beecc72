/**
 * Program-to-program optimisations run before code generation: common-subexpression elimination
 * and dead-code elimination. Both are single iterative sweeps (no recursion), so a 100,000-equation
 * program is fine. Constant folding happens earlier, while staging (all-constant work runs then).
 */
import { Prim } from "../../src/core/prim.js";
import { type Eqn, Program, type Var } from "../../src/ir/ir.js";

/** Drops equations none of whose outputs reach a program output. */
export function dce(p: Program): Program {
  const live = new Set<Var>(p.outvars);
  const kept: Eqn[] = [];
  for (let k = p.eqns.length - 1; k >= 0; k--) {
    const e = p.eqns[k]!;
    if (!e.outvars.some((v) => live.has(v))) continue;
    kept.push(e);
    for (const v of e.inputs) live.add(v);
  }
  kept.reverse();
  return kept.length === p.eqns.length ? p : new Program(p.constvars, p.invars, kept, p.outvars);
}

/** Replaces an equation that repeats an earlier one (same primitive, inputs and params) by its outputs. */
export function cse(p: Program): Program {
  const subst = new Map<Var, Var>();
  const seen = new Map<string, Eqn>();
  const ids = new Map<Var, number>();
  const id = (v: Var) => {
    let n = ids.get(v);
    if (n === undefined) ids.set(v, (n = ids.size));
    return n;
  };
  const eqns: Eqn[] = [];
  let changed = false;
  for (const e of p.eqns) {
    const inputs = e.inputs.map((v) => subst.get(v) ?? v);
    const renamed = inputs.some((v, i) => v !== e.inputs[i]) ? { ...e, inputs } : e;
    if (e.prim !== Prim.JitCall) {
      const key = `${e.prim}|${inputs.map(id).join(",")}|${JSON.stringify(e.params)}`;
      const prev = seen.get(key);
      if (prev !== undefined) {
        e.outvars.forEach((v, i) => subst.set(v, prev.outvars[i]!));
        changed = true;
        continue;
      }
      seen.set(key, renamed);
    }
    changed ||= renamed !== e;
    eqns.push(renamed);
  }
  if (!changed) return p;
  return new Program(p.constvars, p.invars, eqns, p.outvars.map((v) => subst.get(v) ?? v));
}
