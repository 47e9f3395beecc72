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

export const memory = {
  /** memory.fill(dst, byte, len) from bulk memory. */
  fill: (dst: Code, byte: Code, len: Code): Code => [dst, byte, len, 0xfc, uleb(11), 0x00],
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

/** A module with one imported memory (`env.memory`) and a list of functions. */
export class ModuleBuilder {
  private readonly funcs: Func[] = [];
  constructor(private readonly mem: MemoryLimits) {}

  /** Declares a function; fill in `body` afterwards (so functions can call each other). */
  func(exportName: string | null, params: readonly ValType[], results: readonly ValType[] = []): Func {
    const f = new Func(this.funcs.length, exportName, params, results);
    this.funcs.push(f);
    return f;
  }

  encode(): Uint8Array {
    const section = (id: number, contents: number[]): number[] => [id, ...uleb(contents.length), ...contents];
    // One type per function keeps things simple; the module is small.
    const types = vec(this.funcs.map((f) => [0x60, ...vec(f.params.map((t) => [t])), ...vec(f.results.map((t) => [t]))]));
    const limits = [this.mem.shared ? 0x03 : 0x01, ...uleb(this.mem.initial), ...uleb(this.mem.maximum)];
    const imports = vec([[...name("env"), ...name("memory"), 0x02, ...limits]]);
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
