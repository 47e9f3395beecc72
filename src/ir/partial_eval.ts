/**
 * Partial evaluation: given which inputs of a program are known, split it into a known program
 * (known inputs → known outputs ++ residuals) and an unknown program (residuals ++ unknown inputs
 * → unknown outputs). Under linearize the known half is the primal computation (run now) and the
 * unknown half is the tangent computation (recorded, and linear), so transposition only ever sees
 * linear equations.
 *
 * In general the split is done by *tracing* (a plain walk over the equations suffices, and is used,
 * when no higher-order equation mixes known and unknown operands): the program is replayed on two stacked staging interpreters,
 * an outer one in "all" mode that records the known program (the known inputs are its tracers),
 * and an inner one in "partial" mode that records the unknown program (the unknown inputs are its
 * tracers). An equation that reads no unknown value falls through to the outer recorder; one that
 * does is recorded by the inner one, and the outer tracers it reads become residuals. A
 * higher-order equation with some known operands goes through its rule in `partialRules` below,
 * which splits its body by calling `partialEval` again, so splits nest to any depth.
 */
import { ArgumentError } from "../core/errors.js";
import { baseInterpreter, withInterpreter } from "../core/interpreter.js";
import * as lax from "../core/lax.js";
import type { NDArray } from "../core/ndarray.js";
import { HIGHER_ORDER, Prim, type PrimParams } from "../core/prim.js";
import { range } from "../core/shape.js";
import { type ClosedProgram, type Eqn, Program, Var, dce, evalProgram, permuteProgram } from "./ir.js";
import { type PartialRule, type PartialRules, type RematMode, StageInterpreter, installPartialRules, traceToProgram } from "./trace.js";

export type { RematMode } from "./trace.js";

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
 * loops and branches agree on one split. `remat` says what a checkpointed block nested in `cp`
 * does: "recompute" (linearize: its unknown half recomputes its primal work from its known
 * inputs) or "split" (transposition: that recomputation happens now, like any other known work).
 */
export function partialEval(
  cp: ClosedProgram,
  knownIn: readonly boolean[],
  forceUnknown?: readonly boolean[],
  remat: RematMode = "recompute",
): PartialEvalResult {
  const key = `${remat}:${knownIn.map(Number).join("")}:${forceUnknown?.map(Number).join("") ?? ""}`;
  let byMask = cache.get(cp.program);
  if (byMask === undefined) cache.set(cp.program, (byMask = new Map()));
  let hit = byMask.get(key);
  if (hit === undefined) byMask.set(key, (hit = split(cp, knownIn, forceUnknown, remat)));
  return hit;
}

function split(cp: ClosedProgram, knownIn: readonly boolean[], forceUnknown: readonly boolean[] | undefined, remat: RematMode): PartialEvalResult {
  return graphSplit(cp, knownIn, forceUnknown) ?? traceSplit(cp, knownIn, forceUnknown, remat);
}

/**
 * The split as a walk over the equations, for the common case where no higher-order equation
 * reads both known and unknown values (so no body needs splitting): an equation is known when all
 * its inputs are. Returns null when some equation needs its partial-evaluation rule.
 */
function graphSplit({ program: p, consts }: ClosedProgram, knownIn: readonly boolean[], forceUnknown?: readonly boolean[]): PartialEvalResult | null {
  const known = new Set<Var>(p.constvars);
  p.invars.forEach((v, i) => knownIn[i] && known.add(v));
  const knownEqns: Eqn[] = [],
    unknownEqns: Eqn[] = [];
  for (const e of p.eqns) {
    let someKnown = false,
      allKnown = true;
    for (const v of e.inputs) {
      if (known.has(v)) someKnown = true;
      else allKnown = false;
    }
    if (allKnown) {
      knownEqns.push(e);
      e.outvars.forEach((v) => known.add(v));
      continue;
    }
    if (someKnown && HIGHER_ORDER.has(e.prim) && e.prim !== Prim.CustomLin) return null;
    unknownEqns.push(e);
  }
  // Residuals: known non-constant values the unknown side reads (or returns).
  const constSet = new Set(p.constvars),
    seen = new Set<Var>(),
    residuals: Var[] = [],
    unknownConsts: Var[] = [];
  const need = (v: Var) => {
    if (!known.has(v) || seen.has(v)) return;
    seen.add(v);
    (constSet.has(v) ? unknownConsts : residuals).push(v);
  };
  for (const e of unknownEqns) e.inputs.forEach(need);
  const outKnown = p.outvars.map((v, i) => known.has(v) && !forceUnknown?.[i]);
  p.outvars.forEach((v, i) => !outKnown[i] && need(v));
  const constOf = (v: Var) => consts[p.constvars.indexOf(v)]!;
  const knownProg = new Program(
    p.constvars,
    p.invars.filter((_, i) => knownIn[i]),
    knownEqns,
    [...p.outvars.filter((_, i) => outKnown[i]), ...residuals],
  );
  const unknownProg = new Program(
    unknownConsts,
    [...residuals, ...p.invars.filter((_, i) => !knownIn[i])],
    unknownEqns,
    p.outvars.filter((_, i) => !outKnown[i]),
  );
  return {
    known: { program: dce(knownProg), consts },
    unknown: { program: unknownProg, consts: unknownConsts.map(constOf) },
    outKnown,
  };
}

/** The general split: replay the program on a known recorder and an unknown one (module comment). */
function traceSplit(
  { program: p, consts }: ClosedProgram,
  knownIn: readonly boolean[],
  forceUnknown: readonly boolean[] | undefined,
  remat: RematMode,
): PartialEvalResult {
  const outer = new StageInterpreter(baseInterpreter(), "partial_eval", "all");
  const inner = new StageInterpreter(outer, "partial_eval", "partial", remat);
  const args = p.invars.map((v, i) => (knownIn[i] ? outer.newInput(v.aval) : inner.newInput(v.aval)));
  try {
    const outs = withInterpreter(inner, () => evalProgram(p, consts, args));
    const outKnown = outs.map((o, i) => !inner.owns(o) && !forceUnknown?.[i]);
    const [unknown, lifted] = inner.buildLifted(outs.filter((_, i) => !outKnown[i]));
    for (const t of lifted) {
      if (!outer.owns(t))
        throw new ArgumentError("partial evaluation: a program's constants must be concrete arrays; pass traced values as operands");
    }
    // buildLifted puts the residuals after the unknown inputs; the split puts them first.
    const nU = unknown.program.invars.length - lifted.length;
    const unknownCp = permuteProgram(unknown, [...range(lifted.length).map((i) => nU + i), ...range(nU)], range(unknown.program.outvars.length));
    const known = outer.build([...outs.filter((_, i) => outKnown[i]), ...lifted]);
    return {
      known: { program: dce(known.program), consts: known.consts },
      unknown: { program: dce(unknownCp.program), consts: unknownCp.consts },
      outKnown,
    };
  } finally {
    inner.tag.alive = false;
    outer.tag.alive = false;
  }
}

/** Interleaves known and unknown results back into output order. */
function merge(outKnown: readonly boolean[], known: readonly NDArray[], unknown: readonly NDArray[]): NDArray[] {
  let k = 0,
    u = 0;
  return outKnown.map((b) => (b ? known[k++]! : unknown[u++]!));
}

const pick = <T>(xs: readonly T[], mask: readonly boolean[], want = true): T[] => xs.filter((_, i) => mask[i] === want);
const count = (mask: readonly boolean[]): number => mask.filter((b) => b).length;

/** The known program's outputs without its residuals (the known half of a loop body or predicate). */
function knownOnly(pe: PartialEvalResult): ClosedProgram {
  const p = pe.known.program,
    n = count(pe.outKnown);
  return { program: dce(new Program(p.constvars, p.invars, p.eqns, p.outvars.slice(0, n))), consts: pe.known.consts };
}

/**
 * A call of a program (`jit_call`, and a checkpoint under "split"): the known half is called now,
 * the unknown half is recorded as a call of the same primitive on the residuals and the unknown
 * operands.
 */
function splitCall<P extends Prim.JitCall | Prim.Remat>(
  prim: P,
  body: (p: PrimParams[P]) => ClosedProgram,
  withBody: (p: PrimParams[P], cp: ClosedProgram) => PrimParams[P],
): PartialRule<P> {
  return (st, args, unknown, params) => {
    const knownIn = unknown.map((u) => !u);
    const pe = partialEval(body(params), knownIn, undefined, st.remat);
    // A known half with no work only forwards its inputs: read them instead of calling it.
    const knownArgs = pick(args, knownIn);
    const knownOuts =
      pe.known.program.eqns.length === 0
        ? evalProgram(pe.known.program, pe.known.consts, knownArgs)
        : st.known(prim, knownArgs, withBody(params, pe.known));
    const residuals = knownOuts.slice(count(pe.outKnown));
    const unknownOuts = st.unknown(prim, [...residuals, ...pick(args, unknown)], withBody(params, pe.unknown));
    return merge(pe.outKnown, knownOuts, unknownOuts);
  };
}

const jitCallRule = splitCall(
  Prim.JitCall,
  (p) => p.program,
  (p, program) => ({ program, name: p.name }),
);
const rematSplitRule = splitCall(
  Prim.Remat,
  (p) => p.body,
  (p, body) => ({ ...p, body }),
);

/**
 * A checkpoint under linearize: the known half runs now but keeps nothing; the recorded half
 * recomputes what it needs from the block's known inputs (and, under the "dots" policy, reads the
 * saved results of matrix products instead of recomputing them).
 */
const rematRule: PartialRule<Prim.Remat> = (st, args, unknown, params) => {
  if (st.remat === "split") return rematSplitRule(st, args, unknown, params);
  const { body, policy } = params;
  const knownIn = unknown.map((u) => !u);
  const pe = partialEvalRemat(body, knownIn, policy === "dots", st.remat);
  const knownArgs = pick(args, knownIn);
  const knownOuts = st.known(Prim.Remat, knownArgs, { ...params, body: pe.known });
  const saved = knownOuts.slice(count(pe.outKnown));
  const unknownOuts = st.unknown(Prim.Remat, [...knownArgs, ...saved, ...pick(args, unknown)], { ...params, body: pe.unknown });
  return merge(pe.outKnown, knownOuts, unknownOuts);
};

/**
 * The split a checkpoint uses: the known program computes only the known outputs (and, with
 * `saveDots`, the results of its matrix products); the unknown program recomputes the residuals
 * from the block's known inputs (reading saved dots instead of recomputing them), then runs the
 * unknown half.
 */
export function partialEvalRemat(
  cp: ClosedProgram,
  knownIn: readonly boolean[],
  saveDots: boolean,
  remat: RematMode = "recompute",
): PartialEvalResult {
  const plain = partialEval(cp, knownIn, undefined, remat);
  const known = plain.known.program,
    nKnown = count(plain.outKnown);
  const saved = saveDots ? known.eqns.filter((e) => e.prim === Prim.DotGeneral).map((e) => e.outvars[0]!) : [];
  const savedSet = new Set(saved);
  const knownProg = dce(new Program(known.constvars, known.invars, known.eqns, [...known.outvars.slice(0, nKnown), ...saved]));
  // The residuals again, from the known inputs and the saved dots.
  const recompute = dce(
    new Program(
      known.constvars,
      [...known.invars, ...saved],
      known.eqns.filter((e) => !savedSet.has(e.outvars[0]!)),
      known.outvars.slice(nKnown),
    ),
  );
  // The unknown program reads the recomputed residuals in place of its residual inputs.
  const u = plain.unknown.program,
    nRes = recompute.outvars.length;
  const rename = new Map<Var, Var>(u.invars.slice(0, nRes).map((v, i) => [v, recompute.outvars[i]!]));
  const at = (v: Var) => rename.get(v) ?? v;
  const eqns = [...recompute.eqns, ...u.eqns.map((e) => ({ ...e, inputs: e.inputs.map(at) }))];
  const constvars: Var[] = [],
    consts: NDArray[] = [],
    have = new Set<Var>();
  const addConsts = (vs: readonly Var[], vals: readonly NDArray[]) =>
    vs.forEach((v, i) => {
      if (have.has(v)) return;
      have.add(v);
      constvars.push(v);
      consts.push(vals[i]!);
    });
  addConsts(recompute.constvars, plain.known.consts);
  addConsts(u.constvars, plain.unknown.consts);
  const unknown = { program: new Program(constvars, [...recompute.invars, ...u.invars.slice(nRes)], eqns, u.outvars.map(at)), consts };
  return { known: { program: knownProg, consts: plain.known.consts }, unknown, outKnown: plain.outKnown };
}

/**
 * cond with a known index: split every branch, force a common set of unknown outputs, and give
 * all branches one residual list (each branch fills its own slots and zeros the others'). An
 * unknown index makes the whole cond unknown.
 */
const condRule: PartialRule<Prim.Cond> = (st, [index, ...ops], [indexUnknown, ...unknown], params) => {
  if (indexUnknown) return st.unknown(Prim.Cond, [index!, ...ops], params);
  const { branches } = params;
  const knownIn = unknown.map((u) => !u);
  const first = branches.map((b) => partialEval(b, knownIn, undefined, st.remat));
  const outKnown = first[0]!.outKnown.map((_, i) => first.every((pe) => pe.outKnown[i]));
  const pes = branches.map((b) =>
    partialEval(
      b,
      knownIn,
      outKnown.map((k) => !k),
      st.remat,
    ),
  );
  const nKnown = count(outKnown);
  const resAvals = pes.flatMap((pe) => pe.known.program.outvars.slice(nKnown).map((v) => v.aval));
  const offsets = pes.map((_, k) => pes.slice(0, k).reduce((n, pe) => n + pe.known.program.outvars.length - nKnown, 0));
  const knownBranches = pes.map((pe, k) =>
    traceToProgram(
      "cond",
      pe.known.program.invars.map((v) => v.aval),
      (ins) => {
        const outs = evalProgram(pe.known.program, pe.known.consts, ins);
        const mine = outs.slice(nKnown);
        return [...outs.slice(0, nKnown), ...resAvals.map((a, j) => mine[j - offsets[k]!] ?? lax.zerosOf(a))];
      },
    ),
  );
  const nUnknownIn = count(unknown);
  const unknownBranches = pes.map((pe, k) => {
    const p = pe.unknown.program,
      nRes = p.invars.length - nUnknownIn;
    const lead = resAvals.map((a, j) => (j >= offsets[k]! && j < offsets[k]! + nRes ? p.invars[j - offsets[k]!]! : new Var(a)));
    return { program: new Program(p.constvars, [...lead, ...p.invars.slice(nRes)], p.eqns, p.outvars), consts: pe.unknown.consts };
  });
  const knownOuts = st.known(Prim.Cond, [index!, ...pick(ops, knownIn)], { branches: knownBranches });
  const residuals = knownOuts.slice(nKnown);
  const unknownOuts = st.unknown(Prim.Cond, [index!, ...residuals, ...pick(ops, unknown)], { branches: unknownBranches });
  return merge(outKnown, knownOuts, unknownOuts);
};

/**
 * scan: carries are unknown if any step makes them so (a fixpoint). The known loop runs now and
 * stacks one set of residuals per step; the unknown loop is recorded with them as extra xs. A
 * residual that is one of the known loop's constants (a weight matrix read by every step) is the
 * same at every step: it is passed once, as a constant of the unknown loop, instead of stacked.
 */
const scanRule: PartialRule<Prim.Scan> = (st, args, unknown, params) => {
  const { body, length, reverse, numConsts: nc, numCarry: k } = params;
  const known = unknown.map((u) => !u);
  let carryKnown = known.slice(nc, nc + k);
  for (;;) {
    const pe = partialEval(body, [...known.slice(0, nc), ...carryKnown, ...known.slice(nc + k)], undefined, st.remat);
    const next = carryKnown.map((c, i) => c && pe.outKnown[i]!);
    if (next.every((c, i) => c === carryKnown[i])) break;
    carryKnown = next;
  }
  const knownIn = [...known.slice(0, nc), ...carryKnown, ...known.slice(nc + k)];
  const ny = body.program.outvars.length - k;
  const pe = partialEval(body, knownIn, [...carryKnown.map((c) => !c), ...new Array<boolean>(ny).fill(false)], st.remat);
  const nKc = count(carryKnown),
    nKy = count(pe.outKnown.slice(k));
  const kc = count(known.slice(0, nc));
  const knownArgs = pick(args, knownIn);
  // Residuals the known loop reads from its constants (inputs or closed-over values) are invariant.
  const kp = pe.known.program,
    resVars = kp.outvars.slice(nKc + nKy);
  const invariant = resVars.map((v): NDArray | undefined => {
    const i = kp.invars.indexOf(v);
    if (i >= 0 && i < kc) return knownArgs[i];
    const c = kp.constvars.indexOf(v);
    return c >= 0 ? pe.known.consts[c] : undefined;
  });
  const inv = range(resVars.length).filter((r) => invariant[r] !== undefined),
    perStep = range(resVars.length).filter((r) => invariant[r] === undefined);
  const knownBody = {
    program: new Program(kp.constvars, kp.invars, kp.eqns, [...kp.outvars.slice(0, nKc + nKy), ...perStep.map((r) => resVars[r]!)]),
    consts: pe.known.consts,
  };
  const knownOuts = st.known(Prim.Scan, knownArgs, { body: knownBody, length, reverse, numConsts: kc, numCarry: nKc });
  const stacked = knownOuts.slice(nKc + nKy);
  // The unknown program's inputs are (residuals, unknown consts, unknown carry, unknown xs); a
  // scan wants (consts, carry, xs), with the invariant residuals among the consts and the
  // per-step ones among the xs.
  const nRes = resVars.length,
    uc = nc - kc,
    uk = k - nKc,
    ux = args.length - nc - k - count(knownIn.slice(nc + k));
  const order = [
    ...range(uc).map((i) => nRes + i),
    ...inv,
    ...range(uk).map((i) => nRes + uc + i),
    ...perStep,
    ...range(ux).map((i) => nRes + uc + uk + i),
  ];
  const unknownBody = permuteProgram(pe.unknown, order, range(pe.unknown.program.outvars.length));
  const unknownArgs = pick(args, knownIn, false);
  const unknownOuts = st.unknown(
    Prim.Scan,
    [...unknownArgs.slice(0, uc), ...inv.map((r) => invariant[r]!), ...unknownArgs.slice(uc, uc + uk), ...stacked, ...unknownArgs.slice(uc + uk)],
    {
      body: unknownBody,
      length,
      reverse,
      numConsts: uc + inv.length,
      numCarry: uk,
    },
  );
  const carryOut = merge(carryKnown, knownOuts.slice(0, nKc), unknownOuts.slice(0, uk));
  const ysOut = merge(pe.outKnown.slice(k), knownOuts.slice(nKc, nKc + nKy), unknownOuts.slice(uk));
  return [...carryOut, ...ysOut];
};

/**
 * while: the carries that stay known (a fixpoint) are computed now by a loop over the known half
 * of the body, provided the predicate reads only those. The unknown carries come from the whole
 * loop, recorded, which recomputes the known ones as it goes (a while loop keeps no per-step
 * residuals). That recorded loop is not linear, so linearize works and transposition refuses.
 */
const whileRule: PartialRule<Prim.While> = (st, args, unknown, params) => {
  const { cond, body, condConsts: nc, bodyConsts: nb } = params;
  const knownCc = unknown.slice(0, nc).map((u) => !u),
    knownBc = unknown.slice(nc, nc + nb).map((u) => !u);
  let carryKnown = unknown.slice(nc + nb).map((u) => !u);
  for (;;) {
    const pe = partialEval(body, [...knownBc, ...carryKnown], undefined, st.remat);
    const next = carryKnown.map((c, i) => c && pe.outKnown[i]!);
    if (next.every((c, i) => c === carryKnown[i])) break;
    carryKnown = next;
  }
  const peCond = partialEval(cond, [...knownCc, ...carryKnown], undefined, st.remat);
  if (!peCond.outKnown[0] || !carryKnown.some((c) => c)) return st.unknown(Prim.While, args, params);
  const peBody = partialEval(
    body,
    [...knownBc, ...carryKnown],
    carryKnown.map((c) => !c),
    st.remat,
  );
  const carry = args.slice(nc + nb);
  const knownOuts = st.known(
    Prim.While,
    [...pick(args.slice(0, nc), knownCc), ...pick(args.slice(nc, nc + nb), knownBc), ...pick(carry, carryKnown)],
    {
      cond: knownOnly(peCond),
      body: knownOnly(peBody),
      condConsts: count(knownCc),
      bodyConsts: count(knownBc),
    },
  );
  const all = st.unknown(Prim.While, args, params);
  return merge(carryKnown, knownOuts, pick(all, carryKnown, false));
};

/**
 * A custom-rule call with some known operands. Its rule has already been applied by the
 * derivative that led here, so only its value matters: it splits like a compiled call.
 */
function customCallRule<P extends Prim.CustomJvpCall | Prim.CustomVjpCall>(): PartialRule<P> {
  return (st, args, unknown, params) => jitCallRule(st, args, unknown, { program: params.fun, name: params.name });
}

/** Records the equation on the unknown side (first-order primitives, custom_lin). */
const record =
  <P extends Prim>(prim: P): PartialRule<P> =>
  (st, args, _unknown, params) =>
    st.unknown(prim, args, params);

/** Every primitive's partial-evaluation rule, used when an equation reads at least one unknown value. */
export const partialRules: PartialRules = {
  [Prim.Add]: record(Prim.Add),
  [Prim.Sub]: record(Prim.Sub),
  [Prim.Neg]: record(Prim.Neg),
  [Prim.ConvertElementType]: record(Prim.ConvertElementType),
  [Prim.SelectN]: record(Prim.SelectN),
  [Prim.Mul]: record(Prim.Mul),
  [Prim.Div]: record(Prim.Div),
  [Prim.Exp]: record(Prim.Exp),
  [Prim.Log]: record(Prim.Log),
  [Prim.Log1p]: record(Prim.Log1p),
  [Prim.Expm1]: record(Prim.Expm1),
  [Prim.Sin]: record(Prim.Sin),
  [Prim.Cos]: record(Prim.Cos),
  [Prim.Tanh]: record(Prim.Tanh),
  [Prim.Atan]: record(Prim.Atan),
  [Prim.Logistic]: record(Prim.Logistic),
  [Prim.Sqrt]: record(Prim.Sqrt),
  [Prim.Rsqrt]: record(Prim.Rsqrt),
  [Prim.Abs]: record(Prim.Abs),
  [Prim.Pow]: record(Prim.Pow),
  [Prim.Max]: record(Prim.Max),
  [Prim.Min]: record(Prim.Min),
  [Prim.Sign]: record(Prim.Sign),
  [Prim.Floor]: record(Prim.Floor),
  [Prim.Eq]: record(Prim.Eq),
  [Prim.Ne]: record(Prim.Ne),
  [Prim.Lt]: record(Prim.Lt),
  [Prim.Le]: record(Prim.Le),
  [Prim.Gt]: record(Prim.Gt),
  [Prim.Ge]: record(Prim.Ge),
  [Prim.And]: record(Prim.And),
  [Prim.Or]: record(Prim.Or),
  [Prim.Not]: record(Prim.Not),
  [Prim.Xor]: record(Prim.Xor),
  [Prim.ShiftLeft]: record(Prim.ShiftLeft),
  [Prim.ShiftRightLogical]: record(Prim.ShiftRightLogical),
  [Prim.BitcastConvertType]: record(Prim.BitcastConvertType),
  [Prim.StopGradient]: record(Prim.StopGradient),
  [Prim.ReduceSum]: record(Prim.ReduceSum),
  [Prim.ReduceMax]: record(Prim.ReduceMax),
  [Prim.ReduceMin]: record(Prim.ReduceMin),
  [Prim.ArgMax]: record(Prim.ArgMax),
  [Prim.ArgMin]: record(Prim.ArgMin),
  [Prim.Cumsum]: record(Prim.Cumsum),
  [Prim.Argsort]: record(Prim.Argsort),
  [Prim.ConvGeneralDilated]: record(Prim.ConvGeneralDilated),
  [Prim.BroadcastInDim]: record(Prim.BroadcastInDim),
  [Prim.Reshape]: record(Prim.Reshape),
  [Prim.Transpose]: record(Prim.Transpose),
  [Prim.Rev]: record(Prim.Rev),
  [Prim.Slice]: record(Prim.Slice),
  [Prim.Pad]: record(Prim.Pad),
  [Prim.Concatenate]: record(Prim.Concatenate),
  [Prim.Gather]: record(Prim.Gather),
  [Prim.ScatterAdd]: record(Prim.ScatterAdd),
  [Prim.Scatter]: record(Prim.Scatter),
  [Prim.DynamicSlice]: record(Prim.DynamicSlice),
  [Prim.DynamicUpdateSlice]: record(Prim.DynamicUpdateSlice),
  [Prim.DotGeneral]: record(Prim.DotGeneral),
  [Prim.Cholesky]: record(Prim.Cholesky),
  [Prim.TriangularSolve]: record(Prim.TriangularSolve),
  [Prim.Lu]: record(Prim.Lu),
  [Prim.Qr]: record(Prim.Qr),
  [Prim.Eigh]: record(Prim.Eigh),
  [Prim.Svd]: record(Prim.Svd),
  [Prim.CustomLin]: record(Prim.CustomLin),
  [Prim.JitCall]: jitCallRule,
  [Prim.DebugCallback]: record(Prim.DebugCallback),
  [Prim.Remat]: rematRule,
  [Prim.Cond]: condRule,
  [Prim.Scan]: scanRule,
  [Prim.While]: whileRule,
  [Prim.CustomJvpCall]: customCallRule<Prim.CustomJvpCall>(),
  [Prim.CustomVjpCall]: customCallRule<Prim.CustomVjpCall>(),
};

installPartialRules(partialRules);
