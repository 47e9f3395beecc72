/**
 * The composition matrix's pieces. An inner *construct* wraps a vector function g into another
 * vector function that uses g's result nonlinearly inside a higher-order primitive (jit, cond,
 * scan, fori, whileLoop, checkpoint, customJvp, customVjp). Each construct also has a *plain*
 * version: the same arithmetic with the primitive replaced by ordinary JS control flow, which is
 * the reference (evaluated eagerly in float64, and differentiated by finite differences only).
 */
import { FluxionError, type NDArray, checkpoint, customJvp, customVjp, jit, jvp, lax, np, vjp } from "../../src/index.js";

export type VecFn = (x: NDArray) => NDArray;

export interface Construct {
  readonly name: string;
  /** g wrapped in the higher-order primitive. */
  staged(g: VecFn): VecFn;
  /** The same function with plain JS control flow. */
  plain(g: VecFn): VecFn;
}

const f64 = (data: number[] | number[][]) => np.array(data, { dtype: "float64" });
/** Per-step inputs of the scan construct (2 steps of width 3). */
const XS = f64([
  [0.5, -0.25, 0.75],
  [-0.5, 1.0, 0.25],
]);
const isPositive = (y: NDArray) => np.sum(y).item() > 0;

// Each body uses g's result nonlinearly and closes over nothing but g.
const jitBody =
  (g: VecFn): VecFn =>
  (y) =>
    np.sin(g(y)).add(y.mul(0.5));
const trueBranch =
  (g: VecFn): VecFn =>
  (z) =>
    np.cos(g(z)).mul(z);
const falseBranch =
  (g: VecFn): VecFn =>
  (z) =>
    np.tanh(g(z)).add(z);
// The scan step closes over the scan's input y (a closure over an outer value).
const scanStep =
  (g: VecFn, y: NDArray) =>
  (c: NDArray, xi: NDArray): [NDArray, NDArray] => {
    const next = np.sin(g(c)).mul(xi).add(c.mul(0.5)).add(y.mul(0.1));
    return [next, np.cos(next)];
  };
const loopStep =
  (g: VecFn): VecFn =>
  (c) =>
    np.tanh(g(c)).add(c.mul(0.5));
const rematBody =
  (g: VecFn): VecFn =>
  (y) =>
    np.sin(g(y)).mul(y).add(y);
const customJvpBody =
  (g: VecFn): VecFn =>
  (y) =>
    np.sin(g(y)).add(y.mul(y));
const customVjpBody =
  (g: VecFn): VecFn =>
  (y) =>
    np.tanh(g(y)).mul(y);

export const constructs: readonly Construct[] = [
  {
    name: "jit",
    staged: (g) => jit(jitBody(g)),
    plain: jitBody,
  },
  {
    name: "cond",
    staged: (g) => (y) => lax.cond(np.sum(y).greater(0), trueBranch(g), falseBranch(g), y),
    plain: (g) => (y) => (isPositive(y) ? trueBranch(g)(y) : falseBranch(g)(y)),
  },
  {
    name: "scan",
    staged: (g) => (y) => {
      const [carry, ys] = lax.scan(scanStep(g, y), y, XS);
      return carry.add(np.sum(ys, 0));
    },
    plain: (g) => (y) => {
      let carry = y,
        total = np.zerosLike(y);
      for (let t = 0; t < XS.shape[0]!; t++) {
        const [next, out] = scanStep(g, y)(carry, XS.take(t, 0));
        carry = next;
        total = total.add(out);
      }
      return carry.add(total);
    },
  },
  {
    name: "fori",
    staged: (g) => (y) => lax.fori(0, 2, (_i: NDArray, c: NDArray) => loopStep(g)(c), y),
    plain: (g) => (y) => loopStep(g)(loopStep(g)(y)),
  },
  {
    name: "whileLoop",
    staged: (g) => (y) =>
      lax.whileLoop(
        ([i]: NDArray[]) => np.less(i!, 2),
        ([i, c]: NDArray[]) => [i!.add(1), loopStep(g)(c!)],
        [np.array(0, { dtype: "int32" }), y],
      )[1]!,
    plain: (g) => (y) => loopStep(g)(loopStep(g)(y)),
  },
  {
    name: "checkpoint",
    staged: (g) => checkpoint(rematBody(g)),
    plain: rematBody,
  },
  {
    name: "customJvp",
    // The rule is the true derivative (by jvp of the body), so every value and derivative must
    // agree with the plain function; the rule path is what is exercised.
    staged: (g) => {
      const body = customJvpBody(g);
      return customJvp(body, (primals: NDArray[], tangents: NDArray[]) => jvp(body, primals, tangents));
    },
    plain: customJvpBody,
  },
  {
    name: "customVjp",
    staged: (g) => {
      const body = customVjpBody(g);
      return customVjp(
        body,
        (y: NDArray) => [body(y), y],
        (y: NDArray, ct: NDArray) => vjp(body, y)[1](ct),
      );
    },
    plain: customVjpBody,
  },
];

export const construct = (name: string): Construct => {
  const c = constructs.find((k) => k.name === name);
  if (c === undefined) throw new Error(`no construct ${name}`);
  return c;
};

/** The innermost function: smooth and nonlinear. */
export const base: VecFn = (y) => np.sin(y).add(y.mul(y).mul(0.5));

/** `chain[0]` outermost: chain [a, b] is a(b(base)). */
export function nest(chain: readonly Construct[], which: "staged" | "plain"): VecFn {
  return chain.reduceRight<VecFn>((g, c) => c[which](g), base);
}

export { FluxionError };
