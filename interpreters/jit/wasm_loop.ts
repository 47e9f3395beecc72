/**
 * The WebAssembly back end for fused elementwise runs: one generated SIMD module per run. A run
 * whose values are all float32 or bool computes four lanes at a time, other runs two float64
 * lanes; the code of each primitive's step is in `wasm_lane_ops.ts`. This module lays the run's
 * operands out in linear memory, loads (broadcasts included) and stores them, and drives the loop
 * and its threads. Results are bit for bit those of the JavaScript loop and of the eager kernels.
 * Runs with a dtype or primitive this back end does not cover (integers, float64
 * transcendentals, which use Math.*) keep the JavaScript loop.
 *
 * The kernels' linear memories (their layout, growth and the values handed on in place) are
 * `wasm_heap.ts`'s: each call fills the scratch area with its inputs, runs over it, and reads its
 * outputs back from it (or hands them on where they lie). The module
 * holds only opcodes and numbers formatted here; layout, shapes and constants come from the
 * staged program, never text.
 */
import { type DType, allocateFull } from "../../src/core/dtype.js";
import { ConcreteArray } from "../../src/core/ndarray.js";
import { Prim, type PrimParams } from "../../src/core/prim.js";
import { type Shape, sizeOf, stridesOf } from "../../src/core/shape.js";
import type { Eqn, Var } from "../../src/ir/ir.js";
import {
  type Code,
  F64,
  I32,
  type Local,
  ModuleBuilder,
  type ValType,
  V128,
  bits,
  f32,
  f32v,
  f64,
  f64v,
  forRange,
  get,
  i32,
  i32v,
  if_,
  scalar,
  set,
  v128,
  wasmApi,
} from "../../src/codegen/wasm_asm.js";
import type { MathContext } from "../../src/codegen/wasm_math.js";
import { LANE32, laneWork, op32, op64 } from "./wasm_lane_ops.js";
import { DATA, type LaneDType, MAX_PAGES, heapFor, heapHolding, imports, keepViews, localHeap, nextKernelId, sharedHeap } from "./wasm_heap.js";

type Env = ConcreteArray[];
type Step = (env: Env) => void;

/** One fused run as the planner found it. */
export interface FusedRun {
  readonly group: readonly Eqn[];
  readonly shape: Shape;
  /** Broadcasts read through index arithmetic, by the variable they define. */
  readonly virtual: ReadonlyMap<Var, Eqn>;
  /** Whether a value of the run is needed outside it. */
  escapes(v: Var): boolean;
  /**
   * Whether an escaping value is only read by the reductions and fused runs that follow before any
   * other kind of step (and keep nothing of it): it is then handed over as a view of linear memory,
   * not copied out, and the runs that read it find it where it lies.
   */
  readInPlace(v: Var): boolean;
  /**
   * Where the run's layout starts (bytes above DATA): above every value an earlier run handed on
   * in place that a later step still reads, so that this run writes over none of them.
   */
  readonly base?: number;
  /**
   * Where an operand that an earlier run handed on in place lies (bytes above DATA) and whether in
   * the shared memory, if it is one.
   */
  resident?(v: Var): { offset: number; shared: boolean } | undefined;
  /** Told, once the run compiled, where each value it hands on in place lies, its bytes and its memory. */
  handOn?(v: Var, offset: number, bytes: number, shared: boolean): void;
  slot(v: Var): number;
  /** The JavaScript loop for the same run, used if linear memory cannot grow at call time. */
  fallback(): Step;
}

/**
 * Each value of a loop iteration is two vectors, two independent dependency chains: f64x2 (four
 * elements per iteration) in general, f32x4 (eight) where every value of the run is float32.
 */
const PARTS = 2;
/** Smaller runs stay in JavaScript: copying into linear memory and the call cost more there. */
const MIN_ELEMENTS = 256;
let minElements = MIN_ELEMENTS;
/**
 * A run whose operands and results need more scratch than this stays in JavaScript: the memory
 * never shrinks, so one huge run would otherwise hold its size for the life of the process.
 */
const MAX_SCRATCH = 256 * 1024 * 1024;
/**
 * Runs of at least THREAD_MIN elements and THREAD_WORK units of work (elements times the lane ops
 * of each, `laneWork`, plus a copy in or out per operand and result) are split across threads, in
 * chunks of at least MIN_CHUNK. A threaded run copies into a shared memory (slower) and wakes the
 * workers, some tens of microseconds in all: measured on two cores, a run of three cheap ops
 * gained from threads only from about 150,000 elements, one with an exp from about 90,000.
 */
const THREAD_MIN = 1 << 15;
const THREAD_WORK = 1 << 20;
const MIN_CHUNK = 1 << 13;
/** Chunks per thread: more balance the load when another process holds a core. */
const CHUNKS_PER_THREAD = 4;

const BYTES: Partial<Record<DType, number>> = { float32: 4, float64: 8, bool: 1, int32: 4, uint32: 4 };
const SHIFT: Partial<Record<DType, number>> = { float32: 2, float64: 3, bool: 0, int32: 2, uint32: 2 };
/** The dtypes two float64 lanes hold (integers live only in four-lane runs, as i32x4). */
const LANE64: ReadonlySet<DType> = new Set(["float32", "float64", "bool"]);
const isInt = (d: DType): boolean => d === "int32" || d === "uint32";

let forcedOff = false;
/**
 * Settings for programs compiled from now on: `enabled: false` keeps every fused run in JavaScript
 * (FLUXION_BACKEND=js does so at start-up); `minElements` is the smallest run compiled to wasm
 * (the tests lower it so random programs of a few elements take this path too).
 */
export function configureWasmLoops(o: { enabled?: boolean; minElements?: number }): void {
  if (o.enabled !== undefined) forcedOff = !o.enabled;
  if (o.minElements !== undefined) minElements = o.minElements;
}
const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env;
if (env?.FLUXION_BACKEND === "js") forcedOff = true;

let compiled = 0;
let compiled32 = 0;
/** How many fused runs have compiled to WebAssembly so far (tests check the path was taken). */
export function wasmLoopsCompiled(): number {
  return compiled;
}
/** How many operands fused runs have read where an earlier run handed them on in place (tests check the path was taken). */
export function wasmResidentReads(): number {
  return residentReads;
}
let residentReads = 0;
/** How many of those compute in float32 lanes. */
export function wasmLoopsCompiled32(): number {
  return compiled32;
}

/** Whether fused runs compile to WebAssembly now. */
export function wasmLoopsEnabled(): boolean {
  return !forcedOff && sharedHeap() !== null;
}

/** A region of scratch memory holding one input or output array. */
interface Region {
  readonly slot: number;
  /** An output handed on as a view of linear memory (see `FusedRun.readInPlace`). */
  readonly inPlace?: boolean;
  /** An operand an earlier run handed on in place, read where it lies (see `FusedRun.resident`). */
  readonly resident?: boolean;
  readonly dtype: LaneDType;
  readonly count: number;
  readonly offset: number;
}

interface Kernel {
  /** Code run once before the loop (scalar operands). */
  pre: Code;
  /** The loop body for elements e .. e + step - 1. */
  body: Code;
  /** Where the body only flags sin/cos arguments beyond the fast range: the flag and the checked body. */
  checked: { flag: Local; body: Code } | null;
  /** Types of the locals after the parameters; the first is the loop's element index. */
  locals: readonly ValType[];
}

/** Whether float64 lanes cover `e`: every operand and the result a float or bool, and its operation. */
function covers64(c: MathContext, e: Eqn): boolean {
  const dts = [...e.inputs.map((v) => v.aval.dtype), e.outvars[0]!.aval.dtype];
  if (dts.some((d) => !LANE64.has(d))) return false;
  return (
    op64(
      c,
      e,
      e.inputs.map(() => []),
      true,
    ) !== null
  );
}

/** Whether some fused loop covers `e`: in float64 lanes, or in four-lane vectors (integers too). */
function covers(e: Eqn): boolean {
  const dts = [...e.inputs.map((v) => v.aval.dtype), e.outvars[0]!.aval.dtype];
  return covers64(PROBE, e) || (dts.every((d) => LANE32.has(d)) && op32(PROBE, e, []) !== null);
}

/** A context for `covers` outside a generator: probing builds no code, so nothing of it is used. */
const PROBE: MathContext = {
  v128: () => ({ index: 0, type: V128 }),
  constant: () => [],
  sinImport: 0,
  cosImport: 1,
  outOfRange: null,
};

/**
 * The first equation of a run from which fused loops cover every equation to its end (the run's
 * length when its last one is not covered): the planner runs the equations before it — integer
 * division or a float-to-int conversion ahead of float work — as a JavaScript loop.
 */
export function coveredFrom(group: readonly Eqn[]): number {
  let c = group.length;
  while (c > 0 && covers(group[c - 1]!)) c--;
  return c;
}

/** Whether a run of this shape is long enough for a wasm loop (and fused loops are on). */
export function wasmLoopSize(shape: Shape): boolean {
  return sizeOf(shape) >= minElements && wasmLoopsEnabled();
}

/** Compiles a fused run to a WebAssembly step, or returns null where the JavaScript loop must stay. */
export function wasmLoopStep(run: FusedRun): Step | null {
  if (!wasmLoopSize(run.shape)) return null;
  const n = sizeOf(run.shape);
  const gen = new Generator(run);
  if (!gen.ok) return null;
  const bytes = gen.layoutEnd;
  if (bytes > MAX_SCRATCH) return null;
  const work = n * (run.group.reduce((w, e) => w + laneWork(e), 0) + gen.reads.length + gen.writes.length);
  const threaded = n >= THREAD_MIN && work >= THREAD_WORK;
  // A run reading values a threaded run left in the shared memory runs there too, reading them in place.
  const h = threaded || gen.residentShared ? sharedHeap()! : localHeap()!;
  let module: object, kernel: (e0: number, e1: number) => void;
  try {
    module = new wasmApi!.Module(buildModule(gen.kernel(), gen.step, h.shared));
    kernel = new wasmApi!.Instance(module, imports(h.memory)).exports.run as typeof kernel;
  } catch {
    // Browsers refuse to compile modules over 4 KiB synchronously on their main thread.
    return null;
  }
  compiled++;
  if (gen.f32) compiled32++;
  const id = nextKernelId();
  const step = gen.step;
  const end = Math.ceil(n / step) * step;
  const pool = threaded ? h.pool : null;
  const chunk = pool === null ? end : Math.max(MIN_CHUNK, Math.ceil(end / (pool.threads * CHUNKS_PER_THREAD * step)) * step);
  const writes = gen.writes;
  for (const [v, w] of gen.outRegions) if (w.inPlace) run.handOn?.(v, w.offset, w.count * BYTES[w.dtype]!, h.shared);
  // Operands an earlier run handed on in place are read where they lie (or copied there when they
  // are not in this heap: that run fell back to JavaScript, or ran in the other memory). The rest
  // read element for element (as long as the run) are copied in chunk by chunk while the threads
  // start (`LoopPool.run`'s feed); broadcast sources, shorter, are copied in whole first.
  const resident = gen.reads.filter((r) => r.resident),
    copied = gen.reads.filter((r) => !r.resident);
  const streamed = pool === null ? [] : copied.filter((r) => r.count === n),
    whole = pool === null ? copied : copied.filter((r) => r.count !== n);
  const shape = run.shape as number[];
  const handsOn = writes.some((w) => w.inPlace);
  // Values below the base are still to be read by later steps: this run leaves them pending.
  const base = DATA + (run.base ?? 0);
  let js: Step | null = null;
  return (envArrays) => {
    // Growing a memory that is not shared detaches its buffer, and with it the views handed on in
    // place that later steps are still to read: those are copied out first (only when it grows).
    if (!h.shared && h.memory.buffer.byteLength < DATA + bytes) keepViews(h, envArrays);
    if (!heapFor(h, bytes)) {
      h.pending = base;
      (js ??= run.fallback())(envArrays);
      return;
    }
    h.pending = handsOn ? DATA + bytes : base;
    const { views } = h;
    for (const r of resident) {
      const a = envArrays[r.slot]!.values;
      if (a.byteOffset !== DATA + r.offset || heapHolding(a.buffer) !== h) views[r.dtype].set(a as never, (DATA + r.offset) / BYTES[r.dtype]!);
      else residentReads++;
    }
    for (const r of whole) views[r.dtype].set(envArrays[r.slot]!.values as never, (DATA + r.offset) / BYTES[r.dtype]!);
    if (pool === null) kernel(0, end);
    else
      pool.run(
        id,
        module,
        kernel,
        end,
        chunk,
        streamed.length === 0
          ? null
          : (e0, e1) => {
              const hi = Math.min(e1, n);
              for (const r of streamed)
                views[r.dtype].set(envArrays[r.slot]!.values.subarray(e0, hi) as never, (DATA + r.offset) / BYTES[r.dtype]! + e0);
            },
      );
    for (const w of writes) {
      const at = (DATA + w.offset) / BYTES[w.dtype]!;
      const inMemory = views[w.dtype].subarray(at, at + n);
      let values: ConcreteArray["values"] = inMemory;
      if (!w.inPlace) (values = allocateFull(w.dtype, n)).set(inMemory as never);
      envArrays[w.slot] = new ConcreteArray(values, shape, w.dtype);
    }
  };
}

const align = (x: number) => Math.ceil(x / 64) * 64;

/** Generates the module's code for one run, or sets `ok = false` at the first thing it cannot cover. */
class Generator {
  ok = true;
  layoutEnd = 0;
  /** Whether an operand lies where a run in the shared memory handed it on. */
  residentShared = false;
  readonly reads: Region[] = [];
  readonly writes: Region[] = [];
  private readonly pre: Code[] = [];
  /** The loop body being generated; `outOfRange` is set while generating the fast one. */
  private body: Code[] = [];
  outOfRange: Local | null = null;
  private readonly regionOf = new Map<Var, Region>();
  readonly outRegions = new Map<Var, Region>();
  private readonly scalars = new Map<Var, Local>();
  private localCount = 2; // parameters e0, e1
  readonly e: Local;
  private readonly n: number;

  /**
   * Whether values are f32x4: every value of the run float32 or bool (bools as 0.0f / 1.0f, as the
   * float64 lanes hold them as 0.0 / 1.0) and every step covered in float32.
   */
  readonly f32: boolean;
  /** Elements per vector, and per loop iteration. */
  readonly lanes: 2 | 4;
  readonly step: number;

  constructor(private readonly run: FusedRun) {
    this.n = sizeOf(run.shape);
    this.layoutEnd = run.base ?? 0;
    this.e = this.newLocal(I32);
    this.f32 = run.group.every((eq) => [...eq.inputs, eq.outvars[0]!].every((v) => LANE32.has(v.aval.dtype)) && op32(this, eq, []) !== null);
    this.lanes = this.f32 ? 4 : 2;
    this.step = PARTS * this.lanes;
    for (const eqn of run.group) if (!this.supported(eqn)) this.ok = false;
    if (!this.ok) return;
    const trig = run.group.some((eq) => eq.prim === Prim.Sin || eq.prim === Prim.Cos);
    if (trig) this.outOfRange = this.v128();
    this.emitBody();
    this.fast = this.body;
    if (trig) {
      // Arguments beyond the fast range are rare: the fast loop only flags them, and then the
      // whole range is redone with checked code (every output is rewritten, inputs are untouched).
      this.body = [];
      this.flag = this.outOfRange;
      this.outOfRange = null;
      this.emitBody();
      this.checked = this.body;
    }
  }
  private fast: Code[] = [];
  private checked: Code[] | null = null;
  private flag: Local | null = null;

  /** Local declarations in index order (after the two parameters). */
  readonly localTypes: ValType[] = [];
  private newLocal(type: ValType): Local {
    this.localTypes.push(type);
    return { index: this.localCount++, type };
  }
  v128(): Local {
    return this.newLocal(V128);
  }
  sinImport = 0;
  cosImport = 1;

  kernel(): Kernel {
    return {
      pre: this.pre,
      body: this.fast,
      checked: this.checked === null ? null : { flag: this.flag!, body: this.checked },
      locals: this.localTypes,
    };
  }
  constant(x: number, lanes: "f64" | "f32" | "i32" = "f64"): Code {
    return lanes === "f64" ? bits.constF64(x, x) : lanes === "f32" ? bits.constF32(x) : i32v.splat(i32.const(x));
  }

  /** Four-lane runs were checked equation by equation when `f32` was set; float64 lanes hold no integers. */
  private supported(e: Eqn): boolean {
    return this.f32 || covers64(this, e);
  }

  private region(src: Var): Region {
    let r = this.regionOf.get(src);
    if (r === undefined) {
      const dtype = src.aval.dtype as Region["dtype"];
      const count = sizeOf(src.aval.shape);
      const at = this.run.resident?.(src);
      if (at !== undefined) {
        r = { slot: this.run.slot(src), dtype, count, offset: at.offset, resident: true };
        this.residentShared ||= at.shared;
      } else {
        r = { slot: this.run.slot(src), dtype, count, offset: this.layoutEnd };
        this.layoutEnd += align(count * BYTES[dtype]! + 64);
      }
      this.regionOf.set(src, r);
      this.reads.push(r);
    }
    return r;
  }

  private outRegion(v: Var): Region {
    const have = this.outRegions.get(v);
    if (have !== undefined) return have;
    const dtype = v.aval.dtype as Region["dtype"];
    const r: Region = { slot: this.run.slot(v), dtype, count: this.n, offset: this.layoutEnd, inPlace: this.run.readInPlace(v) };
    this.layoutEnd += align(this.n * BYTES[dtype]! + 64);
    this.writes.push(r);
    this.outRegions.set(v, r);
    return r;
  }

  /** Element `idx` (i32 code) of a region, widened to a float64, as scalar code. */
  private scalarLoad(r: Region, idx: Code): Code {
    const addr = i32.shl(idx, i32.const(SHIFT[r.dtype]!));
    const off = DATA + r.offset;
    if (r.dtype === "float32") return scalar.f64PromoteF32(f32.load(addr, off));
    if (r.dtype === "float64") return f64.load(addr, off);
    return scalar.f64ConvertI32U(scalar.i32Load8U(addr, off));
  }

  /** Elements idx .. idx + lanes - 1 of a region as a vector (f32x4 in float32 mode, else f64x2). */
  private vectorLoad(r: Region, idx: Code): Code {
    const addr = i32.shl(idx, i32.const(SHIFT[r.dtype]!));
    const off = DATA + r.offset;
    if (this.f32 && r.dtype === "bool") return f32v.convertU32(i32v.extendLowU16(i32v.extendLowU8(bits.load32Zero(addr, off))));
    if (this.f32) return v128.load(addr, off);
    if (r.dtype === "float32") return f64v.promoteLowF32(bits.load64Zero(addr, off));
    if (r.dtype === "float64") return v128.load(addr, off);
    return f64v.convertLowU32(i32v.extendLowU16(i32v.extendLowU8(bits.load16Splat(addr, off))));
  }

  /** Stores the vector `value` as elements idx .. idx + lanes - 1 of a region. */
  private vectorStore(r: Region, idx: Code, value: Code): Code {
    const addr = i32.shl(idx, i32.const(SHIFT[r.dtype]!));
    const off = DATA + r.offset;
    if (this.f32 && r.dtype === "bool") {
      const w = f32v.truncSatToU32(value);
      const h = i32v.narrowU32(w, w);
      return bits.store32Lane0(addr, i32v.narrowU16(h, h), off);
    }
    if (this.f32) return v128.store(addr, value, off);
    if (r.dtype === "float32") return bits.store64Lane0(addr, f64v.demoteToF32(value), off);
    if (r.dtype === "float64") return v128.store(addr, value, off);
    const w = f64v.truncSatToI32(value);
    const h = i32v.narrowU32(w, w);
    return bits.store16Lane0(addr, i32v.narrowU16(h, h), off);
  }

  /**
   * The loop body for elements e .. e + step - 1: reads, operations, escaping stores. Each value is
   * PARTS vector locals of consecutive elements (two dependency chains).
   */
  private emitBody(): void {
    const bases: Code[] = [get(this.e), i32.add(get(this.e), i32.const(this.lanes))];
    const values = new Map<Var, readonly [Local, Local]>();
    const local = new Set(this.run.group.map((eq) => eq.outvars[0]!));
    const read = (v: Var): readonly [Local, Local] => {
      const have = values.get(v);
      if (have !== undefined) return have;
      const scalarLocal = this.scalars.get(v);
      if (scalarLocal !== undefined) return [scalarLocal, scalarLocal];
      if (local.has(v)) throw new Error("wasm loop: a value used before its definition");
      const b = this.run.virtual.get(v);
      const src = b ? b.inputs[0]! : v;
      const r = this.region(src);
      if (sizeOf(src.aval.shape) === 1) {
        const s = this.v128();
        this.pre.push(set(s, this.splat(r, this.laneLoad(r, i32.const(0)))));
        this.scalars.set(v, s);
        return [s, s];
      }
      const pair = bases.map((base) => {
        const l = this.v128();
        const code = b
          ? this.broadcastLoad(r, src.aval.shape, (b.params as PrimParams[Prim.BroadcastInDim]).broadcastDimensions, base)
          : this.vectorLoad(r, base);
        this.body.push(set(l, code));
        return l;
      }) as [Local, Local];
      values.set(v, pair);
      return pair;
    };
    for (const eq of this.run.group) {
      const v = eq.outvars[0]!;
      const ins = eq.inputs.map(read);
      const pair: [Local, Local] = [this.v128(), this.v128()];
      if (this.f32)
        for (const u of [0, 1])
          this.body.push(
            set(
              pair[u]!,
              op32(
                this,
                eq,
                ins.map((p) => get(p[u]!)),
                ins.map((p) => p[0] === p[1]),
              )!,
            ),
          );
      else
        for (const u of [0, 1])
          this.body.push(
            set(
              pair[u]!,
              op64(
                this,
                eq,
                ins.map((p) => get(p[u]!)),
                false,
              )!,
            ),
          );
      values.set(v, pair);
      if (this.run.escapes(v)) for (const u of [0, 1]) this.body.push(this.vectorStore(this.outRegion(v), bases[u]!, get(pair[u]!)));
    }
  }

  /**
   * Elements i, i + 1 of the run read from `src` laid along `dims` of the run's shape (size-1
   * source dims broadcast): a vector load where both fall in one contiguous row, a splat where
   * they read one element, else one load per lane.
   */
  private broadcastLoad(r: Region, src: Shape, dims: readonly number[], i: Code): Code {
    const target = this.run.shape;
    const ts = stridesOf(target),
      ss = stridesOf(src);
    const real = dims.map((d, k) => ({ d, k })).filter(({ k }) => src[k] !== 1);
    const contiguous = real.every(({ d }, m) => m === 0 || d === real[m - 1]!.d + 1);
    if (contiguous) {
      const first = real[0]!.d,
        last = real[real.length - 1]!.d;
      const below = ts[last]!,
        span = sizeOf(target.slice(first, last + 1));
      const at = (x: Code) => {
        const q = below === 1 ? x : scalar.i32DivU(x, i32.const(below));
        return first === 0 ? q : scalar.i32RemU(q, i32.const(span));
      };
      if (below === 1 && span % this.lanes === 0) return this.vectorLoad(r, at(i));
      if (below % this.lanes === 0) return this.splat(r, this.laneLoad(r, at(i)));
      return this.perLane(r, i, at);
    }
    const at = (x: Code): Code =>
      real
        .map(({ d, k }): Code => i32.mul(scalar.i32RemU(scalar.i32DivU(x, i32.const(ts[d]!)), i32.const(target[d]!)), i32.const(ss[k]!)))
        .reduce((a, b) => i32.add(a, b));
    // The lanes share one row of the run's last dim (i is a multiple of the lanes): one address for
    // all of them, then one contiguous vector (the source's last dim lands there) or one element.
    const last = target.length - 1;
    if (target[last]! % this.lanes === 0)
      return real[real.length - 1]!.d === last ? this.vectorLoad(r, at(i)) : this.splat(r, this.laneLoad(r, at(i)));
    return this.perLane(r, i, at);
  }

  /** One element per lane, element i + lane read from `at(i + lane)`. */
  private perLane(r: Region, i: Code, at: (x: Code) => Code): Code {
    let v = this.splat(r, this.laneLoad(r, at(i)));
    for (let lane = 1; lane < this.lanes; lane++) {
      const x = this.laneLoad(r, at(i32.add(i, i32.const(lane))));
      v = !this.f32 ? f64v.replaceLane(v, lane, x) : isInt(r.dtype) ? i32v.replaceLane(v, lane, x) : f32v.replaceLane(v, lane, x);
    }
    return v;
  }
  /**
   * One element as a lane value: in four-lane mode a float32 (a bool as 0.0f / 1.0f) or an int's
   * 32 bits as an i32, else widened to float64.
   */
  private laneLoad(r: Region, idx: Code): Code {
    if (!this.f32) return this.scalarLoad(r, idx);
    if (r.dtype === "bool") return scalar.f32ConvertI32U(scalar.i32Load8U(idx, DATA + r.offset));
    const addr = i32.shl(idx, i32.const(2));
    return isInt(r.dtype) ? i32.load(addr, DATA + r.offset) : f32.load(addr, DATA + r.offset);
  }
  /** A lane value of region `r` (`laneLoad`'s) in every lane. */
  private splat(r: Region, x: Code): Code {
    return !this.f32 ? f64v.splat(x) : isInt(r.dtype) ? i32v.splat(x) : f32v.splat(x);
  }
}

/** The module: `run(e0, e1)` over elements [e0, e1), e0 and e1 multiples of `step`. */
function buildModule(k: Kernel, step: number, shared: boolean): Uint8Array {
  const m = new ModuleBuilder({ initial: 1, maximum: MAX_PAGES, shared });
  m.importFunc("sin", [F64], [F64]);
  m.importFunc("cos", [F64], [F64]);
  const run = m.func("run", [I32, I32]);
  for (const t of k.locals) run.local(t);
  const e: Local = { index: 2, type: I32 };
  const loop = (body: Code) => forRange(e, get(run.param(0)), get(run.param(1)), i32.const(step), body);
  run.body = [k.pre, loop(k.body), k.checked === null ? [] : if_(bits.anyTrue(get(k.checked.flag)), loop(k.checked.body))];
  return m.encode();
}
