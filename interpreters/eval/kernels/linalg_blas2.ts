/**
 * The matrix-vector steps of the Householder reductions: `addRowPairs` (y += Aᵀ·v) and `rowDots`
 * (A·u) of the bidiagonalisation's panels (`linalg_svd.ts`), and `symmetricProduct` (S·v from the
 * lower triangle) of the tridiagonalisation (`linalg_eigh.ts`). They are the half of each reduction
 * that blocking cannot turn into products of matrices, and read the whole trailing matrix once per
 * reflection.
 *
 * Each is written here in JavaScript, which defines its arithmetic, and in WebAssembly SIMD with
 * the same arithmetic: every f64x2 lane does what one step of the JavaScript loop does, on two
 * neighbouring columns, and wasm rounds each multiply and add as JavaScript does (no fused
 * multiply-add). The sums along a row that the vectors split in two (even and odd columns) are
 * split the same way in JavaScript, so both give the same bits. The WebAssembly kernels run when
 * every array passed lives in this module's memory: a reduction copies its matrix and vectors into
 * `workspace()` and works on that view. Without WebAssembly, with the wasm kernels switched off
 * (`configureMatmul({ wasm: false })`), or for matrices beyond the memory's cap, the JavaScript
 * loops run on the caller's arrays.
 *
 *   memory: [the caller's workspace]
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
  f64,
  f64x2,
  forRange,
  get,
  i32,
  if_,
  inc,
  loop,
  memory as bulk,
  set,
  v128,
  wasmApi,
  widen,
} from "../../../src/codegen/wasm_asm.js";
import { matmulWasmEnabled } from "./matmul_engine.js";

/** y[yi + c] += Σ over row pairs of v_r·A(r, c) + v_{r+1}·A(r+1, c), c < cols; an odd last row adds v_r·A(r, c). */
export function addRowPairs(
  a: Float64Array,
  ai: number,
  lda: number,
  v: Float64Array,
  vi: number,
  vs: number,
  rows: number,
  y: Float64Array,
  yi: number,
  cols: number,
): void {
  const e = resident(a, v, y);
  if (e !== null)
    return e.addRowPairs(8 * (a.byteOffset / 8 + ai), 8 * lda, 8 * (v.byteOffset / 8 + vi), 8 * vs, rows, 8 * (y.byteOffset / 8 + yi), cols);
  let r = 0;
  for (; r + 1 < rows; r += 2) {
    const v0 = v[vi + r * vs]!,
      v1 = v[vi + (r + 1) * vs]!,
      a0 = ai + r * lda,
      a1 = a0 + lda;
    for (let c = 0; c < cols; c++) y[yi + c] += v0 * a[a0 + c]! + v1 * a[a1 + c]!;
  }
  if (r < rows) {
    const v0 = v[vi + r * vs]!,
      a0 = ai + r * lda;
    for (let c = 0; c < cols; c++) y[yi + c] += v0 * a[a0 + c]!;
  }
}

/**
 * out[oi + r] = A(r, 0:cols)·u for r < rows, each as two partial sums, over the even and the odd
 * columns (an odd last column joins the even sum), added at the end.
 */
export function rowDots(
  a: Float64Array,
  ai: number,
  lda: number,
  u: Float64Array,
  ui: number,
  rows: number,
  cols: number,
  out: Float64Array,
  oi: number,
): void {
  const e = resident(a, u, out);
  if (e !== null) return e.rowDots(8 * (a.byteOffset / 8 + ai), 8 * lda, 8 * (u.byteOffset / 8 + ui), rows, cols, 8 * (out.byteOffset / 8 + oi));
  for (let r = 0; r < rows; r++) {
    const ar = ai + r * lda;
    let s0 = 0,
      s1 = 0,
      c = 0;
    for (; c + 1 < cols; c += 2) {
      s0 += a[ar + c]! * u[ui + c]!;
      s1 += a[ar + c + 1]! * u[ui + c + 1]!;
    }
    if (c < cols) s0 += a[ar + c]! * u[ui + c]!;
    out[oi + r] = s0 + s1;
  }
}

/**
 * y = S·v for the symmetric len×len block S of `a` at `ai` (row stride ld), from its lower
 * triangle: row r's entries left of the diagonal serve both y[r] (as S[r][c]) and y[c] (as
 * S[c][r]). Rows go in pairs, so each pass over y serves two of them; a row's sum left of the
 * diagonal is two partial sums, over even and odd columns (r is even, so they pair up exactly).
 */
export function symmetricProduct(
  a: Float64Array,
  ai: number,
  ld: number,
  len: number,
  v: Float64Array,
  vi: number,
  y: Float64Array,
  yi: number,
): void {
  const e = resident(a, v, y);
  if (e !== null) return e.symmetricProduct(8 * (a.byteOffset / 8 + ai), 8 * ld, len, 8 * (v.byteOffset / 8 + vi), 8 * (y.byteOffset / 8 + yi));
  y.fill(0, yi, yi + len);
  for (let r = 0; r < len; r += 2) {
    const r0 = ai + r * ld,
      v0 = v[vi + r]!;
    if (r + 1 === len) {
      let xa = 0,
        xb = 0;
      for (let c = 0; c < r; c += 2) {
        const p = a[r0 + c]!,
          q = a[r0 + c + 1]!;
        xa += p * v[vi + c]!;
        xb += q * v[vi + c + 1]!;
        y[yi + c] += p * v0;
        y[yi + c + 1] += q * v0;
      }
      y[yi + r] += xa + xb + a[r0 + r]! * v0;
      return;
    }
    const r1 = r0 + ld,
      v1 = v[vi + r + 1]!;
    let x0a = 0,
      x0b = 0,
      x1a = 0,
      x1b = 0;
    for (let c = 0; c < r; c += 2) {
      const p0 = a[r0 + c]!,
        q0 = a[r0 + c + 1]!,
        p1 = a[r1 + c]!,
        q1 = a[r1 + c + 1]!,
        vc = v[vi + c]!,
        vd = v[vi + c + 1]!;
      x0a += p0 * vc;
      x0b += q0 * vd;
      x1a += p1 * vc;
      x1b += q1 * vd;
      y[yi + c] += p0 * v0 + p1 * v1;
      y[yi + c + 1] += q0 * v0 + q1 * v1;
    }
    // The 2×2 diagonal block [[S(r, r), ·], [S(r+1, r), S(r+1, r+1)]].
    const s10 = a[r1 + r]!;
    y[yi + r] += x0a + x0b + a[r0 + r]! * v0 + s10 * v1;
    y[yi + r + 1] += x1a + x1b + s10 * v0 + a[r1 + r + 1]! * v1;
  }
}

// ---- WebAssembly -------------------------------------------------------------------------------

/** The memory holds one matrix and a few vectors and never shrinks: 64 MiB (a 2800×2800 matrix). */
const PAGE = 65536,
  MAX_PAGES = 1024;

const s64 = {
  add: (a: Code, b: Code): Code => [a, b, 0xa0],
  mul: (a: Code, b: Code): Code => [a, b, 0xa2],
};
const { add, mul } = f64x2;
const lane = widen.extractLaneF64x2;

type AddRowPairsFn = (a: number, lda: number, v: number, vs: number, rows: number, y: number, cols: number) => void;
type RowDotsFn = (a: number, lda: number, u: number, rows: number, cols: number, out: number) => void;
type SymmetricFn = (a: number, ld: number, len: number, v: number, y: number) => void;

/**
 * `for (c = 0; c + 2 <= cols; c += 2) pair(c·8)`, then `single(c·8)` for an odd last column. The
 * byte offset is a fresh i32 local `at`, set before each body.
 */
function columns(c: Local, at: Local, cols: Code, pair: Code, single: Code): Code {
  return [
    set(c, i32.const(0)),
    block(loop(brIf(1, i32.gtS(i32.add(get(c), i32.const(2)), cols)), set(at, i32.shl(get(c), i32.const(3))), pair, inc(c, i32.const(2)), br(0))),
    if_(i32.ltS(get(c), cols), [set(at, i32.shl(get(c), i32.const(3))), single]),
  ];
}

function buildModule(): Uint8Array {
  const mb = new ModuleBuilder({ initial: 1, maximum: MAX_PAGES, shared: false });
  addRowPairsFunc(mb);
  rowDotsFunc(mb);
  symmetricFunc(mb);
  return mb.encode();
}

/** `addRowPairs` over byte addresses (lda and vs in bytes): two row pairs per pass over y, then one pair, then a last row. */
function addRowPairsFunc(mb: ModuleBuilder): void {
  const fn = mb.func("addRowPairs", [I32, I32, I32, I32, I32, I32, I32]);
  const [a, lda, v, vs, rows, y, cols] = [0, 1, 2, 3, 4, 5, 6].map((i) => fn.param(i)) as Local[];
  const r = fn.local(I32),
    c = fn.local(I32),
    at = fn.local(I32);
  const row = [fn.local(I32), fn.local(I32), fn.local(I32), fn.local(I32)];
  const vv = [fn.local(V128), fn.local(V128), fn.local(V128), fn.local(V128)];
  /** Rows r .. r+g-1: their addresses and their v entries, splatted. */
  const setup = (g: number): Code =>
    Array.from({ length: g }, (_, k) => [
      set(row[k]!, i32.add(get(a!), i32.mul(i32.add(get(r), i32.const(k)), get(lda!)))),
      set(vv[k]!, f64x2.loadSplat(i32.add(get(v!), i32.mul(i32.add(get(r), i32.const(k)), get(vs!))))),
    ]);
  /** v_k·A(k, at) + v_{k+1}·A(k+1, at) for the pair starting at row k: f64x2, or scalar lane 0 with `one`. */
  const pairTerm = (k: number, one: boolean): Code => {
    const ld = (q: number): Code => (one ? f64.load(i32.add(get(row[q]!), get(at))) : v128.load(i32.add(get(row[q]!), get(at))));
    if (one) return s64.add(s64.mul(lane(get(vv[k]!), 0), ld(k)), s64.mul(lane(get(vv[k + 1]!), 0), ld(k + 1)));
    return add(mul(get(vv[k]!), ld(k)), mul(get(vv[k + 1]!), ld(k + 1)));
  };
  const yAt = (): Code => i32.add(get(y!), get(at));
  const pass = (terms: (one: boolean) => Code[]): Code =>
    columns(
      c,
      at,
      get(cols!),
      v128.store(
        yAt(),
        terms(false).reduce((acc, t) => add(acc, t), v128.load(yAt())),
      ),
      f64.store(
        yAt(),
        terms(true).reduce((acc, t) => s64.add(acc, t), f64.load(yAt())),
      ),
    );
  const single = (one: boolean): Code =>
    one ? s64.mul(lane(get(vv[0]!), 0), f64.load(i32.add(get(row[0]!), get(at)))) : mul(get(vv[0]!), v128.load(i32.add(get(row[0]!), get(at))));
  fn.body = [
    set(r, i32.const(0)),
    block(
      loop(
        brIf(1, i32.gtS(i32.add(get(r), i32.const(4)), get(rows!))),
        setup(4),
        pass((one) => [pairTerm(0, one), pairTerm(2, one)]),
        inc(r, i32.const(4)),
        br(0),
      ),
    ),
    if_(i32.leS(i32.add(get(r), i32.const(2)), get(rows!)), [setup(2), pass((one) => [pairTerm(0, one)]), inc(r, i32.const(2))]),
    if_(i32.ltS(get(r), get(rows!)), [setup(1), pass((one) => [single(one)])]),
  ];
}

/** `rowDots` over byte addresses (lda in bytes): two rows per pass over u, lanes (even, odd) of one f64x2 sum per row. */
function rowDotsFunc(mb: ModuleBuilder): void {
  const fn = mb.func("rowDots", [I32, I32, I32, I32, I32, I32]);
  const [a, lda, u, rows, cols, out] = [0, 1, 2, 3, 4, 5].map((i) => fn.param(i)) as Local[];
  const r = fn.local(I32),
    c = fn.local(I32),
    at = fn.local(I32);
  const row = [fn.local(I32), fn.local(I32)];
  const acc = [fn.local(V128), fn.local(V128)];
  const uv = fn.local(V128);
  const s0 = fn.local(F64);
  const rowsOf = (g: number): Code => [
    Array.from({ length: g }, (_, k) => [
      set(row[k]!, i32.add(get(a!), i32.mul(i32.add(get(r), i32.const(k)), get(lda!)))),
      set(acc[k]!, v128.zero()),
    ]),
    set(c, i32.const(0)),
    block(
      loop(
        brIf(1, i32.gtS(i32.add(get(c), i32.const(2)), get(cols!))),
        set(at, i32.shl(get(c), i32.const(3))),
        set(uv, v128.load(i32.add(get(u!), get(at)))),
        Array.from({ length: g }, (_, k) => set(acc[k]!, add(get(acc[k]!), mul(v128.load(i32.add(get(row[k]!), get(at))), get(uv))))),
        inc(c, i32.const(2)),
        br(0),
      ),
    ),
    set(at, i32.shl(get(c), i32.const(3))),
    Array.from({ length: g }, (_, k) => [
      set(s0, lane(get(acc[k]!), 0)),
      if_(
        i32.ltS(get(c), get(cols!)),
        set(s0, s64.add(get(s0), s64.mul(f64.load(i32.add(get(row[k]!), get(at))), f64.load(i32.add(get(u!), get(at)))))),
      ),
      f64.store(i32.add(get(out!), i32.shl(i32.add(get(r), i32.const(k)), i32.const(3))), s64.add(get(s0), lane(get(acc[k]!), 1))),
    ]),
  ];
  fn.body = [
    set(r, i32.const(0)),
    block(loop(brIf(1, i32.gtS(i32.add(get(r), i32.const(2)), get(rows!))), rowsOf(2), inc(r, i32.const(2)), br(0))),
    if_(i32.ltS(get(r), get(rows!)), rowsOf(1)),
  ];
}

/** `symmetricProduct` over byte addresses (ld in bytes). */
function symmetricFunc(mb: ModuleBuilder): void {
  const fn = mb.func("symmetricProduct", [I32, I32, I32, I32, I32]);
  const [a, ld, len, v, y] = [0, 1, 2, 3, 4].map((i) => fn.param(i)) as Local[];
  const r = fn.local(I32),
    c = fn.local(I32),
    at = fn.local(I32),
    r0 = fn.local(I32),
    r1 = fn.local(I32),
    yr = fn.local(I32);
  const v0 = fn.local(V128),
    v1 = fn.local(V128),
    x0 = fn.local(V128),
    x1 = fn.local(V128),
    p0 = fn.local(V128),
    p1 = fn.local(V128),
    vc = fn.local(V128);
  const yAt = (): Code => i32.add(get(y!), get(at));
  /** The columns left of the diagonal of rows r (and r + 1 with `pair`): r is even, so they pair up. */
  const left = (pair: boolean): Code =>
    forRange(
      c,
      i32.const(0),
      get(r),
      i32.const(2),
      set(at, i32.shl(get(c), i32.const(3))),
      set(p0, v128.load(i32.add(get(r0), get(at)))),
      set(vc, v128.load(i32.add(get(v!), get(at)))),
      set(x0, add(get(x0), mul(get(p0), get(vc)))),
      pair
        ? [
            set(p1, v128.load(i32.add(get(r1), get(at)))),
            set(x1, add(get(x1), mul(get(p1), get(vc)))),
            v128.store(yAt(), add(v128.load(yAt()), add(mul(get(p0), get(v0)), mul(get(p1), get(v1))))),
          ]
        : v128.store(yAt(), add(v128.load(yAt()), mul(get(p0), get(v0)))),
    );
  const sumOf = (x: Local): Code => s64.add(lane(get(x), 0), lane(get(x), 1));
  const diag = (rowAt: Local, col: number): Code => f64.load(get(rowAt), 8 * col);
  const v0s = lane(get(v0), 0),
    v1s = lane(get(v1), 0);
  fn.body = [
    bulk.fill(get(y!), i32.const(0), i32.shl(get(len!), i32.const(3))),
    forRange(
      r,
      i32.const(0),
      get(len!),
      i32.const(2),
      set(r0, i32.add(get(a!), i32.mul(get(r), get(ld!)))),
      set(yr, i32.add(get(y!), i32.shl(get(r), i32.const(3)))),
      set(v0, f64x2.loadSplat(i32.add(get(v!), i32.shl(get(r), i32.const(3))))),
      set(x0, v128.zero()),
      if_(
        i32.eq(i32.add(get(r), i32.const(1)), get(len!)),
        [
          left(false),
          // y[r] += xa + xb + S(r, r)·v0
          set(r0, i32.add(get(r0), i32.shl(get(r), i32.const(3)))),
          f64.store(get(yr), s64.add(f64.load(get(yr)), s64.add(sumOf(x0), s64.mul(diag(r0, 0), v0s)))),
        ],
        [
          set(r1, i32.add(get(r0), get(ld!))),
          set(v1, f64x2.loadSplat(i32.add(get(v!), i32.shl(i32.add(get(r), i32.const(1)), i32.const(3))))),
          set(x1, v128.zero()),
          left(true),
          // The 2×2 diagonal block: r0 and r1 now address S(r, r) and S(r+1, r).
          set(r0, i32.add(get(r0), i32.shl(get(r), i32.const(3)))),
          set(r1, i32.add(get(r1), i32.shl(get(r), i32.const(3)))),
          f64.store(get(yr), s64.add(f64.load(get(yr)), s64.add(s64.add(sumOf(x0), s64.mul(diag(r0, 0), v0s)), s64.mul(diag(r1, 0), v1s)))),
          f64.store(get(yr), s64.add(f64.load(get(yr), 8), s64.add(s64.add(sumOf(x1), s64.mul(diag(r1, 0), v0s)), s64.mul(diag(r1, 1), v1s))), 8),
        ],
      ),
    ),
  ];
}

interface Engine {
  memory: WasmMemory;
  addRowPairs: AddRowPairsFn;
  rowDots: RowDotsFn;
  symmetricProduct: SymmetricFn;
}
let engine: Engine | null = null;
/** Set when WebAssembly or its SIMD is missing: never try again. */
let broken = false;

function getEngine(): Engine | null {
  if (engine !== null || broken) return engine;
  try {
    const wasm = wasmApi;
    if (wasm === undefined) throw new Error("no WebAssembly");
    const code = buildModule();
    if (!wasm.validate(code)) throw new Error("no SIMD");
    const memory = new wasm.Memory({ initial: 1, maximum: MAX_PAGES });
    const ex = new wasm.Instance(new wasm.Module(code), { env: { memory } }).exports;
    engine = {
      memory,
      addRowPairs: ex.addRowPairs as AddRowPairsFn,
      rowDots: ex.rowDots as RowDotsFn,
      symmetricProduct: ex.symmetricProduct as SymmetricFn,
    };
  } catch {
    broken = true;
  }
  return engine;
}

const paths = { wasm: 0, js: 0 };
/** How many steps each path has run since start-up (for tests). */
export const blas2Paths = (): { wasm: number; js: number } => ({ ...paths });

/** The engine, when the kernels are on and every array is a view of its memory. */
function resident(x: Float64Array, y: Float64Array, z: Float64Array): Engine | null {
  const e = engine;
  const buf = e?.memory.buffer;
  if (e === null || !matmulWasmEnabled() || x.buffer !== buf || y.buffer !== buf || z.buffer !== buf) {
    paths.js++;
    return null;
  }
  paths.wasm++;
  return e;
}

/**
 * `length` float64s of this module's linear memory, zeroed, for a reduction to copy its matrix and
 * vectors into so that the steps above run in WebAssembly; valid until the next call. Null without
 * WebAssembly, with the wasm kernels switched off, or past the memory's cap: then the caller keeps
 * its own arrays and the JavaScript loops run.
 */
export function workspace(length: number): Float64Array | null {
  if (!matmulWasmEnabled()) return null;
  const e = getEngine();
  if (e === null || length * 8 > MAX_PAGES * PAGE) return null;
  const have = e.memory.buffer.byteLength;
  if (length * 8 > have)
    try {
      e.memory.grow(Math.ceil((length * 8 - have) / PAGE));
    } catch {
      return null;
    }
  return new Float64Array(e.memory.buffer, 0, length).fill(0);
}
