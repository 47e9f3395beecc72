/**
 * Dispatch. `bind(prim, args, params)` hands a primitive to the *current* interpreter, which
 * decides what it means. Interpreters stack through `parent`: while an interpreter's rule runs,
 * the current interpreter is its parent. The bottom of every stack is the evaluator that the
 * façade installs with `setBaseInterpreter`.
 */
import { ArgumentError, EscapedTracerError, describe } from "./errors.js";
import { type NDArray, Tracer, fmtAval } from "./ndarray.js";
import { checkBind } from "./params.js";
import type { Prim, PrimParams } from "./prim.js";

/**
 * A handler for primitives. Write your own to give programs a new meaning (a FLOP counter, interval
 * arithmetic...): implement `process`, bind on `parent` for what you do not handle, and run a
 * function under it with `withInterpreter`.
 */
export interface Interpreter {
  /** The interpreter this one runs its own rules on; null only for the base evaluator. */
  readonly parent: Interpreter | null;
  /** Performs `prim` on `args`; returns its outputs. Runs with `current` set to this interpreter. */
  process<P extends Prim>(prim: P, args: readonly NDArray[], params: PrimParams[P]): NDArray[];
}

let base: Interpreter | null = null;
let current: Interpreter | null = null;

export function setBaseInterpreter(interp: Interpreter): void {
  base = interp;
  if (current === null) current = interp;
}

export function currentInterpreter(): Interpreter {
  if (current === null) throw new Error("fluxion: no base interpreter installed; import from the package root");
  return current;
}

export function baseInterpreter(): Interpreter {
  return base ?? currentInterpreter();
}

/** Runs `fn` with `interp` as the current interpreter. */
export function withInterpreter<T>(interp: Interpreter, fn: () => T): T {
  if (typeof interp !== "object" || interp === null || typeof interp.process !== "function") {
    throw new ArgumentError(`withInterpreter: interp must be an Interpreter (an object with a process method), got ${describe(interp)}`);
  }
  if (typeof fn !== "function") throw new ArgumentError(`withInterpreter: fn must be a function, got ${describe(fn)}`);
  const saved = enterInterpreter(interp);
  try {
    return fn();
  } finally {
    leaveInterpreter(saved);
  }
}

/**
 * `withInterpreter` for fluxion's own interpreters, which run a rule per primitive: no checks and
 * no closure. Makes `interp` current and returns the interpreter to restore with `leaveInterpreter`
 * (in a `finally`).
 */
export function enterInterpreter(interp: Interpreter): Interpreter | null {
  const saved = current;
  current = interp;
  return saved;
}
export function leaveInterpreter(saved: Interpreter | null): void {
  current = saved;
}

/**
 * Binds a primitive on the current interpreter. The primitive, its operands and its params are
 * checked here, the one door every call passes, before any rule or code generator sees them.
 */
export function bind<P extends Prim>(prim: P, args: readonly NDArray[], params: PrimParams[P]): NDArray[] {
  checkBind(prim, params, args);
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a instanceof Tracer && !a.tag.alive) throw escapedError(prim, a);
  }
  return current!.process(prim, args, params);
}

/** Binds a single-output primitive. */
export function bind1<P extends Prim>(prim: P, args: readonly NDArray[], params: PrimParams[P]): NDArray {
  return bind(prim, args, params)[0]!;
}

export function escapedError(prim: Prim | string, t: Tracer): EscapedTracerError {
  return new EscapedTracerError(
    `${prim}: a ${t.tag.transform} tracer (${fmtAval(t)}) outlived its transform; return it from ` +
      `the transformed function instead of storing it outside`,
  );
}
