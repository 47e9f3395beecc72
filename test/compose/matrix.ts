/**
 * The composition matrix: every outer transform applied to every chain of inner constructs, on
 * float64 programs. Values must equal the plain (un-nested) program's; derivatives must match
 * central finite differences of the plain program. Where JAX refuses a combination (reverse mode
 * through whileLoop, forward mode through customVjp) the cell asserts the typed error instead.
 */
import { expect } from "vitest";
import { FluxionError, type NDArray, grad, hessian, jacfwd, jacrev, jit, jvp, linearize, np, valueAndGrad, vjp, vmap } from "../../src/index.js";
import { expectClose } from "../helpers.js";
import { type Construct, type VecFn, constructs, nest } from "./constructs.js";

const f64 = (data: number[] | number[][]) => np.array(data, { dtype: "float64" });
const X = f64([0.3, -0.7, 1.1]);
const BATCH = f64([
  [0.3, -0.7, 1.1],
  [-0.9, 0.2, -0.4],
  [0.6, 0.8, -0.1],
]);
const DIR = f64([0.4, -1.2, 0.7]);
const CT = f64([1.3, 0.5, -0.8]);
const N = 3;
const H = 1e-6,
  H2 = 1e-4;
const TOL = { atol: 2e-6, rtol: 2e-6 };

/** The vector function of a chain, and a scalar one built from it (inner results used nonlinearly). */
const vector =
  (c: VecFn): VecFn =>
  (x) =>
    np.tanh(c(x));
const scalar =
  (c: VecFn): VecFn =>
  (x) => {
    const y = c(x);
    return np.sum(np.sin(y).mul(y));
  };

const unit = (i: number) =>
  np.array(
    Array.from({ length: N }, (_, k) => (k === i ? 1 : 0)),
    { dtype: "float64" },
  );
const num = (a: NDArray) => a.item();
/** (f(x + h v) - f(x - h v)) / 2h. */
const fdDir = (f: VecFn, x: NDArray, v: NDArray, h = H) =>
  f(x.add(v.mul(h)))
    .sub(f(x.sub(v.mul(h))))
    .div(2 * h);
const fdGrad = (f: VecFn, x: NDArray) => np.stack(Array.from({ length: N }, (_, i) => fdDir(f, x, unit(i))));
/** Jacobian [out, in] by columns of central differences. */
const fdJac = (f: VecFn, x: NDArray) =>
  np.stack(
    Array.from({ length: N }, (_, i) => fdDir(f, x, unit(i))),
    1,
  );
/** Hessian of a scalar function by second central differences. */
function fdHessian(f: VecFn, x: NDArray): number[][] {
  const at = (i: number, si: number, j: number, sj: number) => num(f(x.add(unit(i).mul(si * H2)).add(unit(j).mul(sj * H2))));
  return Array.from({ length: N }, (_, i) =>
    Array.from({ length: N }, (_, j) => (at(i, 1, j, 1) - at(i, 1, j, -1) - at(i, -1, j, 1) + at(i, -1, j, -1)) / (4 * H2 * H2)),
  );
}

export interface Outer {
  readonly name: string;
  /** Reverse mode (refused through whileLoop). */
  readonly reverse: boolean;
  /** Forward mode on the function itself (refused through customVjp). */
  readonly forward: boolean;
  /**
   * Forward mode over reverse mode: a customVjp function's fwd is differentiated forwards, which
   * is refused when fwd itself calls a customVjp function.
   */
  readonly forwardOverReverse?: boolean;
  check(staged: VecFn, plain: VecFn): void;
}

export const outers: readonly Outer[] = [
  {
    name: "grad",
    reverse: true,
    forward: false,
    check: (s, p) => expectClose(grad(scalar(s))(X), fdGrad(scalar(p), X), TOL.atol, TOL.rtol),
  },
  {
    name: "valueAndGrad",
    reverse: true,
    forward: false,
    check: (s, p) => {
      const [v, g] = valueAndGrad(scalar(s))(X) as [NDArray, NDArray];
      expectClose(v, scalar(p)(X), 1e-12, 1e-12);
      expectClose(g, fdGrad(scalar(p), X), TOL.atol, TOL.rtol);
    },
  },
  {
    name: "vjp",
    reverse: true,
    forward: false,
    check: (s, p) => {
      const [out, pullback] = vjp(vector(s), X) as [NDArray, (ct: NDArray) => NDArray[]];
      expectClose(out, vector(p)(X), 1e-12, 1e-12);
      expectClose(
        pullback(CT)[0]!,
        fdGrad((x) => np.sum(vector(p)(x).mul(CT)), X),
        TOL.atol,
        TOL.rtol,
      );
    },
  },
  {
    name: "linearize",
    reverse: false,
    forward: true,
    check: (s, p) => {
      const [out, lin] = linearize(vector(s), X) as [NDArray, (t: NDArray) => NDArray];
      expectClose(out, vector(p)(X), 1e-12, 1e-12);
      expectClose(lin(DIR), fdDir(vector(p), X, DIR), TOL.atol, TOL.rtol);
    },
  },
  {
    name: "jvp",
    reverse: false,
    forward: true,
    check: (s, p) => {
      const [out, t] = jvp(vector(s), [X], [DIR]) as [NDArray, NDArray];
      expectClose(out, vector(p)(X), 1e-12, 1e-12);
      expectClose(t, fdDir(vector(p), X, DIR), TOL.atol, TOL.rtol);
    },
  },
  {
    name: "jacfwd",
    reverse: false,
    forward: true,
    check: (s, p) => expectClose(jacfwd(vector(s))(X), fdJac(vector(p), X), TOL.atol, TOL.rtol),
  },
  {
    name: "jacrev",
    reverse: true,
    forward: false,
    check: (s, p) => expectClose(jacrev(vector(s))(X), fdJac(vector(p), X), TOL.atol, TOL.rtol),
  },
  {
    // hessian = jacfwd(jacrev): forward over reverse, so forward mode runs through custom rules'
    // backward passes (ordinary code), not through a customVjp function itself.
    name: "hessian",
    reverse: true,
    forward: false,
    forwardOverReverse: true,
    check: (s, p) => expectClose(hessian(scalar(s))(X), fdHessian(scalar(p), X), 1e-5, 1e-5),
  },
  {
    name: "vmap",
    reverse: false,
    forward: false,
    check: (s, p) => expectClose(vmap(vector(s))(BATCH), np.stack(Array.from({ length: 3 }, (_, i) => vector(p)(BATCH.take(i, 0)))), 1e-12, 1e-12),
  },
  {
    name: "jit",
    reverse: false,
    forward: false,
    check: (s, p) => expectClose(jit(vector(s))(X), vector(p)(X), 1e-12, 1e-12),
  },
];

/** What a cell must do: pass, or raise the typed error JAX raises for that combination (either one, if two apply). */
export function expectation(outer: Outer, chain: readonly Construct[]): "pass" | RegExp {
  const names = chain.map((c) => c.name);
  const reasons: string[] = [];
  if (outer.reverse && names.includes("whileLoop")) reasons.push("lax\\.scan|lax\\.fori");
  if (outer.forward && names.includes("customVjp")) reasons.push("customVjp");
  if (outer.forwardOverReverse && names.indexOf("customVjp") !== names.lastIndexOf("customVjp")) reasons.push("customVjp");
  return reasons.length === 0 ? "pass" : new RegExp(reasons.join("|"));
}

export function runCell(outer: Outer, chain: readonly Construct[]): void {
  const staged = nest(chain, "staged"),
    plain = nest(chain, "plain");
  const want = expectation(outer, chain);
  if (want === "pass") {
    outer.check(staged, plain);
    return;
  }
  let err: unknown;
  try {
    outer.check(staged, plain);
  } catch (e) {
    err = e;
  }
  expect(err, `${outer.name} over ${chain.map((c) => c.name).join("∘")} must be refused`).toBeInstanceOf(FluxionError);
  expect((err as Error).message).toMatch(want);
}

/** Every chain of the given depth. */
export function allChains(depth: number): Construct[][] {
  if (depth === 0) return [[]];
  return allChains(depth - 1).flatMap((rest) => constructs.map((c) => [c, ...rest]));
}

/** A few chains four deep, among them the pattern of a jitted RNN step calling a jitted layer. */
export function deeperChains(): Construct[][] {
  const byName = (s: string) => s.split(" ").map((k) => constructs.find((c) => c.name === k)!);
  return [
    "jit scan cond jit",
    "scan checkpoint customJvp jit",
    "cond scan fori checkpoint",
    "checkpoint jit scan customVjp",
    "customJvp cond checkpoint scan",
  ].map(byName);
}
