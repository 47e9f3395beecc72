/**
 * Array creation: zeros, ones, full, zerosLike, onesLike, arange, linspace, eye. These build
 * concrete arrays on the host; every interpreter treats them as constants.
 */
import { type DType, checkDType } from "../core/dtype.js";
import { ArgumentError, describe, naming } from "../core/errors.js";
import * as lax from "../core/lax.js";
import { ConcreteArray, type NDArray } from "../core/ndarray.js";
import { checkShape } from "../core/shape.js";
import { type ArrayLike, asArray } from "./base.js";

const dt = (fn: string, d: DType | undefined, fallback: DType): DType => (d === undefined ? fallback : checkDType(fn, d));

export const zeros = (shape: number[], dtype?: DType): NDArray => lax.full(checkShape("np.zeros", shape), 0, dt("np.zeros", dtype, "float32"));
export const ones = (shape: number[], dtype?: DType): NDArray => lax.full(checkShape("np.ones", shape), 1, dt("np.ones", dtype, "float32"));

export function full(shape: number[], value: number | boolean, dtype?: DType): NDArray {
  if (typeof value !== "number" && typeof value !== "boolean") {
    throw new ArgumentError(`np.full: the fill value must be a number or a boolean, got ${describe(value)}`);
  }
  const d = dt("np.full", dtype, typeof value === "boolean" ? "bool" : "float32");
  return lax.full(checkShape("np.full", shape), Number(value), d);
}

export const zerosLike = (x: ArrayLike, dtype?: DType): NDArray => {
  const a = asArray("zerosLike", x, undefined, "x");
  return lax.full(a.shape, 0, dt("np.zerosLike", dtype, a.dtype));
};
export const onesLike = (x: ArrayLike, dtype?: DType): NDArray => {
  const a = asArray("onesLike", x, undefined, "x");
  return lax.full(a.shape, 1, dt("np.onesLike", dtype, a.dtype));
};

/**
 * `arange(stop)` or `arange(start, stop, step?)`: int32 when every argument is an integer,
 * float32 otherwise (or the dtype given last).
 */
export function arange(start: number, stop?: number, step = 1, dtype?: DType): NDArray {
  if (stop === undefined) [start, stop] = [0, start];
  for (const v of [start, stop, step])
    if (typeof v !== "number" || !Number.isFinite(v)) {
      throw new ArgumentError(`np.arange: start, stop and step must be finite numbers, got ${describe(start)}, ${describe(stop)}, ${describe(step)}`);
    }
  if (step === 0) throw new ArgumentError("np.arange: step must not be 0");
  const d = dt("np.arange", dtype, [start, stop, step].every(Number.isInteger) ? "int32" : "float32");
  const n = Math.max(0, Math.ceil((stop - start) / step));
  const out = lax.full([n], 0, d);
  for (let i = 0; i < n; i++) out.values[i] = start + i * step;
  return out;
}

/** `num` evenly spaced values from start to stop (inclusive unless `endpoint` is false). */
export function linspace(start: number, stop: number, num = 50, options: { endpoint?: boolean; dtype?: DType } = {}): NDArray {
  for (const v of [start, stop])
    if (typeof v !== "number" || !Number.isFinite(v)) {
      throw new ArgumentError(`np.linspace: start and stop must be finite numbers, got ${describe(start)}, ${describe(stop)}`);
    }
  if (!Number.isSafeInteger(num) || num < 0) throw new ArgumentError(`np.linspace: num must be a non-negative integer, got ${describe(num)}`);
  if (typeof options !== "object" || options === null)
    throw new ArgumentError(`np.linspace: options must be an object { endpoint?, dtype? }, got ${describe(options)}`);
  const endpoint = options.endpoint ?? true;
  const out = lax.full([num], 0, dt("np.linspace", options.dtype, "float32"));
  const div = endpoint ? num - 1 : num;
  const step = div > 0 ? (stop - start) / div : 0;
  for (let i = 0; i < num; i++) out.values[i] = start + i * step;
  if (endpoint && num > 1) out.values[num - 1] = stop;
  return out;
}

/** An n x m identity-like matrix with ones on diagonal k. */
export function eye(n: number, m?: number, k = 0, dtype?: DType): NDArray {
  const cols = m ?? n;
  const out: ConcreteArray = lax.full(checkShape("np.eye", [n, cols]), 0, dt("np.eye", dtype, "float32"));
  if (!Number.isSafeInteger(k)) throw new ArgumentError(`np.eye: k must be an integer, got ${describe(k)}`);
  // Only the rows whose diagonal entry lies inside the matrix.
  for (let i = Math.max(0, -k); i < Math.min(n, cols - k); i++) out.values[i * cols + i + k] = 1;
  return out;
}

/** An array of `x`'s shape filled with `value` (x's dtype unless given). */
export const fullLike = (x: ArrayLike, value: number | boolean, dtype?: DType): NDArray => {
  const a = asArray("fullLike", x, undefined, "x");
  if (typeof value !== "number" && typeof value !== "boolean")
    throw new ArgumentError(`np.fullLike: the fill value must be a number or a boolean, got ${describe(value)}`);
  return lax.full(a.shape, Number(value), dt("np.fullLike", dtype, a.dtype));
};

/** The n x n identity matrix. */
export const identity = (n: number, dtype?: DType): NDArray => naming("np.identity", () => eye(n, n, 0, dtype));

/** `num` values base**t for t evenly spaced from start to stop. */
export function logspace(start: number, stop: number, num = 50, options: { endpoint?: boolean; base?: number; dtype?: DType } = {}): NDArray {
  if (typeof options !== "object" || options === null)
    throw new ArgumentError(`np.logspace: options must be an object { endpoint?, base?, dtype? }, got ${describe(options)}`);
  const base = options.base ?? 10;
  if (typeof base !== "number" || !(base > 0)) throw new ArgumentError(`np.logspace: base must be a positive number, got ${describe(base)}`);
  const t = naming("np.logspace", () => linspace(start, stop, num, { endpoint: options.endpoint, dtype: "float64" })) as ConcreteArray;
  const out = lax.full([num], 0, dt("np.logspace", options.dtype, "float32"));
  for (let i = 0; i < num; i++) out.values[i] = base ** t.values[i]!;
  return out;
}
