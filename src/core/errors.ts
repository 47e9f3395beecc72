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
