/**
 * The updates of a scatter grouped by the position they hit, in index order: per row b of the
 * [B, I] indices, a bitonic sort of the update numbers 0..I-1 by (position, number), and each
 * position's [start, end) range in the sorted list. With it a scatter folds only the updates that
 * hit each output (work about I log² I + n rather than I * n) in the CPU's order. No invocation
 * loops; the sort is log² of the padded width dispatches.
 */
import { type GpuArray, empty } from "../array.js";
import { WG } from "../context.js";
import { ENTRY, LINEAR_INDEX, paramsDecl, storageDecl } from "../wgsl.js";

export interface Hits {
  /** [B, width] update numbers sorted by (position, number); padding is 0xffffffff at the end. */
  order: GpuArray;
  /** [B, n] first and one-past-last place in `order` of each position's updates (0, 0 when none). */
  start: GpuArray;
  end: GpuArray;
  /** The row width of `order`: I rounded up to a power of two. */
  width: number;
}

/** The position update e of row b hits: clamped into [0, n) (scatter_add), or n when out of range (scatter). */
const POS = `fn pos(b: u32, e: u32) -> u32 {
  let n = prm(3u);
  if (e == 0xffffffffu) { return n + 1u; }
  let v = idx[b * prm(2u) + e];
  if (prm(4u) == 1u) { return u32(clamp(v, 0i, i32(n) - 1i)); }
  return select(n, u32(v), v >= 0i && v < i32(n));
}`;

const HEAD = `${storageDecl(0, "idx", "i32", false)}
${storageDecl(1, "order", "u32", true)}
${paramsDecl(2)}
${POS}`;

/** order[b, e] = e below I, padding above. */
const INIT = `${storageDecl(0, "order", "u32", true)}
${paramsDecl(1)}
${ENTRY} {
  let t = ${LINEAR_INDEX};
  if (t >= prm(0u)) { return; }
  let e = t & (prm(1u) - 1u);
  order[t] = select(0xffffffffu, e, e < prm(2u));
}`;

/** One compare-exchange step (block k, distance j) of the bitonic sort of every row. */
const STEP = `${HEAD}
${ENTRY} {
  let t = ${LINEAR_INDEX};
  if (t >= prm(0u)) { return; }
  let j = prm(6u);
  let l = t ^ j;
  if (l <= t) { return; }
  let b = t / prm(1u);
  let ea = order[t]; let eb = order[l];
  let pa = pos(b, ea); let pb = pos(b, eb);
  let greater = pa > pb || (pa == pb && ea > eb);
  let ascending = (t & (prm(1u) - 1u) & prm(5u)) == 0u;
  if (greater == ascending) { order[t] = eb; order[l] = ea; }
}`;

/** start/end of each position from the sorted rows (they were zeroed first). */
const BOUNDS = `${storageDecl(0, "idx", "i32", false)}
${storageDecl(1, "order", "u32", false)}
${storageDecl(2, "start", "u32", true)}
${storageDecl(3, "end", "u32", true)}
${paramsDecl(4)}
${POS}
${ENTRY} {
  let t = ${LINEAR_INDEX};
  if (t >= prm(0u)) { return; }
  let W = prm(1u); let n = prm(3u);
  let b = t / W; let s = t & (W - 1u);
  let p = pos(b, order[t]);
  if (p >= n) { return; }
  if (s == 0u || pos(b, order[t - 1u]) != p) { start[b * n + p] = s; }
  if (s == W - 1u || pos(b, order[t + 1u]) != p) { end[b * n + p] = s + 1u; }
}`;

const ZERO = `${storageDecl(0, "a", "u32", true)}
${storageDecl(1, "z", "u32", true)}
${paramsDecl(2)}
${ENTRY} {
  let t = ${LINEAR_INDEX};
  if (t >= prm(0u)) { return; }
  a[t] = 0u; z[t] = 0u;
}`;

/**
 * Sorts the hits of idx ([B, I] int32) onto n positions; `clampIdx`: out-of-range indices hit the
 * nearest end (scatter_add) rather than nothing (scatter). The caller disposes the arrays.
 */
export function sortHits(idx: GpuArray, B: number, I: number, n: number, clampIdx: boolean, fn: string): Hits {
  const be = idx.backend;
  const ctx = be.ctx;
  const width = 2 ** Math.ceil(Math.log2(Math.max(2, I)));
  const order = empty(be, { shape: [B, width], dtype: "uint32" });
  const start = empty(be, { shape: [B, n], dtype: "uint32" });
  const end = empty(be, { shape: [B, n], dtype: "uint32" });
  const all = B * width;
  const params = (k: number, j: number) => [all, width, I, n, clampIdx ? 1 : 0, k, j];
  const sortBinds = [idx.bind(fn), order.bind(fn)];
  ctx.dispatch(INIT, [order.bind(fn)], params(0, 0), Math.ceil(all / WG));
  for (let k = 2; k <= width; k *= 2) for (let j = k / 2; j >= 1; j /= 2) ctx.dispatch(STEP, sortBinds, params(k, j), Math.ceil(all / WG));
  ctx.dispatch(ZERO, [start.bind(fn), end.bind(fn)], [B * n], Math.ceil((B * n) / WG));
  ctx.dispatch(BOUNDS, [idx.bind(fn), order.bind(fn), start.bind(fn), end.bind(fn)], params(0, 0), Math.ceil(all / WG));
  return { order, start, end, width };
}
