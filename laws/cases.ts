/**
 * A `Case` is what every law is checked on: a function, one example of its arguments, and
 * optionally more examples of the same shapes (the vmap laws stack them into a batch). Cases print
 * as code in fast-check counterexamples. This module also holds the small tree plumbing the laws
 * share: examples for a batch, and the fixed weighted sum that turns any output into a scalar.
 */
import fc from "fast-check";
import { ArgumentError, NDArray, np, tree } from "../src/index.js";
import { fromHost, host, isFloat, leavesOf } from "./numeric.js";
import { needArbitrary, needArray, needFunction, needOptions, renamed, show } from "./validate.js";

/** A function the laws call with a case's arguments. */
export type Fn = (...args: readonly unknown[]) => unknown;

/**
 * A function and its arguments. `A` is the argument list's type; a `Case<A>` is a `Case` (the
 * laws only call `f` with `args` and `batch`, which have that type).
 */
export interface Case<A extends readonly unknown[] = readonly unknown[]> {
  /** The function under test: takes `args` (pytrees of arrays) and returns a pytree of arrays. */
  f(...args: A): unknown;
  readonly args: A;
  /** More examples with the structure and shapes of `args`; the vmap laws stack `[args, ...batch]`. */
  readonly batch?: readonly A[];
  /** How `f` prints in a counterexample (a random program prints as its code). */
  readonly source?: string;
}

/**
 * An array as the `np.array(...)` call that rebuilds it.
 *
 * @example
 * printArray(np.array([1, 2])); // 'np.array([1,2], { dtype: "float32" })'
 */
export function printArray(x: NDArray): string {
  return `np.array(${JSON.stringify(x.tolist())}, { dtype: "${x.dtype}" })`;
}

function printTree(t: unknown): string {
  if (t instanceof NDArray) return printArray(t);
  if (Array.isArray(t)) return `[${t.map(printTree).join(", ")}]`;
  if (t !== null && typeof t === "object")
    return `{ ${Object.entries(t)
      .map(([k, v]) => `${k}: ${printTree(v)}`)
      .join(", ")} }`;
  return String(t);
}

/**
 * A case whose fast-check printout is the function's source and its arguments as code.
 *
 * @example
 * laws.jvpIsLinear.check(makeCase({ f: np.sin, args: [x], source: "np.sin" }), 0);
 */
export function makeCase<A extends readonly unknown[]>(c: Case<A>): Case<A> {
  if (typeof c !== "object" || c === null) throw new ArgumentError(`makeCase: c must be an object { f, args }, got ${show(c)}`);
  needFunction("makeCase", "c.f", c.f);
  needArray("makeCase", "c.args", c.args);
  const text = () => {
    const fn = c.source ?? (c.f.name ? c.f.name : String(c.f));
    const batch = c.batch?.length ? `\n  batch: [${c.batch.map((b) => printTree(b)).join(", ")}],` : "";
    return `{\n  f: ${fn.replace(/\n/g, "\n  ")},\n  args: ${printTree(c.args)},${batch}\n}`;
  };
  return { ...c, [fc.toStringMethod]: text } as Case<A>;
}

export interface CasesOptions {
  /** Draw this many independent examples for the vmap laws (needs an arbitrary of fixed shapes). */
  batch?: number;
  /** How `f` prints in counterexamples (default: its name). */
  source?: string;
}

/**
 * Cases of one function over an arbitrary of its argument lists. Without `batch`, the vmap laws
 * build a batch from permutations of each example's elements (same values, so the same domain).
 *
 * @example
 * const c = cases((x: NDArray, y: NDArray) => np.matmul(x, y), fc.tuple(arb.array({ shape: [2, 3] }), arb.array({ shape: [3] })), { batch: 3 });
 */
export function cases<A extends unknown[]>(f: (...args: A) => unknown, args: fc.Arbitrary<A>, options: CasesOptions = {}): fc.Arbitrary<Case<A>> {
  needFunction("cases", "f", f);
  needArbitrary("cases", "args", args);
  options = needOptions("cases", options);
  const n = options.batch ?? 1;
  const base = { f, ...(options.source === undefined ? {} : { source: options.source }) };
  if (n <= 1) return args.map((a) => makeCase({ ...base, args: a }));
  return fc
    .array(args, { minLength: n, maxLength: n })
    .filter((all) => all.every((a) => sameShapes(a, all[0]!)))
    .map(([first, ...rest]) => makeCase({ ...base, args: first!, batch: rest }));
}

function sameShapes(a: unknown, b: unknown): boolean {
  const [la, da] = tree.flatten(a),
    [lb, db] = tree.flatten(b);
  if (!da.equals(db)) return false;
  return la.every((x, i) => {
    const p = leavesOf(x)[0]!,
      q = leavesOf(lb[i])[0]!;
    return p.dtype === q.dtype && p.shape.join() === q.shape.join();
  });
}

/** Each leaf's elements rotated by k and, for odd k, reversed: same values, another arrangement. */
function permuted(args: readonly unknown[], k: number): unknown[] {
  return tree.map((l: unknown) => {
    const x = leavesOf(l)[0]!;
    const v = host(x),
      n = v.length;
    const out = v.map((_, i) => v[(k % 2 ? n - 1 - i : i + k) % n]!);
    return fromHost(out, x.shape, x.dtype);
  }, args.slice()) as unknown[];
}

/**
 * `n` examples of the case's arguments: its own batch when it has one, else permutations.
 *
 * @example
 * const [a, b, c] = examples(myCase, 3); // each an argument list of the same shapes
 */
export function examples(c: Case, n: number): unknown[][] {
  const given = [c.args, ...(c.batch ?? [])].map((a) => a.slice());
  if (given.length > 1) return given;
  return Array.from({ length: n }, (_, k) => (k === 0 ? c.args.slice() : permuted(c.args, k)));
}

const weightCache = new Map<string, NDArray>();

/** Fixed, non-uniform weights for an output leaf: cos(0.9 i + 0.7 leaf + 0.3). */
function weights(shape: readonly number[], dtype: NDArray["dtype"], leaf: number): NDArray {
  const key = `${shape}|${dtype}|${leaf}`;
  let w = weightCache.get(key);
  if (w === undefined) {
    const n = shape.reduce((a, b) => a * b, 1);
    w = fromHost(
      Array.from({ length: n }, (_, i) => Math.cos(0.9 * i + 0.7 * leaf + 0.3)),
      shape,
      dtype,
    );
    weightCache.set(key, w);
  }
  return w;
}

/**
 * The scalar `sum_leaf sum_i w_i out_i` of the float leaves of an output tree (fixed weights),
 * which the grad and Hessian laws differentiate.
 *
 * @example
 * const s = (x: NDArray) => scalarize(myVectorFn(x)); // grad(s) is a weighted vjp of myVectorFn
 */
export function scalarize(out: unknown): NDArray {
  const leaves = renamed("scalarize", () => leavesOf(out)).filter((l) => isFloat(l.dtype));
  if (leaves.length === 0) return np.array(0, { dtype: "float32" });
  return leaves.map((l, i) => np.sum(np.multiply(l, weights(l.shape, l.dtype, i)))).reduce((a, b) => np.add(a, b));
}
