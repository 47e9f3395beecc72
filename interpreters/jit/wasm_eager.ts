/**
 * Eager elementwise ops on large arrays through the jit's WebAssembly loops: a one-equation fused
 * run per (primitive, dtypes, length), compiled the second time that key is seen (one-off sizes keep
 * the JavaScript kernel and cost no compile) and kept for later calls (at most KEPT). The loops give
 * the JavaScript kernels' bits (the jit = eager law holds them to that), so the eager result does
 * not depend on which path ran; a training loop's repeated shapes take the wasm one, four float32
 * lanes at a time and on the loop threads for long arrays. Installed into the eval interpreter by
 * the façade (src/api/args.ts).
 */
import { ConcreteArray, type Aval } from "../../src/core/ndarray.js";
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
 * A float sum, max or min over adjacent axes of `x` through the jit's wasm reductions
 * (`wasm_sum.ts`, which give the eager kernel's bits), or null where the JavaScript kernel should
 * run: a short or huge array, scattered axes, a max/min over axes that are not trailing, another
 * dtype, or linear memory that could not grow. The steps cost no compile (their kernels are made
 * once per memory), so unlike elementwise ops a key is served the first time it is seen.
 */
export function eagerWasmReduce(op: ReduceOp, x: ConcreteArray, axes: readonly number[], out: Aval): ConcreteArray | null {
  const size = x.size;
  if (size < MIN_ELEMENTS || size > MAX_ELEMENTS || (x.dtype !== "float32" && x.dtype !== "float64") || out.dtype !== x.dtype || !wasmLoopsEnabled())
    return null;
  const key = `${op}|${x.dtype}|${x.shape.join(",")}|${axes.join(",")}`;
  let step = reductions.get(key);
  if (step === undefined) {
    step = reduceStep(op, x.shape, x.dtype, axes, out.shape as number[]);
    if (reductions.size >= KEPT) reductions.delete(reductions.keys().next().value!);
    reductions.set(key, step);
  }
  if (step === null) return null;
  const env = [x];
  step(env);
  return env[1] ?? null;
}

/** The wasm reduction of an [x] env into slot 1 (left unset where it declines at run time), or null. */
function reduceStep(op: ReduceOp, shape: readonly number[], dtype: "float32" | "float64", axes: readonly number[], outShape: number[]): Step | null {
  const sorted = [...axes].sort((a, b) => a - b);
  const first = sorted[0]!,
    last = sorted[sorted.length - 1]!;
  if (sorted.some((a, k) => a !== first + k)) return null;
  const outer = sizeOf(shape.slice(0, first)),
    n = sizeOf(shape.slice(first, last + 1)),
    inner = sizeOf(shape.slice(last + 1));
  const decline: Step = () => {};
  let step: Step;
  if (op === "sum")
    step = inner > 1 ? wasmColumnSumStep(0, 1, [outer, n, inner], dtype, outShape, decline) : wasmSumStep(0, 1, outer, n, dtype, outShape, decline);
  else if (inner === 1) step = wasmExtremumStep(0, 1, outer, n, dtype, outShape, op, decline);
  else return null;
  return step === decline ? null : step;
}

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
