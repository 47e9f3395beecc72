/**
 * Matrix helpers built from `lax` wrappers, for the linear-algebra rules and `np.linalg`: products
 * and transposes over the last two axes (leading axes are batch), triangle masks, diagonals.
 * Everything is a bound op, so what uses these stays differentiable and batchable.
 */
import * as lax from "./lax.js";
import type { NDArray } from "./ndarray.js";
import { range } from "./shape.js";

/** Swaps the last two axes. */
export function mT(x: NDArray): NDArray {
  const r = x.ndim;
  return lax.transpose(x, [...range(r - 2), r - 1, r - 2]);
}

/** a·b over the last two axes; the leading axes of a and b must be equal. */
export function mm(a: NDArray, b: NDArray): NDArray {
  const r = a.ndim,
    lead = range(r - 2);
  return lax.dotGeneral(a, b, [[r - 1], [r - 2]], [lead, lead]);
}

/** An [m, n] constant with `f(i, j)` in each place, broadcast to `like`'s shape and dtype. */
function pattern(like: NDArray, f: (i: number, j: number) => number): NDArray {
  const r = like.ndim,
    m = like.shape[r - 2]!,
    n = like.shape[r - 1]!;
  const c = lax.full([m, n], 0, like.dtype);
  for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) c.values[i * n + j] = f(i, j);
  return lax.broadcastInDim(c, like.shape.slice(), [r - 2, r - 1]);
}

/** The entries on and below diagonal k (j <= i + k) of the last two axes; zeros elsewhere. */
export const tril = (x: NDArray, k = 0): NDArray =>
  lax.mul(
    x,
    pattern(x, (i, j) => (j <= i + k ? 1 : 0)),
  );
/** The entries on and above diagonal k (j >= i + k); zeros elsewhere. */
export const triu = (x: NDArray, k = 0): NDArray =>
  lax.mul(
    x,
    pattern(x, (i, j) => (j >= i + k ? 1 : 0)),
  );
/** x with its last two axes multiplied elementwise by a constant pattern (e.g. 1/2 on the diagonal). */
export const scaleBy = (x: NDArray, f: (i: number, j: number) => number): NDArray => lax.mul(x, pattern(x, f));
/** The identity in the shape and dtype of `like` (square in its last two axes). */
export const eyeLike = (like: NDArray): NDArray => pattern(like, (i, j) => (i === j ? 1 : 0));

/** The main diagonal of the last two axes: [..., m, n] -> [..., min(m, n)]. */
export function diagonal(x: NDArray): NDArray {
  const r = x.ndim,
    m = x.shape[r - 2]!,
    n = x.shape[r - 1]!,
    k = Math.min(m, n);
  const sq = lax.slice(
    x,
    x.shape.map(() => 0),
    [...x.shape.slice(0, -2), k, k],
  );
  return lax.reduceSum(lax.mul(sq, eyeLike(sq)), [r - 1]);
}

/** v [..., n] along the last axis of [..., m, n] (every row a copy). */
export const asRows = (v: NDArray, m: number): NDArray =>
  lax.broadcastInDim(v, [...v.shape.slice(0, -1), m, v.shape[v.ndim - 1]!], [...range(v.ndim - 1), v.ndim]);
/** v [..., m] along the second-to-last axis of [..., m, n] (every column a copy). */
export const asColumns = (v: NDArray, n: number): NDArray => lax.broadcastInDim(v, [...v.shape, n], range(v.ndim));

/** a + aᵀ over the last two axes, halved: the symmetric part. */
export const symmetrize = (a: NDArray): NDArray => lax.mul(lax.add(a, mT(a)), lax.fill(a, 0.5));
