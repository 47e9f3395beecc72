/**
 * Partial evaluation of a program: given which inputs are known, split it into a known program
 * (known inputs → known outputs ++ residuals) and an unknown program (residuals ++ unknown inputs
 * → unknown outputs). This is what lets a compiled call sit inside linearize: its primal half runs
 * now, its tangent half is recorded as one linear equation.
 */
import { type ClosedProgram, type Eqn, Program, type Var } from "./ir.js";

export interface PartialEvalResult {
  known: ClosedProgram;
  unknown: ClosedProgram;
  /** For each output of the original program, whether the known program computes it. */
  outKnown: boolean[];
}

const cache = new WeakMap<Program, Map<string, PartialEvalResult>>();

export function partialEval(cp: ClosedProgram, knownIn: readonly boolean[]): PartialEvalResult {
  const key = knownIn.map((k) => (k ? "1" : "0")).join("");
  let byMask = cache.get(cp.program);
  if (byMask === undefined) cache.set(cp.program, (byMask = new Map()));
  let hit = byMask.get(key);
  if (hit === undefined) byMask.set(key, (hit = split(cp, knownIn)));
  return hit;
}

function split({ program: p, consts }: ClosedProgram, knownIn: readonly boolean[]): PartialEvalResult {
  const constSet = new Set(p.constvars);
  const known = new Set<Var>(p.constvars);
  p.invars.forEach((v, i) => knownIn[i] && known.add(v));
  const knownEqns: Eqn[] = [], unknownEqns: Eqn[] = [];
  for (const e of p.eqns) {
    if (e.inputs.every((v) => known.has(v))) {
      knownEqns.push(e);
      e.outvars.forEach((v) => known.add(v));
    } else unknownEqns.push(e);
  }
  // Residuals: known non-constant values the unknown side reads.
  const residuals: Var[] = [], seen = new Set<Var>();
  const unknownConsts = new Set<Var>();
  for (const e of unknownEqns) {
    for (const v of e.inputs) {
      if (!known.has(v) || seen.has(v)) continue;
      seen.add(v);
      if (constSet.has(v)) unknownConsts.add(v);
      else residuals.push(v);
    }
  }
  const outKnown = p.outvars.map((v) => known.has(v));
  const constOf = (vs: Iterable<Var>) => {
    const cv = [...vs];
    return { cv, vals: cv.map((v) => consts[p.constvars.indexOf(v)]!) };
  };
  const kc = constOf(p.constvars);
  const knownProg = new Program(
    kc.cv,
    p.invars.filter((_, i) => knownIn[i]),
    knownEqns,
    [...p.outvars.filter((_, i) => outKnown[i]), ...residuals],
  );
  const uc = constOf(unknownConsts);
  const unknownProg = new Program(
    uc.cv,
    [...residuals, ...p.invars.filter((_, i) => !knownIn[i])],
    unknownEqns,
    p.outvars.filter((_, i) => !outKnown[i]),
  );
  return { known: { program: knownProg, consts: kc.vals }, unknown: { program: unknownProg, consts: uc.vals }, outKnown };
}
