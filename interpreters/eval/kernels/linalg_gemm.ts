/**
 * The one O(n³) operation of the blocked factorizations (`linalg_blocked.ts`): C -= A·B on strided
 * views of float64 matrices (A and B may be transposed views; C is row-major). Large products run in the WebAssembly SIMD GEMM that
 * `gemm_wasm_module.ts` generates (its own instance and memory here, on the calling thread); small
 * ones, and every product when WebAssembly is unavailable or switched off
 * (`configureMatmul({ wasm: false })`, FLUXION_MATMUL_WASM=0), run in a JavaScript loop.
 *
 * Per chunk of the product (at most CHUNK_M × CHUNK_K × CHUNK_N): A and B are copied into linear
 * memory, B is packed, and C is updated in bands of BAND rows: the GEMM writes the band's product
 * into a buffer, which is subtracted from C. With `lower`, only entries on or below the block's
 * diagonal are needed (the trailing update of a Cholesky factorization), so each band's product
 * stops at the band's last column: half the work.
 *
 *   memory: [scratch (packed A block, edge tile)] [A] [B staging] [packed B] [band product]
 */
import { buildGemmModule, packedBBytes, scratchBytes, type GemmParams } from "./gemm_wasm_module.js";
import { configureMatmul } from "./matmul_engine.js";
import { type WasmMemory, wasmApi } from "../../../src/codegen/wasm_asm.js";

/**
 * A strided view of a float64 matrix: element (i, j) is data[off + i·rs + j·cs]. Row-major blocks
 * have cs = 1; `tr` views one transposed without moving data.
 */
export interface Block {
  readonly data: Float64Array;
  readonly off: number;
  readonly rs: number;
  readonly cs: number;
}

/** The row-major block at `off` with row stride `ld`. */
export const block = (data: Float64Array, off: number, ld: number): Block => ({ data, off, rs: ld, cs: 1 });
/** The sub-block of x starting at its row i, column j. */
export const at = (x: Block, i: number, j: number): Block => ({ ...x, off: x.off + i * x.rs + j * x.cs });
/** xᵀ, as a view. */
export const tr = (x: Block): Block => ({ data: x.data, off: x.off, rs: x.cs, cs: x.rs });

/** Copies the rows×cols block x into dst (row-major from dstOff), reading x along its unit stride. */
function gather(x: Block, rows: number, cols: number, dst: Float64Array, dstOff: number): void {
  const d = x.data;
  if (x.cs === 1) {
    for (let i = 0; i < rows; i++) dst.set(d.subarray(x.off + i * x.rs, x.off + i * x.rs + cols), dstOff + i * cols);
  } else {
    for (let j = 0; j < cols; j++) for (let i = 0, src = x.off + j * x.cs; i < rows; i++) dst[dstOff + i * cols + j] = d[src + i * x.rs]!;
  }
}

type GemmFn = (a: number, bPacked: number, c: number, ldc: number, k: number, n: number, i0: number, i1: number, scratch: number) => void;
type PackBFn = (b: number, k: number, n: number, dst: number) => void;

/** The float64 blocking of `matmul_engine.ts` (2 × 8 register tile), on a private, unshared memory. */
const PARAMS: GemmParams = { dtype: "float64", mr: 2, nv: 4, kc: 256, mc: 128, nc: 1024, fma: false, shared: false, maxPages: 32768 };
const E = 8;
const PAGE = 65536;
/** Rows of C per GEMM call: bounds the product buffer at BAND·n elements. */
const BAND = 128;
/** Smallest m·k·n sent to WebAssembly (the matmul's crossover). */
const MIN_WORK = 1 << 13;
/**
 * Largest rows of A, depth and columns of B copied into linear memory at once: bigger products run
 * in chunks, so the memory stays under 8 MiB for any matrix size (it never shrinks).
 */
const CHUNK_M = 1024,
  CHUNK_K = 256,
  CHUNK_N = 1024;

interface Engine {
  memory: WasmMemory;
  gemm: GemmFn;
  packB: PackBFn;
  scratch: number;
}
let engine: Engine | null = null;
let broken = false;

function getEngine(): Engine | null {
  if (engine !== null || broken) return engine;
  try {
    const wasm = wasmApi;
    if (wasm === undefined) throw new Error("no WebAssembly");
    const memory = new wasm.Memory({ initial: 1, maximum: PARAMS.maxPages });
    const exports = new wasm.Instance(new wasm.Module(buildGemmModule(PARAMS)), { env: { memory } }).exports;
    engine = { memory, gemm: exports.gemm as GemmFn, packB: exports.packB as PackBFn, scratch: 0 };
  } catch {
    broken = true;
  }
  return engine;
}

const align = (x: number): number => Math.ceil(x / 64) * 64;

/** Grows the memory to at least `bytes`; false if it cannot. */
function ensure(e: Engine, bytes: number): boolean {
  const have = e.memory.buffer.byteLength;
  if (bytes <= have) return true;
  if (bytes > PARAMS.maxPages * PAGE) return false;
  try {
    e.memory.grow(Math.ceil((bytes - have) / PAGE));
    return true;
  } catch {
    return false;
  }
}

const paths = { wasm: 0, js: 0 };
/** How many products each path has run since start-up (for tests). */
export const gemmSubPaths = (): { wasm: number; js: number } => ({ ...paths });

/** C[m×n] -= A[m×k]·B[k×n] (C row-major); with `lower`, only the entries (i, j) with j <= i are updated. */
export function gemmSub(c: Block, a: Block, b: Block, m: number, k: number, n: number, lower = false): void {
  if (m === 0 || n === 0 || k === 0) return;
  // Entries (i, j) with j <= i + diag are updated: all of them when diag = n.
  const diag = lower ? 0 : n;
  if (m < 2 || n < 2 || m * k * n < MIN_WORK || !configureMatmul().wasm || getEngine() === null) {
    paths.js++;
    return gemmSubJs(c, a, b, m, k, n, diag);
  }
  paths.wasm++;
  for (let i0 = 0; i0 < m; i0 += CHUNK_M) {
    const mi = Math.min(CHUNK_M, m - i0);
    for (let j0 = 0; j0 < n; j0 += CHUNK_N) {
      const nj = Math.min(CHUNK_N, n - j0),
        d = diag + i0 - j0;
      if (mi - 1 + d < 0) continue;
      for (let p0 = 0; p0 < k; p0 += CHUNK_K) {
        const [ci, ai, bi] = [at(c, i0, j0), at(a, i0, p0), at(b, p0, j0)],
          kp = Math.min(CHUNK_K, k - p0);
        if (!gemmSubWasm(ci, ai, bi, mi, kp, nj, d)) gemmSubJs(ci, ai, bi, mi, kp, nj, d);
      }
    }
  }
}

/** One chunk in WebAssembly; false (nothing done) if the memory cannot grow. */
function gemmSubWasm(c: Block, a: Block, b: Block, m: number, k: number, n: number, diag: number): boolean {
  const e = engine!;
  const aAddr = align(scratchBytes(PARAMS)),
    stage = aAddr + align(m * k * E),
    packed = stage + align(k * n * E),
    prod = packed + align(packedBBytes(PARAMS, k, n));
  const band = Math.min(BAND, m);
  if (!ensure(e, prod + band * n * E)) return false;
  const mem = new Float64Array(e.memory.buffer);
  gather(a, m, k, mem, aAddr / E);
  gather(b, k, n, mem, stage / E);
  e.packB(stage, k, n, packed);
  const cd = c.data,
    pBase = prod / E;
  for (let i0 = 0; i0 < m; i0 += band) {
    const rows = Math.min(band, m - i0),
      cols = Math.min(n, i0 + rows + diag);
    if (cols <= 0) continue;
    e.gemm(aAddr + i0 * k * E, packed, prod, n * E, k, cols, 0, rows, e.scratch);
    for (let r = 0; r < rows; r++) {
      const i = i0 + r,
        end = Math.min(cols, i + diag + 1);
      const ci = c.off + i * c.rs,
        pi = pBase + r * n;
      for (let j = 0; j < end; j++) cd[ci + j] -= mem[pi + j]!;
    }
  }
  return true;
}

function gemmSubJs(c: Block, a: Block, b: Block, m: number, k: number, n: number, diag: number): void {
  const cd = c.data,
    ad = a.data,
    bd = b.data;
  for (let i = 0; i < m; i++) {
    const ci = c.off + i * c.rs,
      ai = a.off + i * a.rs,
      end = Math.min(n, i + diag + 1);
    for (let p = 0; p < k; p++) {
      const f = ad[ai + p * a.cs]!,
        bp = b.off + p * b.rs;
      for (let j = 0; j < end; j++) cd[ci + j] -= f * bd[bp + j * b.cs]!;
    }
  }
}
