/**
 * Iteration over an array's first axis, as JAX arrays iterate: `for (const row of x)` and
 * `const [k1, k2] = random.split(key)` give the rows `x[0], x[1], ...` (each one axis fewer).
 * Attached to the prototype here so the core array type knows no operation; tracers inherit it, so
 * it works inside every transform (under vmap over the per-example shape).
 */
import { ShapeError } from "../core/errors.js";
import * as lax from "../core/lax.js";
import { NDArray } from "../core/ndarray.js";

declare module "../core/ndarray.js" {
  interface NDArray {
    /** The rows along axis 0; a 0-d array is a ShapeError (there is no axis to iterate). */
    [Symbol.iterator](): Iterator<NDArray, undefined, unknown>;
  }
}

/** Row `i` of `x` (axis 0 dropped): a slice and a reshape, so it is differentiable and batchable. */
function row(x: NDArray, i: number): NDArray {
  return lax.reshape(lax.sliceAxis(x, 0, i, i + 1), x.shape.slice(1));
}

NDArray.prototype[Symbol.iterator] = function* (this: NDArray): Generator<NDArray, undefined, unknown> {
  if (this.ndim === 0) throw new ShapeError(`iteration over a 0-d array (${this.dtype}[]) is not possible; index it with .item() instead`);
  const n = this.shape[0]!;
  for (let i = 0; i < n; i++) yield row(this, i);
};
