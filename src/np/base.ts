/**
 * The glue under every `np` function: turning user inputs (NDArrays, JS numbers and booleans,
 * nested arrays) into arrays, JAX's weak typing for JS numbers, dtype promotion, NumPy
 * broadcasting, and axis/option parsing. Errors name the calling `np` function.
 */
import { type DType, allocate, checkDType, dtypeOfTyped, isFloat, promote, weakDType } from "../core/dtype.js";
import { ArgumentError, DTypeError, ShapeError, describe, naming } from "../core/errors.js";
import * as lax from "../core/lax.js";
import { ConcreteArray, NDArray } from "../core/ndarray.js";
import { type Shape, broadcastShapes, checkShape, fmtShape, normAxes, range, sizeOf } from "../core/shape.js";
import { staged, stages } from "../core/staged.js";

/** Nested JS arrays of numbers or booleans. */
export type Nested = number | boolean | Nested[];
/** Anything an `np` function accepts as an array operand. */
export type ArrayLike = NDArray | Nested;

export interface ArrayOptions {
  dtype?: DType;
  /** Where to place the array ("cpu" by default; "webgpu" after `await devices()`). */
  device?: string;
  /** The shape, when `data` is a flat typed array or list. */
  shape?: number[];
}

/** Builds a concrete array from a number, nested JS arrays, or a typed array (with `{ shape }`). */
export function array(
  data: ArrayLike | ArrayLike[] | Float32Array | Float64Array | Int32Array | Uint32Array | Uint8Array,
  options: ArrayOptions = {},
): NDArray {
  const host = hostArray(data, options);
  return options.device === undefined || options.device === "cpu" ? host : host.to(options.device);
}

function hostArray(
  data: ArrayLike | ArrayLike[] | Float32Array | Float64Array | Int32Array | Uint32Array | Uint8Array,
  options: ArrayOptions,
): NDArray {
  if (typeof options !== "object" || options === null)
    throw new ArgumentError(`np.array: options must be an object { dtype?, device?, shape? }, got ${describe(options)}`);
  const dtype = options.dtype === undefined ? undefined : checkDType("np.array", options.dtype);
  if (data instanceof NDArray) return dtype ? lax.convert(data, dtype) : data;
  const typed = dtypeOfTyped(data);
  let flat: { readonly length: number; readonly [i: number]: number };
  let shape: number[];
  let inferred: DType;
  if (typed !== null) {
    flat = data as Float32Array;
    inferred = typed;
    shape = options.shape ? checkShape("np.array", options.shape) : [flat.length];
  } else {
    const values: number[] = [];
    shape = [];
    let sawBool = false,
      sawNumber = false;
    /** Depth of the scalars (every scalar must sit at the same depth), -1 before the first. */
    let leafDepth = -1;
    const ragged = (what: string): never => {
      throw new ShapeError(
        `np.array: data is a ragged nested list (${what}); every list at one depth must have the same length and hold the same kind of entries`,
      );
    };
    const walk = (x: unknown, depth: number): void => {
      if (Array.isArray(x)) {
        if (depth >= 32) throw new ArgumentError("np.array: lists nested deeper than 32 levels (or a list that contains itself)");
        if (leafDepth >= 0 && depth >= leafDepth) ragged(`a list at depth ${depth} where numbers were found before`);
        if (shape.length === depth) shape.push(x.length);
        else if (shape[depth] !== x.length) ragged(`a list of length ${x.length} where ${shape[depth]} was expected at depth ${depth}`);
        for (let k = 0; k < x.length; k++) walk(x[k], depth + 1);
        return;
      }
      if (leafDepth < 0) leafDepth = depth;
      if (depth !== leafDepth || depth !== shape.length) ragged(`a number at depth ${depth} where lists were found before`);
      if (typeof x === "boolean") {
        sawBool = true;
        values.push(x ? 1 : 0);
      } else if (typeof x === "number") {
        sawNumber = true;
        values.push(x);
      } else if (x instanceof NDArray && x.ndim === 0) {
        sawNumber = true;
        values.push(x.item());
      } else throw new ArgumentError(`np.array: data must be numbers, booleans or nested lists of them, got ${describe(x)}`);
    };
    walk(data, 0);
    flat = values;
    inferred = sawBool && !sawNumber ? "bool" : "float32";
    if (options.shape) shape = checkShape("np.array", options.shape);
  }
  if (sizeOf(shape) !== flat.length) {
    throw new ShapeError(`np.array: ${flat.length} values do not fill shape ${fmtShape(shape)}`);
  }
  const out = allocate(dtype ?? inferred, flat.length);
  for (let i = 0; i < flat.length; i++) out[i] = (dtype ?? inferred) === "bool" ? (flat[i] ? 1 : 0) : flat[i]!;
  return new ConcreteArray(out, shape, dtype ?? inferred);
}

/** `x` as an array; a JS number becomes a scalar of `like` (weak typing) or float32. */
export function asArray(fn: string, x: ArrayLike, like?: DType, arg?: string): NDArray {
  if (x instanceof NDArray) return x;
  if (typeof x === "number") return lax.scalar(x, like === undefined ? "float32" : weakDType(x, like));
  if (typeof x === "boolean") return lax.scalar(x ? 1 : 0, "bool");
  if (Array.isArray(x)) return naming(arg === undefined ? fn : `${fn} (argument ${arg})`, () => array(x));
  throw new ArgumentError(
    `${fn}: ${arg === undefined ? "expected" : `argument ${arg} must be`} an NDArray, a number or a nested list, got ${describe(x)}`,
  );
}

/** Converts operands to one dtype (JS numbers weakly typed) and broadcasts them to one shape. */
export function promoteAndBroadcast(fn: string, xs: readonly ArrayLike[], minDType?: DType, names: readonly string[] = ["x", "y"]): NDArray[] {
  const { arrays, shape } = promoted(fn, xs, minDType, names);
  for (let i = 0; i < arrays.length; i++) arrays[i] = lax.broadcastTo(arrays[i]!, shape);
  return arrays;
}

/**
 * Operands converted to one dtype as `promoteAndBroadcast` converts them, and checked to broadcast
 * together, but left in their own shapes (a compiled program broadcasts them for free).
 */
export const promoteTogether = (fn: string, xs: readonly ArrayLike[], minDType?: DType, names: readonly string[] = ["x", "y"]): NDArray[] =>
  promoted(fn, xs, minDType, names).arrays;

function promoted(
  fn: string,
  xs: readonly ArrayLike[],
  minDType: DType | undefined,
  names: readonly string[],
): { arrays: NDArray[]; shape: number[] } {
  // Plain loops, no closures: every binary op of eager scalar code comes through here.
  let dtype: DType | null = null;
  for (const x of xs) if (x instanceof NDArray) dtype = dtype === null ? x.dtype : promote(dtype, x.dtype);
  for (let i = 0; i < xs.length; i++) {
    const x = xs[i]!;
    if (x instanceof NDArray) continue;
    const d = typeof x === "number" ? weakDType(x, dtype ?? "float32") : asArray(fn, x, undefined, names[i] ?? `${i}`).dtype;
    dtype = dtype === null ? d : promote(dtype, d);
  }
  if (minDType !== undefined) dtype = promote(dtype ?? minDType, minDType);
  const arrays = new Array<NDArray>(xs.length);
  for (let i = 0; i < xs.length; i++) arrays[i] = lax.convert(asArray(fn, xs[i]!, dtype!, names[i] ?? `${i}`), dtype!);
  let shape: number[] = arrays[0]!.shape;
  for (let i = 1; i < arrays.length; i++) shape = broadcastShapes(fn, shape, arrays[i]!.shape);
  return { arrays, shape };
}

/** A binary elementwise `np` op: weak typing, promotion, broadcasting, then `op`. */
export function binary(fn: string, op: (x: NDArray, y: NDArray) => NDArray, minDType?: DType) {
  return (x: ArrayLike, y: ArrayLike): NDArray => {
    const { arrays, shape } = promoted(fn, [x, y], minDType, ["x", "y"]);
    return broadcastOp(fn, op, arrays[0]!, arrays[1]!, shape);
  };
}

/** Results of at least this many elements are worth a staged program when an operand is broadcast. */
export const STAGED_BROADCAST_MIN = 4096;
/** Operand signatures seen once (`stagedOnRepeat`). */
const seen = new Set<string>();

/**
 * `body(...arrays)` as the staged program `key` when `arrays` have been seen with this key before
 * (dtypes and shapes), else null: eager elementwise ops on large arrays run as a program whose
 * broadcasts cost nothing, but compile it only when a signature repeats, so that one-off shapes
 * compile nothing. Null under a transform too (the caller then binds as usual), and for arrays off
 * the CPU: what it saves is writing broadcast operands out in host memory (`broadcastOp` stages
 * device operands itself).
 */
export function stagedOnRepeat(key: string, arrays: readonly NDArray[], body: (...arrays: NDArray[]) => NDArray): NDArray | null {
  if (!stages(arrays) || arrays.some((a) => a.device !== "cpu")) return null;
  let signature = key;
  for (const a of arrays) signature += ` ${a.dtype}[${a.shape}]`;
  if (seen.has(signature)) return staged(key, arrays, body);
  if (seen.size >= 1024) seen.clear();
  seen.add(signature);
  return null;
}

/**
 * `op` of a and b broadcast to `shape`. Called eagerly on large results where an operand needs
 * broadcasting (x · 2, x + bias, a column scaled by its sums), the op runs as a staged program
 * (`stagedOnRepeat`) instead of first writing each broadcast operand out in full. With an operand
 * on a device it always runs staged, whatever the size: otherwise `y.mul(0.999)` would broadcast
 * the scalar into a full host array for every op (an allocation, a scan for the device to find it
 * holds one value, and garbage), where the staged kernel reads the scalar where it lies.
 */
export function broadcastOp(fn: string, op: (x: NDArray, y: NDArray) => NDArray, a: NDArray, b: NDArray, shape: number[]): NDArray {
  const n = sizeOf(shape);
  const broadcasts = sizeOf(a.shape) < n || sizeOf(b.shape) < n;
  const body = (u: NDArray, v: NDArray) => {
    const s = broadcastShapes(fn, u.shape, v.shape);
    return op(lax.broadcastTo(u, s), lax.broadcastTo(v, s));
  };
  const out = !broadcasts
    ? null
    : (stagedOnDevice(`np.${fn} broadcast`, [a, b], body) ?? (n >= STAGED_BROADCAST_MIN ? stagedOnRepeat(`np.${fn} broadcast`, [a, b], body) : null));
  return out ?? op(lax.broadcastTo(a, shape), lax.broadcastTo(b, shape));
}

/**
 * `body(...arrays)` as the staged program `key` when an operand lives on a device (and no transform
 * is tracing), else null: the staged kernel reads broadcast operands where they lie, where eager
 * binding would broadcast them into full host arrays first.
 */
export function stagedOnDevice(key: string, arrays: readonly NDArray[], body: (...arrays: NDArray[]) => NDArray): NDArray | null {
  return arrays.some((a) => a.device !== "cpu") && stages(arrays) ? staged(key, arrays, body) : null;
}

/** A unary op on floats: integer and bool inputs are promoted to float32 first. */
export function floatUnary(fn: string, op: (x: NDArray) => NDArray) {
  return (x: ArrayLike): NDArray => op(toFloat(asArray(fn, x, undefined, "x")));
}

export function toFloat(x: NDArray): NDArray {
  return isFloat(x.dtype) ? x : lax.convert(x, "float32");
}

export function rejectBool(fn: string, x: NDArray): void {
  if (x.dtype === "bool") throw new DTypeError(`np.${fn}: not defined for bool arrays; convert with .astype("int32") or use np.logicalNot`);
}

/** Options accepted by reductions: an axis, a list of axes, or `{ axis, keepdims, ddof }`. */
export type AxisArg = number | number[] | null | undefined | ReduceOptions;
export interface ReduceOptions {
  axis?: number | number[] | null;
  keepdims?: boolean;
  ddof?: number;
}

/** Normalised reduction options: sorted axes (all when none given) and keepdims. */
export function parseAxes(fn: string, ndim: number, arg: AxisArg): { axes: number[]; keepdims: boolean; ddof: number } {
  const opts: ReduceOptions =
    typeof arg === "object" && arg !== null && !Array.isArray(arg) ? arg : { axis: arg as number | number[] | null | undefined };
  const axis = opts.axis;
  if (!(axis === null || axis === undefined || typeof axis === "number" || Array.isArray(axis))) {
    throw new ArgumentError(`${fn}: axis must be an integer, a list of integers or null, got ${describe(axis)}`);
  }
  const axes = axis === null || axis === undefined ? range(ndim) : normAxes(fn, typeof axis === "number" ? [axis] : axis, ndim);
  const keepdims = opts.keepdims ?? false,
    ddof = opts.ddof ?? 0;
  if (typeof keepdims !== "boolean") throw new ArgumentError(`${fn}: option keepdims must be a boolean, got ${describe(keepdims)}`);
  if (typeof ddof !== "number" || !Number.isFinite(ddof)) throw new ArgumentError(`${fn}: ddof must be a finite number, got ${describe(ddof)}`);
  return { axes, keepdims, ddof };
}

/** The reduced shape with kept size-1 dims. */
export function keptShape(shape: Shape, axes: readonly number[]): number[] {
  return shape.map((n, d) => (axes.includes(d) ? 1 : n));
}
