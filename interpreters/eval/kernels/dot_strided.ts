/**
 * Small float dot_generals (a vmapped model's batched, transposed products) as one batched product
 * of strided views. Where every entry's operands are dense blocks of their sources (row-major or
 * transposed; a broadcast operand is one block read by every entry), nothing is gathered: each
 * source is copied into the wasm GEMM's memory whole and the kernels read the blocks there, the
 * transposed ones through their transposing packers (`matmulWasmOffsets`). Otherwise (interleaved
 * layouts) each batch entry's operands are gathered, with their own strides, straight into the
 * GEMM's memory (`matmulWasmInPlace`), so an operand costs no array of its own either way and the
 * result is written in its final layout.
 *
 * Either orientation runs, on either register tile: C = A·B, or Cᵀ = Bᵀ·Aᵀ, on the wide tile (2 rows
 * by 16 float32 or 8 float64 columns) or the narrow one (6 rows by 4 or 2 columns), whichever wastes
 * least of the tile (a product with 4 columns does 4x its work on the wide one) and gathers fewest
 * elements with strides. The kernel sums each element's products in k order (in blocks of its
 * depth KC, added in order) whatever the layout, and a·b = b·a exactly, so both orientations give
 * the bits of the transpose-then-multiply path. Knows nothing of NDArrays: flat values, shapes
 * and dimension numbers in; false (nothing written) where this path does not apply.
 */
import { tileCols } from "./gemm_wasm_module.js";
import { NARROW, PARAMS } from "./matmul_engine.js";
import { matmulWasmInPlace, matmulWasmOffsets } from "./matmul_wasm.js";

type Floats = Float32Array | Float64Array;

/** Products up to this many multiply-adds: larger ones keep the threaded contiguous path. */
const MAX_WORK = 1 << 22;
/** Rows and columns of one of the wasm kernel's register tiles (gemm_wasm_module.ts: MR x NV·lanes). */
const tile = (p: (typeof PARAMS)["float32"]) => ({ rows: p.mr, cols: tileCols(p) });
/**
 * Cost of a padded multiply-add on the narrow tile against the wide one (it loads a B vector and six
 * broadcasts per six vector multiply-adds, where the wide one loads six values per eight). Measured
 * in CPU time on plain products: the narrow tile wins at 3, 4 and 8 float32 columns (up to 1.5x)
 * and loses at 10 and 12.
 */
const NARROW_COST = 1.7;
/** Cost of gathering one element with a stride, in padded multiply-adds of the kernel (measured, roughly). */
const GATHER = 24;
/** Shortest unit-stride run copied by `set` rather than element by element. */
const SET_MIN = 32;

/** One operand of the kernel, a batch entry's rows x cols: its dims (row dims, then column dims) and strides. */
interface View {
  shape: number[];
  strides: number[];
}

/** Drops size-1 dims and fuses dims that step through memory as one. */
function merge(shape: readonly number[], strides: readonly number[]): { shape: number[]; strides: number[] } {
  const sh: number[] = [],
    st: number[] = [];
  for (let d = 0; d < shape.length; d++) {
    if (shape[d] === 1) continue;
    const last = sh.length - 1;
    if (last >= 0 && st[last] === strides[d]! * shape[d]!) {
      sh[last]! *= shape[d]!;
      st[last] = strides[d]!;
    } else {
      sh.push(shape[d]!);
      st.push(strides[d]!);
    }
  }
  return { shape: sh, strides: st };
}

/** The view of `axes` (rows) then `cols` of an operand of `shape` with `strides`. */
function view(shape: readonly number[], strides: readonly number[], rows: readonly number[], cols: readonly number[]): View {
  const dims = [...rows, ...cols];
  return { shape: dims.map((d) => shape[d]!), strides: dims.map((d) => strides[d]!) };
}

/** Whether gathering `v` row-major reads element by element with a stride (not in unit-stride runs). */
function strided(v: View): boolean {
  const { strides } = merge(v.shape, v.strides);
  return strides.length > 0 && strides[strides.length - 1] !== 1;
}

/**
 * A gatherer writing one batch entry of `v` row-major at dst[at...]: an odometer over the merged
 * outer dims, the innermost dim copied by `set` when it is a long unit-stride run, else element by
 * element.
 */
function gatherer(v: View): Gather {
  const { shape, strides } = merge(v.shape, v.strides);
  const nd = shape.length;
  if (nd === 0) return (src, from, dst, at) => void (dst[at] = src[from]!);
  const inner = shape[nd - 1]!,
    step = strides[nd - 1]!;
  const run =
    step === 1 && inner >= SET_MIN
      ? (src: Floats, s: number, dst: Floats, t: number) => dst.set(src.subarray(s, s + inner), t)
      : (src: Floats, s: number, dst: Floats, t: number) => {
          for (let j = 0; j < inner; j++, s += step) dst[t + j] = src[s]!;
        };
  if (nd === 1) return run;
  if (nd === 2 && !(step === 1 && inner >= SET_MIN)) {
    // Two dims with a strided or short inner one (a transposed matrix): a plain double loop.
    const rows = shape[0]!,
      rowStep = strides[0]!;
    return (src, from, dst, at) => {
      for (let r = 0, s0 = from, t = at; r < rows; r++, s0 += rowStep) for (let j = 0, s = s0; j < inner; j++, s += step) dst[t++] = src[s]!;
    };
  }
  const outerShape = shape.slice(0, nd - 1),
    outerStrides = strides.slice(0, nd - 1);
  const idx = new Array<number>(nd - 1);
  return (src, from, dst, at) => {
    idx.fill(0);
    for (let s = from, t = at; ; t += inner) {
      run(src, s, dst, t);
      let d = nd - 2;
      for (; d >= 0; d--) {
        s += outerStrides[d]!;
        if (++idx[d]! < outerShape[d]!) break;
        s -= outerStrides[d]! * outerShape[d]!;
        idx[d] = 0;
      }
      if (d < 0) return;
    }
  };
}

/** A block of one element: it lies dense with any step. */
const ANY = Infinity;
/**
 * The step between consecutive elements of the block `dims` (row-major, in that order) of an operand
 * with `strides`, if it lies dense with that step: each dim's stride is the step times the sizes of
 * the dims after it (size-1 dims ignored). ANY for a block of one element; -1 where it is not dense.
 */
function blockStep(shape: readonly number[], strides: readonly number[], dims: readonly number[]): number {
  let step = ANY,
    size = 1;
  for (let i = dims.length - 1; i >= 0; i--) {
    const d = dims[i]!;
    if (shape[d] === 1) continue;
    if (step === ANY) step = strides[d]!;
    else if (strides[d] !== step * size) return -1;
    size *= shape[d]!;
  }
  return step;
}
const fits = (step: number, want: number) => step === ANY || step === want;

/**
 * How each entry's operands lie in their sources, where both are dense blocks the kernels read in
 * place (`matmulWasmOffsets`): A row-major (contracted dims unit-stride, rows k apart) or
 * transposed (free dims unit-stride, contracted rows lda >= m apart), B row-major (rows n apart)
 * or transposed (contracted dims unit-stride, rows k apart). Null otherwise.
 */
function inPlace(
  ls: readonly number[],
  rs: readonly number[],
  lShape: readonly number[],
  rShape: readonly number[],
  lc: readonly number[],
  lFree: readonly number[],
  rc: readonly number[],
  rFree: readonly number[],
  m: number,
  k: number,
  n: number,
): { transposedA: boolean; lda: number; transposedB: boolean } | null {
  const aK = blockStep(lShape, ls, lc),
    aM = blockStep(lShape, ls, lFree),
    bK = blockStep(rShape, rs, rc),
    bN = blockStep(rShape, rs, rFree);
  let transposedA: boolean,
    lda = m;
  if (fits(aK, 1) && fits(aM, k)) transposedA = false;
  else if (fits(aM, 1) && aK !== -1 && (aK === ANY || aK >= m)) {
    transposedA = true;
    if (aK !== ANY) lda = aK;
  } else return null;
  let transposedB: boolean;
  if (fits(bN, 1) && fits(bK, n)) transposedB = false;
  else if (fits(bK, 1) && fits(bN, k)) transposedB = true;
  else return null;
  return { transposedA, lda, transposedB };
}

/** Row-major strides of `shape`. */
function stridesOf(shape: readonly number[]): number[] {
  const s = new Array<number>(shape.length);
  for (let d = shape.length - 1, acc = 1; d >= 0; d--) {
    s[d] = acc;
    acc *= shape[d]!;
  }
  return s;
}

/** The flat offset of every batch entry (batch dims `axes`, row-major over their sizes). */
function entryOffsets(shape: readonly number[], strides: readonly number[], axes: readonly number[]): number[] {
  let offs = [0];
  for (const d of axes) {
    const next: number[] = [];
    for (const o of offs) for (let i = 0; i < shape[d]!; i++) next.push(o + i * strides[d]!);
    offs = next;
  }
  return offs;
}

const sizeOf = (shape: readonly number[], axes: readonly number[]) => axes.reduce((a, d) => a * shape[d]!, 1);

/** How one dot_general of given shapes runs: sizes, orientation, each entry's offsets, the gatherers. */
interface Plan {
  /** What the plan is for: shapes, strides, dimension numbers (flattened: lc, rc, lb, rb) and element type. */
  lShape: readonly number[];
  rShape: readonly number[];
  /** The operands' element strides; undefined for row-major. */
  lStrides: readonly number[] | undefined;
  rStrides: readonly number[] | undefined;
  dims: readonly (readonly number[])[];
  dtype: "float32" | "float64";
  /** False where the kernel does not take the product. */
  ok: boolean;
  batch: number;
  m: number;
  k: number;
  n: number;
  swap: boolean;
  /** On the narrow register tile. */
  narrow: boolean;
  /** Every entry of the operand reads the same elements (its batch dims have stride 0): gathered once. */
  lShared: boolean;
  rShared: boolean;
  lOff: number[];
  rOff: number[];
  gatherL: Gather;
  gatherR: Gather;
  /** Cᵀ (n x m, in the kernel's memory) into C, when swapped. */
  storeT: Gather | null;
  /** Set where both operands are read in place (`matmulWasmOffsets`), unswapped, on the tile `narrow` names. */
  direct: { transposedA: boolean; lda: number; transposedB: boolean } | null;
}
type Gather = (src: Floats, from: number, dst: Floats, at: number) => void;

/**
 * Plans by the params' dimension-number tuple: a compiled program passes the same params object on
 * every call, so its products are planned once. A plan is used only for the shapes, dimension
 * numbers and element type it was made for (a tuple may be shared by products that differ).
 */
const plans = new WeakMap<object, Plan>();

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
const sameStrides = (a: readonly number[] | undefined, b: readonly number[] | undefined) =>
  a === undefined || b === undefined ? a === b : sameShape(a, b);

function plan(
  dtype: "float32" | "float64",
  lShape: readonly number[],
  lStrides: readonly number[] | undefined,
  rShape: readonly number[],
  rStrides: readonly number[] | undefined,
  [lc, rc]: readonly [readonly number[], readonly number[]],
  [lb, rb]: readonly [readonly number[], readonly number[]],
): Plan {
  const lFree = lShape.map((_, d) => d).filter((d) => !lc.includes(d) && !lb.includes(d));
  const rFree = rShape.map((_, d) => d).filter((d) => !rc.includes(d) && !rb.includes(d));
  const batch = sizeOf(lShape, lb),
    m = sizeOf(lShape, lFree),
    k = sizeOf(lShape, lc),
    n = sizeOf(rShape, rFree);
  const ls = lStrides ?? stridesOf(lShape),
    rs = rStrides ?? stridesOf(rShape);
  const lShared = lb.every((d) => ls[d] === 0),
    rShared = rb.every((d) => rs[d] === 0);
  const a = view(lShape, ls, lFree, lc),
    b = view(rShape, rs, rc, rFree);
  const aT = view(lShape, ls, lc, lFree),
    bT = view(rShape, rs, rFree, rc);
  const padded = (t: { rows: number; cols: number }, rows: number, cols: number) =>
    Math.ceil(rows / t.rows) * t.rows * Math.ceil(cols / t.cols) * t.cols * k;
  // Per entry: a shared operand is gathered once for all of them.
  const gathered = (v: View, elements: number, shared: boolean) => (strided(v) ? (GATHER * elements) / (shared ? batch : 1) : 0);
  const gatherStraight = gathered(a, m * k, lShared) + gathered(b, k * n, rShared),
    gatherSwapped = gathered(bT, n * k, rShared) + gathered(aT, k * m, lShared) + GATHER * m * n;
  // [cost, swap, narrow] of each way, the cheapest first (ties keep the earlier, wide and straight).
  const [cost, gatheredSwap, gatheredNarrow] = [false, true]
    .flatMap((nw) => {
      const t = tile((nw ? NARROW : PARAMS)[dtype]),
        w = nw ? NARROW_COST : 1;
      return [[w * padded(t, m, n) + gatherStraight, false, nw] as const, [w * padded(t, n, m) + gatherSwapped, true, nw] as const];
    })
    .reduce((best, way) => (way[0] < best[0] ? way : best));
  // Read in place, unswapped (no gathers and no transposition of C), unless padding its tile wastes
  // more than twice the best gathered way's cost.
  const wide = padded(tile(PARAMS[dtype]), m, n),
    thin = NARROW_COST * padded(tile(NARROW[dtype]), m, n);
  const placed = inPlace(ls, rs, lShape, rShape, lc, lFree, rc, rFree, m, k, n);
  const direct = placed !== null && Math.min(wide, thin) <= 2 * cost ? placed : null;
  const swap = direct === null && gatheredSwap,
    narrow = direct === null ? gatheredNarrow : thin < wide;
  return {
    lShape: lShape.slice(),
    rShape: rShape.slice(),
    lStrides: lStrides?.slice(),
    rStrides: rStrides?.slice(),
    dims: [lc, rc, lb, rb].map((d) => d.slice()),
    dtype,
    ok: batch * m * k * n <= MAX_WORK,
    batch,
    m,
    k,
    n,
    swap,
    narrow,
    lShared,
    rShared,
    lOff: entryOffsets(lShape, ls, lb),
    rOff: entryOffsets(rShape, rs, rb),
    gatherL: gatherer(swap ? aT : a),
    gatherR: gatherer(swap ? bT : b),
    storeT: swap ? gatherer({ shape: [m, n], strides: [1, m] }) : null,
    direct,
  };
}

/**
 * out (row-major [batch..., lFree..., rFree...]) = dot_general(l, r) with contracting dims lc/rc and
 * batch dims lb/rb (`contract` and `batch` are the primitive's params, whose identity keys the
 * plan), on the wasm kernel; false, with out untouched, where the kernel does not take it (mixed
 * element types, wasm off, products too small or with a single row or column, large ones).
 * An operand is read row-major, or with the element strides given: the jit reads broadcasts
 * (stride 0) and transposes of an operand this way instead of materialising them.
 */
export function dotStrided(
  l: Floats,
  lShape: readonly number[],
  r: Floats,
  rShape: readonly number[],
  contract: readonly [readonly number[], readonly number[]],
  batch: readonly [readonly number[], readonly number[]],
  out: Floats,
  lStrides?: readonly number[],
  rStrides?: readonly number[],
): boolean {
  if (l.constructor !== r.constructor || out.constructor !== l.constructor) return false;
  const dtype = l instanceof Float32Array ? "float32" : "float64";
  let p = plans.get(contract);
  if (p === undefined || !planFits(p, dtype, lShape, rShape, lStrides, rStrides, contract, batch)) {
    plans.set(contract, (p = plan(dtype, lShape, lStrides, rShape, rStrides, contract, batch)));
  }
  if (!p.ok) return false;
  const { m, n, swap, narrow, lOff, rOff, gatherL, gatherR, storeT, direct } = p;
  if (direct !== null)
    return matmulWasmOffsets(
      dtype,
      {
        batch: p.batch,
        m,
        k: p.k,
        n,
        narrow,
        a: l,
        aOff: lOff,
        transposedA: direct.transposedA,
        lda: direct.lda,
        b: r,
        bOff: rOff,
        transposedB: direct.transposedB,
      },
      out,
    );
  const mn = m * n;
  return matmulWasmInPlace(dtype, {
    batch: p.batch,
    m: swap ? n : m,
    k: p.k,
    n: swap ? m : n,
    narrow,
    sharedA: swap ? p.rShared : p.lShared,
    sharedB: swap ? p.lShared : p.rShared,
    input: dtype === "float32" ? EMPTY32 : EMPTY64,
    a: swap ? (v, to, e) => gatherR(r, rOff[e]!, v, to) : (v, to, e) => gatherL(l, lOff[e]!, v, to),
    b: swap ? (v, to, e) => gatherL(l, lOff[e]!, v, to) : (v, to, e) => gatherR(r, rOff[e]!, v, to),
    c: storeT === null ? (v, from, e) => out.set(v.subarray(from, from + mn), e * mn) : (v, from, e) => storeT(v, from, out, e * mn),
  });
}

/** Whether plan `q` was made for these operands (called on every product: no allocation). */
function planFits(
  q: Plan,
  dtype: "float32" | "float64",
  lShape: readonly number[],
  rShape: readonly number[],
  lStrides: readonly number[] | undefined,
  rStrides: readonly number[] | undefined,
  contract: readonly [readonly number[], readonly number[]],
  batch: readonly [readonly number[], readonly number[]],
): boolean {
  return (
    q.dtype === dtype &&
    sameShape(q.lShape, lShape) &&
    sameShape(q.rShape, rShape) &&
    sameStrides(q.lStrides, lStrides) &&
    sameStrides(q.rStrides, rStrides) &&
    sameShape(q.dims[0]!, contract[0]) &&
    sameShape(q.dims[1]!, contract[1]) &&
    sameShape(q.dims[2]!, batch[0]) &&
    sameShape(q.dims[3]!, batch[1])
  );
}

/** The in-place product's `input`: the gatherers read the operands where they are. */
const EMPTY32 = new Float32Array(0);
const EMPTY64 = new Float64Array(0);
