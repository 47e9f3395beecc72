/**
 * The ensemble workload: `jit(vmap(init))(random.split(key, 8))` initialises 8 MLPs from traced keys,
 * and one jitted, vmapped SGD step trains all 8 at once; the baseline is 8 calls of one jitted
 * single-model step. Shared by `npm run bench` (two rows) and test/random/ensemble.test.ts (the
 * ensemble step equals the 8 separate steps).
 */
import { type NDArray, grad, jit, nn, np, random, tree, vmap } from "../src/index.js";
import { type Case, type MeasuredCase, type Readback, alternated } from "./spec.js";

export const ENSEMBLE = { models: 8, batch: 64, input: 16, hidden: 32, classes: 4, lr: 0.1 };

export type Params = { w1: NDArray; b1: NDArray; w2: NDArray; b2: NDArray };

/** One model's parameters from a key (traced under jit and vmap). */
export function init(k: NDArray): Params {
  const { input, hidden, classes } = ENSEMBLE;
  const [k1, k2, k3] = random.split(k, 3);
  return {
    w1: random.normal(k1!, [input, hidden]).mul(Math.sqrt(2 / input)),
    b1: random.uniform(k3!, [hidden], "float32", -0.1, 0.1),
    w2: random.normal(k2!, [hidden, classes]).mul(Math.sqrt(2 / (hidden + classes))),
    b2: np.zeros([classes]),
  };
}

function loss(p: Params, x: NDArray, y: NDArray): NDArray {
  const h = nn.relu(np.add(np.matmul(x, p.w1), p.b1));
  const logits = np.add(np.matmul(h, p.w2), p.b2);
  return np.negative(np.mean(np.sum(np.multiply(nn.logSoftmax(logits), y), 1)));
}

/** One SGD step: p - lr ∇loss(p). */
export function step(p: Params, x: NDArray, y: NDArray): Params {
  const g = grad(loss)(p, x, y) as Params;
  return tree.map((a: NDArray, b: NDArray) => a.sub(b.mul(ENSEMBLE.lr)), p, g) as Params;
}

/** Fixed data (same for every model): inputs from one key, one-hot labels from another. */
export function ensembleData(): { x: NDArray; y: NDArray } {
  const { batch, input, classes } = ENSEMBLE;
  const [kx, ky] = random.split(random.key(1));
  const labels = random.randint(ky!, [batch], 0, classes);
  return { x: random.normal(kx!, [batch, input]), y: nn.oneHot(labels, classes) };
}

export const initEnsemble = jit(vmap(init));
export const ensembleStep = jit(vmap(step, { inAxes: [0, null, null] }));
export const singleStep = jit(step);

/** Row i of every leaf of stacked params. */
export const member = (p: Params, i: number): Params => ({ w1: [...p.w1][i]!, b1: [...p.b1][i]!, w2: [...p.w2][i]!, b2: [...p.b2][i]! });

/**
 * One ensemble step against one model's step, the two timed in alternation in every run, so a
 * machine whose speed drifts between rows (a shared host) moves both alike: `measured()` is the
 * median vmapped step over the median of the 8-step loop divided by 8.
 */
export function ensembleRatioCase(): MeasuredCase {
  const vmapped = ensembleCase("vmap"),
    loop = ensembleCase("loop");
  return alternated(
    () => vmapped.run() as Readback,
    () => loop.run(),
    ENSEMBLE.models,
  );
}

/** The bench case: one ensemble step ("vmap") or 8 separate jitted steps ("loop"). */
export function ensembleCase(mode: "vmap" | "loop"): Case {
  const { x, y } = ensembleData();
  const stacked = initEnsemble(random.split(random.key(0), ENSEMBLE.models));
  const singles = Array.from({ length: ENSEMBLE.models }, (_, i) => member(stacked, i));
  const read = (p: Params) => Object.values(p).map((l: NDArray) => l.dataSync() as Float32Array);
  if (mode === "vmap") return { run: () => read(ensembleStep(stacked, x, y)) };
  return { run: () => singles.flatMap((p) => read(singleStep(p, x, y))) };
}
