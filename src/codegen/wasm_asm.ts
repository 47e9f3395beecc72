/**
 * A minimal WebAssembly assembler: just enough of the binary format to emit the matmul module in
 * `gemm_wasm_module.ts` from readable TypeScript, with no external toolchain.
 *
 * Instructions are written as expression trees in postfix order: every helper returns the bytes of
 * its operands followed by its own opcode, so `i32.add(get(x), i32.const(4))` emits
 * `local.get x; i32.const 4; i32.add`. Code is a nested array of bytes (`Code`), flattened when the
 * function body is encoded. Only the opcodes the kernels use are defined; numbers come from the
 * WebAssembly core specification (binary format, sections 5.4.x) and the fixed-width SIMD proposal
 * (0xFD-prefixed, LEB128-encoded opcodes).
 */

/** A sequence of instruction bytes; nested arrays are flattened on encoding. */
export type Code = number | readonly Code[];

/** Value types (spec 5.3.1). */
export const I32 = 0x7f,
  F32 = 0x7d,
  F64 = 0x7c,
  V128 = 0x7b;
export type ValType = typeof I32 | typeof F32 | typeof F64 | typeof V128;

/** A local variable (function parameters come first in the index space). */
export interface Local {
  readonly index: number;
  readonly type: ValType;
}

/** Unsigned LEB128. */
export function uleb(value: number): number[] {
  if (!Number.isInteger(value) || value < 0) throw new RangeError(`uleb: ${value}`);
  const out: number[] = [];
  do {
    let byte = value % 128;
    value = Math.floor(value / 128);
    if (value !== 0) byte |= 0x80;
    out.push(byte);
  } while (value !== 0);
  return out;
}

/** Signed LEB128 (for i32.const; |value| < 2^31). */
export function sleb(value: number): number[] {
  if (!Number.isInteger(value) || value < -(2 ** 31) || value >= 2 ** 31) throw new RangeError(`sleb: ${value}`);
  const out: number[] = [];
  for (;;) {
    const byte = value & 0x7f;
    value >>= 7;
    const done = (value === 0 && (byte & 0x40) === 0) || (value === -1 && (byte & 0x40) !== 0);
    out.push(done ? byte : byte | 0x80);
    if (done) return out;
  }
}

/** Flattens nested code into plain bytes. */
export function flatten(code: Code, out: number[] = []): number[] {
  if (typeof code === "number") out.push(code);
  else for (const c of code) flatten(c, out);
  return out;
}

const name = (s: string): number[] => {
  const bytes = Array.from(new TextEncoder().encode(s));
  return [...uleb(bytes.length), ...bytes];
};
const vec = (items: readonly number[][]): number[] => [...uleb(items.length), ...items.flat()];
/** A memory access immediate: log2 alignment hint and constant byte offset. */
const memarg = (alignLog2: number, offset: number): number[] => [...uleb(alignLog2), ...uleb(offset)];

// ---- Instructions ------------------------------------------------------------------------------

/** Empty block type (blocks and loops here never produce values). */
const VOID = 0x40;

export const get = (l: Local): Code => [0x20, uleb(l.index)];
export const set = (l: Local, value: Code): Code => [value, 0x21, uleb(l.index)];
/** `l += delta` for an i32 local. */
export const inc = (l: Local, delta: Code): Code => set(l, i32.add(get(l), delta));

export const block = (...body: Code[]): Code => [0x02, VOID, body, 0x0b];
export const loop = (...body: Code[]): Code => [0x03, VOID, body, 0x0b];
export const br = (depth: number): Code => [0x0c, uleb(depth)];
export const brIf = (depth: number, cond: Code): Code => [cond, 0x0d, uleb(depth)];
export const if_ = (cond: Code, then: Code, otherwise?: Code): Code =>
  otherwise === undefined ? [cond, 0x04, VOID, then, 0x0b] : [cond, 0x04, VOID, then, 0x05, otherwise, 0x0b];
export const call = (funcIndex: number, ...args: Code[]): Code => [args, 0x10, uleb(funcIndex)];
export const select = (ifTrue: Code, ifFalse: Code, cond: Code): Code => [ifTrue, ifFalse, cond, 0x1b];

/**
 * `for (i = start; i < end; i += step) body` with signed i32 comparison. `body` must not branch
 * out (its labels are relative to the inner loop and block).
 */
export const forRange = (i: Local, start: Code, end: Code, step: Code, ...body: Code[]): Code => [
  set(i, start),
  block(loop(brIf(1, i32.geS(get(i), end)), body, inc(i, step), br(0))),
];

export const i32 = {
  const: (v: number): Code => [0x41, sleb(v)],
  load: (addr: Code, offset = 0): Code => [addr, 0x28, memarg(2, offset)],
  eqz: (a: Code): Code => [a, 0x45],
  eq: (a: Code, b: Code): Code => [a, b, 0x46],
  ne: (a: Code, b: Code): Code => [a, b, 0x47],
  ltS: (a: Code, b: Code): Code => [a, b, 0x48],
  gtS: (a: Code, b: Code): Code => [a, b, 0x4a],
  leS: (a: Code, b: Code): Code => [a, b, 0x4c],
  geS: (a: Code, b: Code): Code => [a, b, 0x4e],
  add: (a: Code, b: Code): Code => [a, b, 0x6a],
  sub: (a: Code, b: Code): Code => [a, b, 0x6b],
  mul: (a: Code, b: Code): Code => [a, b, 0x6c],
  and: (a: Code, b: Code): Code => [a, b, 0x71],
  shl: (a: Code, b: Code): Code => [a, b, 0x74],
  shrU: (a: Code, b: Code): Code => [a, b, 0x76],
  ltU: (a: Code, b: Code): Code => [a, b, 0x49],
  /** Signed minimum, via select. Operands are evaluated once each but must be side-effect free. */
  minS: (a: Code, b: Code): Code => select(a, b, [a, b, 0x48]),
};

/** Scalar float ops for one element type (f32 or f64). */
export interface ScalarOps {
  readonly bytes: number;
  load(addr: Code, offset?: number): Code;
  store(addr: Code, value: Code, offset?: number): Code;
  add(a: Code, b: Code): Code;
}
export const f32: ScalarOps = {
  bytes: 4,
  load: (addr, offset = 0) => [addr, 0x2a, memarg(2, offset)],
  store: (addr, value, offset = 0) => [addr, value, 0x38, memarg(2, offset)],
  add: (a, b) => [a, b, 0x92],
};
export const f64: ScalarOps = {
  bytes: 8,
  load: (addr, offset = 0) => [addr, 0x2b, memarg(3, offset)],
  store: (addr, value, offset = 0) => [addr, value, 0x39, memarg(3, offset)],
  add: (a, b) => [a, b, 0xa0],
};

const simd = (op: number): number[] => [0xfd, ...uleb(op)];
export const v128 = {
  load: (addr: Code, offset = 0): Code => [addr, simd(0x00), memarg(4, offset)],
  store: (addr: Code, value: Code, offset = 0): Code => [addr, value, simd(0x0b), memarg(4, offset)],
  load32Splat: (addr: Code, offset = 0): Code => [addr, simd(0x09), memarg(2, offset)],
  load64Splat: (addr: Code, offset = 0): Code => [addr, simd(0x0a), memarg(3, offset)],
  zero: (): Code => [simd(0x0c), new Array<number>(16).fill(0)],
};

/** Lane-wise float ops for one vector shape (f32x4 or f64x2). */
export interface VectorOps {
  readonly lanes: number;
  add(a: Code, b: Code): Code;
  mul(a: Code, b: Code): Code;
  /** Loads one element and broadcasts it to every lane. */
  loadSplat(addr: Code, offset?: number): Code;
  /** a * b + c via the relaxed-simd fused multiply-add (may round once or twice). */
  relaxedMadd(a: Code, b: Code, c: Code): Code;
}
export const f32x4: VectorOps = {
  lanes: 4,
  add: (a, b) => [a, b, simd(0xe4)],
  mul: (a, b) => [a, b, simd(0xe6)],
  loadSplat: v128.load32Splat,
  relaxedMadd: (a, b, c) => [a, b, c, simd(0x105)],
};
export const f64x2: VectorOps = {
  lanes: 2,
  add: (a, b) => [a, b, simd(0xf0)],
  mul: (a, b) => [a, b, simd(0xf2)],
  loadSplat: v128.load64Splat,
  relaxedMadd: (a, b, c) => [a, b, c, simd(0x107)],
};

/** Lane-wise f64x2 ops beyond `VectorOps` (opcode numbers: the fixed-width SIMD proposal). */
export const f64v = {
  splat: (a: Code): Code => [a, simd(0x14)],
  extractLane: (a: Code, lane: number): Code => [a, simd(0x21), lane],
  replaceLane: (a: Code, lane: number, x: Code): Code => [a, x, simd(0x22), lane],
  eq: (a: Code, b: Code): Code => [a, b, simd(0x47)],
  ne: (a: Code, b: Code): Code => [a, b, simd(0x48)],
  lt: (a: Code, b: Code): Code => [a, b, simd(0x49)],
  gt: (a: Code, b: Code): Code => [a, b, simd(0x4a)],
  le: (a: Code, b: Code): Code => [a, b, simd(0x4b)],
  ge: (a: Code, b: Code): Code => [a, b, simd(0x4c)],
  floor: (a: Code): Code => [a, simd(0x75)],
  abs: (a: Code): Code => [a, simd(0xec)],
  neg: (a: Code): Code => [a, simd(0xed)],
  sqrt: (a: Code): Code => [a, simd(0xef)],
  add: (a: Code, b: Code): Code => [a, b, simd(0xf0)],
  sub: (a: Code, b: Code): Code => [a, b, simd(0xf1)],
  mul: (a: Code, b: Code): Code => [a, b, simd(0xf2)],
  div: (a: Code, b: Code): Code => [a, b, simd(0xf3)],
  /** IEEE minimum/maximum: NaN if either is NaN, and -0 < +0 (as Math.min/Math.max). */
  min: (a: Code, b: Code): Code => [a, b, simd(0xf4)],
  max: (a: Code, b: Code): Code => [a, b, simd(0xf5)],
  /** Pseudo-minimum b < a ? b : a and pseudo-maximum a < b ? b : a (one instruction each). */
  pmin: (a: Code, b: Code): Code => [a, b, simd(0xf6)],
  pmax: (a: Code, b: Code): Code => [a, b, simd(0xf7)],
  /** Lanes 0 and 1 of an i32x4, exactly. */
  convertLowI32: (a: Code): Code => [a, simd(0xfe)],
  convertLowU32: (a: Code): Code => [a, simd(0xff)],
  /** Lanes 0 and 1 of an f32x4, exactly. */
  promoteLowF32: (a: Code): Code => [a, simd(0x5f)],
  /** Rounds both lanes to f32 (lanes 0 and 1 of the f32x4 result; 2 and 3 are zero). */
  demoteToF32: (a: Code): Code => [a, simd(0x5e)],
  /** Truncates both lanes to i32 (saturating, NaN to 0) into lanes 0 and 1 of an i32x4. */
  truncSatToI32: (a: Code): Code => [a, simd(0xfc)],
};

/** Lane-wise f32x4 ops (opcode numbers: the fixed-width SIMD proposal). */
export const f32v = {
  splat: (a: Code): Code => [a, simd(0x13)],
  extractLane: (a: Code, lane: number): Code => [a, simd(0x1f), lane],
  replaceLane: (a: Code, lane: number, x: Code): Code => [a, x, simd(0x20), lane],
  eq: (a: Code, b: Code): Code => [a, b, simd(0x41)],
  ne: (a: Code, b: Code): Code => [a, b, simd(0x42)],
  lt: (a: Code, b: Code): Code => [a, b, simd(0x43)],
  gt: (a: Code, b: Code): Code => [a, b, simd(0x44)],
  le: (a: Code, b: Code): Code => [a, b, simd(0x45)],
  ge: (a: Code, b: Code): Code => [a, b, simd(0x46)],
  floor: (a: Code): Code => [a, simd(0x68)],
  abs: (a: Code): Code => [a, simd(0xe0)],
  neg: (a: Code): Code => [a, simd(0xe1)],
  sqrt: (a: Code): Code => [a, simd(0xe3)],
  add: (a: Code, b: Code): Code => [a, b, simd(0xe4)],
  sub: (a: Code, b: Code): Code => [a, b, simd(0xe5)],
  mul: (a: Code, b: Code): Code => [a, b, simd(0xe6)],
  div: (a: Code, b: Code): Code => [a, b, simd(0xe7)],
  /** IEEE minimum/maximum: NaN if either is NaN, and -0 < +0 (as Math.min/Math.max). */
  min: (a: Code, b: Code): Code => [a, b, simd(0xe8)],
  max: (a: Code, b: Code): Code => [a, b, simd(0xe9)],
  /** Pseudo-minimum b < a ? b : a and pseudo-maximum a < b ? b : a (one instruction each). */
  pmin: (a: Code, b: Code): Code => [a, b, simd(0xea)],
  pmax: (a: Code, b: Code): Code => [a, b, simd(0xeb)],
  /** Truncates every lane to i32 (saturating, NaN to 0). */
  truncSatToI32: (a: Code): Code => [a, simd(0xf8)],
  /** Truncates every lane to u32 (saturating, NaN and negatives to 0). */
  truncSatToU32: (a: Code): Code => [a, simd(0xf9)],
  /** Every lane of an i32x4 read as signed, rounded to f32. */
  convertS32: (a: Code): Code => [a, simd(0xfa)],
  /** Every lane of an i32x4 read as unsigned, rounded to f32. */
  convertU32: (a: Code): Code => [a, simd(0xfb)],
};

/** Integer lane ops: the vectorised math's, and int32 / uint32 values in the fused loops. */
export const i32v = {
  splat: (a: Code): Code => [a, simd(0x11)],
  extractLane: (a: Code, lane: number): Code => [a, simd(0x1b), lane],
  replaceLane: (a: Code, lane: number, x: Code): Code => [a, x, simd(0x1c), lane],
  eq: (a: Code, b: Code): Code => [a, b, simd(0x37)],
  ne: (a: Code, b: Code): Code => [a, b, simd(0x38)],
  ltS: (a: Code, b: Code): Code => [a, b, simd(0x39)],
  ltU: (a: Code, b: Code): Code => [a, b, simd(0x3a)],
  gtS: (a: Code, b: Code): Code => [a, b, simd(0x3b)],
  gtU: (a: Code, b: Code): Code => [a, b, simd(0x3c)],
  leS: (a: Code, b: Code): Code => [a, b, simd(0x3d)],
  leU: (a: Code, b: Code): Code => [a, b, simd(0x3e)],
  geS: (a: Code, b: Code): Code => [a, b, simd(0x3f)],
  geU: (a: Code, b: Code): Code => [a, b, simd(0x40)],
  abs: (a: Code): Code => [a, simd(0xa0)],
  neg: (a: Code): Code => [a, simd(0xa1)],
  mul: (a: Code, b: Code): Code => [a, b, simd(0xb5)],
  minS: (a: Code, b: Code): Code => [a, b, simd(0xb6)],
  minU: (a: Code, b: Code): Code => [a, b, simd(0xb7)],
  maxS: (a: Code, b: Code): Code => [a, b, simd(0xb8)],
  maxU: (a: Code, b: Code): Code => [a, b, simd(0xb9)],
  shl: (a: Code, n: Code): Code => [a, n, simd(0xab)],
  shrS: (a: Code, n: Code): Code => [a, n, simd(0xac)],
  shrU: (a: Code, n: Code): Code => [a, n, simd(0xad)],
  add: (a: Code, b: Code): Code => [a, b, simd(0xae)],
  sub: (a: Code, b: Code): Code => [a, b, simd(0xb1)],
  /** Lanes 0 and 1 sign-extended to an i64x2. */
  extendLowToI64: (a: Code): Code => [a, simd(0xc7)],
  /** Unsigned 8-bit lanes 0..7 widened to i16x8, and i16 lanes 0..3 widened to i32x4. */
  extendLowU8: (a: Code): Code => [a, simd(0x89)],
  extendLowU16: (a: Code): Code => [a, simd(0xa9)],
  /** Saturating narrowings i32x4 → u16 lanes, i16x8 → u8 lanes (both operands' lanes in order). */
  narrowU32: (a: Code, b: Code): Code => [a, b, simd(0x86)],
  narrowU16: (a: Code, b: Code): Code => [a, b, simd(0x66)],
};
export const i64v = {
  splat: (a: Code): Code => [a, simd(0x12)],
  shl: (a: Code, n: Code): Code => [a, n, simd(0xcb)],
  add: (a: Code, b: Code): Code => [a, b, simd(0xce)],
};
export const bits = {
  not: (a: Code): Code => [a, simd(0x4d)],
  and: (a: Code, b: Code): Code => [a, b, simd(0x4e)],
  or: (a: Code, b: Code): Code => [a, b, simd(0x50)],
  xor: (a: Code, b: Code): Code => [a, b, simd(0x51)],
  /** Bits of `a` where `mask` is 1, else of `b`. */
  select: (a: Code, b: Code, mask: Code): Code => [a, b, mask, simd(0x52)],
  anyTrue: (a: Code): Code => [a, simd(0x53)],
  /** Bytes picked by 16 lane indices from the 32 bytes of a and b. */
  shuffle: (a: Code, b: Code, lanes: readonly number[]): Code => {
    if (lanes.length !== 16 || lanes.some((l) => !Number.isInteger(l) || l < 0 || l > 31)) throw new RangeError("shuffle lanes");
    return [a, b, simd(0x0d), lanes];
  },
  /** The 128-bit constant of two f64 lanes. */
  constF64: (x: number, y: number): Code => [simd(0x0c), Array.from(new Uint8Array(new Float64Array([x, y]).buffer))],
  /** The 128-bit constant of four f32 lanes, each Math.fround(x). */
  constF32: (x: number): Code => [simd(0x0c), Array.from(new Uint8Array(new Float32Array([x, x, x, x]).buffer))],
  /** Loads 4 / 8 bytes into the low lanes, zeroing the rest. */
  load32Zero: (addr: Code, offset = 0): Code => [addr, simd(0x5c), memarg(2, offset)],
  load64Zero: (addr: Code, offset = 0): Code => [addr, simd(0x5d), memarg(3, offset)],
  /** Loads 2 bytes and repeats them in every 16-bit lane. */
  load16Splat: (addr: Code, offset = 0): Code => [addr, simd(0x08), memarg(1, offset)],
  /** Stores the low 8 / 4 / 2 bytes (lane 0 of a 64- / 32- / 16-bit view). */
  store64Lane0: (addr: Code, value: Code, offset = 0): Code => [addr, value, simd(0x5b), memarg(3, offset), 0],
  store32Lane0: (addr: Code, value: Code, offset = 0): Code => [addr, value, simd(0x5a), memarg(2, offset), 0],
  store16Lane0: (addr: Code, value: Code, offset = 0): Code => [addr, value, simd(0x59), memarg(1, offset), 0],
  /** Stores 64-bit lane `lane` (0 or 1). */
  store64Lane: (addr: Code, value: Code, lane: 0 | 1, offset = 0): Code => [addr, value, simd(0x5b), memarg(3, offset), lane],
  /** `into` with 8 bytes loaded into 64-bit lane `lane` (0 or 1). */
  load64Lane: (addr: Code, into: Code, lane: 0 | 1, offset = 0): Code => [addr, into, simd(0x57), memarg(3, offset), lane],
};

/** Scalar conversions and loads beyond `ScalarOps`. */
export const scalar = {
  f64Const: (x: number): Code => [0x44, Array.from(new Uint8Array(new Float64Array([x]).buffer))],
  f32Const: (x: number): Code => [0x43, Array.from(new Uint8Array(new Float32Array([x]).buffer))],
  f64Ne: (a: Code, b: Code): Code => [a, b, 0x62],
  f64Lt: (a: Code, b: Code): Code => [a, b, 0x63],
  f64Gt: (a: Code, b: Code): Code => [a, b, 0x64],
  f64PromoteF32: (a: Code): Code => [a, 0xbb],
  f64ConvertI32S: (a: Code): Code => [a, 0xb7],
  f64ConvertI32U: (a: Code): Code => [a, 0xb8],
  f32ConvertI32U: (a: Code): Code => [a, 0xb3],
  i32ReinterpretF32: (a: Code): Code => [a, 0xbc],
  i32Load8U: (addr: Code, offset = 0): Code => [addr, 0x2d, memarg(0, offset)],
  i32ShrS: (a: Code, b: Code): Code => [a, b, 0x75],
  i32DivU: (a: Code, b: Code): Code => [a, b, 0x6e],
  i32RemU: (a: Code, b: Code): Code => [a, b, 0x70],
  i64ShlConst: (a: Code, n: number): Code => [a, 0x42, sleb(n), 0x86],
};

export const memory = {
  /** memory.fill(dst, byte, len) from bulk memory. */
  fill: (dst: Code, byte: Code, len: Code): Code => [dst, byte, len, 0xfc, uleb(11), 0x00],
};

/** Moves between float32 and float64 (exact widening, one rounding back), and float64 lanes. */
export const widen = {
  /** f64x2.promote_low_f32x4: the two low float32 lanes as float64. */
  promoteLowF32x4: (a: Code): Code => [a, simd(0x5f)],
  extractLaneF64x2: (a: Code, lane: number): Code => [a, simd(0x21), lane],
  promoteF32: (a: Code): Code => [a, 0xbb],
  demoteF64: (a: Code): Code => [a, 0xb6],
  mulF64: (a: Code, b: Code): Code => [a, b, 0xa2],
};

// ---- JavaScript API ----------------------------------------------------------------------------

/**
 * The parts of the WebAssembly JavaScript API used here. The project compiles without DOM types and
 * @types/node 20 does not declare them, so they are typed locally; undefined where there is none.
 */
export interface WasmMemory {
  readonly buffer: ArrayBuffer | SharedArrayBuffer;
  grow(pages: number): number;
}
export interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: Record<string, Record<string, unknown>>) => { readonly exports: Record<string, unknown> };
  Memory: new (descriptor: { initial: number; maximum: number; shared?: boolean }) => WasmMemory;
  validate(bytes: Uint8Array): boolean;
}
export const wasmApi = (globalThis as { WebAssembly?: WasmApi }).WebAssembly;

let cpus = 0;
/** Logical CPUs available to this process, or 1 where that cannot be known (browsers, old runtimes). */
export function hardwareThreads(): number {
  if (cpus === 0) {
    try {
      const os = globalThis.process?.getBuiltinModule?.("node:os");
      cpus = Math.max(1, os?.availableParallelism?.() ?? os?.cpus().length ?? 1);
    } catch {
      cpus = 1;
    }
  }
  return cpus;
}

// ---- Module ------------------------------------------------------------------------------------

/** A function under construction: its signature, its locals and (once set) its body. */
export class Func {
  private readonly locals: ValType[] = [];
  body: Code = [];
  constructor(
    readonly index: number,
    readonly exportName: string | null,
    readonly params: readonly ValType[],
    readonly results: readonly ValType[],
  ) {}
  /** The i-th parameter. */
  param(i: number): Local {
    if (i >= this.params.length) throw new RangeError(`param ${i}`);
    return { index: i, type: this.params[i]! };
  }
  /** A fresh local of the given type. */
  local(type: ValType): Local {
    this.locals.push(type);
    return { index: this.params.length + this.locals.length - 1, type };
  }
  /** Encodes locals and body as a code-section entry. */
  encode(): number[] {
    const groups: number[][] = [];
    for (let i = 0; i < this.locals.length;) {
      let j = i;
      while (j < this.locals.length && this.locals[j] === this.locals[i]) j++;
      groups.push([...uleb(j - i), this.locals[i]!]);
      i = j;
    }
    const body = [...vec(groups), ...flatten(this.body), 0x0b];
    return [...uleb(body.length), ...body];
  }
}

/** Memory limits in 64 KiB pages. */
export interface MemoryLimits {
  initial: number;
  maximum: number;
  shared: boolean;
}

/** An imported function (`env.<name>`); imports take the first function indices. */
interface ImportedFunc {
  readonly name: string;
  readonly params: readonly ValType[];
  readonly results: readonly ValType[];
}

/** A module with one imported memory (`env.memory`), optional imported functions and a list of functions. */
export class ModuleBuilder {
  private readonly funcs: Func[] = [];
  private readonly imported: ImportedFunc[] = [];
  constructor(private readonly mem: MemoryLimits) {}

  /** Declares an imported function (before any `func`) and returns its index. */
  importFunc(name: string, params: readonly ValType[], results: readonly ValType[]): number {
    if (this.funcs.length > 0) throw new Error("wasm_asm: declare imports before functions");
    this.imported.push({ name, params, results });
    return this.imported.length - 1;
  }

  /** Declares a function; fill in `body` afterwards (so functions can call each other). */
  func(exportName: string | null, params: readonly ValType[], results: readonly ValType[] = []): Func {
    const f = new Func(this.imported.length + this.funcs.length, exportName, params, results);
    this.funcs.push(f);
    return f;
  }

  encode(): Uint8Array {
    const section = (id: number, contents: number[]): number[] => [id, ...uleb(contents.length), ...contents];
    // One type per function keeps things simple; the module is small.
    const signatures = [...this.imported, ...this.funcs];
    const types = vec(signatures.map((f) => [0x60, ...vec(f.params.map((t) => [t])), ...vec(f.results.map((t) => [t]))]));
    const limits = [this.mem.shared ? 0x03 : 0x01, ...uleb(this.mem.initial), ...uleb(this.mem.maximum)];
    const imports = vec([
      [...name("env"), ...name("memory"), 0x02, ...limits],
      ...this.imported.map((f, i) => [...name("env"), ...name(f.name), 0x00, ...uleb(i)]),
    ]);
    const funcs = vec(this.funcs.map((f) => uleb(f.index)));
    const exported = this.funcs.filter((f) => f.exportName !== null);
    const exports = vec(exported.map((f) => [...name(f.exportName!), 0x00, ...uleb(f.index)]));
    const code = vec(this.funcs.map((f) => f.encode()));
    return new Uint8Array([
      0x00,
      0x61,
      0x73,
      0x6d,
      0x01,
      0x00,
      0x00,
      0x00, // "\0asm", version 1
      ...section(1, types),
      ...section(2, imports),
      ...section(3, funcs),
      ...section(7, exports),
      ...section(10, code),
    ]);
  }
}
