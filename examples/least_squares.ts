/**
 * Least squares and Newton's method with `np.linalg`.
 *
 *   npx tsx examples/least_squares.ts
 *
 * 1. Fit a cubic to noisy samples three ways — `np.linalg.lstsq` (SVD), the normal equations with
 *    `np.linalg.solve`, and QR (`np.linalg.qr` then `linalg.solveTriangular`) — and compare them
 *    with the coefficients that generated the data.
 * 2. Solve the nonlinear system F(x, y) = (x² + y² − 4, eˣ + y − 1) = 0 by Newton's method:
 *    x ← x − J(x)⁻¹ F(x), with the Jacobian from `jacfwd` and the step from `np.linalg.solve`, the
 *    whole step under `jit`. The residual falls quadratically.
 *
 * Checks: the three fits agree to 1e-9 and recover the true coefficients to 0.05; Newton converges to
 * |F| < 1e-12 in at most 8 steps, with a quadratic rate at the end. Exits with code 1 otherwise.
 */
import { pathToFileURL } from "node:url";
import { type NDArray, jacfwd, jit, linalg, np } from "../src/index.js";

const TRUE_COEFFS = [0.5, -1.2, 0.3, 0.8];

function check(ok: boolean, what: string): void {
  if (!ok) throw new Error(`least_squares: check failed: ${what}`);
}

const values = (x: NDArray): number[] => Array.from(x.dataSync(), Number);
const maxAbsDiff = (a: number[], b: number[]) => Math.max(...a.map((v, i) => Math.abs(v - b[i]!)));

/** F(x, y) = (x² + y² − 4, eˣ + y − 1). */
function F(v: NDArray): NDArray {
  const x = np.take(v, 0),
    y = np.take(v, 1);
  return np.stack([np.subtract(np.add(np.square(x), np.square(y)), 4), np.subtract(np.add(np.exp(x), y), 1)]);
}

/** One Newton step: v − J(v)⁻¹ F(v). */
const newtonStep = jit((v: NDArray) => np.subtract(v, np.linalg.solve(jacfwd(F)(v), F(v))));

export interface LeastSquaresResult {
  coeffs: number[];
  fitsAgree: number;
  coeffError: number;
  residuals: number[];
  solution: number[];
}

export function main(log: (line: string) => void = console.log): LeastSquaresResult {
  // ---- 1. polynomial least squares
  const n = 40;
  const ts = Array.from({ length: n }, (_, i) => -1 + (2 * i) / (n - 1));
  const noise = ts.map((t, i) => 0.01 * Math.sin(13 * i + 1));
  const ys = ts.map((t, i) => TRUE_COEFFS.reduce((s, c, k) => s + c * t ** k, 0) + noise[i]!);
  const A = np.array(
    ts.map((t) => TRUE_COEFFS.map((_, k) => t ** k)),
    { dtype: "float64" },
  );
  const y = np.array(ys, { dtype: "float64" });

  const [viaLstsq, , rank, sv] = np.linalg.lstsq(A, y);
  const At = np.swapaxes(A, 0, 1);
  const viaNormal = np.linalg.solve(np.matmul(At, A), np.matmul(At, y));
  const [q, r] = np.linalg.qr(A);
  const viaQr = linalg.solveTriangular(r!, np.matmul(np.swapaxes(q!, 0, 1), y));
  const coeffs = values(viaLstsq);
  const fitsAgree = Math.max(maxAbsDiff(coeffs, values(viaNormal)), maxAbsDiff(coeffs, values(viaQr)));
  const coeffError = maxAbsDiff(coeffs, TRUE_COEFFS);
  log(`cubic fit (lstsq): [${coeffs.map((c) => c.toFixed(4)).join(", ")}]  true [${TRUE_COEFFS.join(", ")}]`);
  log(
    `rank ${rank.item()}, singular values [${values(sv)
      .map((s) => s.toFixed(3))
      .join(", ")}]`,
  );
  log(`lstsq vs normal equations vs QR: max difference ${fitsAgree.toExponential(2)}`);

  // ---- 2. Newton's method on a nonlinear system
  let v = np.array([1, -1.5], { dtype: "float64" });
  const residuals: number[] = [];
  log(" step  |F(x)|");
  for (let step = 0; step <= 8; step++) {
    const res = Math.hypot(...values(F(v)));
    residuals.push(res);
    log(`${String(step).padStart(5)}  ${res.toExponential(3)}`);
    if (res < 1e-12) break;
    v = newtonStep(v);
  }
  const solution = values(v);
  log(`solution (x, y) = (${solution.map((s) => s.toFixed(12)).join(", ")})`);

  check(fitsAgree < 1e-9, "lstsq, the normal equations and QR agree");
  check(coeffError < 0.05, "the fit recovers the true coefficients");
  check(rank.item() === 4, "the design matrix has full rank");
  check(residuals.at(-1)! < 1e-12 && residuals.length <= 9, "Newton converges");
  const k = residuals.length;
  check(k >= 3 && residuals[k - 2]! < 10 * residuals[k - 3]! ** 2 + 1e-15, "the convergence is quadratic at the end");
  log("all checks passed");
  return { coeffs, fitsAgree, coeffError, residuals, solution };
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  try {
    main();
  } catch (e) {
    console.error(e);
    process.exit(1);
  }
}
