/**
 * Counter-based, functional randomness: a key is an int32 array of two words; every draw is a
 * pure function of (key, shape). Bits come from the Threefry-2x32 block cipher (20 rounds) applied
 * to a counter, so results are deterministic per key and independent of call order. Keys must be
 * concrete (drawn on the host).
 */
import { type DType, checkDType, isFloat } from "./core/dtype.js";
import { ArgumentError, DTypeError, describe } from "./core/errors.js";
import { ConcreteArray, NDArray } from "./core/ndarray.js";
import { checkShape, sizeOf } from "./core/shape.js";

const ROT = [13, 15, 26, 6, 17, 29, 16, 24];

/** Threefry-2x32 of counter words (x0[i], x1[i]) under key (k0, k1), in place. */
function threefry(k0: number, k1: number, x0: Uint32Array, x1: Uint32Array): void {
  const ks = [k0 >>> 0, k1 >>> 0, (k0 ^ k1 ^ 0x1bd11bda) >>> 0];
  for (let n = 0; n < x0.length; n++) {
    let a = (x0[n]! + ks[0]!) | 0,
      b = (x1[n]! + ks[1]!) | 0;
    for (let g = 0; g < 5; g++) {
      for (let j = 0; j < 4; j++) {
        const r = ROT[(g % 2) * 4 + j]!;
        a = (a + b) | 0;
        b = ((b << r) | (b >>> (32 - r))) ^ a;
      }
      a = (a + ks[(g + 1) % 3]!) | 0;
      b = (b + ks[(g + 2) % 3]! + g + 1) | 0;
    }
    x0[n] = a;
    x1[n] = b;
  }
}

function keyWords(fn: string, key: NDArray): [number, number] {
  if (!(key instanceof NDArray))
    throw new ArgumentError(`random.${fn}: the key must be an array made by random.key or random.split, got ${describe(key)}`);
  const c = key.toConcrete(`random.${fn}`);
  if (c.dtype !== "int32" || c.shape.length !== 1 || c.shape[0] !== 2) {
    throw new ArgumentError(`random.${fn}: a key is an int32 array of shape [2] made by random.key or random.split; got ${c.dtype}[${c.shape}]`);
  }
  return [c.values[0]!, c.values[1]!];
}

/** `n` pseudo-random 32-bit words from a key. */
function bits(fn: string, key: NDArray, n: number): Uint32Array {
  const [k0, k1] = keyWords(fn, key);
  const half = Math.ceil(n / 2);
  const x0 = new Uint32Array(half),
    x1 = new Uint32Array(half);
  for (let i = 0; i < half; i++) {
    x0[i] = i;
    x1[i] = i + half;
  }
  threefry(k0, k1, x0, x1);
  const out = new Uint32Array(n);
  out.set(x0.subarray(0, Math.min(half, n)));
  out.set(x1.subarray(0, n - Math.min(half, n)), Math.min(half, n));
  return out;
}

/** A key from an integer seed. */
export function key(seed: number): NDArray {
  if (!Number.isInteger(seed)) throw new ArgumentError(`random.key: seed must be an integer, got ${describe(seed)}`);
  const hi = Math.floor(seed / 2 ** 32);
  return new ConcreteArray(Int32Array.of(hi | 0, seed | 0), [2], "int32");
}

/** `n` new independent keys. */
export function split(k: NDArray, n = 2): NDArray[] {
  if (!Number.isInteger(n) || n < 1) throw new ArgumentError(`random.split: n must be a positive integer, got ${describe(n)}`);
  const b = bits("split", k, 2 * n);
  const out: NDArray[] = [];
  for (let i = 0; i < n; i++) out.push(new ConcreteArray(Int32Array.of(b[2 * i]! | 0, b[2 * i + 1]! | 0), [2], "int32"));
  return out;
}

function floatDType(fn: string, dtype: DType | undefined): DType {
  const d = dtype === undefined ? "float32" : checkDType(`random.${fn}`, dtype);
  if (!isFloat(d)) throw new DTypeError(`random.${fn}: dtype must be float32 or float64, got ${d}`);
  return d;
}

/** Uniform floats in [0, 1) from 32 random bits each (53 for float64). */
function unitFloats(fn: string, k: NDArray, n: number, dtype: DType): Float64Array {
  const wide = dtype === "float64";
  const b = bits(fn, k, wide ? 2 * n : n);
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    out[i] = wide ? ((b[2 * i]! >>> 5) * 67108864 + (b[2 * i + 1]! >>> 6)) / 9007199254740992 : (b[i]! >>> 8) / 16777216;
  }
  return out;
}

/** Uniform samples in [minval, maxval). */
export function uniform(k: NDArray, shape: number[] = [], dtype?: DType, minval = 0, maxval = 1): NDArray {
  const d = floatDType("uniform", dtype);
  if (typeof minval !== "number" || typeof maxval !== "number" || !(minval <= maxval)) {
    throw new ArgumentError(`random.uniform: minval and maxval must be numbers with minval <= maxval, got ${describe(minval)}, ${describe(maxval)}`);
  }
  const n = sizeOf(checkShape("random.uniform", shape));
  const u = unitFloats("uniform", k, n, d);
  const out = d === "float64" ? new Float64Array(n) : new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = minval + (maxval - minval) * u[i]!;
  return new ConcreteArray(out, shape.slice(), d);
}

/** Standard normal samples (Box–Muller). */
export function normal(k: NDArray, shape: number[] = [], dtype?: DType): NDArray {
  const d = floatDType("normal", dtype);
  const n = sizeOf(checkShape("random.normal", shape));
  const u = unitFloats("normal", k, 2 * Math.ceil(n / 2), d);
  const out = d === "float64" ? new Float64Array(n) : new Float32Array(n);
  for (let i = 0; i < n; i += 2) {
    const r = Math.sqrt(-2 * Math.log(1 - u[i]!)),
      t = 2 * Math.PI * u[i + 1]!;
    out[i] = r * Math.cos(t);
    if (i + 1 < n) out[i + 1] = r * Math.sin(t);
  }
  return new ConcreteArray(out, shape.slice(), d);
}

/** Random integers in [minval, maxval). */
export function randint(k: NDArray, shape: number[], minval: number, maxval: number): NDArray {
  if (!Number.isInteger(minval) || !Number.isInteger(maxval) || maxval <= minval || minval < -(2 ** 31) || maxval > 2 ** 31) {
    throw new ArgumentError(`random.randint: needs integers minval < maxval, got ${describe(minval)}, ${describe(maxval)}`);
  }
  const n = sizeOf(checkShape("random.randint", shape));
  const u = unitFloats("randint", k, n, "float64");
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) out[i] = minval + Math.floor(u[i]! * (maxval - minval));
  return new ConcreteArray(out, shape.slice(), "int32");
}

/** A random permutation of 0..n-1 (Fisher–Yates driven by the key). */
export function permutation(k: NDArray, n: number): NDArray {
  if (!Number.isInteger(n) || n < 0) throw new ArgumentError(`random.permutation: n must be a non-negative integer, got ${describe(n)}`);
  const u = unitFloats("permutation", k, n, "float64");
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) out[i] = i;
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(u[i]! * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return new ConcreteArray(out, [n], "int32");
}
