/**
 * Sums over trailing axes of float32/float64 values that a fused WebAssembly run left in linear
 * memory (a reduction reading them in place), in exactly the blocked pairwise order of the eager
 * kernel (`pairwiseSum`: four running sums per block of SUM_BLOCK, halves added), so the bits are
 * the eager kernel's, without a JavaScript pass over the data. A long single row splits the top
 * levels of its pairwise tree across the loop threads; the partial sums are then added in the
 * tree's order. Maxima and minima over trailing axes (a softmax's row maximum) run here too, all
 * rows in one call, with the eager kernel's bits (`wasmExtremumStep`).
 */
import { SUM_BLOCK, ordered } from "../eval/kernels/reduce.js";
import { ConcreteArray } from "../../src/core/ndarray.js";
import {
  type Code,
  F64,
  type Func,
  I32,
  type Local,
  ModuleBuilder,
  V128,
  bits,
  call,
  f32,
  f32v,
  f64,
  f64v,
  forRange,
  get,
  i32,
  if_,
  scalar,
  set,
  v128,
  wasmApi,
} from "../../src/codegen/wasm_asm.js";
import { DATA, type Heap, SUM_PARTS, SUM_TABLE, heapFor, heapHolding, imports, localHeap, nextKernelId, sharedHeap } from "./wasm_heap.js";

type Env = ConcreteArray[];
type Step = (env: Env) => void;

/** Rows shorter than this are left to the eager kernel (the call costs more than it saves). */
const MIN_ROW = 1024;
/** A single row this long is split into the 2^SPLIT_DEPTH (<= SUM_PARTS) subtrees at that depth, summed on the loop threads. */
const THREAD_ROW = 1 << 16;
const SPLIT_DEPTH = 3;
const MAX_PAGES = 32768;

interface SumKernel {
  readonly id: number;
  readonly module: object;
  /** The pairwise sum of n elements from byte address p. */
  readonly psum: (p: number, n: number) => number;
  /** Sums the entries [j0, j1) of the split table. */
  readonly parts: (j0: number, j1: number) => void;
  /** The pairwise sums of `count` rows of n elements from byte address p, as float64 at byte address out. */
  readonly rows: (p: number, n: number, count: number, out: number) => void;
  /** Column sums of `rows` rows of `inner` elements from p, each summed in row order from 0, as float64 at out. */
  readonly cols: (p: number, rows: number, inner: number, out: number) => void;
  /**
   * The maximum (minimum) of each of `count` rows of n elements from p, as float64 at out: the
   * largest (smallest) value, or NaN where the row holds a NaN. Which of +0 and -0 a zero result
   * has is not the eager kernel's (the first zero's): callers redo rows whose result is 0 or NaN.
   */
  readonly maxRows: (p: number, n: number, count: number, out: number) => void;
  readonly minRows: (p: number, n: number, count: number, out: number) => void;
}
let summed = 0;
/** How many sums have run in wasm so far (tests check the path was taken). */
export const wasmSumsRun = (): number => summed;

/** Per heap (each memory has its own instances), per dtype. */
const kernels = new Map<Heap, Map<"float32" | "float64", SumKernel | null>>();

function kernelFor(h: Heap, dtype: "float32" | "float64"): SumKernel | null {
  let byDtype = kernels.get(h);
  if (byDtype === undefined) kernels.set(h, (byDtype = new Map()));
  let k = byDtype.get(dtype);
  if (k !== undefined) return k;
  try {
    const module = new wasmApi!.Module(sumModule(dtype, h.shared));
    const ex = new wasmApi!.Instance(module, imports(h.memory)).exports;
    k = {
      id: nextKernelId(),
      module,
      psum: ex.psum as SumKernel["psum"],
      parts: ex.run as SumKernel["parts"],
      rows: ex.rows as SumKernel["rows"],
      cols: ex.cols as SumKernel["cols"],
      maxRows: ex.maxRows as SumKernel["maxRows"],
      minRows: ex.minRows as SumKernel["minRows"],
    };
  } catch {
    k = null;
  }
  byDtype.set(dtype, k);
  return k;
}

/**
 * `psum(p, n)`, recursive like `pairwiseSum`; `run(j0, j1)` over the split table's entries;
 * `rows(p, n, count, out)`, psum of each of `count` consecutive rows stored as float64 from out;
 * `cols(p, rows, inner, out)`, the column sums of a block of rows as `blockColumnSums` adds them.
 */
function sumModule(dtype: "float32" | "float64", shared: boolean): Uint8Array {
  const B = dtype === "float32" ? 4 : 8;
  const m = new ModuleBuilder({ initial: 1, maximum: MAX_PAGES, shared });
  const psum = m.func("psum", [I32, I32], [F64]);
  const p = psum.param(0),
    n = psum.param(1);
  const half = psum.local(I32),
    k = psum.local(I32);
  const a = psum.local(V128),
    b = psum.local(V128),
    v = psum.local(V128);
  const s: Local[] = [psum.local(F64), psum.local(F64), psum.local(F64), psum.local(F64)];
  const at = (off: Code) => i32.add(get(p), i32.shl(off, i32.const(B === 4 ? 2 : 3)));
  const element = (off: Code) => (B === 4 ? scalar.f64PromoteF32(f32.load(at(off))) : f64.load(at(off)));
  const high = [8, 9, 10, 11, 12, 13, 14, 15, 8, 9, 10, 11, 12, 13, 14, 15];
  const block =
    B === 4
      ? [
          set(v, v128.load(at(get(k)))),
          set(a, f64v.add(get(a), f64v.promoteLowF32(get(v)))),
          set(b, f64v.add(get(b), f64v.promoteLowF32(bits.shuffle(get(v), get(v), high)))),
        ]
      : [set(a, f64v.add(get(a), v128.load(at(get(k))))), set(b, f64v.add(get(b), v128.load(at(get(k)), 16)))];
  const tail = (lane: number): Code =>
    if_(i32.ltS(i32.add(get(k), i32.const(lane)), get(n)), set(s[lane]!, f64.add(get(s[lane]!), element(i32.add(get(k), i32.const(lane))))));
  psum.body = [
    if_(i32.gtS(get(n), i32.const(SUM_BLOCK)), [
      set(half, scalar.i32ShrS(get(n), i32.const(1))),
      f64.add(call(psum.index, get(p), get(half)), call(psum.index, i32.add(get(p), i32.mul(get(half), i32.const(B))), i32.sub(get(n), get(half)))),
      RETURN,
    ]),
    set(a, bits.constF64(0, 0)),
    set(b, bits.constF64(0, 0)),
    forRange(k, i32.const(0), i32.sub(get(n), i32.const(3)), i32.const(4), block),
    set(s[0]!, f64v.extractLane(get(a), 0)),
    set(s[1]!, f64v.extractLane(get(a), 1)),
    set(s[2]!, f64v.extractLane(get(b), 0)),
    set(s[3]!, f64v.extractLane(get(b), 1)),
    [0, 1, 2].map(tail),
    f64.add(f64.add(get(s[0]!), get(s[1]!)), f64.add(get(s[2]!), get(s[3]!))),
  ];
  const run = m.func("run", [I32, I32]);
  const j = run.local(I32);
  const entry = (field: number) => i32.add(i32.const(SUM_TABLE + field), i32.shl(get(j), i32.const(4)));
  run.body = forRange(
    j,
    get(run.param(0)),
    get(run.param(1)),
    i32.const(1),
    f64.store(entry(8), call(psum.index, i32.load(entry(0)), i32.load(entry(4)))),
  );
  const rows = m.func("rows", [I32, I32, I32, I32]);
  const r = rows.local(I32);
  const [rp, rn, rcount, rout] = [0, 1, 2, 3].map((q) => rows.param(q));
  rows.body = forRange(
    r,
    i32.const(0),
    get(rcount!),
    i32.const(1),
    f64.store(
      i32.add(get(rout!), i32.shl(get(r), i32.const(3))),
      call(psum.index, i32.add(get(rp!), i32.mul(get(r), i32.mul(get(rn!), i32.const(B)))), get(rn!)),
    ),
  );
  // Four float32 (two float64) columns per vector load, their sums in two (one) f64x2; the last
  // inner % 4 (% 2) columns one by one. Each column is summed from 0 in row order, as in JavaScript.
  const cols = m.func("cols", [I32, I32, I32, I32]);
  const cp = cols.param(0),
    crows = cols.param(1),
    cinner = cols.param(2),
    cout = cols.param(3);
  const ci = cols.local(I32),
    cr = cols.local(I32),
    rowBytes = cols.local(I32);
  const ca = cols.local(V128),
    cb = cols.local(V128),
    cv = cols.local(V128),
    cs = cols.local(F64);
  const lanes = B === 4 ? 4 : 2;
  const cell = () => i32.add(i32.add(get(cp), i32.mul(get(cr), get(rowBytes))), i32.shl(get(ci), i32.const(B === 4 ? 2 : 3)));
  const outAt = () => i32.add(get(cout), i32.shl(get(ci), i32.const(3)));
  const addRow =
    B === 4
      ? [
          set(cv, v128.load(cell())),
          set(ca, f64v.add(get(ca), f64v.promoteLowF32(get(cv)))),
          set(cb, f64v.add(get(cb), f64v.promoteLowF32(bits.shuffle(get(cv), get(cv), high)))),
        ]
      : [set(ca, f64v.add(get(ca), v128.load(cell())))];
  const storeSums = B === 4 ? [v128.store(outAt(), get(ca)), v128.store(outAt(), get(cb), 16)] : [v128.store(outAt(), get(ca))];
  const cellValue = B === 4 ? scalar.f64PromoteF32(f32.load(cell())) : f64.load(cell());
  cols.body = [
    set(rowBytes, i32.mul(get(cinner), i32.const(B))),
    forRange(ci, i32.const(0), i32.sub(get(cinner), i32.const(lanes - 1)), i32.const(lanes), [
      set(ca, bits.constF64(0, 0)),
      set(cb, bits.constF64(0, 0)),
      forRange(cr, i32.const(0), get(crows), i32.const(1), addRow),
      storeSums,
    ]),
    // The columns the vectors left, from where that loop stopped.
    forRange(ci, get(ci), get(cinner), i32.const(1), [
      set(cs, scalar.f64Const(0)),
      forRange(cr, i32.const(0), get(crows), i32.const(1), set(cs, f64.add(get(cs), cellValue))),
      f64.store(outAt(), get(cs)),
    ]),
  ];
  extremumRows(m.func("maxRows", [I32, I32, I32, I32]), dtype, "max");
  extremumRows(m.func("minRows", [I32, I32, I32, I32]), dtype, "min");
  return m.encode();
}
const RETURN: Code = [0x0f];

/**
 * `maxRows` / `minRows`: per row, vector lanes keep a running pseudo-maximum (a < b ? b : a, so a
 * tie keeps what it had) and a NaN flag; the lanes are then folded and the last n % lanes elements
 * added one by one. A row with a NaN gives NaN.
 */
function extremumRows(f: Func, dtype: "float32" | "float64", op: "max" | "min"): void {
  const B = dtype === "float32" ? 4 : 8;
  const lanes = 16 / B;
  const v = dtype === "float32" ? f32v : f64v;
  const pick = op === "max" ? v.pmax : v.pmin;
  const [p, n, count, out] = [0, 1, 2, 3].map((q) => f.param(q));
  const r = f.local(I32),
    k = f.local(I32),
    row = f.local(I32),
    acc = f.local(V128),
    nan = f.local(V128),
    x = f.local(V128),
    m = f.local(F64),
    e = f.local(F64),
    flag = f.local(I32);
  const start = op === "max" ? -Infinity : Infinity;
  const splat = dtype === "float32" ? f32v.splat(scalar.f32Const(start)) : f64v.splat(scalar.f64Const(start));
  // Fold the lanes: the upper half onto the lower, then (float32) lane 1 onto lane 0.
  const high = [8, 9, 10, 11, 12, 13, 14, 15, 8, 9, 10, 11, 12, 13, 14, 15];
  const second = [4, 5, 6, 7, 4, 5, 6, 7, 4, 5, 6, 7, 4, 5, 6, 7];
  const fold: Code[] = [set(acc, pick(get(acc), bits.shuffle(get(acc), get(acc), high)))];
  if (lanes === 4) fold.push(set(acc, pick(get(acc), bits.shuffle(get(acc), get(acc), second))));
  const lane0 = dtype === "float32" ? scalar.f64PromoteF32(f32v.extractLane(get(acc), 0)) : f64v.extractLane(get(acc), 0);
  const element = (at: Code): Code => (dtype === "float32" ? scalar.f64PromoteF32(f32.load(at)) : f64.load(at));
  const better = op === "max" ? scalar.f64Gt(get(e), get(m)) : scalar.f64Lt(get(e), get(m));
  f.body = [
    set(row, get(p)),
    forRange(r, i32.const(0), get(count), i32.const(1), [
      set(acc, splat),
      set(nan, v128.zero()),
      forRange(k, i32.const(0), i32.sub(get(n), i32.const(lanes - 1)), i32.const(lanes), [
        set(x, v128.load(i32.add(get(row), i32.mul(get(k), i32.const(B))))),
        set(acc, pick(get(acc), get(x))),
        set(nan, bits.or(get(nan), v.ne(get(x), get(x)))),
      ]),
      fold,
      set(m, lane0),
      set(flag, bits.anyTrue(get(nan))),
      // The last n % lanes elements, one by one (k stopped where the vectors did).
      forRange(k, get(k), get(n), i32.const(1), [
        set(e, element(i32.add(get(row), i32.mul(get(k), i32.const(B))))),
        if_(better, set(m, get(e))),
        if_(scalar.f64Ne(get(e), get(e)), set(flag, i32.const(1))),
      ]),
      if_(get(flag), set(m, scalar.f64Const(NaN))),
      f64.store(i32.add(get(out), i32.shl(get(r), i32.const(3))), get(m)),
      set(row, i32.add(get(row), i32.mul(get(n), i32.const(B)))),
    ]),
  ];
}

/** The subtrees at depth SPLIT_DEPTH of `pairwiseSum`'s tree over [start, start + n), in order. */
function split(start: number, n: number): [number, number][] {
  let parts: [number, number][] = [[start, n]];
  for (let d = 0; d < SPLIT_DEPTH; d++)
    parts = parts.flatMap(([s0, m]): [number, number][] => [
      [s0, m >> 1],
      [s0 + (m >> 1), m - (m >> 1)],
    ]);
  return parts;
}

/**
 * A step for a reduce_sum over the trailing axes of a float32/float64 value (`outer` rows of `n`):
 * long rows in WebAssembly where a fused run left the value (a single long row on the loop
 * threads), else copied in and summed in one call; many short rows in one wasm call (read in place
 * or copied in); `fallback` where linear memory cannot take it.
 */
export function wasmSumStep(
  inSlot: number,
  outSlot: number,
  outer: number,
  n: number,
  dtype: "float32" | "float64",
  outShape: number[],
  fallback: Step,
): Step {
  if (sharedHeap() === null || (n < MIN_ROW && (outer < ROWS_MIN_COUNT || outer * n < ROWS_MIN_ELEMENTS))) return fallback;
  const B = dtype === "float32" ? 4 : 8;
  // Every row in one wasm call (a call per row costs more than a short row's sum: a classifier's
  // log-sum-exp over 4 classes, per example), read in place or copied in, the float64 results
  // written above the operand.
  const allRows: Step = (env) => {
    const sums = rowResults(env[inSlot]!.values, dtype, outer, n, (k) => k.rows);
    if (sums === null) return fallback(env);
    const out = dtype === "float32" ? new Float32Array(outer) : new Float64Array(outer);
    out.set(sums);
    env[outSlot] = new ConcreteArray(out, outShape, dtype);
  };
  if (n < MIN_ROW) return allRows;
  const tree = split(0, n);
  return (env) => {
    const x = env[inSlot]!.values;
    const h = heapHolding(x.buffer);
    const kernel = h === null ? null : kernelFor(h, dtype);
    // Not in linear memory (a program's input, an eager operand): copied in, then one call.
    if (h === null || kernel === null) return allRows(env);
    summed++;
    const out = dtype === "float32" ? new Float32Array(outer) : new Float64Array(outer);
    if (outer === 1 && n >= THREAD_ROW && h.pool !== null) {
      const table = new Int32Array(h.memory.buffer, SUM_TABLE, SUM_PARTS * 4);
      const results = new Float64Array(h.memory.buffer, SUM_TABLE, SUM_PARTS * 2);
      tree.forEach(([s0, m], q) => {
        table[4 * q] = x.byteOffset + s0 * B;
        table[4 * q + 1] = m;
      });
      h.pool.run(kernel.id, kernel.module, kernel.parts, tree.length, 1);
      let sums = tree.map((_, q) => results[2 * q + 1]!);
      while (sums.length > 1) sums = sums.filter((_, q) => q % 2 === 0).map((t, q) => t + sums[2 * q + 1]!);
      out[0] = sums[0]!;
    } else for (let o = 0; o < outer; o++) out[o] = kernel.psum(x.byteOffset + o * n * B, n);
    env[outSlot] = new ConcreteArray(out, outShape, dtype);
  };
}

/**
 * Runs a per-row kernel (`rows`, `maxRows`, `minRows`) over `outer` rows of n elements of x in one
 * call, reading x where it lies in linear memory or copying it in (`place`); its float64 results
 * (a view into the memory, read before the next kernel runs), or null where linear memory cannot
 * take x.
 */
function rowResults(
  x: ConcreteArray["values"],
  dtype: "float32" | "float64",
  outer: number,
  n: number,
  pick: (k: SumKernel) => SumKernel["rows"],
): Float64Array | null {
  const placed = place(x, dtype, outer * 8);
  if (placed === null) return null;
  const { h, kernel, at, results } = placed;
  summed++;
  pick(kernel)(at, n, outer, results);
  return new Float64Array(h.memory.buffer, results, outer);
}

/**
 * Where a sum's operand lies in a heap, at byte address `at` (where a fused run left it, or copied in
 * above the values still pending for the reductions after that run), and room for `resultBytes`
 * above it from `results`; null where the kernels cannot take it (then the eager kernel runs).
 */
function place(
  x: ConcreteArray["values"],
  dtype: "float32" | "float64",
  resultBytes: number,
): { h: Heap; kernel: SumKernel; at: number; results: number } | null {
  const held = heapHolding(x.buffer);
  const h = held ?? localHeap();
  const kernel = h === null ? null : kernelFor(h, dtype);
  if (h === null || kernel === null) return null;
  const free = Math.ceil(h.pending / 64) * 64;
  const results = held !== null ? free : free + Math.ceil(x.byteLength / 64) * 64;
  const need = results + resultBytes;
  // Growing would detach the views of values still pending: only when none are.
  if (need > h.memory.buffer.byteLength && (h.pending !== DATA || !heapFor(h, need - DATA))) return null;
  if (held === null) h.views[dtype].set(x as never, free / x.BYTES_PER_ELEMENT);
  return { h, kernel, at: held !== null ? x.byteOffset : free, results };
}

/**
 * A step for a reduce_max / reduce_min over the trailing axes of a float32/float64 value (`outer`
 * rows of `n`) in one wasm call (`maxRows` / `minRows`), reading it where a fused run left it or
 * copying it in; rows whose result is NaN or zero are redone here as the eager kernel does them
 * (the last NaN, the first zero's sign), so the bits are the eager kernel's.
 */
export function wasmExtremumStep(
  inSlot: number,
  outSlot: number,
  outer: number,
  n: number,
  dtype: "float32" | "float64",
  outShape: number[],
  op: "max" | "min",
  fallback: Step,
): Step {
  if (sharedHeap() === null || outer * n < ROWS_MIN_ELEMENTS || n < 2) return fallback;
  const max = op === "max";
  return (env) => {
    const x = env[inSlot]!.values;
    const got = rowResults(x, dtype, outer, n, (k) => (max ? k.maxRows : k.minRows));
    if (got === null) return fallback(env);
    const out = dtype === "float32" ? new Float32Array(outer) : new Float64Array(outer);
    for (let o = 0; o < outer; o++) {
      const m = got[o]!;
      out[o] = m === m && m !== 0 ? m : ordered(x, o * n, (o + 1) * n, max);
    }
    env[outSlot] = new ConcreteArray(out, outShape, dtype);
  };
}

/** Short rows go to wasm from this many rows and elements on. */
const ROWS_MIN_COUNT = 16;
const ROWS_MIN_ELEMENTS = 1024;

/** Rows per block of `pairwiseRows` in reduce.ts: longer runs of rows are split in halves. */
const COLUMN_BLOCK = SUM_BLOCK;

/**
 * Sums over a middle block of axes ([outer, n, inner] with inner > 1: a bias gradient over the
 * batch axis) in wasm: each block of at most SUM_BLOCK rows by the `cols` kernel, longer runs split
 * in halves and added here in float64, exactly as `pairwiseRows` does, so the bits are eager's. The
 * operand is read where a fused run left it or copied in; the partial sums lie above it.
 */
export function wasmColumnSumStep(
  inSlot: number,
  outSlot: number,
  [outer, n, inner]: readonly [number, number, number],
  dtype: "float32" | "float64",
  outShape: number[],
  fallback: Step,
): Step {
  if (sharedHeap() === null || outer * n * inner < ROWS_MIN_ELEMENTS || inner < 2) return fallback;
  const B = dtype === "float32" ? 4 : 8;
  // Regions of `inner` float64 sums: the result, then one per depth of the halving (as `scratch`).
  let depths = 0;
  for (let m = n; m > COLUMN_BLOCK; m -= m >> 1) depths++;
  const regionBytes = Math.ceil((inner * 8) / 64) * 64;
  return (env) => {
    const placed = place(env[inSlot]!.values, dtype, (depths + 1) * regionBytes);
    if (placed === null) return fallback(env);
    const { h, kernel, at: base, results: regions } = placed;
    const sums = new Float64Array(h.memory.buffer, regions, (depths + 1) * (regionBytes / 8));
    const at = (region: number) => regions + region * regionBytes;
    /** Column sums of rows [r0, r1) of block o into region `into`, split as `pairwiseRows` splits. */
    const block = (o: number, r0: number, r1: number, into: number, depth: number): void => {
      const rows = r1 - r0;
      if (rows <= COLUMN_BLOCK) return kernel.cols(base + (o * n + r0) * inner * B, rows, inner, at(into));
      const mid = r0 + (rows >> 1);
      block(o, r0, mid, into, depth + 1);
      block(o, mid, r1, depth + 1, depth + 1);
      const acc = (into * regionBytes) / 8,
        right = ((depth + 1) * regionBytes) / 8;
      for (let i = 0; i < inner; i++) sums[acc + i] += sums[right + i]!;
    };
    summed++;
    const out = dtype === "float32" ? new Float32Array(outer * inner) : new Float64Array(outer * inner);
    for (let o = 0; o < outer; o++) {
      block(o, 0, n, 0, 0);
      out.set(sums.subarray(0, inner), o * inner);
    }
    env[outSlot] = new ConcreteArray(out, outShape, dtype);
  };
}
