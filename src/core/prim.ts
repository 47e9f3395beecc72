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
  // elementwise, zero derivative
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
  StopGradient = "stop_gradient",
  // reductions and scans
  ReduceSum = "reduce_sum",
  ReduceMax = "reduce_max",
  ReduceMin = "reduce_min",
  ArgMax = "argmax",
  ArgMin = "argmin",
  Cumsum = "cumsum",
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
  DynamicSlice = "dynamic_slice",
  DynamicUpdateSlice = "dynamic_update_slice",
  // contraction, bilinear
  DotGeneral = "dot_general",
  // higher-order
  JitCall = "jit_call",
  Cond = "cond",
  While = "while",
  Scan = "scan",
  CustomJvpCall = "custom_jvp_call",
  CustomVjpCall = "custom_vjp_call",
  CustomLin = "custom_lin",
  Remat = "remat",
}

/** A user's forward rule over flat arrays: (primals, tangents) => [outputs, output tangents]. */
export type FlatJvpRule = (primals: NDArray[], tangents: NDArray[]) => [NDArray[], NDArray[]];
/** A user's forward pass for reverse mode: primals => [outputs, residuals]. */
export type FlatFwd = (primals: NDArray[]) => [NDArray[], NDArray[]];
/** A user's backward pass: (residuals, output cotangents) => input cotangents. */
export type FlatBwd = (residuals: NDArray[], cts: NDArray[]) => NDArray[];
/** What a checkpointed block saves for the backward pass besides its inputs. */
export type RematPolicy = "nothing" | "dots";

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
  /** dynamic_slice(x, ...starts): a block of `sizes` at scalar int32 starts, clamped to fit. */
  [Prim.DynamicSlice]: { sizes: number[] };
  /** dynamic_update_slice(x, update, ...starts): x with the block at starts replaced by update. */
  [Prim.DynamicUpdateSlice]: NoParams;
  /** Contracts dims `contract[0]` of lhs with `contract[1]` of rhs; output = batch ++ lhs free ++ rhs free. */
  [Prim.DotGeneral]: { contract: [number[], number[]]; batch: [number[], number[]] };
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
  Prim.Remat,
]);
