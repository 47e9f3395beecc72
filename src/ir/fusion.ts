/**
 * Program facts that every code generator needs to plan fusion: who reads each variable, which
 * variables are program outputs, and which broadcasts can stay virtual (read only by elementwise
 * equations, so readers index the broadcast's source instead of a materialised copy).
 */
import { Prim } from "../core/prim.js";
import type { Eqn, Program, Var } from "./ir.js";

export interface FusionFacts {
  consumers: Map<Var, Eqn[]>;
  outputs: Set<Var>;
  virtual: Map<Var, Eqn>;
}

/** The facts for `p`, given which primitives the backend fuses elementwise. */
export function fusionFacts(p: Program, isElementwise: (prim: Prim) => boolean): FusionFacts {
  const consumers = new Map<Var, Eqn[]>();
  for (const e of p.eqns)
    for (const v of e.inputs) {
      const list = consumers.get(v);
      if (list === undefined) consumers.set(v, [e]);
      else list.push(e);
    }
  const outputs = new Set(p.outvars);
  const virtual = new Map<Var, Eqn>();
  for (const e of p.eqns) {
    if (e.prim !== Prim.BroadcastInDim) continue;
    const v = e.outvars[0]!;
    if (!outputs.has(v) && (consumers.get(v) ?? []).every((c) => isElementwise(c.prim))) virtual.set(v, e);
  }
  return { consumers, outputs, virtual };
}
