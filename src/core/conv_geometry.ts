/**
 * The geometry of one `conv_general_dilated`, as the CPU and WebGPU kernels take it: every spatial
 * list padded to three dims (missing dims in front, of size 1), so the innermost loop runs along the
 * last, widest one. Built here once from the operands' shapes and the params.
 */
import type { Aval } from "./ndarray.js";
import type { Prim, PrimParams } from "./prim.js";

/** Geometry of one convolution; every spatial list has 3 entries. */
export interface ConvGeometry {
  n: number;
  c: number;
  o: number;
  /** rhs input features per group (C / G). */
  i: number;
  s: number[];
  k: number[];
  q: number[];
  strides: number[];
  /** Low padding per dim (may be negative). */
  lo: number[];
  lhsDilation: number[];
  rhsDilation: number[];
  groups: number;
  batchGroups: number;
}

const to3 = (v: readonly number[], fill: number): number[] => [...Array<number>(3 - v.length).fill(fill), ...v];

/** The geometry of lhs [N, C, ...S] convolved with rhs [O, C/G, ...K] into out [N/B, O, ...Q]. */
export function convGeometry(lhs: Aval, rhs: Aval, out: Aval, p: PrimParams[Prim.ConvGeneralDilated]): ConvGeometry {
  return {
    n: lhs.shape[0]!,
    c: lhs.shape[1]!,
    o: rhs.shape[0]!,
    i: rhs.shape[1]!,
    s: to3(lhs.shape.slice(2), 1),
    k: to3(rhs.shape.slice(2), 1),
    q: to3(out.shape.slice(2), 1),
    strides: to3(p.strides, 1),
    lo: to3(
      p.padding.map(([lo]) => lo),
      0,
    ),
    lhsDilation: to3(p.lhsDilation, 1),
    rhsDilation: to3(p.rhsDilation, 1),
    groups: p.featureGroupCount,
    batchGroups: p.batchGroupCount,
  };
}

/**
 * Which operands of a convolution are stored with their first two axes swapped: lhs as
 * [C, N, ...S], rhs as [C, O, ...K], out as [O, N, ...Q] (a kernel gradient's operands and result,
 * which the jit then need not transpose before and after the convolution).
 */
export interface ConvLayout {
  lhs: boolean;
  rhs: boolean;
  out: boolean;
}
