/**
 * Shape and dtype rules: for every primitive, the avals of its outputs from the avals of its inputs
 * and its params. These also validate the operands, so every interpreter (eval, staging) rejects
 * malformed primitive calls the same way.
 */
import { type DType, isFloat, isInteger } from "./dtype.js";
import { ArgumentError, DTypeError, ShapeError } from "./errors.js";
import { type Aval, fmtAval } from "./ndarray.js";
import { checkArity, checkParams } from "./params.js";
import { Prim, type PrimParams } from "./prim.js";
import { type Shape, fmtShape, shapeEq, sizeOf } from "./shape.js";
import type { ClosedProgram } from "../ir/ir.js";

export type AbstractRule<P extends Prim> = (avals: readonly Aval[], params: PrimParams[P]) => Aval[];

const av = (shape: Shape, dtype: DType): Aval => ({ shape, dtype });

function fail(prim: Prim, msg: string, avals: readonly Aval[]): never {
  throw new ShapeError(`${prim}: ${msg} (operands ${avals.map(fmtAval).join(", ")})`);
}

function sameAvals(prim: Prim, avals: readonly Aval[]): void {
  const a = avals[0]!;
  for (let i = 1; i < avals.length; i++) {
    const b = avals[i]!;
    if (!shapeEq(a.shape, b.shape)) fail(prim, "operands must have equal shapes", avals);
    if (a.dtype !== b.dtype) {
      throw new DTypeError(`${prim}: operands must have equal dtypes (operands ${avals.map(fmtAval).join(", ")})`);
    }
  }
}

function floatOnly(prim: Prim, a: Aval): void {
  if (!isFloat(a.dtype)) {
    throw new DTypeError(`${prim}: needs a float operand, got ${fmtAval(a)}; convert it with .astype("float32")`);
  }
}

const unaryFloat =
  (prim: Prim): AbstractRule<Prim> =>
  ([a]) => (floatOnly(prim, a!), [a!]);
const unaryAny: AbstractRule<Prim> = ([a]) => [a!];
const binary =
  (prim: Prim): AbstractRule<Prim> =>
  (avals) => (sameAvals(prim, avals), [avals[0]!]);
const compare =
  (prim: Prim): AbstractRule<Prim> =>
  (avals) => (sameAvals(prim, avals), [av(avals[0]!.shape, "bool")]);
const logical =
  (prim: Prim): AbstractRule<Prim> =>
  (avals) => {
    sameAvals(prim, avals);
    const d = avals[0]!.dtype;
    if (d !== "bool" && !isInteger(d)) {
      throw new DTypeError(`${prim}: needs bool, int32 or uint32 operands, got ${avals.map(fmtAval).join(", ")}; floats have no bitwise operations`);
    }
    return [avals[0]!];
  };
const shift =
  (prim: Prim): AbstractRule<Prim> =>
  (avals) => {
    sameAvals(prim, avals);
    if (!isInteger(avals[0]!.dtype)) {
      throw new DTypeError(
        `${prim}: needs int32 or uint32 operands of one dtype, got ${avals.map(fmtAval).join(", ")}; convert with .astype("uint32")`,
      );
    }
    return [avals[0]!];
  };
/** The dtypes a 32-bit bitcast may go between. */
const WORD32: readonly DType[] = ["float32", "int32", "uint32"];

function checkAxes(prim: Prim, axes: readonly number[], ndim: number, avals: readonly Aval[]): void {
  for (const a of axes) if (!(a >= 0 && a < ndim)) fail(prim, `axis ${a} out of range`, avals);
}

const reduce =
  <P extends Prim.ReduceSum | Prim.ReduceMax | Prim.ReduceMin>(prim: P): AbstractRule<P> =>
  (avals, { axes }) => {
    const a = avals[0]!;
    checkAxes(prim, axes, a.shape.length, avals);
    return [
      av(
        a.shape.filter((_, i) => !axes.includes(i)),
        a.dtype,
      ),
    ];
  };

/**
 * Output shape of conv_general_dilated (canonical layout). Per spatial dim, with the lhs dilated to
 * (S - 1) * ld + 1 and padded by lo + hi, and a window spanning (K - 1) * rd + 1:
 * Q = floor((padded - span) / stride) + 1, or 0 when the window does not fit.
 */
export function convOutShape(avals: readonly Aval[], p: PrimParams[Prim.ConvGeneralDilated]): number[] {
  const P = Prim.ConvGeneralDilated;
  const [l, r] = avals;
  const nd = l!.shape.length - 2;
  if (l!.dtype !== r!.dtype) throw new DTypeError(`${P}: lhs and rhs must have equal dtypes (operands ${avals.map(fmtAval).join(", ")})`);
  if (l!.dtype === "bool") throw new DTypeError(`${P}: needs numeric operands, got ${fmtAval(l!)}; convert with .astype("float32")`);
  if (nd < 1 || nd > 3 || r!.shape.length !== nd + 2) fail(P, "lhs and rhs need the same rank, 3 to 5 (1 to 3 spatial dims)", avals);
  for (const [k, v] of [
    ["strides", p.strides],
    ["padding", p.padding],
    ["lhsDilation", p.lhsDilation],
    ["rhsDilation", p.rhsDilation],
  ] as const) {
    if (v.length !== nd) fail(P, `${k} needs one entry per spatial dim (${nd})`, avals);
  }
  const [n, c] = l!.shape as [number, number];
  const [o, i] = r!.shape as [number, number];
  const { featureGroupCount: g, batchGroupCount: b } = p;
  if (g > 1 && b > 1) fail(P, "featureGroupCount and batchGroupCount cannot both exceed 1", avals);
  if (c !== i * g) fail(P, `lhs features (${c}) must equal rhs input features (${i}) times featureGroupCount (${g})`, avals);
  if (o % g !== 0 || o % b !== 0) fail(P, `rhs output features (${o}) must be divisible by the group counts (${g}, ${b})`, avals);
  if (n % b !== 0) fail(P, `lhs batch (${n}) must be divisible by batchGroupCount (${b})`, avals);
  const spatial = l!.shape.slice(2).map((s, d) => {
    const dilated = s === 0 ? 0 : (s - 1) * p.lhsDilation[d]! + 1;
    const padded = dilated + p.padding[d]![0] + p.padding[d]![1];
    const span = (r!.shape[d + 2]! - 1) * p.rhsDilation[d]! + 1;
    if (r!.shape[d + 2] === 0) fail(P, "the window must not be empty", avals);
    return padded < span ? 0 : Math.floor((padded - span) / p.strides[d]!) + 1;
  });
  return [n / b, o, ...spatial];
}

const argReduce =
  <P extends Prim.ArgMax | Prim.ArgMin>(prim: P): AbstractRule<P> =>
  (avals, { axis }) => {
    const a = avals[0]!;
    checkAxes(prim, [axis], a.shape.length, avals);
    if (a.shape[axis] === 0) fail(prim, "cannot take the arg-extremum of an empty axis", avals);
    return [
      av(
        a.shape.filter((_, i) => i !== axis),
        "int32",
      ),
    ];
  };

function indexOperand(prim: Prim, a: Aval, avals: readonly Aval[]): void {
  if (a.dtype !== "int32") throw new DTypeError(`${prim}: indices must be int32, got ${fmtAval(a)} (operands ${avals.map(fmtAval).join(", ")})`);
}

function gatherShape(prim: Prim, x: Aval, idx: Aval, axis: number, batchDims: number, avals: readonly Aval[]): number[] {
  indexOperand(prim, idx, avals);
  if (!(batchDims >= 0 && batchDims <= axis && axis < x.shape.length && batchDims <= idx.shape.length)) {
    fail(prim, `bad axis ${axis} / batchDims ${batchDims}`, avals);
  }
  for (let i = 0; i < batchDims; i++) if (x.shape[i] !== idx.shape[i]) fail(prim, "batch dims differ", avals);
  return [...x.shape.slice(0, axis), ...idx.shape.slice(batchDims), ...x.shape.slice(axis + 1)];
}

export const abstractRules: { [P in Prim]: AbstractRule<P> } = {
  [Prim.Add]: binary(Prim.Add),
  [Prim.Sub]: binary(Prim.Sub),
  [Prim.Mul]: binary(Prim.Mul),
  [Prim.Div]: binary(Prim.Div),
  [Prim.Max]: binary(Prim.Max),
  [Prim.Min]: binary(Prim.Min),
  [Prim.Pow]: binary(Prim.Pow),
  [Prim.Neg]: unaryAny,
  [Prim.Abs]: unaryAny,
  [Prim.Sign]: unaryAny,
  [Prim.StopGradient]: unaryAny,
  [Prim.Floor]: unaryFloat(Prim.Floor),
  [Prim.Exp]: unaryFloat(Prim.Exp),
  [Prim.Log]: unaryFloat(Prim.Log),
  [Prim.Log1p]: unaryFloat(Prim.Log1p),
  [Prim.Expm1]: unaryFloat(Prim.Expm1),
  [Prim.Sin]: unaryFloat(Prim.Sin),
  [Prim.Cos]: unaryFloat(Prim.Cos),
  [Prim.Tanh]: unaryFloat(Prim.Tanh),
  [Prim.Atan]: unaryFloat(Prim.Atan),
  [Prim.Logistic]: unaryFloat(Prim.Logistic),
  [Prim.Sqrt]: unaryFloat(Prim.Sqrt),
  [Prim.Rsqrt]: unaryFloat(Prim.Rsqrt),
  [Prim.Eq]: compare(Prim.Eq),
  [Prim.Ne]: compare(Prim.Ne),
  [Prim.Lt]: compare(Prim.Lt),
  [Prim.Le]: compare(Prim.Le),
  [Prim.Gt]: compare(Prim.Gt),
  [Prim.Ge]: compare(Prim.Ge),
  [Prim.And]: logical(Prim.And),
  [Prim.Or]: logical(Prim.Or),
  [Prim.Not]: logical(Prim.Not),
  [Prim.Xor]: logical(Prim.Xor),
  [Prim.ShiftLeft]: shift(Prim.ShiftLeft),
  [Prim.ShiftRightLogical]: shift(Prim.ShiftRightLogical),
  [Prim.BitcastConvertType]: ([a], { dtype }) => {
    if (!WORD32.includes(a!.dtype) || !WORD32.includes(dtype)) {
      throw new DTypeError(`bitcast_convert_type: bitcasts go between the 32-bit dtypes float32, int32 and uint32; got ${fmtAval(a!)} to ${dtype}`);
    }
    return [av(a!.shape, dtype)];
  },
  [Prim.ConvertElementType]: ([a], { dtype }) => [av(a!.shape, dtype)],
  [Prim.SelectN]: (avals) => {
    const [which, ...cases] = avals;
    if (cases.length === 0) fail(Prim.SelectN, "needs at least one case", avals);
    sameAvals(Prim.SelectN, cases);
    if (!shapeEq(which!.shape, cases[0]!.shape)) fail(Prim.SelectN, "predicate shape must equal the cases' shape", avals);
    if (which!.dtype === "bool" ? cases.length > 2 : which!.dtype !== "int32") {
      throw new DTypeError(`select_n: the predicate must be bool (2 cases) or int32, got ${fmtAval(which!)}`);
    }
    return [cases[0]!];
  },
  [Prim.ReduceSum]: reduce(Prim.ReduceSum),
  [Prim.ReduceMax]: reduce(Prim.ReduceMax),
  [Prim.ReduceMin]: reduce(Prim.ReduceMin),
  [Prim.ArgMax]: argReduce(Prim.ArgMax),
  [Prim.ArgMin]: argReduce(Prim.ArgMin),
  [Prim.Cumsum]: (avals, { axis }) => (checkAxes(Prim.Cumsum, [axis], avals[0]!.shape.length, avals), [avals[0]!]),
  [Prim.Argsort]: (avals, { axis }) => (checkAxes(Prim.Argsort, [axis], avals[0]!.shape.length, avals), [av(avals[0]!.shape, "int32")]),
  [Prim.ConvGeneralDilated]: (avals, params) => [av(convOutShape(avals, params), avals[0]!.dtype)],
  [Prim.BroadcastInDim]: (avals, { shape, broadcastDimensions: bd }) => {
    const a = avals[0]!;
    if (bd.length !== a.shape.length) fail(Prim.BroadcastInDim, `broadcastDimensions ${fmtShape(bd)} must have one entry per operand dim`, avals);
    for (let i = 0; i < bd.length; i++) {
      const d = bd[i]!;
      if (!(d >= 0 && d < shape.length) || (i > 0 && d <= bd[i - 1]!)) fail(Prim.BroadcastInDim, `bad broadcastDimensions ${fmtShape(bd)}`, avals);
      if (a.shape[i] !== 1 && a.shape[i] !== shape[d]) fail(Prim.BroadcastInDim, `cannot broadcast to ${fmtShape(shape)}`, avals);
    }
    return [av(shape, a.dtype)];
  },
  [Prim.Reshape]: (avals, { shape }) => {
    if (sizeOf(shape) !== sizeOf(avals[0]!.shape)) fail(Prim.Reshape, `cannot reshape to ${fmtShape(shape)}`, avals);
    return [av(shape, avals[0]!.dtype)];
  },
  [Prim.Transpose]: (avals, { perm }) => {
    const a = avals[0]!;
    if (perm.length !== a.shape.length || [...perm].sort((x, y) => x - y).some((p, i) => p !== i)) {
      fail(Prim.Transpose, `${fmtShape(perm)} is not a permutation of the operand's dims`, avals);
    }
    return [
      av(
        perm.map((p) => a.shape[p]!),
        a.dtype,
      ),
    ];
  },
  [Prim.Rev]: (avals, { axes }) => (checkAxes(Prim.Rev, axes, avals[0]!.shape.length, avals), [avals[0]!]),
  [Prim.Slice]: (avals, { start, limit, step }) => {
    const a = avals[0]!;
    if (start.length !== a.shape.length || limit.length !== a.shape.length || step.length !== a.shape.length) {
      fail(Prim.Slice, "start, limit and step need one entry per dim", avals);
    }
    const shape = a.shape.map((n, d) => {
      const s = start[d]!,
        l = limit[d]!,
        k = step[d]!;
      if (!(0 <= s && s <= l && l <= n && k >= 1)) fail(Prim.Slice, `bad bounds ${s}:${l}:${k} for dim ${d} of size ${n}`, avals);
      return Math.max(0, Math.ceil((l - s) / k));
    });
    return [av(shape, a.dtype)];
  },
  [Prim.Pad]: (avals, { config }) => {
    const [a, pv] = avals;
    if (pv!.shape.length !== 0 || pv!.dtype !== a!.dtype) fail(Prim.Pad, "the padding value must be a scalar of the operand's dtype", avals);
    if (config.length !== a!.shape.length) fail(Prim.Pad, "config needs one [low, high, interior] per dim", avals);
    const shape = a!.shape.map((n, d) => {
      const [lo, hi, interior] = config[d]!;
      if (lo < 0 || hi < 0 || interior < 0) fail(Prim.Pad, "widths must be non-negative", avals);
      return lo + hi + n + Math.max(0, n - 1) * interior;
    });
    return [av(shape, a!.dtype)];
  },
  [Prim.Concatenate]: (avals, { axis }) => {
    const a = avals[0]!;
    checkAxes(Prim.Concatenate, [axis], a.shape.length, avals);
    let total = 0;
    for (const b of avals) {
      if (b.dtype !== a.dtype || b.shape.length !== a.shape.length || b.shape.some((n, d) => d !== axis && n !== a.shape[d])) {
        fail(Prim.Concatenate, `operands must agree on every dim but ${axis}`, avals);
      }
      total += b.shape[axis]!;
    }
    return [
      av(
        a.shape.map((n, d) => (d === axis ? total : n)),
        a.dtype,
      ),
    ];
  },
  [Prim.Gather]: (avals, { axis, batchDims }) => {
    const [x, idx] = avals;
    return [av(gatherShape(Prim.Gather, x!, idx!, axis, batchDims, avals), x!.dtype)];
  },
  [Prim.ScatterAdd]: (avals, { axis, batchDims }) => {
    const [x, idx, upd] = avals;
    const want = gatherShape(Prim.ScatterAdd, x!, idx!, axis, batchDims, avals);
    if (!shapeEq(want, upd!.shape) || upd!.dtype !== x!.dtype)
      fail(Prim.ScatterAdd, `updates must be ${fmtShape(want)} of the operand's dtype`, avals);
    return [x!];
  },
  [Prim.Scatter]: (avals, { axis, batchDims }) => {
    const [x, idx, upd] = avals;
    const want = gatherShape(Prim.Scatter, x!, idx!, axis, batchDims, avals);
    if (!shapeEq(want, upd!.shape) || upd!.dtype !== x!.dtype) fail(Prim.Scatter, `updates must be ${fmtShape(want)} of the operand's dtype`, avals);
    return [x!];
  },
  [Prim.DynamicSlice]: (avals, { sizes }) => {
    const [x, ...starts] = avals;
    if (starts.length !== x!.shape.length || sizes.length !== x!.shape.length) fail(Prim.DynamicSlice, "needs one start and one size per dim", avals);
    for (const s of starts)
      if (s.shape.length !== 0) fail(Prim.DynamicSlice, "start indices must be scalars", avals);
      else indexOperand(Prim.DynamicSlice, s, avals);
    if (sizes.some((s, d) => !(s >= 0 && s <= x!.shape[d]!))) fail(Prim.DynamicSlice, `sizes ${fmtShape(sizes)} do not fit`, avals);
    return [av(sizes, x!.dtype)];
  },
  [Prim.DynamicUpdateSlice]: (avals) => {
    const [x, upd, ...starts] = avals;
    if (starts.length !== x!.shape.length || upd!.shape.length !== x!.shape.length)
      fail(Prim.DynamicUpdateSlice, "needs one start per dim and an update of the same rank", avals);
    for (const s of starts)
      if (s.shape.length !== 0) fail(Prim.DynamicUpdateSlice, "start indices must be scalars", avals);
      else indexOperand(Prim.DynamicUpdateSlice, s, avals);
    if (upd!.dtype !== x!.dtype || upd!.shape.some((n, d) => n > x!.shape[d]!))
      fail(Prim.DynamicUpdateSlice, "the update must fit inside the operand, with its dtype", avals);
    return [x!];
  },
  [Prim.DotGeneral]: (avals, { contract: [lc, rc], batch: [lb, rb] }) => {
    const [l, r] = avals;
    if (l!.dtype !== r!.dtype) throw new DTypeError(`dot_general: operands must have equal dtypes, got ${fmtAval(l!)} and ${fmtAval(r!)}`);
    if (l!.dtype === "uint32")
      throw new DTypeError(
        `dot_general: uint32 operands are not supported (${fmtAval(l!)}); convert them with .astype("int32") or .astype("float32")`,
      );
    if (lc.length !== rc.length || lb.length !== rb.length) fail(Prim.DotGeneral, "contracting/batch dim lists differ in length", avals);
    checkAxes(Prim.DotGeneral, [...lc, ...lb], l!.shape.length, avals);
    checkAxes(Prim.DotGeneral, [...rc, ...rb], r!.shape.length, avals);
    lc.forEach((d, i) => l!.shape[d] !== r!.shape[rc[i]!] && fail(Prim.DotGeneral, `contracting dims ${d} and ${rc[i]} differ in size`, avals));
    lb.forEach((d, i) => l!.shape[d] !== r!.shape[rb[i]!] && fail(Prim.DotGeneral, `batch dims ${d} and ${rb[i]} differ in size`, avals));
    const lFree = l!.shape.filter((_, d) => !lc.includes(d) && !lb.includes(d));
    const rFree = r!.shape.filter((_, d) => !rc.includes(d) && !rb.includes(d));
    return [av([...lb.map((d) => l!.shape[d]!), ...lFree, ...rFree], l!.dtype)];
  },
  [Prim.Cholesky]: (avals) => [squareMatrices(Prim.Cholesky, avals[0]!, avals)],
  [Prim.TriangularSolve]: (avals, { leftSide }) => {
    const [a, b] = avals;
    squareMatrices(Prim.TriangularSolve, a!, avals);
    if (b!.dtype !== a!.dtype) throw new DTypeError(`triangular_solve: a and b must have equal dtypes (operands ${avals.map(fmtAval).join(", ")})`);
    const n = a!.shape[a!.shape.length - 1]!,
      r = b!.shape.length;
    if (r !== a!.shape.length) fail(Prim.TriangularSolve, "a and b must have the same rank (equal leading batch dims)", avals);
    if (!shapeEq(a!.shape.slice(0, -2), b!.shape.slice(0, -2))) fail(Prim.TriangularSolve, "the leading batch dims of a and b differ", avals);
    if (b!.shape[leftSide ? r - 2 : r - 1] !== n)
      fail(Prim.TriangularSolve, `b's ${leftSide ? "second-to-last" : "last"} axis must have a's size ${n}`, avals);
    return [b!];
  },
  [Prim.Lu]: (avals) => {
    const a = squareMatrices(Prim.Lu, avals[0]!, avals);
    const piv = av(a.shape.slice(0, -1), "int32");
    return [a, piv, piv];
  },
  [Prim.Qr]: (avals, { fullMatrices }) => {
    const a = matrices(Prim.Qr, avals[0]!, avals);
    const [m, n] = a.shape.slice(-2) as [number, number];
    const lead = a.shape.slice(0, -2),
      k = fullMatrices ? m : Math.min(m, n);
    return [av([...lead, m, k], a.dtype), av([...lead, k, n], a.dtype)];
  },
  [Prim.Eigh]: (avals) => {
    const a = squareMatrices(Prim.Eigh, avals[0]!, avals);
    return [av(a.shape.slice(0, -1), a.dtype), a];
  },
  [Prim.Svd]: (avals, { fullMatrices }) => {
    const a = matrices(Prim.Svd, avals[0]!, avals);
    const [m, n] = a.shape.slice(-2) as [number, number];
    const lead = a.shape.slice(0, -2),
      k = Math.min(m, n);
    return [av([...lead, m, fullMatrices ? m : k], a.dtype), av([...lead, k], a.dtype), av([...lead, fullMatrices ? n : k, n], a.dtype)];
  },
  [Prim.JitCall]: (avals, { program, name }) => callAvals(Prim.JitCall, name, program, avals),
  [Prim.Cond]: (avals, { branches }) => {
    const [index, ...ops] = avals;
    if (index!.shape.length !== 0 || index!.dtype !== "int32") fail(Prim.Cond, "the branch index must be an int32 scalar", avals);
    const outs = branches.map((b, i) => callAvals(Prim.Cond, `branch ${i}`, b, ops));
    outs.forEach((o, i) => sameSignature(Prim.Cond, `branch ${i} outputs`, o, outs[0]!));
    return outs[0]!;
  },
  [Prim.While]: (avals, { cond, body, condConsts, bodyConsts }) => {
    const carry = avals.slice(condConsts + bodyConsts);
    const pred = callAvals(Prim.While, "cond", cond, [...avals.slice(0, condConsts), ...carry]);
    if (pred.length !== 1 || pred[0]!.shape.length !== 0 || pred[0]!.dtype !== "bool") fail(Prim.While, "cond must return one bool scalar", avals);
    sameSignature(
      Prim.While,
      "body outputs",
      callAvals(Prim.While, "body", body, [...avals.slice(condConsts, condConsts + bodyConsts), ...carry]),
      carry,
    );
    return carry;
  },
  [Prim.Scan]: (avals, { body, length, numConsts, numCarry }) => {
    const consts = avals.slice(0, numConsts),
      carry = avals.slice(numConsts, numConsts + numCarry),
      xs = avals.slice(numConsts + numCarry);
    for (const x of xs) if (x.shape[0] !== length) fail(Prim.Scan, `every xs leaf needs leading axis ${length}`, avals);
    const outs = callAvals(Prim.Scan, "body", body, [...consts, ...carry, ...xs.map((x) => av(x.shape.slice(1), x.dtype))]);
    sameSignature(Prim.Scan, "body carry outputs", outs.slice(0, numCarry), carry);
    return [...carry, ...outs.slice(numCarry).map((y) => av([length, ...y.shape], y.dtype))];
  },
  [Prim.CustomJvpCall]: (avals, { fun, name }) => callAvals(Prim.CustomJvpCall, name, fun, avals),
  [Prim.CustomVjpCall]: (avals, { fun, name }) => callAvals(Prim.CustomVjpCall, name, fun, avals),
  [Prim.CustomLin]: (_avals, { outAvals }) => outAvals,
  [Prim.DebugCallback]: () => [],
  [Prim.Remat]: (avals, { body, name }) => callAvals(Prim.Remat, name, body, avals),
};

/** A float operand of rank >= 2 (a stack of matrices over the last two axes). */
function matrices(prim: Prim, a: Aval, avals: readonly Aval[]): Aval {
  if (!isFloat(a.dtype)) throw new DTypeError(`${prim}: needs float matrices, got ${fmtAval(a)}; convert with .astype("float32")`);
  if (a.shape.length < 2) fail(prim, "needs an operand of rank >= 2 (matrices over the last two axes)", avals);
  return a;
}

/** Like `matrices`, and the last two axes must be equal. */
function squareMatrices(prim: Prim, a: Aval, avals: readonly Aval[]): Aval {
  matrices(prim, a, avals);
  const r = a.shape.length;
  if (a.shape[r - 1] !== a.shape[r - 2]) fail(prim, `needs square matrices, got ${a.shape[r - 2]}×${a.shape[r - 1]}`, avals);
  return a;
}

/** The outputs of calling `cp` on operands of `avals`, after checking they fit its inputs. */
function callAvals(prim: Prim, name: string, cp: ClosedProgram, avals: readonly Aval[]): Aval[] {
  const ins = cp.program.invars;
  if (ins.length !== avals.length) fail(prim, `${name} takes ${ins.length} operands, got ${avals.length}`, avals);
  ins.forEach((v, i) => {
    const a = avals[i]!;
    if (!shapeEq(v.aval.shape, a.shape) || v.aval.dtype !== a.dtype) fail(prim, `${name}: operand ${i} must be ${fmtAval(v.aval)}`, avals);
  });
  return cp.program.outvars.map((v) => v.aval);
}

function sameSignature(prim: Prim, what: string, got: readonly Aval[], want: readonly Aval[]): void {
  const ok = got.length === want.length && got.every((a, i) => shapeEq(a.shape, want[i]!.shape) && a.dtype === want[i]!.dtype);
  if (!ok) fail(prim, `${what} ${got.map(fmtAval).join(", ")} must match ${want.map(fmtAval).join(", ")}`, []);
}

/** Output avals of `prim`; callers inside fluxion pass params that `bind` has checked. */
export function abstractEval<P extends Prim>(prim: P, avals: readonly Aval[], params: PrimParams[P]): Aval[] {
  return (abstractRules[prim] as AbstractRule<P>)(avals, params);
}

/** The public `abstractEval`: checks the primitive, its params and the operand count first. */
export function checkedAbstractEval<P extends Prim>(prim: P, avals: readonly Aval[], params: PrimParams[P]): Aval[] {
  checkParams(prim, params, "abstractEval");
  checkArity(prim, avals);
  if (!avals.every((a) => typeof a === "object" && a !== null && Array.isArray(a.shape) && typeof a.dtype === "string")) {
    throw new ArgumentError(`abstractEval: operands must be avals { shape, dtype } (or arrays)`);
  }
  return abstractEval(prim, avals, params);
}
