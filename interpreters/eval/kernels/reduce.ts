/**
 * Reductions and scans on the CPU over a [outer, n, inner] view of the operand: the reduced (or
 * scanned) dims form the middle block. Callers move the reduced axes into one block first.
 */
import type { TypedArray } from "../../../src/core/dtype.js";

export type ReduceOp = "sum" | "max" | "min";

/** Rows summed left to right in one block; longer runs are split in halves and the halves added. */
export const SUM_BLOCK = 64;
const BLOCK = SUM_BLOCK;

/**
 * Reduces the middle dim of the [outer, n, inner] view. Sums are blocked pairwise (in float64):
 * the rounding error grows like log n instead of n, and the order is fixed, so every caller
 * (eager and jit) gets the same bits.
 */
export function reduceKernel(op: ReduceOp, x: TypedArray, out: TypedArray, outer: number, n: number, inner: number): void {
  if (op === "sum") {
    if (inner === 1) {
      // Rows of one block (a softmax over a few classes) call the leaf directly, which V8 inlines;
      // the recursive pairwiseSum is a call per row.
      if (n <= BLOCK) for (let o = 0; o < outer; o++) out[o] = blockSum(x, o * n, n);
      else for (let o = 0; o < outer; o++) out[o] = pairwiseSum(x, o * n, n);
      return;
    }
    const acc = new Float64Array(inner),
      scratch: Float64Array[] = [];
    for (let o = 0; o < outer; o++) {
      pairwiseRows(x, o * n * inner, 0, n, inner, acc, scratch, 0);
      for (let i = 0; i < inner; i++) out[o * inner + i] = acc[i]!;
    }
    return;
  }
  const init = op === "max" ? -Infinity : Infinity;
  if (inner === 1) {
    // One contiguous row per output (a pooling window along the last axis): no accumulator row.
    for (let o = 0; o < outer; o++) out[o] = op === "max" ? rowMax(x, o * n, n) : rowMin(x, o * n, n);
    return;
  }
  const acc = new Float64Array(inner);
  for (let o = 0; o < outer; o++) {
    acc.fill(init);
    const base = o * n * inner;
    for (let r = 0; r < n; r++) {
      const row = base + r * inner;
      if (op === "max")
        for (let i = 0; i < inner; i++) {
          const v = x[row + i]!;
          if (v > acc[i]! || v !== v) acc[i] = v;
        }
      else
        for (let i = 0; i < inner; i++) {
          const v = x[row + i]!;
          if (v < acc[i]! || v !== v) acc[i] = v;
        }
    }
    for (let i = 0; i < inner; i++) out[o * inner + i] = acc[i]!;
  }
}

/**
 * The extremum of x[start .. start + n) by the kernel's rule: scanning in order, an element replaces
 * the running value when it is strictly larger (smaller) or NaN, so a tie keeps the first (the sign
 * of a zero result is the first zero's) and a NaN row gives its last NaN. `Math.max` over four
 * running values finds the value without a branch per element; a zero or NaN result, the only
 * ones whose bits that leaves open, is redone by the rule itself.
 */
function rowMax(x: TypedArray, start: number, n: number): number {
  const end = start + n;
  let m0 = -Infinity,
    m1 = -Infinity,
    m2 = -Infinity,
    m3 = -Infinity,
    k = start;
  for (; k + 4 <= end; k += 4) {
    m0 = Math.max(m0, x[k]!);
    m1 = Math.max(m1, x[k + 1]!);
    m2 = Math.max(m2, x[k + 2]!);
    m3 = Math.max(m3, x[k + 3]!);
  }
  for (; k < end; k++) m0 = Math.max(m0, x[k]!);
  const m = Math.max(Math.max(m0, m1), Math.max(m2, m3));
  return m === m && m !== 0 ? m : ordered(x, start, end, true);
}

/** `rowMax` for the minimum: a twin rather than a parameter, so each loop calls one Math function. */
function rowMin(x: TypedArray, start: number, n: number): number {
  const end = start + n;
  let m0 = Infinity,
    m1 = Infinity,
    m2 = Infinity,
    m3 = Infinity,
    k = start;
  for (; k + 4 <= end; k += 4) {
    m0 = Math.min(m0, x[k]!);
    m1 = Math.min(m1, x[k + 1]!);
    m2 = Math.min(m2, x[k + 2]!);
    m3 = Math.min(m3, x[k + 3]!);
  }
  for (; k < end; k++) m0 = Math.min(m0, x[k]!);
  const m = Math.min(Math.min(m0, m1), Math.min(m2, m3));
  return m === m && m !== 0 ? m : ordered(x, start, end, false);
}

/** The rule itself, element by element, over x[start .. end) (also the jit's wasm rows redo rows by it). */
export function ordered(x: TypedArray, start: number, end: number, max: boolean): number {
  let m = max ? -Infinity : Infinity;
  for (let k = start; k < end; k++) {
    const v = x[k]!;
    if ((max ? v > m : v < m) || v !== v) m = v;
  }
  return m;
}

/**
 * The sum of x[start .. start + n) in blocked pairwise order. A block is summed by four running
 * sums (element k into sum k mod 4, then (s0 + s1) + (s2 + s3)): four independent chains of adds
 * run about four times faster than one, and the error bound is unchanged.
 */
export function pairwiseSum(x: ArrayLike<number>, start: number, n: number): number {
  if (n <= BLOCK) return blockSum(x, start, n);
  const half = n >> 1;
  return pairwiseSum(x, start, half) + pairwiseSum(x, start + half, n - half);
}

/** The sum of one block (n <= SUM_BLOCK) by four running sums, the leaf of `pairwiseSum`. */
function blockSum(x: ArrayLike<number>, start: number, n: number): number {
  let s0 = 0,
    s1 = 0,
    s2 = 0,
    s3 = 0;
  const end = start + n;
  let k = start;
  for (; k + 4 <= end; k += 4) {
    s0 += x[k]!;
    s1 += x[k + 1]!;
    s2 += x[k + 2]!;
    s3 += x[k + 3]!;
  }
  if (k < end) s0 += x[k]!;
  if (k + 1 < end) s1 += x[k + 1]!;
  if (k + 2 < end) s2 += x[k + 2]!;
  return s0 + s1 + (s2 + s3);
}

/** Column sums of rows [r0, r1) (each `inner` wide, from `base`) into `acc`, split as `pairwiseSum` splits. */
function pairwiseRows(
  x: TypedArray,
  base: number,
  r0: number,
  r1: number,
  inner: number,
  acc: Float64Array,
  scratch: Float64Array[],
  depth: number,
): void {
  const n = r1 - r0;
  if (n <= BLOCK) {
    blockColumnSums(x, base + r0 * inner, n, inner, acc);
    return;
  }
  const mid = r0 + (n >> 1);
  pairwiseRows(x, base, r0, mid, inner, acc, scratch, depth + 1);
  const right = (scratch[depth] ??= new Float64Array(inner));
  pairwiseRows(x, base, mid, r1, inner, right, scratch, depth + 1);
  for (let i = 0; i < inner; i++) acc[i] += right[i]!;
}

const NO_COLUMNS = new Float64Array(0);
/** Rows shorter than this are scanned with one running maximum (four cost more to set up and merge). */
const SHORT_ROW = 32;

/** Index of the first extremum along the middle dim (a NaN counts as the extremum). */
export function argReduceKernel(isMax: boolean, x: TypedArray, out: TypedArray, outer: number, n: number, inner: number): void {
  // argmin is argmax of the negated values: ties (±0 included) stay ties and NaN stays NaN.
  const sign = isMax ? 1 : -1;
  const best = inner === 1 ? NO_COLUMNS : new Float64Array(inner);
  for (let o = 0; o < outer; o++) {
    if (inner === 1) {
      out[o] = rowArgmax(x, o * n, n, sign);
      continue;
    }
    // Row by row against every column's best so far, so memory is read in order; a column whose
    // best is NaN keeps it (no comparison with NaN holds).
    const base = o * n * inner,
      first = o * inner;
    for (let i = 0; i < inner; i++) {
      best[i] = sign * x[base + i]!;
      out[first + i] = 0;
    }
    for (let r = 1, row = base + inner; r < n; r++, row += inner)
      for (let i = 0; i < inner; i++) {
        const v = sign * x[row + i]!,
          b = best[i]!;
        if (b === b && (v > b || v !== v)) {
          best[i] = v;
          out[first + i] = r;
        }
      }
  }
}

/**
 * The first index of the largest of sign·x[base .. base + n), or of the first NaN. Four running
 * maxima (elements r ≡ 0, 1, 2, 3 mod 4) that do not wait on each other, merged at the end: equal
 * values (±0 among them) go to the lowest index, as a scan from the left keeps the first.
 */
function rowArgmax(x: TypedArray, base: number, n: number, sign: number): number {
  let b0 = sign * x[base]!;
  if (b0 !== b0) return 0;
  if (n < SHORT_ROW) {
    let at = 0;
    for (let r = 1; r < n; r++) {
      const v = sign * x[base + r]!;
      if (v !== v) return r;
      if (v > b0) {
        b0 = v;
        at = r;
      }
    }
    return at;
  }
  let b1 = b0,
    b2 = b0,
    b3 = b0,
    a0 = 0,
    a1 = 0,
    a2 = 0,
    a3 = 0,
    r = 1;
  for (; r + 3 < n; r += 4) {
    const v0 = sign * x[base + r]!,
      v1 = sign * x[base + r + 1]!,
      v2 = sign * x[base + r + 2]!,
      v3 = sign * x[base + r + 3]!;
    if (v0 !== v0 || v1 !== v1 || v2 !== v2 || v3 !== v3) return r + (v0 !== v0 ? 0 : v1 !== v1 ? 1 : v2 !== v2 ? 2 : 3);
    if (v0 > b0) {
      b0 = v0;
      a0 = r;
    }
    if (v1 > b1) {
      b1 = v1;
      a1 = r + 1;
    }
    if (v2 > b2) {
      b2 = v2;
      a2 = r + 2;
    }
    if (v3 > b3) {
      b3 = v3;
      a3 = r + 3;
    }
  }
  for (; r < n; r++) {
    const v = sign * x[base + r]!;
    if (v !== v) return r;
    if (v > b0) {
      b0 = v;
      a0 = r;
    }
  }
  let best = b0,
    at = a0;
  const merge = (b: number, a: number) => {
    if (b > best || (b === best && a < at)) {
      best = b;
      at = a;
    }
  };
  merge(b1, a1);
  merge(b2, a2);
  merge(b3, a3);
  return at;
}

export function cumsumKernel(x: TypedArray, out: TypedArray, outer: number, n: number, inner: number, reverse: boolean): void {
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++) {
      const base = o * n * inner + i;
      let acc = 0;
      for (let k = 0; k < n; k++) {
        const at = base + (reverse ? n - 1 - k : k) * inner;
        acc += x[at]!;
        out[at] = acc;
      }
    }
  }
}

/** Columns summed at once by `blockColumnSums`: a tile of COLUMN_TILE x SUM_BLOCK float32 stays in L1. */
const COLUMN_TILE = 64;

/**
 * acc[i] = x[at + i] + x[at + inner + i] + ... over `rows` rows, each column added top to bottom
 * from 0. Four columns at a time keep their sums in registers (four independent add chains), where
 * a row-by-row pass would load and store every accumulator once per element; columns go in tiles
 * so the rows of a tile stay in cache however wide the rows are.
 */
function blockColumnSums(x: TypedArray, at: number, rows: number, inner: number, acc: Float64Array): void {
  for (let t = 0; t < inner; t += COLUMN_TILE) {
    const end = Math.min(t + COLUMN_TILE, inner);
    let i = t;
    for (; i + 4 <= end; i += 4) {
      let s0 = 0,
        s1 = 0,
        s2 = 0,
        s3 = 0;
      for (let r = 0, k = at + i; r < rows; r++, k += inner) {
        s0 += x[k]!;
        s1 += x[k + 1]!;
        s2 += x[k + 2]!;
        s3 += x[k + 3]!;
      }
      acc[i] = s0;
      acc[i + 1] = s1;
      acc[i + 2] = s2;
      acc[i + 3] = s3;
    }
    for (; i < end; i++) {
      let s = 0;
      for (let r = 0, k = at + i; r < rows; r++, k += inner) s += x[k]!;
      acc[i] = s;
    }
  }
}
