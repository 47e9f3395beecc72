/**
 * Fast CPU convolutions for the common case: one feature group, one batch group (strides, window
 * dilation and any padding allowed; lhs dilation only in shift-add, in dims without a stride, which
 * is the input gradient of a strided conv). Each is one batched product on the WebAssembly GEMM.
 * Each lowering records its operand writes once per geometry as plans of runs (im2col, the
 * kernel's transposition, shift-add's sums), which `matmulWasmGathered` executes in wasm entry by
 * entry (on worker threads too, for large products); where that declines, they write their
 * operands straight into the GEMM's memory (`matmulWasmInPlace`: the input is copied in once and the
 * im2col matrices assembled there with `copyWithin`); where wasm is off or the product small, the
 * same writers fill JavaScript scratch matrices for `matmul`, one entry at a time. Three lowerings,
 * chosen per geometry by an estimate of their cost (`convGemm`):
 *
 * - columns: cols_n [C·K, Q] (im2col of one image) and out_n = W [O, C·K] · cols_n, batched over
 *   n, written straight into the output. The usual forward pass (Q large).
 * - rows: one row per output position of every image, colsT [N·Q, C·K], and outT = colsT · Wᵀ.
 *   For few output positions and a deep window: the kernel gradient, whose "window" is a whole
 *   image (C·K = N·H·W) and whose output is the small kernel.
 * - shift-add: Z_n [O·K, S] = W' [O·K, C] · x_n [C, S] multiplies every input position by every
 *   kernel tap with no im2col at all, then out[n, o, q] = Σ_a Z_n[(o, a), pos(q, a)]. Cheaper when
 *   there are fewer output than input features (the input gradient of a conv that widens), and
 *   with lhs dilation, where Z covers only the real input positions (no multiplications by the
 *   dilation's zeros).
 *
 * Knows nothing of NDArrays or transforms; `conv.ts` owns the geometry and the general path.
 */
import type { TypedArray } from "../../../src/core/dtype.js";
import type { ConvLayout } from "../../../src/core/conv_geometry.js";
import type { ConvGeometry } from "./conv.js";
import { type FloatArray, matmul } from "./matmul.js";
import { RUN_INTS } from "./gather_wasm_module.js";
import { matmulThreadsFor, matmulWasmTakes } from "./matmul_engine.js";
import { type GatheredProduct, type InPlaceProduct, matmulWasmGathered, matmulWasmInPlace } from "./matmul_wasm.js";

/**
 * Most elements of colsT in one batch entry of the rows lowering by default (at least one row).
 * On the W7 kernel gradient (72 rows of 25,088) 2^19 to 2^23 measured alike, 2^17 about 15% slower.
 */
const CHUNK_ELEMENTS = 1 << 19;
/** Entries per thread of a threaded rows lowering (fewer leave a thread idle at the end). */
const TASKS_PER_THREAD = 2;
/** Below this many output positions per image the rows lowering is used (a narrow GEMM otherwise). */
const ROWS_BELOW_Q = 64;
/** Shortest plane worth one contiguous move (`copyWithin` or `set`) instead of an element loop. */
const CONTIGUOUS_MIN = 64;
/**
 * Costs relative to one JavaScript element loop step (an add or a strided move), measured: a
 * multiply-add inside the GEMM, and a move within a contiguous plane copy (memcpy, then packed
 * once more by the GEMM).
 */
const MAC_COST = 0.05;
const RUN_COST = 0.25;
/**
 * The same on the gathered wasm product, measured there: an element moved by a plan (then packed
 * once more), and one added into shift-add's sums (short unaligned runs). Shift-add wins about where
 * it has fewer output than input features.
 */
const WASM_MOVE_COST = 0.1;
const WASM_ADD_COST = 0.3;

const slots: Record<string, TypedArray> = {};
/** Scratch buffer `slot` of the element type of `like`, grown on demand and kept for reuse. */
function scratch(like: FloatArray, slot: string, n: number): FloatArray {
  const key = `${like.constructor.name}:${slot}`;
  let b = slots[key];
  if (!b || b.length < n) slots[key] = b = new (like.constructor as new (n: number) => FloatArray)(n);
  return b.subarray(0, n) as FloatArray;
}

type Span = [number, number];
/** An arithmetic run of output positions and the input positions they read: [q0, dq, t0, dt, count]. */
type Taps = [number, number, number, number, number];
const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i);

/**
 * The indices v in [0, count) with base + v * step inside [0, size), as [first, end); step > 0.
 * Outside that range the position falls into padding.
 */
function span(base: number, step: number, count: number, size: number): Span {
  const first = base >= 0 ? 0 : Math.ceil(-base / step);
  const end = Math.min(count, Math.max(0, Math.ceil((size - base) / step)));
  return first < end ? [first, end] : [0, 0];
}

const isFloatArray = (a: TypedArray): a is FloatArray => a instanceof Float32Array || a instanceof Float64Array || a instanceof Int32Array;

/** The three lowerings, by name (tests choose one; `convGemm` estimates which is cheapest). */
export type ConvLowering = "columns" | "rows" | "shiftAdd";

/**
 * out = conv(lhs, rhs) by the cheapest GEMM lowering (or `lowering`, for tests); false, with
 * nothing written, for a geometry they do not cover (groups, lhs dilation with a stride in the
 * same dim or outside shift-add, empty operands).
 * `chunk` caps the elements of colsT per batch entry in the rows lowering.
 */
export function convGemm(
  lhs: TypedArray,
  rhs: TypedArray,
  out: TypedArray,
  g: ConvGeometry,
  lowering?: ConvLowering,
  chunk = CHUNK_ELEMENTS,
): boolean {
  if (g.groups !== 1 || g.batchGroups !== 1 || !isFloatArray(lhs) || !isFloatArray(rhs) || !isFloatArray(out)) return false;
  const dilated = g.lhsDilation.some((d) => d !== 1);
  if (dilated && (lowering ?? "shiftAdd") !== "shiftAdd") return false;
  if (dilated && g.lhsDilation.some((d, i) => d !== 1 && g.strides[i] !== 1)) return false;
  const kp = g.k[0]! * g.k[1]! * g.k[2]!,
    qp = g.q[0]! * g.q[1]! * g.q[2]!,
    sp = g.s[0]! * g.s[1]! * g.s[2]!;
  const depth = g.c * kp;
  if (g.n * qp * depth * g.o === 0) return false;
  const rows = qp < ROWS_BELOW_Q;
  const contiguous = rows
    ? g.rhsDilation[2] === 1 && g.rhsDilation[1]! * g.s[2]! === g.k[2]
    : g.strides[2] === 1 && g.strides[1]! * g.s[2]! === g.q[2];
  const hits = kp / (g.lhsDilation[0]! * g.lhsDilation[1]! * g.lhsDilation[2]!);
  const macs = g.n * g.o * depth * qp;
  // Both in wasm where the gathered product takes them (float, large enough).
  const wasm = !(lhs instanceof Int32Array) && matmulWasmTakes(macs);
  const im2col = wasm ? 2 * g.n * depth * qp * WASM_MOVE_COST + macs * MAC_COST : g.n * depth * qp * (contiguous ? RUN_COST : 1) + macs * MAC_COST;
  const shiftAdd = wasm
    ? 2 * g.n * g.c * sp * WASM_MOVE_COST + g.n * g.o * hits * qp * WASM_ADD_COST + g.n * g.o * kp * g.c * sp * MAC_COST
    : g.n * g.o * hits * qp + g.n * g.o * kp * g.c * sp * MAC_COST;
  lowering ??= dilated || shiftAdd < im2col ? "shiftAdd" : rows ? "rows" : "columns";
  if (lowering === "shiftAdd") convShiftAdd(lhs, rhs, out, g);
  else if (lowering === "rows") convRows(lhs, rhs, out, g, chunk);
  else convColumns(lhs, rhs, out, g);
  return true;
}

const PLAIN: ConvLayout = { lhs: false, rhs: false, out: false };

/**
 * out = conv(lhs, rhs) with operands in `layout`, for the geometry of the convolution in the plain
 * one, by the columns or rows lowering on the gathered wasm product, whose plans read and write
 * those layouts directly; false, with nothing written, where that product does not take it
 * (groups, lhs dilation, wasm off, small products). `lowering` and `chunk` as in `convGemm`.
 */
export function convGemmLayout(
  lhs: TypedArray,
  rhs: TypedArray,
  out: TypedArray,
  g: ConvGeometry,
  layout: ConvLayout,
  lowering?: "columns" | "rows",
  chunk = CHUNK_ELEMENTS,
): boolean {
  if (g.groups !== 1 || g.batchGroups !== 1 || g.lhsDilation.some((d) => d !== 1)) return false;
  if (!isFloatArray(lhs) || !isFloatArray(rhs) || !isFloatArray(out) || lhs instanceof Int32Array) return false;
  if (g.n * g.c * g.o * prod3(g.q) * prod3(g.k) === 0) return false;
  lowering ??= prod3(g.q) < ROWS_BELOW_Q ? "rows" : "columns";
  return lowering === "rows" ? convRows(lhs, rhs, out, g, chunk, layout) : convColumns(lhs, rhs, out, g, layout);
}

const prod3 = (v: readonly number[]): number => v[0]! * v[1]! * v[2]!;

/** Window taps a of dim d that read inside the input for output position u: the [first, end) of `span`. */
const tapSpan = (g: ConvGeometry, d: number, u: number): Span => span(u * g.strides[d]! - g.lo[d]!, g.rhsDilation[d]!, g.k[d]!, g.s[d]!);
/** Output positions u of dim d that read inside the input through window tap a. */
const outSpan = (g: ConvGeometry, d: number, a: number): Span => span(a * g.rhsDilation[d]! - g.lo[d]!, g.strides[d]!, g.q[d]!, g.s[d]!);

/**
 * Output positions of dim d that read a real input element through window tap a, with lhs
 * dilation ld (stride 1 there, or ld = 1): q = q0 + j * dq reads input t = t0 + j * dt, j < count.
 */
function taps(g: ConvGeometry, d: number, a: number): Taps {
  const base = a * g.rhsDilation[d]! - g.lo[d]!,
    ld = g.lhsDilation[d]!;
  if (ld === 1) {
    const [u, v] = outSpan(g, d, a);
    return [u, 1, u * g.strides[d]! + base, g.strides[d]!, v - u];
  }
  // q + base must be a non-negative multiple of ld below ld * S.
  const first = Math.max(0, -base);
  const q0 = first + (((-(first + base) % ld) + ld) % ld);
  const t0 = (q0 + base) / ld;
  const count = q0 < g.q[d]! && t0 < g.s[d]! ? Math.min(Math.floor((g.q[d]! - 1 - q0) / ld) + 1, g.s[d]! - t0) : 0;
  return [q0, ld, t0, 1, count];
}

/** Writes `w` [rows, cols] transposed into `dst` ([cols, rows]) at `at`. */
function transposeInto(w: FloatArray, dst: FloatArray, at: number, rows: number, cols: number): void {
  // Four rows at a time (the leftover rows one at a time), in column blocks whose reads and writes
  // stay in L1: about 2.5x the plain double loop on the kernel gradient's [16, N·H·W].
  for (let c0 = 0; c0 < cols; c0 += 256) {
    const c1 = Math.min(cols, c0 + 256);
    let r = 0;
    for (; r + 4 <= rows; r += 4) {
      for (let c = c0, s = r * cols + c0, d = at + c0 * rows + r; c < c1; c++, s++, d += rows) {
        dst[d] = w[s]!;
        dst[d + 1] = w[s + cols]!;
        dst[d + 2] = w[s + 2 * cols]!;
        dst[d + 3] = w[s + 3 * cols]!;
      }
    }
    for (; r < rows; r++) for (let c = c0, s = r * cols + c0, d = at + c0 * rows + r; c < c1; c++, s++, d += rows) dst[d] = w[s]!;
  }
}

/** Zeroes dst[from, to): short stretches (a row's padding columns) by a loop rather than a `fill` call each. */
function zero(dst: FloatArray, from: number, to: number): void {
  if (to - from >= 256) dst.fill(0, from, to);
  else for (let j = from; j < to; j++) dst[j] = 0;
}

/** dst[at, at + n) = src[from, from + n): by `copyWithin` when both are one array (the GEMM's memory), else `set`. */
function move(dst: FloatArray, at: number, src: FloatArray, from: number, n: number): void {
  if (src === dst) dst.copyWithin(at, from, from + n);
  else dst.set(src.subarray(from, from + n), at);
}

/**
 * Writes one plane [h, w] of a window gather at dst[dOff...], zeros included:
 * dst[i1 * w + i2] = src[sOff + (i1 * t1 + c1) * sw + i2 * t2 + c2] for i1 in [l1, h1) and i2 in
 * [l2, h2), 0 elsewhere (padding). When rows line up (t2 = 1, t1 * sw = w, as in any stride-1 conv
 * whose output is as wide as its input) the whole valid part is one contiguous run, moved at memcpy
 * speed, after which the neighbours it also carried between valid stretches are zeroed again.
 */
function copyPlane(
  dst: FloatArray,
  dOff: number,
  h: number,
  w: number,
  [l1, h1]: Span,
  [l2, h2]: Span,
  src: FloatArray,
  sOff: number,
  sw: number,
  t1: number,
  c1: number,
  t2: number,
  c2: number,
): void {
  if (h1 <= l1 || h2 <= l2) {
    zero(dst, dOff, dOff + h * w);
    return;
  }
  if (t2 === 1 && t1 * sw === w && (h1 - l1) * w >= CONTIGUOUS_MIN) {
    const first = l1 * w + l2,
      last = (h1 - 1) * w + h2;
    zero(dst, dOff, dOff + first);
    move(dst, dOff + first, src, sOff + c1 * sw + c2 + first, last - first);
    for (let i1 = l1; i1 < h1 - 1; i1++) zero(dst, dOff + i1 * w + h2, dOff + (i1 + 1) * w + l2);
    zero(dst, dOff + last, dOff + h * w);
    return;
  }
  zero(dst, dOff, dOff + l1 * w);
  for (let i1 = l1; i1 < h1; i1++) {
    const s = sOff + (i1 * t1 + c1) * sw + c2,
      d = dOff + i1 * w;
    zero(dst, d, d + l2);
    if (t2 === 1) for (let i2 = l2; i2 < h2; i2++) dst[d + i2] = src[s + i2]!;
    else for (let i2 = l2; i2 < h2; i2++) dst[d + i2] = src[s + i2 * t2]!;
    zero(dst, d + h2, d + w);
  }
  zero(dst, dOff + h1 * w, dOff + h * w);
}

/**
 * Runs a product whose operands the lowering writes itself: in place in the WebAssembly GEMM's
 * memory where it takes the product, else into JavaScript scratch matrices, one entry at a time.
 */
function product(like: FloatArray, p: InPlaceProduct<FloatArray>): void {
  if (!(like instanceof Int32Array) && matmulWasmInPlace(like instanceof Float32Array ? "float32" : "float64", p as InPlaceProduct)) return;
  const { m, k, n } = p;
  const a = scratch(like, "a", m * k),
    b = scratch(like, "b", k * n),
    c = scratch(like, "c", m * n);
  if (p.sharedA) p.a(a, 0, 0, p.input, 0);
  if (p.sharedB) p.b(b, 0, 0, p.input, 0);
  for (let e = 0; e < p.batch; e++) {
    if (!p.sharedA) p.a(a, 0, e, p.input, 0);
    if (!p.sharedB) p.b(b, 0, e, p.input, 0);
    matmul(a, b, c, 1, m, k, n);
    p.c(c, 0, e);
  }
}

/**
 * Runs of a gather plan (`gather_wasm_module.ts`), collected in elements and stored in bytes:
 * `copy` and `zero` mirror `move` and `zero`, each repeated `reps` times at the given strides.
 */
class Plan {
  private ints: number[] = [];
  constructor(private readonly bytes: number) {}
  get runs(): number {
    return this.ints.length / RUN_INTS;
  }
  copy(to: number, from: number, count: number, step = 1, reps = 1, toStride = 0, fromStride = 0, toStep = 1): void {
    const E = this.bytes;
    if (count > 0 && reps > 0) this.ints.push(to * E, from * E, count, step * E, reps, toStride * E, fromStride * E, toStep * E);
  }
  zero(to: number, count: number, reps = 1, toStride = 0): void {
    this.copy(to, -1, count, 1, reps, toStride, 0);
  }
  done(): Int32Array {
    return Int32Array.from(this.ints);
  }
}

/** `copyPlane` as plan runs (the whole valid part as one run wherever rows line up, whatever its length). */
function planPlane(
  plan: Plan,
  dOff: number,
  h: number,
  w: number,
  [l1, h1]: Span,
  [l2, h2]: Span,
  sOff: number,
  sw: number,
  t1: number,
  c1: number,
  t2: number,
  c2: number,
): void {
  if (h1 <= l1 || h2 <= l2) return plan.zero(dOff, h * w);
  if (t2 === 1 && t1 * sw === w) {
    const first = l1 * w + l2,
      last = (h1 - 1) * w + h2;
    plan.zero(dOff, first);
    plan.copy(dOff + first, sOff + c1 * sw + c2 + first, last - first);
    plan.zero(dOff + l1 * w + h2, w - h2 + l2, h1 - 1 - l1, w);
    return plan.zero(dOff + last, h * w - last);
  }
  plan.zero(dOff, l1 * w);
  plan.zero(dOff + l1 * w, l2, h1 - l1, w);
  plan.copy(dOff + l1 * w + l2, sOff + (l1 * t1 + c1) * sw + c2 + l2 * t2, h2 - l2, t2, h1 - l1, w, t1 * sw);
  plan.zero(dOff + l1 * w + h2, w - h2, h1 - l1, w);
  plan.zero(dOff + h1 * w, (h - h1) * w);
}

/** Plans by geometry (a training step convolves the same few shapes again and again). */
const plans = new Map<string, { plan: Int32Array; segments: number[] }>();
const PLANS_KEPT = 32;
function cachedPlan(key: string, make: () => { plan: Int32Array; segments: number[] }): { plan: Int32Array; segments: number[] } {
  let p = plans.get(key);
  if (p === undefined) {
    if (plans.size >= PLANS_KEPT) plans.delete(plans.keys().next().value!);
    plans.set(key, (p = make()));
  }
  return p;
}

/** Runs `p` on the wasm gather path where it takes the product (float32/float64 only). */
function gathered(like: FloatArray, p: GatheredProduct<FloatArray>): boolean {
  return !(like instanceof Int32Array) && matmulWasmGathered(like instanceof Float32Array ? "float32" : "float64", p as GatheredProduct);
}

/** The columns lowering: out_n [O, Q] = W [O, C·K] · cols_n [C·K, Q], one batch entry per image. */
function convColumns(lhs: FloatArray, rhs: FloatArray, out: FloatArray, g: ConvGeometry, layout = PLAIN): boolean {
  const [k0, k1, k2] = g.k as [number, number, number];
  const [q0, q1, q2] = g.q as [number, number, number];
  const [s0, s1, s2] = g.s as [number, number, number];
  const [st0, st1, st2] = g.strides as [number, number, number];
  const [rd0, rd1, rd2] = g.rhsDilation as [number, number, number];
  const [lo0, lo1, lo2] = g.lo as [number, number, number];
  const kp = k0 * k1 * k2,
    qp = q0 * q1 * q2,
    sp = s0 * s1 * s2,
    depth = g.c * kp;
  const spans = [0, 1, 2].map((d) => range(g.k[d]!).map((a) => outSpan(g, d, a))) as [Span[], Span[], Span[]];
  // One image's cols as plan runs: the writer below, recorded.
  const columnsPlan = () => {
    const plan = new Plan(lhs.BYTES_PER_ELEMENT);
    let row = 0;
    for (let ch = 0; ch < g.c; ch++) {
      for (let a0 = 0; a0 < k0; a0++) {
        const [u0, v0] = spans[0][a0]!;
        for (let a1 = 0; a1 < k1; a1++) {
          for (let a2 = 0; a2 < k2; a2++, row++) {
            for (let b0 = 0; b0 < q0; b0++) {
              const dst = row * qp + b0 * q1 * q2;
              if (b0 < u0 || b0 >= v0) plan.zero(dst, q1 * q2);
              else
                planPlane(
                  plan,
                  dst,
                  q1,
                  q2,
                  spans[1][a1]!,
                  spans[2][a2]!,
                  (layout.lhs ? ch * g.n : ch) * sp + (b0 * st0 + a0 * rd0 - lo0) * s1 * s2,
                  s2,
                  st1,
                  a1 * rd1 - lo1,
                  st2,
                  a2 * rd2 - lo2,
                );
            }
          }
        }
      }
    }
    return { plan: plan.done(), segments: [0, plan.runs] };
  };
  const done = gathered(lhs, {
    batch: g.n,
    m: g.o,
    k: depth,
    n: qp,
    gathered: "b",
    shared: rhs,
    // W[o, (c, a)] = rhs[c, o, a] when swapped: one run of K elements per (c, o).
    sharedRuns: !layout.rhs
      ? undefined
      : cachedPlan(`columnsKernel:${lhs.BYTES_PER_ELEMENT}:${JSON.stringify(g)}`, () => {
          const plan = new Plan(lhs.BYTES_PER_ELEMENT);
          for (let c = 0; c < g.c; c++) plan.copy(c * kp, c * g.o * kp, kp, 1, g.o, depth, kp);
          return { plan: plan.done(), segments: [] };
        }).plan,
    input: lhs,
    ...cachedPlan(`columns:${lhs.BYTES_PER_ELEMENT}:${+layout.lhs}:${JSON.stringify(g)}`, columnsPlan),
    srcStep: (layout.lhs ? 1 : g.c) * sp,
    c: (view, at) => {
      if (!layout.out) return out.set(view.subarray(at, at + g.n * g.o * qp));
      // C_n [O, Q] -> out[o, n, q]
      for (let n = 0; n < g.n; n++)
        for (let o = 0; o < g.o; o++) out.set(view.subarray(at + (n * g.o + o) * qp, at + (n * g.o + o + 1) * qp), (o * g.n + n) * qp);
    },
  });
  if (done || layout !== PLAIN) return done;
  product(lhs, {
    batch: g.n,
    m: g.o,
    k: depth,
    n: qp,
    sharedA: true,
    input: lhs,
    a: (view, at) => view.set(rhs.subarray(0, g.o * depth), at),
    // cols_e, written where the GEMM reads it.
    b: (cols, at, e, x, from) => {
      let row = 0;
      for (let ch = 0; ch < g.c; ch++) {
        const image = from + (e * g.c + ch) * sp;
        for (let a0 = 0; a0 < k0; a0++) {
          const [u0, v0] = spans[0][a0]!;
          for (let a1 = 0; a1 < k1; a1++) {
            for (let a2 = 0; a2 < k2; a2++, row++) {
              for (let b0 = 0; b0 < q0; b0++) {
                const dst = at + row * qp + b0 * q1 * q2;
                if (b0 < u0 || b0 >= v0) zero(cols, dst, dst + q1 * q2);
                else
                  copyPlane(
                    cols,
                    dst,
                    q1,
                    q2,
                    spans[1][a1]!,
                    spans[2][a2]!,
                    x,
                    image + (b0 * st0 + a0 * rd0 - lo0) * s1 * s2,
                    s2,
                    st1,
                    a1 * rd1 - lo1,
                    st2,
                    a2 * rd2 - lo2,
                  );
              }
            }
          }
        }
      }
    },
    c: (view, at, e) => out.set(view.subarray(at, at + g.o * qp), e * g.o * qp),
  });
  return true;
}

/**
 * The rows lowering: outT [N·Q, O] = colsT [N·Q, C·K] · Wᵀ [C·K, O], the rows cut into batch
 * entries of at most `chunk` elements of colsT each (the last one padded with rows never read).
 */
function convRows(lhs: FloatArray, rhs: FloatArray, out: FloatArray, g: ConvGeometry, chunk: number, layout = PLAIN): boolean {
  const [k0, k1, k2] = g.k as [number, number, number];
  const [q0, q1, q2] = g.q as [number, number, number];
  const [s0, s1, s2] = g.s as [number, number, number];
  const [st0, st1, st2] = g.strides as [number, number, number];
  const [rd0, rd1, rd2] = g.rhsDilation as [number, number, number];
  const [lo0, lo1, lo2] = g.lo as [number, number, number];
  const kp = k0 * k1 * k2,
    qp = q0 * q1 * q2,
    sp = s0 * s1 * s2,
    depth = g.c * kp;
  const total = g.n * qp;
  // Entries of at most `chunk` elements, and, where the product is threaded, enough of them for
  // every thread (an entry is one thread's task: one entry would leave the others idle).
  const threads = matmulWasmTakes(total * depth * g.o) ? matmulThreadsFor(total * depth * g.o) : 1;
  const wanted = Math.min(
    total,
    Math.max(threads > 1 ? TASKS_PER_THREAD * threads : 1, Math.ceil(total / Math.max(1, Math.min(total, Math.floor(chunk / depth))))),
  );
  const per = Math.ceil(total / wanted),
    entries = Math.ceil(total / per);
  // Every entry's rows of colsT as plan runs (one segment each): the writer below, recorded.
  const rowsPlan = () => {
    const plan = new Plan(lhs.BYTES_PER_ELEMENT);
    const segments = [0];
    for (let e = 0; e < entries; e++) {
      const real = Math.min(per, total - e * per);
      plan.zero(real * depth, (per - real) * depth);
      for (let r = 0, flat = e * per; r < real; r++, flat++) {
        const row = r * depth;
        const n = Math.floor(flat / qp),
          q = flat % qp;
        const b0 = Math.floor(q / (q1 * q2)),
          b1 = Math.floor(q / q2) % q1,
          b2 = q % q2;
        const [u0, v0] = tapSpan(g, 0, b0),
          taps1 = tapSpan(g, 1, b1),
          taps2 = tapSpan(g, 2, b2);
        for (let ch = 0; ch < g.c; ch++) {
          const image = (layout.lhs ? ch * g.n + n : n * g.c + ch) * sp;
          for (let a0 = 0; a0 < k0; a0++) {
            const dst = row + (ch * k0 + a0) * k1 * k2;
            if (a0 < u0 || a0 >= v0) plan.zero(dst, k1 * k2);
            else
              planPlane(plan, dst, k1, k2, taps1, taps2, image + (b0 * st0 + a0 * rd0 - lo0) * s1 * s2, s2, rd1, b1 * st1 - lo1, rd2, b2 * st2 - lo2);
          }
        }
      }
      segments.push(plan.runs);
    }
    return { plan: plan.done(), segments };
  };
  // outT[(n, q), o] -> out[n, o, q], or out[o, n, q] when swapped.
  const oStride = layout.out ? total : qp;
  const copyOut = (outT: FloatArray, at: number, e: number, count: number) => {
    for (let r = 0, flat = e * per; r < count && flat < total; r++, flat++) {
      const dst = layout.out ? flat : (flat - (flat % qp)) * g.o + (flat % qp);
      for (let o = 0; o < g.o; o++) out[dst + o * oStride] = outT[at + r * g.o + o]!;
    }
  };
  const done = gathered(lhs, {
    batch: entries,
    m: per,
    k: depth,
    n: g.o,
    gathered: "a",
    // Wᵀ[(c, a), o] = rhs[o, c, a], or rhs[c, o, a] when swapped: rows of O elements read across.
    shared: rhs,
    sharedRuns: cachedPlan(`rowsKernel:${lhs.BYTES_PER_ELEMENT}:${+layout.rhs}:${JSON.stringify(g)}`, () => {
      const plan = new Plan(lhs.BYTES_PER_ELEMENT);
      if (!layout.rhs) plan.copy(0, 0, g.o, depth, depth, g.o, 1);
      else for (let c = 0; c < g.c; c++) plan.copy(c * kp * g.o, c * g.o * kp, g.o, kp, kp, g.o, 1);
      return { plan: plan.done(), segments: [] };
    }).plan,
    input: lhs,
    ...cachedPlan(`rows:${lhs.BYTES_PER_ELEMENT}:${+layout.lhs}:${entries}:${JSON.stringify(g)}`, rowsPlan),
    srcStep: 0,
    c: (outT, at) => copyOut(outT, at, 0, total),
  });
  if (done || layout !== PLAIN) return done;
  product(lhs, {
    batch: entries,
    m: per,
    k: depth,
    n: g.o,
    sharedB: true,
    input: lhs,
    a: (colsT, at, e, x, from) => {
      // The last entry's rows past the end are never read back, but are zeroed: stale memory may
      // hold subnormal floats, which would slow the GEMM down.
      const real = Math.min(per, total - e * per);
      zero(colsT, at + real * depth, at + per * depth);
      for (let r = 0, flat = e * per; r < real; r++, flat++) {
        const row = at + r * depth;
        const n = Math.floor(flat / qp),
          q = flat % qp;
        const b0 = Math.floor(q / (q1 * q2)),
          b1 = Math.floor(q / q2) % q1,
          b2 = q % q2;
        const [u0, v0] = tapSpan(g, 0, b0),
          taps1 = tapSpan(g, 1, b1),
          taps2 = tapSpan(g, 2, b2);
        for (let ch = 0; ch < g.c; ch++) {
          const image = from + (n * g.c + ch) * sp;
          for (let a0 = 0; a0 < k0; a0++) {
            const dst = row + (ch * k0 + a0) * k1 * k2;
            if (a0 < u0 || a0 >= v0) zero(colsT, dst, dst + k1 * k2);
            else
              copyPlane(
                colsT,
                dst,
                k1,
                k2,
                taps1,
                taps2,
                x,
                image + (b0 * st0 + a0 * rd0 - lo0) * s1 * s2,
                s2,
                rd1,
                b1 * st1 - lo1,
                rd2,
                b2 * st2 - lo2,
              );
          }
        }
      }
    },
    b: (wt, at) => transposeInto(rhs, wt, at, g.o, depth),
    c: (outT, at, e) => copyOut(outT, at, e, per),
  });
  return true;
}

/** The shift-add lowering: Z_n [O·K, S] = W' [O·K, C] · x_n [C, S], then out[n, o, q] = Σ_a Z_n[(o, a), pos(q, a)]. */
function convShiftAdd(lhs: FloatArray, rhs: FloatArray, out: FloatArray, g: ConvGeometry): void {
  const [k0, k1, k2] = g.k as [number, number, number];
  const [q1, q2] = [g.q[1]!, g.q[2]!];
  const [s1, s2] = [g.s[1]!, g.s[2]!];
  const kp = k0 * k1 * k2,
    qp = g.q[0]! * q1 * q2,
    sp = g.s[0]! * s1 * s2;
  const zRows = g.o * kp;
  const [T0, T1, T2] = [0, 1, 2].map((d) => range(g.k[d]!).map((a) => taps(g, d, a))) as [Taps[], Taps[], Taps[]];
  const E = lhs.BYTES_PER_ELEMENT,
    key = `${E}:${JSON.stringify(g)}`;
  // The sums below as runs added into out_n (zeroed first), in the same order: the same bits. With
  // lhs dilation in the last dim, a run's output positions are dx2 apart.
  const sumsPlan = () => {
    const plan = new Plan(E);
    plan.zero(0, g.o * qp);
    for (let o = 0, tap = 0; o < g.o; o++)
      for (const [x0, dx0, y0, dy0, c0] of T0)
        for (const [x1, dx1, y1, dy1, c1] of T1)
          for (const [x2, dx2, y2, dy2, c2] of T2) {
            for (let j0 = 0; j0 < c0; j0++) {
              const dst = o * qp + ((x0 + j0 * dx0) * q1 + x1) * q2 + x2;
              const src = tap * sp + ((y0 + j0 * dy0) * s1 + y1) * s2 + y2;
              plan.copy(dst, src, c2, dy2, c1, dx1 * q2, dy1 * s2, dx2);
            }
            tap++;
          }
    return { plan: plan.done(), segments: [] };
  };
  const done = gathered(lhs, {
    batch: g.n,
    m: zRows,
    k: g.c,
    n: sp,
    gathered: "b",
    shared: rhs,
    // W'[(o, a), c] = rhs[o, c, a]: per o, rows of C elements read across.
    sharedRuns: cachedPlan(`shiftAddKernel:${key}`, () => {
      const plan = new Plan(E);
      for (let o = 0; o < g.o; o++) plan.copy(o * kp * g.c, o * g.c * kp, g.c, kp, kp, g.c, 1);
      return { plan: plan.done(), segments: [] };
    }).plan,
    input: lhs,
    ...cachedPlan(`shiftAddInput:${key}`, () => {
      const plan = new Plan(E);
      plan.copy(0, 0, g.c * sp);
      return { plan: plan.done(), segments: [0, plan.runs] };
    }),
    srcStep: g.c * sp,
    post: { plan: cachedPlan(`shiftAddSums:${key}`, sumsPlan).plan, outStep: g.o * qp, length: g.n * g.o * qp },
    c: (view, at) => out.set(view.subarray(at, at + g.n * g.o * qp)),
  });
  if (done) return;
  out.fill(0, 0, g.n * g.o * qp);
  product(lhs, {
    batch: g.n,
    m: zRows,
    k: g.c,
    n: sp,
    sharedA: true,
    input: lhs,
    // W'[(o, a), c] = rhs[o, c, a]
    a: (w, at) => {
      for (let o = 0; o < g.o; o++) transposeInto(rhs.subarray(o * g.c * kp) as FloatArray, w, at + o * kp * g.c, g.c, kp);
    },
    b: (view, at, e, x, from) => move(view, at, x, from + e * g.c * sp, g.c * sp),
    c: (z, at, e) => {
      for (let o = 0; o < g.o; o++) {
        const block = (e * g.o + o) * qp;
        let tap = o * kp;
        for (let a0 = 0; a0 < k0; a0++) {
          const [x0, dx0, y0, dy0, c0] = T0[a0]!;
          for (let a1 = 0; a1 < k1; a1++) {
            const [x1, dx1, y1, dy1, c1] = T1[a1]!;
            for (let a2 = 0; a2 < k2; a2++, tap++) {
              const [x2, dx2, y2, dy2, c2] = T2[a2]!;
              for (let j0 = 0; j0 < c0; j0++) {
                for (let j1 = 0; j1 < c1; j1++) {
                  const dst = block + ((x0 + j0 * dx0) * q1 + x1 + j1 * dx1) * q2 + x2;
                  const src = at + tap * sp + ((y0 + j0 * dy0) * s1 + y1 + j1 * dy1) * s2 + y2;
                  if (dx2 === 1 && dy2 === 1) for (let j2 = 0; j2 < c2; j2++) out[dst + j2] += z[src + j2]!;
                  else for (let j2 = 0; j2 < c2; j2++) out[dst + j2 * dx2] += z[src + j2 * dy2]!;
                }
              }
            }
          }
        }
      }
    },
  });
}
