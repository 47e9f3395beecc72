/**
 * Gaussian-process regression with kernel hyperparameters fitted by the gradient of the exact log
 * marginal likelihood, differentiated through a Cholesky factorization.
 *
 *   npx tsx examples/gaussian_process.ts
 *
 * Model: y = f(x) + noise, f ~ GP(0, k) with the squared-exponential kernel
 * k(x, x') = σ_f² exp(−(x − x')² / 2ℓ²) and noise variance σ_n². With K = k(X, X) + σ_n² I = L Lᵀ,
 *   −log p(y | X, θ) = ½ yᵀ K⁻¹ y + Σ log L_ii + (n/2) log 2π.
 * θ = (log ℓ, log σ_f, log σ_n) is fitted by gradient descent on that with `valueAndGrad` (the
 * gradient flows through `np.linalg.cholesky` and `linalg.choSolve`); the posterior mean
 * k(X*, X) K⁻¹ y then predicts sin(x) on a grid.
 *
 * Checks: the gradient matches central differences; the negative log likelihood decreases; the fitted
 * noise level is near the true one; predictions are within 0.15 of sin(x). Exits with code 1 otherwise.
 */
import { pathToFileURL } from "node:url";
import { type NDArray, jit, linalg, np, valueAndGrad } from "../src/index.js";

const N = 24;
const NOISE = 0.1;
const STEPS = 150;
const LEARNING_RATE = 0.02;

/** A deterministic stream of standard normals (Box–Muller on a linear congruential generator). */
function normals(n: number, seed: number): number[] {
  let s = seed >>> 0;
  const u = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) + 0.5) / 2 ** 32;
  return Array.from({ length: n }, () => Math.sqrt(-2 * Math.log(u())) * Math.cos(2 * Math.PI * u()));
}

const xs = Array.from({ length: N }, (_, i) => (5 * i) / (N - 1) + 0.05 * Math.sin(7 * i));
const eps = normals(N, 7);
const X = np.array(xs, { dtype: "float64" });
const Y = np.array(
  xs.map((x, i) => Math.sin(x) + NOISE * eps[i]!),
  { dtype: "float64" },
);

/** The squared-exponential kernel matrix between point sets a [p] and b [q]. */
function kernel(a: NDArray, b: NDArray, logLength: NDArray, logSignal: NDArray): NDArray {
  const d = np.subtract(np.expandDims(a, 1), np.expandDims(b, 0));
  const scaled = np.divide(np.square(d), np.multiply(2, np.exp(np.multiply(2, logLength))));
  return np.multiply(np.exp(np.multiply(2, logSignal)), np.exp(np.negative(scaled)));
}

/** −log p(y | X, θ) for θ = [log ℓ, log σ_f, log σ_n]. */
function negLogMarginal(theta: NDArray): NDArray {
  const [logLength, logSignal, logNoise] = [0, 1, 2].map((i) => np.take(theta, i));
  const K = np.add(kernel(X, X, logLength!, logSignal!), np.multiply(np.eye(N, undefined, 0, "float64"), np.exp(np.multiply(2, logNoise!))));
  const L = np.linalg.cholesky(K);
  const alpha = linalg.choSolve([L, true], Y);
  const fit = np.multiply(0.5, np.sum(np.multiply(Y, alpha)));
  const logDet = np.sum(np.log(np.linalg.diagonal(L)));
  return np.add(np.add(fit, logDet), 0.5 * N * Math.log(2 * Math.PI));
}

/** Posterior mean at `at` given θ. */
function predict(theta: NDArray, at: NDArray): NDArray {
  const [logLength, logSignal, logNoise] = [0, 1, 2].map((i) => np.take(theta, i));
  const K = np.add(kernel(X, X, logLength!, logSignal!), np.multiply(np.eye(N, undefined, 0, "float64"), np.exp(np.multiply(2, logNoise!))));
  const alpha = linalg.choSolve(linalg.choFactor(K, { lower: true }), Y);
  return np.matmul(kernel(at, X, logLength!, logSignal!), alpha);
}

export interface GaussianProcessResult {
  gradCheckRelErr: number;
  nllHistory: number[];
  theta: number[];
  maxPredictionError: number;
}

function check(ok: boolean, what: string): void {
  if (!ok) throw new Error(`gaussian_process: check failed: ${what}`);
}

export function main(log: (line: string) => void = console.log): GaussianProcessResult {
  const step = jit(valueAndGrad(negLogMarginal));
  let theta = np.array([Math.log(0.5), 0, Math.log(0.5)], { dtype: "float64" });

  // The gradient through cholesky and choSolve against central differences.
  const [, g0] = step(theta);
  const h = 1e-6;
  const fd = [0, 1, 2].map((i) => {
    const e = [0, 0, 0];
    e[i] = h;
    const plus = negLogMarginal(np.add(theta, np.array(e, { dtype: "float64" }))).item();
    const minus = negLogMarginal(np.subtract(theta, np.array(e, { dtype: "float64" }))).item();
    return (plus - minus) / (2 * h);
  });
  const gv = Array.from(g0.dataSync(), Number);
  const gradCheckRelErr = Math.max(...gv.map((v, i) => Math.abs(v - fd[i]!) / Math.max(1, Math.abs(fd[i]!))));
  log(`gradient vs central differences: max relative error ${gradCheckRelErr.toExponential(2)}`);

  const nllHistory: number[] = [];
  log(" step   -log p(y)    length   signal   noise");
  for (let t = 0; t <= STEPS; t++) {
    const [nll, g] = step(theta);
    nllHistory.push(nll.item());
    if (t % 30 === 0) {
      const [l, s, n] = Array.from(np.exp(theta).dataSync(), Number);
      log(`${String(t).padStart(5)}  ${nll.item().toFixed(5).padStart(10)}  ${l!.toFixed(4)}  ${s!.toFixed(4)}  ${n!.toFixed(4)}`);
    }
    if (t < STEPS) theta = np.subtract(theta, np.multiply(LEARNING_RATE, g));
  }

  const grid = Array.from({ length: 11 }, (_, i) => 0.5 + (4 * i) / 10);
  const mean = Array.from(predict(theta, np.array(grid, { dtype: "float64" })).dataSync(), Number);
  const maxPredictionError = Math.max(...grid.map((x, i) => Math.abs(mean[i]! - Math.sin(x))));
  const fitted = Array.from(np.exp(theta).dataSync(), Number);
  log(`fitted length ${fitted[0]!.toFixed(3)}, signal ${fitted[1]!.toFixed(3)}, noise ${fitted[2]!.toFixed(3)} (true noise ${NOISE})`);
  log(`max |posterior mean - sin(x)| on [0.5, 4.5]: ${maxPredictionError.toFixed(4)}`);

  check(gradCheckRelErr < 1e-6, "the gradient matches central differences");
  check(nllHistory.at(-1)! < nllHistory[0]! - 1, "the negative log likelihood decreases");
  check(fitted[2]! > 0.03 && fitted[2]! < 0.3, "the fitted noise is near the true noise");
  check(maxPredictionError < 0.15, "the posterior mean follows sin(x)");
  log("all checks passed");
  return { gradCheckRelErr, nllHistory, theta: Array.from(theta.dataSync(), Number), maxPredictionError };
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  try {
    main();
  } catch (e) {
    console.error(e);
    process.exit(1);
  }
}
