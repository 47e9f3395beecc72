/**
 * The eager gather, scatter-add and scatter (interpreters/eval/impl.ts) through the primitives'
 * binders and the public API, against plain loops over JS arrays written here: every dtype,
 * repeated, negative and out-of-range indices, batch dims, rows of one element and of many, and
 * empty shapes; scatter-add's sums in index order (float32 sums of values of many magnitudes, which
 * another order rounds differently) and scatter's ops with NaN and signed zeros.
 */
import { describe, expect, it } from "vitest";
import { type NDArray, np, vmap } from "../../src/index.js";
import * as coreLax from "../../src/core/lax.js";
import type { DType } from "../../src/core/dtype.js";
import type { ScatterOp } from "../../src/core/prim.js";
import { rng } from "../../laws/numeric.js";

/** An array on the host: its shape and its elements in row-major order. */
interface Host {
  shape: number[];
  data: number[];
}

const DTYPES: DType[] = ["float32", "float64", "int32", "uint32", "bool"];
const ARRAYS = { float32: Float32Array, float64: Float64Array, int32: Int32Array, uint32: Uint32Array, bool: Uint8Array };

/** What storing a number into an array of each dtype keeps (a missing element, undefined, is NaN). */
const STORE: Record<DType, (v: number) => number> = {
  float32: (v) => Math.fround(v),
  float64: (v) => Number(v),
  int32: (v) => v | 0,
  uint32: (v) => v >>> 0,
  bool: (v) => (Number.isFinite(v) ? ((Math.trunc(v) % 256) + 256) % 256 : 0),
};

const sizeOf = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

/** Every multi-index of `shape`, in row-major order. */
function indices(shape: readonly number[]): number[][] {
  const out: number[][] = [];
  const walk = (prefix: number[]) => {
    if (prefix.length === shape.length) out.push(prefix);
    else for (let i = 0; i < shape[prefix.length]!; i++) walk([...prefix, i]);
  };
  walk([]);
  return out;
}

const flat = (index: readonly number[], shape: readonly number[]) => index.reduce((f, v, d) => f * shape[d]! + v, 0);

/** The three parts of an output (or update) index: dims before the axis, the index's dims, dims after it. */
function parts(o: number[], x: Host, idx: Host, axis: number, batchDims: number) {
  const k = idx.shape.length - batchDims;
  const pre = o.slice(0, axis);
  return { pre, j: idx.data[flat([...pre.slice(0, batchDims), ...o.slice(axis, axis + k)], idx.shape)]!, post: o.slice(axis + k) };
}

const gatheredShape = (x: Host, idx: Host, axis: number, batchDims: number) => [
  ...x.shape.slice(0, axis),
  ...idx.shape.slice(batchDims),
  ...x.shape.slice(axis + 1),
];

/** out[pre, i, post] = x[pre, clamp(idx[pre's batch dims, i]), post]. */
function gatherRef(x: Host, idx: Host, axis: number, batchDims: number, dtype: DType): number[] {
  const n = x.shape[axis]!;
  return indices(gatheredShape(x, idx, axis, batchDims)).map((o) => {
    const { pre, j, post } = parts(o, x, idx, axis, batchDims);
    // From an empty axis (no elements at all) the read finds undefined, stored as NaN or 0.
    return STORE[dtype](x.data[flat([...pre, Math.min(Math.max(j, 0), n - 1), ...post], x.shape)]!);
  });
}

/**
 * x with each update combined in, one after another in row-major order of the updates: "add" at the
 * clamped index, the scatter ops only at indices inside the axis. min and max keep a NaN of x, else
 * take a NaN update, else the smaller (larger) value, the update where they compare equal.
 */
function scatterRef(x: Host, idx: Host, upd: Host, axis: number, batchDims: number, dtype: DType, op: ScatterOp | "add"): number[] {
  const n = x.shape[axis]!;
  const data = x.data.slice();
  if (data.length === 0) return data;
  for (const o of indices(upd.shape)) {
    const { pre, j, post } = parts(o, x, idx, axis, batchDims);
    if (op !== "add" && (j < 0 || j >= n)) continue;
    const at = flat([...pre, op === "add" ? Math.min(Math.max(j, 0), n - 1) : j, ...post], x.shape);
    const a = data[at]!,
      u = upd.data[flat(o, upd.shape)]!;
    let v: number;
    if (op === "add") v = a + u;
    else if (op === "set") v = u;
    else if (op === "mul") v = a * u;
    else if (Number.isNaN(a)) v = a;
    else if (Number.isNaN(u)) v = u;
    else if (op === "min") v = a < u ? a : u;
    else v = a > u ? a : u;
    data[at] = STORE[dtype](v);
  }
  return data;
}

/** Elements that compare as the same bits: NaN equals NaN, -0 differs from 0. */
const bits = (a: ArrayLike<number>): string[] => Array.from(a, (v) => (Object.is(v, -0) ? "-0" : String(v)));

const toArray = (h: Host, dtype: DType): NDArray => np.array(ARRAYS[dtype].from(h.data), { dtype }).reshape(h.shape);

/** Values of a dtype that show rounding, wrapping, NaN and signed zeros. */
function values(r: () => number, dtype: DType, count: number): number[] {
  const int = (n: number) => Math.floor(r() * n);
  return Array.from({ length: count }, () => {
    const c = r();
    switch (dtype) {
      case "float32":
      case "float64": {
        if (c < 0.04) return NaN;
        if (c < 0.08) return -0;
        if (c < 0.1) return 0;
        const v = (r() - 0.5) * 10 ** (int(14) - 6);
        return dtype === "float32" ? Math.fround(v) : v;
      }
      case "int32":
        return c < 0.3 ? (c < 0.15 ? 2 ** 31 - 1 - int(4) : -(2 ** 31) + int(4)) : int(200) - 100;
      case "uint32":
        return c < 0.3 ? 2 ** 32 - 1 - int(4) : int(200);
      case "bool":
        return int(2);
    }
  });
}

const host = (r: () => number, dtype: DType, shape: number[]): Host => ({ shape, data: values(r, dtype, sizeOf(shape)) });

/** Indices in [lo, hi) (so with repeats, and negative or past the axis where the range says). */
const indexHost = (r: () => number, shape: number[], lo: number, hi: number): Host => ({
  shape,
  data: Array.from({ length: sizeOf(shape) }, () => lo + Math.floor(r() * (hi - lo))),
});

interface Case {
  x: number[];
  idx: number[];
  axis: number;
  batchDims?: number;
}

const CASES: Case[] = [
  { x: [7], idx: [12], axis: 0 },
  { x: [7], idx: [13], axis: 0 },
  { x: [7], idx: [], axis: 0 },
  { x: [5, 3], idx: [9], axis: 0 },
  { x: [5, 3], idx: [6], axis: 1 },
  { x: [5, 3], idx: [3, 3], axis: 1 },
  { x: [2, 6, 4], idx: [3, 2], axis: 1 },
  { x: [4, 31], idx: [7], axis: 0 },
  { x: [4, 32], idx: [7], axis: 0 },
  { x: [3, 5, 33], idx: [5], axis: 1 },
  { x: [3, 100], idx: [2, 3], axis: 0 },
  { x: [2, 5, 3], idx: [2, 4], axis: 1, batchDims: 1 },
  { x: [2, 3, 5, 4], idx: [2, 6], axis: 2, batchDims: 1 },
  { x: [2, 3, 5], idx: [2, 3, 7], axis: 2, batchDims: 2 },
  { x: [2, 4, 40], idx: [2, 5], axis: 1, batchDims: 1 },
  { x: [2, 4], idx: [2], axis: 1, batchDims: 1 },
  // Empty: the axis (with indices to read), the rows, the indices, the batch.
  { x: [0, 3], idx: [2], axis: 0 },
  { x: [0], idx: [5], axis: 0 },
  { x: [3, 0], idx: [4], axis: 0 },
  { x: [5], idx: [0], axis: 0 },
  { x: [0, 5, 2], idx: [0, 3], axis: 1, batchDims: 1 },
];

const name = (c: Case) => `x [${c.x}], idx [${c.idx}], axis ${c.axis}, batchDims ${c.batchDims ?? 0}`;

describe("eager gather and scatters against plain loops", () => {
  for (const dtype of DTYPES)
    it(`${dtype}: gather, scatter-add and every scatter op on each case`, () => {
      const r = rng(DTYPES.indexOf(dtype) + 11);
      for (const c of CASES) {
        const bd = c.batchDims ?? 0,
          n = c.x[c.axis]!;
        const x = host(r, dtype, c.x);
        // Mostly in range, some negative or past the axis.
        const idx = indexHost(r, c.idx, -3, n + 3);
        const upd = host(r, dtype, gatheredShape(x, idx, c.axis, bd));
        const [xa, ia, ua] = [toArray(x, dtype), toArray(idx, "int32"), toArray(upd, dtype)];
        expect(bits(coreLax.gather(xa, ia, c.axis, bd).dataSync()), `gather ${name(c)}`).toEqual(bits(gatherRef(x, idx, c.axis, bd, dtype)));
        expect(bits(coreLax.scatterAdd(xa, ia, ua, c.axis, bd).dataSync()), `scatterAdd ${name(c)}`).toEqual(
          bits(scatterRef(x, idx, upd, c.axis, bd, dtype, "add")),
        );
        for (const op of ["set", "mul", "min", "max"] as const)
          expect(bits(coreLax.scatter(xa, ia, ua, c.axis, op, bd).dataSync()), `scatter ${op} ${name(c)}`).toEqual(
            bits(scatterRef(x, idx, upd, c.axis, bd, dtype, op)),
          );
      }
    });

  it("float32 scatter-add sums repeated indices in index order, in rows of one element and of many", () => {
    const r = rng(7);
    for (const q of [1, 3, 40]) {
      const x = host(r, "float32", [3, q]);
      x.data = x.data.map((v) => (Number.isNaN(v) ? 1 : v));
      const idx = indexHost(r, [2000], -1, 4);
      const upd = host(r, "float32", [2000, q]);
      upd.data = upd.data.map((v) => (Number.isNaN(v) ? 0.5 : v));
      const got = coreLax.scatterAdd(toArray(x, "float32"), toArray(idx, "int32"), toArray(upd, "float32"), 0).dataSync();
      expect(bits(got), `rows of ${q}`).toEqual(bits(scatterRef(x, idx, upd, 0, 0, "float32", "add")));
      // The same sums in the reverse order round differently, so the check above sees the order.
      const reversed = scatterRef(
        x,
        { shape: idx.shape, data: idx.data.slice().reverse() },
        { shape: upd.shape, data: indices([2000, q]).map(([i, k]) => upd.data[(1999 - i!) * q + k!]!) },
        0,
        0,
        "float32",
        "add",
      );
      expect(bits(reversed)).not.toEqual(bits(got));
    }
  });

  it("int32 and uint32 scatter-add wrap, and bool counts past 1, as their arrays store", () => {
    const x = toArray({ shape: [2], data: [2 ** 31 - 2, 1] }, "int32");
    const idx = toArray({ shape: [3], data: [0, 0, 1] }, "int32");
    expect(Array.from(coreLax.scatterAdd(x, idx, toArray({ shape: [3], data: [1, 1, -2] }, "int32"), 0).dataSync())).toEqual([-(2 ** 31), -1]);
    const u = toArray({ shape: [2], data: [2 ** 32 - 1, 0] }, "uint32");
    expect(Array.from(coreLax.scatterAdd(u, idx, toArray({ shape: [3], data: [1, 2, 5] }, "uint32"), 0).dataSync())).toEqual([2, 5]);
    const b = toArray({ shape: [2], data: [1, 0] }, "bool");
    expect(Array.from(coreLax.scatterAdd(b, idx, toArray({ shape: [3], data: [1, 1, 1] }, "bool"), 0).dataSync())).toEqual([3, 1]);
  });

  it("scatter: the last set wins, NaN in x stays through min and max, equal zeros take the update", () => {
    const x = toArray({ shape: [4], data: [NaN, -0, 0, 5] }, "float32");
    const idx = toArray({ shape: [6], data: [3, 0, 1, 2, 3, 4] }, "int32");
    const upd = toArray({ shape: [6], data: [1, 2, 0, -0, 7, 9] }, "float32");
    expect(bits(coreLax.scatter(x, idx, upd, 0, "set").dataSync())).toEqual(bits([2, 0, -0, 7]));
    expect(bits(coreLax.scatter(x, idx, upd, 0, "min").dataSync())).toEqual(bits([NaN, 0, -0, 1]));
    expect(bits(coreLax.scatter(x, idx, upd, 0, "max").dataSync())).toEqual(bits([NaN, 0, -0, 7]));
  });
});

describe("gather kernels through the public API", () => {
  const r = rng(13);

  it("np.take in clip mode and in its default mode, on every axis and dtype", () => {
    for (const dtype of DTYPES)
      for (const shape of [[9], [6, 5], [3, 4, 40]])
        for (let axis = 0; axis < shape.length; axis++) {
          const x = host(r, dtype, shape);
          const n = shape[axis]!;
          const clipped = indexHost(r, [2, 5], -4, n + 4);
          const got = np.take(toArray(x, dtype), toArray(clipped, "int32"), axis, { mode: "clip" }).dataSync();
          expect(bits(got), `${dtype} [${shape}] axis ${axis}`).toEqual(bits(gatherRef(x, clipped, axis, 0, dtype)));
          // In range from the end too: negative indices count back from n.
          const wrapped = indexHost(r, [7], -n, n);
          const want = gatherRef(x, { shape: [7], data: wrapped.data.map((j) => (j < 0 ? j + n : j)) }, axis, 0, dtype);
          expect(bits(np.take(toArray(x, dtype), toArray(wrapped, "int32"), axis).dataSync())).toEqual(bits(want));
        }
  });

  it("x.at(idx) add, set, mul, min and max with repeated indices", () => {
    for (const dtype of DTYPES)
      for (const shape of [[6], [5, 3], [4, 36]]) {
        const x = host(r, dtype, shape);
        const n = shape[0]!;
        // In range (negative ones from the end): x.at drops indices outside [-n, n).
        const idx = indexHost(r, [9], -n, n);
        const pos = { shape: idx.shape, data: idx.data.map((j) => (j < 0 ? j + n : j)) };
        const upd = host(r, dtype, [9, ...shape.slice(1)]);
        const at = toArray(x, dtype).at(toArray(idx, "int32"));
        const u = toArray(upd, dtype);
        const got = { add: at.add(u), set: at.set(u), mul: at.mul(u), min: at.min(u), max: at.max(u) };
        for (const op of ["add", "set", "mul", "min", "max"] as const)
          expect(bits(got[op].dataSync()), `${dtype} [${shape}] ${op}`).toEqual(bits(scatterRef(x, pos, upd, 0, 0, dtype, op)));
      }
  });

  it("vmap of np.take and of x.at(idx).add: gathers and scatters with a batch dim", () => {
    for (const dtype of ["float32", "int32"] as const) {
      const x = host(r, dtype, [3, 5, 4]);
      const idx = indexHost(r, [3, 6], -2, 7);
      const take = vmap((a: NDArray, i: NDArray) => np.take(a, i, 0, { mode: "clip" }));
      expect(bits(take(toArray(x, dtype), toArray(idx, "int32")).dataSync())).toEqual(bits(gatherRef(x, idx, 1, 1, dtype)));
      const inRange = indexHost(r, [3, 6], 0, 5);
      const upd = host(r, dtype, [3, 6, 4]);
      const add = vmap((a: NDArray, i: NDArray, u: NDArray) => a.at(i).add(u));
      expect(bits(add(toArray(x, dtype), toArray(inRange, "int32"), toArray(upd, dtype)).dataSync())).toEqual(
        bits(scatterRef(x, inRange, upd, 1, 1, dtype, "add")),
      );
    }
  });
});
