/**
 * Cases of conv_general_dilated (canonical layout) against the naive float64 convolution in
 * test/conv/reference.ts: strides, padding (negative widths crop), lhs and rhs dilation, feature
 * and batch groups, 1 to 3 spatial dims, and an int32 case.
 */
import { Prim, type PrimParams } from "../../src/index.js";
import { convRef } from "../conv/reference.js";
import { type PrimCase, ints, uni } from "./cases_util.js";

type CP = PrimParams[Prim.ConvGeneralDilated];
type CC = PrimCase<Prim.ConvGeneralDilated>;

const params = (nd: number, p: Partial<CP> = {}): CP => ({
  strides: Array<number>(nd).fill(1),
  padding: Array.from({ length: nd }, () => [0, 0] as [number, number]),
  lhsDilation: Array<number>(nd).fill(1),
  rhsDilation: Array<number>(nd).fill(1),
  featureGroupCount: 1,
  batchGroupCount: 1,
  ...p,
});

const conv = (name: string, l: number[], r: number[], p: CP, int = false): CC => ({
  name,
  make: (rng, fdt) => (int ? [ints(rng, l, -3, 3), ints(rng, r, -3, 3)] : [uni(rng, l, fdt), uni(rng, r, fdt)]),
  params: p,
  ref: ([a, b], q) => convRef(a!, b!, q),
  diff: int ? [] : [0, 1],
  ...(int ? {} : { linear: [[0], [1]] }),
});

export const convCases: { [P in Prim.ConvGeneralDilated]: PrimCase<P>[] } = {
  [Prim.ConvGeneralDilated]: [
    conv("1d valid", [2, 3, 7], [4, 3, 3], params(1)),
    conv("1d stride 2, pad [2, 1], rhs dilation 2", [2, 2, 9], [3, 2, 3], params(1, { strides: [2], padding: [[2, 1]], rhsDilation: [2] })),
    conv(
      "2d same-size padding",
      [2, 3, 5, 4],
      [2, 3, 3, 3],
      params(2, {
        padding: [
          [1, 1],
          [1, 1],
        ],
      }),
    ),
    conv(
      "2d strides [2, 1], lhs dilation [1, 2]",
      [1, 2, 5, 4],
      [3, 2, 2, 3],
      params(2, {
        strides: [2, 1],
        lhsDilation: [1, 2],
        padding: [
          [0, 1],
          [2, 2],
        ],
      }),
    ),
    conv(
      "2d negative padding crops",
      [1, 2, 6, 6],
      [2, 2, 2, 2],
      params(2, {
        padding: [
          [-1, 0],
          [0, -2],
        ],
      }),
    ),
    conv(
      "2d feature groups 2",
      [2, 4, 4, 4],
      [6, 2, 2, 2],
      params(2, {
        featureGroupCount: 2,
        padding: [
          [1, 0],
          [0, 1],
        ],
      }),
    ),
    conv(
      "2d depthwise (groups = features)",
      [1, 3, 4, 5],
      [3, 1, 3, 3],
      params(2, {
        featureGroupCount: 3,
        padding: [
          [1, 1],
          [1, 1],
        ],
      }),
    ),
    conv("2d batch groups 2", [4, 2, 4, 4], [4, 2, 2, 2], params(2, { batchGroupCount: 2, strides: [2, 1] })),
    conv(
      "3d stride and dilation",
      [1, 2, 4, 4, 5],
      [2, 2, 2, 2, 2],
      params(3, {
        strides: [1, 2, 1],
        rhsDilation: [2, 1, 1],
        padding: [
          [0, 1],
          [0, 0],
          [1, 0],
        ],
      }),
    ),
    conv("int32 2d", [1, 2, 4, 4], [2, 2, 2, 2], params(2, { strides: [2, 2] }), true),
  ],
};
