/**
 * The tiled matmul of dot_general: out[b, m, n] = sum_k A[b, m, k] B[b, k, n], where A and B are
 * read through strides (so a transposed operand needs no copy when its dims merge) and out is
 * contiguous. A 16x16 workgroup computes a 64x64 output tile, each thread a 4x4 register block
 * (rows ty + 16 i, columns tx + 16 j), stepping K in 16-wide tiles staged in workgroup memory.
 * Large products on GPUs take a 128x128-tile kernel with 8x8 blocks and double buffering, and
 * software adapters a kernel without barriers (`kernelOf` picks).
 *
 * K is split into chunks of at most `K_CHUNK`, one dispatch each, every chunk after the first adding
 * onto the output: no invocation loops more than K_CHUNK times, which keeps long contractions right
 * on drivers that stop shader loops after 65,535 iterations (see self_check.ts).
 *
 * Each result goes through the kernel's epilogue, `epi(i, d)`: a store, or, for a product the jit
 * fuses with the elementwise equations that read it, those equations at index i.
 */
import type { DType } from "../../../src/core/dtype.js";
import type { GpuArray } from "../array.js";
import type { Binding, GpuContext } from "../context.js";
import type { T } from "./reduce.js";
import { int } from "../../../src/codegen/tokens.js";
import { WGSL_HELPERS, paramsDecl, storageDecl, wgslType } from "../wgsl.js";

/** What every product kernel declares: A, B, the epilogue's bindings and the parameter block. */
const productDecls = (t: T, epi: Epilogue) => `${WGSL_HELPERS}
${storageDecl(0, "A", t, false)}
${storageDecl(1, "B", t, false)}
${epi.decls}
${paramsDecl()}`;

/** The parameters every product kernel reads first: sizes, K's start, the batch entry, strides. */
const PRODUCT_PARAMS = `  let M = prm(0u); let N = prm(1u); let K = prm(2u); let kStart = prm(10u);
  let b = wid.z + prm(9u);
  let aBase = b * prm(3u); let sAm = prm(4u); let sAk = prm(5u);
  let bBase = b * prm(6u); let sBk = prm(7u); let sBn = prm(8u);`;

/** The tiled kernel for GPUs (the module comment). */
function tiledSource(t: T, epi: Epilogue): string {
  return `${productDecls(t, epi)}
var<workgroup> As: array<${t}, 1024>;
var<workgroup> Bs: array<${t}, 1024>;
@compute @workgroup_size(16, 16) fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_id) lid: vec3u) {
${PRODUCT_PARAMS}
  let row0 = wid.y * 64u; let col0 = wid.x * 64u;
  let tx = lid.x; let ty = lid.y;
  let tid = ty * 16u + tx;
  var acc: array<${t}, 16>;
  for (var i = 0u; i < 16u; i = i + 1u) { acc[i] = ${t}(0); }
  for (var k0 = kStart; k0 < K; k0 = k0 + 16u) {
    for (var l = 0u; l < 4u; l = l + 1u) {
      let e = tid + l * 256u;
      let m = e / 16u; let kk = e % 16u;
      let gm = row0 + m; let gk = k0 + kk;
      var va = ${t}(0);
      if (gm < M && gk < K) { va = A[aBase + gm * sAm + gk * sAk]; }
      As[kk * 64u + m] = va;
      let kb = e / 64u; let nb = e % 64u;
      let gk2 = k0 + kb; let gn = col0 + nb;
      var vb = ${t}(0);
      if (gk2 < K && gn < N) { vb = B[bBase + gk2 * sBk + gn * sBn]; }
      Bs[kb * 64u + nb] = vb;
    }
    workgroupBarrier();
    for (var kk = 0u; kk < 16u; kk = kk + 1u) {
      var a: array<${t}, 4>;
      var bv: array<${t}, 4>;
      for (var i = 0u; i < 4u; i = i + 1u) { a[i] = As[kk * 64u + ty + 16u * i]; bv[i] = Bs[kk * 64u + tx + 16u * i]; }
      for (var i = 0u; i < 4u; i = i + 1u) {
        for (var j = 0u; j < 4u; j = j + 1u) { acc[i * 4u + j] = acc[i * 4u + j] + a[i] * bv[j]; }
      }
    }
    workgroupBarrier();
  }
  let oBase = b * M * N;
  for (var i = 0u; i < 4u; i = i + 1u) {
    let gm = row0 + ty + 16u * i;
    if (gm >= M) { continue; }
    for (var j = 0u; j < 4u; j = j + 1u) {
      let gn = col0 + tx + 16u * j;
      if (gn < N) { epi(oBase + gm * N + gn, acc[i * 4u + j]); }
    }
  }
}`;
}

/**
 * The large-product kernel for GPUs: a 16x16 workgroup computes a 128x128 output tile, each thread
 * an 8x8 block (rows 4ty..4ty+3 and 64+4ty.., columns likewise with tx) held as sixteen vec4
 * accumulators, so that each step of k reads two vec4s of A and two of B from workgroup memory for
 * 64 multiply-adds (the 64x64 kernel reads 8 scalars for 16). K advances 8 at a time through two
 * workgroup buffers (double buffering): each thread loads its part of the next tile into registers
 * before computing on the current one, stores it into the other buffer after, and one barrier per
 * step separates the two. A-tile loads take consecutive k across threads, B-tile loads four
 * consecutive columns per thread, so row-major operands are read in runs. 16 KiB of workgroup
 * memory, the WebGPU default limit.
 */
function tiled128Source(t: T, epi: Epilogue): string {
  return `${productDecls(t, epi)}
var<workgroup> As: array<array<vec4<${t}>, 32>, 16>;
var<workgroup> Bs: array<array<vec4<${t}>, 32>, 16>;
@compute @workgroup_size(16, 16) fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_id) lid: vec3u) {
${PRODUCT_PARAMS}
  let row0 = wid.y * 128u; let col0 = wid.x * 128u;
  let tx = lid.x; let ty = lid.y;
  let tid = ty * 16u + tx;
  // This thread's share of a tile: A rows 4am..4am+3 at k offset ak; B columns 4bn..4bn+3 at bk.
  let ak = tid % 8u; let am = tid / 8u;
  let bk = tid / 32u; let bn = tid % 32u;
  var acc: array<vec4<${t}>, 16>;
  for (var i = 0u; i < 16u; i = i + 1u) { acc[i] = vec4<${t}>(${t}(0)); }
  let tiles = (max(K, kStart) - kStart + 7u) / 8u;
  var ra: vec4<${t}>;
  var rb: vec4<${t}>;
  for (var t = 0u; t <= tiles; t = t + 1u) {
    // Load tile t into registers (tiles past the end load nothing).
    if (t < tiles) {
      let gk = kStart + t * 8u + ak;
      for (var q = 0u; q < 4u; q = q + 1u) {
        let gm = row0 + am * 4u + q;
        var v = ${t}(0);
        if (gm < M && gk < K) { v = A[aBase + gm * sAm + gk * sAk]; }
        ra[q] = v;
      }
      let gk2 = kStart + t * 8u + bk;
      for (var q = 0u; q < 4u; q = q + 1u) {
        let gn = col0 + bn * 4u + q;
        var v = ${t}(0);
        if (gk2 < K && gn < N) { v = B[bBase + gk2 * sBk + gn * sBn]; }
        rb[q] = v;
      }
    }
    // Compute on tile t - 1, in buffer (t - 1) % 2.
    if (t > 0u) {
      let base = ((t - 1u) % 2u) * 8u;
      for (var kk = 0u; kk < 8u; kk = kk + 1u) {
        let a0 = As[base + kk][ty]; let a1 = As[base + kk][16u + ty];
        let b0 = Bs[base + kk][tx]; let b1 = Bs[base + kk][16u + tx];
        for (var r = 0u; r < 4u; r = r + 1u) {
          acc[r * 2u] = acc[r * 2u] + a0[r] * b0;
          acc[r * 2u + 1u] = acc[r * 2u + 1u] + a0[r] * b1;
          acc[8u + r * 2u] = acc[8u + r * 2u] + a1[r] * b0;
          acc[8u + r * 2u + 1u] = acc[8u + r * 2u + 1u] + a1[r] * b1;
        }
      }
    }
    // Store tile t into buffer t % 2, which no thread reads until after the barrier.
    if (t < tiles) {
      let base = (t % 2u) * 8u;
      As[base + ak][am] = ra;
      Bs[base + bk][bn] = rb;
    }
    workgroupBarrier();
  }
  let oBase = b * M * N;
  for (var r = 0u; r < 8u; r = r + 1u) {
    let gm = row0 + select(ty * 4u + r, 64u + ty * 4u + r - 4u, r >= 4u);
    if (gm >= M) { continue; }
    for (var h = 0u; h < 2u; h = h + 1u) {
      let v = acc[r * 2u + h];
      for (var q = 0u; q < 4u; q = q + 1u) {
        let gn = col0 + h * 64u + tx * 4u + q;
        if (gn < N) { epi(oBase + gm * N + gn, v[q]); }
      }
    }
  }
}`;
}

/**
 * The same product without workgroup memory or barriers, for software adapters (lavapipe runs a
 * barrier as a coroutine switch, which makes the tiled kernel 3x slower there): each thread reads
 * its 4 rows of A and 4 columns of B straight from the buffers (indices clamped; extra results
 * are not stored). Workgroups are `side` x `side` threads, a tile of 4·side squared.
 */
function directSource(t: T, side: number, epi: Epilogue): string {
  return `${productDecls(t, epi)}
@compute @workgroup_size(${int(side)}, ${int(side)}) fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_id) lid: vec3u) {
${PRODUCT_PARAMS}
  let r0 = wid.y * ${int(4 * side)}u + lid.y * 4u; let c0 = wid.x * ${int(4 * side)}u + lid.x * 4u;
  var ra: array<u32, 4>;
  var cb: array<u32, 4>;
  for (var i = 0u; i < 4u; i = i + 1u) {
    ra[i] = aBase + min(r0 + i, M - 1u) * sAm;
    cb[i] = bBase + min(c0 + i, N - 1u) * sBn;
  }
  var acc: array<vec4<${t}>, 4>;
  for (var k = kStart; k < K; k = k + 1u) {
    let bv = vec4<${t}>(B[cb[0] + k * sBk], B[cb[1] + k * sBk], B[cb[2] + k * sBk], B[cb[3] + k * sBk]);
    for (var i = 0u; i < 4u; i = i + 1u) { acc[i] = acc[i] + A[ra[i] + k * sAk] * bv; }
  }
  let oBase = b * M * N;
  for (var i = 0u; i < 4u; i = i + 1u) {
    if (r0 + i >= M) { break; }
    for (var j = 0u; j < 4u; j = j + 1u) {
      if (c0 + j < N) { epi(oBase + (r0 + i) * N + c0 + j, acc[i][j]); }
    }
  }
}`;
}

/**
 * Threads per side of the barrier-free kernel's workgroup (each computes 4x4 results): 16, or 8
 * when 64x64 tiles would leave fewer than 8 workgroups, so that a small product (an MLP layer of a
 * small batch) still spreads over the host's cores and computes fewer clamped rows.
 */
function directSide(M: number, N: number, batch: number): number {
  return Math.ceil(M / 64) * Math.ceil(N / 64) * batch < 8 ? 8 : 16;
}

/** Strides (in elements) of the [batch, rows, cols] view of an operand. */
export type View3 = [number, number, number];

/** The longest stretch of K one dispatch contracts (a multiple of the 16-wide tile). */
export const K_CHUNK = 4096;

/**
 * What the product's kernel does with each result `d` of flat index `i`: WGSL declaring storage
 * bindings 2..count+1 and `fn epi(i: u32, d: T)`. The plain epilogue stores d into the output (or
 * adds it, for every K chunk after the first); the jit fuses elementwise equations that read the
 * product into an epilogue of their own (compile.ts), which needs the whole of K in one dispatch.
 */
export interface Epilogue {
  readonly decls: string;
  readonly count: number;
}

const storeEpilogues = new Map<T, Epilogue>();
/** The plain epilogue: store the result, or add it for every K chunk after the first. */
const storeEpilogue = (t: T): Epilogue => {
  let e = storeEpilogues.get(t);
  if (e === undefined) {
    e = {
      decls: `${storageDecl(2, "out", t, true)}
fn epi(i: u32, d: ${t}) { if (prm(10u) > 0u) { out[i] = out[i] + d; } else { out[i] = d; } }`,
      count: 1,
    };
    storeEpilogues.set(t, e);
  }
  return e;
};

/**
 * Which kernel computes a product of this shape on this device, and its output tile's side: on
 * software adapters the barrier-free one; on GPUs the 128x128 kernel where it still makes at least
 * `largeTileMin` workgroups (256: enough to fill a large GPU twice over), else the 64x64 one.
 */
function kernelOf(ctx: GpuContext, M: number, N: number, batch: number): { kind: string; tile: number } {
  if (ctx.software) {
    const side = directSide(M, N, batch);
    return { kind: `direct${side}`, tile: 4 * side };
  }
  const big = Math.ceil(M / 128) * Math.ceil(N / 128) * batch >= ctx.largeTileMin && ctx.device.limits.maxComputeWorkgroupStorageSize >= 16384;
  return big ? { kind: "tiled128", tile: 128 } : { kind: "tiled", tile: 64 };
}

/** Kernel sources by epilogue, then kernel and type: a fused epilogue's live as long as its jit step. */
const sources = new WeakMap<Epilogue, Map<string, string>>();

/** The product's kernel for this shape on this device, with epilogue `epi`. */
export function matmulSource(ctx: GpuContext, dtype: DType, M: number, N: number, batch: number, epi: Epilogue): string {
  const t = wgslType(dtype, "dot_general");
  const { kind, tile } = kernelOf(ctx, M, N, batch);
  let byKind = sources.get(epi);
  if (byKind === undefined) sources.set(epi, (byKind = new Map()));
  let s = byKind.get(`${kind}:${t}`);
  if (s === undefined) {
    s = kind === "tiled128" ? tiled128Source(t, epi) : kind === "tiled" ? tiledSource(t, epi) : directSource(t, tile / 4, epi);
    byKind.set(`${kind}:${t}`, s);
  }
  return s;
}

/** out [batch, M, N] = A [batch, M, K] (strides `sa`) times B [batch, K, N] (strides `sb`). */
export function matmul(a: GpuArray, sa: View3, b: GpuArray, sb: View3, out: GpuArray, batch: number, M: number, K: number, N: number): void {
  const ctx = out.backend.ctx;
  const src = matmulSource(ctx, out.dtype, M, N, batch, storeEpilogue(wgslType(out.dtype, "dot_general")));
  matmulInto(ctx, src, a, sa, b, sb, [out.bind("dot_general")], batch, M, K, N);
}

/**
 * Records the product's dispatches with kernel `src` (from `matmulSource`), whose epilogue binds
 * `epiBinds`. K is split into chunks of K_CHUNK; only the plain epilogue adds chunks together.
 */
export function matmulInto(
  ctx: GpuContext,
  src: string,
  a: GpuArray,
  sa: View3,
  b: GpuArray,
  sb: View3,
  epiBinds: readonly Binding[],
  batch: number,
  M: number,
  K: number,
  N: number,
): void {
  const { tile } = kernelOf(ctx, M, N, batch);
  const binds = [a.bind("dot_general"), b.bind("dot_general"), ...epiBinds];
  for (let b0 = 0; b0 < batch; b0 += 65535) {
    // K = 0 still takes one dispatch, which writes the zeros.
    for (let k0 = 0; k0 === 0 || k0 < K; k0 += K_CHUNK) {
      const params = [M, N, Math.min(K, k0 + K_CHUNK), sa[0], sa[1], sa[2], sb[0], sb[1], sb[2], b0, k0];
      ctx.dispatch(src, binds, params, [Math.ceil(N / tile), Math.ceil(M / tile), Math.min(65535, batch - b0)]);
    }
  }
}
