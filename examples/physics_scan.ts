/**
 * A differentiable physics simulation: a projectile with quadratic air drag, integrated for 100
 * steps with `lax.scan`, and its launch velocity optimised by gradient descent so that it is at a
 * target point when the clock runs out.
 *
 *   npx tsx examples/physics_scan.ts
 *
 * `lax.scan` stages the step function once and runs it `STEPS` times; reverse mode differentiates
 * the whole loop (storing one residual per step), so `valueAndGrad(loss)` gives the exact gradient
 * of the final miss distance with respect to the initial velocity. Wrapping it in `jit` compiles
 * forward and backward simulation into one program, traced once and reused every iteration.
 *
 * Checks: the scan gradient matches central finite differences; the loss decreases monotonically;
 * the final miss is below 1 mm. Exits with code 1 if a check fails.
 */
import { pathToFileURL } from "node:url";
import { type NDArray, grad, jit, lax, np, valueAndGrad } from "../src/index.js";

const STEPS = 100;
const DT = 0.02; // s: 100 steps = 2 s of flight
const GRAVITY = 9.81; // m/s^2
const DRAG = 0.01; // 1/m: drag acceleration -DRAG |v| v (roughly a tennis ball)
const TARGET = [20, 5]; // m: where the ball must be at t = 2 s
const LEARNING_RATE = 0.05;
const ITERATIONS = 40;

/** The state of the ball: position and velocity, each [2] (x right, y up). */
interface State {
  pos: NDArray;
  vel: NDArray;
}

/** One semi-implicit Euler step: update the velocity from gravity and drag, then the position. */
function step(s: State): State {
  const speed = np.sqrt(np.sum(np.square(s.vel)));
  const accel = s.vel
    .mul(speed)
    .mul(-DRAG)
    .add(np.array([0, -GRAVITY], { dtype: s.vel.dtype }));
  const vel = s.vel.add(accel.mul(DT));
  return { pos: s.pos.add(vel.mul(DT)), vel };
}

/** Runs the simulation from the origin with initial velocity v0 [2]; returns the final state and the path [STEPS, 2]. */
function simulate(v0: NDArray): [State, NDArray] {
  const init: State = { pos: np.zerosLike(v0), vel: v0 };
  // No xs: scan `STEPS` times over the carry; each step also emits the position (stacked into ys).
  return lax.scan(
    (s: State) => {
      const next = step(s);
      return [next, next.pos];
    },
    init,
    null,
    { length: STEPS },
  ) as [State, NDArray];
}

/** Squared distance between where the ball is at t = 2 s and the target. */
function loss(v0: NDArray): NDArray {
  const [final] = simulate(v0);
  return np.sum(np.square(final.pos.sub(np.array(TARGET, { dtype: v0.dtype }))));
}

export interface PhysicsResult {
  /** Largest relative difference between the scan gradient and central differences. */
  fdRelErr: number;
  lossHistory: number[];
  /** Distance to the target at the end, in metres. */
  finalError: number;
  v0: number[];
  speed: number;
  angleDeg: number;
  /** Highest point of the optimised trajectory (m). */
  apex: number;
}

function check(ok: boolean, what: string): void {
  if (!ok) throw new Error(`physics_scan: check failed: ${what}`);
}

export function main(log: (line: string) => void = console.log): PhysicsResult {
  // 1. The gradient through 100 scan steps against central differences, in float64.
  const probe = np.array([8, 12], { dtype: "float64" });
  const g = (grad(loss)(probe) as NDArray).dataSync();
  const eps = 1e-6;
  let fdRelErr = 0;
  for (let i = 0; i < 2; i++) {
    const e = np.array(i === 0 ? [eps, 0] : [0, eps], { dtype: "float64" });
    const fd = (loss(probe.add(e)).item() - loss(probe.sub(e)).item()) / (2 * eps);
    fdRelErr = Math.max(fdRelErr, Math.abs(g[i]! - fd) / Math.max(1, Math.abs(fd)));
  }
  log(`grad through lax.scan vs finite differences: relative error ${fdRelErr.toExponential(2)}`);

  // 2. Gradient descent on the launch velocity, with the whole forward+backward pass jitted.
  const lossAndGrad = jit(valueAndGrad(loss));
  let v0 = np.array([10, 10], { dtype: "float64" }); // first guess: 45 degrees, 14 m/s
  const lossHistory: number[] = [];
  for (let it = 0; it <= ITERATIONS; it++) {
    const [value, dv] = lossAndGrad(v0) as [NDArray, NDArray];
    lossHistory.push(value.item());
    if (it % 5 === 0)
      log(
        `iter ${String(it).padStart(3)}  loss ${value.item().toExponential(3).padStart(10)} m^2  v0 = [${Array.from(v0.dataSync(), (v) => v.toFixed(4)).join(", ")}] m/s`,
      );
    if (it < ITERATIONS) v0 = v0.sub(dv.mul(LEARNING_RATE));
  }

  const [final, path] = simulate(v0);
  const finalError = Math.sqrt(lossHistory.at(-1)!);
  const [vx, vy] = Array.from(v0.dataSync());
  const speed = Math.hypot(vx!, vy!);
  const angleDeg = (Math.atan2(vy!, vx!) * 180) / Math.PI;
  const apex = np.max(np.take(path, 1, 1)).item();
  log(`launch at ${speed.toFixed(3)} m/s, ${angleDeg.toFixed(2)} degrees; apex ${apex.toFixed(2)} m`);
  log(
    `final position [${Array.from(final.pos.dataSync(), (v) => v.toFixed(5)).join(", ")}] m, target [${TARGET}] m, miss ${finalError.toExponential(2)} m`,
  );

  check(fdRelErr < 1e-6, `scan gradient matches finite differences (${fdRelErr})`);
  check(
    lossHistory.every((v, i) => i === 0 || v <= lossHistory[i - 1]!),
    "the loss never increases",
  );
  check(finalError < 1e-3, `the ball ends within 1 mm of the target (${finalError} m)`);
  log("all checks passed");
  return { fdRelErr, lossHistory, finalError, v0: [vx!, vy!], speed, angleDeg, apex };
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  try {
    main();
  } catch (e) {
    console.error(e);
    process.exit(1);
  }
}
