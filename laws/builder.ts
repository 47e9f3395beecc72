/**
 * A `Builder` is how a random program's op is written once and given two meanings: evaluated with
 * the public API (values are NDArrays), or printed as the TypeScript that does the same (values are
 * code). Ops call public functions by path (`"np.sin"`, `"nn.softmax"`), bind primitives directly
 * where no `np` function reaches them, and make constants; float constants take the program's dtype
 * (`dt`, the first input's dtype), so a program runs unchanged in float32 and float64.
 */
import { NDArray, Prim, bind1, checkpoint, customJvp, debug, jit, jvp, lax, linalg, nn, np } from "../src/index.js";
import { fromHost } from "./numeric.js";

/** Public functions an op may call. */
export type Path =
  | `np.${Exclude<keyof typeof np, "linalg">}`
  | `np.linalg.${keyof typeof np.linalg}`
  | `linalg.${keyof typeof linalg}`
  | `debug.${keyof typeof debug}`
  | `nn.${keyof typeof nn}`
  | "lax.cond"
  | "lax.scan"
  | "jvp";
/** Public transforms that take a function and return one: `path(fn, ...)(operands)`. */
export type Wrapper = "jit" | "checkpoint" | "customJvp";

/** Stands for the program's float dtype in an argument. */
export const DT: unique symbol = Symbol("dt");

export type Lit = number | boolean | string | null | typeof DT | readonly Lit[] | { readonly [k: string]: Lit };
export type Arg<T> = T | Lit | Lambda | readonly Arg<T>[];

export interface Builder<T> {
  call(path: Path, ...args: Arg<T>[]): T;
  bind(prim: Prim, args: readonly T[], params: Record<string, Lit>): T;
  /** A constant array: float (the program dtype) unless `dtype` says int32 or bool. */
  constant(values: readonly number[], shape: readonly number[], dtype?: "int32" | "bool"): T;
  /** A function value `(p0, ...) => body(p0, ...)` to pass to a higher-order function. */
  fn(arity: number, body: (...params: T[]) => T | readonly T[]): Arg<T>;
  /** `wrapper(...args)(...operands)`, e.g. `jit(f)(x)`. */
  wrap(wrapper: Wrapper, args: readonly Arg<T>[], operands: readonly T[]): T;
  /** Element `i` of a value that is a list (what lax.scan and a customJvp rule's inputs are). */
  at(x: T, i: number): T;
  /**
   * Names value `id` (a program value or a body's parameter) in the current function body and
   * returns how to refer to it: evaluation passes the value through; printing emits
   * `const v<id> = ...;` into the body being written (with `note` as a comment at the top level).
   */
  name(id: number, x: T, note?: string): T;
}

const roots: Record<string, unknown> = { np, nn, lax, linalg, debug, jit, jvp, checkpoint, customJvp };

function resolve(path: string): (...args: unknown[]) => any {
  let at: unknown = roots;
  for (const part of path.split(".")) at = (at as Record<string, unknown>)[part];
  if (typeof at !== "function") throw new Error(`program builder: ${path} is not a function of the public API`);
  return at as (...args: unknown[]) => NDArray;
}

/** Evaluates ops with the public API, with `dtype` as the program's float dtype. */
export function evalBuilder(dtype: NDArray["dtype"]): Builder<NDArray> {
  const arg = (a: Arg<NDArray>): unknown => {
    if (a === DT) return dtype;
    if (a instanceof NDArray || a === null || typeof a !== "object") return a;
    if (a instanceof Lambda) return a.fn;
    if (Array.isArray(a)) return a.map(arg);
    return Object.fromEntries(Object.entries(a).map(([k, v]) => [k, arg(v as Arg<NDArray>)]));
  };
  return {
    call: (path, ...args) => resolve(path)(...args.map(arg)),
    bind: (prim, args, params) => bind1(prim, args, arg(params) as never),
    constant: (values, shape, d) => fromHost(values, shape, d ?? dtype),
    fn: (_arity, body) => new Lambda((...xs: NDArray[]) => body(...xs)),
    wrap: (w, args, operands) => resolve(w)(...args.map(arg))(...operands),
    at: (x, i) => (x as unknown as NDArray[])[i]!,
    name: (_id, x) => x,
  };
}

/** A function value passed to a higher-order function (evaluation). */
export class Lambda {
  constructor(readonly fn: (...xs: NDArray[]) => unknown) {}
}

/** A printed expression. */
export class Code {
  constructor(readonly code: string) {}
}

const fmtNum = (x: number) => (Object.is(x, -0) ? "-0" : Number.isFinite(x) ? String(x) : x > 0 ? "Infinity" : x < 0 ? "-Infinity" : "NaN");

function printArg(a: Arg<Code>): string {
  if (a instanceof Code) return a.code;
  if (a instanceof Lambda) return String(a.fn);
  if (a === DT) return "dt";
  if (typeof a === "number") return fmtNum(a);
  if (typeof a === "string") return JSON.stringify(a);
  if (a === null || typeof a === "boolean") return String(a);
  if (Array.isArray(a)) return `[${a.map(printArg).join(", ")}]`;
  const entries = Object.entries(a as Record<string, Arg<Code>>);
  return entries.length ? `{ ${entries.map(([k, v]) => `${k}: ${printArg(v)}`).join(", ")} }` : "{}";
}

/** Values in row-major order as nested JS arrays of the given shape. */
export function nest(values: readonly number[], shape: readonly number[], fmt: (x: number) => string = fmtNum): string {
  let pos = 0;
  const build = (d: number): string =>
    d === shape.length ? fmt(values[pos++]!) : `[${Array.from({ length: shape[d]! }, () => build(d + 1)).join(", ")}]`;
  return build(0);
}

const primKey = (p: Prim) => Object.entries(Prim).find(([, v]) => v === p)![0];

/** A builder that prints; `statements()` are what the top-level body has emitted so far. */
export interface PrintBuilder extends Builder<Code> {
  statements(): readonly string[];
}

/**
 * Prints ops as code over the public API (`np`, `nn`, `lax`, `bind1`, `Prim`, `jit`, `jvp`, ...);
 * lambda parameters are a0, a1, ...; a lambda whose body names values is written as a block.
 */
export function printBuilder(): PrintBuilder {
  let lambdas = 0;
  const frames: string[][] = [[]];
  return {
    call: (path, ...args) => new Code(`${path}(${args.map(printArg).join(", ")})`),
    bind: (prim, args, params) => new Code(`bind1(Prim.${primKey(prim)}, [${args.map((a) => a.code).join(", ")}], ${printArg(params)})`),
    constant: (values, shape, d) => {
      const fmt = d === "bool" ? (x: number) => String(x !== 0) : fmtNum;
      return new Code(`np.array(${nest(values, shape, fmt)}, { dtype: ${d ? JSON.stringify(d) : "dt"} })`);
    },
    fn: (arity, body) => {
      const names = Array.from({ length: arity }, () => `a${lambdas++}`);
      frames.push([]);
      const out = body(...names.map((n) => new Code(n)));
      const stmts = frames.pop()!;
      const ret = out instanceof Code ? out.code : `[${out.map((o) => o.code).join(", ")}]`;
      return new Code(`(${names.join(", ")}) => ${stmts.length ? `{ ${stmts.join(" ")} return ${ret}; }` : ret}`);
    },
    wrap: (w, args, operands) => new Code(`${w}(${args.map(printArg).join(", ")})(${operands.map((o) => o.code).join(", ")})`),
    at: (x, i) => new Code(`${x.code}[${i}]`),
    name: (id, x, note) => {
      const top = frames.length === 1;
      frames[frames.length - 1]!.push(`const v${id} = ${x.code};${top && note ? ` // ${note}` : ""}`);
      return new Code(`v${id}`);
    },
    statements: () => frames[0]!,
  };
}
