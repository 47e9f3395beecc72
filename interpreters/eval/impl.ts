/**
 * CPU implementations of every primitive over concrete arrays: the eval interpreter's rule table.
 * Each impl gets validated operands (the abstract rule has run) and the output aval.
 */
import { type TypedArray, allocate, allocateFull } from "../../src/core/dtype.js";
import { customVjpForwardError } from "../../src/core/errors.js";
import { type Aval, ConcreteArray } from "../../src/core/ndarray.js";
import { Prim, type PrimParams, type ScatterOp } from "../../src/core/prim.js";
import { dotResultAxes, isOuterProduct, range, sizeOf, stridesOf } from "../../src/core/shape.js";
import { elementwiseKernel } from "./kernels/elementwise.js";
import { linalgImpls } from "./kernels/linalg_impl.js";
import { type ConvLayout, convGeometry } from "../../src/core/conv_geometry.js";
import { recycle } from "../../src/core/buffers.js";
import { convKernel } from "./kernels/conv.js";
import { convGemmLayout } from "./kernels/conv_gemm.js";
import { dotStrided } from "./kernels/dot_strided.js";
import { matmul } from "./kernels/matmul.js";
import { matvecTransposedWasm } from "./kernels/matvec_wasm.js";
import { type ReduceOp, argReduceKernel, cumsumKernel, reduceKernel } from "./kernels/reduce.js";
import { argsortKernel } from "./kernels/sort.js";
import { copyStrided } from "./kernels/strided.js";
import { runProgram } from "../../src/ir/executable.js";

type C = ConcreteArray;
/** Computes a primitive's outputs from validated operands and the output avals. */
export type Impl<P extends Prim> = (args: readonly C[], params: PrimParams[P], outs: Aval[]) => C[];
/** An impl of a single-output primitive. */
type Impl1<P extends Prim> = (args: readonly C[], params: PrimParams[P], out: Aval) => C;
const one =
  <P extends Prim>(impl: Impl1<P>): Impl<P> =>
  (args, params, outs) => [impl(args, params, outs[0]!)];

const make = (out: Aval): [TypedArray, (d: TypedArray) => C] => {
  const data = allocate(out.dtype, sizeOf(out.shape));
  return [data, (d) => new ConcreteArray(d, out.shape as number[], out.dtype)];
};

/** As `make`, for a result its kernel writes in full: recycled storage is handed over without zeroing. */
const makeFull = (out: Aval): [TypedArray, (d: TypedArray) => C] => {
  const n = sizeOf(out.shape);
  return [allocateFull(out.dtype, n), (d) => new ConcreteArray(d, out.shape as number[], out.dtype)];
};

/**
 * Runs an elementwise primitive some faster way with the same bits, or returns null (the façade
 * installs the jit's WebAssembly loops here for long arrays; eval cannot import the jit).
 */
export type ElementwiseAccelerator = (prim: Prim, args: readonly C[], params: PrimParams[Prim], out: Aval) => C | null;
let accelerator: ElementwiseAccelerator | null = null;
export function setElementwiseAccelerator(a: ElementwiseAccelerator | null): void {
  accelerator = a;
}

/**
 * Runs a float reduction over the middle axis of an [outer, n, inner] block some faster way with the
 * same bits, or returns null (the façade installs the jit's WebAssembly sums and extrema here for
 * long arrays).
 */
export type ReduceAccelerator = (op: ReduceOp, x: TypedArray, block: readonly [number, number, number], out: Aval) => C | null;
let reduceAccelerator: ReduceAccelerator | null = null;
export function setReduceAccelerator(a: ReduceAccelerator | null): void {
  reduceAccelerator = a;
}

const elementwise =
  (prim: Prim): Impl1<Prim> =>
  (args, params, out) => {
    // Scalars (most eager calls in scalar code) skip the accelerator's own size check.
    const fast = accelerator !== null && out.shape.length > 0 ? accelerator(prim, args, params, out) : null;
    if (fast) return fast;
    const data = allocate(out.dtype, sizeOf(out.shape));
    const kernel = elementwiseKernel(prim, args[args.length - 1]!.dtype, out.dtype, args.length);
    // Unary and binary calls spelled out: they are most eager calls, and need no operand list.
    if (args.length === 1) kernel(data, data.length, args[0]!.values);
    else if (args.length === 2) kernel(data, data.length, args[0]!.values, args[1]!.values);
    else kernel(data, data.length, ...args.map((a) => a.values));
    return new ConcreteArray(data, out.shape as number[], out.dtype);
  };

/** Transposes `x` by `perm` into a fresh array. */
function permute(x: C, perm: readonly number[]): TypedArray {
  const strides = stridesOf(x.shape);
  const out = allocateFull(x.dtype, x.size);
  const shape = perm.map((p) => x.shape[p]!);
  copyStrided(
    x.values,
    0,
    perm.map((p) => strides[p]!),
    out,
    0,
    stridesOf(shape),
    shape,
  );
  return out;
}

/** A [outer, n, inner] view with `axes` as the middle block, transposing when they are not adjacent. */
function blockView(x: C, axes: readonly number[]): [TypedArray, number, number, number] {
  const sorted = [...axes].sort((a, b) => a - b);
  const contiguous = sorted.every((a, i) => i === 0 || a === sorted[i - 1]! + 1);
  if (contiguous && sorted.length > 0) {
    const lo = sorted[0]!,
      hi = sorted[sorted.length - 1]!;
    return [x.values, sizeOf(x.shape.slice(0, lo)), sizeOf(x.shape.slice(lo, hi + 1)), sizeOf(x.shape.slice(hi + 1))];
  }
  const keep = range(x.ndim).filter((d) => !sorted.includes(d));
  const moved = permute(x, [...keep, ...sorted]);
  return [moved, sizeOf(keep.map((d) => x.shape[d]!)), sizeOf(sorted.map((d) => x.shape[d]!)), 1];
}

const reduce =
  <P extends Prim.ReduceSum | Prim.ReduceMax | Prim.ReduceMin>(op: ReduceOp): Impl1<P> =>
  ([x], { axes }, out) => {
    const [v, o, n, i] = blockView(x!, axes);
    const fast = reduceAccelerator !== null && axes.length > 0 ? reduceAccelerator(op, v, [o, n, i], out) : null;
    if (fast) return fast;
    const [data, wrap] = make(out);
    reduceKernel(op, v, data, o, n, i);
    return wrap(data);
  };

const argReduce =
  <P extends Prim.ArgMax | Prim.ArgMin>(isMax: boolean): Impl1<P> =>
  ([x], { axis }, out) => {
    const [data, wrap] = make(out);
    const [v, o, n, i] = blockView(x!, [axis]);
    argReduceKernel(isMax, v, data, o, n, i);
    return wrap(data);
  };

/** Copies `x` into a region of `dst` (shape `dstShape`) starting at `starts`, each dim stepping by `steps`. */
function place(x: C, dst: TypedArray, dstShape: readonly number[], starts: readonly number[], steps?: readonly number[]): void {
  const ds = stridesOf(dstShape);
  let base = 0;
  for (let d = 0; d < ds.length; d++) base += starts[d]! * ds[d]!;
  copyStrided(x.values, 0, stridesOf(x.shape), dst, base, steps ? ds.map((s, d) => s * steps[d]!) : ds, x.shape);
}

/** Reads a block of `shape` from `x` starting at `starts`, stepping by `steps`. */
function take(x: C, out: Aval, starts: readonly number[], steps?: readonly number[]): C {
  const [data, wrap] = make(out);
  const xs = stridesOf(x.shape);
  let base = 0;
  for (let d = 0; d < xs.length; d++) base += starts[d]! * xs[d]!;
  copyStrided(x.values, base, steps ? xs.map((s, d) => s * steps[d]!) : xs, data, 0, stridesOf(out.shape), out.shape);
  return wrap(data);
}

/**
 * A dot_general that contracts nothing, or only dims of size 1 (an outer product, per batch entry:
 * reverse mode's weight gradient of a matrix-vector product contracts a dim of size 1): each result
 * element is one product, so it is `mul` of the operands laid out along the result's axes, with
 * mul's bits (-0, integer wrap-around). jit rewrites the equation the same way, so both agree.
 */
function outerProduct(l: C, r: C, { contract, batch }: PrimParams[Prim.DotGeneral], out: Aval): C {
  const axes = dotResultAxes(l.ndim, r.ndim, contract, batch);
  const n = sizeOf(out.shape),
    outStrides = stridesOf(out.shape);
  const [lv, rv] = [l, r].map((x, k) => {
    const strides = stridesOf(x.shape),
      from = new Array<number>(out.shape.length).fill(0);
    // A contracted dim (of size 1) lands nowhere (-1): its only index is 0.
    axes[k]!.forEach((a, d) => a >= 0 && (from[a] = strides[d]!));
    if (x.size === n && from.every((s, a) => s === outStrides[a])) return x.values;
    const spread = allocate(x.dtype, n);
    copyStrided(x.values, 0, from, spread, 0, outStrides, out.shape);
    return spread;
  });
  const [data, wrap] = makeFull(out);
  elementwiseKernel(Prim.Mul, out.dtype, out.dtype, 2)(data, n, lv!, rv!);
  return wrap(data);
}

const clampStarts = (x: C, starts: readonly C[], sizes: readonly number[]): number[] =>
  starts.map((s, d) => Math.min(Math.max(s.values[0]!, 0), x.shape[d]! - sizes[d]!));

/** gather / scatter_add on the [B, P, n, Q] view of x and [B, I] view of idx. */
function gatherDims(x: Aval, idx: Aval, axis: number, batchDims: number) {
  return {
    B: sizeOf(x.shape.slice(0, batchDims)),
    P: sizeOf(x.shape.slice(batchDims, axis)),
    n: x.shape[axis]!,
    Q: sizeOf(x.shape.slice(axis + 1)),
    I: sizeOf(idx.shape.slice(batchDims)),
  };
}

/** How scatter combines the value already at a position with an update (NaN propagates through min/max). */
const SCATTER_OPS: Record<ScatterOp, (a: number, u: number) => number> = {
  set: (_a, u) => u,
  mul: (a, u) => a * u,
  min: (a, u) => (a < u || Number.isNaN(a) ? a : u),
  max: (a, u) => (a > u || Number.isNaN(a) ? a : u),
};

export const impls: { [P in Prim]: Impl<P> } = {
  [Prim.Add]: one(elementwise(Prim.Add)),
  [Prim.Sub]: one(elementwise(Prim.Sub)),
  [Prim.Mul]: one(elementwise(Prim.Mul)),
  [Prim.Div]: one(elementwise(Prim.Div)),
  [Prim.Max]: one(elementwise(Prim.Max)),
  [Prim.Min]: one(elementwise(Prim.Min)),
  [Prim.Pow]: one(elementwise(Prim.Pow)),
  [Prim.Eq]: one(elementwise(Prim.Eq)),
  [Prim.Ne]: one(elementwise(Prim.Ne)),
  [Prim.Lt]: one(elementwise(Prim.Lt)),
  [Prim.Le]: one(elementwise(Prim.Le)),
  [Prim.Gt]: one(elementwise(Prim.Gt)),
  [Prim.Ge]: one(elementwise(Prim.Ge)),
  [Prim.And]: one(elementwise(Prim.And)),
  [Prim.Or]: one(elementwise(Prim.Or)),
  [Prim.Not]: one(elementwise(Prim.Not)),
  [Prim.Xor]: one(elementwise(Prim.Xor)),
  [Prim.ShiftLeft]: one(elementwise(Prim.ShiftLeft)),
  [Prim.ShiftRightLogical]: one(elementwise(Prim.ShiftRightLogical)),
  [Prim.BitcastConvertType]: one(elementwise(Prim.BitcastConvertType)),
  [Prim.Neg]: one(elementwise(Prim.Neg)),
  [Prim.Exp]: one(elementwise(Prim.Exp)),
  [Prim.Log]: one(elementwise(Prim.Log)),
  [Prim.Log1p]: one(elementwise(Prim.Log1p)),
  [Prim.Expm1]: one(elementwise(Prim.Expm1)),
  [Prim.Sin]: one(elementwise(Prim.Sin)),
  [Prim.Cos]: one(elementwise(Prim.Cos)),
  [Prim.Tanh]: one(elementwise(Prim.Tanh)),
  [Prim.Atan]: one(elementwise(Prim.Atan)),
  [Prim.Logistic]: one(elementwise(Prim.Logistic)),
  [Prim.Sqrt]: one(elementwise(Prim.Sqrt)),
  [Prim.Rsqrt]: one(elementwise(Prim.Rsqrt)),
  [Prim.Abs]: one(elementwise(Prim.Abs)),
  [Prim.Sign]: one(elementwise(Prim.Sign)),
  [Prim.Floor]: one(elementwise(Prim.Floor)),
  [Prim.StopGradient]: one(([x]) => x!),
  [Prim.ConvertElementType]: one(elementwise(Prim.ConvertElementType)),
  [Prim.SelectN]: one(elementwise(Prim.SelectN)),
  [Prim.ReduceSum]: one(reduce("sum")),
  [Prim.ReduceMax]: one(reduce("max")),
  [Prim.ReduceMin]: one(reduce("min")),
  [Prim.ArgMax]: one(argReduce(true)),
  [Prim.ArgMin]: one(argReduce(false)),
  [Prim.Argsort]: one(([x], { axis }, out) => {
    const [data, wrap] = makeFull(out);
    argsortKernel(x!.values, data, sizeOf(x!.shape.slice(0, axis)), x!.shape[axis]!, sizeOf(x!.shape.slice(axis + 1)));
    return wrap(data);
  }),
  [Prim.Cumsum]: one(([x], { axis, reverse }, out) => {
    const [data, wrap] = make(out);
    const [v, o, n, i] = blockView(x!, [axis]);
    cumsumKernel(v, data, o, n, i, reverse);
    return wrap(data);
  }),
  [Prim.ConvGeneralDilated]: one(([l, r], p, out) => {
    const [data, wrap] = make(out);
    convKernel(l!.values, r!.values, data, convGeometry(l!, r!, out, p));
    return wrap(data);
  }),
  [Prim.BroadcastInDim]: one(([x], { shape, broadcastDimensions: bd }, out) => {
    const [data, wrap] = makeFull(out);
    // One value everywhere (a scalar operand of an elementwise op): a fill, not an element loop.
    if (x!.size === 1) return wrap(data.fill(x!.values[0]! as never));
    const xs = stridesOf(x!.shape);
    const srcStrides = shape.map(() => 0);
    bd.forEach((d, i) => (srcStrides[d] = x!.shape[i] === 1 ? 0 : xs[i]!));
    copyStrided(x!.values, 0, srcStrides, data, 0, stridesOf(shape), shape);
    return wrap(data);
  }),
  [Prim.Reshape]: one(([x], _p, out) => new ConcreteArray(x!.values, out.shape as number[], out.dtype)),
  [Prim.Transpose]: one(([x], { perm }, out) => new ConcreteArray(permute(x!, perm), out.shape as number[], out.dtype)),
  [Prim.Rev]: one(([x], { axes }, out) => {
    const [data, wrap] = make(out);
    const xs = stridesOf(x!.shape);
    let base = 0;
    const strides = xs.map((s, d) => (axes.includes(d) ? ((base += (x!.shape[d]! - 1) * s), -s) : s));
    copyStrided(x!.values, base, strides, data, 0, xs, x!.shape);
    return wrap(data);
  }),
  [Prim.Slice]: one(([x], { start, step }, out) => take(x!, out, start, step)),
  [Prim.Pad]: one(([x, value], { config }, out) => {
    const [data, wrap] = make(out);
    if (value!.values[0] !== 0) data.fill(value!.values[0]!);
    place(
      x!,
      data,
      out.shape,
      config.map(([lo]) => lo),
      config.map(([, , interior]) => interior + 1),
    );
    return wrap(data);
  }),
  [Prim.Concatenate]: one((xs, { axis }, out) => {
    const [data, wrap] = make(out);
    let at = 0;
    for (const x of xs) {
      place(
        x,
        data,
        out.shape,
        out.shape.map((_, d) => (d === axis ? at : 0)),
      );
      at += x.shape[axis]!;
    }
    return wrap(data);
  }),
  [Prim.Gather]: one(([x, idx], { axis, batchDims }, out) => {
    const [data, wrap] = make(out);
    const { B, P, n, Q, I } = gatherDims(x!, idx!, axis, batchDims);
    const xv = x!.values,
      iv = idx!.values;
    let t = 0;
    for (let b = 0; b < B; b++)
      for (let p = 0; p < P; p++)
        for (let i = 0; i < I; i++) {
          const j = Math.min(Math.max(iv[b * I + i]!, 0), n - 1);
          const s = ((b * P + p) * n + j) * Q;
          for (let q = 0; q < Q; q++) data[t++] = xv[s + q]!;
        }
    return wrap(data);
  }),
  [Prim.ScatterAdd]: one(([x, idx, upd], { axis, batchDims }, out) => {
    const [data, wrap] = make(out);
    data.set(x!.values);
    const { B, P, n, Q, I } = gatherDims(x!, idx!, axis, batchDims);
    const uv = upd!.values,
      iv = idx!.values;
    let t = 0;
    for (let b = 0; b < B; b++)
      for (let p = 0; p < P; p++)
        for (let i = 0; i < I; i++) {
          const j = Math.min(Math.max(iv[b * I + i]!, 0), n - 1);
          const s = ((b * P + p) * n + j) * Q;
          for (let q = 0; q < Q; q++) data[s + q] += uv[t++]!;
        }
    return wrap(data);
  }),
  // Writes in index order, so with repeated indices the last "set" wins; out-of-range indices are dropped.
  [Prim.Scatter]: one(([x, idx, upd], { axis, batchDims, op }, out) => {
    const [data, wrap] = make(out);
    data.set(x!.values);
    const { B, P, n, Q, I } = gatherDims(x!, idx!, axis, batchDims);
    const uv = upd!.values,
      iv = idx!.values;
    const combine = SCATTER_OPS[op];
    let t = 0;
    for (let b = 0; b < B; b++)
      for (let p = 0; p < P; p++)
        for (let i = 0; i < I; i++) {
          const j = iv[b * I + i]!;
          if (j < 0 || j >= n) {
            t += Q;
            continue;
          }
          const s = ((b * P + p) * n + j) * Q;
          for (let q = 0; q < Q; q++) data[s + q] = combine(data[s + q]!, uv[t++]!);
        }
    return wrap(data);
  }),
  [Prim.DynamicSlice]: one(([x, ...starts], { sizes }, out) => take(x!, out, clampStarts(x!, starts, sizes))),
  [Prim.DynamicUpdateSlice]: one(([x, upd, ...starts], _p, out) => {
    const [data, wrap] = make(out);
    data.set(x!.values);
    place(upd!, data, x!.shape, clampStarts(x!, starts, upd!.shape));
    return wrap(data);
  }),
  [Prim.DotGeneral]: one(([l, r], params, out) => {
    const {
      contract: [lc, rc],
      batch: [lb, rb],
    } = params;
    if (isOuterProduct(l!.shape, lc)) return outerProduct(l!, r!, params, out);
    // The plain product (last axis of l with first of r, no batch) needs no layout work: a cheap
    // check first, as small products inside compiled loops run it every iteration.
    if (lb.length === 0 && lc.length === 1 && rc.length === 1 && lc[0] === l!.ndim - 1 && rc[0] === 0) {
      const k = r!.shape[0]!;
      const [data, wrap] = make(out);
      if (k > 0) matmul(l!.values as Float32Array, r!.values as Float32Array, data as Float32Array, 1, l!.size / k, k, r!.size / k);
      return wrap(data);
    }
    // A matrix's first axis contracted with a vector (reverse mode's Wᵀ·v): the transposed product's
    // bits without the transpose, where the wasm kernel takes it.
    const lv = l!.values,
      rv = r!.values;
    const floats = (lv instanceof Float32Array || lv instanceof Float64Array) && rv.constructor === lv.constructor;
    if (floats && lb.length === 0 && lc.length === 1 && rc.length === 1 && lc[0] === 0 && rc[0] === 0 && l!.ndim === 2 && r!.size === r!.shape[0]) {
      const [data, wrap] = make(out);
      if (matvecTransposedWasm(lv, rv as typeof lv, data as typeof lv, l!.shape[1]!, l!.shape[0]!)) return wrap(data);
    }
    // Small float products with batch dims or transposed operands: one strided batched kernel call.
    const [data, wrap] = makeFull(out);
    if (floats && dotStrided(lv, l!.shape, rv as typeof lv, r!.shape, params.contract, params.batch, data as typeof lv)) return wrap(data);
    const lFree = range(l!.ndim).filter((d) => !lc.includes(d) && !lb.includes(d));
    const rFree = range(r!.ndim).filter((d) => !rc.includes(d) && !rb.includes(d));
    const lPerm = [...lb, ...lFree, ...lc],
      rPerm = [...rb, ...rc, ...rFree];
    // An lhs laid out [batch, contracting, free] (a layer's input in its weight gradient Xᵀ·G), or
    // an rhs [batch, free, contracting] (weights in X·Wᵀ), is read transposed by the kernels, not copied.
    const inOrder = (perm: number[]) => perm.every((p, i) => p === i);
    const transposedA = !inOrder(lPerm) && inOrder([...lb, ...lc, ...lFree]),
      transposedB = !inOrder(rPerm) && inOrder([...rb, ...rFree, ...rc]);
    const a = transposedA || inOrder(lPerm) ? l!.values : permute(l!, lPerm);
    const b = transposedB || inOrder(rPerm) ? r!.values : permute(r!, rPerm);
    const size = (x: C, dims: number[]) => sizeOf(dims.map((d) => x.shape[d]!));
    matmul(
      a as Float32Array,
      b as Float32Array,
      data as Float32Array,
      size(l!, lb),
      size(l!, lFree),
      size(l!, lc),
      size(r!, rFree),
      transposedA,
      transposedB,
    );
    return wrap(data);
  }),
  ...linalgImpls,
  [Prim.JitCall]: (args, { program }) => runProgram(program, args),
  [Prim.Cond]: ([index, ...ops], { branches }) => runProgram(branches[Math.min(Math.max(index!.values[0]!, 0), branches.length - 1)]!, ops),
  [Prim.While]: (args, { cond, body, condConsts, bodyConsts }) => {
    const cc = args.slice(0, condConsts),
      bc = args.slice(condConsts, condConsts + bodyConsts);
    let carry = args.slice(condConsts + bodyConsts);
    while (runProgram(cond, [...cc, ...carry])[0]!.values[0]) carry = runProgram(body, [...bc, ...carry]);
    return carry;
  },
  [Prim.Scan]: (args, { body, length, reverse, numConsts, numCarry }, outs) => {
    const consts = args.slice(0, numConsts),
      xs = args.slice(numConsts + numCarry);
    let carry = args.slice(numConsts, numConsts + numCarry);
    const ys = outs.slice(numCarry).map((a) => allocate(a.dtype, sizeOf(a.shape)));
    const xSize = xs.map((x) => (length === 0 ? 0 : x.size / length));
    for (let s = 0; s < length; s++) {
      const t = reverse ? length - 1 - s : s;
      const xt = xs.map((x, j) => new ConcreteArray(x.values.subarray(t * xSize[j]!, (t + 1) * xSize[j]!), x.shape.slice(1), x.dtype));
      const res = runProgram(body, [...consts, ...carry, ...xt]);
      carry = res.slice(0, numCarry);
      res.slice(numCarry).forEach((y, j) => ys[j]!.set(y.values, t * y.size));
    }
    return [...carry, ...ys.map((y, j) => new ConcreteArray(y, outs[numCarry + j]!.shape as number[], outs[numCarry + j]!.dtype))];
  },
  [Prim.CustomJvpCall]: (args, { fun }) => runProgram(fun, args),
  [Prim.CustomVjpCall]: (args, { fun }) => runProgram(fun, args),
  [Prim.CustomLin]: (_args, { name }) => {
    throw customVjpForwardError(name);
  },
  [Prim.DebugCallback]: (args, { callback }) => {
    callback(args.slice());
    return [];
  },
  [Prim.Remat]: (args, { body }) => runProgram(body, args),
};

/**
 * conv_general_dilated on operands stored in `layout` (the jit's kernel gradients, so their
 * transposes need not be materialised): the gathered lowerings read and write those layouts
 * directly; null where they do not take the convolution.
 */
export function convWithLayout(lhs: C, rhs: C, p: PrimParams[Prim.ConvGeneralDilated], out: Aval, layout: ConvLayout): C | null {
  const plain = (shape: readonly number[], swapped: boolean) => (swapped ? [shape[1]!, shape[0]!, ...shape.slice(2)] : (shape as number[]));
  const g = convGeometry(
    { shape: plain(lhs.shape, layout.lhs), dtype: lhs.dtype },
    { shape: plain(rhs.shape, layout.rhs), dtype: rhs.dtype },
    out,
    p,
  );
  const shape = plain(out.shape, layout.out);
  const data = allocate(out.dtype, sizeOf(shape));
  if (convGemmLayout(lhs.values, rhs.values, data, g, layout)) return new ConcreteArray(data, shape, out.dtype);
  recycle(out.dtype, data);
  return null;
}
