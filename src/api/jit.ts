/**
 * jit and makeJaxpr. `jit(f)` stages f once per input signature (tree structure, shapes, dtypes,
 * weak types of JS numbers, static argument values) into a program, caches it, and binds a
 * `jit_call` primitive with it — so under grad, vmap or another jit the call stays one compiled
 * unit (each interpreter has a jit_call rule), and eagerly it runs the compiled program.
 */
import { ArgumentError } from "../core/errors.js";
import { baseInterpreter, bind, withInterpreter } from "../core/interpreter.js";
import { ConcreteArray, NDArray, type Tracer } from "../core/ndarray.js";
import { Prim } from "../core/prim.js";
import type { ClosedProgram, Program } from "../ir/ir.js";
import { StageInterpreter } from "../ir/trace.js";
import { type TreeDef, flatten, unflatten } from "../tree.js";
import { flattenArrays, leafArray } from "./args.js";
import type { Fn, Inputs } from "../types.js";

export interface JitOptions {
  /** Positions of arguments that are static: part of the cache key, passed to f as plain values. */
  staticArgnums?: number | number[];
  /** Run the compiled program on this device ("webgpu" after `await devices()`); CPU inputs are uploaded. */
  device?: string;
}

/** A staged program with its constants; `String(x)` prints the program. */
export class StagedProgram implements ClosedProgram {
  constructor(readonly program: Program, readonly consts: readonly NDArray[]) {}
  toString(): string {
    return this.program.toString(this.consts);
  }
}

interface Traced {
  program: ClosedProgram;
  outDef: TreeDef;
  lifted: Tracer[];
}

type LooseFn = (...args: any[]) => any;

function staticKey(fn: string, v: unknown): string {
  if (v === null || ["number", "string", "boolean", "undefined", "bigint"].includes(typeof v)) return `${typeof v}:${String(v)}`;
  try {
    return `json:${JSON.stringify(v)}`;
  } catch {
    throw new ArgumentError(`${fn}: static argument ${String(v)} is not hashable; pass numbers, strings, booleans or JSON-like values`);
  }
}

/** Splits args into the dynamic leaves (as arrays, JS numbers weakly typed) and a signature key. */
function signature(fn: string, args: unknown[], statics: number[]): { leaves: NDArray[]; def: TreeDef; key: string } {
  const dyn = args.map((a, i) => (statics.includes(i) ? null : a));
  const [raw, def] = flatten(dyn);
  const leaves = raw.map((l) => leafArray(fn, "the arguments", l));
  const parts = raw.map((l, i) => `${leaves[i]!.dtype}[${leaves[i]!.shape}]${l instanceof NDArray ? "" : "w"}`);
  const key = `${def}|${parts.join(",")}|${statics.map((i) => staticKey(fn, args[i])).join(",")}`;
  return { leaves, def, key };
}

/** Stages `f` on abstract versions of `leaves`. */
function trace(name: string, f: LooseFn, args: unknown[], statics: number[], leaves: NDArray[], def: TreeDef): Traced {
  const stage = new StageInterpreter(baseInterpreter(), name, "all");
  const ins = leaves.map((x) => stage.newInput(x));
  try {
    const dyn = unflatten(def, ins) as unknown[];
    const full = args.map((a, i) => (statics.includes(i) ? a : dyn[i]));
    const [outs, outDef] = flattenArrays(name, "the output of f", withInterpreter(stage, () => f(...full)));
    const [program, lifted] = stage.buildLifted(outs);
    return { program, outDef, lifted };
  } finally {
    stage.tag.alive = false;
  }
}

function normStatics(fn: string, staticArgnums: number | number[] | undefined): number[] {
  const list = staticArgnums === undefined ? [] : typeof staticArgnums === "number" ? [staticArgnums] : staticArgnums;
  for (const i of list) if (!Number.isInteger(i) || i < 0) throw new ArgumentError(`${fn}: staticArgnums must be non-negative integers, got ${JSON.stringify(staticArgnums)}`);
  return list;
}

/** Compiles f: traced once per input signature, then run as one compiled program. */
export function jit<F extends Fn>(f: F, options?: JitOptions): F;
export function jit<F extends LooseFn>(f: F, options: JitOptions = {}): F {
  const statics = normStatics("jit", options.staticArgnums);
  const name = f.name || "jit";
  const cache = new Map<string, Traced>();
  const jitted = (...args: unknown[]) => {
    for (const i of statics) if (i >= args.length) throw new ArgumentError(`jit: staticArgnums ${i} is out of range for a call with ${args.length} argument(s)`);
    const { leaves, def, key } = signature("jit", args, statics);
    let entry = cache.get(key);
    let lifted: Tracer[] = [];
    if (entry === undefined) {
      entry = trace(name, f, args, statics, leaves, def);
      lifted = entry.lifted;
      // A program that closes over another transform's tracers is specific to this call.
      if (lifted.length === 0) cache.set(key, entry);
    }
    const device = options.device;
    const placed = device === undefined ? leaves : leaves.map((l) => (l instanceof ConcreteArray && device !== "cpu" ? l.to(device) : l));
    const outs = bind(Prim.JitCall, [...placed, ...lifted], { program: entry.program, name });
    return unflatten(entry.outDef, outs);
  };
  return jitted as F;
}

/** `makeJaxpr(f)(...args)`: the program f stages to, printable with `String(...)`. */
export function makeJaxpr<F extends Fn>(f: F, options?: JitOptions): (...args: Inputs<Parameters<F>>) => StagedProgram;
export function makeJaxpr(f: LooseFn, options: JitOptions = {}): (...args: unknown[]) => StagedProgram {
  const statics = normStatics("makeJaxpr", options.staticArgnums);
  return (...args: unknown[]) => {
    const { leaves, def } = signature("makeJaxpr", args, statics);
    const { program } = trace(f.name || "makeJaxpr", f, args, statics, leaves, def);
    return new StagedProgram(program.program, program.consts);
  };
}

