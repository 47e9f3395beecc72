/**
 * `dotStrided`: dot_generals whose operands are gathered with their own strides into the wasm
 * GEMM (transposed, interleaved and batched layouts, both orientations of the product), against a
 * plain dot_general loop written here; and the bits of transpose-then-multiply. Its own file, so
 * the engine starts unshared and is then made shared by a threaded product.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { dotStrided } from "../../interpreters/eval/kernels/dot_strided.js";
import { configureMatmul, lastMatmulPath, matmul, type MatmulConfig } from "../../interpreters/eval/kernels/matmul.js";
import { rng } from "../../laws/numeric.js";

type Ctor = Float32ArrayConstructor | Float64ArrayConstructor;
type Dims = readonly [readonly number[], readonly number[]];
interface Case {
  name: string;
  l: number[];
  r: number[];
  contract: Dims;
  batch: Dims;
}

const CASES: Case[] = [
  { name: "batched A·B", l: [3, 7, 5], r: [3, 5, 19], contract: [[2], [1]], batch: [[0], [0]] },
  { name: "batched Aᵀ·B, 3 columns (runs as Cᵀ = Bᵀ·A)", l: [5, 33, 9], r: [5, 33, 3], contract: [[1], [1]], batch: [[0], [0]] },
  { name: "batched A·Bᵀ", l: [4, 17, 3], r: [4, 21, 3], contract: [[2], [2]], batch: [[0], [0]] },
  { name: "Aᵀ·Bᵀ, no batch", l: [13, 6], r: [11, 13], contract: [[0], [1]], batch: [[], []] },
  { name: "batch dim last on the left, middle on the right", l: [9, 4, 3], r: [5, 3, 9], contract: [[0], [2]], batch: [[2], [1]] },
  {
    name: "two contracting dims in swapped order",
    l: [6, 4, 3, 5],
    r: [5, 3, 4, 7],
    contract: [
      [1, 3],
      [2, 0],
    ],
    batch: [[], []],
  },
  {
    name: "two batch dims, interleaved free dims",
    l: [2, 7, 3, 6],
    r: [3, 6, 2, 10],
    contract: [[3], [1]],
    batch: [
      [0, 2],
      [2, 0],
    ],
  },
  { name: "a free dim split around the batch", l: [64, 16], r: [8, 16, 32], contract: [[1], [1]], batch: [[], []] },
  // A_e read in place from its transposed layout with rows 21 elements apart (lda > m).
  { name: "batch between the contracting and free dims of A", l: [5, 3, 7], r: [3, 5, 4], contract: [[0], [1]], batch: [[1], [0]] },
  { name: "K above the kernel's depth block", l: [2, 5, 300], r: [2, 300, 4], contract: [[2], [1]], batch: [[0], [0]] },
  // Few columns: the narrow register tile (6 rows by one vector), with row and column remainders.
  { name: "batched A·B with 4 columns (narrow tile)", l: [8, 64, 32], r: [8, 32, 4], contract: [[2], [1]], batch: [[0], [0]] },
  { name: "3 columns, 13 rows (narrow tile, edges)", l: [3, 13, 9], r: [3, 9, 3], contract: [[2], [1]], batch: [[0], [0]] },
  { name: "5 columns from a transposed B (narrow tile)", l: [2, 40, 17], r: [2, 5, 17], contract: [[2], [2]], batch: [[0], [0]] },
];

const size = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);
const stridesOf = (s: readonly number[]) => s.map((_, d) => size(s.slice(d + 1)));

/** dot_general by definition: out[batch, lFree, rFree] = Σ over the contracting index of l · r. */
function reference(l: ArrayLike<number>, ls: number[], r: ArrayLike<number>, rs: number[], [lc, rc]: Dims, [lb, rb]: Dims): Float64Array {
  const lFree = ls.map((_, d) => d).filter((d) => !lc.includes(d) && !lb.includes(d));
  const rFree = rs.map((_, d) => d).filter((d) => !rc.includes(d) && !rb.includes(d));
  const outShape = [...lb.map((d) => ls[d]!), ...lFree.map((d) => ls[d]!), ...rFree.map((d) => rs[d]!)];
  const kShape = lc.map((d) => ls[d]!);
  const lst = stridesOf(ls),
    rst = stridesOf(rs);
  const out = new Float64Array(size(outShape));
  const index = (flat: number, shape: number[]) => shape.map((_, d) => Math.floor(flat / size(shape.slice(d + 1))) % shape[d]!);
  for (let o = 0; o < out.length; o++) {
    const idx = index(o, outShape);
    const bIdx = idx.slice(0, lb.length),
      lIdx = idx.slice(lb.length, lb.length + lFree.length),
      rIdx = idx.slice(lb.length + lFree.length);
    let acc = 0;
    for (let kf = 0; kf < size(kShape); kf++) {
      const kIdx = index(kf, kShape);
      let lo = 0,
        ro = 0;
      lb.forEach((d, i) => (lo += bIdx[i]! * lst[d]!));
      rb.forEach((d, i) => (ro += bIdx[i]! * rst[d]!));
      lFree.forEach((d, i) => (lo += lIdx[i]! * lst[d]!));
      rFree.forEach((d, i) => (ro += rIdx[i]! * rst[d]!));
      lc.forEach((d, i) => (lo += kIdx[i]! * lst[d]!));
      rc.forEach((d, i) => (ro += kIdx[i]! * rst[d]!));
      acc += l[lo]! * r[ro]!;
    }
    out[o] = acc;
  }
  return out;
}

/** The operands transposed into [batch, free, contract] and [batch, contract, free], multiplied by `matmul`. */
function transposeThenMultiply<T extends Float32Array | Float64Array>(
  Ctor: Ctor,
  l: T,
  ls: number[],
  r: T,
  rs: number[],
  [lc, rc]: Dims,
  [lb, rb]: Dims,
): T {
  const permute = (x: T, shape: number[], perm: number[]) => {
    const st = stridesOf(shape),
      ps = perm.map((p) => shape[p]!);
    const out = new Ctor(x.length) as T;
    for (let o = 0; o < out.length; o++) {
      let src = 0;
      perm.forEach((p, d) => (src += (Math.floor(o / size(ps.slice(d + 1))) % ps[d]!) * st[p]!));
      out[o] = x[src]!;
    }
    return out;
  };
  const lFree = ls.map((_, d) => d).filter((d) => !lc.includes(d) && !lb.includes(d));
  const rFree = rs.map((_, d) => d).filter((d) => !rc.includes(d) && !rb.includes(d));
  const sz = (s: number[], dims: readonly number[]) => size(dims.map((d) => s[d]!));
  const c = new Ctor(sz(ls, lb) * sz(ls, lFree) * sz(rs, rFree)) as T;
  matmul(permute(l, ls, [...lb, ...lFree, ...lc]), permute(r, rs, [...rb, ...rc, ...rFree]), c, sz(ls, lb), sz(ls, lFree), sz(ls, lc), sz(rs, rFree));
  return c;
}

let saved: MatmulConfig;
beforeAll(() => {
  saved = configureMatmul({ wasm: true, wasmMinWork: 0 });
});
afterAll(() => {
  configureMatmul(saved);
});

describe("dotStrided", () => {
  it("matches the dot_general loop and transpose-then-multiply's bits, in an unshared memory, then in a shared one", () => {
    for (const memory of ["unshared", "shared"]) {
      if (memory === "shared") {
        configureMatmul({ threads: 2, threadMinWork: 0 });
        const x = new Float32Array(64 * 64).fill(1);
        matmul(x, x, new Float32Array(64 * 64), 1, 64, 64, 64);
        configureMatmul({ threads: saved.threads, threadMinWork: saved.threadMinWork });
        if (lastMatmulPath().threads < 2) return;
      }
      let narrow = 0,
        inPlace = 0;
      CASES.forEach((c, i) => {
        for (const [Ctor, tol] of [
          [Float32Array, 1e-4],
          [Float64Array, 1e-12],
        ] as const) {
          const r0 = rng(7 * i + (Ctor === Float32Array ? 1 : 2));
          const l = new Ctor(size(c.l)).map(() => 2 * r0() - 1),
            r = new Ctor(size(c.r)).map(() => 2 * r0() - 1);
          const want = reference(l, c.l, r, c.r, c.contract, c.batch);
          const got = new Ctor(want.length).fill(Number.NaN);
          expect(dotStrided(l, c.l, r, c.r, c.contract, c.batch, got), c.name).toBe(true);
          if (lastMatmulPath().narrow) narrow++;
          if (lastMatmulPath().inPlace) inPlace++;
          let err = 0;
          for (let t = 0; t < want.length; t++) err = Math.max(err, Math.abs(got[t]! - want[t]!));
          expect(err, `${memory} ${c.name} ${Ctor.name}`).toBeLessThan(tol);
          const plain = transposeThenMultiply(Ctor, l, c.l, r, c.r, c.contract, c.batch);
          expect(lastMatmulPath().path).toBe("wasm");
          expect(Array.from(got), `${memory} ${c.name} ${Ctor.name}: bits`).toEqual(Array.from(plain));
        }
      });
      // The three few-column cases, float32 and float64, ran on the narrow tile; dense operands were
      // read in place and interleaved ones gathered.
      expect(narrow, memory).toBeGreaterThanOrEqual(6);
      expect(inPlace, memory).toBeGreaterThanOrEqual(12);
      expect(inPlace, memory).toBeLessThan(2 * CASES.length);
    }
  });

  it("reads broadcast (stride-0) and transposed views in place, with the bits of the materialised operands", () => {
    // A vmapped layer: the data broadcast over 8 models (and transposed, for the weight gradient).
    const views: { name: string; l: number[]; ls: number[]; lStrides: number[]; r: number[]; contract: Dims }[] = [
      { name: "x broadcast · W_e", l: [8, 64, 16], ls: [64, 16], lStrides: [0, 16, 1], r: [8, 16, 32], contract: [[2], [1]] },
      { name: "xᵀ broadcast · G_e", l: [8, 16, 64], ls: [64, 16], lStrides: [0, 1, 16], r: [8, 64, 32], contract: [[2], [1]] },
      { name: "xᵀ broadcast · G_e, 4 columns", l: [8, 16, 64], ls: [64, 16], lStrides: [0, 1, 16], r: [8, 64, 4], contract: [[2], [1]] },
    ];
    views.forEach((v, i) => {
      for (const Ctor of [Float32Array, Float64Array]) {
        const r0 = rng(40 + i);
        const src = new Ctor(size(v.ls)).map(() => 2 * r0() - 1),
          r = new Ctor(size(v.r)).map(() => 2 * r0() - 1);
        // The view materialised: element (b, i, j) of l is src at b·s0 + i·s1 + j·s2.
        const l = new Ctor(size(v.l));
        const lst = stridesOf(v.l);
        for (let o = 0; o < l.length; o++) l[o] = src[v.l.reduce((acc, d, ax) => acc + (Math.floor(o / lst[ax]!) % d) * v.lStrides[ax]!, 0)]!;
        const batch: Dims = [[0], [0]];
        const got = new Ctor((size(v.l) / v.l[2]!) * v.r[2]!);
        expect(dotStrided(src, v.l, r, v.r, v.contract, batch, got, v.lStrides), v.name).toBe(true);
        expect(lastMatmulPath().inPlace, v.name).toBe(true);
        const plain = transposeThenMultiply(Ctor, l, v.l, r, v.r, v.contract, batch);
        expect(Array.from(got), `${v.name} ${Ctor.name}: bits`).toEqual(Array.from(plain));
      }
    });
  });

  it("plans once per params object, and again when the shapes, batch dims or element type change", () => {
    const contract: Dims = [[1], [1]];
    const batched: Dims = [[0], [0]],
      unbatched: Dims = [[], []];
    for (const [ls, rs, Ctor, batch] of [
      [[3, 20, 6], [3, 20, 3], Float32Array, batched],
      [[3, 20, 6], [3, 20, 3], Float32Array, batched],
      [[3, 20, 6], [3, 20, 3], Float32Array, unbatched],
      [[2, 9, 5], [2, 9, 7], Float32Array, batched],
      [[2, 9, 5], [2, 9, 7], Float64Array, batched],
    ] as const) {
      const r0 = rng(size(ls) + size(rs));
      const l = new Ctor(size(ls)).map(() => 2 * r0() - 1),
        r = new Ctor(size(rs)).map(() => 2 * r0() - 1);
      const want = reference(l, [...ls], r, [...rs], contract, batch);
      const got = new Ctor(want.length);
      expect(dotStrided(l, ls, r, rs, contract, batch, got)).toBe(true);
      got.forEach((g, t) => expect(Math.abs(g - want[t]!)).toBeLessThan(1e-4));
    }
  });

  it("declines, writing nothing, for mixed types, wasm off, and single-row products", () => {
    const out = new Float32Array(12).fill(7);
    const l = new Float32Array(6).fill(1),
      r = new Float32Array(8).fill(1);
    const dims: [Dims, Dims] = [
      [[1], [0]],
      [[], []],
    ];
    expect(dotStrided(l, [3, 2], new Float64Array(8), [2, 4], ...dims, out)).toBe(false);
    expect(dotStrided(l, [1, 6], new Float32Array(6), [6, 1], [[1], [0]], [[], []], new Float32Array(1))).toBe(false);
    // An empty contraction: nothing to read in place (the callers' general paths write the zeros).
    expect(dotStrided(new Float32Array(0), [3, 0], new Float32Array(0), [0, 4], [[1], [0]], [[], []], out)).toBe(false);
    configureMatmul({ wasm: false });
    expect(dotStrided(l, [3, 2], r, [2, 4], ...dims, out)).toBe(false);
    configureMatmul({ wasm: true });
    expect(Array.from(out)).toEqual(new Array(12).fill(7));
  });
});
