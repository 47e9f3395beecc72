/**
 * Staging user functions into closed programs for higher-order primitives (control flow, custom
 * rules, checkpoint). Tracers of enclosing transforms that a body closes over are lifted into
 * leading program inputs, so the primitive receives them as ordinary operands and every
 * interpreter sees them.
 */
import { baseInterpreter, withInterpreter } from "../core/interpreter.js";
import type { Aval, NDArray, Tracer } from "../core/ndarray.js";
import { type ClosedProgram, Program, Var } from "./ir.js";
import { StageInterpreter } from "./trace.js";

export interface Closure {
  /** Inputs: the lifted tracers' values, then the declared inputs. */
  cp: ClosedProgram;
  lifted: Tracer[];
}

/** Stages `fn` on abstract inputs of `avals`. */
export function traceClosure(name: string, avals: readonly Aval[], fn: (ins: NDArray[]) => NDArray[]): Closure {
  const stage = new StageInterpreter(baseInterpreter(), name, "all");
  const ins = avals.map((a) => stage.newInput(a));
  try {
    const outs = withInterpreter(stage, () => fn(ins));
    const [cp, lifted] = stage.buildLifted(outs);
    const p = cp.program,
      n = avals.length;
    const program = new Program(p.constvars, [...p.invars.slice(n), ...p.invars.slice(0, n)], p.eqns, p.outvars);
    return { cp: { program, consts: cp.consts }, lifted };
  } finally {
    stage.tag.alive = false;
  }
}

/** Gives closures that lifted different tracers one shared list of leading inputs. */
export function unifyLifted(closures: readonly Closure[]): { cps: ClosedProgram[]; lifted: Tracer[] } {
  const lifted: Tracer[] = [];
  for (const c of closures) for (const t of c.lifted) if (!lifted.includes(t)) lifted.push(t);
  const cps = closures.map(({ cp, lifted: own }) => {
    const p = cp.program;
    const lead = lifted.map((t) => {
      const i = own.indexOf(t);
      return i >= 0 ? p.invars[i]! : new Var(t);
    });
    return { program: new Program(p.constvars, [...lead, ...p.invars.slice(own.length)], p.eqns, p.outvars), consts: cp.consts };
  });
  return { cps, lifted };
}
