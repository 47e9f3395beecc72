/**
 * Runs every example in examples/ (except the MNIST demo, which downloads and trains for minutes) and
 * checks the numbers it exports, independently of the example's own checks where that is cheap: a
 * plain-JS re-simulation of the trajectory, the cubic's residual and implicit derivatives in JS
 * numbers, closed-form FLOP counts. A last test runs each example as a script, as a user would.
 */
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { main as customInterpreter } from "../../examples/custom_interpreter.js";
import { main as gaussianProcess } from "../../examples/gaussian_process.js";
import { main as leastSquares } from "../../examples/least_squares.js";
import { main as newtonHvp } from "../../examples/newton_hvp.js";
import { main as newtonWhile } from "../../examples/newton_while.js";
import { main as perExampleGradients } from "../../examples/per_example_gradients.js";
import { main as physicsScan } from "../../examples/physics_scan.js";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const EXAMPLES = ["per_example_gradients", "newton_hvp", "physics_scan", "newton_while", "custom_interpreter", "gaussian_process", "least_squares"];

/** Runs an example's main, keeping what it prints; every example's last line says its checks passed. */
function run<T>(main: (log: (line: string) => void) => T): { result: T; lines: string[] } {
  const lines: string[] = [];
  const result = main((line) => lines.push(line));
  expect(lines.at(-1)).toBe("all checks passed");
  return { result, lines };
}

describe("examples", () => {
  it("gaussian_process: the marginal-likelihood gradient through cholesky is right; the fit predicts sin", () => {
    const { result: r } = run(gaussianProcess);
    expect(r.gradCheckRelErr).toBeLessThan(1e-6);
    expect(r.nllHistory.at(-1)!).toBeLessThan(r.nllHistory[0]! - 1);
    expect(Math.exp(r.theta[2]!)).toBeGreaterThan(0.03);
    expect(Math.exp(r.theta[2]!)).toBeLessThan(0.3);
    expect(r.maxPredictionError).toBeLessThan(0.15);
  });

  it("least_squares: lstsq, normal equations and QR agree; Newton with solve converges quadratically", () => {
    const { result: r } = run(leastSquares);
    expect(r.fitsAgree).toBeLessThan(1e-9);
    expect(r.coeffError).toBeLessThan(0.05);
    expect(r.residuals.at(-1)!).toBeLessThan(1e-12);
    const [x, y] = r.solution as [number, number];
    expect(Math.abs(x * x + y * y - 4)).toBeLessThan(1e-10);
    expect(Math.abs(Math.exp(x) + y - 1)).toBeLessThan(1e-10);
  });

  it("per_example_gradients: vmap(grad) equals a loop of grad; clipping bounds every norm", () => {
    const { result: r } = run(perExampleGradients);
    expect(r.loopDiff).toBeLessThan(1e-5);
    expect(r.closedFormDiff).toBeLessThan(1e-5);
    expect(r.meanDiff).toBeLessThan(1e-5);
    expect(r.norms).toHaveLength(32);
    expect(r.clippedNorms).toHaveLength(32);
    r.norms.forEach((n, i) => {
      expect(r.clippedNorms[i]!).toBeCloseTo(Math.min(n, r.clip), 5);
    });
    expect(r.numClipped).toBe(r.norms.filter((n) => n > r.clip).length);
    expect(r.numClipped).toBeGreaterThan(0);
    expect(r.lossAfter).toBeLessThan(0.6 * r.lossBefore);
  });

  it("newton_hvp: forward-over-reverse HVPs match the Hessian; Newton-CG converges quadratically", () => {
    const { result: r } = run(newtonHvp);
    expect(r.hvpRelErr).toBeLessThan(1e-12);
    expect(r.finalGradNorm).toBeLessThan(1e-8);
    for (const v of r.finalX) expect(v).toBeCloseTo(1, 8);
    expect(r.steps).toBeLessThan(40);
    expect(r.fHistory).toHaveLength(r.steps + 1);
    // Quadratic convergence at the end: each gradient norm is about the square of the previous one.
    const [g1, g2] = r.gradNormHistory.slice(-3, -1),
      g3 = r.gradNormHistory.at(-1)!;
    expect(Math.log10(g2!) / Math.log10(g1!)).toBeGreaterThan(1.5);
    expect(Math.log10(g3) / Math.log10(g2!)).toBeGreaterThan(1.5);
  });

  it("physics_scan: the optimised launch hits the target, by an independent plain-JS simulation", () => {
    const { result: r } = run(physicsScan);
    expect(r.fdRelErr).toBeLessThan(1e-6);
    expect(r.lossHistory[0]!).toBeGreaterThan(1);
    expect(r.lossHistory.at(-1)!).toBeLessThan(1e-6);
    r.lossHistory.forEach((v, i) => i > 0 && expect(v).toBeLessThanOrEqual(r.lossHistory[i - 1]!));
    expect(r.finalError).toBeLessThan(1e-3);
    // Re-simulate with JS numbers: 100 semi-implicit Euler steps, dt 0.02, gravity 9.81, drag 0.01 |v| v.
    let [px, py, vx, vy] = [0, 0, r.v0[0]!, r.v0[1]!];
    let apex = 0;
    for (let i = 0; i < 100; i++) {
      const speed = Math.hypot(vx, vy);
      vx += -0.01 * speed * vx * 0.02;
      vy += (-0.01 * speed * vy - 9.81) * 0.02;
      px += vx * 0.02;
      py += vy * 0.02;
      apex = Math.max(apex, py);
    }
    expect(Math.hypot(px - 20, py - 5)).toBeLessThan(1e-3);
    expect(r.apex).toBeCloseTo(apex, 6);
    expect(r.speed).toBeCloseTo(Math.hypot(r.v0[0]!, r.v0[1]!), 10);
  });

  it("newton_while: forward mode through whileLoop equals the implicit function theorem; grad is a typed error", () => {
    const { result: r } = run(newtonWhile);
    const { a, b, x } = r;
    expect(Math.abs(x ** 3 + a * x - b)).toBeLessThan(1e-12);
    const fx = 3 * x * x + a;
    const ift = [-x / fx, 1 / fx];
    for (const d of [[r.jvpA, r.jvpB], r.jacfwd, r.foriGrad, r.implicitGrad]) {
      expect(d[0]!).toBeCloseTo(ift[0]!, 10);
      expect(d[1]!).toBeCloseTo(ift[1]!, 10);
    }
    const as = [0.5, 1, 2, 4, 8],
      bs = [-3, 1, 5, 10, 100];
    r.batchRoots.forEach((root, i) => expect(Math.abs(root ** 3 + as[i]! * root - bs[i]!)).toBeLessThan(1e-9));
    expect(r.reverseError.name).toBe("ArgumentError");
    expect(r.reverseError.isArgumentError).toBe(true);
    expect(r.reverseError.message).toMatch(/whileLoop/);
    expect(r.reverseError.message).toMatch(/lax\.fori|lax\.scan/);
  });

  it("custom_interpreter: the FLOP counter composes with grad, vmap and jit; interval bounds are sound", () => {
    const { result: r, lines } = run(customInterpreter);
    const [B, n, h, m] = [32, 16, 32, 4];
    // Two matmuls; bias adds, tanh, residual, square; sum over B*m; one divide.
    expect(r.fFlops).toBe(2 * B * n * h + 2 * B * h * m + 2 * B * h + 3 * B * m + (B * m - 1) + 1);
    expect(r.fExpected).toBe(r.fFlops);
    expect(r.gradDotFlops).toBe(2 * (2 * B * n * h) + 3 * (2 * B * h * m));
    expect(r.gradFlops / r.fFlops).toBeGreaterThan(2);
    expect(r.gradFlops / r.fFlops).toBeLessThan(3);
    expect(r.vmapFlops).toBe(8 * r.fFlops);
    expect(r.jitSeen).toEqual(["jit_call"]);
    expect(r.jitFlops).toBe(r.fFlops);
    expect(r.jitSecondCallFlops).toBe(r.fFlops);
    expect(r.jitGradFlops).toBeLessThanOrEqual(r.gradFlops);
    expect(r.jitGradFlops).toBeGreaterThan(0.95 * r.gradFlops);
    expect(r.gradJitSeen).toEqual(["jit_call", "jit_call"]);
    expect(r.gradJitFlops).toBe(r.gradFlops);
    expect(r.whileFlops).toBe(84);
    expect(r.samplesInside).toBe(true);
    r.intervalLo.forEach((lo, i) => {
      expect(lo).toBeLessThanOrEqual(r.sampledMin[i]!);
      expect(r.intervalHi[i]!).toBeGreaterThanOrEqual(r.sampledMax[i]!);
      expect(r.intervalHi[i]! - lo).toBeLessThan(2); // sound, and not vacuous
    });
    expect(r.dependencyBounds).toEqual([-3, 3]);
    expect(r.reciprocalBounds).toEqual([-Infinity, Infinity]);
    expect(lines.some((l) => l.includes("the counter saw [jit_call]"))).toBe(true);
  });

  it("every example runs as a script and exits with code 0", async () => {
    const tsx = `${ROOT}node_modules/.bin/tsx`;
    const runs = EXAMPLES.map(
      (name) =>
        new Promise<{ name: string; code: number | null; out: string }>((resolve) => {
          const child = spawn(tsx, [`examples/${name}.ts`], { cwd: ROOT, timeout: 50_000 });
          let out = "";
          child.stdout.on("data", (d) => (out += d));
          child.stderr.on("data", (d) => (out += d));
          child.on("close", (code) => resolve({ name, code, out }));
        }),
    );
    for (const { name, code, out } of await Promise.all(runs)) {
      expect(code, `${name} exited with ${code}:\n${out}`).toBe(0);
      expect(out.trim().split("\n").at(-1), name).toBe("all checks passed");
    }
  }, 55_000);
});
