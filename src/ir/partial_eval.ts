/**
 * Partial evaluation of a program: given which inputs are known, split it into a known program
 * (known inputs → known outputs ++ residuals) and an unknown program (residuals ++ unknown inputs
 * → unknown outputs). This is what lets a compiled call sit inside linearize: its primal half runs
 * now, its tangent half is recorded as one linear equation.
 */
import { Prim } from "../core/prim.js";
import { type ClosedProgram, type Eqn, Program, type Var, dce } from "./ir.js";

export interface PartialEvalResult {
  known: ClosedProgram;
  unknown: ClosedProgram;
  /** For each output of the original program, whether the known program computes it. */
  outKnown: boolean[];
}

const cache = new WeakMap<Program, Map<string, PartialEvalResult>>();

/**
 * Splits `cp` given which inputs are known. Outputs in `forceUnknown` are produced by the unknown
 * program even when computable from known inputs (they pass through as residuals), which lets
 * loops and branches agree on one split.
 */
export function partialEval(cp: ClosedProgram, knownIn: readonly boolean[], forceUnknown?: readonly boolean[]): PartialEvalResult {
  const key = `${knownIn.map(Number).join("")}:${forceUnknown?.map(Number).join("") ?? ""}`;
  let byMask = cache.get(cp.program);
  if (byMask === undefined) cache.set(cp.program, (byMask = new Map()));
  let hit = byMask.get(key);
  if (hit === undefined) byMask.set(key, (hit = split(cp, knownIn, forceUnknown)));
  return hit;
}

function split({ program: p, consts }: ClosedProgram, knownIn: readonly boolean[], forceUnknown?: readonly boolean[]): PartialEvalResult {
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
  const outKnown = p.outvars.map((v, i) => known.has(v) && !forceUnknown?.[i]);
  p.outvars.forEach((v, i) => {
    if (outKnown[i] || !known.has(v) || seen.has(v)) return;
    seen.add(v);
    if (constSet.has(v)) unknownConsts.add(v);
    else residuals.push(v);
  });
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

/**
 * The split a checkpoint (remat) uses: the known program computes only the known outputs; the
 * unknown program recomputes everything it needs from the known *inputs* (plus, under the "dots"
 * policy, the saved results of matrix products) instead of reading stored intermediates.
 */
export function partialEvalRemat(cp: ClosedProgram, knownIn: readonly boolean[], saveDots: boolean): PartialEvalResult {
  const plain = partialEval(cp, knownIn);
  const p = cp.program;
  const saved = saveDots ? plain.known.program.eqns.filter((e) => e.prim === Prim.DotGeneral).map((e) => e.outvars[0]!) : [];
  const savedSet = new Set(saved);
  const knownInvars = p.invars.filter((_, i) => knownIn[i]);
  const knownProg = new Program(p.constvars, knownInvars, plain.known.program.eqns, [
    ...p.outvars.filter((_, i) => plain.outKnown[i]), ...saved,
  ]);
  const unknownProg = dce(new Program(p.constvars, [...knownInvars, ...saved, ...p.invars.filter((_, i) => !knownIn[i])],
    p.eqns.filter((e) => !savedSet.has(e.outvars[0]!)), p.outvars.filter((_, i) => !plain.outKnown[i])));
  return {
    known: { program: knownProg, consts: cp.consts },
    unknown: { program: unknownProg, consts: cp.consts },
    outKnown: plain.outKnown,
  };
}
