/**
 * The Threefry-2x32 block cipher built from traced primitives (wrapping uint32 add, xor, shifts),
 * and the counter encipherment `random`'s keys and bits come from; see random.ts for the layout,
 * which follows JAX's.
 */
import { ArgumentError, describe } from "./core/errors.js";
import * as lax from "./core/lax.js";
import { ConcreteArray, NDArray } from "./core/ndarray.js";

/** Checks that `k` is a key (uint32[2]); works on tracers (only the aval is looked at). */
export function checkKey(fn: string, k: unknown): NDArray {
  if (!(k instanceof NDArray))
    throw new ArgumentError(`random.${fn}: the key must be an array made by random.key or random.split, got ${describe(k)}`);
  if (k.dtype !== "uint32" || k.ndim !== 1 || k.shape[0] !== 2) {
    throw new ArgumentError(
      `random.${fn}: a key is a uint32 array of shape [2] made by random.key, random.split or random.foldIn; got ${k.dtype}[${k.shape}]` +
        (k.ndim === 2 && k.shape[1] === 2 ? "; for an array of keys, vmap over it or take one row (for (const k of keys))" : ""),
    );
  }
  return k;
}

/** The uint32 constant v broadcast to `shape`. */
export const u32 = (v: number, shape: number[]): NDArray => lax.broadcastInDim(lax.scalar(v >>> 0, "uint32"), shape, []);
const ROTATIONS = [
  [13, 15, 26, 6],
  [17, 29, 16, 24],
];

/** rotl(x, r) = (x << r) | (x >>> (32 - r)) on uint32. */
function rotl(x: NDArray, r: number): NDArray {
  return lax.or(lax.shiftLeft(x, u32(r, x.shape)), lax.shiftRightLogical(x, u32(32 - r, x.shape)));
}

/** The two words of a key as uint32 scalars. */
function words(key: NDArray): [NDArray, NDArray] {
  return [lax.reshape(lax.slice(key, [0], [1]), []), lax.reshape(lax.slice(key, [1], [2]), [])];
}

/**
 * Threefry-2x32 with 20 rounds (Salmon et al., Random123) of the counter pairs (x0[i], x1[i]) under
 * `key`: ks = [k0, k1, k0 ^ k1 ^ 0x1BD11BDA]; x += ks[0..1]; five groups of four rounds
 * (x0 += x1; x1 = rotl(x1, r) ^ x0), each followed by the key injection x0 += ks[(g+1)%3],
 * x1 += ks[(g+2)%3] + g + 1. All adds wrap mod 2^32.
 */
export function threefry2x32(key: NDArray, x0: NDArray, x1: NDArray): [NDArray, NDArray] {
  checkKey("threefry2x32", key);
  if (!(x0 instanceof NDArray) || !(x1 instanceof NDArray) || x0.dtype !== "uint32" || x1.dtype !== "uint32" || x0.shape.join() !== x1.shape.join()) {
    throw new ArgumentError(`random.threefry2x32: the counter words must be two uint32 arrays of one shape, got ${describe(x0)}, ${describe(x1)}`);
  }
  const shape = x0.shape.slice();
  const [k0, k1] = words(key);
  const ks = [k0, k1, lax.xor(lax.xor(k0, k1), lax.scalar(0x1bd11bda, "uint32"))].map((k) => lax.broadcastInDim(k, shape, []));
  let a = lax.add(x0, ks[0]!),
    b = lax.add(x1, ks[1]!);
  for (let g = 0; g < 5; g++) {
    for (const r of ROTATIONS[g % 2]!) {
      a = lax.add(a, b);
      b = lax.xor(rotl(b, r), a);
    }
    a = lax.add(a, ks[(g + 1) % 3]!);
    b = lax.add(lax.add(b, ks[(g + 2) % 3]!), u32(g + 1, shape));
  }
  return [a, b];
}

/** A concrete uint32 counter start, start+1, ..., start+n-1 (a constant in staged programs). */
function iota(start: number, n: number): ConcreteArray {
  const v = new Uint32Array(n);
  for (let i = 0; i < n; i++) v[i] = start + i;
  return new ConcreteArray(v, [n], "uint32");
}

/** JAX's threefry_2x32 of the counter 0..n-1: the halves are enciphered as pairs, an odd n padded with 0. */
export function cipherIota(key: NDArray, n: number): NDArray {
  if (n === 0) return lax.full([0], 0, "uint32");
  const half = Math.ceil(n / 2);
  const x1 = n % 2 === 0 ? iota(half, half) : new ConcreteArray(Uint32Array.from([...iota(half, half - 1).values, 0]), [half], "uint32");
  const [y0, y1] = threefry2x32(key, iota(0, half), x1);
  const out = lax.concatenate([y0, y1], 0);
  return n % 2 === 0 ? out : lax.slice(out, [0], [n]);
}
