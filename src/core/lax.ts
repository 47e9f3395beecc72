/**
 * One typed wrapper per primitive around `bind`, plus the few constant builders rules need.
 * Rules in every interpreter and the user-facing `np` ops are written with these, never with raw
 * typed-array math, so everything built from them is itself differentiable and batchable.
 * Wrappers skip no-op calls (a reshape to the same shape) and do no broadcasting or promotion:
 * operands must already agree, as each primitive's abstract rule demands.
 */
import { type DType, allocate } from "./dtype.js";
import { bind, bind1 } from "./interpreter.js";
import { type Aval, ConcreteArray, type NDArray } from "./ndarray.js";
import { Prim, type PrimParams, type ScatterOp } from "./prim.js";
import { type Shape, range, shapeEq, sizeOf } from "./shape.js";

const E = {} as Record<string, never>;
const un =
  (p: Prim) =>
  (x: NDArray): NDArray =>
    bind1(p, [x], E);
const bin =
  (p: Prim) =>
  (x: NDArray, y: NDArray): NDArray =>
    bind1(p, [x, y], E);

export const add = bin(Prim.Add);
export const sub = bin(Prim.Sub);
export const mul = bin(Prim.Mul);
export const div = bin(Prim.Div);
export const max = bin(Prim.Max);
export const min = bin(Prim.Min);
export const pow = bin(Prim.Pow);
export const eq = bin(Prim.Eq);
export const ne = bin(Prim.Ne);
export const lt = bin(Prim.Lt);
export const le = bin(Prim.Le);
export const gt = bin(Prim.Gt);
export const ge = bin(Prim.Ge);
export const and = bin(Prim.And);
export const or = bin(Prim.Or);
export const not = un(Prim.Not);
/** Bitwise xor (bool, int32, uint32). */
export const xor = bin(Prim.Xor);
/** x << s, 0 for shifts of 32 or more. */
export const shiftLeft = bin(Prim.ShiftLeft);
/** x >>> s (logical), 0 for shifts of 32 or more. */
export const shiftRightLogical = bin(Prim.ShiftRightLogical);
/** The same 32 bits read as `dtype` (float32 <-> int32 <-> uint32). */
export function bitcastConvertType(x: NDArray, dtype: DType): NDArray {
  return x.dtype === dtype ? x : bind1(Prim.BitcastConvertType, [x], { dtype });
}
export const neg = un(Prim.Neg);
export const exp = un(Prim.Exp);
export const log = un(Prim.Log);
export const log1p = un(Prim.Log1p);
export const expm1 = un(Prim.Expm1);
export const sin = un(Prim.Sin);
export const cos = un(Prim.Cos);
export const tanh = un(Prim.Tanh);
export const atan = un(Prim.Atan);
export const logistic = un(Prim.Logistic);
export const sqrt = un(Prim.Sqrt);
export const rsqrt = un(Prim.Rsqrt);
export const abs = un(Prim.Abs);
export const sign = un(Prim.Sign);
export const floor = un(Prim.Floor);
export const stopGradient = un(Prim.StopGradient);

export function convert(x: NDArray, dtype: DType): NDArray {
  return x.dtype === dtype ? x : bind1(Prim.ConvertElementType, [x], { dtype });
}

/** select_n: `cases[which]` elementwise; with a bool `which`, false picks cases[0]. */
export function selectN(which: NDArray, ...cases: NDArray[]): NDArray {
  return bind1(Prim.SelectN, [which, ...cases], E);
}

export function reduceSum(x: NDArray, axes: number[]): NDArray {
  return axes.length === 0 ? x : bind1(Prim.ReduceSum, [x], { axes });
}
export function reduceMax(x: NDArray, axes: number[]): NDArray {
  return axes.length === 0 ? x : bind1(Prim.ReduceMax, [x], { axes });
}
export function reduceMin(x: NDArray, axes: number[]): NDArray {
  return axes.length === 0 ? x : bind1(Prim.ReduceMin, [x], { axes });
}
export const argmax = (x: NDArray, axis: number): NDArray => bind1(Prim.ArgMax, [x], { axis });
export const argmin = (x: NDArray, axis: number): NDArray => bind1(Prim.ArgMin, [x], { axis });
export const cumsum = (x: NDArray, axis: number, reverse = false): NDArray => bind1(Prim.Cumsum, [x], { axis, reverse });
/** The stable ascending order along `axis` (int32 indices, NaN last). */
export const argsort = (x: NDArray, axis: number): NDArray => bind1(Prim.Argsort, [x], { axis });
/** conv_general_dilated in the canonical layout (lhs [N, C, ...S], rhs [O, C/G, ...K]); see `PrimParams`. */
export const conv = (lhs: NDArray, rhs: NDArray, params: PrimParams[Prim.ConvGeneralDilated]): NDArray =>
  bind1(Prim.ConvGeneralDilated, [lhs, rhs], params);

export function broadcastInDim(x: NDArray, shape: number[], broadcastDimensions: number[]): NDArray {
  if (shapeEq(x.shape, shape)) return x;
  return bind1(Prim.BroadcastInDim, [x], { shape, broadcastDimensions });
}

export function reshape(x: NDArray, shape: number[]): NDArray {
  return shapeEq(x.shape, shape) ? x : bind1(Prim.Reshape, [x], { shape });
}

export function transpose(x: NDArray, perm: number[]): NDArray {
  return perm.every((p, i) => p === i) ? x : bind1(Prim.Transpose, [x], { perm });
}

export function rev(x: NDArray, axes: number[]): NDArray {
  return axes.length === 0 ? x : bind1(Prim.Rev, [x], { axes });
}

export function slice(x: NDArray, start: number[], limit: number[], step?: number[]): NDArray {
  const st = step ?? start.map(() => 1);
  if (start.every((s, d) => s === 0 && limit[d] === x.shape[d] && st[d] === 1)) return x;
  return bind1(Prim.Slice, [x], { start, limit, step: st });
}

/** Slices `[start, limit)` along one axis. */
export function sliceAxis(x: NDArray, axis: number, start: number, limit: number): NDArray {
  const s = x.shape.map(() => 0),
    l = x.shape.slice();
  s[axis] = start;
  l[axis] = limit;
  return slice(x, s, l);
}

export function pad(x: NDArray, value: NDArray, config: [number, number, number][]): NDArray {
  if (config.every(([a, b, c]) => a === 0 && b === 0 && c === 0)) return x;
  return bind1(Prim.Pad, [x, value], { config });
}

export function concatenate(xs: NDArray[], axis: number): NDArray {
  return xs.length === 1 ? xs[0]! : bind1(Prim.Concatenate, xs, { axis });
}

export const gather = (x: NDArray, idx: NDArray, axis: number, batchDims = 0): NDArray => bind1(Prim.Gather, [x, idx], { axis, batchDims });
export const scatterAdd = (x: NDArray, idx: NDArray, upd: NDArray, axis: number, batchDims = 0): NDArray =>
  bind1(Prim.ScatterAdd, [x, idx, upd], { axis, batchDims });
/** scatter(x, idx, upd) combining by `op`; out-of-range indices are dropped. */
export const scatter = (x: NDArray, idx: NDArray, upd: NDArray, axis: number, op: ScatterOp, batchDims = 0): NDArray =>
  bind1(Prim.Scatter, [x, idx, upd], { axis, batchDims, op });
export const dynamicSlice = (x: NDArray, starts: NDArray[], sizes: number[]): NDArray => bind1(Prim.DynamicSlice, [x, ...starts], { sizes });
export const dynamicUpdateSlice = (x: NDArray, upd: NDArray, starts: NDArray[]): NDArray => bind1(Prim.DynamicUpdateSlice, [x, upd, ...starts], E);

export function dotGeneral(x: NDArray, y: NDArray, contract: [number[], number[]], batch: [number[], number[]] = [[], []]): NDArray {
  return bind1(Prim.DotGeneral, [x, y], { contract, batch });
}

// ---- linear algebra (over the last two axes; leading axes are batch) ----

/** Lower Cholesky factor of (a + aᵀ)/2. */
export const cholesky = (a: NDArray): NDArray => bind1(Prim.Cholesky, [a], E);

/** Options of `triangularSolve` (the params of triangular_solve). */
export interface TriangularSolveParams {
  leftSide: boolean;
  lower: boolean;
  transposeA: boolean;
  unitDiagonal: boolean;
}

/** x with op(a)·x = b (leftSide) or x·op(a) = b, from one triangle of a. */
export function triangularSolve(a: NDArray, b: NDArray, params: TriangularSolveParams): NDArray {
  return bind1(Prim.TriangularSolve, [a, b], params);
}

/** [lu, pivots, permutation] with partial pivoting. */
export const lu = (a: NDArray): NDArray[] => bind(Prim.Lu, [a], E);
/** [q, r] by Householder reflections. */
export const qr = (a: NDArray, fullMatrices = false): NDArray[] => bind(Prim.Qr, [a], { fullMatrices });
/** [w, v]: ascending eigenvalues and eigenvectors of (a + aᵀ)/2. */
export const eigh = (a: NDArray): NDArray[] => bind(Prim.Eigh, [a], E);
/** [u, s, vh] with s descending. */
export const svd = (a: NDArray, fullMatrices = false): NDArray[] => bind(Prim.Svd, [a], { fullMatrices });

// ---- constants (concrete arrays built on the host; every interpreter treats them as constants) ----

/** A concrete array of `shape` filled with `value`. */
export function full(shape: Shape, value: number, dtype: DType): ConcreteArray {
  const data = allocate(dtype, sizeOf(shape));
  if (value !== 0 || Object.is(value, -0)) data.fill(dtype === "bool" ? (value ? 1 : 0) : value);
  return new ConcreteArray(data, shape.slice(), dtype);
}

export const scalar = (value: number, dtype: DType): ConcreteArray => full([], value, dtype);

/**
 * `value` in the shape and dtype of `like`, as a broadcast scalar: staged programs then hold one
 * scalar constant (which the compiler turns into index-free reads), not a full array.
 */
export function fill(like: Aval, value: number): NDArray {
  return broadcastInDim(scalar(value, like.dtype), like.shape.slice(), []);
}
export const zerosOf = (a: Aval): ConcreteArray => full(a.shape, 0, a.dtype);

/** `x` broadcast to `shape` with NumPy's rule (leading dims added, size-1 dims stretched). */
export function broadcastTo(x: NDArray, shape: number[]): NDArray {
  if (shapeEq(x.shape, shape)) return x;
  const lead = shape.length - x.ndim;
  // Drop size-1 dims that are stretched so broadcast_in_dim sees only exact matches or 1s.
  return broadcastInDim(
    x,
    shape,
    range(x.ndim).map((d) => d + lead),
  );
}

/** Sums `x` (of a broadcast shape) back down to `shape`: the transpose of `broadcastTo`. */
export function unbroadcast(x: NDArray, shape: Shape): NDArray {
  if (shapeEq(x.shape, shape)) return x;
  const lead = x.ndim - shape.length;
  const axes: number[] = [];
  for (let d = 0; d < x.ndim; d++) if (d < lead || (shape[d - lead] === 1 && x.shape[d] !== 1)) axes.push(d);
  return reshape(reduceSum(x, axes), shape.slice());
}

/** Moves axis `from` to position `to`. */
export function moveAxis(x: NDArray, from: number, to: number): NDArray {
  if (from === to) return x;
  const perm = range(x.ndim).filter((d) => d !== from);
  perm.splice(to, 0, from);
  return transpose(x, perm);
}
