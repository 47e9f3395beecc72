/**
 * Chainable methods on NDArray (`x.add(y).sum()`), each a call of the `np` function of the same
 * meaning. Attached to the prototype here so the core array type knows no operation; tracers
 * inherit them, so methods work inside every transform.
 */
import { type DType, checkDType } from "../core/dtype.js";
import * as lax from "../core/lax.js";
import { NDArray } from "../core/ndarray.js";
import type { ArrayLike, AxisArg } from "./base.js";
import { AtIndexer, type IndexSpec, at, index } from "./indexing.js";
import { matmul, dot } from "./linalg.js";
import * as m from "./math.js";
import * as r from "./reductions.js";
import * as s from "./shapes.js";

declare module "../core/ndarray.js" {
  interface NDArray {
    add(y: ArrayLike): NDArray;
    sub(y: ArrayLike): NDArray;
    mul(y: ArrayLike): NDArray;
    div(y: ArrayLike): NDArray;
    pow(y: ArrayLike): NDArray;
    maximum(y: ArrayLike): NDArray;
    minimum(y: ArrayLike): NDArray;
    neg(): NDArray;
    abs(): NDArray;
    sign(): NDArray;
    square(): NDArray;
    sqrt(): NDArray;
    exp(): NDArray;
    log(): NDArray;
    log1p(): NDArray;
    expm1(): NDArray;
    sin(): NDArray;
    cos(): NDArray;
    tan(): NDArray;
    tanh(): NDArray;
    less(y: ArrayLike): NDArray;
    lessEqual(y: ArrayLike): NDArray;
    greater(y: ArrayLike): NDArray;
    greaterEqual(y: ArrayLike): NDArray;
    equal(y: ArrayLike): NDArray;
    notEqual(y: ArrayLike): NDArray;
    clip(lo: ArrayLike | null, hi: ArrayLike | null): NDArray;
    sum(axis?: AxisArg): NDArray;
    mean(axis?: AxisArg): NDArray;
    max(axis?: AxisArg): NDArray;
    min(axis?: AxisArg): NDArray;
    prod(axis?: AxisArg): NDArray;
    var(axis?: AxisArg): NDArray;
    std(axis?: AxisArg): NDArray;
    argmax(axis?: number | null): NDArray;
    argmin(axis?: number | null): NDArray;
    cumsum(axis?: number | null): NDArray;
    reshape(shape: number[]): NDArray;
    ravel(): NDArray;
    flatten(): NDArray;
    transpose(axes?: number[]): NDArray;
    /** The transpose (axes reversed). */
    readonly T: NDArray;
    squeeze(axis?: number | number[]): NDArray;
    expandDims(axis: number | number[]): NDArray;
    flip(axis?: number | number[]): NDArray;
    take(indices: ArrayLike, axis?: number | null, options?: s.TakeOptions): NDArray;
    /** NumPy indexing `x[...]`: integers, `np.s(...)` / "a:b:c" slices, null, "...", int32 arrays, concrete bool masks. */
    index(...specs: IndexSpec[]): NDArray;
    /** JAX's `x.at[...]`: functional updates `.set(v)`, `.add(v)`, `.mul(v)`, `.min(v)`, `.max(v)`, and `.get()`. */
    at(...specs: IndexSpec[]): AtIndexer;
    matmul(y: ArrayLike): NDArray;
    dot(y: ArrayLike): NDArray;
    astype(dtype: DType): NDArray;
  }
}

const methods: Record<string, (this: NDArray, ...args: any[]) => NDArray | AtIndexer> = {
  add(y) {
    return m.add(this, y);
  },
  sub(y) {
    return m.subtract(this, y);
  },
  mul(y) {
    return m.multiply(this, y);
  },
  div(y) {
    return m.divide(this, y);
  },
  pow(y) {
    return m.power(this, y);
  },
  maximum(y) {
    return m.maximum(this, y);
  },
  minimum(y) {
    return m.minimum(this, y);
  },
  neg() {
    return m.negative(this);
  },
  abs() {
    return m.abs(this);
  },
  sign() {
    return m.sign(this);
  },
  square() {
    return m.square(this);
  },
  sqrt() {
    return m.sqrt(this);
  },
  exp() {
    return m.exp(this);
  },
  log() {
    return m.log(this);
  },
  log1p() {
    return m.log1p(this);
  },
  expm1() {
    return m.expm1(this);
  },
  sin() {
    return m.sin(this);
  },
  cos() {
    return m.cos(this);
  },
  tan() {
    return m.tan(this);
  },
  tanh() {
    return m.tanh(this);
  },
  less(y) {
    return m.less(this, y);
  },
  lessEqual(y) {
    return m.lessEqual(this, y);
  },
  greater(y) {
    return m.greater(this, y);
  },
  greaterEqual(y) {
    return m.greaterEqual(this, y);
  },
  equal(y) {
    return m.equal(this, y);
  },
  notEqual(y) {
    return m.notEqual(this, y);
  },
  clip(lo, hi) {
    return m.clip(this, lo, hi);
  },
  sum(a) {
    return r.sum(this, a);
  },
  mean(a) {
    return r.mean(this, a);
  },
  max(a) {
    return r.max(this, a);
  },
  min(a) {
    return r.min(this, a);
  },
  prod(a) {
    return r.prod(this, a);
  },
  var(a) {
    return r.variance(this, a);
  },
  std(a) {
    return r.std(this, a);
  },
  argmax(a) {
    return r.argmax(this, a);
  },
  argmin(a) {
    return r.argmin(this, a);
  },
  cumsum(a) {
    return r.cumsum(this, a);
  },
  reshape(shape) {
    return s.reshape(this, shape);
  },
  ravel() {
    return s.ravel(this);
  },
  flatten() {
    return s.ravel(this);
  },
  transpose(axes) {
    return s.transpose(this, axes);
  },
  squeeze(a) {
    return s.squeeze(this, a);
  },
  expandDims(a) {
    return s.expandDims(this, a);
  },
  flip(a) {
    return s.flip(this, a);
  },
  at(...specs) {
    return at(this, ...specs);
  },
  take(i, a, o) {
    return s.take(this, i, a, o);
  },
  index(...specs) {
    return index(this, ...specs);
  },
  matmul(y) {
    return matmul(this, y);
  },
  dot(y) {
    return dot(this, y);
  },
  astype(dtype) {
    return lax.convert(this, checkDType("astype", dtype));
  },
};

for (const [name, fn] of Object.entries(methods)) {
  Object.defineProperty(NDArray.prototype, name, { value: fn, writable: true, configurable: true });
}
Object.defineProperty(NDArray.prototype, "T", {
  get(this: NDArray) {
    return s.transpose(this);
  },
  configurable: true,
});
