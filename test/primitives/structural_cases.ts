/**
 * Table cases of the reductions, scans, structural primitives and dot_general, each with a naive
 * float64 reference written with index arithmetic. Reductions to a max/min use well-separated
 * values (no ties) unless the case is about ties; index operands include out-of-range values where
 * the primitive documents clamping.
 */
import { Prim, type PrimParams } from "../../src/index.js";
import {
  type FloatDType,
  type Host,
  type Operand,
  type PrimCase,
  type Rng,
  at,
  build,
  clampInt,
  distinct,
  indices,
  ints,
  operand,
  ravel,
  scalarInt,
  sizeOfShape,
  uni,
} from "./cases_util.js";

export type StructuralPrim =
  | Prim.ReduceSum
  | Prim.ReduceMax
  | Prim.ReduceMin
  | Prim.ArgMax
  | Prim.ArgMin
  | Prim.Cumsum
  | Prim.Argsort
  | Prim.BroadcastInDim
  | Prim.Reshape
  | Prim.Transpose
  | Prim.Rev
  | Prim.Slice
  | Prim.Pad
  | Prim.Concatenate
  | Prim.Gather
  | Prim.ScatterAdd
  | Prim.DynamicSlice
  | Prim.DynamicUpdateSlice
  | Prim.DotGeneral;

const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i);

// ---------------------------------------------------------------- references

function reduceRef(x: Host, axes: readonly number[], op: (acc: number, v: number) => number, init: number): Host {
  const keep = range(x.shape.length).filter((d) => !axes.includes(d));
  const shape = keep.map((d) => x.shape[d]!);
  const data = new Array<number>(sizeOfShape(shape)).fill(init);
  for (const idx of indices(x.shape)) {
    const o = ravel(
      keep.map((d) => idx[d]!),
      shape,
    );
    data[o] = op(data[o]!, at(x, idx));
  }
  return { shape, data };
}

function argRef(x: Host, axis: number, better: (a: number, b: number) => boolean): Host {
  const shape = x.shape.filter((_, d) => d !== axis);
  return build(shape, (o) => {
    const xi = [...o.slice(0, axis), 0, ...o.slice(axis)];
    let best = at(x, xi),
      arg = 0;
    for (let k = 1; k < x.shape[axis]!; k++) {
      xi[axis] = k;
      const v = at(x, xi);
      if (better(v, best)) {
        best = v;
        arg = k;
      }
    }
    return arg;
  });
}

function cumsumRef(x: Host, axis: number, reverse: boolean): Host {
  return build(x.shape, (idx) => {
    let s = 0;
    const n = x.shape[axis]!;
    for (let k = reverse ? idx[axis]! : 0; k < (reverse ? n : idx[axis]! + 1); k++) {
      const j = idx.slice();
      j[axis] = k;
      s += at(x, j);
    }
    return s;
  });
}

/** Each row along `axis` ordered by an insertion sort of (value, position) pairs: stable, NaN after everything. */
function argsortRef(x: Host, axis: number): Host {
  const n = x.shape[axis]!;
  const before = (a: number, b: number) => (a === a && b !== b) || a < b;
  return build(x.shape, (idx) => {
    const values = Array.from({ length: n }, (_, k) => at(x, [...idx.slice(0, axis), k, ...idx.slice(axis + 1)]));
    const row: number[] = [];
    for (let k = 0; k < n; k++) {
      let p = row.length;
      while (p > 0 && before(values[k]!, values[row[p - 1]!]!)) p--;
      row.splice(p, 0, k);
    }
    return row[idx[axis]!]!;
  });
}

function padRef(x: Host, value: number, config: [number, number, number][]): Host {
  const shape = x.shape.map((n, d) => config[d]![0] + config[d]![1] + n + Math.max(0, n - 1) * config[d]![2]);
  return build(shape, (o) => {
    const xi: number[] = [];
    for (let d = 0; d < shape.length; d++) {
      const [lo, , interior] = config[d]!;
      const j = o[d]! - lo;
      if (j < 0 || j % (interior + 1) !== 0 || j / (interior + 1) >= x.shape[d]!) return value;
      xi.push(j / (interior + 1));
    }
    return at(x, xi);
  });
}

function concatRef(xs: Host[], axis: number): Host {
  const shape = xs[0]!.shape.slice();
  shape[axis] = xs.reduce((s, x) => s + x.shape[axis]!, 0);
  return build(shape, (o) => {
    let k = o[axis]!;
    for (const x of xs) {
      if (k < x.shape[axis]!) {
        const i = o.slice();
        i[axis] = k;
        return at(x, i);
      }
      k -= x.shape[axis]!;
    }
    throw new Error("concatRef: out of range");
  });
}

/** Where gather's output element `o` reads x: the documented index map, with clamping. */
function gatherSource(x: Host, idx: Host, axis: number, batchDims: number, o: number[]): number[] {
  const k = idx.shape.length - batchDims;
  const pre = o.slice(0, axis),
    mid = o.slice(axis, axis + k),
    post = o.slice(axis + k);
  const j = clampInt(at(idx, [...pre.slice(0, batchDims), ...mid]), 0, x.shape[axis]! - 1);
  return [...pre, j, ...post];
}
const gatherShape = (x: Host, idx: Host, axis: number, batchDims: number): number[] => [
  ...x.shape.slice(0, axis),
  ...idx.shape.slice(batchDims),
  ...x.shape.slice(axis + 1),
];

function gatherRef(x: Host, idx: Host, axis: number, batchDims: number): Host {
  return build(gatherShape(x, idx, axis, batchDims), (o) => at(x, gatherSource(x, idx, axis, batchDims, o)));
}

function scatterAddRef(x: Host, idx: Host, upd: Host, axis: number, batchDims: number): Host {
  const data = x.data.slice();
  for (const o of indices(upd.shape)) data[ravel(gatherSource(x, idx, axis, batchDims, o), x.shape)] += at(upd, o);
  return { shape: x.shape.slice(), data };
}

const clampStarts = (x: Host, starts: Host[], sizes: readonly number[]): number[] =>
  starts.map((s, d) => clampInt(s.data[0]!, 0, x.shape[d]! - sizes[d]!));

function dynamicSliceRef(x: Host, starts: Host[], sizes: number[]): Host {
  const s = clampStarts(x, starts, sizes);
  return build(sizes, (o) =>
    at(
      x,
      o.map((v, d) => v + s[d]!),
    ),
  );
}

function dynamicUpdateSliceRef(x: Host, upd: Host, starts: Host[]): Host {
  const s = clampStarts(x, starts, upd.shape);
  const data = x.data.slice();
  for (const o of indices(upd.shape))
    data[
      ravel(
        o.map((v, d) => v + s[d]!),
        x.shape,
      )
    ] = at(upd, o);
  return { shape: x.shape.slice(), data };
}

function dotGeneralRef(l: Host, r: Host, { contract: [lc, rc], batch: [lb, rb] }: PrimParams[Prim.DotGeneral]): Host {
  const lFree = range(l.shape.length).filter((d) => !lc.includes(d) && !lb.includes(d));
  const rFree = range(r.shape.length).filter((d) => !rc.includes(d) && !rb.includes(d));
  const shape = [...lb.map((d) => l.shape[d]!), ...lFree.map((d) => l.shape[d]!), ...rFree.map((d) => r.shape[d]!)];
  const cShape = lc.map((d) => l.shape[d]!);
  return build(shape, (o) => {
    const li = new Array<number>(l.shape.length),
      ri = new Array<number>(r.shape.length);
    lb.forEach((d, i) => (li[d] = o[i]!));
    rb.forEach((d, i) => (ri[d] = o[i]!));
    lFree.forEach((d, i) => (li[d] = o[lb.length + i]!));
    rFree.forEach((d, i) => (ri[d] = o[lb.length + lFree.length + i]!));
    let s = 0;
    for (const c of indices(cShape)) {
      lc.forEach((d, i) => (li[d] = c[i]!));
      rc.forEach((d, i) => (ri[d] = c[i]!));
      s += at(l, li) * at(r, ri);
    }
    return s;
  });
}

// ---------------------------------------------------------------- case builders

type Make = (rng: Rng, fdt: FloatDType) => Operand[];
const f =
  (shape: number[]): Make =>
  (rng, fdt) => [uni(rng, shape, fdt, -2, 2)];
const fd =
  (shape: number[]): Make =>
  (rng, fdt) => [distinct(rng, shape, fdt)];
const i32 =
  (shape: number[], lo = -5, hi = 5): Make =>
  (rng) => [ints(rng, shape, lo, hi)];

/** A one-operand case: float cases are differentiable and (when `linear`) linear in operand 0. */
function one<P extends Prim>(
  name: string,
  make: Make,
  params: PrimParams[P],
  ref: PrimCase<P>["ref"],
  opts: { int?: boolean; linear?: boolean; zero?: boolean; out?: PrimCase<P>["outDtype"] } = {},
): PrimCase<P> {
  const c: PrimCase<P> = { name, make, params, ref, diff: opts.int ? [] : [0] };
  if (opts.linear && !opts.int) c.linear = [[0]];
  if (opts.zero) c.zeroDerivative = true;
  if (opts.out) c.outDtype = opts.out;
  return c;
}

const INT32 = () => "int32" as const;
type RC<P extends Prim> = PrimCase<P>["ref"];
const sumRef: RC<Prim.ReduceSum> = ([x], { axes }) => reduceRef(x!, axes, (a, v) => a + v, 0);
const maxRef: RC<Prim.ReduceMax> = ([x], { axes }) => reduceRef(x!, axes, Math.max, -Infinity);
const minRef: RC<Prim.ReduceMin> = ([x], { axes }) => reduceRef(x!, axes, Math.min, Infinity);
const argmaxRef: RC<Prim.ArgMax> = ([x], { axis }) => argRef(x!, axis, (a, b) => a > b);
const argminRef: RC<Prim.ArgMin> = ([x], { axis }) => argRef(x!, axis, (a, b) => a < b);

/** reduce_max/min over axis 1 of [2,5] with ties: the documented tangent averages the tied elements'. */
function tiedReduce<P extends Prim.ReduceMax | Prim.ReduceMin>(ref: RC<P>, pick: (a: number, b: number) => number): PrimCase<P> {
  return {
    name: "float [2,5] axes [1] with ties (tangent averaged over the tied elements)",
    make: (rng, fdt) => [operand([2, 5], fdt, () => rng.int(0, 2) * 0.5)],
    params: { axes: [1] } as PrimParams[P],
    ref,
    diff: [0],
    tangentRef: ([x], [t]) =>
      build([2], ([i]) => {
        const row = [0, 1, 2, 3, 4].map((j) => at(x!, [i!, j]));
        const best = row.reduce((a, b) => pick(a, b));
        const tied = [0, 1, 2, 3, 4].filter((j) => row[j] === best);
        return tied.reduce((s, j) => s + at(t!, [i!, j]), 0) / tied.length;
      }),
  };
}

function reduceCases<P extends Prim.ReduceSum | Prim.ReduceMax | Prim.ReduceMin>(ref: RC<P>, linear: boolean): PrimCase<P>[] {
  const gen = linear ? f : fd;
  const p = (axes: number[]) => ({ axes }) as PrimParams[P];
  return [
    one<P>("float [2,3,4] axes [1]", gen([2, 3, 4]), p([1]), ref, { linear }),
    one<P>("float [2,3,4] axes [0,2]", gen([2, 3, 4]), p([0, 2]), ref, { linear }),
    one<P>("float [2,3,4] all axes (to a scalar)", gen([2, 3, 4]), p([0, 1, 2]), ref, { linear }),
    one<P>("float [3,1] axes [1] (size-1 axis)", gen([3, 1]), p([1]), ref, { linear }),
    one<P>("int32 [3,4] axes [1] (ties)", i32([3, 4], -2, 2), p([1]), ref, { int: true }),
  ];
}

function argCases<P extends Prim.ArgMax | Prim.ArgMin>(ref: RC<P>): PrimCase<P>[] {
  const p = (axis: number) => ({ axis }) as PrimParams[P];
  const o = { zero: true, out: INT32 };
  return [
    one<P>("float [3,4] axis 0", fd([3, 4]), p(0), ref, o),
    one<P>("float [3,4] axis 1", fd([3, 4]), p(1), ref, o),
    one<P>("float [5] axis 0", fd([5]), p(0), ref, o),
    one<P>("float [2,5] axis 1 with ties (first wins)", (rng, fdt) => [operand([2, 5], fdt, () => rng.int(0, 2))], p(1), ref, o),
    one<P>("int32 [2,5] axis 1 with ties", i32([2, 5], 0, 2), p(1), ref, { ...o, int: true }),
  ];
}

/** Values that test the order's edges: NaN, infinities, signed zeros and repeats. */
const SPECIAL = [NaN, Infinity, -Infinity, 0, -0, 1.5, -1.5, 1.5, NaN, 0];

function argsortCases(): PrimCase<Prim.Argsort>[] {
  const ref: RC<Prim.Argsort> = ([x], { axis }) => argsortRef(x!, axis);
  const o = { zero: true, out: INT32 };
  const special: Make = (rng, fdt) => [operand([2, 10], fdt, () => SPECIAL[rng.int(0, SPECIAL.length - 1)]!)];
  return [
    one("float [3,4] axis 0", fd([3, 4]), { axis: 0 }, ref, o),
    one("float [3,4] axis 1", fd([3, 4]), { axis: 1 }, ref, o),
    one("float [2,3,5] axis 1", fd([2, 3, 5]), { axis: 1 }, ref, o),
    one("float [40] axis 0", fd([40]), { axis: 0 }, ref, o),
    one("float [2,6] axis 1 with ties (stable)", (rng, fdt) => [operand([2, 6], fdt, () => rng.int(0, 2))], { axis: 1 }, ref, o),
    { ...one("float [2,10] NaN, ±inf, ±0 and repeats", special, { axis: 1 }, ref, o), modes: { jvp: false, vjp: false } },
    one("int32 [3,7] axis 1 with ties", i32([3, 7], -3, 3), { axis: 1 }, ref, { ...o, int: true }),
    one("int32 [0,3] axis 0 (empty)", i32([0, 3]), { axis: 0 }, ref, { ...o, int: true }),
  ];
}

type BC = PrimCase<Prim.BroadcastInDim>;
const bcast = (name: string, make: Make, shape: number[], bd: number[], int = false): BC =>
  one(
    name,
    make,
    { shape, broadcastDimensions: bd },
    ([x], { shape: s, broadcastDimensions: b }) =>
      build(s, (o) =>
        at(
          x!,
          b.map((d, i) => (x!.shape[i] === 1 ? 0 : o[d]!)),
        ),
      ),
    { int, linear: true },
  );

const reshapeRef: RC<Prim.Reshape> = ([x], { shape }) => ({ shape: shape.slice(), data: x!.data.slice() });
const transposeRef: RC<Prim.Transpose> = ([x], { perm }) =>
  build(
    perm.map((p) => x!.shape[p]!),
    (o) => {
      const xi: number[] = [];
      perm.forEach((p, i) => (xi[p] = o[i]!));
      return at(x!, xi);
    },
  );
const revRef: RC<Prim.Rev> = ([x], { axes }) =>
  build(x!.shape, (o) =>
    at(
      x!,
      o.map((v, d) => (axes.includes(d) ? x!.shape[d]! - 1 - v : v)),
    ),
  );
const sliceRef: RC<Prim.Slice> = ([x], { start, limit, step }) =>
  build(
    start.map((s, d) => Math.max(0, Math.ceil((limit[d]! - s) / step[d]!))),
    (o) =>
      at(
        x!,
        o.map((v, d) => start[d]! + v * step[d]!),
      ),
  );

type PadC = PrimCase<Prim.Pad>;
const pad = (shape: number[], config: [number, number, number][], int = false): PadC => ({
  name: `${int ? "int32" : "float"} [${shape}] config ${JSON.stringify(config)}`,
  make: int ? (rng) => [ints(rng, shape, -5, 5), ints(rng, [], -5, 5)] : (rng, fdt) => [uni(rng, shape, fdt), uni(rng, [], fdt)],
  params: { config },
  ref: ([x, v], { config: c }) => padRef(x!, v!.data[0]!, c),
  diff: int ? [] : [0, 1],
  ...(int ? {} : { linear: [[0, 1], [0], [1]] }),
});

type CatC = PrimCase<Prim.Concatenate>;
const concat = (shapes: number[][], axis: number, int = false): CatC => ({
  name: `${int ? "int32" : "float"} ${shapes.map((s) => `[${s}]`).join(" ++ ")} axis ${axis}`,
  make: (rng, fdt) => shapes.map((s) => (int ? ints(rng, s, -5, 5) : uni(rng, s, fdt))),
  params: { axis },
  ref: (xs, { axis: a }) => concatRef(xs, a),
  diff: int ? [] : range(shapes.length),
  ...(int ? {} : { linear: [range(shapes.length), [shapes.length - 1]] }),
});

type GC = PrimCase<Prim.Gather>;
const gather = (name: string, x: number[], idx: number[], axis: number, batchDims: number, lo: number, hi: number, int = false): GC => ({
  name,
  make: (rng, fdt) => [int ? ints(rng, x, -9, 9) : uni(rng, x, fdt), ints(rng, idx, lo, hi)],
  params: { axis, batchDims },
  ref: ([a, i], p) => gatherRef(a!, i!, p.axis, p.batchDims),
  diff: int ? [] : [0],
  ...(int ? {} : { linear: [[0]] }),
});

type SC = PrimCase<Prim.ScatterAdd>;
const scatter = (name: string, x: number[], idx: number[], axis: number, batchDims: number, makeIdx: (rng: Rng) => Operand, int = false): SC => {
  const upd = [...x.slice(0, axis), ...idx.slice(batchDims), ...x.slice(axis + 1)];
  return {
    name,
    make: (rng, fdt) => [int ? ints(rng, x, -9, 9) : uni(rng, x, fdt), makeIdx(rng), int ? ints(rng, upd, -9, 9) : uni(rng, upd, fdt)],
    params: { axis, batchDims },
    ref: ([a, i, u], p) => scatterAddRef(a!, i!, u!, p.axis, p.batchDims),
    diff: int ? [] : [0, 2],
    ...(int ? {} : { linear: [[0, 2], [2]] }),
  };
};

type DSC = PrimCase<Prim.DynamicSlice>;
/** `starts(rng)` draws the start of every dim; out-of-range starts are clamped by the primitive. */
const dslice = (name: string, x: number[], sizes: number[], starts: (rng: Rng) => number[], int = false): DSC => ({
  name,
  make: (rng, fdt) => [int ? ints(rng, x, -9, 9) : uni(rng, x, fdt), ...starts(rng).map(scalarInt)],
  params: { sizes },
  ref: ([a, ...s], p) => dynamicSliceRef(a!, s, p.sizes),
  diff: int ? [] : [0],
  ...(int ? {} : { linear: [[0]] }),
});

type DUC = PrimCase<Prim.DynamicUpdateSlice>;
const dupdate = (name: string, x: number[], u: number[], starts: (rng: Rng) => number[], int = false): DUC => ({
  name,
  make: (rng, fdt) => [int ? ints(rng, x, -9, 9) : uni(rng, x, fdt), int ? ints(rng, u, -9, 9) : uni(rng, u, fdt), ...starts(rng).map(scalarInt)],
  params: {},
  ref: ([a, b, ...s]) => dynamicUpdateSliceRef(a!, b!, s),
  diff: int ? [] : [0, 1],
  ...(int ? {} : { linear: [[0, 1], [1]] }),
});

type DC = PrimCase<Prim.DotGeneral>;
const dot = (name: string, l: number[], r: number[], contract: [number[], number[]], batch: [number[], number[]] = [[], []], int = false): DC => ({
  name,
  make: (rng, fdt) => (int ? [ints(rng, l, -3, 3), ints(rng, r, -3, 3)] : [uni(rng, l, fdt), uni(rng, r, fdt)]),
  params: { contract, batch },
  ref: ([a, b], p) => dotGeneralRef(a!, b!, p),
  diff: int ? [] : [0, 1],
  ...(int ? {} : { linear: [[0], [1]] }),
});

export const structuralCases: { [P in StructuralPrim]: PrimCase<P>[] } = {
  [Prim.ReduceSum]: reduceCases(sumRef, true),
  [Prim.ReduceMax]: [...reduceCases<Prim.ReduceMax>(maxRef, false), tiedReduce<Prim.ReduceMax>(maxRef, Math.max)],
  [Prim.ReduceMin]: [...reduceCases<Prim.ReduceMin>(minRef, false), tiedReduce<Prim.ReduceMin>(minRef, Math.min)],
  [Prim.ArgMax]: argCases(argmaxRef),
  [Prim.ArgMin]: argCases(argminRef),
  [Prim.Cumsum]: [
    one("float [3,4] axis 0", f([3, 4]), { axis: 0, reverse: false }, ([x], p) => cumsumRef(x!, p.axis, p.reverse), { linear: true }),
    one("float [3,4] axis 1 reverse", f([3, 4]), { axis: 1, reverse: true }, ([x], p) => cumsumRef(x!, p.axis, p.reverse), { linear: true }),
    one("float [5] axis 0", f([5]), { axis: 0, reverse: false }, ([x], p) => cumsumRef(x!, p.axis, p.reverse), { linear: true }),
    one("float [2,1,3] axis 2 reverse", f([2, 1, 3]), { axis: 2, reverse: true }, ([x], p) => cumsumRef(x!, p.axis, p.reverse), { linear: true }),
    one("int32 [4] axis 0", i32([4]), { axis: 0, reverse: false }, ([x], p) => cumsumRef(x!, p.axis, p.reverse), { int: true }),
  ],
  [Prim.Argsort]: argsortCases(),
  [Prim.BroadcastInDim]: [
    bcast("float [3] -> [2,3]", f([3]), [2, 3], [1]),
    bcast("float [3,1] -> [3,4] (stretch a size-1 dim)", f([3, 1]), [3, 4], [0, 1]),
    bcast("float scalar -> [2,3]", f([]), [2, 3], []),
    bcast("float [2,3] -> [2,4,3]", f([2, 3]), [2, 4, 3], [0, 2]),
    bcast("int32 [2] -> [2,2]", i32([2]), [2, 2], [0], true),
  ],
  [Prim.Reshape]: [
    one("float [2,3,4] -> [6,4]", f([2, 3, 4]), { shape: [6, 4] }, reshapeRef, { linear: true }),
    one("float scalar -> [1,1]", f([]), { shape: [1, 1] }, reshapeRef, { linear: true }),
    one("float [4,1] -> [2,2]", f([4, 1]), { shape: [2, 2] }, reshapeRef, { linear: true }),
    one("int32 [6] -> [3,2]", i32([6]), { shape: [3, 2] }, reshapeRef, { int: true }),
  ],
  [Prim.Transpose]: [
    one("float [2,3,4] perm [2,0,1]", f([2, 3, 4]), { perm: [2, 0, 1] }, transposeRef, { linear: true }),
    one("float [3,4] perm [1,0]", f([3, 4]), { perm: [1, 0] }, transposeRef, { linear: true }),
    one("float [1,3] perm [1,0]", f([1, 3]), { perm: [1, 0] }, transposeRef, { linear: true }),
    one("int32 [2,3] perm [1,0]", i32([2, 3]), { perm: [1, 0] }, transposeRef, { int: true }),
  ],
  [Prim.Rev]: [
    one("float [3,4] axes [0]", f([3, 4]), { axes: [0] }, revRef, { linear: true }),
    one("float [2,3,4] axes [0,2]", f([2, 3, 4]), { axes: [0, 2] }, revRef, { linear: true }),
    one("float [5] axes [0]", f([5]), { axes: [0] }, revRef, { linear: true }),
    one("int32 [3] axes [0]", i32([3]), { axes: [0] }, revRef, { int: true }),
  ],
  [Prim.Slice]: [
    one("float [5,6] [1:4, 0:6:2]", f([5, 6]), { start: [1, 0], limit: [4, 6], step: [1, 2] }, sliceRef, { linear: true }),
    one("float [7] [1:7:3]", f([7]), { start: [1], limit: [7], step: [3] }, sliceRef, { linear: true }),
    one("float [3,4,2] [0:3:2, 1:4, 1:2]", f([3, 4, 2]), { start: [0, 1, 1], limit: [3, 4, 2], step: [2, 1, 1] }, sliceRef, { linear: true }),
    one("int32 [4,4] [1:3, 1:4]", i32([4, 4]), { start: [1, 1], limit: [3, 4], step: [1, 1] }, sliceRef, { int: true }),
  ],
  [Prim.Pad]: [
    pad([3], [[1, 2, 0]]),
    pad(
      [2, 3],
      [
        [0, 1, 1],
        [2, 0, 2],
      ],
    ),
    pad(
      [1, 2],
      [
        [1, 1, 3],
        [0, 0, 1],
      ],
    ),
    pad(
      [2, 2],
      [
        [1, 0, 1],
        [0, 2, 0],
      ],
      true,
    ),
  ],
  [Prim.Concatenate]: [
    concat(
      [
        [2, 3],
        [1, 3],
        [4, 3],
      ],
      0,
    ),
    concat(
      [
        [2, 1],
        [2, 3],
      ],
      1,
    ),
    concat([[2], [3]], 0, true),
  ],
  [Prim.Gather]: [
    gather("float x [5,3] idx [4] axis 0", [5, 3], [4], 0, 0, 0, 4),
    gather("float x [3,6] idx [2,2] axis 1", [3, 6], [2, 2], 1, 0, 0, 5),
    gather("float x [2,5,3] idx [2,4] axis 1 batchDims 1", [2, 5, 3], [2, 4], 1, 1, 0, 4),
    gather("float x [4,3] idx [5] axis 0, out-of-range indices clamp", [4, 3], [5], 0, 0, -3, 7),
    gather("float x [4] scalar idx axis 0", [4], [], 0, 0, 0, 3),
    gather("float x [2,3,5] idx [2,2,2] axis 2 batchDims 1 (a dim between batch and axis)", [2, 3, 5], [2, 2, 2], 2, 1, 0, 4),
    gather("int32 x [3,4] idx [3] axis 1", [3, 4], [3], 1, 0, 0, 3, true),
  ],
  [Prim.ScatterAdd]: [
    scatter("float x [5,3] idx [4] axis 0, repeated indices", [5, 3], [4], 0, 0, (rng) => {
      const a = rng.int(0, 4);
      return operand([4], "int32", (i) => (i % 2 === 0 ? a : rng.int(0, 4)));
    }),
    scatter("float x [2,5] idx [2,3] axis 1 batchDims 1, out-of-range clamps", [2, 5], [2, 3], 1, 1, (rng) => ints(rng, [2, 3], -2, 6)),
    scatter("float x [3,4] idx [2,2] axis 1", [3, 4], [2, 2], 1, 0, (rng) => ints(rng, [2, 2], 0, 3)),
    scatter("float x [2,3,4] idx [2,5] axis 2 batchDims 1, repeated indices", [2, 3, 4], [2, 5], 2, 1, (rng) => ints(rng, [2, 5], 0, 3)),
    scatter("int32 x [4] idx [3] axis 0", [4], [3], 0, 0, (rng) => ints(rng, [3], 0, 3), true),
  ],
  [Prim.DynamicSlice]: [
    dslice("float [5,6] sizes [3,2] in range", [5, 6], [3, 2], (rng) => [rng.int(0, 2), rng.int(0, 4)]),
    dslice("float [5,6] sizes [3,4] starts clamped (too high, negative)", [5, 6], [3, 4], (rng) => [rng.int(3, 7), rng.int(-4, -1)]),
    dslice("float [4] sizes [1]", [4], [1], (rng) => [rng.int(0, 3)]),
    dslice("int32 [3,3] sizes [2,2]", [3, 3], [2, 2], (rng) => [rng.int(0, 1), rng.int(0, 1)], true),
  ],
  [Prim.DynamicUpdateSlice]: [
    dupdate("float [5,6] update [2,3] in range", [5, 6], [2, 3], (rng) => [rng.int(0, 3), rng.int(0, 3)]),
    dupdate("float [5,6] update [2,3] starts clamped", [5, 6], [2, 3], (rng) => [rng.int(4, 8), rng.int(-3, -1)]),
    dupdate("float [4] update [4] (whole array)", [4], [4], (rng) => [rng.int(0, 2)]),
    dupdate("float [3,4] update [1,4] (a size-1 dim)", [3, 4], [1, 4], (rng) => [rng.int(0, 2), rng.int(-1, 1)]),
    dupdate("int32 [3,3] update [1,2]", [3, 3], [1, 2], (rng) => [rng.int(0, 2), rng.int(0, 1)], true),
  ],
  [Prim.DotGeneral]: [
    dot("matmul [3,4] x [4,2]", [3, 4], [4, 2], [[1], [0]]),
    dot("batched [2,3,4] x [2,4,5]", [2, 3, 4], [2, 4, 5], [[2], [1]], [[0], [0]]),
    dot(
      "two contracting dims [3,2,4] x [4,5,2]",
      [3, 2, 4],
      [4, 5, 2],
      [
        [1, 2],
        [2, 0],
      ],
    ),
    dot("non-leading batch dim [3,2,4] x [4,2]", [3, 2, 4], [4, 2], [[2], [0]], [[1], [1]]),
    dot("batch dims in different places [4,2,3] x [2,5,4]", [4, 2, 3], [2, 5, 4], [[0], [2]], [[1], [0]]),
    dot(
      "two batch dims [2,3,4] x [3,4,2]",
      [2, 3, 4],
      [3, 4, 2],
      [[1], [0]],
      [
        [0, 2],
        [2, 1],
      ],
    ),
    dot("inner product [4] x [4] (to a scalar)", [4], [4], [[0], [0]]),
    dot("outer product [3] x [2]", [3], [2], [[], []]),
    dot("int32 matmul [2,3] x [3,2]", [2, 3], [3, 2], [[1], [0]], [[], []], true),
  ],
};
