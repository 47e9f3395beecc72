/**
 * Cases of the indexing primitives: `scatter` with each combining op ("set", "mul", "min",
 * "max"), with repeated and out-of-range indices, batch dims and integer operands. The reference
 * writes the updates one by one in row-major order (so the last "set" wins) and drops indices
 * outside [0, n), independently of the library.
 */
import { Prim } from "../../src/index.js";
import type { ScatterOp } from "../../src/core/prim.js";
import { type Host, type Operand, type PrimCase, type Rng, at, distinct, indices, ints, operand, ravel, uni } from "./cases_util.js";

const COMBINE: Record<ScatterOp, (a: number, u: number) => number> = {
  set: (_a, u) => u,
  mul: (a, u) => a * u,
  min: (a, u) => Math.min(a, u),
  max: (a, u) => Math.max(a, u),
};

/** x with each update folded in at x[pre, idx[b, mid], post]; out-of-range indices skipped. */
function scatterRef(x: Host, idx: Host, upd: Host, axis: number, batchDims: number, op: ScatterOp): Host {
  const data = x.data.slice();
  const k = idx.shape.length - batchDims;
  for (const o of indices(upd.shape)) {
    const pre = o.slice(0, axis);
    const j = at(idx, [...pre.slice(0, batchDims), ...o.slice(axis, axis + k)]);
    if (j < 0 || j >= x.shape[axis]!) continue;
    const pos = ravel([...pre, j, ...o.slice(axis + k)], x.shape);
    data[pos] = COMBINE[op](data[pos]!, at(upd, o));
  }
  return { shape: x.shape.slice(), data };
}

const updShape = (x: number[], idx: number[], axis: number, bd: number): number[] => [...x.slice(0, axis), ...idx.slice(bd), ...x.slice(axis + 1)];

/** x and updates from one draw of distinct values, so min/max never tie (no kink under differences). */
function apartPair(rng: Rng, xs: number[], us: number[], dtype: Operand["dtype"]): [Operand, Operand] {
  const nx = xs.reduce((a, b) => a * b, 1),
    nu = us.reduce((a, b) => a * b, 1);
  const all = distinct(rng, [nx + nu], dtype);
  return [operand(xs, dtype, (i) => all.data[i]!), operand(us, dtype, (i) => all.data[nx + i]!)];
}

type SC = PrimCase<Prim.Scatter>;
interface Spec {
  name: string;
  x: number[];
  idx: number[];
  axis: number;
  bd: number;
  op: ScatterOp;
  makeIdx: (rng: Rng) => Operand;
  int?: boolean;
  zeros?: boolean;
}

function scatterCase({ name, x, idx, axis, bd, op, makeIdx, int = false, zeros = false }: Spec): SC {
  const u = updShape(x, idx, axis, bd);
  const extremal = op === "min" || op === "max";
  const make = (rng: Rng, fdt: Operand["dtype"]): Operand[] => {
    if (int) return [ints(rng, x, -9, 9), makeIdx(rng), ints(rng, u, -9, 9)];
    if (extremal) {
      const [a, b] = apartPair(rng, x, u, fdt);
      return [a, makeIdx(rng), b];
    }
    const upd = uni(rng, u, fdt, op === "mul" ? -1.5 : -1, op === "mul" ? 1.5 : 1);
    if (zeros) upd.data = upd.data.map((v, i) => (i % 3 === 0 ? 0 : v));
    return [uni(rng, x, fdt), makeIdx(rng), upd];
  };
  const linear = int ? undefined : op === "set" ? [[0, 2]] : op === "mul" ? [[0]] : undefined;
  return {
    name,
    make,
    params: { axis, batchDims: bd, op },
    ref: ([a, i, v], p) => scatterRef(a!, i!, v!, p.axis, p.batchDims, p.op),
    diff: int ? [] : [0, 2],
    ...(linear ? { linear } : {}),
  };
}

const repeated = (n: number, hi: number) => (rng: Rng) => {
  const a = rng.int(0, hi);
  return operand([n], "int32", (i) => (i % 2 === 0 ? a : rng.int(0, hi)));
};

export const indexingCases: { [Prim.Scatter]: SC[] } = {
  [Prim.Scatter]: [
    scatterCase({
      name: "set x [5,3] idx [4] axis 0, repeated indices (last wins)",
      x: [5, 3],
      idx: [4],
      axis: 0,
      bd: 0,
      op: "set",
      makeIdx: repeated(4, 4),
    }),
    scatterCase({
      name: "set x [3,4] idx [2,2] axis 1, out-of-range dropped",
      x: [3, 4],
      idx: [2, 2],
      axis: 1,
      bd: 0,
      op: "set",
      makeIdx: (rng) => ints(rng, [2, 2], -2, 5),
    }),
    scatterCase({
      name: "mul x [2,5] idx [2,3] axis 1 batchDims 1, repeated",
      x: [2, 5],
      idx: [2, 3],
      axis: 1,
      bd: 1,
      op: "mul",
      makeIdx: (rng) => ints(rng, [2, 3], 0, 2),
    }),
    scatterCase({
      name: "mul x [4] idx [5] with zero updates, repeated",
      x: [4],
      idx: [5],
      axis: 0,
      bd: 0,
      op: "mul",
      makeIdx: repeated(5, 3),
      zeros: true,
    }),
    scatterCase({ name: "min x [4,3] idx [5] axis 0, repeated", x: [4, 3], idx: [5], axis: 0, bd: 0, op: "min", makeIdx: repeated(5, 3) }),
    scatterCase({
      name: "max x [2,3,4] idx [2,5] axis 2 batchDims 1",
      x: [2, 3, 4],
      idx: [2, 5],
      axis: 2,
      bd: 1,
      op: "max",
      makeIdx: (rng) => ints(rng, [2, 5], -1, 4),
    }),
    scatterCase({ name: "int32 set x [4] idx [3]", x: [4], idx: [3], axis: 0, bd: 0, op: "set", makeIdx: (rng) => ints(rng, [3], 0, 3), int: true }),
    scatterCase({ name: "int32 max x [4] idx [3]", x: [4], idx: [3], axis: 0, bd: 0, op: "max", makeIdx: (rng) => ints(rng, [3], 0, 3), int: true }),
  ],
};
