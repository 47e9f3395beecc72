/**
 * Matrix-vector products (N = 1) in WebAssembly SIMD, with the JavaScript kernel's exact arithmetic:
 * each row's dot product keeps four float64 partial sums (s0..s3 take depths p ≡ 0..3 mod 4, the
 * leftover depths go to s0), and the result is s0 + s1 + (s2 + s3), rounded once to the output
 * type. Two f64x2 accumulators hold (s0, s1) and (s2, s3); wasm rounds every multiply and add like
 * JavaScript (no fused multiply-add), so both kernels give the same bits and `matmul.ts` may take
 * either. Four rows share each load of the vector.
 *
 * A matrix-vector product reads each matrix element once, so there is nothing to pack: A and x are
 * copied into this module's own memory (rows in chunks of at most CHUNK_BYTES), the kernel runs,
 * and y is copied back. Off with `configureMatmul({ wasm: false })`, like the other wasm kernels.
 *
 *   memory: [A chunk] [x] [y chunk]
 */
import {
  type Code,
  F64,
  I32,
  type Local,
  ModuleBuilder,
  V128,
  type WasmMemory,
  block,
  br,
  brIf,
  f32,
  f64,
  f64x2,
  get,
  i32,
  inc,
  loop,
  set,
  v128,
  wasmApi,
  widen,
} from "../../../src/codegen/wasm_asm.js";
import { matmulWasmEnabled } from "./matmul_engine.js";
import { holdOf } from "../../../src/core/buffers.js";

type Dtype = "float32" | "float64";
type MatvecFn = (a: number, x: number, y: number, m: number, k: number) => void;

/** Smallest m·k sent to WebAssembly: below it the call and copies cost more than they save. */
const MIN_WORK = 256;
/** Rows of A copied at once are capped at this many bytes (the memory never grows past ~2x it). */
const CHUNK_BYTES = 4 * 1024 * 1024;
const PAGE = 65536;
/** Rows sharing one pass over x. */
const ROWS = 4;

/** One kernel per element type: `matvec(a, x, y, m, k)` over byte addresses. */
function buildModule(dtype: Dtype): Uint8Array {
  const E = dtype === "float32" ? 4 : 8;
  const mb = new ModuleBuilder({ initial: 1, maximum: 32768, shared: false });
  const fn = mb.func("matvec", [I32, I32, I32, I32, I32]);
  const [a, x, y, m, k] = [0, 1, 2, 3, 4].map((i) => fn.param(i)) as [Local, Local, Local, Local, Local];
  const i = fn.local(I32),
    p = fn.local(I32),
    at = fn.local(I32),
    full = fn.local(I32);
  const s = [fn.local(F64), fn.local(F64), fn.local(F64), fn.local(F64)] as const;
  const xLo = fn.local(V128),
    xHi = fn.local(V128);
  const acc = Array.from({ length: ROWS }, () => [fn.local(V128), fn.local(V128)] as const);
  /** Two consecutive elements from `addr + offset` as f64x2 (float32 pairs are widened exactly). */
  const pair = (addr: Code, offset: number): Code => (E === 4 ? widen.promoteLowF32x4(v128.load64Splat(addr, offset)) : v128.load(addr, offset));
  const one = (addr: Code): Code => (E === 4 ? widen.promoteF32(f32.load(addr)) : f64.load(addr));
  const bytes = (n: Code): Code => i32.mul(n, i32.const(E));
  /** Byte address of A[i + r, p]. */
  const aAt = (r: number): Code => i32.add(get(a), bytes(i32.add(i32.mul(i32.add(get(i), i32.const(r)), get(k)), get(p))));
  const rows = (n: number): Code => [
    acc.slice(0, n).map(([lo, hi]) => [set(lo, v128.zero()), set(hi, v128.zero())]),
    set(p, i32.const(0)),
    block(
      loop(
        brIf(1, i32.gtS(i32.add(get(p), i32.const(4)), get(k))),
        set(at, i32.add(get(x), bytes(get(p)))),
        set(xLo, pair(get(at), 0)),
        set(xHi, pair(get(at), 2 * E)),
        acc
          .slice(0, n)
          .map(([lo, hi], r) => [
            set(at, aAt(r)),
            set(lo, f64x2.add(get(lo), f64x2.mul(pair(get(at), 0), get(xLo)))),
            set(hi, f64x2.add(get(hi), f64x2.mul(pair(get(at), 2 * E), get(xHi)))),
          ]),
        inc(p, i32.const(4)),
        br(0),
      ),
    ),
    set(full, get(p)),
    acc.slice(0, n).map(([lo, hi], r) => {
      const sum = f64.add(f64.add(get(s[0]), get(s[1])), f64.add(get(s[2]), get(s[3])));
      const out = i32.add(get(y), bytes(i32.add(get(i), i32.const(r))));
      return [
        set(s[0], widen.extractLaneF64x2(get(lo), 0)),
        set(s[1], widen.extractLaneF64x2(get(lo), 1)),
        set(s[2], widen.extractLaneF64x2(get(hi), 0)),
        set(s[3], widen.extractLaneF64x2(get(hi), 1)),
        set(p, get(full)),
        block(
          loop(
            brIf(1, i32.geS(get(p), get(k))),
            set(s[0], f64.add(get(s[0]), widen.mulF64(one(aAt(r)), one(i32.add(get(x), bytes(get(p))))))),
            inc(p, i32.const(1)),
            br(0),
          ),
        ),
        E === 4 ? f32.store(out, widen.demoteF64(sum)) : f64.store(out, sum),
      ];
    }),
  ];
  fn.body = [
    set(i, i32.const(0)),
    block(loop(brIf(1, i32.gtS(i32.add(get(i), i32.const(ROWS)), get(m))), rows(ROWS), inc(i, i32.const(ROWS)), br(0))),
    block(loop(brIf(1, i32.geS(get(i), get(m))), rows(1), inc(i, i32.const(1)), br(0))),
  ];
  transposed(mb, E);
  return mb.encode();
}

/**
 * `matvecT(a, x, y, m, k)`: y = aᵀ·x for a of k rows by m columns, with the same sums as `matvec` of
 * the transposed copy (so a product that contracts a matrix's first axis needs no transpose). Two
 * columns at a time: f64x2 accumulators S0..S3 hold partial sum r of both columns. With m odd, the
 * last pair reads one element past a row (at most past the end of a, into the gap before x) and
 * drops that lane.
 */
function transposed(mb: ModuleBuilder, E: number): void {
  const fn = mb.func("matvecT", [I32, I32, I32, I32, I32]);
  const [a, x, y, m, k] = [0, 1, 2, 3, 4].map((i) => fn.param(i)) as [Local, Local, Local, Local, Local];
  const i = fn.local(I32),
    p = fn.local(I32);
  const acc = [fn.local(V128), fn.local(V128), fn.local(V128), fn.local(V128)] as const;
  const sum = fn.local(V128);
  const pair = (addr: Code): Code => (E === 4 ? widen.promoteLowF32x4(v128.load64Splat(addr)) : v128.load(addr));
  const splat = (addr: Code): Code => (E === 4 ? widen.promoteLowF32x4(v128.load32Splat(addr)) : v128.load64Splat(addr));
  const bytes = (n: Code): Code => i32.mul(n, i32.const(E));
  /** acc += a[p + r, i:i+2] · x[p + r] */
  const update = (to: Local, r: number): Code => {
    const row = i32.add(get(p), i32.const(r));
    return set(
      to,
      f64x2.add(get(to), f64x2.mul(pair(i32.add(get(a), bytes(i32.add(i32.mul(row, get(m)), get(i))))), splat(i32.add(get(x), bytes(row))))),
    );
  };
  const lane = (l: number): Code => (E === 4 ? widen.demoteF64(widen.extractLaneF64x2(get(sum), l)) : widen.extractLaneF64x2(get(sum), l));
  const store = (at: Code, v: Code): Code => (E === 4 ? f32.store(at, v) : f64.store(at, v));
  fn.body = [
    set(i, i32.const(0)),
    block(
      loop(
        brIf(1, i32.geS(get(i), get(m))),
        acc.map((s) => set(s, v128.zero())),
        set(p, i32.const(0)),
        block(
          loop(
            brIf(1, i32.gtS(i32.add(get(p), i32.const(4)), get(k))),
            acc.map((s, r) => update(s, r)),
            inc(p, i32.const(4)),
            br(0),
          ),
        ),
        block(loop(brIf(1, i32.geS(get(p), get(k))), update(acc[0], 0), inc(p, i32.const(1)), br(0))),
        set(sum, f64x2.add(f64x2.add(get(acc[0]), get(acc[1])), f64x2.add(get(acc[2]), get(acc[3])))),
        store(i32.add(get(y), bytes(get(i))), lane(0)),
        brIf(1, i32.geS(i32.add(get(i), i32.const(1)), get(m))),
        store(i32.add(get(y), bytes(i32.add(get(i), i32.const(1)))), lane(1)),
        inc(i, i32.const(2)),
        br(0),
      ),
    ),
  ];
}

interface Engine {
  memory: WasmMemory;
  matvec: Record<Dtype, MatvecFn>;
  matvecT: Record<Dtype, MatvecFn>;
  f32: Float32Array;
  f64: Float64Array;
}
let engine: Engine | null = null;
/** Set when WebAssembly or its SIMD is missing: never try again. */
let broken = false;

function getEngine(bytes: number): Engine | null {
  if (broken) return null;
  try {
    if (engine === null) {
      const wasm = wasmApi;
      if (wasm === undefined) throw new Error("no WebAssembly");
      const memory = new wasm.Memory({ initial: 1, maximum: 32768 });
      const matvec = {} as Record<Dtype, MatvecFn>,
        matvecT = {} as Record<Dtype, MatvecFn>;
      for (const d of ["float32", "float64"] as const) {
        const code = buildModule(d);
        if (!wasm.validate(code)) throw new Error("no SIMD");
        const exports = new wasm.Instance(new wasm.Module(code), { env: { memory } }).exports;
        matvec[d] = exports.matvec as MatvecFn;
        matvecT[d] = exports.matvecT as MatvecFn;
      }
      engine = { memory, matvec, matvecT, f32: new Float32Array(memory.buffer), f64: new Float64Array(memory.buffer) };
    }
    const have = engine.memory.buffer.byteLength;
    if (have < bytes) {
      engine.memory.grow(Math.ceil((bytes - have) / PAGE));
      engine.f32 = new Float32Array(engine.memory.buffer);
      engine.f64 = new Float64Array(engine.memory.buffer);
    }
    return engine;
  } catch {
    broken = true;
    return null;
  }
}

/** Most bytes of matrices kept in memory for a running loop. */
const KEPT_BYTES = 8 * 1024 * 1024;
/**
 * Matrices a running loop holds unchanged (`holdDuring`: an RNN step's weights), kept at the
 * bottom of memory for that loop so each step copies in only its vector: byte addresses by
 * array, for the hold `token`; `end` is where the working area starts.
 */
const residents = { token: null as object | null, at: new Map<Float32Array | Float64Array, number>(), end: 0 };

/**
 * The byte address of the kept copy of `a` (its first n elements, all of it), copied in on first
 * use; -1 where `a` is not held by a running loop (or the kept area is full).
 */
function keptAddress(a: Float32Array | Float64Array, n: number, E: number): number {
  const token = holdOf(a);
  if (token !== residents.token) {
    residents.token = token;
    residents.at.clear();
    residents.end = 0;
  }
  if (token === null || a.length !== n) return -1;
  const at = residents.at.get(a);
  if (at !== undefined) return at;
  const start = residents.end,
    end = start + Math.ceil((n * E) / 16) * 16;
  const e = end <= KEPT_BYTES ? getEngine(end) : null;
  if (e === null) return -1;
  (E === 4 ? e.f32 : e.f64).set(a, start / E);
  residents.at.set(a, start);
  residents.end = end;
  return start;
}

/**
 * c[b] (m) = a[b] (m × k) · x[b] (k) for every batch entry, float32 or float64 (all three of one
 * type). Returns false, having done nothing, where the JavaScript kernel should run instead.
 */
export function matvecWasm(
  a: Float32Array | Float64Array,
  x: Float32Array | Float64Array,
  c: Float32Array | Float64Array,
  batch: number,
  m: number,
  k: number,
): boolean {
  if (m * k < MIN_WORK || !matmulWasmEnabled()) return false;
  const dtype: Dtype = c instanceof Float32Array ? "float32" : "float64";
  const E = dtype === "float32" ? 4 : 8;
  if (k * E > CHUNK_BYTES) return false;
  const chunk = Math.max(ROWS, Math.floor(CHUNK_BYTES / (k * E)));
  const rows = Math.min(m, chunk);
  const kept = batch === 1 && rows === m ? keptAddress(a, m * k, E) : -1;
  const base = residents.end / E;
  const xAt = base + Math.ceil((rows * k) / 2) * 2,
    yAt = xAt + Math.ceil(k / 2) * 2;
  const e = getEngine((yAt + rows) * E);
  if (e === null) return false;
  const mem = dtype === "float32" ? e.f32 : e.f64;
  const fn = e.matvec[dtype];
  for (let bi = 0; bi < batch; bi++) {
    const xOff = bi * k;
    mem.set(batch === 1 && x.length === k ? x : x.subarray(xOff, xOff + k), xAt);
    for (let i0 = 0; i0 < m; i0 += rows) {
      const n = Math.min(rows, m - i0),
        aOff = (bi * m + i0) * k;
      if (kept < 0) mem.set(aOff === 0 && a.length === n * k ? a : a.subarray(aOff, aOff + n * k), base);
      fn(kept < 0 ? base * E : kept, xAt * E, yAt * E, n, k);
      const cOff = bi * m + i0;
      for (let r = 0; r < n; r++) c[cOff + r] = mem[yAt + r]!;
    }
  }
  return true;
}

/**
 * c (m) = aᵀ · x for a (k × m) and x (k), float32 or float64 (all three of one type): the bits of
 * `matmul(transpose(a), x)` without the transpose. Returns false, having done nothing, where the
 * caller should transpose and multiply instead (wasm off or missing, tiny or huge products).
 */
export function matvecTransposedWasm(
  a: Float32Array | Float64Array,
  x: Float32Array | Float64Array,
  c: Float32Array | Float64Array,
  m: number,
  k: number,
): boolean {
  if (m * k < MIN_WORK || !matmulWasmEnabled()) return false;
  const dtype: Dtype = c instanceof Float32Array ? "float32" : "float64";
  const E = dtype === "float32" ? 4 : 8;
  if (m * k * E > CHUNK_BYTES) return false;
  const kept = keptAddress(a, m * k, E);
  const base = residents.end / E;
  // A gap of two elements after a: the last column pair of an odd m reads one element past it.
  const xAt = base + Math.ceil((m * k) / 2) * 2 + 2,
    yAt = xAt + Math.ceil(k / 2) * 2;
  const e = getEngine((yAt + m + 1) * E);
  if (e === null) return false;
  const mem = dtype === "float32" ? e.f32 : e.f64;
  mem.set(x.length === k ? x : x.subarray(0, k), xAt);
  if (kept < 0) mem.set(a.length === m * k ? a : a.subarray(0, m * k), base);
  e.matvecT[dtype](kept < 0 ? base * E : kept, xAt * E, yAt * E, m, k);
  for (let r = 0; r < m; r++) c[r] = mem[yAt + r]!;
  return true;
}
