/**
 * gather and scatter_add on the [B, P, n, Q] view of x and the [B, I] view of the int32 indices
 * (indices clamped to [0, n), as on the CPU), and the branch select of `cond`. scatter_add has no
 * float atomics to lean on: each output element sums, in index order, the updates whose index hits
 * it, so the result is deterministic and rounds exactly like the CPU loop. The updates are walked in
 * passes of at most SCATTER_CHUNK, each folding onto the previous pass's output; with many outputs
 * and updates, each output walks only its own hits, sorted by position first (hits.ts).
 */
import type { ScatterOp } from "../../../src/core/prim.js";
import type { GpuArray } from "../array.js";
import { WG } from "../context.js";
import { sortHits } from "./hits.js";
import { ENTRY, LINEAR_INDEX, paramsDecl, storageDecl, wgslType } from "../wgsl.js";

export interface GatherDims {
  B: number;
  P: number;
  n: number;
  Q: number;
  I: number;
}

const GATHER = `${storageDecl(0, "x", "u32", false)}
${storageDecl(1, "idx", "i32", false)}
${storageDecl(2, "out", "u32", true)}
${paramsDecl()}
${ENTRY} {
  let t = ${LINEAR_INDEX};
  if (t >= prm(0u)) { return; }
  let P = prm(1u); let n = prm(2u); let Q = prm(3u); let I = prm(4u);
  let q = t % Q;
  let i = (t / Q) % I;
  let p = (t / (Q * I)) % P;
  let b = t / (Q * I * P);
  let j = u32(clamp(idx[b * I + i], 0i, i32(n) - 1i));
  out[t] = x[((b * P + p) * n + j) * Q + q];
}`;

export function gather(x: GpuArray, idx: GpuArray, out: GpuArray, d: GatherDims): void {
  const total = d.B * d.P * d.I * d.Q;
  if (total === 0) return;
  out.backend.ctx.dispatch(GATHER, [x.bind("gather"), idx.bind("gather"), out.bind("gather")], [total, d.P, d.n, d.Q, d.I], Math.ceil(total / WG));
}

/**
 * Updates one scatter pass folds: each output walks at most this many, and the passes run in
 * index order, so the result is the CPU's sequential fold (some drivers stop shaders after 65,535
 * loop iterations; see self_check.ts).
 */
export const SCATTER_CHUNK = 4096;

/** Calls `run(i0, i1)` for each pass over updates [i0, i1), in order; no updates still take one pass (it copies x). */
function passes(I: number, run: (i0: number, i1: number) => void): void {
  for (let i0 = 0; i0 === 0 || i0 < I; i0 += SCATTER_CHUNK) run(i0, Math.min(I, i0 + SCATTER_CHUNK));
}

const scatterMemo = new Map<string, string>();

function scatterSource(t: string): string {
  let s = scatterMemo.get(t);
  if (s === undefined) {
    s = `${storageDecl(0, "x", t, false)}
${storageDecl(1, "idx", "i32", false)}
${storageDecl(2, "upd", t, false)}
${storageDecl(3, "out", t, true)}
${paramsDecl()}
${ENTRY} {
  let s = ${LINEAR_INDEX};
  if (s >= prm(0u)) { return; }
  let P = prm(1u); let n = prm(2u); let Q = prm(3u); let I = prm(4u);
  let q = s % Q;
  let j = i32((s / Q) % n);
  let p = (s / (Q * n)) % P;
  let b = s / (Q * n * P);
  // Pass [i0, i1) of the updates folds onto x (first pass) or onto the earlier passes' result.
  let i0 = prm(5u);
  var acc = x[s];
  if (i0 > 0u) { acc = out[s]; }
  let ub = (b * P + p) * I;
  for (var i = i0; i < prm(6u); i = i + 1u) {
    if (clamp(idx[b * I + i], 0i, i32(n) - 1i) == j) { acc = acc + upd[(ub + i) * Q + q]; }
  }
  out[s] = ${t === "u32" ? "acc & 255u" : "acc"};
}`;
    scatterMemo.set(t, s);
  }
  return s;
}

export function scatterAdd(x: GpuArray, idx: GpuArray, upd: GpuArray, out: GpuArray, d: GatherDims): void {
  const total = d.B * d.P * d.n * d.Q;
  if (total === 0) return;
  const t = wgslType(x.dtype, "scatter_add");
  if (sortsHits(d)) return foldSorted(sortedSource(t, "acc = acc + v;", t === "u32"), x, idx, upd, out, d, true, "scatter_add");
  const src = scatterSource(t);
  const binds = [x.bind("scatter_add"), idx.bind("scatter_add"), upd.bind("scatter_add"), out.bind("scatter_add")];
  passes(d.I, (i0, i1) => out.backend.ctx.dispatch(src, binds, [total, d.P, d.n, d.Q, d.I, i0, i1], Math.ceil(total / WG)));
}

const combineMemo = new Map<string, string>();

/** WGSL that folds update `v` into `acc` for each scatter op (NaN in acc stays, as on the CPU). */
const COMBINE: Record<ScatterOp, string> = {
  set: "acc = v;",
  mul: "acc = acc * v;",
  min: "if (!(acc < v) && acc == acc) { acc = v; }",
  max: "if (!(acc > v) && acc == acc) { acc = v; }",
};

function combineSource(t: string, op: ScatterOp): string {
  const key = `${t}/${op}`;
  let s = combineMemo.get(key);
  if (s === undefined) {
    s = `${storageDecl(0, "x", t, false)}
${storageDecl(1, "idx", "i32", false)}
${storageDecl(2, "upd", t, false)}
${storageDecl(3, "out", t, true)}
${paramsDecl()}
${ENTRY} {
  let s = ${LINEAR_INDEX};
  if (s >= prm(0u)) { return; }
  let P = prm(1u); let n = prm(2u); let Q = prm(3u); let I = prm(4u);
  let q = s % Q;
  let j = i32((s / Q) % n);
  let p = (s / (Q * n)) % P;
  let b = s / (Q * n * P);
  // Pass [i0, i1) of the updates folds onto x (first pass) or onto the earlier passes' result.
  let i0 = prm(5u);
  var acc = x[s];
  if (i0 > 0u) { acc = out[s]; }
  let ub = (b * P + p) * I;
  for (var i = i0; i < prm(6u); i = i + 1u) {
    if (idx[b * I + i] == j) { let v = upd[(ub + i) * Q + q]; ${COMBINE[op]} }
  }
  out[s] = acc;
}`;
    combineMemo.set(key, s);
  }
  return s;
}

/**
 * scatter (set/mul/min/max): each output element folds, in index order, the updates whose index
 * hits it (out-of-range indices hit nothing), so "set" keeps the last write as on the CPU.
 */
export function scatterCombine(x: GpuArray, idx: GpuArray, upd: GpuArray, out: GpuArray, d: GatherDims, op: ScatterOp): void {
  const total = d.B * d.P * d.n * d.Q;
  if (total === 0) return;
  const t = wgslType(x.dtype, "scatter");
  if (sortsHits(d)) return foldSorted(sortedSource(t, COMBINE[op], false), x, idx, upd, out, d, false, "scatter");
  const src = combineSource(t, op);
  const binds = [x.bind("scatter"), idx.bind("scatter"), upd.bind("scatter"), out.bind("scatter")];
  passes(d.I, (i0, i1) => out.backend.ctx.dispatch(src, binds, [total, d.P, d.n, d.Q, d.I, i0, i1], Math.ceil(total / WG)));
}

/**
 * Whether a scatter sorts its hits by position first (kernels/hits.ts), so each output walks only
 * the updates that hit it, rather than each output scanning all the indices: when the scan's
 * iterations (outputs x updates) outnumber the sort's compare-exchanges four times over (one
 * exchange cost about four scan iterations on lavapipe). Few positions or few updates scan.
 */
export function sortsHits(d: GatherDims): boolean {
  const bits = Math.ceil(Math.log2(Math.max(2, d.I)));
  return d.B * d.P * d.n * d.Q * d.I > 4 * d.B * 2 ** bits * ((bits * (bits + 1)) / 2);
}

const sortedMemo = new Map<string, string>();

/**
 * Folds, with `stmt`, the updates that hit each output element, in index order, read through the
 * sorted hits: pass `off` walks places [start + off, start + off + chunk) of the element's range.
 */
function sortedSource(t: string, stmt: string, mask: boolean): string {
  const key = `${t}/${stmt}`;
  let s = sortedMemo.get(key);
  if (s === undefined) {
    s = `${storageDecl(0, "x", t, false)}
${storageDecl(1, "upd", t, false)}
${storageDecl(2, "order", "u32", false)}
${storageDecl(3, "start", "u32", false)}
${storageDecl(4, "end", "u32", false)}
${storageDecl(5, "out", t, true)}
${paramsDecl()}
${ENTRY} {
  let s = ${LINEAR_INDEX};
  if (s >= prm(0u)) { return; }
  let P = prm(1u); let n = prm(2u); let Q = prm(3u); let I = prm(4u); let off = prm(5u);
  let q = s % Q;
  let j = (s / Q) % n;
  let p = (s / (Q * n)) % P;
  let b = s / (Q * n * P);
  var acc = x[s];
  if (off > 0u) { acc = out[s]; }
  let k0 = start[b * n + j] + off;
  let k1 = min(end[b * n + j], k0 + prm(6u));
  let ub = (b * P + p) * I;
  for (var k = k0; k < k1; k = k + 1u) {
    let v = upd[(ub + order[b * I + k]) * Q + q];
    ${stmt}
  }
  out[s] = ${mask ? "acc & 255u" : "acc"};
}`;
    sortedMemo.set(key, s);
  }
  return s;
}

function foldSorted(src: string, x: GpuArray, idx: GpuArray, upd: GpuArray, out: GpuArray, d: GatherDims, clampIdx: boolean, fn: string): void {
  const total = d.B * d.P * d.n * d.Q;
  const h = sortHits(idx, d.B, d.I, d.n, clampIdx, fn);
  const binds = [x, upd, h.order, h.start, h.end, out].map((a) => a.bind(fn));
  passes(d.I, (i0) => out.backend.ctx.dispatch(src, binds, [total, d.P, d.n, d.Q, d.I, i0, SCATTER_CHUNK], Math.ceil(total / WG)));
  for (const a of [h.order, h.start, h.end]) a.dispose();
}

const PICK = `${storageDecl(0, "index", "i32", false)}
${storageDecl(1, "prev", "u32", false)}
${storageDecl(2, "cand", "u32", false)}
${storageDecl(3, "out", "u32", true)}
${paramsDecl()}
${ENTRY} {
  let i = ${LINEAR_INDEX};
  if (i >= prm(0u)) { return; }
  out[i] = select(prev[i], cand[i], index[0] >= prmi(1u));
}`;

/** out = index >= k ? cand : prev (index a device int32 scalar): one step of cond's branch select. */
export function pickBranch(index: GpuArray, k: number, prev: GpuArray, cand: GpuArray, out: GpuArray): void {
  const n = out.size;
  out.backend.ctx.dispatch(PICK, [index.bind("cond"), prev.bind("cond"), cand.bind("cond"), out.bind("cond")], [n, k], Math.ceil(n / WG));
}
