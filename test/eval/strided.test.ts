/**
 * The strided copy kernel (interpreters/eval/kernels/strided.ts) against a plain odometer written
 * here: transposes whose trailing dims merge into long contiguous runs (copied with `set`), runs
 * just below and above that length, broadcasts (stride 0), reversals (negative strides), size-1
 * and empty dims, and offsets on both sides; then every element type (each has its own compiled
 * loop) and a copy between two types.
 */
import { describe, expect, it } from "vitest";
import { copyStrided } from "../../interpreters/eval/kernels/strided.js";
import { rng } from "../../laws/numeric.js";
import type { TypedArray } from "../../src/core/dtype.js";

/** dst[dBase + Σ i·dStrides] = src[sBase + Σ i·sStrides] over every index i of shape. */
function reference(src: TypedArray, sBase: number, ss: number[], dst: TypedArray, dBase: number, ds: number[], shape: number[]): void {
  const total = shape.reduce((a, b) => a * b, 1);
  for (let flat = 0; flat < total; flat++) {
    let s = sBase,
      d = dBase,
      rest = flat;
    for (let k = shape.length - 1; k >= 0; k--) {
      const i = rest % shape[k]!;
      rest = Math.floor(rest / shape[k]!);
      s += i * ss[k]!;
      d += i * ds[k]!;
    }
    dst[d] = src[s]!;
  }
}

const stridesOf = (shape: number[]) => shape.map((_, k) => shape.slice(k + 1).reduce((a, b) => a * b, 1));

describe("copyStrided", () => {
  it("random shapes read and written through permuted, sliced layouts match the plain odometer", () => {
    const r = rng(3);
    const int = (n: number) => Math.floor(r() * n);
    /** Strides of `shape` laid inside a container that is larger in some dims, its dims in a random order. */
    const layout = (shape: number[]): { strides: number[]; size: number } => {
      const room = shape.map((n) => (int(3) === 0 ? n + 1 + int(3) : n));
      const order = room.map((_, k) => k).sort(() => r() - 0.5);
      const strides = new Array<number>(shape.length);
      let size = 1;
      for (let k = order.length - 1; k >= 0; k--) {
        strides[order[k]!] = size;
        size *= room[order[k]!]!;
      }
      // Keep some layouts plain row-major, whose dims all merge.
      if (int(3) === 0) return { strides: stridesOf(room), size };
      return { strides, size };
    };
    for (let t = 0; t < 300; t++) {
      const shape = Array.from({ length: int(5) }, () => (int(6) === 0 ? 1 : 1 + int(t % 3 === 0 ? 24 : 7)));
      const from = layout(shape),
        to = layout(shape);
      const src = Float32Array.from({ length: from.size + 2 }, (_, i) => i + 1);
      const got = new Float32Array(to.size + 3),
        want = new Float32Array(to.size + 3);
      copyStrided(src, 2, from.strides, got, 3, to.strides, shape);
      reference(src, 2, from.strides, want, 3, to.strides, shape);
      expect(Array.from(got), JSON.stringify({ shape, from, to })).toEqual(Array.from(want));
    }
  });

  it("a [1, 0, 2, 3] transpose (whole planes), broadcasts, reversals and empty shapes", () => {
    const src = Float32Array.from({ length: 4 * 3 * 5 * 7 }, (_, i) => i * 0.5 - 3);
    const cases: [number, number[], number, number[], number[]][] = [
      [0, [35, 105, 7, 1], 0, stridesOf([3, 4, 5, 7]), [3, 4, 5, 7]],
      [0, [0, 1], 0, [40, 1], [3, 40]],
      [0, [0, 1], 0, [31, 1], [3, 31]],
      [139, [-1], 0, [1], [140]],
      [104, [-35, 7, 1], 0, [35, 7, 1], [3, 5, 7]],
      [0, [7, 1], 0, [7, 1], [0, 7]],
      [5, [], 2, [], []],
    ];
    for (const [sBase, ss, dBase, ds, shape] of cases) {
      const got = new Float32Array(500).fill(-9),
        want = new Float32Array(500).fill(-9);
      copyStrided(src, sBase, ss, got, dBase, ds, shape);
      reference(src, sBase, ss, want, dBase, ds, shape);
      expect(Array.from(got), JSON.stringify(shape)).toEqual(Array.from(want));
    }
  });

  it("transposes walked in blocks and broadcast runs written by fill match the plain odometer", () => {
    const src = Float32Array.from({ length: 3 * 37 * 45 + 8 }, (_, i) => i * 0.25 - 100);
    const cases: [number, number[], number, number[], number[]][] = [
      // [37, 45] -> [45, 37]: rows and columns not multiples of the block edge.
      [0, [1, 45], 0, [37, 1], [45, 37]],
      // Three such planes, the transposing pair behind an outer dim, with offsets on both sides.
      [5, [37 * 45, 1, 45], 3, [45 * 37, 37, 1], [3, 45, 37]],
      // The source's unit-stride dim first, an untouched dim between it and the last.
      [0, [1, 0, 45], 0, [3 * 37, 37, 1], [45, 3, 37]],
      // Reversed along the strided side, and along the unit-stride side.
      [36 * 45, [1, -45], 0, [37, 1], [45, 37]],
      [44, [-1, 45], 0, [37, 1], [45, 37]],
      // Just below the pair's minimum (7 columns): the row loop.
      [0, [1, 45], 0, [7, 1], [45, 7]],
      // Broadcast runs of one value: 40 (fill) and 15 (element loop) long.
      [0, [1, 0], 0, [40, 1], [30, 40]],
      [0, [1, 0], 0, [15, 1], [30, 15]],
    ];
    for (const [sBase, ss, dBase, ds, shape] of cases) {
      const size = dBase + shape.reduce((a, b) => a * b, 1) + 4;
      const got = new Float32Array(size).fill(-9),
        want = new Float32Array(size).fill(-9);
      copyStrided(src, sBase, ss, got, dBase, ds, shape);
      reference(src, sBase, ss, want, dBase, ds, shape);
      expect(Array.from(got), JSON.stringify({ ss, shape })).toEqual(Array.from(want));
    }
    // Both sides in one buffer: the blocks would reorder writes, so the row loop runs.
    const one = Float32Array.from({ length: 2 * 40 * 40 }, (_, i) => i);
    const copy = Float32Array.from(one);
    copyStrided(one, 0, [1, 40], one, 1600, [40, 1], [40, 40]);
    reference(copy, 0, [1, 40], copy, 1600, [40, 1], [40, 40]);
    expect(Array.from(one)).toEqual(Array.from(copy));
  });

  it("copies every element type bit for bit, and between two types, with each type's loop seen after the others", () => {
    const f64 = Float64Array.from({ length: 24 }, (_, i) => (i === 5 ? -0 : i === 9 ? Number.NaN : i * 1.25 - 7));
    const sources: TypedArray[] = [
      Float32Array.from({ length: 24 }, (_, i) => i * 0.75 - 5),
      f64,
      Int32Array.from({ length: 24 }, (_, i) => (i * 0x10001 - 2 ** 30) | 0),
      Uint32Array.from({ length: 24 }, (_, i) => 2 ** 32 - 1 - i),
      Uint8Array.from({ length: 24 }, (_, i) => i % 2),
    ];
    const cases: [number[], number[], number[]][] = [
      [
        [1, 6],
        [4, 1],
        [6, 4],
      ],
      [
        [0, 6, 1],
        [24, 6, 1],
        [2, 4, 6],
      ],
    ];
    for (let round = 0; round < 2; round++)
      for (const src of sources)
        for (const [ss, ds, shape] of cases) {
          const size = shape.reduce((a, b) => a * b, 1);
          const Ctor = src.constructor as new (n: number) => TypedArray;
          const got = new Ctor(size),
            want = new Ctor(size);
          copyStrided(src, 0, ss, got, 0, ds, shape);
          reference(src, 0, ss, want, 0, ds, shape);
          expect(new Uint8Array(got.buffer), `${Ctor.name} ${JSON.stringify(shape)}`).toEqual(new Uint8Array(want.buffer));
        }
    const mixed = new Float64Array(24);
    copyStrided(sources[0]!, 0, [1, 6], mixed, 0, [4, 1], [6, 4]);
    const want = new Float64Array(24);
    reference(sources[0]!, 0, [1, 6], want, 0, [4, 1], [6, 4]);
    expect(Array.from(mixed)).toEqual(Array.from(want));
  });
});
