/**
 * The CPU argsort kernel (interpreters/eval/kernels/sort.ts) against a comparison sort written
 * here: stable, NaN last, -0 equal to +0. Rows short enough for insertion and long enough for the
 * radix passes, strided rows ([outer, n, inner] views), every element type, and the values whose
 * bit patterns need care: both zeros, infinities, NaNs with either sign and any payload,
 * subnormals, integer extremes, float64 values that differ only in their low word.
 */
import { describe, expect, it } from "vitest";
import { argsortKernel } from "../../interpreters/eval/kernels/sort.js";
import { rng } from "../../laws/numeric.js";
import type { TypedArray } from "../../src/core/dtype.js";

/** The order of each row by a comparator: NaN last, ties (and -0 with +0) in index order. */
function reference(x: TypedArray, outer: number, n: number, inner: number): Int32Array {
  const out = new Int32Array(outer * n * inner);
  for (let o = 0; o < outer; o++)
    for (let i = 0; i < inner; i++) {
      const base = o * n * inner + i;
      const row = Array.from({ length: n }, (_, r) => r);
      const v = (r: number) => Number(x[base + r * inner]!);
      row.sort((a, b) => {
        const p = v(a),
          q = v(b);
        if (Number.isNaN(p) || Number.isNaN(q)) return Number.isNaN(p) === Number.isNaN(q) ? a - b : Number.isNaN(p) ? 1 : -1;
        return p < q ? -1 : p > q ? 1 : a - b;
      });
      row.forEach((r, k) => (out[base + k * inner] = r));
    }
  return out;
}

function check(x: TypedArray, outer: number, n: number, inner: number, label: string): void {
  const got = new Int32Array(outer * n * inner);
  argsortKernel(x, got, outer, n, inner);
  expect(Array.from(got), label).toEqual(Array.from(reference(x, outer, n, inner)));
}

/** float32 values from bit patterns (NaNs of every kind among them). */
const fromBits32 = (bits: number[]) => new Float32Array(Uint32Array.from(bits).buffer);

describe("argsortKernel", () => {
  const r = rng(11);
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(r() * xs.length)]!;

  it("float32 rows of every length class, with zeros, infinities, NaNs of either sign, subnormals and ties", () => {
    const special = [
      0, 0x80000000, 0x7f800000, 0xff800000, 0x7fc00000, 0xffc00000, 0x7f800001, 0xff812345, 0x00000001, 0x80000001, 0x3f800000, 0xbf800000,
    ];
    for (const n of [1, 2, 7, 48, 49, 200, 3000]) {
      const bits = Array.from({ length: n }, () => {
        const u = r();
        if (u < 0.25) return pick(special);
        if (u < 0.5) return pick([0x3f800000, 0x40000000, 0xc0000000]); // many ties
        return Math.floor(r() * 2 ** 32);
      });
      check(fromBits32(bits), 1, n, 1, `float32 n=${n}`);
    }
  });

  it("float64 keys of two words: values equal in the high word, zeros, NaNs, extremes", () => {
    for (const n of [5, 48, 60, 1000]) {
      const x = new Float64Array(n);
      const words = new Uint32Array(x.buffer);
      for (let k = 0; k < n; k++) {
        const u = r();
        if (u < 0.3) {
          // One high word, random low words: only the low word orders them.
          words[2 * k] = Math.floor(r() * 2 ** 32);
          words[2 * k + 1] = pick([0x3ff00000, 0xbff00000]);
        } else if (u < 0.5) x[k] = pick([0, -0, Infinity, -Infinity, NaN, -NaN, Number.MIN_VALUE, -Number.MAX_VALUE, 1, 1]);
        else x[k] = (r() - 0.5) * 10 ** Math.floor(r() * 20 - 10);
      }
      // A negative NaN, and last a NaN whose payload is in the low word only (it must still sort
      // after the other NaN, by index).
      words[3] = 0xfff80000;
      words[2 * n - 2] = 1;
      words[2 * n - 1] = 0x7ff00000;
      check(x, 1, n, 1, `float64 n=${n}`);
    }
  });

  it("int32, uint32 and bool, including the extremes of each", () => {
    for (const n of [9, 48, 500]) {
      check(
        Int32Array.from({ length: n }, () => pick([-(2 ** 31), 2 ** 31 - 1, -1, 0, 1, Math.floor((r() - 0.5) * 2 ** 32)])),
        1,
        n,
        1,
        `int32 n=${n}`,
      );
      check(
        Uint32Array.from({ length: n }, () => pick([0, 2 ** 32 - 1, 2 ** 31, 2 ** 31 - 1, Math.floor(r() * 2 ** 32)])),
        1,
        n,
        1,
        `uint32 n=${n}`,
      );
      check(
        Uint8Array.from({ length: n }, () => (r() < 0.5 ? 1 : 0)),
        1,
        n,
        1,
        `bool n=${n}`,
      );
    }
  });

  it("strided rows: several outer blocks and inner columns, short and long rows", () => {
    for (const [outer, n, inner] of [
      [3, 10, 4],
      [2, 120, 3],
      [1, 300, 7],
    ] as const) {
      const size = outer * n * inner;
      check(
        Float32Array.from({ length: size }, () => Math.round((r() - 0.5) * 20) / 4),
        outer,
        n,
        inner,
        `float32 [${outer}, ${n}, ${inner}]`,
      );
      check(
        Float64Array.from({ length: size }, () => (r() < 0.1 ? NaN : Math.round((r() - 0.5) * 20))),
        outer,
        n,
        inner,
        `float64 [${outer}, ${n}, ${inner}]`,
      );
    }
  });

  it("a view into a larger buffer reads its own elements", () => {
    const whole = Float32Array.from({ length: 300 }, (_, i) => Math.sin(i) * 100);
    const view = whole.subarray(37, 37 + 250);
    check(view, 1, 250, 1, "float32 subarray");
    const whole64 = Float64Array.from({ length: 90 }, (_, i) => Math.cos(i * 3));
    check(whole64.subarray(5, 85), 1, 80, 1, "float64 subarray");
  });
});
