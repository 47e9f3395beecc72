/**
 * How each primitive is written as ONNX (opset 18) nodes: the lowering table, exhaustive over
 * `Prim`, so a primitive added to the enum does not compile until it has an entry here (a
 * lowering, or `unsupported` for one ONNX cannot express, which raises a typed `ExportError`).
 * Semantics follow fluxion's CPU kernels: int32 division by zero gives 0, float→bool is `x != 0`
 * with NaN false, gather/scatter indices and dynamic-slice starts clamp, bool arithmetic is
 * computed in float32 and converted back.
 */
import type { DType } from "../core/dtype.js";
import type { Aval } from "../core/ndarray.js";
import { Prim } from "../core/prim.js";
import type { ClosedProgram, Eqn } from "../ir/ir.js";
import { ExportError, type GraphBuilder, sizeOf, valueInfo } from "./onnx_graph.js";

/** Lowers a closed program inside `g` on input names; returns its output names. */
export type LowerProgram = (g: GraphBuilder, cp: ClosedProgram, inputs: readonly string[]) => string[];

/** One primitive's lowering: ONNX nodes in `g` computing the equation's outputs from `ins`. */
export type Lowering<P extends Prim> = (g: GraphBuilder, ins: string[], e: Eqn<P>, lower: LowerProgram) => string[];

const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i);
const inAval = (e: Eqn, i: number): Aval => e.inputs[i]!.aval;
const outAval = (e: Eqn, i = 0): Aval => e.outvars[i]!.aval;

/** A primitive with no ONNX counterpart: the typed error names it and says what to do. */
const unsupported =
  (why: string): Lowering<Prim> =>
  (_g, _ins, e) => {
    throw new ExportError(`exportOnnx: primitive ${e.prim} cannot be exported to ONNX (${why})`);
  };

/** float→bool as fluxion converts: true where x != 0 and x is not NaN. */
function toBool(g: GraphBuilder, x: string, from: DType): string {
  if (from === "bool") return x;
  if (from !== "float32" && from !== "float64") return g.op("Not", [g.op("Equal", [x, g.scalar(0, from)])]);
  return g.op("And", [g.op("Not", [g.op("Equal", [x, g.scalar(0, from)])]), g.op("Equal", [x, x])]);
}

/** An elementwise op; bool operands are computed in float32 and converted back (fluxion's rule). */
const elementwise =
  (build: (g: GraphBuilder, ins: string[], dtype: DType) => string): Lowering<Prim> =>
  (g, ins, e) => {
    const dt = inAval(e, 0).dtype;
    if (dt !== "bool") return [build(g, ins, dt)];
    return [
      toBool(
        g,
        build(
          g,
          ins.map((x) => g.cast(x, "float32")),
          "float32",
        ),
        "float32",
      ),
    ];
  };
const simple = (op: string): Lowering<Prim> => elementwise((g, ins) => g.op(op, ins));

/** A comparison; bool operands are compared as int32 (ONNX orders only numbers). */
const compare =
  (op: string, negate = false): Lowering<Prim> =>
  (g, ins, e) => {
    const xs = inAval(e, 0).dtype === "bool" && op !== "Equal" ? ins.map((x) => g.cast(x, "int32")) : ins;
    const r = g.op(op, xs);
    return [negate ? g.op("Not", [r]) : r];
  };

/** A reduction over `axes` (kept empty: nothing reduced). Bool max/min reduce as int32. */
const reduce =
  (op: string): Lowering<Prim.ReduceSum | Prim.ReduceMax | Prim.ReduceMin> =>
  (g, [x], e) => {
    const dt = inAval(e, 0).dtype;
    const xin = dt === "bool" ? g.cast(x!, "int32") : x!;
    const r = g.op(op, [xin, g.ints(e.params.axes)], { keepdims: 0, noop_with_empty_axes: 1 });
    return [dt === "bool" ? toBool(g, r, "int32") : r];
  };

/** int64 index tuples B ++ I ++ [b+1] for gather/scatter: the batch iotas then the clamped index. */
function fullIndices(g: GraphBuilder, idx: string, idxAval: Aval, batchDims: number, n: number): string {
  const shape = idxAval.shape;
  const clamped = g.cast(g.op("Clip", [idx, g.scalar(0, "int32"), g.scalar(Math.max(n - 1, 0), "int32")]), "int64");
  const last = g.op("Unsqueeze", [clamped, g.ints([-1])]);
  if (batchDims === 0) return last;
  const total = sizeOf(idxAval);
  const iota = new Array<number>(total * batchDims);
  const strides = shape.map((_, d) => shape.slice(d + 1).reduce((p, s) => p * s, 1));
  for (let k = 0; k < total; k++) for (let b = 0; b < batchDims; b++) iota[k * batchDims + b] = Math.floor(k / strides[b]!) % shape[b]!;
  const batch = g.model.constant(iota, [...shape, batchDims], "int64");
  return g.op("Concat", [batch, last], { axis: -1 });
}

/** Gather/scatter layout: x permuted to B ++ [n] ++ M ++ R, and the gather output's permutation. */
function gatherLayout(xNd: number, idxNd: number, axis: number, b: number) {
  const xPerm = [...range(b), axis, ...range(axis).slice(b), ...range(xNd).slice(axis + 1)];
  const m = axis - b,
    i = idxNd - b,
    r = xNd - axis - 1;
  // GatherND gives B ++ I ++ M ++ R; fluxion's order is B ++ M ++ I ++ R.
  const toOut = [...range(b), ...range(m).map((k) => b + i + k), ...range(i).map((k) => b + k), ...range(r).map((k) => b + i + m + k)];
  return { xPerm, toOut };
}

const invert = (perm: readonly number[]): number[] => {
  const inv = new Array<number>(perm.length);
  perm.forEach((p, i) => (inv[p] = i));
  return inv;
};

/** Scalar int32 starts clamped to [0, dim - size], as one int64 vector. */
function clampedStarts(g: GraphBuilder, starts: string[], dims: readonly number[], sizes: readonly number[]): string {
  const parts = starts.map((s, d) =>
    g.op("Unsqueeze", [g.cast(g.op("Clip", [s, g.scalar(0, "int32"), g.scalar(Math.max(dims[d]! - sizes[d]!, 0), "int32")]), "int64"), g.ints([0])]),
  );
  return parts.length === 1 ? parts[0]! : g.op("Concat", parts, { axis: 0 });
}

/** Wraps a lowered body as an If/Loop subgraph: its outputs pass through Identity under fresh names. */
function subgraph(g: GraphBuilder, inputs: object[], build: (sg: GraphBuilder) => { names: string[]; avals: Aval[] }): object {
  const sg = new (g.constructor as new (m: typeof g.model) => GraphBuilder)(g.model);
  const { names, avals } = build(sg);
  const outs = names.map((n) => sg.op("Identity", [n]));
  return sg.graph(
    inputs,
    outs.map((n, i) => valueInfo(n, avals[i]!)),
  );
}

/** cond with index `idx` over `branches` from `k` on: nested If nodes (idx <= k picks branch k). */
function lowerCond(g: GraphBuilder, idx: string, ops: string[], e: Eqn<Prim.Cond>, lower: LowerProgram, k: number): string[] {
  const { branches } = e.params;
  const avals = e.outvars.map((v) => v.aval);
  if (k === branches.length - 1) return lower(g, branches[k]!, ops);
  const pred = g.op("LessOrEqual", [idx, g.scalar(k, "int32")]);
  const thenG = subgraph(g, [], (sg) => ({ names: lower(sg, branches[k]!, ops), avals }));
  const elseG = subgraph(g, [], (sg) => ({ names: lowerCond(sg, idx, ops, e, lower, k + 1), avals }));
  return g.node("If", [pred], { then_branch: { graph: thenG }, else_branch: { graph: elseG } }, avals.length);
}

const inline: Lowering<Prim.JitCall | Prim.Remat> = (g, ins, e, lower) =>
  lower(g, e.prim === Prim.JitCall ? (e as Eqn<Prim.JitCall>).params.program : (e as Eqn<Prim.Remat>).params.body, ins);

export const onnxRules: { [P in Prim]: Lowering<P> } = {
  [Prim.Add]: simple("Add"),
  [Prim.Sub]: simple("Sub"),
  [Prim.Neg]: simple("Neg"),
  // float→int truncates, →bool is x != 0 (NaN false), as fluxion's conversion.
  [Prim.ConvertElementType]: (g, [x], e) => {
    const from = inAval(e, 0).dtype,
      to = e.params.dtype;
    return [to === "bool" ? toBool(g, x!, from) : g.cast(x!, to)];
  },
  // which: bool (cases[1] where true) or int32 clamped: w <= k picks case k.
  [Prim.SelectN]: (g, [w, ...cases], e) => {
    if (cases.length === 1) return [g.op("Identity", [cases[0]!])];
    if (inAval(e, 0).dtype === "bool") return [g.op("Where", [w!, cases[1]!, cases[0]!])];
    let r = cases[cases.length - 1]!;
    for (let k = cases.length - 2; k >= 0; k--) r = g.op("Where", [g.op("LessOrEqual", [w!, g.scalar(k, "int32")]), cases[k]!, r]);
    return [r];
  },
  [Prim.Mul]: simple("Mul"),
  // int32: a / 0 = 0, otherwise truncated.
  [Prim.Div]: elementwise((g, [a, b], dt) => {
    if (dt !== "int32") return g.op("Div", [a!, b!]);
    const zero = g.op("Equal", [b!, g.scalar(0, "int32")]);
    const safe = g.op("Where", [zero, g.scalar(1, "int32"), b!]);
    return g.op("Where", [zero, g.scalar(0, "int32"), g.op("Div", [a!, safe])]);
  }),
  [Prim.Exp]: simple("Exp"),
  [Prim.Log]: simple("Log"),
  // log1p x = log(u) x / (u - 1) with u = 1 + x (exact to rounding, Goldberg); x where u == 1 or u = inf.
  [Prim.Log1p]: elementwise((g, [x], dt) => {
    const u = g.op("Add", [x!, g.scalar(1, dt)]);
    const r = g.op("Div", [g.op("Mul", [g.op("Log", [u]), x!]), g.op("Sub", [u, g.scalar(1, dt)])]);
    const plain = g.op("Or", [g.op("Equal", [u, g.scalar(1, dt)]), g.op("IsInf", [u])]);
    return g.op("Where", [plain, g.op("Where", [g.op("IsInf", [u]), u, x!]), r]);
  }),
  // expm1 x = (u - 1) x / log u with u = e^x for |x| < 1 (Kahan); e^x - 1 elsewhere.
  [Prim.Expm1]: elementwise((g, [x], dt) => {
    const u = g.op("Exp", [x!]);
    const um1 = g.op("Sub", [u, g.scalar(1, dt)]);
    const kahan = g.op("Div", [g.op("Mul", [um1, x!]), g.op("Log", [u])]);
    const small = g.op("Where", [g.op("Equal", [u, g.scalar(1, dt)]), x!, kahan]);
    return g.op("Where", [g.op("Less", [g.op("Abs", [x!]), g.scalar(1, dt)]), small, um1]);
  }),
  [Prim.Sin]: simple("Sin"),
  [Prim.Cos]: simple("Cos"),
  [Prim.Tanh]: simple("Tanh"),
  // ONNX Runtime has no float64 Atan: start from float32 atan and take two Newton steps on
  // f(y) = sin y - x cos y (f' = cos y + x sin y), exact to float64 rounding; infinities keep the start.
  [Prim.Atan]: elementwise((g, [x], dt) => {
    if (dt !== "float64") return g.op("Atan", [x!]);
    const y0 = g.cast(g.op("Atan", [g.cast(x!, "float32")]), "float64");
    let y = y0;
    for (let k = 0; k < 2; k++) {
      const s = g.op("Sin", [y]),
        c = g.op("Cos", [y]);
      const f = g.op("Sub", [s, g.op("Mul", [x!, c])]);
      const df = g.op("Add", [c, g.op("Mul", [x!, s])]);
      y = g.op("Sub", [y, g.op("Div", [f, df])]);
    }
    return g.op("Where", [g.op("IsInf", [x!]), y0, y]);
  }),
  [Prim.Logistic]: simple("Sigmoid"),
  [Prim.Sqrt]: simple("Sqrt"),
  [Prim.Rsqrt]: elementwise((g, [x]) => g.op("Reciprocal", [g.op("Sqrt", [x!])])),
  [Prim.Abs]: simple("Abs"),
  // int32 powers are taken in float64 and truncated, as fluxion's kernel.
  [Prim.Pow]: elementwise((g, [a, b], dt) =>
    dt === "int32" ? g.cast(g.op("Pow", [g.cast(a!, "float64"), g.cast(b!, "float64")]), "int32") : g.op("Pow", [a!, b!]),
  ),
  [Prim.Max]: simple("Max"),
  [Prim.Min]: simple("Min"),
  [Prim.Sign]: simple("Sign"),
  [Prim.Floor]: simple("Floor"),
  [Prim.Eq]: compare("Equal"),
  [Prim.Ne]: compare("Equal", true),
  [Prim.Lt]: compare("Less"),
  [Prim.Le]: compare("LessOrEqual"),
  [Prim.Gt]: compare("Greater"),
  [Prim.Ge]: compare("GreaterOrEqual"),
  // Logical on bool, bitwise on integers (opset 18's Bitwise* ops).
  [Prim.And]: (g, ins, e) => [g.op(inAval(e, 0).dtype === "bool" ? "And" : "BitwiseAnd", ins)],
  [Prim.Or]: (g, ins, e) => [g.op(inAval(e, 0).dtype === "bool" ? "Or" : "BitwiseOr", ins)],
  [Prim.Not]: (g, ins, e) => [g.op(inAval(e, 0).dtype === "bool" ? "Not" : "BitwiseNot", ins)],
  [Prim.Xor]: (g, ins, e) => [g.op(inAval(e, 0).dtype === "bool" ? "Xor" : "BitwiseXor", ins)],
  [Prim.ShiftLeft]: unsupported("ONNX's BitShift takes unsigned types only and leaves shifts of 32 or more undefined; fluxion's give 0"),
  [Prim.ShiftRightLogical]: unsupported("ONNX's BitShift takes unsigned types only and leaves shifts of 32 or more undefined; fluxion's give 0"),
  [Prim.BitcastConvertType]: unsupported("ONNX has no bitcast between float and integer types"),
  [Prim.StopGradient]: (g, ins) => [g.op("Identity", ins)],
  [Prim.ReduceSum]: (g, [x], e) => {
    const dt = inAval(e, 0).dtype;
    if (dt !== "bool") return [g.op("ReduceSum", [x!, g.ints(e.params.axes)], { keepdims: 0, noop_with_empty_axes: 1 })];
    const s = g.op("ReduceSum", [g.cast(x!, "int32"), g.ints(e.params.axes)], { keepdims: 0, noop_with_empty_axes: 1 });
    return [toBool(g, s, "int32")];
  },
  [Prim.ReduceMax]: reduce("ReduceMax"),
  [Prim.ReduceMin]: reduce("ReduceMin"),
  [Prim.ArgMax]: (g, [x], e) => [
    g.cast(g.op("ArgMax", [inAval(e, 0).dtype === "bool" ? g.cast(x!, "int32") : x!], { axis: e.params.axis, keepdims: 0 }), "int32"),
  ],
  [Prim.ArgMin]: (g, [x], e) => [
    g.cast(g.op("ArgMin", [inAval(e, 0).dtype === "bool" ? g.cast(x!, "int32") : x!], { axis: e.params.axis, keepdims: 0 }), "int32"),
  ],
  // TopK breaks ties by index, so ascending TopK over the whole axis is a stable argsort. NaN (whose
  // order TopK leaves open) is sorted as +inf first, then moved last by a second stable pass on the
  // NaN flags.
  [Prim.Argsort]: (g, [x], e) => {
    const { shape, dtype } = inAval(e, 0);
    const axis = e.params.axis,
      n = shape[axis]!;
    if (n === 0) return [g.cast(x!, "int32")];
    const order = (keys: string) => g.node("TopK", [keys, g.ints([n])], { axis, largest: 0, sorted: 1 }, 2)[1]!;
    if (dtype !== "float32" && dtype !== "float64") return [g.cast(order(dtype === "bool" ? g.cast(x!, "int32") : x!), "int32")];
    const nan = g.op("IsNaN", [x!]);
    const first = order(g.op("Where", [nan, g.scalar(Infinity, dtype), x!]));
    const flags = g.op("GatherElements", [g.cast(nan, dtype), first], { axis });
    return [g.cast(g.op("GatherElements", [first, order(flags)], { axis }), "int32")];
  },
  [Prim.Cumsum]: (g, [x], e) => {
    const dt = inAval(e, 0).dtype;
    const xin = dt === "bool" ? g.cast(x!, "int32") : x!;
    const r = g.op("CumSum", [xin, g.scalar(e.params.axis, "int64")], { reverse: e.params.reverse ? 1 : 0 });
    return [dt === "bool" ? toBool(g, r, "int32") : r];
  },
  // Operand dim i goes to output dim bd[i]: order the dims, insert 1s, Expand.
  [Prim.BroadcastInDim]: (g, [x], e) => {
    const { shape, broadcastDimensions: bd } = e.params;
    const order = range(bd.length).sort((a, b) => bd[a]! - bd[b]!);
    const xt = g.transpose(x!, order);
    const mid = shape.map(() => 1);
    order.forEach((i) => (mid[bd[i]!] = inAval(e, 0).shape[i]!));
    return [g.op("Expand", [g.reshape(xt, mid), g.ints(shape)])];
  },
  [Prim.Reshape]: (g, [x], e) => [g.reshape(x!, e.params.shape)],
  [Prim.Transpose]: (g, [x], e) => [g.op("Transpose", [x!], { perm: e.params.perm.slice() })],
  [Prim.Rev]: (g, [x], e) => {
    const axes = e.params.axes.filter((a) => inAval(e, 0).shape[a]! > 0);
    if (axes.length === 0) return [g.op("Identity", [x!])];
    const dims = axes.map((a) => inAval(e, 0).shape[a]!);
    return [g.op("Slice", [x!, g.ints(dims.map((d) => d - 1)), g.ints(dims.map((d) => -d - 1)), g.ints(axes), g.ints(axes.map(() => -1))])];
  },
  [Prim.Slice]: (g, [x], e) => {
    const { start, limit, step } = e.params;
    const axes = range(start.length);
    return [g.op("Slice", [x!, g.ints(start), g.ints(limit), g.ints(axes), g.ints(step)])];
  },
  // Interior padding: interleave `interior` fill values after each element, drop the trailing ones; then Pad.
  [Prim.Pad]: (g, [x, value], e) => {
    let cur = x!;
    const shape = inAval(e, 0).shape.slice();
    e.params.config.forEach(([, , interior], d) => {
      const n = shape[d]!;
      if (interior === 0 || n === 0) return;
      const col = [...shape.slice(0, d + 1), 1, ...shape.slice(d + 1)];
      const fillShape = [...shape.slice(0, d + 1), interior, ...shape.slice(d + 1)];
      const fill = g.op("Expand", [value!, g.ints(fillShape)]);
      const both = g.op("Concat", [g.reshape(cur, col), fill], { axis: d + 1 });
      const flat = [...shape.slice(0, d), n * (interior + 1), ...shape.slice(d + 1)];
      const len = n + (n - 1) * interior;
      cur = g.op("Slice", [g.reshape(both, flat), g.ints([0]), g.ints([len]), g.ints([d])]);
      shape[d] = len;
    });
    const pads = [...e.params.config.map(([lo]) => lo), ...e.params.config.map(([, hi]) => hi)];
    if (pads.every((p) => p === 0)) return [g.op("Identity", [cur])];
    return [g.op("Pad", [cur, g.ints(pads), value!], { mode: { str: "constant" } })];
  },
  [Prim.Concatenate]: (g, ins, e) => [g.op("Concat", ins, { axis: e.params.axis })],
  // GatherND over full index tuples (batch iotas, clamped index) on x permuted to B ++ [n] ++ M ++ R.
  [Prim.Gather]: (g, [x, idx], e) => {
    const { axis, batchDims } = e.params;
    const xa = inAval(e, 0),
      ia = inAval(e, 1);
    const { xPerm, toOut } = gatherLayout(xa.shape.length, ia.shape.length, axis, batchDims);
    const ind = fullIndices(g, idx!, ia, batchDims, xa.shape[axis]!);
    return [g.transpose(g.op("GatherND", [g.transpose(x!, xPerm), ind]), toOut)];
  },
  // ScatterND with reduction add on the same layout; updates permuted to B ++ I ++ M ++ R.
  [Prim.ScatterAdd]: (g, [x, idx, upd], e) => {
    const { axis, batchDims } = e.params;
    const xa = inAval(e, 0),
      ia = inAval(e, 1);
    const { xPerm, toOut } = gatherLayout(xa.shape.length, ia.shape.length, axis, batchDims);
    const ind = fullIndices(g, idx!, ia, batchDims, xa.shape[axis]!);
    const u = g.transpose(upd!, invert(toOut));
    const r = g.op("ScatterND", [g.transpose(x!, xPerm), ind, u], { reduction: { str: "add" } });
    return [g.transpose(r, invert(xPerm))];
  },
  // The primitive's layout is ONNX's (N, C, spatial / O, C/G, window). ONNX's Conv has no input
  // dilation, batch groups or negative (cropping) padding; those convolutions are export errors.
  [Prim.ConvGeneralDilated]: (g, [x, w], e) => {
    const { strides, padding, lhsDilation, rhsDilation, featureGroupCount, batchGroupCount } = e.params;
    if (lhsDilation.some((d) => d !== 1) || batchGroupCount !== 1 || padding.some(([lo, hi]) => lo < 0 || hi < 0))
      throw new ExportError(
        "exportOnnx: conv_general_dilated with input dilation, batch groups or negative padding cannot be exported to ONNX (its Conv has none of them)",
      );
    if (inAval(e, 0).dtype !== "float32" && inAval(e, 0).dtype !== "float64")
      throw new ExportError(`exportOnnx: conv_general_dilated of ${inAval(e, 0).dtype} cannot be exported to ONNX (its Conv takes floats only)`);
    const pads = [...padding.map(([lo]) => lo), ...padding.map(([, hi]) => hi)];
    return [g.op("Conv", [x!, w!], { strides, pads, dilations: rhsDilation, group: featureGroupCount })];
  },
  // ONNX has no matrix factorisations or triangular solves among its operators.
  [Prim.Cholesky]: unsupported("ONNX has no Cholesky factorisation operator"),
  [Prim.TriangularSolve]: unsupported("ONNX has no triangular-solve operator"),
  [Prim.Lu]: unsupported("ONNX has no LU factorisation operator"),
  [Prim.Qr]: unsupported("ONNX has no QR factorisation operator"),
  [Prim.Eigh]: unsupported("ONNX has no symmetric eigendecomposition operator"),
  [Prim.Svd]: unsupported("ONNX has no singular value decomposition operator"),
  [Prim.Scatter]: unsupported(
    "fluxion's scatter drops out-of-range indices and lets the last of repeated indices win; ONNX's ScatterND errors on the first and leaves the second unspecified",
  ),
  [Prim.DynamicSlice]: (g, [x, ...starts], e) => {
    const dims = inAval(e, 0).shape,
      sizes = e.params.sizes;
    const s = clampedStarts(g, starts, dims, sizes);
    return [g.op("Slice", [x!, s, g.op("Add", [s, g.ints(sizes)]), g.ints(range(dims.length))])];
  },
  // ScatterND of the update at its grid of positions offset by the clamped starts.
  [Prim.DynamicUpdateSlice]: (g, [x, upd, ...starts], e) => {
    const dims = inAval(e, 0).shape,
      us = inAval(e, 1).shape;
    if (sizeOf(inAval(e, 1)) === 0) return [g.op("Identity", [x!])];
    const s = clampedStarts(g, starts, dims, us);
    const total = sizeOf(inAval(e, 1)),
      r = us.length;
    const grid = new Array<number>(total * r);
    const strides = us.map((_, d) => us.slice(d + 1).reduce((p, v) => p * v, 1));
    for (let k = 0; k < total; k++) for (let d = 0; d < r; d++) grid[k * r + d] = Math.floor(k / strides[d]!) % us[d]!;
    const ind = g.op("Add", [g.model.constant(grid, [...us, r], "int64"), s]);
    return [g.op("ScatterND", [x!, ind, upd!])];
  },
  // Transpose to [batch, free, contract] / [batch, contract, free], MatMul, reshape to batch ++ free ++ free.
  [Prim.DotGeneral]: (g, [l, r], e) => {
    const [lc, rc] = e.params.contract,
      [lb, rb] = e.params.batch;
    const la = inAval(e, 0),
      ra = inAval(e, 1);
    const lFree = range(la.shape.length).filter((d) => !lc.includes(d) && !lb.includes(d));
    const rFree = range(ra.shape.length).filter((d) => !rc.includes(d) && !rb.includes(d));
    const size = (a: Aval, dims: number[]) => dims.reduce((p, d) => p * a.shape[d]!, 1);
    const B = size(la, lb),
      M = size(la, lFree),
      K = size(la, lc),
      N = size(ra, rFree);
    const dt = la.dtype;
    const cast = (x: string) => (dt === "bool" ? g.cast(x, "float32") : x);
    const a = g.reshape(g.transpose(cast(l!), [...lb, ...lFree, ...lc]), [B, M, K]);
    const b = g.reshape(g.transpose(cast(r!), [...rb, ...rc, ...rFree]), [B, K, N]);
    const out = g.reshape(g.op("MatMul", [a, b]), outAval(e).shape);
    return [dt === "bool" ? toBool(g, out, "float32") : out];
  },
  [Prim.JitCall]: inline,
  [Prim.Cond]: (g, [idx, ...ops], e, lower) => lowerCond(g, idx!, ops, e, lower, 0),
  // Loop with no trip count: the condition is computed before the loop and at the end of each body.
  [Prim.While]: (g, ins, e, lower) => {
    const { cond, body, condConsts, bodyConsts } = e.params;
    const cc = ins.slice(0, condConsts),
      bc = ins.slice(condConsts, condConsts + bodyConsts),
      carry = ins.slice(condConsts + bodyConsts);
    const avals = e.outvars.map((v) => v.aval);
    const first = lower(g, cond, [...cc, ...carry])[0]!;
    const iter = g.model.fresh(),
      condIn = g.model.fresh();
    const carryIn = avals.map(() => g.model.fresh());
    const bodyG = subgraph(
      g,
      [
        valueInfo(iter, { shape: [], dtype: "int64" }),
        valueInfo(condIn, { shape: [], dtype: "bool" }),
        ...carryIn.map((n, i) => valueInfo(n, avals[i]!)),
      ],
      (sg) => {
        const next = lower(sg, body, [...bc, ...carryIn]);
        const c = lower(sg, cond, [...cc, ...next])[0]!;
        return { names: [c, ...next], avals: [{ shape: [], dtype: "bool" }, ...avals] };
      },
    );
    return g.node("Loop", ["", first, ...carry], { body: { graph: bodyG } }, avals.length);
  },
  // Loop with trip count `length`; step t reads xs[t] (t = length-1-i when reversed); ys stack in iteration order.
  [Prim.Scan]: (g, ins, e, lower) => {
    const { body, length, reverse, numConsts, numCarry } = e.params;
    const consts = ins.slice(0, numConsts),
      carry = ins.slice(numConsts, numConsts + numCarry),
      xs = ins.slice(numConsts + numCarry);
    const avals = e.outvars.map((v) => v.aval);
    const carryAvals = avals.slice(0, numCarry),
      yAvals = avals.slice(numCarry);
    if (length === 0) return [...carry.map((c) => g.op("Identity", [c])), ...yAvals.map((a) => g.model.constant([], a.shape, a.dtype))];
    const iter = g.model.fresh(),
      condIn = g.model.fresh();
    const carryIn = carryAvals.map(() => g.model.fresh());
    const bodyG = subgraph(
      g,
      [
        valueInfo(iter, { shape: [], dtype: "int64" }),
        valueInfo(condIn, { shape: [], dtype: "bool" }),
        ...carryIn.map((n, i) => valueInfo(n, carryAvals[i]!)),
      ],
      (sg) => {
        const t = reverse ? sg.op("Sub", [sg.scalar(length - 1, "int64"), iter]) : iter;
        const xt = xs.map((x) => sg.op("Gather", [x, t], { axis: 0 }));
        const outs = lower(sg, body, [...consts, ...carryIn, ...xt]);
        return {
          names: [condIn, ...outs],
          avals: [{ shape: [], dtype: "bool" }, ...carryAvals, ...yAvals.map((a) => ({ shape: a.shape.slice(1), dtype: a.dtype }))],
        };
      },
    );
    const outs = g.node("Loop", [g.scalar(length, "int64"), g.scalar(1, "bool"), ...carry], { body: { graph: bodyG } }, avals.length);
    if (!reverse) return outs;
    const ys = outs.slice(numCarry).map((y) => g.op("Slice", [y, g.ints([length - 1]), g.ints([-length - 1]), g.ints([0]), g.ints([-1])]));
    return [...outs.slice(0, numCarry), ...ys];
  },
  [Prim.CustomJvpCall]: (g, ins, e, lower) => lower(g, e.params.fun, ins),
  [Prim.CustomVjpCall]: (g, ins, e, lower) => lower(g, e.params.fun, ins),
  [Prim.CustomLin]: unsupported("it is a linear map that is only transposed, never run; export the gradient function itself"),
  // A model has no host to print to.
  [Prim.DebugCallback]: unsupported("a model has no host to print to; remove debug.print / debug.callback before exporting"),
  [Prim.Remat]: inline,
};
