/**
 * Per-example gradients with `vmap(grad(loss))`, and a DP-SGD-style clipping step built on them.
 *
 *   npx tsx examples/per_example_gradients.ts
 *
 * `grad(loss)` differentiates the loss of ONE example. `vmap` maps it over the batch: the
 * parameters are shared (`inAxes: null`), each example's features and label are sliced along axis 0.
 * The result has a leading batch axis on every leaf of the gradient pytree: one gradient per example,
 * in one vectorised call rather than a JS loop. That is the core of differentially-private SGD,
 * which clips each example's gradient to a norm bound before averaging and adding noise.
 *
 * Checks: vmap's result equals a loop of `grad` calls and the closed form (sigmoid(z) - y) x; its
 * mean equals the gradient of the batch-mean loss; clipped gradients have norm <= C; and a few
 * DP-SGD steps lower the loss. Exits with code 1 if a check fails.
 */
import { pathToFileURL } from "node:url";
import { type NDArray, grad, nn, np, random, tree, vmap } from "../src/index.js";

/** Logistic-regression parameters: a pytree, so gradients come back with the same shape. */
interface Params {
  w: NDArray; // [D]
  b: NDArray; // []
}

const N = 32; // examples in the batch
const D = 5; // features
const CLIP = 1.0; // DP-SGD per-example norm bound C
const NOISE = 0.5; // DP-SGD noise multiplier sigma (noise std = sigma * C)
const LEARNING_RATE = 0.5;
const STEPS = 40;

/** Binary cross-entropy of ONE example: softplus(z) - y z with the logit z = x . w + b. */
function loss(params: Params, x: NDArray, y: NDArray): NDArray {
  const z = np.dot(x, params.w).add(params.b);
  return nn.softplus(z).sub(y.mul(z));
}

/** The same loss averaged over a batch (x: [N, D], y: [N]). */
function batchLoss(params: Params, x: NDArray, y: NDArray): NDArray {
  const z = np.matmul(x, params.w).add(params.b);
  return np.mean(nn.softplus(z).sub(y.mul(z)));
}

/** Per-example gradients: params shared (null), x and y batched along axis 0. */
const perExampleGrads = vmap(grad(loss), { inAxes: [null, 0, 0] }) as (p: Params, x: NDArray, y: NDArray) => Params;

/** The L2 norm of each example's whole gradient (all leaves together): [N]. */
function perExampleNorms(g: Params): NDArray {
  return np.sqrt(np.sum(np.square(g.w), 1).add(np.square(g.b)));
}

/** Scales each example's gradient by min(1, C / norm) so that no example's norm exceeds C. */
function clip(g: Params, norms: NDArray, c: number): Params {
  const scale = np.minimum(1, np.divide(c, np.maximum(norms, 1e-12))); // [N]
  return { w: g.w.mul(np.expandDims(scale, 1)), b: g.b.mul(scale) };
}

/** One DP-SGD step: per-example grads, clip, sum, add Gaussian noise, average, descend. */
function dpSgdStep(params: Params, x: NDArray, y: NDArray, key: NDArray): Params {
  const g = perExampleGrads(params, x, y);
  const clipped = clip(g, perExampleNorms(g), CLIP);
  const [kw, kb] = random.split(key);
  const noisy: Params = {
    w: np
      .sum(clipped.w, 0)
      .add(random.normal(kw!, [D]).mul(NOISE * CLIP))
      .div(N),
    b: np
      .sum(clipped.b)
      .add(random.normal(kb!, []).mul(NOISE * CLIP))
      .div(N),
  };
  return tree.map((p: NDArray, d: NDArray) => p.sub(d.mul(LEARNING_RATE)), params, noisy) as Params;
}

const maxAbs = (a: NDArray, b: NDArray): number => np.max(np.abs(a.sub(b))).item();
const fmt = (xs: number[]) => xs.map((v) => v.toFixed(3)).join(" ");

export interface PerExampleResult {
  /** Largest |vmap(grad) - loop of grad| over all entries of w and b. */
  loopDiff: number;
  /** Largest |vmap(grad) - (sigmoid(z) - y) [x, 1]|. */
  closedFormDiff: number;
  /** Largest |mean of per-example grads - grad(batchLoss)|. */
  meanDiff: number;
  /** Per-example gradient norms before and after clipping to `clip`. */
  norms: number[];
  clippedNorms: number[];
  clip: number;
  /** How many examples the clipping step actually scaled down. */
  numClipped: number;
  /** Batch loss before and after the DP-SGD steps. */
  lossBefore: number;
  lossAfter: number;
}

function check(ok: boolean, what: string): void {
  if (!ok) throw new Error(`per_example_gradients: check failed: ${what}`);
}

export function main(log: (line: string) => void = console.log): PerExampleResult {
  // Synthetic, linearly separable-ish data: labels from a hidden weight vector plus label noise.
  const [kx, kw, kn, kp, kTrain] = random.split(random.key(0), 5);
  const x = random.normal(kx!, [N, D]);
  const wTrue = random.normal(kw!, [D]);
  const y = np.greater(np.matmul(x, wTrue).add(random.normal(kn!, [N]).mul(0.5)), 0).astype("float32");
  const params: Params = { w: random.normal(kp!, [D]).mul(0.1), b: np.array(0) };

  // 1. All N gradients in one call. Every leaf gains a leading axis of N.
  const g = perExampleGrads(params, x, y);
  log(`per-example grads: w ${JSON.stringify(g.w.shape)}, b ${JSON.stringify(g.b.shape)}`);

  // 2. The same thing the slow way: one grad call per example.
  let loopDiff = 0;
  for (let i = 0; i < N; i++) {
    const gi = grad(loss)(params, x.take(i, 0), y.take(i, 0)) as Params;
    loopDiff = Math.max(loopDiff, maxAbs(gi.w, g.w.take(i, 0)), maxAbs(gi.b, g.b.take(i, 0)));
  }
  log(`max |vmap(grad) - loop of grad|     = ${loopDiff.toExponential(2)}`);

  // 3. The closed form of the logistic loss gradient: dL/dz = sigmoid(z) - y.
  const err = nn.sigmoid(np.matmul(x, params.w).add(params.b)).sub(y); // [N]
  const closedFormDiff = Math.max(maxAbs(g.w, x.mul(np.expandDims(err, 1))), maxAbs(g.b, err));
  log(`max |vmap(grad) - (sigmoid(z)-y) x| = ${closedFormDiff.toExponential(2)}`);

  // 4. Averaging per-example gradients gives the ordinary minibatch gradient.
  const gBatch = grad(batchLoss)(params, x, y) as Params;
  const meanDiff = Math.max(maxAbs(np.mean(g.w, 0), gBatch.w), maxAbs(np.mean(g.b), gBatch.b));
  log(`max |mean(per-example) - grad(mean loss)| = ${meanDiff.toExponential(2)}`);

  // 5. DP-SGD clipping: bound every example's influence by C.
  const normsArr = perExampleNorms(g);
  const norms = Array.from(normsArr.dataSync());
  const clippedNorms = Array.from(perExampleNorms(clip(g, normsArr, CLIP)).dataSync());
  const numClipped = norms.filter((n) => n > CLIP).length;
  log(`norms before clipping (first 8): ${fmt(norms.slice(0, 8))}`);
  log(`norms after clipping  (first 8): ${fmt(clippedNorms.slice(0, 8))}`);
  log(`clipped ${numClipped} of ${N} examples to C = ${CLIP}`);

  // 6. A few noisy, clipped steps still learn.
  const lossBefore = batchLoss(params, x, y).item();
  let p = params;
  let key = kTrain!;
  for (let step = 0; step < STEPS; step++) {
    const [next, sub] = random.split(key);
    key = next!;
    p = dpSgdStep(p, x, y, sub!);
  }
  const lossAfter = batchLoss(p, x, y).item();
  log(`DP-SGD: batch loss ${lossBefore.toFixed(4)} -> ${lossAfter.toFixed(4)} after ${STEPS} steps`);

  check(loopDiff < 1e-5, `vmap(grad) matches a loop of grad (${loopDiff})`);
  check(closedFormDiff < 1e-5, `vmap(grad) matches the closed form (${closedFormDiff})`);
  check(meanDiff < 1e-5, `mean of per-example grads matches the batch grad (${meanDiff})`);
  check(
    clippedNorms.every((n) => n <= CLIP * (1 + 1e-5)),
    "every clipped norm is <= C",
  );
  check(
    norms.every((n, i) => n > CLIP || Math.abs(clippedNorms[i]! - n) <= 1e-6 * (1 + n)),
    "norms below C are untouched",
  );
  check(numClipped > 0 && numClipped < N, "the example clips some but not all examples");
  check(lossAfter < lossBefore, "DP-SGD lowers the loss");
  log("all checks passed");
  return { loopDiff, closedFormDiff, meanDiff, norms, clippedNorms, clip: CLIP, numClipped, lossBefore, lossAfter };
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  try {
    main();
  } catch (e) {
    console.error(e);
    process.exit(1);
  }
}
