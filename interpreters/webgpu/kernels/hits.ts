/**
 * The updates of a scatter grouped by the position they hit, in index order: per row b of the
 * [B, I] indices, the update numbers sorted stably by position (the device argsort, sort.ts), and
 * each position's [start, end) range in that list. With it a scatter folds only the updates that
 * hit each output (work about I log² I + n rather than I * n) in the CPU's order. No invocation
 * loops.
 */
import { type GpuArray, empty } from "../array.js";
import { WG } from "../context.js";
import { ENTRY, LINEAR_INDEX, paramsDecl, storageDecl } from "../wgsl.js";
import { argsort } from "./sort.js";

export interface Hits {
  /** [B, I] update numbers of each row, sorted stably by the position they hit. */
  order: GpuArray;
  /** [B, n] first and one-past-last place in `order` of each position's updates (0, 0 when none). */
  start: GpuArray;
  end: GpuArray;
}

/** key = the position an update hits: clamped into [0, n) (scatter_add), or n when out of range (scatter). */
const KEYS = `${storageDecl(0, "idx", "i32", false)}
${storageDecl(1, "key", "i32", true)}
${paramsDecl()}
${ENTRY} {
  let t = ${LINEAR_INDEX};
  if (t >= prm(0u)) { return; }
  let n = prmi(1u);
  let v = idx[t];
  if (prm(2u) == 1u) { key[t] = clamp(v, 0i, n - 1i); } else { key[t] = select(n, v, v >= 0i && v < n); }
}`;

/** start/end of each position from the sorted rows (zeroed first). */
const BOUNDS = `${storageDecl(0, "key", "u32", false)}
${storageDecl(1, "order", "u32", false)}
${storageDecl(2, "start", "u32", true)}
${storageDecl(3, "end", "u32", true)}
${paramsDecl()}
${ENTRY} {
  let t = ${LINEAR_INDEX};
  if (t >= prm(0u)) { return; }
  let I = prm(1u); let n = prm(2u);
  let b = t / I; let s = t % I;
  let p = key[b * I + order[t]];
  if (p >= n) { return; }
  if (s == 0u || key[b * I + order[t - 1u]] != p) { start[b * n + p] = s; }
  if (s == I - 1u || key[b * I + order[t + 1u]] != p) { end[b * n + p] = s + 1u; }
}`;

const ZERO = `${storageDecl(0, "a", "u32", true)}
${storageDecl(1, "z", "u32", true)}
${paramsDecl()}
${ENTRY} {
  let t = ${LINEAR_INDEX};
  if (t >= prm(0u)) { return; }
  a[t] = 0u; z[t] = 0u;
}`;

/**
 * Sorts the hits of idx ([B, I] int32, I > 0) onto n positions; `clampIdx`: out-of-range indices
 * hit the nearest end (scatter_add) rather than nothing (scatter). The caller disposes the arrays.
 */
export function sortHits(idx: GpuArray, B: number, I: number, n: number, clampIdx: boolean, fn: string): Hits {
  const be = idx.backend;
  const ctx = be.ctx;
  const all = B * I;
  const key = empty(be, { shape: [B, I], dtype: "int32" });
  const order = empty(be, { shape: [B, I], dtype: "int32" });
  const start = empty(be, { shape: [B, n], dtype: "uint32" });
  const end = empty(be, { shape: [B, n], dtype: "uint32" });
  ctx.dispatch(KEYS, [idx.bind(fn), key.bind(fn)], [all, n, clampIdx ? 1 : 0], Math.ceil(all / WG));
  argsort(key, order, B, I, 1, "int32");
  ctx.dispatch(ZERO, [start.bind(fn), end.bind(fn)], [B * n], Math.ceil((B * n) / WG));
  ctx.dispatch(BOUNDS, [key.bind(fn), order.bind(fn), start.bind(fn), end.bind(fn)], [all, I, n], Math.ceil(all / WG));
  key.dispose();
  return { order, start, end };
}
