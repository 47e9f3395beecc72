/**
 * `lax.convGeneralDilated` and `lax.reduceWindow`: JAX's convolution and windowed reductions.
 * The convolution is one primitive in a canonical layout (batch, feature, spatial...); this module
 * turns JAX's dimension-number strings, "SAME"/"VALID" padding and defaults into that layout's
 * params and transposes in and out. `reduceWindow` is composed of primitives (pad with the initial
 * value, gather every window, reduce; or, for windows that tile the operand, reshape and reduce),
 * so its derivatives and batching come from theirs.
 */
import { type DType, promote } from "./core/dtype.js";
import { ArgumentError, DTypeError, ShapeError, describe } from "./core/errors.js";
import * as lax from "./core/lax.js";
import { ConcreteArray, type NDArray } from "./core/ndarray.js";
import { checkOptionsObject } from "./core/options.js";
import { range, sizeOf, stridesOf } from "./core/shape.js";
import { type ArrayLike, asArray } from "./np/base.js";
import { add, maximum, minimum } from "./np/math.js";
import { numberKey, staged } from "./core/staged.js";

/** Padding: "SAME" (output size ceil(in / stride)), "VALID" (no padding) or explicit [lo, hi] per spatial dim. */
export type ConvPadding = "SAME" | "VALID" | [number, number][];

/** Options of `convGeneralDilated`, as JAX's keywords. */
export interface ConvOptions {
  lhsDilation?: number[];
  rhsDilation?: number[];
  /** Layout strings [lhs, rhs, out], e.g. ["NHWC", "HWIO", "NHWC"]; default NC.../OI.../NC... */
  dimensionNumbers?: [string, string, string];
  featureGroupCount?: number;
  batchGroupCount?: number;
}

const FN = "lax.convGeneralDilated";

function positiveList(fn: string, what: string, v: unknown, n: number): number[] {
  if (v === undefined) return Array<number>(n).fill(1);
  if (!Array.isArray(v) || v.length !== n || !v.every((d) => Number.isSafeInteger(d) && d >= 1)) {
    throw new ArgumentError(`${fn}: ${what} must be ${n} positive integer(s), one per spatial dim, got ${describe(v)}`);
  }
  return v as number[];
}

function positiveInt(fn: string, what: string, v: unknown): number {
  if (v === undefined) return 1;
  if (!Number.isSafeInteger(v) || (v as number) < 1) throw new ArgumentError(`${fn}: ${what} must be a positive integer, got ${describe(v)}`);
  return v as number;
}

/**
 * Explicit [lo, hi] pairs for each spatial dim. "SAME" pads so the output has ceil(in / stride)
 * positions, splitting the total as JAX does (the extra one on the high side).
 */
export function resolvePadding(fn: string, padding: unknown, inSizes: number[], spans: number[], strides: number[]): [number, number][] {
  const n = inSizes.length;
  if (padding === "VALID") return inSizes.map(() => [0, 0]);
  if (padding === "SAME") {
    return inSizes.map((s, d) => {
      const out = Math.ceil(s / strides[d]!);
      const total = Math.max((out - 1) * strides[d]! + spans[d]! - s, 0);
      return [Math.floor(total / 2), total - Math.floor(total / 2)];
    });
  }
  const ok = (v: unknown) => Number.isSafeInteger(v);
  if (!Array.isArray(padding) || padding.length !== n || !padding.every((p) => Array.isArray(p) && p.length === 2 && p.every(ok))) {
    throw new ArgumentError(`${fn}: padding must be "SAME", "VALID" or ${n} [lo, hi] integer pair(s), got ${describe(padding)}`);
  }
  return padding.map((p) => [p[0], p[1]] as [number, number]);
}

/** The permutation that takes a layout string to [first, second, ...spatial] (spatial in `order`). */
function layoutPerm(fn: string, spec: unknown, which: string, lead: [string, string], order: string[] | null, ndim: number): number[] {
  if (typeof spec !== "string" || spec.length !== ndim || new Set(spec).size !== ndim || !spec.includes(lead[0]) || !spec.includes(lead[1])) {
    throw new ArgumentError(
      `${fn}: the ${which} layout must be a string of ${ndim} distinct letters containing ${lead[0]} and ${lead[1]} ` +
        `(e.g. "${lead.join("")}HW"), got ${describe(spec)}`,
    );
  }
  const spatial = order ?? [...spec].filter((ch) => !lead.includes(ch));
  if (!spatial.every((ch) => spec.includes(ch) && !lead.includes(ch))) {
    throw new ArgumentError(`${fn}: the ${which} layout ${spec} must name the same spatial letters as the kernel layout (${spatial.join("")})`);
  }
  return [spec.indexOf(lead[0]), spec.indexOf(lead[1]), ...spatial.map((ch) => spec.indexOf(ch))];
}

const isIdentity = (perm: readonly number[]) => perm.every((p, i) => p === i);
const permute = (x: NDArray, perm: number[]) => (isIdentity(perm) ? x : lax.transpose(x, perm));

function promoted(fn: string, a: NDArray, b: NDArray): DType {
  for (const x of [a, b])
    if (x.dtype === "bool") throw new DTypeError(`${fn}: needs numeric operands, got ${x.dtype}; convert with .astype("float32")`);
  return promote(a.dtype, b.dtype);
}

/**
 * A general N-d convolution (1 to 3 spatial dims), as JAX's `lax.conv_general_dilated`: the lhs
 * (input) dilated by `lhsDilation`, padded, and cross-correlated with the rhs (kernel) whose
 * window is dilated by `rhsDilation`, moved by `windowStrides`. With `featureGroupCount` G the
 * input features split into G groups, each seen by O/G kernels; with `batchGroupCount` B the
 * batch splits into B groups, each convolved with O/B kernels. Differentiable in both operands
 * (the gradients are convolutions themselves), batchable, and jit-compiled.
 *
 * @example
 * const x = np.ones([1, 3, 8, 8]); // NCHW
 * const w = np.ones([4, 3, 3, 3]); // OIHW
 * lax.convGeneralDilated(x, w, [1, 1], "SAME").shape; // [1, 4, 8, 8]
 * lax.convGeneralDilated(x.transpose([0, 2, 3, 1]), w.transpose([2, 3, 1, 0]), [2, 2], "VALID",
 *   { dimensionNumbers: ["NHWC", "HWIO", "NHWC"] }).shape; // [1, 3, 3, 4]
 */
export function convGeneralDilated(lhs: ArrayLike, rhs: ArrayLike, windowStrides: number[], padding: ConvPadding, options?: ConvOptions): NDArray {
  const opts = checkOptionsObject(FN, options, ["lhsDilation", "rhsDilation", "dimensionNumbers", "featureGroupCount", "batchGroupCount"]);
  let x = asArray(FN, lhs, undefined, "lhs");
  let w = asArray(FN, rhs, undefined, "rhs");
  if (x.ndim < 3 || x.ndim > 5 || w.ndim !== x.ndim) {
    throw new ShapeError(`${FN}: lhs and rhs need the same rank, 3 to 5 (1 to 3 spatial dims), got lhs [${x.shape}] and rhs [${w.shape}]`);
  }
  const nd = x.ndim - 2;
  const dn = opts.dimensionNumbers;
  if (dn !== undefined && (!Array.isArray(dn) || dn.length !== 3))
    throw new ArgumentError(`${FN}: dimensionNumbers must be [lhs, rhs, out] layout strings, got ${describe(dn)}`);
  const rPerm = dn ? layoutPerm(FN, dn[1], "rhs", ["O", "I"], null, x.ndim) : range(x.ndim);
  const spatial = dn ? rPerm.slice(2).map((d) => dn[1][d]!) : null;
  const lPerm = dn ? layoutPerm(FN, dn[0], "lhs", ["N", "C"], spatial, x.ndim) : range(x.ndim);
  const oPerm = dn ? layoutPerm(FN, dn[2], "out", ["N", "C"], spatial, x.ndim) : range(x.ndim);
  const dtype = promoted(FN, x, w);
  x = permute(x.dtype === dtype ? x : lax.convert(x, dtype), lPerm);
  w = permute(w.dtype === dtype ? w : lax.convert(w, dtype), rPerm);
  const strides = positiveList(FN, "windowStrides", windowStrides, nd);
  const lhsDilation = positiveList(FN, "lhsDilation", opts.lhsDilation, nd);
  const rhsDilation = positiveList(FN, "rhsDilation", opts.rhsDilation, nd);
  const featureGroupCount = positiveInt(FN, "featureGroupCount", opts.featureGroupCount);
  const batchGroupCount = positiveInt(FN, "batchGroupCount", opts.batchGroupCount);
  const [n, c] = x.shape as [number, number];
  const [o, i] = w.shape as [number, number];
  const shapes = `lhs [${x.shape}] and rhs [${w.shape}] in the canonical (N, C, spatial) / (O, I, spatial) layout`;
  if (featureGroupCount > 1 && batchGroupCount > 1) throw new ArgumentError(`${FN}: featureGroupCount and batchGroupCount cannot both exceed 1`);
  if (c !== i * featureGroupCount) {
    throw new ShapeError(
      `${FN}: lhs has ${c} feature(s) but rhs expects ${i} per group times featureGroupCount ${featureGroupCount} (${shapes}); ` +
        `check the channel counts and dimensionNumbers`,
    );
  }
  if (o % featureGroupCount !== 0 || o % batchGroupCount !== 0 || n % batchGroupCount !== 0) {
    throw new ShapeError(`${FN}: rhs output features (${o}) and lhs batch (${n}) must be divisible by the group counts (${shapes})`);
  }
  const sizes = x.shape.slice(2).map((s, d) => (s === 0 ? 0 : (s - 1) * lhsDilation[d]! + 1));
  const spans = w.shape.slice(2).map((k, d) => (k - 1) * rhsDilation[d]! + 1);
  const pads = resolvePadding(FN, padding, sizes, spans, strides);
  const out = lax.conv(x, w, { strides, padding: pads, lhsDilation, rhsDilation, featureGroupCount, batchGroupCount });
  return permute(out, invert(oPerm));
}

const invert = (perm: number[]) => {
  const inv = Array<number>(perm.length);
  perm.forEach((p, i) => (inv[p] = i));
  return inv;
};

/** Options of `reduceWindow` beyond JAX's positional arguments. */
export interface ReduceWindowOptions {
  baseDilation?: number[];
  windowDilation?: number[];
}

const RW = "lax.reduceWindow";

/** Flat gather indices [outSize, windowSize] into the padded operand, cached per geometry. */
const indexCache = new Map<string, { idx: ConcreteArray; out: number[] }>();
function windowIndices(padded: number[], window: number[], strides: number[], dilation: number[]): { idx: ConcreteArray; out: number[] } {
  const key = JSON.stringify([padded, window, strides, dilation]);
  const hit = indexCache.get(key);
  if (hit) return hit;
  const out = padded.map((p, d) => {
    const span = (window[d]! - 1) * dilation[d]! + 1;
    return p < span ? 0 : Math.floor((p - span) / strides[d]!) + 1;
  });
  const ps = stridesOf(padded);
  const nOut = sizeOf(out),
    nWin = sizeOf(window);
  const v = new Int32Array(nOut * nWin);
  const outStrides = stridesOf(out),
    winStrides = stridesOf(window);
  for (let a = 0; a < nOut; a++) {
    let base = 0;
    for (let d = 0; d < out.length; d++) base += (Math.floor(a / outStrides[d]!) % out[d]!) * strides[d]! * ps[d]!;
    for (let b = 0; b < nWin; b++) {
      let off = 0;
      for (let d = 0; d < window.length; d++) off += (Math.floor(b / winStrides[d]!) % window[d]!) * dilation[d]! * ps[d]!;
      v[a * nWin + b] = base + off;
    }
  }
  const entry = { idx: new ConcreteArray(v, [nOut, nWin], "int32"), out };
  if (indexCache.size > 64) indexCache.clear();
  indexCache.set(key, entry);
  return entry;
}

/**
 * Reduces every window of `operand` with `computation` (`np.add`, `np.maximum` or `np.minimum`,
 * recognised by identity) starting from `initValue`, as JAX's `lax.reduce_window`. Windows span
 * every dim of the operand (use 1 where a dim is not reduced); padded positions hold `initValue`.
 * Built from pad, gather and a reduction, so it is differentiable: the max/min derivative sends
 * each window's tangent to its extreme element, and on a tie within a window splits it equally
 * among the tied elements (as `np.max` does).
 *
 * @example
 * const x = np.arange(16).reshape([1, 1, 4, 4]).astype("float32");
 * lax.reduceWindow(x, -Infinity, np.maximum, [1, 1, 2, 2], [1, 1, 2, 2], "VALID"); // [[[[5, 7], [13, 15]]]]
 */
export function reduceWindow(
  operand: ArrayLike,
  initValue: number,
  computation: (a: NDArray, b: NDArray) => NDArray,
  windowDimensions: number[],
  windowStrides: number[],
  padding: ConvPadding,
  options?: ReduceWindowOptions,
): NDArray {
  const opts = checkOptionsObject(RW, options, ["baseDilation", "windowDilation"]);
  const x = asArray(RW, operand, undefined, "operand");
  const kind: WindowStatics["kind"] | null = computation === add ? "sum" : computation === maximum ? "max" : computation === minimum ? "min" : null;
  if (kind === null) {
    throw new ArgumentError(`${RW}: computation must be np.add, np.maximum or np.minimum (recognised by identity), got ${describe(computation)}`);
  }
  if (typeof initValue !== "number") throw new ArgumentError(`${RW}: initValue must be a number, got ${describe(initValue)}`);
  const nd = x.ndim;
  const window = positiveList(RW, "windowDimensions", windowDimensions, nd);
  const strides = positiveList(RW, "windowStrides", windowStrides, nd);
  const base = positiveList(RW, "baseDilation", opts.baseDilation, nd);
  const dil = positiveList(RW, "windowDilation", opts.windowDilation, nd);
  const sizes = x.shape.map((s, d) => (s === 0 ? 0 : (s - 1) * base[d]! + 1));
  const spans = window.map((k, d) => (k - 1) * dil[d]! + 1);
  const pads = resolvePadding(RW, padding, sizes, spans, strides);
  if (pads.some(([lo, hi]) => lo < 0 || hi < 0)) throw new ArgumentError(`${RW}: padding widths must be non-negative, got ${describe(pads)}`);
  const statics = { kind, initValue, window, strides, base, dil, pads };
  const key = `${RW} ${kind} ${numberKey(initValue)} ${window} ${strides} ${base} ${dil} ${pads.flat()}`;
  return staged(key, [x], (v) => reduceWindowOf(v, statics));
}

interface WindowStatics {
  kind: "sum" | "max" | "min";
  initValue: number;
  window: number[];
  strides: number[];
  base: number[];
  dil: number[];
  pads: [number, number][];
}

/** reduceWindow's body on its validated static arguments (one staged program when eager). */
function reduceWindowOf(x: NDArray, { kind, initValue, window, strides, base, dil, pads }: WindowStatics): NDArray {
  const init = lax.scalar(initValue, x.dtype);
  const needPad = pads.some(([lo, hi]) => lo > 0 || hi > 0) || base.some((b) => b > 1);
  const xp = needPad
    ? lax.pad(
        x,
        init,
        pads.map(([lo, hi], d) => [lo, hi, base[d]! - 1] as [number, number, number]),
      )
    : x;
  const reduce = kind === "sum" ? lax.reduceSum : kind === "max" ? lax.reduceMax : lax.reduceMin;
  let reduced: NDArray;
  if (!needPad && dil.every((v) => v === 1) && window.every((w, d) => w === strides[d] && w <= x.shape[d]!)) {
    // Windows that tile the operand are a reshape away: each windowed dim [s] becomes [s / w, w]
    // (cut to a multiple of w first). With one windowed dim its w axis is reduced in place; with
    // more, the w axes are moved last and reduced together (one reduction, so a tie anywhere in
    // the window shares the derivative equally, as on the gather path). No gather, and no scatter
    // in the gradient.
    const out = x.shape.map((s, d) => Math.floor(s / window[d]!));
    const whole = out.map((o, d) => o * window[d]!);
    const cut = whole.every((w, d) => w === x.shape[d])
      ? x
      : lax.slice(
          x,
          whole.map(() => 0),
          whole,
        );
    const kept: number[] = [],
      windowAxes: number[] = [];
    const split = out.flatMap((o, d) => {
      kept.push(kept.length + windowAxes.length);
      if (window[d] === 1) return [o];
      windowAxes.push(kept.length + windowAxes.length);
      return [o, window[d]!];
    });
    const tiles = lax.reshape(cut, split);
    if (windowAxes.length === 0) reduced = tiles;
    else if (windowAxes.length === 1) reduced = reduce(tiles, windowAxes);
    else
      reduced = reduce(
        lax.transpose(tiles, [...kept, ...windowAxes]),
        range(windowAxes.length).map((i) => kept.length + i),
      );
  } else {
    const { idx, out } = windowIndices(xp.shape as number[], window, strides, dil);
    reduced = lax.reshape(reduce(lax.gather(lax.reshape(xp, [xp.size]), idx, 0), [1]), out);
  }
  const combine = kind === "sum" ? lax.add : kind === "max" ? lax.max : lax.min;
  const skipInit = (kind === "sum" && initValue === 0) || (kind === "max" && initValue === -Infinity) || (kind === "min" && initValue === Infinity);
  return skipInit ? reduced : combine(reduced, lax.fill(reduced, initValue));
}
