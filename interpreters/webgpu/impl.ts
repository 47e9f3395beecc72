/**
 * The WebGPU implementation of every primitive: an exhaustive table, so a primitive added to
 * `Prim` does not compile until it runs on the device. Operands may be CPU arrays (uploaded, and
 * the upload cached while the CPU array lives); results are always new device arrays (zero-copy
 * ones share a buffer). Semantics follow interpreters/eval/impl.ts.
 */
import { convGeometry } from "../../src/core/conv_geometry.js";
import { DeviceError, NotOnDeviceError } from "../../src/core/device.js";
import { customVjpForwardError } from "../../src/core/errors.js";
import { type Aval, ConcreteArray, type NDArray } from "../../src/core/ndarray.js";
import { Prim, type PrimParams } from "../../src/core/prim.js";
import { type Shape, range, sizeOf, stridesOf } from "../../src/core/shape.js";
import { type GpuArray, type GpuBackend, empty, onDevice, splatOperand } from "./array.js";
import { runCond, runScan } from "./control.js";
import { conv } from "./kernels/conv.js";
import { type Start, copyStrided, dynamicSlice, dynamicUpdateSlice, fill, gatherStrided } from "./kernels/copy.js";
import { elementwise } from "./kernels/elementwise.js";
import { type GatherDims, gather, scatterAdd, scatterCombine } from "./kernels/gather.js";
import { type View3, matmul } from "./kernels/matmul.js";
import { type ReduceOp, argReduce, cumsum, reduce } from "./kernels/reduce.js";
import { argsort } from "./kernels/sort.js";
import { executable } from "./programs.js";

/** Runs a primitive on the device: operands on the device or the CPU, the output avals given. */
export type GpuImpl<P extends Prim> = (be: GpuBackend, args: readonly NDArray[], params: PrimParams[P], outs: readonly Aval[]) => GpuArray[];
type Impl1<P extends Prim> = (be: GpuBackend, args: GpuArray[], params: PrimParams[P], out: Aval) => GpuArray;

/** A single-output impl on device operands. */
const one =
  <P extends Prim>(prim: P, impl: Impl1<P>): GpuImpl<P> =>
  (be, args, params, outs) => [
    impl(
      be,
      args.map((a) => onDevice(be, a, prim)),
      params,
      outs[0]!,
    ),
  ];

/** An elementwise primitive; CPU operands that hold one value are read as that value (splat). */
const ew =
  <P extends Prim>(prim: P): GpuImpl<P> =>
  (be, args, _p, outs) => {
    const splats = args.map((a) => splatOperand(be, a, prim));
    const ins = args.map((a, j) => splats[j] ?? onDevice(be, a, prim));
    const o = empty(be, outs[0]!);
    elementwise(
      prim,
      ins,
      o,
      splats.map((s) => s !== null),
    );
    return [o];
  };

/**
 * The matrix decompositions have no WebGPU kernel (their pivoting and sweeps are sequential):
 * they are a DeviceError that names the function and says to move the operands to the cpu.
 * Device reads are async, so a silent synchronous fallback to the cpu is not possible.
 */
export function hostOnly(fn: string): GpuImpl<Prim> {
  return () => {
    throw new NotOnDeviceError(
      `${fn}: matrix decompositions do not run on webgpu; move the operands to the cpu first (await x.toAsync("cpu")), ` +
        'or keep this part of the computation outside jit(f, { device: "webgpu" })',
    );
  };
}

/** x transposed by `perm` into a new array. */
export function permute(be: GpuBackend, x: GpuArray, perm: readonly number[]): GpuArray {
  const xs = stridesOf(x.shape);
  const o = empty(be, { shape: perm.map((p) => x.shape[p]!), dtype: x.dtype });
  gatherStrided(
    x,
    0,
    perm.map((p) => xs[p]!),
    o,
  );
  return o;
}

/**
 * The sizes [outer, n, inner] of `shape` read with `axes` as its middle block, or null when the
 * axes are none or not adjacent (the block then needs a transpose).
 */
export function adjacentBlock(shape: Shape, axes: readonly number[]): { o: number; n: number; i: number } | null {
  const sorted = [...axes].sort((a, b) => a - b);
  if (sorted.length === 0 || sorted.some((a, k) => k > 0 && a !== sorted[k - 1]! + 1)) return null;
  const lo = sorted[0]!,
    hi = sorted[sorted.length - 1]!;
  return { o: sizeOf(shape.slice(0, lo)), n: sizeOf(shape.slice(lo, hi + 1)), i: sizeOf(shape.slice(hi + 1)) };
}

/**
 * The [outer, n, inner] view of x with `axes` as the middle block, transposing when they are not
 * adjacent; `owned` is true when the view is a temporary to dispose.
 */
function blockView(be: GpuBackend, x: GpuArray, axes: readonly number[]): { v: GpuArray; o: number; n: number; i: number; owned: boolean } {
  const block = adjacentBlock(x.shape, axes);
  if (block !== null) return { v: x, ...block, owned: false };
  const sorted = [...axes].sort((a, b) => a - b);
  const keep = range(x.ndim).filter((d) => !sorted.includes(d));
  const moved = permute(be, x, [...keep, ...sorted]);
  return { v: moved, o: sizeOf(keep.map((d) => x.shape[d]!)), n: sizeOf(sorted.map((d) => x.shape[d]!)), i: 1, owned: true };
}

/**
 * The sum-like kernels (reduce_sum, cumsum, scatter_add) keep u32 accumulators for bools, masked to
 * 0/1; uint32 keys and bits have no use for sums, so a uint32 operand there is a typed error that
 * says to run the op on the cpu (device reads are async, so no silent fallback is possible).
 */
function noUint32Sum(fn: string, x: Aval): void {
  if (x.dtype === "uint32") {
    throw new DeviceError(
      `${fn}: webgpu does not sum uint32 arrays; move the operand to the cpu (await x.toAsync("cpu")) or convert it with .astype("int32")`,
    );
  }
}

const reduction = <P extends Prim.ReduceSum | Prim.ReduceMax | Prim.ReduceMin>(prim: P, op: ReduceOp): GpuImpl<P> =>
  one(prim, (be, [x], { axes }, out) => {
    if (op === "sum") noUint32Sum(prim, x!);
    const o = empty(be, out);
    const b = blockView(be, x!, axes);
    reduce(op, b.v, o, b.o, b.n, b.i);
    if (b.owned) b.v.dispose();
    return o;
  });

const argReduction = <P extends Prim.ArgMax | Prim.ArgMin>(prim: P, isMax: boolean): GpuImpl<P> =>
  one(prim, (be, [x], { axis }, out) => {
    const o = empty(be, out);
    const b = blockView(be, x!, [axis]);
    argReduce(isMax, b.v, o, b.o, b.n, b.i);
    if (b.owned) b.v.dispose();
    return o;
  });

function gatherDims(x: Aval, idx: Aval, axis: number, batchDims: number): GatherDims {
  return {
    B: sizeOf(x.shape.slice(0, batchDims)),
    P: sizeOf(x.shape.slice(batchDims, axis)),
    n: x.shape[axis]!,
    Q: sizeOf(x.shape.slice(axis + 1)),
    I: sizeOf(idx.shape.slice(batchDims)),
  };
}

/** Start indices: device scalars are read by the kernel, host ones go into its parameters. */
const startsOf = (be: GpuBackend, starts: readonly NDArray[], fn: string): Start[] =>
  starts.map((s) => (s instanceof ConcreteArray ? { host: Number(s.values[0]) } : { device: onDevice(be, s, fn).bind(fn).buffer }));

/** A dot_general's operands as [batch, M, K] and [batch, K, N] views, and the copies made for them. */
export interface DotViews {
  readonly a: GpuArray;
  readonly sa: View3;
  readonly b: GpuArray;
  readonly sb: View3;
  readonly batch: number;
  readonly M: number;
  readonly K: number;
  readonly N: number;
  /** Transposed copies (of operands whose dims do not merge), to dispose after the product is recorded. */
  readonly temps: GpuArray[];
}

const free = (x: Aval, contract: readonly number[], batch: readonly number[]) =>
  range(x.shape.length).filter((d) => !contract.includes(d) && !batch.includes(d));
const size = (x: Aval, dims: readonly number[]) => sizeOf(dims.map((d) => x.shape[d]!));

/** The sizes of a dot_general of operand avals `l`, `r`: batch, M, K, N. */
export function dotSizes(
  l: Aval,
  r: Aval,
  { contract: [lc, rc], batch: [lb, rb] }: PrimParams[Prim.DotGeneral],
): { batch: number; M: number; K: number; N: number } {
  return { batch: size(l, lb), M: size(l, free(l, lc, lb)), K: size(l, lc), N: size(r, free(r, rc, rb)) };
}

/** The views of a dot_general's device operands that the product kernels read (copies where dims do not merge). */
export function dotViews(be: GpuBackend, l: GpuArray, r: GpuArray, params: PrimParams[Prim.DotGeneral]): DotViews {
  const {
    contract: [lc, rc],
    batch: [lb, rb],
  } = params;
  const lFree = free(l, lc, lb),
    rFree = free(r, rc, rb);
  const temps: GpuArray[] = [];
  const viewOf = (x: GpuArray, groups: number[][]): [GpuArray, View3] => {
    const st = groups.map((g) => mergedStride(x, g));
    if (st.every((s) => s !== null)) return [x, st as View3];
    const p = permute(be, x, groups.flat());
    temps.push(p);
    const [, b, c] = groups.map((g) => size(x, g));
    return [p, [b! * c!, c!, 1]];
  };
  const [a, sa] = viewOf(l, [lb, lFree, lc]);
  const [b, sb] = viewOf(r, [rb, rc, rFree]);
  return { a, sa, b, sb, ...dotSizes(l, r, params), temps };
}

/** The single stride of dims `dims` of x taken as one row-major index, or null if they do not merge. */
function mergedStride(x: Aval, dims: readonly number[]): number | null {
  const st = stridesOf(x.shape);
  const real = dims.filter((d) => x.shape[d] !== 1);
  if (real.length === 0) return 0;
  for (let k = 0; k + 1 < real.length; k++) if (st[real[k]!] !== st[real[k + 1]!]! * x.shape[real[k + 1]!]!) return null;
  return st[real[real.length - 1]!]!;
}

const runCall = (be: GpuBackend, cp: PrimParams[Prim.JitCall]["program"], args: readonly NDArray[]) => executable(be, cp)(args);

export const impls: { [P in Prim]: GpuImpl<P> } = {
  [Prim.Add]: ew(Prim.Add),
  [Prim.Sub]: ew(Prim.Sub),
  [Prim.Mul]: ew(Prim.Mul),
  [Prim.Div]: ew(Prim.Div),
  [Prim.Max]: ew(Prim.Max),
  [Prim.Min]: ew(Prim.Min),
  [Prim.Pow]: ew(Prim.Pow),
  [Prim.Eq]: ew(Prim.Eq),
  [Prim.Ne]: ew(Prim.Ne),
  [Prim.Lt]: ew(Prim.Lt),
  [Prim.Le]: ew(Prim.Le),
  [Prim.Gt]: ew(Prim.Gt),
  [Prim.Ge]: ew(Prim.Ge),
  [Prim.And]: ew(Prim.And),
  [Prim.Or]: ew(Prim.Or),
  [Prim.Not]: ew(Prim.Not),
  [Prim.Xor]: ew(Prim.Xor),
  [Prim.ShiftLeft]: ew(Prim.ShiftLeft),
  [Prim.ShiftRightLogical]: ew(Prim.ShiftRightLogical),
  [Prim.BitcastConvertType]: ew(Prim.BitcastConvertType),
  [Prim.Neg]: ew(Prim.Neg),
  [Prim.Exp]: ew(Prim.Exp),
  [Prim.Log]: ew(Prim.Log),
  [Prim.Log1p]: ew(Prim.Log1p),
  [Prim.Expm1]: ew(Prim.Expm1),
  [Prim.Sin]: ew(Prim.Sin),
  [Prim.Cos]: ew(Prim.Cos),
  [Prim.Tanh]: ew(Prim.Tanh),
  [Prim.Atan]: ew(Prim.Atan),
  [Prim.Logistic]: ew(Prim.Logistic),
  [Prim.Sqrt]: ew(Prim.Sqrt),
  [Prim.Rsqrt]: ew(Prim.Rsqrt),
  [Prim.Abs]: ew(Prim.Abs),
  [Prim.Sign]: ew(Prim.Sign),
  [Prim.Floor]: ew(Prim.Floor),
  [Prim.StopGradient]: one(Prim.StopGradient, (_be, [x]) => x!.view()),
  [Prim.ConvertElementType]: one(Prim.ConvertElementType, (be, [x], { dtype }, out) => {
    if (dtype === x!.dtype) return x!.view();
    const o = empty(be, out);
    elementwise(Prim.ConvertElementType, [x!], o);
    return o;
  }),
  [Prim.SelectN]: ew(Prim.SelectN),
  [Prim.ReduceSum]: reduction(Prim.ReduceSum, "sum"),
  [Prim.ReduceMax]: reduction(Prim.ReduceMax, "max"),
  [Prim.ReduceMin]: reduction(Prim.ReduceMin, "min"),
  [Prim.ArgMax]: argReduction(Prim.ArgMax, true),
  [Prim.ArgMin]: argReduction(Prim.ArgMin, false),
  [Prim.Argsort]: one(Prim.Argsort, (be, [x], { axis }, out) => {
    const o = empty(be, out);
    argsort(x!, o, sizeOf(x!.shape.slice(0, axis)), x!.shape[axis]!, sizeOf(x!.shape.slice(axis + 1)), x!.dtype);
    return o;
  }),
  [Prim.Cumsum]: one(Prim.Cumsum, (be, [x], { axis, reverse }, out) => {
    noUint32Sum(Prim.Cumsum, x!);
    const o = empty(be, out);
    cumsum(x!, o, sizeOf(x!.shape.slice(0, axis)), x!.shape[axis]!, sizeOf(x!.shape.slice(axis + 1)), reverse, x!.dtype);
    return o;
  }),
  [Prim.ConvGeneralDilated]: one(Prim.ConvGeneralDilated, (be, [l, r], p, out) => {
    const o = empty(be, out);
    conv(l!, r!, o, convGeometry(l!, r!, out, p));
    return o;
  }),
  [Prim.BroadcastInDim]: one(Prim.BroadcastInDim, (be, [x], { shape, broadcastDimensions: bd }, out) => {
    if (sizeOf(shape) === x!.size) return x!.view(shape);
    const o = empty(be, out);
    const xs = stridesOf(x!.shape);
    const src = shape.map(() => 0);
    bd.forEach((d, i) => (src[d] = x!.shape[i] === 1 ? 0 : xs[i]!));
    gatherStrided(x!, 0, src, o);
    return o;
  }),
  [Prim.Reshape]: one(Prim.Reshape, (_be, [x], { shape }) => x!.view(shape.slice())),
  [Prim.Transpose]: one(Prim.Transpose, (be, [x], { perm }) => (perm.every((p, i) => p === i) ? x!.view() : permute(be, x!, perm))),
  [Prim.Rev]: one(Prim.Rev, (be, [x], { axes }, out) => {
    const o = empty(be, out);
    const xs = stridesOf(x!.shape);
    let base = 0;
    const strides = xs.map((s, d) => (axes.includes(d) ? ((base += (x!.shape[d]! - 1) * s), -s) : s));
    gatherStrided(x!, base, strides, o);
    return o;
  }),
  [Prim.Slice]: one(Prim.Slice, (be, [x], { start, step }, out) => {
    const o = empty(be, out);
    const xs = stridesOf(x!.shape);
    const base = start.reduce((acc, s, d) => acc + s * xs[d]!, 0);
    gatherStrided(
      x!,
      base,
      xs.map((s, d) => s * step[d]!),
      o,
    );
    return o;
  }),
  [Prim.Pad]: one(Prim.Pad, (be, [x, value], { config }, out) => {
    const o = empty(be, out);
    fill(value!, o);
    const ds = stridesOf(out.shape);
    const base = config.reduce((acc, [lo], d) => acc + lo * ds[d]!, 0);
    copyStrided(
      x!,
      0,
      stridesOf(x!.shape),
      o,
      base,
      ds.map((s, d) => s * (config[d]![2] + 1)),
      x!.shape,
    );
    return o;
  }),
  [Prim.Concatenate]: one(Prim.Concatenate, (be, xs, { axis }, out) => {
    const o = empty(be, out);
    const ds = stridesOf(out.shape);
    let at = 0;
    for (const x of xs) {
      copyStrided(x, 0, stridesOf(x.shape), o, at * ds[axis]!, ds, x.shape);
      at += x.shape[axis]!;
    }
    return o;
  }),
  [Prim.Gather]: one(Prim.Gather, (be, [x, idx], { axis, batchDims }, out) => {
    const o = empty(be, out);
    gather(x!, idx!, o, gatherDims(x!, idx!, axis, batchDims));
    return o;
  }),
  [Prim.ScatterAdd]: one(Prim.ScatterAdd, (be, [x, idx, upd], { axis, batchDims }, out) => {
    noUint32Sum(Prim.ScatterAdd, x!);
    const o = empty(be, out);
    scatterAdd(x!, idx!, upd!, o, gatherDims(x!, idx!, axis, batchDims));
    return o;
  }),
  [Prim.Scatter]: one(Prim.Scatter, (be, [x, idx, upd], { axis, batchDims, op }, out) => {
    const o = empty(be, out);
    scatterCombine(x!, idx!, upd!, o, gatherDims(x!, idx!, axis, batchDims), op);
    return o;
  }),
  [Prim.DynamicSlice]: (be, [x, ...starts], _p, outs) => {
    const o = empty(be, outs[0]!);
    dynamicSlice(onDevice(be, x!, "dynamic_slice"), startsOf(be, starts, "dynamic_slice"), o);
    return [o];
  },
  [Prim.DynamicUpdateSlice]: (be, [x, upd, ...starts], _p, outs) => {
    const o = empty(be, outs[0]!);
    const fn = "dynamic_update_slice";
    dynamicUpdateSlice(onDevice(be, x!, fn), onDevice(be, upd!, fn), startsOf(be, starts, fn), o);
    return [o];
  },
  [Prim.DotGeneral]: one(Prim.DotGeneral, (be, [l, r], params, out) => {
    const o = empty(be, out);
    const d = dotViews(be, l!, r!, params);
    matmul(d.a, d.sa, d.b, d.sb, o, d.batch, d.M, d.K, d.N);
    for (const t of d.temps) t.dispose();
    return o;
  }),
  [Prim.Cholesky]: hostOnly("np.linalg.cholesky"),
  [Prim.TriangularSolve]: hostOnly("linalg.solveTriangular"),
  [Prim.Lu]: hostOnly("linalg.luFactor"),
  [Prim.Qr]: hostOnly("np.linalg.qr"),
  [Prim.Eigh]: hostOnly("np.linalg.eigh"),
  [Prim.Svd]: hostOnly("np.linalg.svd"),
  [Prim.JitCall]: (be, args, { program }) => runCall(be, program, args),
  [Prim.Cond]: (be, args, { branches }, outs) => runCond(be, args, branches, outs),
  [Prim.While]: () => {
    throw new DeviceError(
      "while: a while loop needs its predicate on the host at every step, which webgpu cannot give synchronously; " +
        'run it on the cpu, or use lax.scan / lax.fori with static bounds inside jit(f, { device: "webgpu" })',
    );
  },
  [Prim.Scan]: (be, args, params, outs) => runScan(be, args, params, outs),
  [Prim.CustomJvpCall]: (be, args, { fun }) => runCall(be, fun, args),
  [Prim.CustomVjpCall]: (be, args, { fun }) => runCall(be, fun, args),
  [Prim.CustomLin]: (_be, _args, { name }) => {
    throw customVjpForwardError(name);
  },
  // Device values reach the host asynchronously: the callback runs once they are read back.
  [Prim.DebugCallback]: (_be, args, { callback }) => {
    void Promise.all(args.map((a) => a.toAsync("cpu"))).then(callback);
    return [];
  },
  [Prim.Remat]: (be, args, { body }) => runCall(be, body, args),
};
