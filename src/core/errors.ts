/**
 * The typed errors of fluxion. Every error a user can provoke is a subclass of `FluxionError`, and its
 * message names the function, the argument, the shapes/dtypes involved and what to do instead.
 * This module knows nothing else of the library.
 */

/** Base class of every error fluxion raises on bad input or misuse. */
export class FluxionError extends Error {
  override name = "FluxionError";
}

/** Shapes that do not fit together: broadcasting, reshape sizes, axis out of range, matmul dims. */
export class ShapeError extends FluxionError {
  override name = "ShapeError";
}

/** A dtype that is unknown or not allowed here (grad of an int32 input, bool arithmetic, ...). */
export class DTypeError extends FluxionError {
  override name = "DTypeError";
}

/** An argument that is malformed in some other way (a bad option, a wrong tree structure, ...). */
export class ArgumentError extends FluxionError {
  override name = "ArgumentError";
}

/** A tracer used after the transform that made it has returned. */
export class EscapedTracerError extends FluxionError {
  override name = "EscapedTracerError";
}

/** A traced value used where a concrete JS value is needed (an `if`, `.item()`) under vmap or jit. */
export class ConcretizationError extends FluxionError {
  override name = "ConcretizationError";
}

/**
 * Transposition met a linear value used nonlinearly. Partial evaluation keeps every nonlinear use
 * on the known side, so this means a bug in fluxion (or a hand-made linear program that is not).
 */
export class LinearityError extends FluxionError {
  override name = "LinearityError";
}

/** vmap inputs whose batch axes disagree in size, or no batched input at all. */
export class BatchError extends FluxionError {
  override name = "BatchError";
}

/** The error for forward-mode differentiation through a function that only has a custom vjp. */
export function customVjpForwardError(name: string): ArgumentError {
  return new ArgumentError(
    `${name}: a customVjp function has no forward-mode derivative; jvp, jacfwd and hessian need a ` +
      `customJvp rule (reverse mode with grad/vjp works)`,
  );
}

/**
 * A short description of any value for an error message, without calling user code (no
 * `toString`/`valueOf`, no getters) and without throwing on symbols, null-prototype or cyclic objects.
 */
export function describe(v: unknown, depth = 0): string {
  switch (typeof v) {
    case "string":
      return JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}...` : v);
    case "number":
      return Object.is(v, -0) ? "-0" : String(v);
    case "boolean":
    case "undefined":
      return String(v);
    case "bigint":
      return `${v}n`;
    case "symbol":
      return "a symbol";
    case "function":
      return "a function";
  }
  if (v === null) return "null";
  if (Array.isArray(v)) {
    return v.length <= 8 && depth < 2 ? `[${Array.from(v, (x) => describe(x, depth + 1)).join(", ")}]` : `an array of length ${v.length}`;
  }
  const proto = Object.getPrototypeOf(v);
  if (proto === Object.prototype || proto === null) return "an object";
  if (typeof (v as { then?: unknown }).then === "function") return "a Promise";
  const ctor = Object.getOwnPropertyDescriptor(proto, "constructor")?.value as { name?: unknown } | undefined;
  return typeof ctor?.name === "string" && ctor.name ? `a ${ctor.name}` : "an object";
}

/**
 * Runs `body`; a FluxionError from inside whose message does not already name `fn` gets `fn: `
 * put in front, so errors from helpers name the public function the user called.
 */
export function naming<T>(fn: string, body: () => T): T {
  try {
    return body();
  } catch (e) {
    if (e instanceof FluxionError && !e.message.startsWith(fn)) e.message = `${fn}: ${e.message}`;
    throw e;
  }
}
