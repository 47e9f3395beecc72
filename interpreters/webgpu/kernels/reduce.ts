/**
 * Reductions, arg-reductions and cumsum over a contiguous [outer, n, inner] view of the operand
 * (callers transpose the reduced axes into one block first). A reduction over a long axis uses one
 * workgroup per output (256 threads stride the reduced extent, then combine), and an axis longer
 * than a segment is reduced in segments first, in as many passes as it takes; short axes or many
 * outputs use one thread per output, looping in order like the CPU. A sum, max or min reads its
 * operand through a loader and hands each result to an epilogue: a buffer read and a store, or the
 * elementwise runs the jit fuses before and after it. NaN wins in max and min; argmax/argmin give
 * the first extremum (a NaN counts as one). An empty reduction gives what the CPU gives (0, -inf or
 * inf for floats; 0 for int32 and bool).
 */
import type { DType } from "../../../src/core/dtype.js";
import { type GpuArray, type GpuBackend, empty } from "../array.js";
import { type Binding, WG } from "../context.js";
import { ENTRY, ENTRY_SUBGROUPS, LINEAR_INDEX, WGSL_HELPERS, paramsDecl, storageDecl, wgslType } from "../wgsl.js";

export type ReduceOp = "sum" | "max" | "min";
export type T = "f32" | "i32" | "u32";

const memo = new Map<string, string>();
const cached = (key: string, make: () => string): string => {
  let s = memo.get(key);
  if (s === undefined) memo.set(key, (s = make()));
  return s;
};

/** The identity of `op` for type t, and what an empty reduction stores (the CPU's result). */
function identity(op: ReduceOp, t: T): { id: string; empty: string } {
  if (op === "sum") return { id: `${t}(0)`, empty: `${t}(0)` };
  if (t === "f32") return op === "max" ? { id: "-fx_inf()", empty: "-fx_inf()" } : { id: "fx_inf()", empty: "fx_inf()" };
  if (t === "i32") return { id: op === "max" ? "(-2147483647i - 1i)" : "2147483647i", empty: "0i" };
  return { id: op === "max" ? "0u" : "4294967295u", empty: "0u" };
}

/** `acc = combine(acc, v)` for op on type t (the CPU's sequential rule: NaN sticks). */
function combine(op: ReduceOp, t: T, acc: string, v: string): string {
  if (op === "sum") return `${acc} = ${acc} + ${v};`;
  if (t !== "f32") return `${acc} = ${op}(${acc}, ${v});`;
  const cmp = op === "max" ? ">" : "<";
  return `if (${v} ${cmp} ${acc} || fx_isnan(${v})) { ${acc} = ${v}; }`;
}

/** A reduction's result `v` as stored: a bool sum wraps at 256, as the CPU's byte-wide bools do. */
export const store = (t: T, op: ReduceOp, v: string) => (t === "u32" && op === "sum" ? `(${v}) & 255u` : v);

/**
 * Where a reduction's first pass reads its operand: `decls` declares storage bindings 0..count-1
 * and a function `load(i: u32)` giving element i of the operand. The plain loader reads a buffer;
 * the jit's fused loader (compile.ts) computes a run of elementwise equations at i instead, so the
 * run's result is never written out.
 */
export interface Loader {
  readonly decls: string;
  readonly count: number;
}

/**
 * What a reduction's last pass does with the result `d` of output i: `decls(first)` declares
 * storage bindings first..first+count-1 and `fn epi(i: u32, d: T)`. The plain epilogue stores d;
 * the jit's fused one (compile.ts) computes the elementwise equations that read the result.
 */
export interface ReduceEpilogue {
  readonly count: number;
  decls(first: number): string;
}

const bufferLoaders = new Map<T, Loader>();
/** The plain loader: the operand read from a buffer. */
export const bufferLoader = (t: T): Loader => {
  let l = bufferLoaders.get(t);
  if (l === undefined) bufferLoaders.set(t, (l = { decls: `${storageDecl(0, "x", t, false)}\nfn load(i: u32) -> ${t} { return x[i]; }`, count: 1 }));
  return l;
};

const storeEpilogues = new Map<string, ReduceEpilogue>();
/** The plain epilogue: store the result (bools' u32 sums masked, as the CPU wraps them). */
export const storeEpilogue = (op: ReduceOp, t: T): ReduceEpilogue => {
  let e = storeEpilogues.get(`${op}:${t}`);
  if (e === undefined) {
    e = { count: 1, decls: (first) => `${storageDecl(first, "out", t, true)}\nfn epi(i: u32, d: ${t}) { out[i] = ${store(t, op, "d")}; }` };
    storeEpilogues.set(`${op}:${t}`, e);
  }
  return e;
};

/**
 * The sources made for each (loader, epilogue) pair: plain ones live as long as the module, fused
 * ones as long as the jit step that holds them.
 */
const sources = new WeakMap<Loader, WeakMap<ReduceEpilogue, Map<string, string>>>();
function sourceFor(load: Loader, epi: ReduceEpilogue, key: string, make: () => string): string {
  let byEpi = sources.get(load);
  if (byEpi === undefined) sources.set(load, (byEpi = new WeakMap()));
  let m = byEpi.get(epi);
  if (m === undefined) byEpi.set(epi, (m = new Map()));
  let s = m.get(key);
  if (s === undefined) m.set(key, (s = make()));
  return s;
}

const HEADER = (load: Loader, epi: ReduceEpilogue) => `${WGSL_HELPERS}
${load.decls}
${epi.decls(load.count)}
${paramsDecl()}`;

function sequentialSource(op: ReduceOp, t: T, load: Loader, epi: ReduceEpilogue): string {
  const { id, empty } = identity(op, t);
  return sourceFor(
    load,
    epi,
    `seq:${op}:${t}`,
    () => `${HEADER(load, epi)}
${ENTRY} {
  let o = ${LINEAR_INDEX};
  let n = prm(1u);
  let inner = prm(2u);
  if (o >= prm(0u)) { return; }
  let base = (o / inner) * n * inner + o % inner;
  var acc: ${t} = ${op === "sum" ? id : empty};
  if (n > 0u) {
    ${op === "sum" ? "" : "acc = load(base);"}
    for (var r = ${op === "sum" ? "0u" : "1u"}; r < n; r = r + 1u) {
      let v = load(base + r * inner);
      ${combine(op, t, "acc", "v")}
    }
  }
  epi(o, acc);
}`,
  );
}

/**
 * Elements one workgroup arg-reduces or scans in one pass (16 per thread). A longer axis is cut
 * into segments reduced side by side, then their partial results are reduced again: no invocation
 * loops long (some drivers stop a shader after 65,535 loop iterations) and a long sum fills the
 * device.
 */
export const SEGMENT = WG * 16;

/**
 * Elements one workgroup sums (or takes the max or min of) in one pass: 64 per thread. Fewer,
 * longer segments pay the workgroup's final combine less often.
 */
export const REDUCE_SEGMENT = WG * 64;

/**
 * One workgroup per (output, segment): out[o * segs + s] = reduce of segment s of output o (256
 * threads stride the segment, then combine their partial results). With one segment it is the
 * one-pass reduction of an axis up to `REDUCE_SEGMENT` long.
 *
 * The partial results are combined by a shared-memory tree (eight barriers), or, where the device
 * has subgroup operations, by one subgroup reduction per subgroup and one pass over the subgroups'
 * results (one barrier): software adapters run each barrier as a switch of every invocation, and
 * on hardware the subgroup step needs no shared memory. Subgroup max/min leave NaN to the driver,
 * so a NaN is carried beside them with `subgroupAny`.
 */
function segmentSource(op: ReduceOp, t: T, subgroups: boolean, load: Loader, epi: ReduceEpilogue): string {
  const { id } = identity(op, t);
  const body = (combineParts: string) => `${HEADER(load, epi)}
var<workgroup> part: array<${t}, 256>;
${subgroups ? ENTRY_SUBGROUPS : ENTRY} {
  let g = wid.y * nwg.x + wid.x;
  let segs = prm(3u);
  let o = g / segs;
  if (o >= prm(0u)) { return; }
  let n = prm(1u);
  let inner = prm(2u);
  let base = (o / inner) * n * inner + o % inner;
  let lo = (g % segs) * ${REDUCE_SEGMENT}u;
  let hi = min(n, lo + ${REDUCE_SEGMENT}u);
  var acc: ${t} = ${id};
  for (var r = lo + lid.x; r < hi; r = r + 256u) {
    let v = load(base + r * inner);
    ${combine(op, t, "acc", "v")}
  }
${combineParts}
}`;
  if (!subgroups) {
    return sourceFor(load, epi, `seg:${op}:${t}`, () =>
      body(`  part[lid.x] = acc;
  for (var s = 128u; s > 0u; s = s >> 1u) {
    workgroupBarrier();
    if (lid.x < s) {
      var a = part[lid.x];
      let b = part[lid.x + s];
      ${combine(op, t, "a", "b")}
      part[lid.x] = a;
    }
  }
  if (lid.x == 0u) { epi(g, part[0]); }`),
    );
  }
  const fn = op === "sum" ? "subgroupAdd" : op === "max" ? "subgroupMax" : "subgroupMin";
  const mine = t === "f32" && op !== "sum" ? `select(${fn}(acc), fx_nan(), subgroupAny(fx_isnan(acc)))` : `${fn}(acc)`;
  return sourceFor(
    load,
    epi,
    `seg-sub:${op}:${t}`,
    () =>
      `enable subgroups;
` +
      body(`  let mine = ${mine};
  if (sli == 0u) { part[sid] = mine; }
  workgroupBarrier();
  if (lid.x == 0u) {
    var a = part[0];
    for (var k = 1u; k < nsg; k = k + 1u) {
      let b = part[k];
      ${combine(op, t, "a", "b")}
    }
    epi(g, a);
  }`),
  );
}

/**
 * Whether an axis of n elements, for `outputs` results, is reduced by workgroups (else one thread
 * per output). Software adapters run a workgroup's idle invocations at full cost, so there a thread
 * per output is faster for every axis up to `SEGMENT`, the longest loop a thread may run (measured
 * on lavapipe, call and read-back included: 0.27 against 0.83 ms for 128 rows of 32, 0.36 against
 * 4.25 for 1,024 rows of 32, 0.38 against 0.47 for one row of 4,096).
 */
const useTree = (outputs: number, n: number, software: boolean) => (software ? n > SEGMENT : n >= 256 || (n >= 32 && outputs < 1024));

/** out[o, i] = reduce over r of x[o, r, i]; out has outer * inner elements. */
export function reduce(op: ReduceOp, x: GpuArray, out: GpuArray, outer: number, n: number, inner: number): void {
  const t = wgslType(x.dtype);
  reduceLoaded(
    op,
    x.dtype,
    bufferLoader(t),
    [x.bind(`reduce_${op}`)],
    storeEpilogue(op, t),
    [out.bind(`reduce_${op}`)],
    out.backend,
    outer,
    n,
    inner,
  );
}

/**
 * `reduce` of the operand of `dtype` that `load` gives (whose bindings are `loadBinds`), read in
 * the [outer, n, inner] layout, each result handed to `epi` (bindings `epiBinds`). Every element of
 * the operand is loaded exactly once, and every result handed on once, so both may store values.
 */
export function reduceLoaded(
  op: ReduceOp,
  dtype: DType,
  load: Loader,
  loadBinds: readonly Binding[],
  epi: ReduceEpilogue,
  epiBinds: readonly Binding[],
  be: GpuBackend,
  outer: number,
  n: number,
  inner: number,
): void {
  const outputs = outer * inner;
  const ctx = be.ctx,
    t = wgslType(dtype);
  if (outputs === 0) return;
  if (n > REDUCE_SEGMENT) {
    const segs = Math.ceil(n / REDUCE_SEGMENT);
    const partial = empty(be, { shape: [outputs * segs], dtype });
    const keep = storeEpilogue(op, t);
    ctx.dispatch(
      segmentSource(op, t, ctx.subgroups, load, keep),
      [...loadBinds, partial.bind(`reduce_${op}`)],
      [outputs, n, inner, segs],
      outputs * segs,
    );
    // The partials of output o are contiguous: reduce them as [outputs, segs, 1].
    reduceLoaded(op, dtype, bufferLoader(t), [partial.bind(`reduce_${op}`)], epi, epiBinds, be, outputs, segs, 1);
    partial.dispose();
    return;
  }
  const all = [...loadBinds, ...epiBinds];
  if (useTree(outputs, n, ctx.software)) ctx.dispatch(segmentSource(op, t, ctx.subgroups, load, epi), all, [outputs, n, inner, 1], outputs);
  else ctx.dispatch(sequentialSource(op, t, load, epi), all, [outputs, n, inner], Math.ceil(outputs / WG));
}

/** WGSL: whether (v, r) beats (best, at) for argmax (`>`) or argmin (`<`), earlier index on ties. */
function better(cmp: string, t: T): string {
  const nan = (e: string) => (t === "f32" ? `fx_isnan(${e})` : "false");
  return `fn better(v: ${t}, r: i32, best: ${t}, at: i32) -> bool {
  if (at < 0i) { return r >= 0i; }
  if (r < 0i) { return false; }
  if (${nan("best")}) { return ${nan("v")} && r < at; }
  if (${nan("v")}) { return true; }
  if (v ${cmp} best) { return true; }
  return v == best && r < at;
}`;
}

/**
 * Arg-reduction over segments. Each workgroup (o, s) finds the best (value, index) in segment s of
 * output o; the candidates come from x with their positions as indices, or, in a later pass, from
 * the previous pass's values and indices. A partial pass writes both; the last writes the index.
 */
function argSource(isMax: boolean, t: T, withIndex: boolean, last: boolean): string {
  const cmp = isMax ? ">" : "<";
  // Bindings in order: x, the indices (later passes), the values out (partial passes), the indices out.
  const decls: [string, string, boolean][] = [["x", t, false]];
  if (withIndex) decls.push(["xi", "i32", false]);
  if (!last) decls.push(["outV", t, true]);
  decls.push(["outI", "i32", true]);
  return cached(
    `arg:${isMax}:${t}:${withIndex}:${last}`,
    () => `${WGSL_HELPERS}
${decls.map(([name, type, write], b) => storageDecl(b, name, type, write)).join("\n")}
${paramsDecl()}
${better(cmp, t)}
var<workgroup> pv: array<${t}, 256>;
var<workgroup> pi: array<i32, 256>;
${ENTRY} {
  let g = wid.y * nwg.x + wid.x;
  let segs = prm(3u);
  let o = g / segs;
  if (o >= prm(0u)) { return; }
  let n = prm(1u);
  let inner = prm(2u);
  let base = (o / inner) * n * inner + o % inner;
  let lo = (g % segs) * ${SEGMENT}u;
  let hi = min(n, lo + ${SEGMENT}u);
  var best: ${t} = ${t}(0);
  var at = -1i;
  for (var r = lo + lid.x; r < hi; r = r + 256u) {
    let v = x[base + r * inner];
    let k = ${withIndex ? "xi[base + r * inner]" : "i32(r)"};
    if (better(v, k, best, at)) { best = v; at = k; }
  }
  pv[lid.x] = best;
  pi[lid.x] = at;
  for (var s = 128u; s > 0u; s = s >> 1u) {
    workgroupBarrier();
    if (lid.x < s) {
      let v = pv[lid.x + s];
      let r = pi[lid.x + s];
      if (better(v, r, pv[lid.x], pi[lid.x])) { pv[lid.x] = v; pi[lid.x] = r; }
    }
  }
  if (lid.x == 0u) {
    ${last ? "outI[o] = max(pi[0], 0i);" : "outV[g] = pv[0]; outI[g] = pi[0];"}
  }
}`,
  );
}

/** Arg-reduction with one thread per output, in order (an axis of at most `SEGMENT`). */
function argSequentialSource(isMax: boolean, t: T): string {
  return cached(
    `argseq:${isMax}:${t}`,
    () => `${WGSL_HELPERS}
${storageDecl(0, "x", t, false)}
${storageDecl(1, "outI", "i32", true)}
${paramsDecl()}
${better(isMax ? ">" : "<", t)}
${ENTRY} {
  let o = ${LINEAR_INDEX};
  if (o >= prm(0u)) { return; }
  let n = prm(1u);
  let inner = prm(2u);
  let base = (o / inner) * n * inner + o % inner;
  var best: ${t} = ${t}(0);
  var at = -1i;
  for (var r = 0u; r < n; r = r + 1u) {
    let v = x[base + r * inner];
    if (better(v, i32(r), best, at)) { best = v; at = i32(r); }
  }
  outI[o] = max(at, 0i);
}`,
  );
}

/** out[o, i] = index of the first max (min) over r of x[o, r, i], as int32 (in segments, as `reduce`). */
export function argReduce(isMax: boolean, x: GpuArray, out: GpuArray, outer: number, n: number, inner: number): void {
  const outputs = outer * inner;
  if (outputs === 0) return;
  const t = wgslType(x.dtype);
  const ctx = out.backend.ctx;
  if (!useTree(outputs, n, ctx.software)) {
    ctx.dispatch(argSequentialSource(isMax, t), [x.bind("argmax"), out.bind("argmax")], [outputs, n, inner], Math.ceil(outputs / WG));
    return;
  }
  let values = x,
    indices: GpuArray | null = null,
    len = n,
    stride = inner;
  for (;;) {
    const segs = Math.max(1, Math.ceil(len / SEGMENT)),
      last = segs === 1;
    const nextV = last ? out : empty(out.backend, { shape: [outputs * segs], dtype: x.dtype });
    const nextI = last ? out : empty(out.backend, { shape: [outputs * segs], dtype: "int32" });
    const binds = [values, ...(indices === null ? [] : [indices]), ...(last ? [] : [nextV]), nextI].map((a) => a.bind("argmax"));
    ctx.dispatch(argSource(isMax, t, indices !== null, last), binds, [outputs, len, stride, segs], outputs * segs);
    if (values !== x) values.dispose();
    if (indices !== null) indices.dispose();
    if (last) return;
    values = nextV;
    indices = nextI;
    len = segs;
    stride = 1;
  }
}

function cumsumSource(t: T): string {
  return cached(
    `cumsum:${t}`,
    () => `${WGSL_HELPERS}
${storageDecl(0, "x", t, false)}
${storageDecl(1, "out", t, true)}
${paramsDecl()}
${ENTRY} {
  let o = ${LINEAR_INDEX};
  if (o >= prm(0u)) { return; }
  let n = prm(1u);
  let inner = prm(2u);
  let rev = prm(3u) == 1u;
  let base = (o / inner) * n * inner + o % inner;
  var acc: ${t} = ${t}(0);
  for (var k = 0u; k < n; k = k + 1u) {
    let at = base + select(k, n - 1u - k, rev) * inner;
    acc = acc + x[at];
    out[at] = ${t === "u32" ? "acc & 255u" : "acc"};
  }
}`,
  );
}

/**
 * The blocked scan's two kernels over segments of `SEGMENT` positions (in scan order, so a
 * reverse scan's segments start at the end), 16 contiguous positions per thread. "sums" writes each
 * segment's total; "scan" writes running sums, starting each segment at its exclusive prefix
 * (`incl[g] - sums[g]`, from the scan of the totals).
 */
function blockScanSource(t: T, phase: "sums" | "scan"): string {
  const wrap = (v: string) => (t === "u32" ? `(${v}) & 255u` : v);
  return cached(
    `bscan:${t}:${phase}`,
    () => `${WGSL_HELPERS}
${storageDecl(0, "x", t, false)}
${
  phase === "sums"
    ? storageDecl(1, "sums", t, true)
    : `${storageDecl(1, "incl", t, false)}
${storageDecl(2, "sums", t, false)}
${storageDecl(3, "out", t, true)}`
}
${paramsDecl()}
var<workgroup> tot: array<${t}, 256>;
${ENTRY} {
  let g = wid.y * nwg.x + wid.x;
  let segs = prm(4u);
  let o = g / segs;
  if (o >= prm(0u)) { return; }
  let n = prm(1u);
  let inner = prm(2u);
  let rev = prm(3u) == 1u;
  let base = (o / inner) * n * inner + o % inner;
  let lo = (g % segs) * ${SEGMENT}u + lid.x * 16u;
  var own: ${t} = ${t}(0);
  for (var k = 0u; k < 16u; k = k + 1u) {
    let q = lo + k;
    if (q < n) { own = own + x[base + select(q, n - 1u - q, rev) * inner]; }
  }
  tot[lid.x] = own;
  for (var d = 1u; d < 256u; d = d << 1u) {
    workgroupBarrier();
    var v = tot[lid.x];
    if (lid.x >= d) { v = v + tot[lid.x - d]; }
    workgroupBarrier();
    tot[lid.x] = v;
  }
  workgroupBarrier();
${
  phase === "sums"
    ? `  if (lid.x == 255u) { sums[g] = ${wrap("tot[255]")}; }
}`
    : `  let before = select(0u, lid.x - 1u, lid.x > 0u);
  var acc: ${t} = incl[g] - sums[g] + select(${t}(0), tot[before], lid.x > 0u);
  for (var k = 0u; k < 16u; k = k + 1u) {
    let q = lo + k;
    if (q < n) {
      let at = base + select(q, n - 1u - q, rev) * inner;
      acc = acc + x[at];
      out[at] = ${wrap("acc")};
    }
  }
}`
}`,
  );
}

/** Running sums along the middle dim (from the end when `reverse`): per row in order, or blocked for long rows. */
export function cumsum(x: GpuArray, out: GpuArray, outer: number, n: number, inner: number, reverse: boolean, dtype: DType): void {
  const rows = outer * inner;
  if (rows === 0) return;
  const ctx = out.backend.ctx,
    t = wgslType(dtype);
  if (n <= 64) {
    ctx.dispatch(cumsumSource(t), [x.bind("cumsum"), out.bind("cumsum")], [rows, n, inner, reverse ? 1 : 0], Math.ceil(rows / WG));
    return;
  }
  // Segment totals, their running sums per row (a shorter cumsum), then each segment's scan.
  const segs = Math.ceil(n / SEGMENT),
    params = [rows, n, inner, reverse ? 1 : 0, segs];
  const sums = empty(out.backend, { shape: [rows * segs], dtype }),
    incl = empty(out.backend, { shape: [rows * segs], dtype });
  ctx.dispatch(blockScanSource(t, "sums"), [x.bind("cumsum"), sums.bind("cumsum")], params, rows * segs);
  cumsum(sums, incl, rows, segs, 1, false, dtype);
  ctx.dispatch(blockScanSource(t, "scan"), [x.bind("cumsum"), incl.bind("cumsum"), sums.bind("cumsum"), out.bind("cumsum")], params, rows * segs);
  sums.dispose();
  incl.dispose();
}
