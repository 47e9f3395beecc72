/**
 * Convolution and pooling layers' functional forms, with Flax's conventions: channels-last inputs
 * (batch, spatial..., features) and kernels (spatial..., in features / groups, out features).
 * Built on `lax.convGeneralDilated` and `lax.reduceWindow`.
 */
import { ArgumentError, describe } from "./core/errors.js";
import type { NDArray } from "./core/ndarray.js";
import { checkOptionsObject } from "./core/options.js";
import { type ConvPadding, convGeneralDilated, reduceWindow } from "./lax_conv.js";
import { type ArrayLike, asArray, toFloat } from "./np/base.js";
import { add, maximum } from "./np/math.js";
import * as lax from "./core/lax.js";
import { staged } from "./core/staged.js";

/** Options of `nn.conv` and `nn.convTranspose`. */
export interface NnConvOptions {
  /** One per spatial dim or one for all; default 1. */
  strides?: number | number[];
  /** Default "SAME". */
  padding?: ConvPadding;
  /** Kernel (window) dilation, one per spatial dim or one for all; default 1. */
  dilation?: number | number[];
  /** `nn.conv` only: feature groups (depthwise convolution when equal to the input features). */
  featureGroupCount?: number;
}

const SPATIAL = "DHW";
const per = (fn: string, what: string, v: unknown, n: number): number[] => {
  if (v === undefined) return Array<number>(n).fill(1);
  if (typeof v === "number") return Array<number>(n).fill(v);
  if (Array.isArray(v) && v.length === n) return v as number[];
  throw new ArgumentError(`${fn}: ${what} must be a number or ${n} numbers (one per spatial dim), got ${describe(v)}`);
};

/** Layout strings for channels-last data and (spatial..., I, O) kernels of `nd` spatial dims. */
function layouts(nd: number): [string, string, string] {
  const s = SPATIAL.slice(3 - nd);
  return [`N${s}C`, `${s}IO`, `N${s}C`];
}

function spatialRank(fn: string, x: NDArray, kernel: NDArray): number {
  const nd = kernel.ndim - 2;
  if (nd < 1 || nd > 3 || x.ndim !== nd + 2) {
    throw new ArgumentError(
      `${fn}: x must be (batch, spatial..., features) and kernel (spatial..., in, out) with 1 to 3 spatial dims, got x [${x.shape}] and kernel [${kernel.shape}]`,
    );
  }
  return nd;
}

/**
 * A convolution layer's forward pass (Flax's `nn.Conv` without the bias): `x` is
 * (batch, spatial..., in features), `kernel` is (spatial..., in features / groups, out features).
 *
 * @example
 * const x = np.ones([8, 28, 28, 1]);
 * const k = random.normal(random.key(0), [3, 3, 1, 16]);
 * nn.conv(x, k).shape; // [8, 28, 28, 16] ("SAME" padding)
 * nn.conv(x, k, { strides: 2, padding: "VALID" }).shape; // [8, 13, 13, 16]
 */
export function conv(x: ArrayLike, kernel: ArrayLike, options?: NnConvOptions): NDArray {
  const fn = "nn.conv";
  const o = checkOptionsObject(fn, options, ["strides", "padding", "dilation", "featureGroupCount"]);
  const a = asArray(fn, x, undefined, "x"),
    k = asArray(fn, kernel, undefined, "kernel");
  const nd = spatialRank(fn, a, k);
  return convGeneralDilated(a, k, per(fn, "strides", o.strides, nd), o.padding ?? "SAME", {
    rhsDilation: per(fn, "dilation", o.dilation, nd),
    dimensionNumbers: layouts(nd),
    featureGroupCount: o.featureGroupCount ?? 1,
  });
}

/**
 * The transposed convolution ("deconvolution") of Flax's `nn.ConvTranspose` and JAX's
 * `lax.conv_transpose` (kernel not flipped): the input is dilated by `strides` and convolved with
 * stride 1. "SAME" gives an output of size in * stride; "VALID" in * stride + max(k - stride, 0)
 * (k the dilated kernel size).
 *
 * @example
 * const x = np.ones([1, 7, 7, 16]);
 * nn.convTranspose(x, np.ones([3, 3, 16, 8]), { strides: 2 }).shape; // [1, 14, 14, 8]
 */
export function convTranspose(x: ArrayLike, kernel: ArrayLike, options?: NnConvOptions): NDArray {
  const fn = "nn.convTranspose";
  const o = checkOptionsObject(fn, options, ["strides", "padding", "dilation"]);
  const a = asArray(fn, x, undefined, "x"),
    k = asArray(fn, kernel, undefined, "kernel");
  const nd = spatialRank(fn, a, k);
  const strides = per(fn, "strides", o.strides, nd);
  const dilation = per(fn, "dilation", o.dilation, nd);
  const padding = o.padding ?? "SAME";
  let pads: [number, number][];
  if (padding === "SAME" || padding === "VALID") {
    pads = strides.map((s, d) => {
      const span = (k.shape[d]! - 1) * dilation[d]! + 1;
      // The padding of the dilated input that yields in*s ("SAME") or in*s + max(span - s, 0) ("VALID").
      const total = padding === "SAME" ? span + s - 2 : span + s - 2 + Math.max(span - s, 0);
      const lo = padding === "SAME" ? (s > span - 1 ? span - 1 : Math.ceil(total / 2)) : span - 1;
      return [lo, total - lo];
    });
  } else pads = padding;
  return convGeneralDilated(a, k, Array<number>(nd).fill(1), pads, { lhsDilation: strides, rhsDilation: dilation, dimensionNumbers: layouts(nd) });
}

/** Options of `nn.maxPool` and `nn.avgPool`. */
export interface PoolOptions {
  /** Default: 1 in every dim (as Flax); pass the window shape for non-overlapping pools. */
  strides?: number[];
  /** Default "VALID". */
  padding?: ConvPadding;
  /** `avgPool` only: divide by the full window size even where it overlaps padding (default true, as Flax). */
  countIncludePad?: boolean;
}

function poolGeometry(fn: string, x: NDArray, windowShape: unknown, o: PoolOptions): [number[], number[], ConvPadding] {
  if (!Array.isArray(windowShape) || windowShape.length < 1 || windowShape.length > x.ndim - 1) {
    throw new ArgumentError(
      `${fn}: windowShape must list 1 to ${x.ndim - 1} window sizes for the spatial dims of x [${x.shape}], got ${describe(windowShape)}`,
    );
  }
  const k = windowShape.length;
  const lead = x.ndim - 1 - k;
  const strides = per(fn, "strides", o.strides, k);
  const full = (v: number[], fill: number) => [...Array<number>(lead).fill(fill), ...v, fill];
  const padding = o.padding ?? "VALID";
  const pads = Array.isArray(padding) ? ([...Array(lead).fill([0, 0]), ...padding, [0, 0]] as [number, number][]) : padding;
  if (typeof pads === "string" && pads !== "SAME" && pads !== "VALID")
    throw new ArgumentError(`${fn}: padding must be "SAME", "VALID" or [lo, hi] pairs, got ${describe(pads)}`);
  return [full(windowShape as number[], 1), full(strides, 1), pads];
}

/**
 * Max pooling over the spatial dims of channels-last `x` (batch dims..., spatial..., features), as
 * Flax's `nn.max_pool`. The gradient goes to each window's maximum (split equally on ties).
 *
 * @example
 * const x = np.ones([8, 28, 28, 16]);
 * nn.maxPool(x, [2, 2], { strides: [2, 2] }).shape; // [8, 14, 14, 16]
 */
export function maxPool(x: ArrayLike, windowShape: number[], options?: PoolOptions): NDArray {
  const fn = "nn.maxPool";
  const o = checkOptionsObject(fn, options, ["strides", "padding"]);
  const a = asArray(fn, x, undefined, "x");
  const [w, s, p] = poolGeometry(fn, a, windowShape, o);
  return reduceWindow(a, -Infinity, maximum, w, s, p);
}

/**
 * Average pooling over the spatial dims of channels-last `x`, as Flax's `nn.avg_pool`.
 *
 * @example
 * nn.avgPool(np.ones([1, 4, 4, 3]), [2, 2], { strides: [2, 2] }).shape; // [1, 2, 2, 3]
 */
export function avgPool(x: ArrayLike, windowShape: number[], options?: PoolOptions): NDArray {
  const fn = "nn.avgPool";
  const o = checkOptionsObject(fn, options, ["strides", "padding", "countIncludePad"]);
  const a = toFloat(asArray(fn, x, undefined, "x"));
  const [w, s, p] = poolGeometry(fn, a, windowShape, o);
  const includePad = o.countIncludePad !== false;
  const size = w.reduce((m, v) => m * v, 1);
  // One staged program when eager; the counts of the real elements in each window come from ones
  // (not from the values: x · 0 + 1 is NaN at an infinite or NaN x).
  return staged(`${fn} ${w} ${s} ${p} ${includePad}`, [a], (v) => {
    const sums = reduceWindow(v, 0, add, w, s, p);
    return includePad ? lax.mul(sums, lax.fill(sums, 1 / size)) : lax.div(sums, reduceWindow(lax.fill(v, 1), 0, add, w, s, p));
  });
}
