/**
 * The closed set of primitives every fluxion program is built from, and the static params of each.
 * Array operands are positional; everything static (axes, shapes, dtypes) lives in `PrimParams<P>`.
 * Interpreters keep exhaustive tables `{ [P in Prim]: Rule<P> }`, so a primitive added here does
 * not compile until every interpreter has its rule.
 */
import type { ClosedProgram } from "../ir/ir.js";
import type { DType } from "./dtype.js";
import type { Aval, NDArray } from "./ndarray.js";

export enum Prim {
  // elementwise, linear
  Add = "add",
  Sub = "sub",
  Neg = "neg",
  ConvertElementType = "convert_element_type",
  SelectN = "select_n",
  // elementwise, bilinear
  Mul = "mul",
  Div = "div",
  // elementwise, nonlinear
  Exp = "exp",
  Log = "log",
  Log1p = "log1p",
  Expm1 = "expm1",
  Sin = "sin",
  Cos = "cos",
  Tanh = "tanh",
  Atan = "atan",
  Logistic = "logistic",
  Sqrt = "sqrt",
  Rsqrt = "rsqrt",
  Abs = "abs",
  Pow = "pow",
  Max = "max",
  Min = "min",
  // elementwise, zero derivative (and, or, not, xor and the shifts are bitwise on integers)
  Sign = "sign",
  Floor = "floor",
  Eq = "eq",
  Ne = "ne",
  Lt = "lt",
  Le = "le",
  Gt = "gt",
  Ge = "ge",
  And = "and",
  Or = "or",
  Not = "not",
  Xor = "xor",
  ShiftLeft = "shift_left",
  ShiftRightLogical = "shift_right_logical",
  BitcastConvertType = "bitcast_convert_type",
  StopGradient = "stop_gradient",
  // reductions and scans
  ReduceSum = "reduce_sum",
  ReduceMax = "reduce_max",
  ReduceMin = "reduce_min",
  ArgMax = "argmax",
  ArgMin = "argmin",
  Cumsum = "cumsum",
  Argsort = "argsort",
  // convolution, bilinear
  ConvGeneralDilated = "conv_general_dilated",
  // structural, linear
  BroadcastInDim = "broadcast_in_dim",
  Reshape = "reshape",
  Transpose = "transpose",
  Rev = "rev",
  Slice = "slice",
  Pad = "pad",
  Concatenate = "concatenate",
  Gather = "gather",
  ScatterAdd = "scatter_add",
  Scatter = "scatter",
  DynamicSlice = "dynamic_slice",
  DynamicUpdateSlice = "dynamic_update_slice",
  // contraction, bilinear
  DotGeneral = "dot_general",
  // linear algebra (over the last two axes, batched over the leading ones)
  Cholesky = "cholesky",
  TriangularSolve = "triangular_solve",
  Lu = "lu",
  Qr = "qr",
  Eigh = "eigh",
  Svd = "svd",
  // higher-order
  JitCall = "jit_call",
  Cond = "cond",
  While = "while",
  Scan = "scan",
  CustomJvpCall = "custom_jvp_call",
  CustomVjpCall = "custom_vjp_call",
  CustomLin = "custom_lin",
  DebugCallback = "debug_callback",
  Remat = "remat",
}

/** A user's forward rule over flat arrays: (primals, tangents) => [outputs, output tangents]. */
export type FlatJvpRule = (primals: NDArray[], tangents: NDArray[]) => [NDArray[], NDArray[]];
/** A user's forward pass for reverse mode: primals => [outputs, residuals]. */
export type FlatFwd = (primals: NDArray[]) => [NDArray[], NDArray[]];
/** A user's backward pass: (residuals, output cotangents) => input cotangents. */
export type FlatBwd = (residuals: NDArray[], cts: NDArray[]) => NDArray[];
/** What a debug callback receives: the values of its operands, on the CPU. */
export type DebugSink = (values: NDArray[]) => void;
/** What a checkpointed block saves for the backward pass besides its inputs. */
export type RematPolicy = "nothing" | "dots";

/** How `scatter` combines an update with what is already at its position. */
export type ScatterOp = "set" | "mul" | "min" | "max";

type NoParams = Record<string, never>;

/** Static params of every primitive. */
export interface PrimParams {
  [Prim.Add]: NoParams;
  [Prim.Sub]: NoParams;
  [Prim.Neg]: NoParams;
  [Prim.ConvertElementType]: { dtype: DType };
  /** select_n(which, ...cases): which is bool (2 cases) or int32; picks cases[which] per element. */
  [Prim.SelectN]: NoParams;
  [Prim.Mul]: NoParams;
  [Prim.Div]: NoParams;
  [Prim.Exp]: NoParams;
  [Prim.Log]: NoParams;
  [Prim.Log1p]: NoParams;
  [Prim.Expm1]: NoParams;
  [Prim.Sin]: NoParams;
  [Prim.Cos]: NoParams;
  [Prim.Tanh]: NoParams;
  [Prim.Atan]: NoParams;
  [Prim.Logistic]: NoParams;
  [Prim.Sqrt]: NoParams;
  [Prim.Rsqrt]: NoParams;
  [Prim.Abs]: NoParams;
  [Prim.Pow]: NoParams;
  [Prim.Max]: NoParams;
  [Prim.Min]: NoParams;
  [Prim.Sign]: NoParams;
  [Prim.Floor]: NoParams;
  [Prim.Eq]: NoParams;
  [Prim.Ne]: NoParams;
  [Prim.Lt]: NoParams;
  [Prim.Le]: NoParams;
  [Prim.Gt]: NoParams;
  [Prim.Ge]: NoParams;
  [Prim.And]: NoParams;
  [Prim.Or]: NoParams;
  [Prim.Not]: NoParams;
  /** Bitwise exclusive or of two bool, int32 or uint32 operands (and, or, not take the same dtypes). */
  [Prim.Xor]: NoParams;
  /** x << s on int32/uint32 (same dtype); a shift of 32 or more (or negative) gives 0, as XLA. */
  [Prim.ShiftLeft]: NoParams;
  /** x >>> s (zeros shifted in) on int32/uint32; a shift of 32 or more (or negative) gives 0. */
  [Prim.ShiftRightLogical]: NoParams;
  /** Reinterprets the 32 bits of each element as `dtype` (among float32, int32, uint32). */
  [Prim.BitcastConvertType]: { dtype: DType };
  [Prim.StopGradient]: NoParams;
  /** Reduces over `axes` (sorted, distinct); the reduced axes are removed. */
  [Prim.ReduceSum]: { axes: number[] };
  [Prim.ReduceMax]: { axes: number[] };
  [Prim.ReduceMin]: { axes: number[] };
  /** Index of the first maximum along `axis` (removed), as int32. */
  [Prim.ArgMax]: { axis: number };
  [Prim.ArgMin]: { axis: number };
  [Prim.Cumsum]: { axis: number; reverse: boolean };
  /**
   * The stable ascending order along `axis` as int32 indices (same shape): NaN after everything,
   * ties (equal values, -0 and +0, any two NaNs) in index order.
   */
  [Prim.Argsort]: { axis: number };
  /**
   * conv_general_dilated(lhs, rhs) in the canonical layout lhs [N, C, ...S], rhs [O, C/G, ...K],
   * out [N/B, O, ...Q] (G feature groups, B batch groups, at most one above 1). Per spatial dim:
   * lhs dilated by `lhsDilation`, padded by `padding` [lo, hi] (negative widths crop), the window
   * dilated by `rhsDilation` and moved by `strides`. Layouts (dimension numbers) are handled by
   * `lax.convGeneralDilated`, which transposes into and out of this one.
   */
  [Prim.ConvGeneralDilated]: {
    strides: number[];
    padding: [number, number][];
    lhsDilation: number[];
    rhsDilation: number[];
    featureGroupCount: number;
    batchGroupCount: number;
  };
  /** Operand dim i becomes output dim `broadcastDimensions[i]` (size equal, or 1 to broadcast). */
  [Prim.BroadcastInDim]: { shape: number[]; broadcastDimensions: number[] };
  [Prim.Reshape]: { shape: number[] };
  /** Output dim i is operand dim perm[i]. */
  [Prim.Transpose]: { perm: number[] };
  [Prim.Rev]: { axes: number[] };
  /** Elements start[d], start[d]+step[d], ... below limit[d] along every dim d. */
  [Prim.Slice]: { start: number[]; limit: number[]; step: number[] };
  /** pad(x, paddingValue): per dim [low, high, interior] with non-negative widths. */
  [Prim.Pad]: { config: [number, number, number][] };
  [Prim.Concatenate]: { axis: number };
  /**
   * gather(x, idx): takes x's entries along `axis` at int32 `idx` (clamped to range). The first
   * `batchDims` dims of x and idx are matched pairwise. Output shape:
   * x.shape[:axis] ++ idx.shape[batchDims:] ++ x.shape[axis+1:].
   */
  [Prim.Gather]: { axis: number; batchDims: number };
  /** scatter_add(x, idx, updates): x plus updates added at the gathered positions (the transpose of gather). */
  [Prim.ScatterAdd]: { axis: number; batchDims: number };
  /**
   * scatter(x, idx, updates): x with updates combined into the gathered positions by `op` ("set"
   * overwrites — with repeated indices the last write in index order wins; "mul", "min", "max"
   * combine every write with the operand's value). Unlike gather and scatter_add, indices outside
   * [0, n) are dropped, as JAX drops out-of-bounds updates.
   */
  [Prim.Scatter]: { axis: number; batchDims: number; op: ScatterOp };
  /** dynamic_slice(x, ...starts): a block of `sizes` at scalar int32 starts, clamped to fit. */
  [Prim.DynamicSlice]: { sizes: number[] };
  /** dynamic_update_slice(x, update, ...starts): x with the block at starts replaced by update. */
  [Prim.DynamicUpdateSlice]: NoParams;
  /** Contracts dims `contract[0]` of lhs with `contract[1]` of rhs; output = batch ++ lhs free ++ rhs free. */
  [Prim.DotGeneral]: { contract: [number[], number[]]; batch: [number[], number[]] };
  /** Lower Cholesky factor of the symmetric part (a + aᵀ)/2 of each square matrix; NaN where not positive definite. */
  [Prim.Cholesky]: NoParams;
  /**
   * triangular_solve(a, b): x with op(a)·x = b (`leftSide`) or x·op(a) = b, reading only the
   * `lower` (else upper) triangle of a, its diagonal taken as ones when `unitDiagonal`;
   * op(a) = aᵀ when `transposeA`. Linear in b.
   */
  [Prim.TriangularSolve]: { leftSide: boolean; lower: boolean; transposeA: boolean; unitDiagonal: boolean };
  /**
   * lu(a) -> [lu, pivots, permutation] of square matrices with partial pivoting: P·a = L·U with L
   * unit lower (below the diagonal of lu) and U upper (on and above it); pivots[i] is the row swapped
   * with row i at step i (int32), permutation the resulting row order (P·a = a[permutation]).
   */
  [Prim.Lu]: NoParams;
  /** qr(a) -> [q, r] by Householder reflections, diag(r) >= 0; q is m×k and r k×n (k = min(m, n)), or m×m and m×n when `fullMatrices`. */
  [Prim.Qr]: { fullMatrices: boolean };
  /**
   * eigh(a) -> [w, v] of the symmetric part of a: ascending eigenvalues w and orthonormal
   * eigenvectors in the columns of v, each with its largest-magnitude entry positive.
   */
  [Prim.Eigh]: NoParams;
  /**
   * svd(a) -> [u, s, vh]: a = u·diag(s)·vh, s descending and non-negative; u m×k, vh k×n
   * (k = min(m, n)), or m×m and n×n when `fullMatrices`. Each column of u has its largest-magnitude entry positive.
   */
  [Prim.Svd]: { fullMatrices: boolean };
  /** Calls a staged program (compiled by the backend) on the operands; its outputs are the results. */
  [Prim.JitCall]: { program: ClosedProgram; name: string };
  /** cond(index, ...operands): runs `branches[index]` (index clamped) on the operands. */
  [Prim.Cond]: { branches: ClosedProgram[] };
  /**
   * while(...condConsts, ...bodyConsts, ...carry): while cond(condConsts, carry) is true,
   * carry = body(bodyConsts, carry); outputs the final carry.
   */
  [Prim.While]: { cond: ClosedProgram; body: ClosedProgram; condConsts: number; bodyConsts: number };
  /**
   * scan(...consts, ...carry, ...xs): for t over `length` steps (backwards when `reverse`),
   * (carry, y_t) = body(consts, carry, xs[t]); outputs the final carry and the stacked ys.
   */
  [Prim.Scan]: { body: ClosedProgram; length: number; reverse: boolean; numConsts: number; numCarry: number };
  /**
   * Calls `fun`; its derivative is the user's `rule`. The first `numLifted` operands are values the
   * function closed over (not seen by the rule); they must not carry a tangent.
   */
  [Prim.CustomJvpCall]: { fun: ClosedProgram; rule: FlatJvpRule; numLifted: number; name: string };
  /** Calls `fun`; reverse mode uses the user's `fwd` and `bwd` (lifted operands as for custom_jvp_call). */
  [Prim.CustomVjpCall]: { fun: ClosedProgram; fwd: FlatFwd; bwd: FlatBwd; numLifted: number; name: string };
  /**
   * custom_lin(...residuals, ...tangents): the linear map whose transpose is `bwd`; only
   * transposed, never evaluated (forward mode through a customVjp function is an error).
   */
  [Prim.CustomLin]: { bwd: FlatBwd; numRes: number; outAvals: Aval[]; name: string };
  /**
   * debug_callback(...values): calls `callback` with the operands' values when the program runs
   * (an effect: never folded while staging, never removed as dead code); no outputs.
   */
  [Prim.DebugCallback]: { callback: DebugSink; name: string };
  /** Calls `body`; reverse mode saves only its inputs (and what `policy` names) and recomputes the rest. */
  [Prim.Remat]: { body: ClosedProgram; policy: RematPolicy; name: string };
}

export const PRIMS: readonly Prim[] = Object.values(Prim) as Prim[];

/** Primitives whose params hold programs or functions (never compared structurally). */
export const HIGHER_ORDER: ReadonlySet<Prim> = new Set([
  Prim.JitCall,
  Prim.Cond,
  Prim.While,
  Prim.Scan,
  Prim.CustomJvpCall,
  Prim.CustomVjpCall,
  Prim.CustomLin,
  Prim.DebugCallback,
  Prim.Remat,
]);

/** Primitives with an effect: staged even when their operands are constants, and never dead code. */
export const EFFECTFUL: ReadonlySet<Prim> = new Set([Prim.DebugCallback]);
