/**
 * `matmulWasmGathered` (interpreters/eval/kernels/matmul_wasm.ts) and the conv lowerings that use it
 * (conv_gemm.ts): an operand gathered per entry by a plan of runs, in wasm, on one thread and on
 * worker threads. Against a plan interpreter and a triple loop written here, and the convolution's
 * definition; threaded results must equal single-threaded ones bit for bit. Its own file, so the
 * engine starts unshared and is made shared by the first threaded product.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ConvGeometry } from "../../interpreters/eval/kernels/conv.js";
import { type ConvLowering, convGemm, convGemmLayout } from "../../interpreters/eval/kernels/conv_gemm.js";
import { RUN_INTS } from "../../interpreters/eval/kernels/gather_wasm_module.js";
import { configureMatmul, lastMatmulPath, type MatmulConfig } from "../../interpreters/eval/kernels/matmul.js";
import { type GatheredProduct, matmulWasmGathered } from "../../interpreters/eval/kernels/matmul_wasm.js";
import { rng } from "../../laws/numeric.js";

type Ctor = Float32ArrayConstructor | Float64ArrayConstructor;
/** One run, in elements: [to, from (-1: zeros), count, step, reps, toStride, fromStride]. */
type Run = [number, number, number, number, number, number, number];

const prod = (v: readonly number[]) => v.reduce((a, b) => a * b, 1);

/** Runs `runs` on `dst` reading `src` at `base`, by the documented semantics (later runs overwrite earlier ones). */
function interpret(runs: readonly Run[], src: ArrayLike<number>, base: number, dst: Float64Array): void {
  for (const [to, from, count, step, reps, toStride, fromStride] of runs)
    for (let r = 0; r < reps; r++)
      for (let i = 0; i < count; i++) dst[to + r * toStride + i] = from < 0 ? 0 : src[base + from + r * fromStride + i * step]!;
}

/** Random runs that write an operand of `size` elements: zeros over all of it, then copies and zero patches. */
function randomRuns(r: () => number, size: number, inputSize: number): Run[] {
  const int = (n: number) => Math.floor(r() * n);
  const runs: Run[] = [[0, -1, size, 1, 1, 0, 0]];
  for (let t = 0; t < 12; t++) {
    const count = 1 + int(Math.min(size, 41));
    const reps = 1 + int(3);
    const toStride = count + int(5);
    if (toStride * (reps - 1) + count > size) continue;
    const to = int(size - toStride * (reps - 1) - count + 1);
    if (int(5) === 0) {
      runs.push([to, -1, count, 1, reps, toStride, 0]);
      continue;
    }
    const step = int(3) === 0 ? 1 + int(3) : 1;
    const fromStride = int(20);
    const span = (count - 1) * step + fromStride * (reps - 1) + 1;
    if (span > inputSize) continue;
    runs.push([to, int(inputSize - span + 1), count, step, reps, toStride, fromStride]);
  }
  return runs;
}

const encode = (segments: Run[][], bytes: number): { plan: Int32Array; segments: number[] } => {
  const ints: number[] = [],
    starts = [0];
  for (const seg of segments) {
    for (const [to, from, count, step, reps, toStride, fromStride] of seg)
      ints.push(to * bytes, from < 0 ? -1 : from * bytes, count, step * bytes, reps, toStride * bytes, fromStride * bytes, 0);
    starts.push(ints.length / RUN_INTS);
  }
  return { plan: Int32Array.from(ints), segments: starts };
};

interface Case {
  gathered: "a" | "b";
  batch: number;
  m: number;
  k: number;
  n: number;
  segs: number;
  srcStep: number;
}

const CASES: Case[] = [
  { gathered: "b", batch: 5, m: 3, k: 7, n: 37, segs: 1, srcStep: 13 },
  { gathered: "b", batch: 4, m: 16, k: 30, n: 33, segs: 2, srcStep: 0 },
  { gathered: "a", batch: 3, m: 9, k: 50, n: 16, segs: 3, srcStep: 0 },
  { gathered: "a", batch: 6, m: 4, k: 21, n: 5, segs: 2, srcStep: 17 },
  // B one register tile wide for float64 (8 columns; 16 for float32, above): used without packing.
  { gathered: "a", batch: 2, m: 6, k: 40, n: 8, segs: 1, srcStep: 11 },
];

/** Runs one gathered product with random plans; returns C and the reference. */
function run(Ctor: Ctor, c: Case, seed: number, gatherShared = false): { got: Float64Array; want: Float64Array } {
  const r = rng(seed);
  const opSize = c.gathered === "a" ? c.m * c.k : c.k * c.n;
  const inputSize = 200 + c.srcStep * Math.ceil(c.batch / c.segs);
  const input = Ctor.from(Array.from({ length: inputSize }, () => 2 * r() - 1));
  const sharedSize = c.gathered === "a" ? c.k * c.n : c.m * c.k;
  // With `gatherShared`, the shared operand is gathered by runs from a source of 150 elements.
  const shared = Ctor.from(Array.from({ length: gatherShared ? 150 : sharedSize }, () => 2 * r() - 1));
  const sharedRuns = gatherShared ? randomRuns(r, sharedSize, 150) : undefined;
  const operand = new Float64Array(sharedSize);
  if (sharedRuns) interpret(sharedRuns, shared, 0, operand);
  else operand.set(shared);
  const segments = Array.from({ length: c.segs }, () => randomRuns(r, opSize, 200));
  const want = new Float64Array(c.batch * c.m * c.n);
  for (let e = 0; e < c.batch; e++) {
    const op = new Float64Array(opSize).fill(Number.NaN);
    interpret(segments[e % c.segs]!, input, Math.floor(e / c.segs) * c.srcStep, op);
    const [a, b] = c.gathered === "a" ? [op, operand] : [operand, op];
    for (let i = 0; i < c.m; i++)
      for (let j = 0; j < c.n; j++) {
        let acc = 0;
        for (let p = 0; p < c.k; p++) acc += a[i * c.k + p]! * b[p * c.n + j]!;
        want[(e * c.m + i) * c.n + j] = acc;
      }
  }
  const got = new Float64Array(want.length).fill(Number.NaN);
  const p: GatheredProduct = {
    ...c,
    shared,
    ...(sharedRuns ? { sharedRuns: encode([sharedRuns], Ctor.BYTES_PER_ELEMENT).plan } : {}),
    input,
    ...encode(segments, Ctor.BYTES_PER_ELEMENT),
    c: (view, at) => got.set(view.subarray(at, at + got.length)),
  };
  expect(matmulWasmGathered(Ctor === Float32Array ? "float32" : "float64", p)).toBe(true);
  return { got, want };
}

function maxError(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let e = 0;
  for (let i = 0; i < a.length; i++) e = Math.max(e, Math.abs(a[i]! - b[i]!));
  return e;
}

/** An ungrouped geometry; `hi` is the high padding per dim, from which the output size follows. */
function geometry(
  n: number,
  c: number,
  o: number,
  s: number[],
  k: number[],
  strides: number[],
  lo: number[],
  hi: number[],
  rhsDilation = [1, 1, 1],
): ConvGeometry {
  const q = s.map((size, d) => Math.floor((size + lo[d]! + hi[d]! - ((k[d]! - 1) * rhsDilation[d]! + 1)) / strides[d]!) + 1);
  return { n, c, o, i: c, s, k, q, strides, lo, lhsDilation: [1, 1, 1], rhsDilation, groups: 1, batchGroups: 1 };
}

/** out[n, o, q] = Σ_{c, a} rhs[o, c, a] · lhs[n, c, q·stride + a·dilation - lo], zero outside. */
function reference(lhs: ArrayLike<number>, rhs: ArrayLike<number>, g: ConvGeometry): Float64Array {
  const out = new Float64Array(g.n * g.o * prod(g.q));
  const [q0, q1, q2] = g.q as [number, number, number];
  const [k0, k1, k2] = g.k as [number, number, number];
  const [s0, s1, s2] = g.s as [number, number, number];
  let w = 0;
  for (let n = 0; n < g.n; n++)
    for (let o = 0; o < g.o; o++)
      for (let b0 = 0; b0 < q0; b0++)
        for (let b1 = 0; b1 < q1; b1++)
          for (let b2 = 0; b2 < q2; b2++, w++) {
            let acc = 0;
            for (let c = 0; c < g.c; c++)
              for (let a0 = 0; a0 < k0; a0++)
                for (let a1 = 0; a1 < k1; a1++)
                  for (let a2 = 0; a2 < k2; a2++) {
                    const p0 = b0 * g.strides[0]! + a0 * g.rhsDilation[0]! - g.lo[0]!,
                      p1 = b1 * g.strides[1]! + a1 * g.rhsDilation[1]! - g.lo[1]!,
                      p2 = b2 * g.strides[2]! + a2 * g.rhsDilation[2]! - g.lo[2]!;
                    if (p0 < 0 || p1 < 0 || p2 < 0 || p0 >= s0 || p1 >= s1 || p2 >= s2) continue;
                    acc += lhs[(((n * g.c + c) * s0 + p0) * s1 + p1) * s2 + p2]! * rhs[(((o * g.c + c) * k0 + a0) * k1 + a1) * k2 + a2]!;
                  }
            out[w] = acc;
          }
  return out;
}

const CONVS: [string, ConvGeometry][] = [
  ["3x3 SAME on odd sizes", geometry(5, 3, 7, [1, 13, 11], [1, 3, 3], [1, 1, 1], [0, 1, 1], [0, 1, 1])],
  ["strides 2 and 3, uneven padding", geometry(4, 3, 6, [1, 17, 9], [1, 3, 2], [1, 2, 3], [0, 2, 0], [0, 1, 2])],
  ["window dilation, negative padding", geometry(3, 4, 5, [1, 20, 21], [1, 4, 3], [1, 1, 2], [0, -1, 2], [0, 2, -1], [1, 2, 3])],
  ["1d", geometry(3, 6, 9, [1, 1, 101], [1, 1, 5], [1, 1, 1], [0, 0, 2], [0, 0, 2])],
  ["3d strided", geometry(2, 3, 4, [5, 7, 6], [2, 3, 3], [1, 1, 2], [1, 1, 1], [0, 1, 1], [2, 1, 1])],
  ["kernel-gradient shape (kernel as large as the image)", geometry(4, 6, 5, [1, 15, 13], [1, 15, 13], [1, 1, 1], [0, 1, 1], [0, 1, 1])],
];

let saved: MatmulConfig;
beforeAll(() => {
  saved = configureMatmul({ wasm: true, wasmMinWork: 0, threads: 1 });
});
afterAll(() => {
  configureMatmul(saved);
});

describe("matmulWasmGathered", () => {
  it("random plans (zeros, contiguous and strided runs, repeats, overlaps), the shared operand copied or gathered too, match a plan interpreter and a triple loop, on one thread and on two", () => {
    for (const threads of [1, 2]) {
      configureMatmul({ threads, threadMinWork: 0 });
      for (const [i, c] of CASES.entries()) {
        for (const [Ctor, tol] of [
          [Float64Array, 1e-12],
          [Float32Array, 1e-4],
        ] as const) {
          for (const gatherShared of [false, true]) {
            const { got, want } = run(Ctor, c, 100 + i, gatherShared);
            expect(maxError(got, want), `${threads} threads ${Ctor.name} ${gatherShared} ${JSON.stringify(c)}`).toBeLessThan(tol);
          }
        }
      }
    }
  });

  it("declines where the wasm kernels are off or the product has a single row", () => {
    const p: GatheredProduct = {
      batch: 1,
      m: 1,
      k: 4,
      n: 4,
      gathered: "b",
      shared: new Float32Array(4),
      input: new Float32Array(16),
      ...encode([[[0, 0, 16, 1, 1, 0, 0]]], 4),
      srcStep: 0,
      c: () => {
        throw new Error("read back a declined product");
      },
    };
    expect(matmulWasmGathered("float32", p)).toBe(false);
    configureMatmul({ wasm: false });
    try {
      expect(matmulWasmGathered("float32", { ...p, m: 4, shared: new Float32Array(16) })).toBe(false);
    } finally {
      configureMatmul({ wasm: true });
    }
  });
});

describe("conv lowerings on the gathered product", () => {
  for (const [name, g] of CONVS) {
    for (const lowering of ["columns", "rows", "shiftAdd"] as ConvLowering[]) {
      it(`${lowering}: ${name} matches the definition (float64 and float32), the same bits on one thread and on two`, () => {
        const r = rng(name.length);
        const lhs = Float64Array.from({ length: g.n * g.c * prod(g.s) }, () => 2 * r() - 1);
        const rhs = Float64Array.from({ length: g.o * g.c * prod(g.k) }, () => 2 * r() - 1);
        const want = reference(lhs, rhs, g);
        for (const [Ctor, tol] of [
          [Float64Array, 1e-12],
          [Float32Array, 1e-4],
        ] as const) {
          const results = [1, 2, 2].map((threads) => {
            configureMatmul({ threads, threadMinWork: 0 });
            const out = new Ctor(want.length).fill(Number.NaN);
            // Chunks of three rows cut the rows lowering into several entries, the last one padded.
            expect(convGemm(Ctor.from(lhs), Ctor.from(rhs), out, g, lowering, 3 * g.c * prod(g.k))).toBe(true);
            expect(lastMatmulPath()).toMatchObject({ path: "wasm" });
            return out;
          });
          expect(maxError(results[0]!, want)).toBeLessThan(tol);
          expect(Array.from(results[1]!)).toEqual(Array.from(results[0]!));
          expect(Array.from(results[2]!)).toEqual(Array.from(results[0]!));
        }
      });
    }
  }
});

/** a [d0, d1, rest] with its first two axes swapped. */
function swap<T extends Float32Array | Float64Array>(a: T, d0: number, d1: number, rest: number): T {
  const out = new (a.constructor as new (n: number) => T)(a.length);
  for (let i = 0; i < d0; i++) for (let j = 0; j < d1; j++) out.set(a.subarray((i * d1 + j) * rest, (i * d1 + j + 1) * rest), (j * d0 + i) * rest);
  return out;
}

describe("conv lowerings reading and writing swapped layouts", () => {
  for (const [name, g] of CONVS) {
    for (const lowering of ["columns", "rows"] as const) {
      it(`${lowering}: ${name}, every combination of swapped lhs, rhs and out, matches the definition and the plain layout's bits`, () => {
        configureMatmul({ threads: 2, threadMinWork: 0 });
        const r = rng(3 + name.length);
        const [sp, kp, qp] = [prod(g.s), prod(g.k), prod(g.q)];
        const lhs = Float64Array.from({ length: g.n * g.c * sp }, () => 2 * r() - 1);
        const rhs = Float64Array.from({ length: g.o * g.c * kp }, () => 2 * r() - 1);
        const want = reference(lhs, rhs, g);
        for (const [Ctor, tol] of [
          [Float64Array, 1e-12],
          [Float32Array, 1e-4],
        ] as const) {
          const [x, w] = [Ctor.from(lhs), Ctor.from(rhs)];
          const plain = new Ctor(want.length);
          expect(convGemm(x, w, plain, g, lowering, 3 * g.c * kp)).toBe(true);
          for (let mask = 1; mask < 8; mask++) {
            const layout = { lhs: (mask & 1) !== 0, rhs: (mask & 2) !== 0, out: (mask & 4) !== 0 };
            const out = new Ctor(want.length).fill(Number.NaN);
            const stored = [layout.lhs ? swap(x, g.n, g.c, sp) : x, layout.rhs ? swap(w, g.o, g.c, kp) : w] as const;
            expect(convGemmLayout(stored[0], stored[1], out, g, layout, lowering, 3 * g.c * kp)).toBe(true);
            const got = layout.out ? swap(out, g.o, g.n, qp) : out;
            expect(maxError(got, want), `${Ctor.name} ${JSON.stringify(layout)}`).toBeLessThan(tol);
            expect(Array.from(got)).toEqual(Array.from(plain));
          }
        }
      });
    }
  }

  it("declines, writing nothing, what the gathered product does not take (groups, lhs dilation, int32, wasm off)", () => {
    const g = geometry(2, 4, 4, [1, 9, 9], [1, 3, 3], [1, 1, 1], [0, 1, 1], [0, 1, 1]);
    const layout = { lhs: true, rhs: true, out: true };
    const [x, w] = [new Float64Array(2 * 4 * 81), new Float64Array(4 * 4 * 9)];
    const out = new Float64Array(2 * 4 * 81).fill(7);
    expect(convGemmLayout(x, new Float64Array(4 * 2 * 9), out, { ...g, i: 2, groups: 2 }, layout)).toBe(false);
    expect(convGemmLayout(x, w, out, { ...g, lhsDilation: [1, 2, 1] }, layout)).toBe(false);
    expect(convGemmLayout(new Int32Array(x.length), new Int32Array(w.length), new Int32Array(out.length), g, layout)).toBe(false);
    configureMatmul({ wasm: false });
    try {
      expect(convGemmLayout(x, w, out, g, layout)).toBe(false);
    } finally {
      configureMatmul({ wasm: true });
    }
    expect(out.every((v) => v === 7)).toBe(true);
  });
});
