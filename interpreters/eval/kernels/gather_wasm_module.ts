/**
 * A WebAssembly kernel that assembles a GEMM operand from a plan of runs: the convolution
 * lowerings' im2col, built in linear memory at SIMD speed, so worker threads can assemble their own
 * images in a shared memory (JavaScript writes into shared memory are slow in V8). The plan, made
 * once per geometry in JavaScript (`conv_gemm.ts`), holds all the index arithmetic (padding,
 * strides, dilations); this module only moves (or adds) elements. It exports two functions:
 *
 *   gather(plan, end, src, dst)   runs the entries at byte addresses [plan, end), RUN_INTS i32 each:
 *                                 [to, from, count, step, reps, toStride, fromStride, toStep]
 *                                 (bytes but count and reps): for r < reps, count elements are
 *                                 written at dst + to + r * toStride, `toStep` bytes apart
 *                                 (contiguous where it is 0), read from src + from + r * fromStride
 *                                 every `step` bytes, or zeros where from < 0. Later entries may
 *                                 overwrite earlier ones.
 *   accumulate(plan, end, src, dst)  the same runs, each element added to what dst holds (zero runs
 *                                 still write zeros): the shift-add lowering's shifted sums, in
 *                                 plan order, so every sum is made in one fixed order.
 *
 * Contiguous runs move 16 bytes per step (then element by element); loads and stores move bits
 * unchanged, so the operand is the same as the JavaScript writers'.
 */
import {
  type Code,
  type Func,
  I32,
  ModuleBuilder,
  block,
  br,
  brIf,
  f32,
  f64,
  f32x4,
  f64x2,
  forRange,
  get,
  i32,
  if_,
  inc,
  loop,
  scalar,
  set,
  v128,
} from "../../../src/codegen/wasm_asm.js";

/** i32 fields of one plan entry (32 bytes). */
export const RUN_INTS = 8;

/** Encodes the gather module for one element type, importing a memory (shared or not) of at most `maxPages`. */
export function buildGatherModule(dtype: "float32" | "float64", shared: boolean, maxPages: number): Uint8Array {
  const mod = new ModuleBuilder({ initial: 1, maximum: maxPages, shared });
  runsFunction(mod.func("gather", [I32, I32, I32, I32]), dtype, false);
  runsFunction(mod.func("accumulate", [I32, I32, I32, I32]), dtype, true);
  return mod.encode();
}

/** The body of `gather`, or of `accumulate` (`add`: elements are added to dst rather than written). */
function runsFunction(f: Func, dtype: "float32" | "float64", add: boolean): void {
  const s = dtype === "float32" ? f32 : f64;
  const v = dtype === "float32" ? f32x4 : f64x2;
  const E = s.bytes;
  // The scalar zero of the element type (both are all-zero bits): f32.const 0 or f64.const 0.
  const zero: Code = dtype === "float32" ? [0x43, 0, 0, 0, 0] : scalar.f64Const(0);
  const c32 = i32.const;
  const [plan, end, src, dst] = [0, 1, 2, 3].map((i) => f.param(i));
  const L = () => f.local(I32);
  const p = L(),
    to = L(),
    from = L(),
    bytes = L(),
    step = L(),
    reps = L(),
    toStride = L(),
    fromStride = L(),
    toStep = L(),
    r = L(),
    d = L(),
    sp = L(),
    stop = L(),
    vstop = L();
  const field = (i: number): Code => i32.load(get(p), 4 * i);
  // What lands at d: the source's element (or vector), plus what d holds when adding.
  const scalarAt = (x: Code): Code => s.store(get(d), add ? s.add(s.load(get(d)), x) : x);
  const vectorAt = (x: Code): Code => v128.store(get(d), add ? v.add(v128.load(get(d)), x) : x);
  // One run of `bytes` bytes at d: zeros, a contiguous run from sp, or a strided one.
  const zeros = [
    block(loop(brIf(1, i32.gtS(get(d), get(vstop))), v128.store(get(d), v128.zero()), inc(d, c32(16)), br(0))),
    block(loop(brIf(1, i32.geS(get(d), get(stop))), s.store(get(d), zero), inc(d, c32(E)), br(0))),
  ];
  const contiguous = [
    block(loop(brIf(1, i32.gtS(get(d), get(vstop))), vectorAt(v128.load(get(sp))), inc(d, c32(16)), inc(sp, c32(16)), br(0))),
    block(loop(brIf(1, i32.geS(get(d), get(stop))), scalarAt(s.load(get(sp))), inc(d, c32(E)), inc(sp, c32(E)), br(0))),
  ];
  const stridedZeros = block(loop(brIf(1, i32.geS(get(d), get(stop))), s.store(get(d), zero), inc(d, get(toStep)), br(0)));
  const strided = block(loop(brIf(1, i32.geS(get(d), get(stop))), scalarAt(s.load(get(sp))), inc(d, get(toStep)), inc(sp, get(step)), br(0)));
  f.body = forRange(
    p,
    get(plan),
    get(end),
    c32(RUN_INTS * 4),
    set(to, i32.add(get(dst), field(0))),
    set(from, field(1)),
    set(toStep, field(7)),
    if_(i32.eqz(get(toStep)), set(toStep, c32(E))),
    // The span the run's destination covers (its last element at stop - toStep).
    set(bytes, i32.mul(field(2), get(toStep))),
    set(step, field(3)),
    set(reps, field(4)),
    set(toStride, field(5)),
    set(fromStride, field(6)),
    forRange(
      r,
      c32(0),
      get(reps),
      c32(1),
      set(d, i32.add(get(to), i32.mul(get(r), get(toStride)))),
      set(stop, i32.add(get(d), get(bytes))),
      // The last address a whole vector may start at.
      set(vstop, i32.sub(get(stop), c32(16))),
      if_(i32.ltS(get(from), c32(0)), if_(i32.eq(get(toStep), c32(E)), zeros, stridedZeros), [
        set(sp, i32.add(get(src), i32.add(get(from), i32.mul(get(r), get(fromStride))))),
        if_(i32.and(i32.eq(get(step), c32(E)), i32.eq(get(toStep), c32(E))), contiguous, strided),
      ]),
    ),
  );
}
