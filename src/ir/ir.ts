/**
 * The staged program representation: typed equations over variables. A `Program` is what staging
 * records (linearize's linear part now, jit later); `evalProgram` replays one on the current
 * interpreter, so a program can itself be differentiated, batched or evaluated.
 */
import { abstractEval } from "../core/abstract_eval.js";
import { bind } from "../core/interpreter.js";
import { type Aval, type NDArray, fmtAval } from "../core/ndarray.js";
import { EFFECTFUL, type Prim, type PrimParams } from "../core/prim.js";
import { ShapeError } from "../core/errors.js";
import { shapeEq } from "../core/shape.js";

let nextId = 0;

/** A value in a program, defined once: an input, a constant, or an equation's output. */
export class Var {
  readonly id = nextId++;
  readonly aval: Aval;
  constructor(aval: Aval) {
    // Copy: an abstract rule may hand back an operand (a tracer) as the output aval.
    this.aval = { shape: aval.shape.slice(), dtype: aval.dtype };
  }
}

export interface Eqn<P extends Prim = Prim> {
  readonly prim: P;
  readonly inputs: readonly Var[];
  readonly params: PrimParams[P];
  readonly outvars: readonly Var[];
}

export class Program {
  constructor(
    readonly constvars: readonly Var[],
    readonly invars: readonly Var[],
    readonly eqns: readonly Eqn[],
    readonly outvars: readonly Var[],
  ) {}

  /**
   * A readable listing: `{ lambda c:f32[3] ; a:f32[3] . let b:f32[3] = mul a c in ( b ) }`. Given
   * the constants' values, scalar constants print inline as literals (`mul a 2.0:f32[]`).
   */
  toString(consts?: readonly { shape: readonly number[]; dtype: string; item?: () => number; toConcrete?: unknown }[]): string {
    const names = new Map<Var, string>();
    this.constvars.forEach((v, i) => {
      const c = consts?.[i] as { item?: () => number } | undefined;
      if (c !== undefined && v.aval.shape.length === 0 && typeof c.item === "function") {
        try {
          const x = c.item();
          names.set(v, `${Number.isInteger(x) && v.aval.dtype.startsWith("float") ? x.toFixed(1) : x}:${fmtAval(v.aval)}`);
        } catch {
          // a device or traced constant keeps its name
        }
      }
    });
    let next = 0;
    const name = (v: Var): string => {
      let n = names.get(v);
      if (n === undefined) {
        let i = next++;
        n = "";
        do {
          n = String.fromCharCode(97 + (i % 26)) + n;
          i = Math.floor(i / 26) - 1;
        } while (i >= 0);
        names.set(v, n);
      }
      return n;
    };
    const decl = (v: Var) => `${name(v)}:${fmtAval(v.aval)}`;
    const consts_ = this.constvars
      .filter((v) => !names.has(v))
      .map(decl)
      .join(" ");
    const lines = [`{ lambda ${consts_ ? `${consts_} ` : ""}; ${this.invars.map(decl).join(" ")} . let`];
    for (const e of this.eqns) {
      const ps = Object.entries(e.params as object)
        .map(([k, v]) => `${k}=${fmtParam(v)}`)
        .join(" ");
      lines.push(`    ${e.outvars.map(decl).join(" ")} = ${e.prim}${ps ? `[${ps}]` : ""} ${e.inputs.map(name).join(" ")}`);
    }
    lines.push(`  in ( ${this.outvars.map(name).join(" ")} ) }`);
    return lines.join("\n");
  }
}

/** Whether a param value is a closed program (a body, a branch, a called program). */
export const isClosedProgram = (x: unknown): x is ClosedProgram =>
  typeof x === "object" && x !== null && (x as ClosedProgram).program instanceof Program;

/** The programs an equation's params carry, alone or in lists (bodies, branches, called programs). */
export function nestedPrograms(params: object): Program[] {
  return Object.values(params)
    .flatMap((v: unknown) => (Array.isArray(v) ? v : [v]))
    .filter(isClosedProgram)
    .map((c) => c.program);
}

/** A param for printing: nested programs indented, functions by name. */
function fmtParam(v: unknown): string {
  if (isClosedProgram(v)) return `\n${String(v.program).replace(/^/gm, "      ")}\n    `;
  if (Array.isArray(v) && v.some(isClosedProgram)) return `[${v.map(fmtParam).join(",")}]`;
  if (typeof v === "function") return `<${v.name || "fn"}>`;
  return JSON.stringify(v);
}

/** A program with the values of its constvars. */
export interface ClosedProgram {
  readonly program: Program;
  readonly consts: readonly NDArray[];
}

/** The same program with inputs and outputs reordered: new input i is old input `inOrder[i]`. */
export function permuteProgram(cp: ClosedProgram, inOrder: readonly number[], outOrder: readonly number[]): ClosedProgram {
  const p = cp.program;
  return {
    program: new Program(
      p.constvars,
      inOrder.map((i) => p.invars[i]!),
      p.eqns,
      outOrder.map((i) => p.outvars[i]!),
    ),
    consts: cp.consts,
  };
}

/** Drops equations none of whose outputs reach a program output (one backward sweep). */
export function dce(p: Program): Program {
  const live = new Set<Var>(p.outvars);
  const kept: Eqn[] = [];
  for (let k = p.eqns.length - 1; k >= 0; k--) {
    const e = p.eqns[k]!;
    if (!EFFECTFUL.has(e.prim) && !e.outvars.some((v) => live.has(v))) continue;
    kept.push(e);
    for (const v of e.inputs) live.add(v);
  }
  kept.reverse();
  return kept.length === p.eqns.length ? p : new Program(p.constvars, p.invars, kept, p.outvars);
}

/** Indices of `mask`'s true entries. */
export const where = (mask: readonly boolean[]): number[] => mask.flatMap((b, i) => (b ? [i] : []));

/** Runs a program by binding each equation on the current interpreter. Iterative. */
export function evalProgram(p: Program, consts: readonly NDArray[], args: readonly NDArray[]): NDArray[] {
  const env = new Map<Var, NDArray>();
  p.constvars.forEach((v, i) => env.set(v, consts[i]!));
  p.invars.forEach((v, i) => env.set(v, args[i]!));
  for (const e of p.eqns) {
    const outs = bind(
      e.prim,
      e.inputs.map((v) => env.get(v)!),
      e.params,
    );
    e.outvars.forEach((v, i) => env.set(v, outs[i]!));
  }
  return p.outvars.map((v) => env.get(v)!);
}

/** Validates every equation's shapes and dtypes against the abstract rules. */
export function checkProgram(p: Program): void {
  const defined = new Set<Var>([...p.constvars, ...p.invars]);
  for (const e of p.eqns) {
    for (const v of e.inputs) if (!defined.has(v)) throw new ShapeError(`checkProgram: ${e.prim} reads an undefined variable`);
    const outs = abstractEval(
      e.prim,
      e.inputs.map((v) => v.aval),
      e.params,
    );
    outs.forEach((a, i) => {
      const v = e.outvars[i]!;
      if (!shapeEq(a.shape, v.aval.shape) || a.dtype !== v.aval.dtype) {
        throw new ShapeError(`checkProgram: ${e.prim} produces ${fmtAval(a)} but its variable is ${fmtAval(v.aval)}`);
      }
      defined.add(v);
    });
  }
  for (const v of p.outvars) if (!defined.has(v)) throw new ShapeError("checkProgram: an output is undefined");
}

/**
 * Merges scalar constants of equal dtype and value (`x * 2 + 2` closes over one `2`), so a program
 * that uses a literal many times holds and passes it once. Non-scalar and non-concrete constants
 * are kept as they are.
 */
export function dedupeScalarConsts(cp: ClosedProgram): ClosedProgram {
  const p = cp.program;
  const keep: Var[] = [],
    keepConsts: NDArray[] = [];
  const seen = new Map<string, Var>();
  const alias = new Map<Var, Var>();
  p.constvars.forEach((v, i) => {
    const c = cp.consts[i]!;
    const values = (c as { values?: ArrayLike<number> }).values;
    if (v.aval.shape.length === 0 && values !== undefined && values.length === 1) {
      const x = values[0]!;
      const key = `${v.aval.dtype}:${Object.is(x, -0) ? "-0" : x}`;
      const first = seen.get(key);
      if (first !== undefined) {
        alias.set(v, first);
        return;
      }
      seen.set(key, v);
    }
    keep.push(v);
    keepConsts.push(c);
  });
  if (alias.size === 0) return cp;
  const sub = (v: Var) => alias.get(v) ?? v;
  const eqns = p.eqns.map((e) => (e.inputs.some((v) => alias.has(v)) ? { ...e, inputs: e.inputs.map(sub) } : e));
  return { program: new Program(keep, p.invars, eqns, p.outvars.map(sub)), consts: keepConsts };
}
