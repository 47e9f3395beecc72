/**
 * jit and makeJaxpr. `jit(f)` stages f once per input signature (tree structure, shapes, dtypes,
 * weak types of JS numbers, static argument values) into a program, caches it, and binds a
 * `jit_call` primitive with it — so under grad, vmap or another jit the call stays one compiled
 * unit (each interpreter has a jit_call rule), and eagerly it runs the compiled program.
 */
import { ArgumentError, describe } from "../core/errors.js";
import { baseInterpreter, bind, withInterpreter } from "../core/interpreter.js";
import { ConcreteArray, NDArray, type Tracer } from "../core/ndarray.js";
import { Prim } from "../core/prim.js";
import { type ClosedProgram, type Program, dedupeScalarConsts } from "../ir/ir.js";
import { StageInterpreter } from "../ir/trace.js";
import { setStageCompiler } from "../core/staged.js";
import { type TreeDef, flatten, unflatten } from "../tree.js";
import { checkFn, checkOptions, flattenArrays, leafArray } from "./args.js";
import type { Fn, Inputs } from "../types.js";
import { type Plan, fits, makePlan } from "./signature.js";

export interface JitOptions {
  /** Positions of arguments that are static: part of the cache key, passed to f as plain values. */
  staticArgnums?: number | number[];
  /** Run the compiled program on this device ("webgpu" after `await devices()`); CPU inputs are uploaded. */
  device?: string;
  /**
   * How many traced signatures this function keeps (least recently used dropped first); default 64.
   * A function called with ever new shapes then holds bounded memory.
   */
  cacheSize?: number;
}

/** Default number of signatures a jitted function keeps compiled. */
export const DEFAULT_JIT_CACHE_SIZE = 64;
/** Signature plans a jitted function tries before building a key: its most recent distinct calls. */
const PLANS = 4;

/** A staged program with its constants; `String(x)` prints the program. */
export class StagedProgram implements ClosedProgram {
  constructor(
    readonly program: Program,
    readonly consts: readonly NDArray[],
  ) {}
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

/** Identities of static functions and objects: a static key names them by a number, as JAX hashes by id. */
const identities = new WeakMap<object, number>();
let nextIdentity = 0;

/**
 * The cache key of one static argument: primitives by value; plain lists and objects by their
 * contents (themselves keyed the same way); functions, class instances and symbols by identity, so
 * `f(x, np.sin)` and `f(x, np.cos)` trace separately. Arrays and cyclic values are refused.
 */
function staticKey(fn: string, v: unknown, depth = 0): string {
  switch (typeof v) {
    case "number":
      return Object.is(v, -0) ? "n:-0" : `n:${v}`;
    case "string":
      return `s:${JSON.stringify(v)}`;
    case "boolean":
      return `b:${v}`;
    case "undefined":
      return "u";
    case "bigint":
      return `i:${v}`;
    case "symbol":
      return `y:${identityOf(v)}`;
    case "function":
      return `f:${identityOf(v)}`;
  }
  if (v === null) return "null";
  if (v instanceof NDArray) {
    throw new ArgumentError(
      `${fn}: a static argument is an array (${v.dtype}[${v.shape}]); arrays are not hashable, so pass it as a dynamic argument (leave it out of staticArgnums)`,
    );
  }
  if (depth > 32)
    throw new ArgumentError(`${fn}: a static argument is nested deeper than 32 levels or contains itself; static arguments must be hashable`);
  if (Array.isArray(v)) return `[${v.map((x) => staticKey(fn, x, depth + 1)).join(",")}]`;
  const proto = Object.getPrototypeOf(v);
  if (proto === Object.prototype || proto === null) {
    return `{${Object.keys(v as object)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${staticKey(fn, (v as Record<string, unknown>)[k], depth + 1)}`)
      .join(",")}}`;
  }
  return `o:${identityOf(v as object)}`;
}

const symbols = new Map<symbol, number>();
function identityOf(v: object | symbol): number {
  if (typeof v === "symbol") {
    let id = symbols.get(v);
    if (id === undefined) symbols.set(v, (id = nextIdentity++));
    return id;
  }
  let id = identities.get(v);
  if (id === undefined) identities.set(v, (id = nextIdentity++));
  return id;
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
    const [outs, outDef] = flattenArrays(
      name,
      "the output of f",
      withInterpreter(stage, () => f(...full)),
    );
    const [program, lifted] = stage.buildLifted(outs);
    return { program: dedupeScalarConsts(program), outDef, lifted };
  } finally {
    stage.tag.alive = false;
  }
}

function normStatics(fn: string, staticArgnums: number | number[] | undefined): number[] {
  const list = staticArgnums === undefined ? [] : typeof staticArgnums === "number" ? [staticArgnums] : staticArgnums;
  if (!Array.isArray(list))
    throw new ArgumentError(`${fn}: staticArgnums must be a non-negative integer or a list of them, got ${describe(staticArgnums)}`);
  for (const i of list)
    if (!Number.isInteger(i) || i < 0) throw new ArgumentError(`${fn}: staticArgnums must be non-negative integers, got ${describe(staticArgnums)}`);
  return list;
}

/** Compiles f: traced once per input signature, then run as one compiled program. */
export function jit<F extends Fn>(f: F, options?: JitOptions): F;
export function jit<F extends LooseFn>(f: F, options: JitOptions = {}): F {
  checkFn("jit", f);
  checkOptions("jit", options, ["staticArgnums", "device", "cacheSize"]);
  const statics = normStatics("jit", options.staticArgnums);
  const limit = options.cacheSize ?? DEFAULT_JIT_CACHE_SIZE;
  if (!Number.isSafeInteger(limit) || limit < 0) throw new ArgumentError(`jit: cacheSize must be a non-negative integer, got ${describe(limit)}`);
  if (options.device !== undefined && typeof options.device !== "string")
    throw new ArgumentError(`jit: device must be a string such as "cpu" or "webgpu", got ${describe(options.device)}`);
  const name = f.name || "jit";
  // A Map iterates in insertion order: a hit is moved to the back, the front is the least recently used.
  const cache = new Map<string, Traced>();
  const plans: { plan: Plan; key: string }[] = [];
  /** The cached entry of a call that fits a recent plan (no statics), with its leaves; else null. */
  const planned = (args: unknown[]): [Traced, NDArray[]] | null => {
    for (let i = 0; i < plans.length; i++) {
      const p = plans[i]!;
      const raw: unknown[] = [];
      if (!fits(p.plan, args, raw)) continue;
      const entry = cache.get(p.key);
      if (entry === undefined) {
        // Its signature was evicted from the cache: the key path traces it again (and adds a plan).
        plans.splice(i, 1);
        return null;
      }
      cache.delete(p.key);
      cache.set(p.key, entry);
      return [entry, raw.map((l) => leafArray("jit", "the arguments", l))];
    }
    return null;
  };
  const jitted = (...args: unknown[]) => {
    for (const i of statics)
      if (i >= args.length) throw new ArgumentError(`jit: staticArgnums ${i} is out of range for a call with ${args.length} argument(s)`);
    let hit = statics.length === 0 && plans.length > 0 ? planned(args) : null;
    let lifted: Tracer[] = [];
    if (hit === null) {
      const { leaves, def, key } = signature("jit", args, statics);
      let entry = cache.get(key);
      if (entry !== undefined) {
        cache.delete(key);
        cache.set(key, entry);
      } else {
        entry = trace(name, f, args, statics, leaves, def);
        lifted = entry.lifted;
        // A program that closes over another transform's tracers is specific to this call.
        if (lifted.length === 0 && limit > 0) {
          if (cache.size >= limit) cache.delete(cache.keys().next().value!);
          cache.set(key, entry);
        }
      }
      if (statics.length === 0 && cache.get(key) === entry) {
        const plan = makePlan(args);
        if (plan !== null) {
          plans.unshift({ plan, key });
          if (plans.length > PLANS) plans.pop();
        }
      }
      hit = [entry, leaves];
    }
    const [entry, leaves] = hit;
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
  checkFn("makeJaxpr", f);
  checkOptions("makeJaxpr", options, ["staticArgnums", "device", "cacheSize"]);
  const statics = normStatics("makeJaxpr", options.staticArgnums);
  return (...args: unknown[]) => {
    const { leaves, def } = signature("makeJaxpr", args, statics);
    const { program } = trace(f.name || "makeJaxpr", f, args, statics, leaves, def);
    return new StagedProgram(program.program, program.consts);
  };
}

// Library functions called eagerly (random's samplers, nn's composites, np.var/std/prod) run as
// cached jitted programs.
setStageCompiler((f) => jit(f, { cacheSize: 4 }));
