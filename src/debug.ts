/**
 * Printing from inside transformed code, as JAX's `jax.debug`. `debug.print` and
 * `debug.callback` bind `debug_callback`, a primitive with an effect: under `jit` it is staged
 * (also when its operands are constants) and runs each time the compiled program runs; under
 * `grad`/`jvp` it sees primal values; under `vmap` it sees the batched values (JAX does the same);
 * inside `scan` it runs once per step. On WebGPU the values are read back asynchronously, so
 * the print comes once they arrive.
 */
import { ArgumentError } from "./core/errors.js";
import { bind } from "./core/interpreter.js";
import { NDArray } from "./core/ndarray.js";
import { Prim } from "./core/prim.js";
import { flatten, unflatten } from "./tree.js";

let sink: (line: string) => void = (line) => console.log(line);

/**
 * Replaces where `debug.print` writes (default `console.log`) and returns the previous sink, so
 * tests and loggers can capture the lines.
 *
 * @example
 * const lines: string[] = [];
 * const restore = debug.setSink((l) => lines.push(l));
 * jit((x) => { debug.print("x = {}", x); return x; })(np.ones([2]));
 * debug.setSink(restore);
 */
export function setSink(fn: (line: string) => void): (line: string) => void {
  if (typeof fn !== "function") throw new ArgumentError(`debug.setSink: fn (the sink) must be a function (line: string) => void, got ${typeof fn}`);
  const prev = sink;
  sink = fn;
  return prev;
}

/**
 * Calls `fn` with the values of `args` (a pytree of arrays, with arrays as concrete CPU arrays)
 * when the program runs; returns nothing. `fn` is never inspected or placed in generated code.
 */
export function callback<const A extends readonly unknown[]>(fn: (...args: A) => void, ...args: A): void {
  if (typeof fn !== "function") throw new ArgumentError(`debug.callback: fn must be a function, got ${typeof fn}`);
  const [leaves, def] = flatten(args);
  const arrays = leaves.filter((l): l is NDArray => l instanceof NDArray);
  const where = leaves.map((l) => l instanceof NDArray);
  const rest = leaves.filter((l) => !(l instanceof NDArray));
  const run = (values: NDArray[]) => {
    let a = 0,
      r = 0;
    const full = where.map((isArray) => (isArray ? values[a++]! : rest[r++]));
    fn(...(unflatten(def, full) as unknown as A));
  };
  bind(Prim.DebugCallback, arrays, { callback: run, name: `debug.callback(${fn.name || "fn"})` });
}

/** An array as its values (nested lists), a scalar as its number. */
function show(x: unknown): string {
  if (x instanceof NDArray) {
    const c = x.toConcrete("debug.print");
    return c.ndim === 0 ? String(c.item()) : JSON.stringify(c.tolist());
  }
  return typeof x === "string" ? x : JSON.stringify(x);
}

/**
 * Prints `fmt` with its placeholders filled when the program runs: `{}` takes the next positional
 * argument, `{0}`/`{1}` one by position, `{name}` a field of a trailing plain object (JAX's keyword
 * arguments); `{{` and `}}` are literal braces. Arguments may be arrays, pytrees of arrays or plain
 * values.
 *
 * @example
 * const f = jit((x: NDArray) => { debug.print("x = {} and 2x = {y}", x, { y: x.mul(2) }); return x; });
 */
export function print(fmt: string, ...args: unknown[]): void {
  if (typeof fmt !== "string") throw new ArgumentError(`debug.print: fmt must be a string, got ${typeof fmt}`);
  const last = args[args.length - 1];
  const named =
    args.length > 0 && typeof last === "object" && last !== null && !(last instanceof NDArray) && Object.getPrototypeOf(last) === Object.prototype
      ? (last as Record<string, unknown>)
      : {};
  const positional = named === last ? args.slice(0, -1) : args;
  // Check the placeholders now, while the call site is on the stack.
  let next = 0;
  const pieces: (string | { pos: number } | { name: string })[] = [];
  const re = /\{\{|\}\}|\{([^{}]*)\}/g;
  let at = 0;
  for (let m = re.exec(fmt); m !== null; m = re.exec(fmt)) {
    pieces.push(fmt.slice(at, m.index));
    at = m.index + m[0].length;
    if (m[0] === "{{" || m[0] === "}}") pieces.push(m[0][0]!);
    else if (m[1] === "") pieces.push({ pos: next++ });
    else if (/^\d+$/.test(m[1]!)) pieces.push({ pos: Number(m[1]) });
    else if (Object.hasOwn(named, m[1]!)) pieces.push({ name: m[1]! });
    else
      throw new ArgumentError(
        `debug.print: the placeholder {${m[1]}} in fmt names no field of the trailing object in args; pass it as debug.print(fmt, ..., { ${m[1]}: value })`,
      );
  }
  pieces.push(fmt.slice(at));
  for (const p of pieces)
    if (typeof p === "object" && "pos" in p && p.pos >= positional.length)
      throw new ArgumentError(`debug.print: fmt "${fmt}" needs at least ${p.pos + 1} positional args, got ${positional.length}`);
  callback(
    (pos: unknown[], kw: Record<string, unknown>) =>
      sink(pieces.map((p) => (typeof p === "string" ? p : "pos" in p ? show(pos[p.pos]) : show(kw[p.name]))).join("")),
    positional,
    named,
  );
}
