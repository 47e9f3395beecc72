/**
 * Library functions built from many primitives run as one compiled program when called eagerly, as
 * JAX jits its own samplers. Eagerly, every primitive of a uniform draw (the 20 rounds of the
 * Threefry cipher, some 90 uint32 operations) is its own kernel call with its own full-size result;
 * compiled, they fuse into a few loops: 10⁶ uniform floats took 229 ms eagerly and 18 ms as a
 * program.
 *
 * Under any transform (jit, grad, vmap, a user's interpreter) the function body is called as it is,
 * so it traces inline into the enclosing program. The results are the same either way: a compiled
 * program gives the bits eager evaluation gives (the jit = eager law). The compiler is `jit`,
 * installed by the façade (src/api/jit.ts), as the base interpreter is.
 */
import { baseInterpreter, currentInterpreter } from "./interpreter.js";
import { type NDArray, Tracer } from "./ndarray.js";

type Compiled = (...arrays: NDArray[]) => unknown;
let compiler: ((f: Compiled) => Compiled) | null = null;

/** Installs the compiler `staged` programs go through (the façade installs `jit`). */
export function setStageCompiler(compile: (f: Compiled) => Compiled): void {
  compiler = compile;
}

/** Programs kept, least recently used dropped first; each is a jitted function with its own signature cache. */
const MAX_PROGRAMS = 256;
const programs = new Map<string, Compiled>();

/**
 * `body(...arrays)`, run as a cached compiled program when nothing traces (the base interpreter is
 * current and no operand is a tracer), else called directly. `key` must name the function and every
 * value `body` closes over (shapes, dtypes, numbers that shape the computation): calls with one key
 * share the program traced from the first of them, so `body` may depend on nothing else. The
 * arrays' dtypes and shapes need not be in the key (the jit keys its programs by them).
 */
export function staged<T>(key: string, arrays: readonly NDArray[], body: (...arrays: NDArray[]) => T): T {
  if (!stages(arrays)) return body(...arrays);
  let program = programs.get(key);
  if (program === undefined) {
    if (programs.size >= MAX_PROGRAMS) programs.delete(programs.keys().next().value!);
    program = compiler!((...a) => body(...a));
  } else programs.delete(key);
  programs.set(key, program);
  return program(...arrays) as T;
}

/** Whether `staged` with these operands runs a compiled program (else it calls its body directly). */
export function stages(arrays: readonly NDArray[]): boolean {
  return compiler !== null && currentInterpreter() === baseInterpreter() && !arrays.some((a) => a instanceof Tracer);
}

/** A number as cache-key text that tells -0 from 0 (String(-0) is "0"). */
export const numberKey = (v: number): string => (Object.is(v, -0) ? "-0" : String(v));

/** Drops every cached program (for tests). */
export function clearStaged(): void {
  programs.clear();
}
