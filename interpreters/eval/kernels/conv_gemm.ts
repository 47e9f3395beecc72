/**
 * Fast CPU convolutions for the common case: one feature group, one batch group (strides, window
 * dilation and any padding allowed; lhs dilation only in shift-add, in dims without a stride, which
 * is the input gradient of a strided conv). Each is one batched call of the shared matmul per
 * cache-sized chunk of images or rows, so it runs on the WebAssembly kernel and its threads, plus
 * one pass of JavaScript data movement. Three lowerings, chosen per geometry by an estimate of
 * their cost (`convGemm`):
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
import type { ConvGeometry } from "./conv.js";
import { type FloatArray, matmul } from "./matmul.js";

/**
 * Most elements in one chunk's scratch matrix (cols, colsT or Z) by default; batches are cut to
 * fit. Small enough that the matrix is still in cache when the matmul copies and packs it: on the
 * W7 bench 2^19 measured 11-15 ms, 2^22 (everything in one chunk) 18-23 ms, 2^17 16-20 ms.
 */
const CHUNK_ELEMENTS = 1 << 19;
/** Below this many output positions per image the rows lowering is used (a narrow GEMM otherwise). */
const ROWS_BELOW_Q = 64;
/** Shortest plane worth one contiguous copy (`subarray` + `set`) instead of an element loop. */
const CONTIGUOUS_MIN = 64;
/**
 * Costs relative to one JavaScript element loop step (an add or a strided move), measured: a
 * multiply-add inside the GEMM, and a move within a contiguous plane copy (memcpy, then copied and
 * packed once more by the matmul).
 */
const MAC_COST = 0.05;
const RUN_COST = 0.25;

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
 * `chunk` caps the elements of each chunk's scratch matrix (at least one image or row per chunk).
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
  const im2col = g.n * depth * qp * (contiguous ? RUN_COST : 1) + g.n * g.o * depth * qp * MAC_COST;
  const hits = kp / (g.lhsDilation[0]! * g.lhsDilation[1]! * g.lhsDilation[2]!);
  const shiftAdd = g.n * g.o * hits * qp + g.n * g.o * kp * g.c * sp * MAC_COST;
  lowering ??= dilated || shiftAdd < im2col ? "shiftAdd" : rows ? "rows" : "columns";
  if (lowering === "shiftAdd") convShiftAdd(lhs, rhs, out, g, chunk);
  else if (lowering === "rows") convRows(lhs, rhs, out, g, chunk);
  else convColumns(lhs, rhs, out, g, chunk);
  return true;
}

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

/** Writes `w` [rows, cols] transposed into the start of `dst` ([cols, rows]). */
function transposeInto(w: FloatArray, dst: FloatArray, rows: number, cols: number): void {
  // Writes in order; the reads run along `rows` sequential streams.
  for (let c = 0, d = 0; c < cols; c++) for (let r = 0; r < rows; r++, d++) dst[d] = w[r * cols + c]!;
}

/**
 * dst[i1 * w + i2] = src[sOff + (i1 * t1 + c1) * sw + i2 * t2 + c2] for i1 in [l1, h1) and i2 in
 * [l2, h2): one plane of a window gather (the caller has zeroed dst, so padding stays zero). When
 * rows line up (t2 = 1, t1 * sw = w, as in any stride-1 conv whose output is as wide as its input)
 * the whole plane is one contiguous run, copied at memcpy speed, after which the neighbours it
 * also carried between valid stretches are zeroed again.
 */
function copyPlane(
  dst: FloatArray,
  dOff: number,
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
  if (h1 <= l1 || h2 <= l2) return;
  if (t2 === 1 && t1 * sw === w && (h1 - l1) * w >= CONTIGUOUS_MIN) {
    const first = l1 * w + l2,
      last = (h1 - 1) * w + h2,
      shift = sOff + c1 * sw + c2;
    dst.set(src.subarray(shift + first, shift + last), dOff + first);
    for (let i1 = l1; i1 < h1 - 1; i1++) for (let j = dOff + i1 * w + h2, end = dOff + (i1 + 1) * w + l2; j < end; j++) dst[j] = 0;
    return;
  }
  for (let i1 = l1; i1 < h1; i1++) {
    const s = sOff + (i1 * t1 + c1) * sw + c2,
      d = dOff + i1 * w;
    if (t2 === 1) for (let i2 = l2; i2 < h2; i2++) dst[d + i2] = src[s + i2]!;
    else for (let i2 = l2; i2 < h2; i2++) dst[d + i2] = src[s + i2 * t2]!;
  }
}

/** The columns lowering: out_n [O, Q] = W [O, C·K] · cols_n [C·K, Q], images in chunks. */
function convColumns(lhs: FloatArray, rhs: FloatArray, out: FloatArray, g: ConvGeometry, chunk: number): void {
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
  const per = Math.max(1, Math.min(g.n, Math.floor(chunk / (depth * qp))));
  // The matmul takes one A per batch entry: repeat the kernel.
  const w = scratch(rhs, "w", per * g.o * depth);
  for (let e = 0; e < per; e++) w.set(rhs.subarray(0, g.o * depth), e * g.o * depth);
  const spans = [0, 1, 2].map((d) => range(g.k[d]!).map((a) => outSpan(g, d, a))) as [Span[], Span[], Span[]];
  for (let n0 = 0; n0 < g.n; n0 += per) {
    const entries = Math.min(per, g.n - n0);
    const cols = scratch(lhs, "cols", entries * depth * qp);
    cols.fill(0);
    let row = 0;
    for (let e = 0; e < entries; e++) {
      for (let ch = 0; ch < g.c; ch++) {
        const image = ((n0 + e) * g.c + ch) * sp;
        for (let a0 = 0; a0 < k0; a0++) {
          const [u0, v0] = spans[0][a0]!;
          for (let a1 = 0; a1 < k1; a1++) {
            for (let a2 = 0; a2 < k2; a2++, row++) {
              for (let b0 = u0; b0 < v0; b0++) {
                const src = image + (b0 * st0 + a0 * rd0 - lo0) * s1 * s2;
                copyPlane(cols, row * qp + b0 * q1 * q2, q2, spans[1][a1]!, spans[2][a2]!, lhs, src, s2, st1, a1 * rd1 - lo1, st2, a2 * rd2 - lo2);
              }
            }
          }
        }
      }
    }
    const dst = out.subarray(n0 * g.o * qp, (n0 + entries) * g.o * qp);
    matmul(w, cols, dst as FloatArray, entries, g.o, depth, qp);
  }
}

/** The rows lowering: outT [N·Q, O] = colsT [N·Q, C·K] · Wᵀ [C·K, O], output positions in chunks. */
function convRows(lhs: FloatArray, rhs: FloatArray, out: FloatArray, g: ConvGeometry, chunk: number): void {
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
  const wt = scratch(rhs, "wt", depth * g.o);
  transposeInto(rhs, wt, g.o, depth);
  const total = g.n * qp;
  const per = Math.max(1, Math.min(total, Math.floor(chunk / depth)));
  for (let r0 = 0; r0 < total; r0 += per) {
    const count = Math.min(per, total - r0);
    const colsT = scratch(lhs, "cols", count * depth);
    colsT.fill(0);
    for (let r = 0; r < count; r++) {
      const flat = r0 + r,
        n = Math.floor(flat / qp),
        q = flat % qp;
      const b0 = Math.floor(q / (q1 * q2)),
        b1 = Math.floor(q / q2) % q1,
        b2 = q % q2;
      const [u0, v0] = tapSpan(g, 0, b0),
        taps1 = tapSpan(g, 1, b1),
        taps2 = tapSpan(g, 2, b2);
      for (let ch = 0; ch < g.c; ch++) {
        const image = (n * g.c + ch) * sp;
        for (let a0 = u0; a0 < v0; a0++) {
          const src = image + (b0 * st0 + a0 * rd0 - lo0) * s1 * s2;
          copyPlane(colsT, r * depth + (ch * k0 + a0) * k1 * k2, k2, taps1, taps2, lhs, src, s2, rd1, b1 * st1 - lo1, rd2, b2 * st2 - lo2);
        }
      }
    }
    const outT = scratch(out, "outT", count * g.o);
    matmul(colsT, wt, outT, 1, count, depth, g.o);
    // outT[(n, q), o] -> out[n, o, q]
    for (let r = 0; r < count; r++) {
      const flat = r0 + r,
        dst = (flat - (flat % qp)) * g.o + (flat % qp);
      for (let o = 0; o < g.o; o++) out[dst + o * qp] = outT[r * g.o + o]!;
    }
  }
}

/** The shift-add lowering: Z_n [O·K, S] = W' [O·K, C] · x_n [C, S], then out[n, o, q] = Σ_a Z_n[(o, a), pos(q, a)]. */
function convShiftAdd(lhs: FloatArray, rhs: FloatArray, out: FloatArray, g: ConvGeometry, chunk: number): void {
  const [k0, k1, k2] = g.k as [number, number, number];
  const [q1, q2] = [g.q[1]!, g.q[2]!];
  const [s1, s2] = [g.s[1]!, g.s[2]!];
  const kp = k0 * k1 * k2,
    qp = g.q[0]! * q1 * q2,
    sp = g.s[0]! * s1 * s2;
  const zRows = g.o * kp;
  const per = Math.max(1, Math.min(g.n, Math.floor(chunk / (zRows * sp))));
  // W'[(o, a), c] = rhs[o, c, a], repeated once per batch entry of the matmul.
  const w = scratch(rhs, "w", per * zRows * g.c);
  for (let o = 0; o < g.o; o++) transposeInto(rhs.subarray(o * g.c * kp) as FloatArray, w.subarray(o * kp * g.c) as FloatArray, g.c, kp);
  for (let e = 1; e < per; e++) w.copyWithin(e * zRows * g.c, 0, zRows * g.c);
  const [T0, T1, T2] = [0, 1, 2].map((d) => range(g.k[d]!).map((a) => taps(g, d, a))) as [Taps[], Taps[], Taps[]];
  out.fill(0, 0, g.n * g.o * qp);
  for (let n0 = 0; n0 < g.n; n0 += per) {
    const entries = Math.min(per, g.n - n0);
    const z = scratch(out, "z", entries * zRows * sp);
    matmul(w, lhs.subarray(n0 * g.c * sp, (n0 + entries) * g.c * sp) as FloatArray, z, entries, zRows, g.c, sp);
    for (let e = 0; e < entries; e++) {
      for (let o = 0; o < g.o; o++) {
        const block = ((n0 + e) * g.o + o) * qp;
        let tap = (e * g.o + o) * kp;
        for (let a0 = 0; a0 < k0; a0++) {
          const [x0, dx0, y0, dy0, c0] = T0[a0]!;
          for (let a1 = 0; a1 < k1; a1++) {
            const [x1, dx1, y1, dy1, c1] = T1[a1]!;
            for (let a2 = 0; a2 < k2; a2++, tap++) {
              const [x2, dx2, y2, dy2, c2] = T2[a2]!;
              for (let j0 = 0; j0 < c0; j0++) {
                for (let j1 = 0; j1 < c1; j1++) {
                  const dst = block + ((x0 + j0 * dx0) * q1 + x1 + j1 * dx1) * q2 + x2;
                  const src = tap * sp + ((y0 + j0 * dy0) * s1 + y1 + j1 * dy1) * s2 + y2;
                  if (dx2 === 1 && dy2 === 1) for (let j2 = 0; j2 < c2; j2++) out[dst + j2] += z[src + j2]!;
                  else for (let j2 = 0; j2 < c2; j2++) out[dst + j2 * dx2] += z[src + j2 * dy2]!;
                }
              }
            }
          }
        }
      }
    }
  }
}
