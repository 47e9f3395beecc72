/**
 * The `np` namespace: NumPy-style functions over NDArrays, every one composed from primitives.
 */
export { array } from "./base.js";
export * from "./creation.js";
export * from "./math.js";
export * from "./reductions.js";
export { variance as var } from "./reductions.js";
export * from "./shapes.js";
export { Slice, AtIndexer, type IndexSpec, s, ellipsis, index } from "./indexing.js";
export { matmul, dot, inner, outer } from "./linalg.js";
export * from "./sorting.js";
export * from "./nonzero.js";
export * from "./histogram.js";
export * from "./arrange.js";
import { norm } from "./linalg.js";
import { matrixFunctions } from "./linalg_matrix.js";

/** `np.linalg`: norms, decompositions (cholesky, qr, eigh, svd), solves, inverses, determinants and matrix helpers. */
export const linalg = { norm, ...matrixFunctions };
