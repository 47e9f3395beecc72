/**
 * Sweeps of plane rotations applied to the columns of matrices (the eigenvectors of `eigh`, the
 * singular vectors of the SVD), in WebAssembly SIMD: `rotators` copies each matrix's rotated columns
 * into linear memory with rows paired up (row 2p in lane 0 and row 2p+1 in lane 1 of each f64x2),
 * every sweep then runs as `rotateChain` does (one pass per row, carrying the running entry) on
 * two rows per vector and four vectors at a time, and `finish` copies them back. Without
 * WebAssembly, or with it switched off (`configureMatmul({ wasm: false })`), the sweeps run in
 * `rotateChain` directly on the matrices, as are matrices too large for the memory's cap.
 *
 *   memory: [cosines (n)] [sines (n)] [matrix 0, row pairs] [matrix 1, row pairs] ...
 */
import { rotateChain } from "./linalg_householder.js";
import { configureMatmul } from "./matmul_engine.js";
import {
  type Code,
  I32,
  type Local,
  ModuleBuilder,
  V128,
  type WasmMemory,
  block,
  br,
  brIf,
  f64x2,
  forRange,
  get,
  i32,
  if_,
  inc,
  loop,
  set,
  v128,
  wasmApi,
} from "../../../src/codegen/wasm_asm.js";

/** A matrix whose columns c0..c0+cnt are rotated sweep after sweep. */
export interface Rotator {
  /** Rotations k = 0..cnt-1 of columns (c0 + k, c0 + k + 1), as `rotateChain`. */
  apply(c0: number, cnt: number, cs: Float64Array, sn: Float64Array, forward: boolean): void;
  /** Writes the rotated columns back into the matrix. */
  finish(): void;
}

/** A matrix to rotate: `rows` rows of row length `ld`, of which columns 0..cols-1 are rotated. */
export interface RotationTarget {
  x: Float64Array;
  rows: number;
  ld: number;
  cols: number;
}

/**
 * The memory holds whole matrices and never shrinks, so it stops at 64 MiB (two 2000×2000
 * factors); larger ones are rotated in JavaScript.
 */
const PAGE = 65536,
  MAX_PAGES = 1024;
/**
 * Row pairs per pass: each pair's chain waits on a multiply and an add per rotation, and four
 * independent chains keep the vector units busy meanwhile.
 */
const GROUP = 4;
const simd = (op: number): Code => [0xfd, (op & 0x7f) | 0x80, op >> 7];
const sub = (a: Code, b: Code): Code => [a, b, simd(0xf1)];

/**
 * chain(addr, stride, pairs, cnt, cs, sn, forward): the sweep on `pairs` row pairs starting at byte
 * `addr`, `stride` bytes apart, element k of a pair at +16·k; cosines and sines at bytes cs and sn.
 */
function buildModule(): Uint8Array {
  const mb = new ModuleBuilder({ initial: 1, maximum: MAX_PAGES, shared: false });
  const fn = mb.func("chain", [I32, I32, I32, I32, I32, I32, I32]);
  const [addr, stride, pairs, cnt, cs, sn, fwd] = [0, 1, 2, 3, 4, 5, 6].map((i) => fn.param(i)) as Local[];
  const p = fn.local(I32),
    j = fn.local(I32),
    q = fn.local(I32),
    pc = fn.local(I32),
    ps = fn.local(I32);
  const lanes = (): Local[] => Array.from({ length: GROUP }, () => fn.local(V128));
  const t = lanes(),
    y = lanes(),
    c = fn.local(V128),
    s = fn.local(V128);
  // off[i] = i·stride: pair i of the group at q is at q + off[i].
  const off = Array.from({ length: GROUP }, () => fn.local(I32));
  /** The address of pair i of the group at q. */
  const at = (i: number): Code => (i === 0 ? get(q!) : i32.add(get(q!), get(off[i]!)));
  const each = (g: number, f: (i: number) => Code): Code => Array.from({ length: g }, (_, i) => f(i));
  const splats = (): Code => [set(c, f64x2.loadSplat(get(pc))), set(s, f64x2.loadSplat(get(ps)))];
  const start = i32.add(get(addr!), i32.mul(get(p), get(stride!)));
  const forward = (g: number): Code => [
    set(q, start),
    each(g, (i) => set(t[i]!, v128.load(at(i)))),
    set(pc, get(cs!)),
    set(ps, get(sn!)),
    forRange(
      j,
      i32.const(0),
      get(cnt!),
      i32.const(1),
      splats(),
      each(g, (i) => set(y[i]!, v128.load(at(i), 16))),
      // col_k ← c·t + s·y; the carried entry becomes c·y - s·t.
      each(g, (i) => v128.store(at(i), f64x2.add(f64x2.mul(get(c), get(t[i]!)), f64x2.mul(get(s), get(y[i]!))))),
      each(g, (i) => set(t[i]!, sub(f64x2.mul(get(c), get(y[i]!)), f64x2.mul(get(s), get(t[i]!))))),
      inc(q, i32.const(16)),
      inc(pc, i32.const(8)),
      inc(ps, i32.const(8)),
    ),
    each(g, (i) => v128.store(at(i), get(t[i]!))),
  ];
  const backward = (g: number): Code => [
    set(q, i32.add(start, i32.shl(get(cnt!), i32.const(4)))),
    each(g, (i) => set(t[i]!, v128.load(at(i)))),
    set(pc, i32.add(get(cs!), i32.shl(get(cnt!), i32.const(3)))),
    set(ps, i32.add(get(sn!), i32.shl(get(cnt!), i32.const(3)))),
    forRange(
      j,
      i32.const(0),
      get(cnt!),
      i32.const(1),
      inc(q, i32.const(-16)),
      inc(pc, i32.const(-8)),
      inc(ps, i32.const(-8)),
      splats(),
      each(g, (i) => set(y[i]!, v128.load(at(i)))),
      // col_{k+1} ← c·t - s·y; the carried entry becomes c·y + s·t.
      each(g, (i) => v128.store(at(i), sub(f64x2.mul(get(c), get(t[i]!)), f64x2.mul(get(s), get(y[i]!))), 16)),
      each(g, (i) => set(t[i]!, f64x2.add(f64x2.mul(get(c), get(y[i]!)), f64x2.mul(get(s), get(t[i]!))))),
    ),
    each(g, (i) => v128.store(at(i), get(t[i]!))),
  ];
  // GROUP pairs at a time while there are that many, then one at a time.
  const sweep = (dir: (g: number) => Code): Code => [
    set(p, i32.const(0)),
    block(loop(brIf(1, i32.geS(i32.add(get(p), i32.const(GROUP - 1)), get(pairs!))), dir(GROUP), inc(p, i32.const(GROUP)), br(0))),
    block(loop(brIf(1, i32.geS(get(p), get(pairs!))), dir(1), inc(p, i32.const(1)), br(0))),
  ];
  fn.body = [each(GROUP, (i) => set(off[i]!, i32.mul(get(stride!), i32.const(i)))), if_(get(fwd!), sweep(forward), sweep(backward))];
  return mb.encode();
}

type ChainFn = (addr: number, stride: number, pairs: number, cnt: number, cs: number, sn: number, forward: number) => void;
let engine: { memory: WasmMemory; chain: ChainFn } | null = null;
let broken = false;

function getEngine(): { memory: WasmMemory; chain: ChainFn } | null {
  if (engine !== null || broken) return engine;
  try {
    const wasm = wasmApi;
    if (wasm === undefined) throw new Error("no WebAssembly");
    const memory = new wasm.Memory({ initial: 1, maximum: MAX_PAGES });
    const exports = new wasm.Instance(new wasm.Module(buildModule()), { env: { memory } }).exports;
    engine = { memory, chain: exports.chain as ChainFn };
  } catch {
    broken = true;
  }
  return engine;
}

/** Rotators for the targets: in WebAssembly when available and the matrices fit, else in JavaScript. */
export function rotators(targets: RotationTarget[], n: number): Rotator[] {
  const js = (): Rotator[] =>
    targets.map(({ x, rows, ld }) => ({ apply: (c0, cnt, cs, sn, forward) => rotateChain(x, ld, rows, c0, cnt, cs, sn, forward), finish: () => {} }));
  const e = configureMatmul().wasm ? getEngine() : null;
  if (e === null) return js();
  // Byte offsets: cosines, sines, then each matrix as ceil(rows / 2) pairs of `cols` 16-byte entries.
  const csAt = 0,
    snAt = n * 8;
  let end = 2 * n * 8;
  const bases = targets.map((tg) => {
    const b = end;
    end += Math.ceil(tg.rows / 2) * tg.cols * 16;
    return b;
  });
  const have = e.memory.buffer.byteLength;
  if (end > have) {
    if (end > MAX_PAGES * PAGE) return js();
    try {
      e.memory.grow(Math.ceil((end - have) / PAGE));
    } catch {
      return js();
    }
  }
  const mem = new Float64Array(e.memory.buffer);
  return targets.map(({ x, rows, ld, cols }, ti) => {
    const base = bases[ti]! / 8;
    // Element (r, k) at base + (⌊r/2⌋·cols + k)·2 + r mod 2.
    for (let r = 0; r < rows; r++) {
      const o = base + (r >> 1) * cols * 2 + (r & 1);
      for (let k = 0; k < cols; k++) mem[o + 2 * k] = x[r * ld + k]!;
    }
    if (rows & 1) for (let k = 0, o = base + (rows >> 1) * cols * 2 + 1; k < cols; k++) mem[o + 2 * k] = 0;
    return {
      apply: (c0, cnt, cs, sn, forward) => {
        if (cnt <= 0) return;
        mem.set(cs.subarray(0, cnt), csAt / 8);
        mem.set(sn.subarray(0, cnt), snAt / 8);
        e.chain(bases[ti]! + c0 * 16, cols * 16, Math.ceil(rows / 2), cnt, csAt, snAt, forward ? 1 : 0);
      },
      finish: () => {
        for (let r = 0; r < rows; r++) {
          const o = base + (r >> 1) * cols * 2 + (r & 1);
          for (let k = 0; k < cols; k++) x[r * ld + k] = mem[o + 2 * k]!;
        }
      },
    };
  });
}
