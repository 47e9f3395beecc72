/**
 * The GEMM lowerings of ungrouped convolutions (interpreters/eval/kernels/conv_gemm.ts), each forced
 * in turn, against a plain loop over the definition written here: odd sizes, strides, window
 * dilation, lhs dilation (shift-add), padding on either side (negative too), 1 to 3 spatial dims,
 * kernels as large as the image (the kernel-gradient shape), and chunk sizes small enough to cut
 * the batch.
 */
import { describe, expect, it } from "vitest";
import { type ConvGeometry, convKernel } from "../../interpreters/eval/kernels/conv.js";
import { type ConvLowering, convGemm } from "../../interpreters/eval/kernels/conv_gemm.js";
import { configureMatmul, lastMatmulPath, matmul } from "../../interpreters/eval/kernels/matmul.js";
import { rng } from "../../laws/numeric.js";
import { hardwareThreads } from "../../src/codegen/wasm_asm.js";

const prod = (v: readonly number[]) => v.reduce((a, b) => a * b, 1);

/**
 * out[n, o, q] = Σ_{c, a} rhs[o, c, a] · lhs_d[n, c, q·stride + a·dilation - lo], where lhs_d is lhs
 * with lhsDilation - 1 zeros between elements, and zero outside.
 */
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
                    // Position in the lhs dilated by lhsDilation; a real element only at its multiples.
                    const [p0, p1, p2] = [b0, b1, b2].map((b, d) => {
                      const pos = b * g.strides[d]! + [a0, a1, a2][d]! * g.rhsDilation[d]! - g.lo[d]!;
                      return pos % g.lhsDilation[d]! === 0 ? pos / g.lhsDilation[d]! : -1;
                    }) as [number, number, number];
                    if (p0 < 0 || p1 < 0 || p2 < 0 || p0 >= s0 || p1 >= s1 || p2 >= s2) continue;
                    acc += lhs[(((n * g.c + c) * s0 + p0) * s1 + p1) * s2 + p2]! * rhs[(((o * g.c + c) * k0 + a0) * k1 + a1) * k2 + a2]!;
                  }
            out[w] = acc;
          }
  return out;
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
  lhsDilation = [1, 1, 1],
): ConvGeometry {
  const q = s.map((size, d) => {
    const padded = (size - 1) * lhsDilation[d]! + 1 + lo[d]! + hi[d]!,
      span = (k[d]! - 1) * rhsDilation[d]! + 1;
    return padded < span ? 0 : Math.floor((padded - span) / strides[d]!) + 1;
  });
  return { n, c, o, i: c, s, k, q, strides, lo, lhsDilation, rhsDilation, groups: 1, batchGroups: 1 };
}

const CASES: [string, ConvGeometry][] = [
  ["2d 3x3 SAME, stride 1", geometry(3, 2, 5, [1, 7, 6], [1, 3, 3], [1, 1, 1], [0, 1, 1], [0, 1, 1])],
  ["2d 3x3 SAME, wide rows (one contiguous plane)", geometry(2, 3, 4, [1, 9, 17], [1, 3, 3], [1, 1, 1], [0, 1, 1], [0, 1, 1])],
  ["2d even kernel, uneven padding", geometry(2, 3, 2, [1, 8, 9], [1, 4, 2], [1, 1, 1], [0, 2, 0], [0, 1, 1])],
  ["2d strides 2 and 3, VALID", geometry(2, 2, 3, [1, 11, 10], [1, 3, 2], [1, 2, 3], [0, 0, 0], [0, 0, 0])],
  ["2d window dilation", geometry(1, 3, 4, [1, 10, 9], [1, 2, 3], [1, 1, 1], [0, 1, 2], [0, 1, 2], [1, 3, 2])],
  ["2d negative padding", geometry(2, 2, 3, [1, 9, 8], [1, 3, 3], [1, 1, 2], [0, -1, 2], [0, 2, -2])],
  ["1d long signal", geometry(2, 3, 4, [1, 1, 150], [1, 1, 5], [1, 1, 1], [0, 0, 2], [0, 0, 2])],
  ["1d strided, dilated", geometry(3, 2, 2, [1, 1, 41], [1, 1, 3], [1, 1, 2], [0, 0, 3], [0, 0, 0], [1, 1, 4])],
  ["3d", geometry(2, 2, 3, [4, 5, 6], [2, 3, 3], [1, 1, 1], [1, 1, 1], [0, 1, 1])],
  ["3d strided", geometry(1, 3, 2, [5, 6, 7], [3, 2, 3], [2, 1, 2], [1, 0, 1], [1, 1, 1])],
  // The kernel gradient of a SAME 3x3 conv: lhs [C, N, H, W], rhs [O, N, H, W], out [C, O, 3, 3].
  ["kernel-gradient shape (kernel as large as the image)", geometry(3, 4, 5, [1, 9, 11], [1, 9, 11], [1, 1, 1], [0, 1, 1], [0, 1, 1])],
  ["kernel-gradient shape, strided conv (dilated kernel)", geometry(2, 3, 2, [1, 9, 8], [1, 4, 4], [1, 1, 1], [0, 1, 0], [0, 1, 1], [1, 2, 2])],
  ["1x1 kernel", geometry(2, 5, 3, [1, 4, 7], [1, 1, 1], [1, 1, 1], [0, 0, 0], [0, 0, 0])],
  ["single output position", geometry(2, 3, 2, [1, 3, 3], [1, 3, 3], [1, 1, 1], [0, 0, 0], [0, 0, 0])],
];

const LOWERINGS: ConvLowering[] = ["columns", "rows", "shiftAdd"];

/** lhs dilation (the input gradient of a strided conv), which only shift-add takes. */
const DILATED: [string, ConvGeometry][] = [
  ["2d input gradient of a stride-2 3x3 SAME conv", geometry(3, 4, 3, [1, 7, 7], [1, 3, 3], [1, 1, 1], [0, 1, 1], [0, 2, 2], [1, 1, 1], [1, 2, 2])],
  ["2d lhs dilation 3 and 2, odd padding", geometry(2, 3, 2, [1, 5, 6], [1, 4, 3], [1, 1, 1], [0, 2, 0], [0, 3, 1], [1, 1, 1], [1, 3, 2])],
  [
    "1d lhs dilation with window dilation and negative padding",
    geometry(2, 2, 3, [1, 1, 13], [1, 1, 3], [1, 1, 1], [0, 0, -1], [0, 0, 4], [1, 1, 2], [1, 1, 3]),
  ],
  ["3d, stride in an undilated dim", geometry(1, 2, 2, [3, 4, 5], [2, 2, 3], [2, 1, 1], [1, 1, 2], [0, 1, 2], [1, 1, 1], [1, 2, 2])],
];

function operands(g: ConvGeometry, seed: number): [Float64Array, Float64Array] {
  const r = rng(seed);
  const lhs = Float64Array.from({ length: g.n * g.c * prod(g.s) }, () => 2 * r() - 1);
  const rhs = Float64Array.from({ length: g.o * g.c * prod(g.k) }, () => 2 * r() - 1);
  return [lhs, rhs];
}

function maxError(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let e = 0;
  for (let i = 0; i < a.length; i++) e = Math.max(e, Math.abs(a[i]! - b[i]!));
  return e;
}

describe("conv GEMM lowerings", () => {
  for (const [name, g] of CASES) {
    for (const lowering of LOWERINGS) {
      it(`${lowering}: ${name} matches the definition (float64, whole batch and cut into chunks)`, () => {
        const [lhs, rhs] = operands(g, 7);
        const want = reference(lhs, rhs, g);
        for (const chunk of [1 << 22, 1]) {
          const out = new Float64Array(want.length).fill(Number.NaN);
          expect(convGemm(lhs, rhs, out, g, lowering, chunk)).toBe(true);
          expect(maxError(out, want)).toBeLessThan(1e-12);
        }
      });
    }
  }

  for (const [name, g] of DILATED) {
    it(`shiftAdd: ${name} matches the definition (chosen automatically too)`, () => {
      const [lhs, rhs] = operands(g, 4);
      const want = reference(lhs, rhs, g);
      for (const [lowering, chunk] of [
        ["shiftAdd", 1],
        [undefined, 1 << 22],
      ] as const) {
        const out = new Float64Array(want.length).fill(Number.NaN);
        expect(convGemm(lhs, rhs, out, g, lowering, chunk)).toBe(true);
        expect(maxError(out, want)).toBeLessThan(1e-12);
      }
    });
  }

  it("random geometries: every lowering and the automatic choice match the definition", () => {
    const r = rng(11);
    const int = (n: number) => Math.floor(r() * n);
    let checked = 0;
    while (checked < 60) {
      const nd = 1 + int(3);
      const s = [1, 1, 1],
        k = [1, 1, 1],
        st = [1, 1, 1],
        rd = [1, 1, 1],
        lo = [0, 0, 0],
        hi = [0, 0, 0],
        ld = [1, 1, 1];
      for (let d = 3 - nd; d < 3; d++) {
        s[d] = 1 + int(nd === 1 ? 90 : nd === 2 ? 16 : 6);
        k[d] = int(4) === 0 ? s[d]! : 1 + int(Math.min(5, s[d]! + 1));
        st[d] = int(2) === 0 ? 1 : 1 + int(3);
        rd[d] = int(3) === 0 ? 2 : 1;
        lo[d] = int(4) - 1;
        hi[d] = int(4) - 1;
        // Every third geometry dilates the lhs (shift-add only), in dims without a stride.
        if (checked % 3 === 2 && st[d] === 1) ld[d] = 1 + int(3);
      }
      const g = geometry(1 + int(3), 1 + int(4), 1 + int(6), s, k, st, lo, hi, rd, ld);
      if (g.q.some((v) => v <= 0)) continue;
      const [lhs, rhs] = operands(g, checked);
      const want = reference(lhs, rhs, g);
      const dilated = ld.some((v) => v > 1);
      for (const lowering of dilated ? (["shiftAdd", undefined] as const) : [...LOWERINGS, undefined]) {
        const out = new Float64Array(want.length).fill(Number.NaN);
        expect(convGemm(lhs, rhs, out, g, lowering, 1 + int(2000))).toBe(true);
        expect(maxError(out, want), `${lowering ?? "auto"} ${JSON.stringify(g)}`).toBeLessThan(1e-12);
      }
      checked++;
    }
  });

  it("float32 products large enough for the WebAssembly GEMM agree with the float64 definition", () => {
    for (const g of [
      geometry(8, 4, 6, [1, 20, 20], [1, 3, 3], [1, 1, 1], [0, 1, 1], [0, 1, 1]),
      geometry(2, 8, 6, [1, 20, 20], [1, 20, 20], [1, 1, 1], [0, 1, 1], [0, 1, 1]),
    ]) {
      const [lhs, rhs] = operands(g, 3);
      const want = reference(lhs, rhs, g);
      for (const lowering of LOWERINGS) {
        const out = new Float32Array(want.length);
        expect(convGemm(Float32Array.from(lhs), Float32Array.from(rhs), out, g, lowering)).toBe(true);
        expect(maxError(out, want)).toBeLessThan(1e-3);
      }
    }
  });

  it("int32 operands convolve exactly", () => {
    const g = geometry(2, 3, 4, [1, 6, 7], [1, 3, 3], [1, 2, 1], [0, 1, 1], [0, 1, 1]);
    const r = rng(5);
    const lhs = Int32Array.from({ length: g.n * g.c * prod(g.s) }, () => Math.floor(r() * 21) - 10);
    const rhs = Int32Array.from({ length: g.o * g.c * prod(g.k) }, () => Math.floor(r() * 21) - 10);
    const want = reference(lhs, rhs, g);
    for (const lowering of LOWERINGS) {
      const out = new Int32Array(want.length);
      expect(convGemm(lhs, rhs, out, g, lowering)).toBe(true);
      expect(Array.from(out)).toEqual(Array.from(want));
    }
  });

  it("grouped, batch-grouped and lhs-dilated-and-strided convolutions are left to the general path", () => {
    const base = geometry(2, 4, 4, [1, 5, 5], [1, 3, 3], [1, 1, 1], [0, 1, 1], [0, 1, 1]);
    const lhs = new Float64Array(2 * 4 * 25),
      out = new Float64Array(2 * 4 * 25).fill(7);
    expect(convGemm(lhs, new Float64Array(4 * 2 * 9), out, { ...base, i: 2, groups: 2 })).toBe(false);
    expect(convGemm(lhs, new Float64Array(4 * 4 * 9), out, { ...base, n: 2, batchGroups: 2 })).toBe(false);
    expect(convGemm(lhs, new Float64Array(4 * 4 * 9), out, { ...base, lhsDilation: [1, 2, 1], strides: [1, 2, 1] })).toBe(false);
    expect(convGemm(lhs, new Float64Array(4 * 4 * 9), out, { ...base, lhsDilation: [1, 2, 1] }, "columns")).toBe(false);
    expect(convGemm(lhs, new Float64Array(4 * 4 * 9), out, { ...base, lhsDilation: [1, 2, 1] }, "rows")).toBe(false);
    expect(out.every((v) => v === 7)).toBe(true);
  });

  it("every lowering, its operands written in place in the WebAssembly GEMM's memory (unshared, then shared), matches the definition", () => {
    const saved = configureMatmul({ wasm: true, wasmMinWork: 0 });
    try {
      for (const memory of ["unshared", "shared"]) {
        if (memory === "shared") {
          // A threaded product makes the memory shared; operands then pass through a private buffer.
          configureMatmul({ threads: 2, threadMinWork: 0 });
          const x = new Float32Array(64 * 64).fill(1);
          matmul(x, x, new Float32Array(64 * 64), 1, 64, 64, 64);
          if (lastMatmulPath().threads < 2) break;
        }
        const all: [ConvGeometry, readonly (ConvLowering | undefined)[]][] = [
          ...CASES.map(([, g]) => [g, [...LOWERINGS, undefined]] as [ConvGeometry, ConvLowering[]]),
          ...DILATED.map(([, g]) => [g, ["shiftAdd", undefined]] as [ConvGeometry, ConvLowering[]]),
        ];
        let runs = 0,
          inPlace = 0;
        for (const [g, lowerings] of all) {
          const [lhs, rhs] = operands(g, 21);
          const want = reference(lhs, rhs, g);
          for (const lowering of lowerings) {
            for (const [Ctor, tol] of [
              [Float64Array, 1e-12],
              [Float32Array, 1e-4],
            ] as const) {
              const out = new Ctor(want.length).fill(Number.NaN);
              // A chunk of 60 elements cuts the rows lowering into entries, the last one padded.
              expect(convGemm(Ctor.from(lhs), Ctor.from(rhs), out, g, lowering, 60)).toBe(true);
              expect(maxError(out, want), `${memory} ${lowering ?? "auto"} ${JSON.stringify(g)}`).toBeLessThan(tol);
              runs++;
              if (lastMatmulPath().path === "wasm") inPlace++;
            }
          }
        }
        // Only products with a single row or column of C (1x1 kernels, one output) stay in JavaScript.
        expect(inPlace).toBeGreaterThan(0.8 * runs);
      }
    } finally {
      configureMatmul(saved);
    }
  });

  it("shift-add with lhs dilation in the last dim (a strided conv's input gradient) runs its sums in wasm, on threads, the same bits on one and two", () => {
    const saved = configureMatmul({ wasm: true, wasmMinWork: 0, threadMinWork: 0 });
    try {
      for (const [name, g] of DILATED.filter(([, g]) => g.lhsDilation[2]! > 1)) {
        const [lhs, rhs] = operands(g, 9);
        const want = reference(lhs, rhs, g);
        const results = [1, 2].map((threads) => {
          configureMatmul({ threads });
          const out = new Float32Array(want.length).fill(Number.NaN);
          expect(convGemm(Float32Array.from(lhs), Float32Array.from(rhs), out, g, "shiftAdd")).toBe(true);
          // The gathered product (sums as wasm runs) threads; the in-place one with JavaScript sums never does.
          if (threads === 2 && hardwareThreads() > 1) expect(lastMatmulPath(), name).toMatchObject({ path: "wasm", threads: 2 });
          return out;
        });
        expect(maxError(results[0]!, want), name).toBeLessThan(1e-4);
        expect(Array.from(results[1]!), name).toEqual(Array.from(results[0]!));
      }
    } finally {
      configureMatmul(saved);
    }
  });

  it("a threaded rows lowering gives every thread entries of its own, with the bits of one thread", () => {
    const saved = configureMatmul({ wasm: true, wasmMinWork: 0, threadMinWork: 0 });
    try {
      for (const [name, g] of CASES.filter(([n]) => n.startsWith("kernel-gradient"))) {
        const [lhs, rhs] = operands(g, 13).map((a) => Float32Array.from(a));
        const results = [1, 2].map((threads) => {
          configureMatmul({ threads });
          const out = new Float32Array(g.n * g.o * prod(g.q)).fill(Number.NaN);
          expect(convGemm(lhs!, rhs!, out, g, "rows")).toBe(true);
          const path = lastMatmulPath();
          // One entry (the default chunk holds all these rows) alone, two per thread on two.
          if (path.threads > 1) expect(path.tasks, name).toBeGreaterThanOrEqual(2 * path.threads);
          else expect(path.tasks, name).toBe(1);
          return out;
        });
        expect(Array.from(results[1]!), name).toEqual(Array.from(results[0]!));
      }
    } finally {
      configureMatmul(saved);
    }
  });

  it("convKernel gives the same result through the fast path as the definition for the W7 shapes", () => {
    // Forward, kernel gradient and input gradient of a 3x3 SAME conv on [4, 3, 10, 10] with 5 filters.
    for (const g of [
      geometry(4, 3, 5, [1, 10, 10], [1, 3, 3], [1, 1, 1], [0, 1, 1], [0, 1, 1]),
      geometry(3, 4, 5, [1, 10, 10], [1, 10, 10], [1, 1, 1], [0, 1, 1], [0, 1, 1]),
      geometry(4, 5, 3, [1, 10, 10], [1, 3, 3], [1, 1, 1], [0, 1, 1], [0, 1, 1]),
    ]) {
      const [lhs, rhs] = operands(g, 9);
      const out = new Float64Array(g.n * g.o * prod(g.q));
      convKernel(lhs, rhs, out, g);
      expect(maxError(out, reference(lhs, rhs, g))).toBeLessThan(1e-12);
    }
  });
});
