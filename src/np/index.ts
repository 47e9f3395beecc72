/**
 * The `np` namespace: NumPy-style functions over NDArrays, every one composed from primitives.
 */
export { array } from "./base.js";
export * from "./creation.js";
export * from "./math.js";
export * from "./reductions.js";
export { variance as var } from "./reductions.js";
export * from "./shapes.js";
export { matmul, dot, inner, outer } from "./linalg.js";
export * from "./sorting.js";
export * from "./arrange.js";
import { norm } from "./linalg.js";

/** `np.linalg`: norms. */
export const linalg = { norm };
