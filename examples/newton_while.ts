/**
 * Differentiating through an iterative solver: Newton's method inside `lax.whileLoop`.
 *
 *   npx tsx examples/newton_while.ts
 *
 * x(a, b) is the real root of x^3 + a x - b = 0 (unique for a > 0, since the cubic is then
 * increasing). Newton's method finds it in a data-dependent number of steps, so it is a `whileLoop`.
 * Forward mode (`jvp`, `jacfwd`) pushes tangents through every iteration; at convergence they agree
 * with the implicit function theorem: from F(x, a, b) = 0,
 *
 *     dx/da = -F_a / F_x = -x / (3x^2 + a),     dx/db = -F_b / F_x = 1 / (3x^2 + a).
 *
 * Reverse mode (`grad`) needs to replay the iterations backwards, which a loop with an unknown trip
 * count cannot do: fluxion raises a typed `ArgumentError` that says so and suggests the fixes. Two
 * are shown: `lax.fori` with static bounds (lowered to a scan, so reverse mode works), and
 * `customJvp` with the implicit-function-theorem rule (no iteration is differentiated at all).
 *
 * Exits with code 1 if a check fails.
 */
import { pathToFileURL } from "node:url";
import { ArgumentError, type NDArray, customJvp, grad, jacfwd, jvp, lax, np, vmap } from "../src/index.js";

const TOL = 1e-12;
const MAX_ITERS = 50;
const FIXED_ITERS = 30; // for lax.fori: more than Newton needs from our starting point

const f64 = (v: number | number[]) => np.array(v, { dtype: "float64" });

/** F(x; a, b) = x^3 + a x - b and its derivative in x, F_x = 3x^2 + a. */
const residual = (x: NDArray, a: NDArray, b: NDArray) => x.mul(x).mul(x).add(a.mul(x)).sub(b);
const slope = (x: NDArray, a: NDArray) => x.mul(x).mul(3).add(a);
const newtonStep = (x: NDArray, a: NDArray, b: NDArray) => x.sub(residual(x, a, b).div(slope(x, a)));
/** A starting guess: b / (a + 1) (exact when the root is 1, the right sign always). */
const initialGuess = (a: NDArray, b: NDArray) => b.div(a.add(1));

/** Newton's method until |F| < TOL: a data-dependent trip count, so a whileLoop. */
function solveWhile(a: NDArray, b: NDArray): NDArray {
  const [x] = lax.whileLoop(
    ([x, i]: [NDArray, NDArray]) => np.logicalAnd(np.abs(residual(x, a, b)).greater(TOL), i.less(MAX_ITERS)),
    ([x, i]: [NDArray, NDArray]) => [newtonStep(x, a, b), i.add(1)] as [NDArray, NDArray],
    [initialGuess(a, b), np.array(0, { dtype: "int32" })] as [NDArray, NDArray],
  );
  return x;
}

/** The same solver with a fixed number of steps: static bounds lower to a scan, so grad works. */
function solveFori(a: NDArray, b: NDArray): NDArray {
  return lax.fori(0, FIXED_ITERS, (_i: NDArray, x: NDArray) => newtonStep(x, a, b), initialGuess(a, b));
}

/**
 * The solver with its derivative given by the implicit function theorem: the primal runs the
 * while loop (never differentiated); the rule returns dx = (db - x da) / (3x^2 + a), which is linear
 * in the tangents, so fluxion can transpose it for reverse mode.
 */
const solveImplicit = customJvp(solveWhile, ([a, b]: NDArray[], [da, db]: NDArray[]) => {
  const x = solveWhile(a!, b!);
  return [x, db!.sub(da!.mul(x)).div(slope(x, a!))];
});

/** dx/da and dx/db from the implicit function theorem. */
function implicitDerivatives(x: number, a: number): [number, number] {
  const fx = 3 * x * x + a;
  return [-x / fx, 1 / fx];
}

export interface NewtonWhileResult {
  a: number;
  b: number;
  x: number;
  /** |x^3 + a x - b| at the solution. */
  residual: number;
  /** Implicit-function-theorem derivatives [dx/da, dx/db]. */
  ift: [number, number];
  /** Forward mode through the while loop. */
  jvpA: number;
  jvpB: number;
  jacfwd: [number, number];
  /** Roots for a batch of (a, b) pairs under vmap (lanes stop after different iteration counts). */
  batchRoots: number[];
  batchResiduals: number[];
  /** What grad of the while-loop solver raised. */
  reverseError: { name: string; isArgumentError: boolean; message: string };
  /** Reverse mode through the lax.fori version, and through the customJvp version. */
  foriGrad: [number, number];
  implicitGrad: [number, number];
}

function check(ok: boolean, what: string): void {
  if (!ok) throw new Error(`newton_while: check failed: ${what}`);
}

const close = (u: number, v: number, tol = 1e-10) => Math.abs(u - v) <= tol * (1 + Math.abs(v));

export function main(log: (line: string) => void = console.log): NewtonWhileResult {
  const a = f64(2),
    b = f64(5);
  const x = solveWhile(a, b).item();
  const res = Math.abs(x ** 3 + 2 * x - 5);
  const ift = implicitDerivatives(x, 2);
  log(`root of x^3 + 2x - 5 = 0: x = ${x.toFixed(15)}  (|F| = ${res.toExponential(1)})`);
  log(`implicit function theorem: dx/da = ${ift[0].toFixed(15)}, dx/db = ${ift[1].toFixed(15)}`);

  // 1. Forward mode through the while loop: one jvp per input direction, or jacfwd for both.
  const jvpA = (jvp(solveWhile, [a, b], [f64(1), f64(0)])[1] as NDArray).item();
  const jvpB = (jvp(solveWhile, [a, b], [f64(0), f64(1)])[1] as NDArray).item();
  const jac = (jacfwd(solveWhile, { argnums: [0, 1] })(a, b) as NDArray[]).map((d) => d.item()) as [number, number];
  log(`jvp through whileLoop:     dx/da = ${jvpA.toFixed(15)}, dx/db = ${jvpB.toFixed(15)}`);
  log(`jacfwd through whileLoop:  [${jac.map((d) => d.toFixed(15)).join(", ")}]`);

  // 2. vmap: every lane iterates until its own residual is small.
  const as = f64([0.5, 1, 2, 4, 8]),
    bs = f64([-3, 1, 5, 10, 100]);
  const roots = vmap(solveWhile)(as, bs) as NDArray;
  const batchRoots = Array.from(roots.dataSync());
  const batchResiduals = Array.from(np.abs(residual(roots, as, bs)).dataSync());
  log(`vmap over (a, b) pairs: roots [${batchRoots.map((r) => r.toFixed(6)).join(", ")}]`);

  // 3. Reverse mode through the while loop is a clear, typed error...
  let reverseError = { name: "(none)", isArgumentError: false, message: "(grad did not throw)" };
  try {
    grad(solveWhile)(a, b);
  } catch (e) {
    if (!(e instanceof Error)) throw e;
    reverseError = { name: e.name, isArgumentError: e instanceof ArgumentError, message: e.message };
  }
  log(`grad through whileLoop raises ${reverseError.name}: ${reverseError.message}`);

  // 4. ...fixed by static bounds (lax.fori lowers to a scan)...
  const foriGrad = (grad(solveFori, { argnums: [0, 1] })(a, b) as NDArray[]).map((d) => d.item()) as [number, number];
  log(`grad through lax.fori(0, ${FIXED_ITERS}):  [${foriGrad.map((d) => d.toFixed(15)).join(", ")}]`);
  // 5. ...or by telling fluxion the derivative (implicit differentiation with customJvp).
  const implicitGrad = (grad(solveImplicit, { argnums: [0, 1] })(a, b) as NDArray[]).map((d) => d.item()) as [number, number];
  log(`grad through customJvp:    [${implicitGrad.map((d) => d.toFixed(15)).join(", ")}]`);

  check(res < 1e-10, `Newton converges (|F| = ${res})`);
  check(close(jvpA, ift[0]) && close(jvpB, ift[1]), "jvp through whileLoop matches the implicit function theorem");
  check(close(jac[0], ift[0]) && close(jac[1], ift[1]), "jacfwd matches the implicit function theorem");
  check(
    batchResiduals.every((r) => r < 1e-9),
    "every vmapped lane converges",
  );
  check(
    reverseError.isArgumentError && /lax\.fori|lax\.scan/.test(reverseError.message),
    "grad of whileLoop is a typed ArgumentError naming the fix",
  );
  check(close(foriGrad[0], ift[0]) && close(foriGrad[1], ift[1]), "grad through lax.fori matches the implicit function theorem");
  check(close(implicitGrad[0], ift[0]) && close(implicitGrad[1], ift[1]), "grad through customJvp matches the implicit function theorem");
  log("all checks passed");
  return {
    a: 2,
    b: 5,
    x,
    residual: res,
    ift,
    jvpA,
    jvpB,
    jacfwd: jac,
    batchRoots,
    batchResiduals,
    reverseError,
    foriGrad,
    implicitGrad,
  };
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  try {
    main();
  } catch (e) {
    console.error(e);
    process.exit(1);
  }
}
