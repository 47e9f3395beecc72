/**
 * Batched dense matrix multiply for the eval interpreter. This module owns the numeric kernel for
 * products of concrete row-major buffers, C[b] = A[b] · B[b] for every batch entry, and the
 * scratch memory it uses. It knows nothing about NDArrays, shapes or broadcasting: callers pass
 * flat typed arrays plus (batch, M, K, N).
 *
 * Paths: float32/float64 products of at least `wasmMinWork` multiply-adds with M, N >= 2 -> the
 * WebAssembly SIMD kernel, threaded when large (`matmul_wasm.ts`, `gemm_wasm_module.ts`; about 6x
 * this file's kernel on one thread); matrix-vector products (N = 1) -> `matvec_wasm.ts`, which
 * computes exactly what `matmulNarrow` does, about 3x faster. Otherwise, and whenever WebAssembly is unavailable or switched
 * off (`configureMatmul({ wasm: false })`, FLUXION_MATMUL_WASM=0), the JavaScript kernels below:
 * Int32Array -> exact wrapping loop; N <= 2 -> dot products; M < 4 or K < 4 -> row-wise
 * accumulation without packing; everything else -> the cache-blocked kernel described below.
 * The wasm kernel accumulates float32 products in float32 (as BLAS does); the JavaScript kernel
 * accumulates them in float64.
 */

import { dotStrided } from "./dot_strided.js";
import { copyStrided } from "./strided.js";
import { tileCols } from "./gemm_wasm_module.js";
import { PARAMS } from "./matmul_engine.js";
import { matmulWasm, noteJsPath, noteMatvecPath } from "./matmul_wasm.js";
import { matvecWasm } from "./matvec_wasm.js";

export { configureMatmul, type MatmulConfig } from "./matmul_engine.js";
export { lastMatmulPath, type MatmulPathInfo } from "./matmul_wasm.js";

export type FloatArray = Float32Array | Float64Array | Int32Array;
type Floats = Float32Array | Float64Array;

/*
 * Blocking scheme (floating point). All arithmetic is done in float64 scratch buffers so that the
 * hot loops only ever see Float64Array, whatever the caller's element type (V8 specialises element
 * access per typed-array kind; one kind keeps the inner loops monomorphic). Float32 results are
 * rounded once per depth block when the tile is written back.
 *
 *   for each column block jc of width NC:
 *     for each depth block pc of depth KC:
 *       pack B[pc:pc+KC, jc:jc+NC] into `panelB`     (float64, row stride LD, ~2 MiB at most)
 *       for each group of `rows` rows (8 while possible, then 4, then 1):
 *         pack A[rows, pc:pc+KC] into `packA`         (depth-major: packA[p*rows + r])
 *         zero the tile, then for every 4 depths p..p+3 run the micro-kernel, which holds the
 *         rows x 4 coefficients of A in registers and sweeps j over 4 contiguous rows of
 *         `panelB`, updating `rows` contiguous rows of the tile (together about one L1)
 *         store (first depth block) or add the tile into C
 *
 * The micro-kernel indexes every row with the one loop counter j plus a loop-invariant row
 * offset, so each access costs V8 only an add and a bounds check; the 8 x 4 kernel does 64 flops
 * per 4 loads from B and 8 load/stores of the tile. Depth is zero-padded to a multiple of 4 so no
 * kernel needs a remainder loop, and strides are padded off powers of two (4 KiB aliasing).
 *
 * Block sizes were measured, not derived: the kernel is bound by V8's per-access overhead (index
 * add, overflow and bounds checks) rather than by cache bandwidth, so large blocks that amortise
 * packing, tile stores and kernel calls win; 256..1024 were all within a few percent at 1024^3.
 */

/** Depth of one packed B panel. */
const KC = 512;
/** Width of one packed B panel and of the accumulation tile. */
const NC = 512;
/** Row stride (in elements) of `panelB` and `tile`; deliberately not a power of two. */
const LD = NC + 8;

let panelB = new Float64Array(0);
const packA = new Float64Array(8 * (KC + 3));
const tile = new Float64Array(8 * LD);

/** Columns of the wasm kernel's wide register tile. */
const WIDE_COLS = { float32: tileCols(PARAMS.float32), float64: tileCols(PARAMS.float64) } as const;
type DimensionNumbers = [[number[], number[]], [number[], number[]]];
/**
 * The dimension numbers of C[b] = A[b] · B[b] on [batch, m, k] and [batch, k, n], one object per
 * product shape: `dotStrided` keeps its plan on that object, so each shape is planned once.
 */
const batchedDims = new Map<string, DimensionNumbers>();
function batched(dtype: string, batch: number, m: number, k: number, n: number, transposedA: boolean, transposedB: boolean): DimensionNumbers {
  const key = `${dtype} ${batch} ${m} ${k} ${n} ${transposedA} ${transposedB}`;
  let d = batchedDims.get(key);
  if (d === undefined) {
    if (batchedDims.size >= 256) batchedDims.clear();
    batchedDims.set(
      key,
      (d = [
        [[transposedA ? 1 : 2], [transposedB ? 2 : 1]],
        [[0], [0]],
      ]),
    );
  }
  return d;
}

/**
 * Batched row-major matrix multiply: for each b in [0, batch):
 *   C[b] (M x N) = A[b] (M x K) · B[b] (K x N)
 * A has batch*M*K elements, B batch*K*N, C batch*M*N (C is fully overwritten, not accumulated).
 * All three arrays have the same element type. For Int32Array inputs, the result is the exact
 * integer product wrapped to int32. With `transposedA`, each A[b] is stored transposed (K x M), with
 * `transposedB` each B[b] (N x K): the kernels read them in those layouts where they can, with the
 * bits of transposing them first.
 */
export function matmul(
  a: FloatArray,
  b: FloatArray,
  c: FloatArray,
  batch: number,
  m: number,
  k: number,
  n: number,
  transposedA = false,
  transposedB = false,
): void {
  for (const [name, v] of [
    ["batch", batch],
    ["m", m],
    ["k", k],
    ["n", n],
  ] as const) {
    if (!Number.isInteger(v) || v < 0) throw new RangeError(`matmul: ${name} must be a non-negative integer, got ${v}`);
  }
  if (a.length < batch * m * k || b.length < batch * k * n || c.length < batch * m * n) {
    throw new RangeError(`matmul: buffers too short for batch=${batch} m=${m} k=${k} n=${n}`);
  }
  if (a.constructor !== c.constructor || b.constructor !== c.constructor) {
    throw new TypeError("matmul: a, b and c must have the same element type");
  }
  if (batch * m * n === 0) return;
  if (k === 0) {
    c.fill(0, 0, batch * m * n);
    return;
  }
  if (!(c instanceof Int32Array)) {
    // At most half the wide register tile's columns: the strided path picks the tile (and orientation).
    const dtype = c instanceof Float32Array ? "float32" : "float64";
    if (
      n > 1 &&
      2 * n <= WIDE_COLS[dtype] &&
      dotStrided(
        a as Floats,
        transposedA ? [batch, k, m] : [batch, m, k],
        b as Floats,
        transposedB ? [batch, n, k] : [batch, k, n],
        ...batched(dtype, batch, m, k, n, transposedA, transposedB),
        c as Floats,
      )
    )
      return;
    if (matmulWasm(a as Float32Array | Float64Array, b as Float32Array | Float64Array, c, batch, m, k, n, transposedA, transposedB)) return;
  }
  if (transposedA || transposedB) {
    // The other kernels read A and B row-major.
    const rowMajor = (x: FloatArray, rows: number, cols: number) => {
      const t = new (x.constructor as new (n: number) => FloatArray)(batch * rows * cols);
      copyStrided(x, 0, [rows * cols, 1, rows], t, 0, [rows * cols, cols, 1], [batch, rows, cols]);
      return t;
    };
    matmul(transposedA ? rowMajor(a, m, k) : a, transposedB ? rowMajor(b, k, n) : b, c, batch, m, k, n);
    return;
  }
  if (!(c instanceof Int32Array)) {
    if (n === 1 && matvecWasm(a as Float32Array | Float64Array, b as Float32Array | Float64Array, c, batch, m, k)) {
      noteMatvecPath();
      return;
    }
    noteJsPath();
  }
  for (let bi = 0; bi < batch; bi++) {
    const aOff = bi * m * k,
      bOff = bi * k * n,
      cOff = bi * m * n;
    if (c instanceof Int32Array) matmulInt32(a as Int32Array, aOff, b as Int32Array, bOff, c, cOff, m, k, n);
    else if (n <= 2) matmulNarrow(a, aOff, b, bOff, c, cOff, m, k, n);
    else if (m < 4 || k < 4) matmulRowwise(a, aOff, b, bOff, c, cOff, m, k, n);
    else matmulBlocked(a, aOff, b, bOff, c, cOff, m, k, n);
  }
}

/** Exact int32 product (wrapping), i-k-j order so the inner loop runs over contiguous rows. */
function matmulInt32(a: Int32Array, aOff: number, b: Int32Array, bOff: number, c: Int32Array, cOff: number, m: number, k: number, n: number): void {
  c.fill(0, cOff, cOff + m * n);
  for (let i = 0; i < m; i++) {
    const ci = cOff + i * n;
    for (let p = 0; p < k; p++) {
      const aip = a[aOff + i * k + p];
      if (aip === 0) continue;
      const bp = bOff + p * n;
      for (let j = 0; j < n; j++) c[ci + j] = (c[ci + j] + Math.imul(aip, b[bp + j])) | 0;
    }
  }
}

/**
 * N of 1 or 2 (matrix-vector): dot products of contiguous A rows with a B column, 4 partial sums.
 * Packing would cost as much as the product itself here.
 */
function matmulNarrow(a: FloatArray, aOff: number, b: FloatArray, bOff: number, c: FloatArray, cOff: number, m: number, k: number, n: number): void {
  const n2 = 2 * n,
    n3 = 3 * n,
    n4 = 4 * n;
  for (let i = 0; i < m; i++) {
    const ai = aOff + i * k;
    for (let j = 0; j < n; j++) {
      let s0 = 0,
        s1 = 0,
        s2 = 0,
        s3 = 0,
        p = 0,
        q = bOff + j;
      for (; p + 4 <= k; p += 4, q += n4) {
        s0 += a[ai + p] * b[q];
        s1 += a[ai + p + 1] * b[q + n];
        s2 += a[ai + p + 2] * b[q + n2];
        s3 += a[ai + p + 3] * b[q + n3];
      }
      for (; p < k; p++, q += n) s0 += a[ai + p] * b[q];
      c[cOff + i * n + j] = s0 + s1 + (s2 + s3);
    }
  }
}

/**
 * Few rows (M < 4, e.g. vector-matrix) or shallow depth (K < 4, e.g. outer products). With few rows
 * each B element is used at most 3 times, so packing B would cost as much as the product; with
 * shallow depth, padding K to 4 would multiply the work. Each C row is accumulated in a float64
 * strip from 4 rows of B at a time, read in place.
 */
function matmulRowwise(a: FloatArray, aOff: number, b: FloatArray, bOff: number, c: FloatArray, cOff: number, m: number, k: number, n: number): void {
  const acc = tile;
  const width = tile.length;
  for (let i = 0; i < m; i++) {
    const ai = aOff + i * k;
    for (let j0 = 0; j0 < n; j0 += width) {
      const nb = Math.min(width, n - j0);
      acc.fill(0, 0, nb);
      let p = 0;
      for (; p + 4 <= k; p += 4) {
        const a0 = a[ai + p],
          a1 = a[ai + p + 1],
          a2 = a[ai + p + 2],
          a3 = a[ai + p + 3];
        const o0 = bOff + p * n + j0,
          o1 = o0 + n,
          o2 = o1 + n,
          o3 = o2 + n;
        for (let j = 0; j < nb; j++) acc[j] += a0 * b[o0 + j] + a1 * b[o1 + j] + a2 * b[o2 + j] + a3 * b[o3 + j];
      }
      for (; p < k; p++) {
        const a0 = a[ai + p],
          o0 = bOff + p * n + j0;
        for (let j = 0; j < nb; j++) acc[j] += a0 * b[o0 + j];
      }
      const co = cOff + i * n + j0;
      for (let j = 0; j < nb; j++) c[co + j] = acc[j];
    }
  }
}

/** Cache-blocked float path; see the blocking scheme at the top of the file. */
function matmulBlocked(a: FloatArray, aOff: number, b: FloatArray, bOff: number, c: FloatArray, cOff: number, m: number, k: number, n: number): void {
  const panelSize = (KC + 3) * LD;
  if (panelB.length < panelSize) panelB = new Float64Array(panelSize);
  for (let jc = 0; jc < n; jc += NC) {
    const nc = Math.min(NC, n - jc);
    for (let pc = 0; pc < k; pc += KC) {
      const kc = Math.min(KC, k - pc);
      const kcPad = (kc + 3) & ~3;
      packPanelB(b, bOff + pc * n + jc, n, kc, kcPad, nc, panelB);
      for (let ic = 0; ic < m;) {
        const left = m - ic;
        const rows = left >= 8 ? 8 : left >= 4 ? 4 : 1;
        packRowsA(a, aOff + ic * k + pc, k, rows, kc, kcPad, packA);
        tile.fill(0, 0, rows * LD);
        for (let p = 0; p < kcPad; p += 4) {
          if (rows === 8) kernel8x4(tile, panelB, p * LD, packA, p * 8, nc);
          else if (rows === 4) kernel4x4(tile, panelB, p * LD, packA, p * 4, nc);
          else kernel1x4(tile, panelB, p * LD, packA, p, nc);
        }
        storeTile(c, cOff + ic * n + jc, n, rows, nc, pc === 0);
        ic += rows;
      }
    }
  }
}

/** Copies a kc x nc block of B (row stride ldb) into `dst` (row stride LD) as float64, zero rows to kcPad. */
function packPanelB(b: FloatArray, off: number, ldb: number, kc: number, kcPad: number, nc: number, dst: Float64Array): void {
  for (let p = 0; p < kc; p++) {
    const src = off + p * ldb,
      d = p * LD;
    for (let j = 0; j < nc; j++) dst[d + j] = b[src + j];
  }
  for (let p = kc; p < kcPad; p++) dst.fill(0, p * LD, p * LD + nc);
}

/** Copies rows x kc of A (row stride lda) into `dst` depth-major (dst[p*rows + r]), zero depth to kcPad. */
function packRowsA(a: FloatArray, off: number, lda: number, rows: number, kc: number, kcPad: number, dst: Float64Array): void {
  for (let r = 0; r < rows; r++) {
    const src = off + r * lda;
    for (let p = 0; p < kc; p++) dst[p * rows + r] = a[src + p];
  }
  dst.fill(0, kc * rows, kcPad * rows);
}

/** Writes (first depth block) or adds the first `rows` x nc of `tile` into C (row stride ldc). */
function storeTile(c: FloatArray, off: number, ldc: number, rows: number, nc: number, first: boolean): void {
  for (let r = 0; r < rows; r++) {
    const d = off + r * ldc,
      s = r * LD;
    if (first) for (let j = 0; j < nc; j++) c[d + j] = tile[s + j];
    else for (let j = 0; j < nc; j++) c[d + j] += tile[s + j];
  }
}

/** tile[0..8) += A coefficients (8 rows x 4 depths, packed at ao) times panel rows bo..bo+3, over j < n. */
function kernel8x4(t: Float64Array, bp: Float64Array, bo: number, ap: Float64Array, ao: number, n: number): void {
  const a00 = ap[ao],
    a10 = ap[ao + 1],
    a20 = ap[ao + 2],
    a30 = ap[ao + 3];
  const a40 = ap[ao + 4],
    a50 = ap[ao + 5],
    a60 = ap[ao + 6],
    a70 = ap[ao + 7];
  const a01 = ap[ao + 8],
    a11 = ap[ao + 9],
    a21 = ap[ao + 10],
    a31 = ap[ao + 11];
  const a41 = ap[ao + 12],
    a51 = ap[ao + 13],
    a61 = ap[ao + 14],
    a71 = ap[ao + 15];
  const a02 = ap[ao + 16],
    a12 = ap[ao + 17],
    a22 = ap[ao + 18],
    a32 = ap[ao + 19];
  const a42 = ap[ao + 20],
    a52 = ap[ao + 21],
    a62 = ap[ao + 22],
    a72 = ap[ao + 23];
  const a03 = ap[ao + 24],
    a13 = ap[ao + 25],
    a23 = ap[ao + 26],
    a33 = ap[ao + 27];
  const a43 = ap[ao + 28],
    a53 = ap[ao + 29],
    a63 = ap[ao + 30],
    a73 = ap[ao + 31];
  const b1o = bo + LD,
    b2o = bo + 2 * LD,
    b3o = bo + 3 * LD;
  const t1 = LD,
    t2 = 2 * LD,
    t3 = 3 * LD,
    t4 = 4 * LD,
    t5 = 5 * LD,
    t6 = 6 * LD,
    t7 = 7 * LD;
  for (let j = 0; j < n; j++) {
    const b0 = bp[bo + j],
      b1 = bp[b1o + j],
      b2 = bp[b2o + j],
      b3 = bp[b3o + j];
    t[j] += a00 * b0 + a01 * b1 + a02 * b2 + a03 * b3;
    t[t1 + j] += a10 * b0 + a11 * b1 + a12 * b2 + a13 * b3;
    t[t2 + j] += a20 * b0 + a21 * b1 + a22 * b2 + a23 * b3;
    t[t3 + j] += a30 * b0 + a31 * b1 + a32 * b2 + a33 * b3;
    t[t4 + j] += a40 * b0 + a41 * b1 + a42 * b2 + a43 * b3;
    t[t5 + j] += a50 * b0 + a51 * b1 + a52 * b2 + a53 * b3;
    t[t6 + j] += a60 * b0 + a61 * b1 + a62 * b2 + a63 * b3;
    t[t7 + j] += a70 * b0 + a71 * b1 + a72 * b2 + a73 * b3;
  }
}

/** As kernel8x4 for 4 rows. */
function kernel4x4(t: Float64Array, bp: Float64Array, bo: number, ap: Float64Array, ao: number, n: number): void {
  const a00 = ap[ao],
    a10 = ap[ao + 1],
    a20 = ap[ao + 2],
    a30 = ap[ao + 3];
  const a01 = ap[ao + 4],
    a11 = ap[ao + 5],
    a21 = ap[ao + 6],
    a31 = ap[ao + 7];
  const a02 = ap[ao + 8],
    a12 = ap[ao + 9],
    a22 = ap[ao + 10],
    a32 = ap[ao + 11];
  const a03 = ap[ao + 12],
    a13 = ap[ao + 13],
    a23 = ap[ao + 14],
    a33 = ap[ao + 15];
  const b1o = bo + LD,
    b2o = bo + 2 * LD,
    b3o = bo + 3 * LD;
  const t1 = LD,
    t2 = 2 * LD,
    t3 = 3 * LD;
  for (let j = 0; j < n; j++) {
    const b0 = bp[bo + j],
      b1 = bp[b1o + j],
      b2 = bp[b2o + j],
      b3 = bp[b3o + j];
    t[j] += a00 * b0 + a01 * b1 + a02 * b2 + a03 * b3;
    t[t1 + j] += a10 * b0 + a11 * b1 + a12 * b2 + a13 * b3;
    t[t2 + j] += a20 * b0 + a21 * b1 + a22 * b2 + a23 * b3;
    t[t3 + j] += a30 * b0 + a31 * b1 + a32 * b2 + a33 * b3;
  }
}

/** As kernel8x4 for a single row (M remainder, vector-matrix products). */
function kernel1x4(t: Float64Array, bp: Float64Array, bo: number, ap: Float64Array, ao: number, n: number): void {
  const a0 = ap[ao],
    a1 = ap[ao + 1],
    a2 = ap[ao + 2],
    a3 = ap[ao + 3];
  const b1o = bo + LD,
    b2o = bo + 2 * LD,
    b3o = bo + 3 * LD;
  for (let j = 0; j < n; j++) t[j] += a0 * bp[bo + j] + a1 * bp[b1o + j] + a2 * bp[b2o + j] + a3 * bp[b3o + j];
}
