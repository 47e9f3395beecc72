/**
 * The reduce kernel's rows (inner = 1: each output reduces one contiguous run, as pooling along
 * the last axis does) against plain loops written here, NaN and infinities included, and against
 * the same reduction laid out with inner > 1.
 */
import { describe, expect, it } from "vitest";
import { argReduceKernel, reduceKernel, type ReduceOp } from "../../interpreters/eval/kernels/reduce.js";
import { rng } from "../../laws/numeric.js";

function reference(op: ReduceOp, row: number[]): number {
  if (op === "sum") return row.reduce((a, b) => a + b, 0);
  if (row.some((v) => Number.isNaN(v))) return Number.NaN;
  return op === "max" ? Math.max(-Infinity, ...row) : Math.min(Infinity, ...row);
}

describe("reduceKernel over contiguous rows", () => {
  for (const op of ["sum", "max", "min"] as const) {
    it(`${op}: rows of 1 to 200 elements match a plain loop; the transposed layout agrees`, () => {
      const r = rng(op.length);
      for (const n of [1, 2, 3, 4, 63, 64, 65, 200]) {
        const outer = 7;
        const x = Float64Array.from({ length: outer * n }, () =>
          r() < 0.05 ? [Number.NaN, Infinity, -Infinity][Math.floor(r() * 3)]! : r() * 2 - 1,
        );
        const out = new Float64Array(outer);
        reduceKernel(op, x, out, outer, n, 1);
        for (let o = 0; o < outer; o++) {
          const row = Array.from(x.subarray(o * n, (o + 1) * n));
          const want = reference(op, row);
          // Past 64 elements sums split pairwise, so only the order of additions differs.
          if (op === "sum" && n > 64 && Number.isFinite(want)) expect(out[o]).toBeCloseTo(want, 12);
          else expect(out[o]).toBe(want);
        }
        // The same reduction with the outputs as the inner dim: [1, n, outer].
        const xt = new Float64Array(outer * n);
        for (let o = 0; o < outer; o++) for (let k = 0; k < n; k++) xt[k * outer + o] = x[o * n + k]!;
        const outT = new Float64Array(outer);
        reduceKernel(op, xt, outT, 1, n, outer);
        expect(Array.from(outT)).toEqual(Array.from(out));
      }
    });
  }
});

describe("reduceKernel max and min keep the scan's tie rule", () => {
  it("a zero result has the first zero's sign, and a NaN row gives NaN, for every placement in rows of 1 to 9", () => {
    const ordered = (row: ArrayLike<number>, max: boolean) => {
      let m = max ? -Infinity : Infinity;
      for (let k = 0; k < row.length; k++) if ((max ? row[k]! > m : row[k]! < m) || row[k] !== row[k]) m = row[k]!;
      return m;
    };
    const show = (v: number) => (Object.is(v, -0) ? "-0" : String(v));
    // Every row of length n over {-0, +0, -1, +1} (and a NaN in some), so ties of zeros meet in every lane order.
    for (let n = 1; n <= 9; n++) {
      const alphabet = n <= 6 ? [-0, 0, -1, 1] : [-0, 0, -1];
      const rows: number[][] = [];
      for (let c = 0; c < alphabet.length ** n; c++)
        rows.push(Array.from({ length: n }, (_, k) => alphabet[Math.floor(c / alphabet.length ** k) % alphabet.length]!));
      rows.push(Array.from({ length: n }, (_, k) => (k === n - 1 ? NaN : -0)));
      for (const Ctor of [Float32Array, Float64Array]) {
        const x = Ctor.from(rows.flat());
        for (const op of ["max", "min"] as const) {
          const out = new Ctor(rows.length);
          reduceKernel(op, x, out, rows.length, n, 1);
          rows.forEach((row, o) =>
            expect(`${op} [${row.map(show)}]: ${show(out[o]!)}`).toBe(`${op} [${row.map(show)}]: ${show(ordered(row, op === "max"))}`),
          );
        }
      }
    }
  });
});

describe("reduceKernel sums over a middle dim (inner > 1)", () => {
  /** One column's sum in the documented order: top to bottom from 0 within 64 rows, halves added above. */
  function columnSum(x: Float64Array, base: number, r0: number, r1: number, inner: number): number {
    if (r1 - r0 > 64) {
      const mid = r0 + ((r1 - r0) >> 1);
      return columnSum(x, base, r0, mid, inner) + columnSum(x, base, mid, r1, inner);
    }
    let s = 0;
    for (let r = r0; r < r1; r++) s += x[base + r * inner]!;
    return s;
  }

  // float64 values of mixed magnitudes and full mantissas (the /3), so another order of additions changes the bits.
  it("every column of rows 1 to 200 long and 1 to 130 wide matches the ordered loop bit for bit", () => {
    const r = rng(11);
    for (const n of [1, 5, 63, 64, 65, 200])
      for (const inner of [2, 3, 4, 7, 63, 64, 65, 130]) {
        const outer = 3;
        const x = Float64Array.from({ length: outer * n * inner }, () => ((r() * 2 - 1) / 3) * 10 ** Math.floor(r() * 6));
        const out = new Float64Array(outer * inner);
        reduceKernel("sum", x, out, outer, n, inner);
        const want = new Float64Array(outer * inner);
        for (let o = 0; o < outer; o++) for (let i = 0; i < inner; i++) want[o * inner + i] = columnSum(x, o * n * inner + i, 0, n, inner);
        expect(Array.from(out), `n = ${n}, inner = ${inner}`).toEqual(Array.from(want));
      }
  });
});

describe("argReduceKernel gives the left-to-right scan's index: four running extrema per row, a running best per column", () => {
  /** The first index of the extremum, a NaN counting as the extremum (the first NaN wins). */
  const scan = (row: number[], isMax: boolean): number => {
    let best = row[0]!,
      at = 0;
    for (let r = 1; r < row.length && best === best; r++) {
      const v = row[r]!;
      if ((isMax ? v > best : v < best) || v !== v) {
        best = v;
        at = r;
      }
    }
    return at;
  };
  it("rows of every length with ties, signed zeros, infinities and NaNs at every position, both directions", () => {
    const r = rng(21);
    const pick = <T>(xs: readonly T[]) => xs[Math.floor(r() * xs.length)]!;
    for (const n of [1, 2, 3, 4, 5, 7, 8, 9, 13, 64, 257]) {
      for (let t = 0; t < 40; t++) {
        const rows = 3;
        const values = Array.from({ length: rows * n }, () =>
          r() < 0.15 ? pick([0, -0, Infinity, -Infinity, 5, -5]) : r() < 0.04 ? NaN : Math.round((r() - 0.5) * 8),
        );
        for (const Ctor of [Float32Array, Float64Array] as const) {
          const x = Ctor.from(values);
          for (const isMax of [true, false]) {
            const out = new Int32Array(rows);
            argReduceKernel(isMax, x, out, rows, n, 1);
            const want = Array.from({ length: rows }, (_, o) => scan(Array.from(x.subarray(o * n, o * n + n)), isMax));
            expect(Array.from(out), `${Ctor.name} n=${n} ${isMax ? "max" : "min"}`).toEqual(want);
            // The same values as columns: [1, n, rows], reduced over the middle dim.
            const cols = Ctor.from(Array.from({ length: rows * n }, (_, k) => x[(k % rows) * n + Math.floor(k / rows)]!));
            const colOut = new Int32Array(rows);
            argReduceKernel(isMax, cols, colOut, 1, n, rows);
            expect(Array.from(colOut), `${Ctor.name} n=${n} columns`).toEqual(want);
          }
        }
      }
    }
    // Integers at their extremes.
    const ints = Int32Array.from([5, -(2 ** 31), 2 ** 31 - 1, 7, 2 ** 31 - 1, -(2 ** 31), 0, 1, 2]);
    const out = new Int32Array(1);
    argReduceKernel(true, ints, out, 1, ints.length, 1);
    expect(out[0]).toBe(2);
    argReduceKernel(false, ints, out, 1, ints.length, 1);
    expect(out[0]).toBe(1);
    const words = Uint32Array.from([3, 2 ** 32 - 1, 0, 2 ** 32 - 1, 0]);
    argReduceKernel(true, words, out, 1, words.length, 1);
    expect(out[0]).toBe(1);
    argReduceKernel(false, words, out, 1, words.length, 1);
    expect(out[0]).toBe(2);
  });
});
