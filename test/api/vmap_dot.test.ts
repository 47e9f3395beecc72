/**
 * vmap of dot_general with one operand batched: the batched product equals a loop of unbatched
 * products (each computed here by a plain loop over the operands' values), jit(vmap) equals eager
 * vmap bit for bit, and where the unbatched operand is broadcast the staged program moves no axis
 * of the result (no transpose after the product).
 */
import { describe, expect, it } from "vitest";
import { type NDArray, jit, lax, makeJaxpr, np, vmap } from "../../src/index.js";
import { rng } from "../../laws/numeric.js";

type Dims = [[number[], number[]], [number[], number[]]];
type DType = "float32" | "float64";

const size = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);
const random = (shape: number[], dtype: DType, seed: number) => {
  const r = rng(seed);
  return np
    .array(
      Array.from({ length: size(shape) }, () => 2 * r() - 1),
      { dtype },
    )
    .reshape(shape);
};

/** One lane's dot_general of 2-d or 3-d operands, by definition (free dims in order, batch first). */
function laneProduct(x: NDArray, y: NDArray, [[xc, yc], [xb, yb]]: Dims): number[] {
  const xs = x.shape,
    ys = y.shape;
  const xv = Array.from(x.dataSync() as Float32Array),
    yv = Array.from(y.dataSync() as Float32Array);
  const at = (shape: readonly number[], idx: number[]) => idx.reduce((o, i, d) => o * shape[d]! + i, 0);
  const xFree = xs.map((_, d) => d).filter((d) => !xc.includes(d) && !xb.includes(d));
  const yFree = ys.map((_, d) => d).filter((d) => !yc.includes(d) && !yb.includes(d));
  const out: number[] = [];
  const B = xb.length ? xs[xb[0]!]! : 1;
  const each = (shape: readonly number[], dims: number[], f: (idx: number[]) => void, pre: number[] = []): void => {
    if (pre.length === dims.length) return f(pre);
    for (let i = 0; i < shape[dims[pre.length]!]!; i++) each(shape, dims, f, [...pre, i]);
  };
  for (let b = 0; b < B; b++)
    each(xs, xFree, (xi) =>
      each(ys, yFree, (yi) => {
        let acc = 0;
        for (let k = 0; k < xs[xc[0]!]!; k++) {
          const xIdx = xs.map(() => 0),
            yIdx = ys.map(() => 0);
          xFree.forEach((d, i) => (xIdx[d] = xi[i]!));
          yFree.forEach((d, i) => (yIdx[d] = yi[i]!));
          if (xb.length) [xIdx[xb[0]!], yIdx[yb[0]!]] = [b, b];
          [xIdx[xc[0]!], yIdx[yc[0]!]] = [k, k];
          acc += xv[at(xs, xIdx)]! * yv[at(ys, yIdx)]!;
        }
        out.push(acc);
      }),
    );
  return out;
}

interface Case {
  name: string;
  /** Shapes of one lane's operands, and which one is vmapped (over 5 lanes). */
  x: number[];
  y: number[];
  mapped: "x" | "y";
  dims: Dims;
  /** Whether the batching rule broadcasts the unbatched operand (else it moves the result's axis). */
  broadcast: boolean;
}

const LANES = 5;
const CASES: Case[] = [
  {
    name: "data @ vmapped weights",
    x: [13, 7],
    y: [7, 9],
    mapped: "y",
    dims: [
      [[1], [0]],
      [[], []],
    ],
    broadcast: true,
  },
  {
    name: "dataᵀ @ vmapped cotangents (data transposed once, then broadcast)",
    x: [11, 6],
    y: [11, 9],
    mapped: "y",
    dims: [
      [[0], [0]],
      [[], []],
    ],
    broadcast: true,
  },
  {
    name: "vmapped lhs with batch dims, rhs unbatched",
    x: [3, 6, 5],
    y: [3, 5, 4],
    mapped: "x",
    dims: [
      [[2], [1]],
      [[0], [0]],
    ],
    broadcast: true,
  },
  {
    name: "an MLP layer over vmapped weights (the wasm kernel's sizes)",
    x: [64, 16],
    y: [16, 32],
    mapped: "y",
    dims: [
      [[1], [0]],
      [[], []],
    ],
    broadcast: true,
  },
  {
    name: "a long contraction into a small result keeps the moved axis",
    x: [40, 3],
    y: [40, 1],
    mapped: "y",
    dims: [
      [[0], [0]],
      [[], []],
    ],
    broadcast: false,
  },
];

describe("vmap(dot_general) with one operand batched", () => {
  for (const c of CASES)
    for (const dtype of ["float32", "float64"] as const)
      it(`${c.name} (${dtype})`, () => {
        const x0 = random(c.mapped === "x" ? [LANES, ...c.x] : c.x, dtype, 1),
          y0 = random(c.mapped === "y" ? [LANES, ...c.y] : c.y, dtype, 2);
        const f = (x: NDArray, y: NDArray) => lax.dotGeneral(x, y, c.dims);
        const inAxes = c.mapped === "x" ? [0, null] : [null, 0];
        const batched = vmap(f, { inAxes })(x0, y0);
        const lanes = [...(c.mapped === "x" ? x0 : y0)];
        const want = lanes.flatMap((lane) => (c.mapped === "x" ? laneProduct(lane, y0, c.dims) : laneProduct(x0, lane, c.dims)));
        const got = Array.from(batched.dataSync() as Float32Array);
        const tol = dtype === "float32" ? 1e-5 : 1e-13;
        expect(got.length).toBe(want.length);
        got.forEach((g, i) => expect(Math.abs(g - want[i]!)).toBeLessThan(tol));
        expect(Array.from(jit(vmap(f, { inAxes }))(x0, y0).dataSync() as Float32Array)).toEqual(got);
        const staged = makeJaxpr(vmap(f, { inAxes }))(x0, y0).program;
        const last = staged.eqns[staged.eqns.length - 1]!.prim;
        expect(last).toBe(c.broadcast ? "dot_general" : "transpose");
        expect(staged.eqns.some((e) => e.prim === "broadcast_in_dim")).toBe(c.broadcast);
      });
});
