/**
 * The closed set of primitives every fluxion program is built from, and the static params of each.
 * Array operands are positional; everything static (axes, shapes, dtypes) lives in `PrimParams<P>`.
 * Interpreters keep exhaustive tables `{ [P in Prim]: Rule<P> }`, so a primitive added here does
 * not compile until every interpreter has its rule.
 */
import type { ClosedProgram } from "../ir/ir.js";
import type { DType } from "./dtype.js";

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
}

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
}

export const PRIMS: readonly Prim[] = Object.values(Prim) as Prim[];
