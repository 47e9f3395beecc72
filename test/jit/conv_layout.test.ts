/**
 * The jit's layout convolutions (interpreters/jit/compile.ts `layoutConvs`): a convolution whose
 * operands are transposes swapping their first two axes, or whose result only goes to one, reads
 * and writes those layouts itself (a kernel gradient's transposes are never materialised). Checked
 * against the eager gradient, which materialises them, bit for bit; a transpose read elsewhere stays;
 * where the kernels decline, the transposes run after all.
 */
import { afterEach, describe, expect, it } from "vitest";
import { type NDArray, grad, jit, lax, np } from "../../src/index.js";
import type { ConvLayout } from "../../src/core/conv_geometry.js";
import { type ConvLayoutImpl, cpuConvLayoutImpl, setConvLayoutImpl } from "../../src/ir/executable.js";
import { rng } from "../../laws/numeric.js";

const installed = cpuConvLayoutImpl()!;
afterEach(() => setConvLayoutImpl(installed));

/** Records the layouts the jit asks for, and whether the kernels took each; `decline` makes them refuse. */
function spy(decline = false): { calls: { layout: ConvLayout; taken: boolean }[] } {
  const calls: { layout: ConvLayout; taken: boolean }[] = [];
  const impl: ConvLayoutImpl = (lhs, rhs, params, out, layout) => {
    const res = decline ? null : installed(lhs, rhs, params, out, layout);
    calls.push({ layout, taken: res !== null });
    return res;
  };
  setConvLayoutImpl(impl);
  return { calls };
}

const random = (shape: number[], seed: number, dtype: "float32" | "float64") => {
  const r = rng(seed);
  return np.array(
    Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => 2 * r() - 1),
    { shape, dtype },
  );
};

const bits = (a: NDArray) => Array.from(a.dataSync());

interface Case {
  name: string;
  x: number[];
  w: number[];
  strides: number[];
  padding: "SAME" | "VALID" | [number, number][];
  rhsDilation?: number[];
}

const CASES: Case[] = [
  { name: "2d 3x3 SAME (the W7 shape, smaller)", x: [6, 3, 14, 13], w: [5, 3, 3, 3], strides: [1, 1], padding: "SAME" },
  {
    name: "2d strided, uneven padding",
    x: [4, 3, 17, 11],
    w: [6, 3, 3, 2],
    strides: [2, 3],
    padding: [
      [2, 0],
      [1, 2],
    ],
  },
  { name: "2d window dilation", x: [3, 4, 16, 15], w: [4, 4, 3, 2], strides: [1, 1], padding: "VALID", rhsDilation: [2, 3] },
  { name: "1d", x: [5, 4, 60], w: [7, 4, 5], strides: [1], padding: "SAME" },
  { name: "3d", x: [3, 2, 6, 7, 8], w: [4, 2, 2, 3, 3], strides: [1, 1, 2], padding: "SAME" },
];

describe("jit: layout convolutions around a kernel gradient", () => {
  for (const c of CASES) {
    it(`${c.name}: jit(grad) equals the eager gradient bit for bit (float32, float64), its transposes absorbed`, () => {
      for (const dtype of ["float32", "float64"] as const) {
        const x = random(c.x, 1, dtype),
          w = random(c.w, 2, dtype);
        const loss = (a: NDArray, b: NDArray) =>
          np.sum(np.square(lax.convGeneralDilated(a, b, c.strides, c.padding, c.rhsDilation ? { rhsDilation: c.rhsDilation } : {})));
        const [ex, ew] = grad(loss, { argnums: [0, 1] })(x, w) as NDArray[];
        const { calls } = spy();
        const [gx, gw] = jit(grad(loss, { argnums: [0, 1] }))(x, w) as NDArray[];
        expect(bits(gx!)).toEqual(bits(ex!));
        expect(bits(gw!)).toEqual(bits(ew!));
        // The kernel gradient reads x and the cotangent as they are and writes [O, C, ...K] itself.
        expect(calls).toContainEqual({ layout: { lhs: true, rhs: true, out: true }, taken: true });
      }
    });
  }

  it("where the kernels decline, the transposes and the plain convolution run instead: the same bits", () => {
    const c = CASES[1]!;
    const x = random(c.x, 3, "float64"),
      w = random(c.w, 4, "float64");
    const loss = (a: NDArray, b: NDArray) => np.sum(np.square(lax.convGeneralDilated(a, b, c.strides, c.padding)));
    const [ex, ew] = grad(loss, { argnums: [0, 1] })(x, w) as NDArray[];
    const { calls } = spy(true);
    const [gx, gw] = jit(grad(loss, { argnums: [0, 1] }))(x, w) as NDArray[];
    expect(calls.length).toBeGreaterThan(0);
    expect(bits(gx!)).toEqual(bits(ex!));
    expect(bits(gw!)).toEqual(bits(ew!));
  });

  it("a transpose that something else reads, or that the program returns, is materialised; the others are absorbed", () => {
    const x = random([4, 6, 9, 10], 5, "float64"),
      w = random([3, 4, 3, 3], 6, "float64");
    const swap = (a: NDArray) => np.transpose(a, [1, 0, 2, 3]);
    // lhs swapped, but also returned; the result transposed once, and read raw by the sum as well.
    const f = (a: NDArray, b: NDArray) => {
      const at = swap(a);
      const y = lax.convGeneralDilated(at, b, [1, 1], "SAME");
      return [at, swap(y), np.sum(y)];
    };
    const want = f(x, w);
    const { calls } = spy();
    const got = jit(f)(x, w) as NDArray[];
    got.forEach((g, i) => expect(bits(g)).toEqual(bits(want[i]!)));
    expect(calls).toEqual([]);
    // Only the result's transpose: the lhs is read elsewhere.
    const h = (a: NDArray, b: NDArray) => [swap(lax.convGeneralDilated(swap(a), b, [1, 1], "SAME")), np.sum(swap(a))];
    const wantH = h(x, w);
    const gotH = jit(h)(x, w) as NDArray[];
    gotH.forEach((g, i) => expect(bits(g)).toEqual(bits(wantH[i]!)));
    expect(calls).toEqual([{ layout: { lhs: false, rhs: false, out: true }, taken: true }]);
  });

  it("int32 operands, which the layout kernels do not take, run through the transposes: the eager result", () => {
    const r = rng(8);
    const ints = (shape: number[]) =>
      np.array(
        Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => Math.floor(r() * 9) - 4),
        { shape, dtype: "int32" },
      );
    const x = ints([5, 3, 8, 7]),
      w = ints([4, 5, 3, 3]);
    const swap = (a: NDArray) => np.transpose(a, [1, 0, 2, 3]);
    const f = (a: NDArray, b: NDArray) => swap(lax.convGeneralDilated(swap(a), b, [1, 1], "SAME"));
    const { calls } = spy();
    expect(bits(jit(f)(x, w) as NDArray)).toEqual(bits(f(x, w)));
    expect(calls).toEqual([{ layout: { lhs: true, rhs: false, out: true }, taken: false }]);
  });
});
