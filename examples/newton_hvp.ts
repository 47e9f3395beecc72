/**
 * Hessian-vector products by forward-over-reverse differentiation, and Newton's method built on them.
 *
 *   npx tsx examples/newton_hvp.ts
 *
 * `hvp(x, v) = jvp(grad(f), [x], [v])[1]` pushes the direction v forward through the gradient
 * computation: H v costs a small constant times one gradient, and the n x n Hessian is never formed.
 * That makes Newton-CG possible in high dimension: solve H d = -g with conjugate gradients, which
 * only ever asks for products H p.
 *
 * Checks: hvp matches `hessian(f)(x) @ v` at a few points; Newton-CG minimises an extended Rosenbrock
 * function to its minimum at (1, ..., 1) with a gradient norm below 1e-8. Exits with code 1 otherwise.
 */
import { pathToFileURL } from "node:url";
import { type NDArray, grad, hessian, jit, jvp, np, random } from "../src/index.js";

const N = 6; // dimension
const MAX_NEWTON_STEPS = 50;
const GRAD_TOL = 1e-8;

/**
 * Extended Rosenbrock (More, Garbow & Hillstrom): the 2-D banana function on each pair of
 * coordinates, sum_i 100 (x_{2i+1} - x_{2i}^2)^2 + (1 - x_{2i})^2. Its unique minimum is 0 at
 * (1, ..., 1); the narrow curved valley makes plain gradient descent crawl, Newton steps follow it.
 */
function rosenbrock(x: NDArray): NDArray {
  const pairs = x.reshape([N / 2, 2]);
  const u = np.take(pairs, 0, 1); // x_0, x_2, ...
  const w = np.take(pairs, 1, 1); // x_1, x_3, ...
  return np.sum(
    np
      .square(w.sub(np.square(u)))
      .mul(100)
      .add(np.square(np.subtract(1, u))),
  );
}

const gradF = jit(grad(rosenbrock));
/** H(x) v by forward-over-reverse: the directional derivative of the gradient along v. */
const hvp = jit((x: NDArray, v: NDArray) => jvp(grad(rosenbrock), [x], [v])[1] as NDArray);

const dot = (a: NDArray, b: NDArray): number => np.sum(a.mul(b)).item();

/**
 * Solves H d = -g approximately by conjugate gradients using only products H p. If a direction of
 * non-positive curvature shows up (H is indefinite away from the minimum), stop there and return
 * the iterate so far, or -g on the first iteration (truncated Newton, as in Steihaug's method).
 */
function conjugateGradient(x: NDArray, g: NDArray, maxIters = 2 * N): { d: NDArray; iters: number } {
  let d = np.zerosLike(g);
  let r = np.negative(g); // residual -g - H d, with d = 0
  let p = r;
  let rr = dot(r, r);
  const tol = 1e-10 * Math.sqrt(rr); // solve to high accuracy: at most n iterations in exact arithmetic
  for (let k = 0; k < maxIters; k++) {
    const hp = hvp(x, p);
    const curvature = dot(p, hp);
    if (curvature <= 1e-14 * dot(p, p)) return { d: k === 0 ? np.negative(g) : d, iters: k };
    const alpha = rr / curvature;
    d = d.add(p.mul(alpha));
    r = r.sub(hp.mul(alpha));
    const rrNext = dot(r, r);
    if (Math.sqrt(rrNext) <= tol) return { d, iters: k + 1 };
    p = r.add(p.mul(rrNext / rr));
    rr = rrNext;
  }
  return { d, iters: maxIters };
}

export interface NewtonHvpResult {
  /** Largest |hvp(x, v) - hessian(f)(x) @ v| over the test points, relative to |H v|. */
  hvpRelErr: number;
  /** f and |grad f| after each Newton step (index 0: the starting point). */
  fHistory: number[];
  gradNormHistory: number[];
  steps: number;
  finalX: number[];
  finalGradNorm: number;
}

function check(ok: boolean, what: string): void {
  if (!ok) throw new Error(`newton_hvp: check failed: ${what}`);
}

export function main(log: (line: string) => void = console.log): NewtonHvpResult {
  // 1. Forward-over-reverse HVPs against the dense Hessian (float64 throughout).
  let hvpRelErr = 0;
  const keys = random.split(random.key(1), 3);
  for (const k of keys) {
    const [kx, kv] = random.split(k);
    const x = random.normal(kx!, [N], "float64");
    const v = random.normal(kv!, [N], "float64");
    const dense = np.matmul(hessian(rosenbrock)(x) as NDArray, v);
    const err = np.linalg.norm(hvp(x, v).sub(dense)).item() / np.linalg.norm(dense).item();
    hvpRelErr = Math.max(hvpRelErr, err);
  }
  log(`max relative |hvp - hessian @ v| over 3 random points: ${hvpRelErr.toExponential(2)}`);

  // 2. Newton-CG with a backtracking (Armijo) line search. The first pair starts at the classic
  //    (-1.2, 1); the others elsewhere, so that the pairs converge at different speeds.
  let x = np.array([-1.2, 1, 0, 0, 1.8, 3], { dtype: "float64" });
  let f = rosenbrock(x).item();
  let g = gradF(x);
  const fHistory = [f],
    gradNormHistory = [np.linalg.norm(g).item()];
  log(" step           f          |grad f|  CG iters  step size  x");
  const row = (s: number, iters: number | string, t: number | string) =>
    `${String(s).padStart(5)}  ${f.toExponential(4).padStart(11)}  ${gradNormHistory.at(-1)!.toExponential(3).padStart(10)}` +
    `  ${String(iters).padStart(8)}  ${String(t).padStart(9)}  [${Array.from(x.dataSync(), (v) => v.toFixed(4)).join(", ")}]`;
  log(row(0, "-", "-"));
  let steps = 0;
  while (gradNormHistory.at(-1)! > GRAD_TOL && steps < MAX_NEWTON_STEPS) {
    const { d, iters } = conjugateGradient(x, g);
    // Backtrack until f decreases enough: f(x + t d) <= f(x) + 1e-4 t g.d
    const slope = dot(g, d);
    let t = 1;
    let xNext = x.add(d);
    let fNext = rosenbrock(xNext).item();
    while (fNext > f + 1e-4 * t * slope && t > 1e-10) {
      t /= 2;
      xNext = x.add(d.mul(t));
      fNext = rosenbrock(xNext).item();
    }
    x = xNext;
    f = fNext;
    g = gradF(x);
    steps++;
    fHistory.push(f);
    gradNormHistory.push(np.linalg.norm(g).item());
    log(row(steps, iters, t));
  }

  const finalX = Array.from(x.dataSync());
  const finalGradNorm = gradNormHistory.at(-1)!;
  log(`converged in ${steps} Newton steps: |grad f| = ${finalGradNorm.toExponential(2)}, f = ${f.toExponential(2)}`);

  check(hvpRelErr < 1e-12, `hvp matches hessian @ v (${hvpRelErr})`);
  check(finalGradNorm < GRAD_TOL, `Newton-CG reaches |grad f| < ${GRAD_TOL} (${finalGradNorm})`);
  check(
    finalX.every((v) => Math.abs(v - 1) < 1e-6),
    `the minimiser is (1, ..., 1), got ${finalX}`,
  );
  check(
    fHistory.every((v, i) => i === 0 || v <= fHistory[i - 1]!),
    "f never increases",
  );
  log("all checks passed");
  return { hvpRelErr, fHistory, gradNormHistory, steps, finalX, finalGradNorm };
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  try {
    main();
  } catch (e) {
    console.error(e);
    process.exit(1);
  }
}
