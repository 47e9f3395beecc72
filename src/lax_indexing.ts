/**
 * The public dynamic-slice pair of `lax`: blocks at run-time start indices (JS integers or int32
 * scalar arrays, traced ones included), clamped so the block fits, exactly as JAX clamps them.
 */
import { ArgumentError, DTypeError, ShapeError, describe } from "./core/errors.js";
import * as lax from "./core/lax.js";
import { NDArray } from "./core/ndarray.js";
import { fmtShape } from "./core/shape.js";
import { asArray } from "./np/base.js";

/** Start indices as int32 scalars, one per dim of x. */
function startArrays(fn: string, x: NDArray, starts: readonly (number | NDArray)[]): NDArray[] {
  if (!Array.isArray(starts)) throw new ArgumentError(`${fn}: starts must be an array of one start per dim, got ${describe(starts)}`);
  if (starts.length !== x.ndim) throw new ShapeError(`${fn}: needs ${x.ndim} start indices for x ${fmtShape(x.shape)}, got ${starts.length}`);
  return starts.map((s, d) => {
    if (typeof s === "number") {
      if (!Number.isSafeInteger(s)) throw new ArgumentError(`${fn}: start ${d} must be an integer, got ${s}`);
      return lax.scalar(s, "int32");
    }
    if (!(s instanceof NDArray)) throw new ArgumentError(`${fn}: start ${d} must be an integer or an int32 scalar array, got ${describe(s)}`);
    if (s.dtype !== "int32" || s.ndim !== 0)
      throw new DTypeError(`${fn}: start ${d} must be an int32 scalar, got ${s.dtype}${fmtShape(s.shape)}; use .astype("int32")`);
    return s;
  });
}

/**
 * `lax.dynamic_slice`: the block of `sizes` of x starting at `starts`; each start is clamped into
 * [0, x.shape[d] - sizes[d]] so the block always fits.
 * @example lax.dynamicSlice(x, [i, 0], [2, 3]) // x[i:i+2, 0:3], i clamped
 */
export function dynamicSlice(x: NDArray | number, starts: readonly (number | NDArray)[], sizes: readonly number[]): NDArray {
  const fn = "lax.dynamicSlice";
  const a = asArray(fn, x, undefined, "x");
  const st = startArrays(fn, a, starts);
  if (!Array.isArray(sizes) || sizes.length !== a.ndim || !sizes.every((n, d) => Number.isSafeInteger(n) && n >= 0 && n <= a.shape[d]!))
    throw new ShapeError(`${fn}: sizes ${describe(sizes)} must give one size per dim of x ${fmtShape(a.shape)}, each between 0 and that dim`);
  return lax.dynamicSlice(a, st, sizes.slice());
}

/**
 * `lax.dynamic_update_slice`: x with the block at `starts` replaced by `update` (cast to x's
 * dtype); starts are clamped so the update fits.
 * @example lax.dynamicUpdateSlice(x, np.zeros([2, 3]), [i, 0])
 */
export function dynamicUpdateSlice(x: NDArray | number, update: NDArray | number, starts: readonly (number | NDArray)[]): NDArray {
  const fn = "lax.dynamicUpdateSlice";
  const a = asArray(fn, x, undefined, "x");
  const u = lax.convert(asArray(fn, update, a.dtype, "update"), a.dtype);
  const st = startArrays(fn, a, starts);
  if (u.ndim !== a.ndim || !u.shape.every((n, d) => n <= a.shape[d]!))
    throw new ShapeError(`${fn}: update ${fmtShape(u.shape)} must have x's rank and fit inside x ${fmtShape(a.shape)}`);
  return lax.dynamicUpdateSlice(a, u, st);
}
