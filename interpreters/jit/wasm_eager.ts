/**
 * Eager elementwise ops on large arrays through the jit's WebAssembly loops: a one-equation fused
 * run per (primitive, dtypes, length), compiled the second time that key is seen (one-off sizes keep
 * the JavaScript kernel and cost no compile) and kept for later calls (at most KEPT). The loops give
 * the JavaScript kernels' bits (the jit = eager law holds them to that), so the eager result does
 * not depend on which path ran; a training loop's repeated shapes take the wasm one, four float32
 * lanes at a time and on the loop threads for long arrays. Eager float sums and maxima/minima of
 * long arrays likewise run through the jit's wasm reductions (`eagerWasmReduce`). Installed into the
 * eval interpreter by the façade (src/api/args.ts).
 */
import { ConcreteArray, type Aval } from "../../src/core/ndarray.js";
import type { TypedArray } from "../../src/core/dtype.js";
import type { Prim, PrimParams } from "../../src/core/prim.js";
import { sizeOf } from "../../src/core/shape.js";
import { type Eqn, Var } from "../../src/ir/ir.js";
import { wasmLoopStep, wasmLoopsEnabled } from "./wasm_loop.js";
import { wasmColumnSumStep, wasmExtremumStep, wasmSumStep } from "./wasm_sum.js";
import type { ReduceOp } from "../eval/kernels/reduce.js";

type Step = (env: ConcreteArray[]) => void;

/** Shorter arrays keep the JavaScript kernel: the copies into linear memory and the call cost more there. */
const MIN_ELEMENTS = 4096;
/**
 * Longer ones keep it too: the loops' memory never shrinks, and an eager op on a huge array should
 * not leave it holding hundreds of megabytes (a jitted program may; it asked to be compiled).
 */
const MAX_ELEMENTS = 1 << 22;
/** Compiled runs kept (the oldest is dropped past this), and keys remembered as seen once. */
const KEPT = 64;
const SEEN = 1024;

const steps = new Map<string, Step | null>();
const seen = new Set<string>();

/**
 * `prim` over `args` (equal shapes, the output's) in WebAssembly, or null where the JavaScript
 * kernel should run: a short array, a key seen for the first time, a primitive or dtype the loops
 * do not cover, or linear memory that could not grow.
 */
export function eagerWasmElementwise(prim: Prim, args: readonly ConcreteArray[], params: PrimParams[Prim], out: Aval): ConcreteArray | null {
  const n = sizeOf(out.shape);
  if (n < MIN_ELEMENTS || n > MAX_ELEMENTS || !wasmLoopsEnabled()) return null;
  let key = `${prim}|${out.dtype}|${n}`;
  for (const a of args) key += `|${a.dtype}`;
  let step = steps.get(key);
  if (step === undefined) {
    if (!seen.has(key)) {
      if (seen.size >= SEEN) seen.clear();
      seen.add(key);
      return null;
    }
    step = compile(prim, args, params, out, n);
    if (steps.size >= KEPT) steps.delete(steps.keys().next().value!);
    steps.set(key, step);
  }
  if (step === null) return null;
  const env = [...args];
  step(env);
  const result = env[args.length];
  return result === undefined ? null : new ConcreteArray(result.values, out.shape as number[], out.dtype);
}

const reductions = new Map<string, Step | null>();

/**
 * A float sum, max or min over the middle axis of an [outer, n, inner] block (the eager kernel's
 * view, scattered axes already moved together) through the jit's wasm reductions (`wasm_sum.ts`,
 * which give the eager kernel's bits), or null where the JavaScript kernel should run: a short or
 * huge array, a max/min with inner > 1, another dtype, or linear memory that could not grow. The
 * steps cost no compile (their kernels are made once per memory), so unlike elementwise ops a key
 * is served the first time it is seen.
 */
export function eagerWasmReduce(op: ReduceOp, x: TypedArray, [outer, n, inner]: readonly [number, number, number], out: Aval): ConcreteArray | null {
  const dtype = out.dtype;
  if (
    x.length < MIN_ELEMENTS ||
    x.length > MAX_ELEMENTS ||
    (dtype !== "float32" && dtype !== "float64") ||
    !(x instanceof ARRAY[dtype]) ||
    !wasmLoopsEnabled()
  )
    return null;
  const key = `${op}|${dtype}|${outer},${n},${inner}|${out.shape.join(",")}`;
  let step = reductions.get(key);
  if (step === undefined) {
    const decline: Step = () => {};
    const outShape = out.shape as number[];
    let made: Step | null;
    if (op === "sum")
      made = inner > 1 ? wasmColumnSumStep(0, 1, [outer, n, inner], dtype, outShape, decline) : wasmSumStep(0, 1, outer, n, dtype, outShape, decline);
    else made = inner === 1 ? wasmExtremumStep(0, 1, outer, n, dtype, outShape, op, decline) : null;
    step = made === decline ? null : made;
    if (reductions.size >= KEPT) reductions.delete(reductions.keys().next().value!);
    reductions.set(key, step);
  }
  if (step === null) return null;
  const env = [new ConcreteArray(x, [x.length], dtype)];
  step(env);
  return env[1] ?? null;
}
const ARRAY = { float32: Float32Array, float64: Float64Array } as const;

/** The fused-run step of one equation over flat operands in env slots 0..k-1, the result in slot k. */
function compile(prim: Prim, args: readonly ConcreteArray[], params: PrimParams[Prim], out: Aval, n: number): Step | null {
  const inputs = args.map((a) => new Var({ shape: [n], dtype: a.dtype }));
  const result = new Var({ shape: [n], dtype: out.dtype });
  const eqn: Eqn = { prim, inputs, params, outvars: [result] };
  const slots = new Map<Var, number>([...inputs.map((v, i) => [v, i] as const), [result, inputs.length]]);
  return wasmLoopStep({
    group: [eqn],
    shape: [n],
    virtual: new Map(),
    escapes: () => true,
    readInPlace: () => false,
    slot: (v) => slots.get(v)!,
    // Linear memory could not grow: leave the result unset, and the JavaScript kernel runs.
    fallback: () => () => {},
  });
}
