/**
 * The browser demo's model, data and training loop, without any DOM: the demo's MLP (ReLU hidden
 * layer, softmax cross-entropy, `optim.sgd` with momentum, the whole step one `jit`-compiled
 * `valueAndGrad` + update) on a small synthetic digit-like data set generated here, so the page
 * needs no download and the bundle stays small.
 *
 * Data: 10 classes of 8x8 "images". Each class has a fixed random prototype (pixels in [0, 1]);
 * a sample is its prototype, shifted by up to one pixel, plus Gaussian noise. The classes are
 * separable but not trivially (chance is 10%, loss starts near ln 10 = 2.30).
 */
import { type NDArray, jit, nn, np, optim, valueAndGrad } from "../src/index.js";
import { type MlpParams, crossEntropy, initMlp, predict } from "../examples/mlp.js";

export const SIDE = 8;
export const PIXELS = SIDE * SIDE;
export const CLASSES = 10;

export interface TrainConfig {
  device: string;
  steps: number;
  batch: number;
  batches: number;
  hidden: number;
  learningRate: number;
  momentum: number;
  noise: number;
  seed: number;
  /** Read the losses back every this many steps. */
  readEvery: number;
}

export const DEFAULTS: Omit<TrainConfig, "device"> = {
  steps: 150,
  batch: 64,
  batches: 16,
  hidden: 64,
  learningRate: 0.05,
  momentum: 0.9,
  noise: 0.35,
  seed: 0,
  readEvery: 10,
};

type Params = MlpParams;

interface TrainState {
  params: Params;
  opt: optim.SgdState;
}

/** A small deterministic PRNG (mulberry32) for the data, so every run sees the same digits. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** `count` samples: images [count, 64] float32 and labels [count] int32 (classes cycle 0..9). */
export function makeDigits(count: number, noise: number, seed: number): { images: Float32Array; labels: Int32Array } {
  const protoRand = prng(12345);
  const protos = Array.from({ length: CLASSES }, () => Float32Array.from({ length: PIXELS }, () => (protoRand() < 0.4 ? 1 : 0)));
  const rand = prng(seed + 1);
  const gauss = () => Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
  const images = new Float32Array(count * PIXELS);
  const labels = new Int32Array(count);
  for (let n = 0; n < count; n++) {
    const c = n % CLASSES;
    const dx = Math.floor(rand() * 3) - 1,
      dy = Math.floor(rand() * 3) - 1;
    labels[n] = c;
    for (let y = 0; y < SIDE; y++) {
      for (let x = 0; x < SIDE; x++) {
        const sx = x - dx,
          sy = y - dy;
        const v = sx >= 0 && sx < SIDE && sy >= 0 && sy < SIDE ? protos[c]![sy * SIDE + sx]! : 0;
        images[n * PIXELS + y * SIDE + x] = v + noise * gauss();
      }
    }
  }
  return { images, labels };
}

const initParams = (seed: number, hidden: number): Params => initMlp(seed, PIXELS, hidden, CLASSES);
const loss = crossEntropy;

export interface StepReport {
  step: number;
  loss: number;
}

export interface TrainResult {
  losses: number[];
  /** Accuracy on held-out samples after training. */
  accuracy: number;
  /** Wall-clock milliseconds of the training loop (compilation included). */
  millis: number;
}

/**
 * Trains on `config.device`: the data are uploaded once (`config.batches` fixed mini-batches used
 * in turn), the parameters move to the device on the first step, and each step's loss is read
 * back with `await loss.data()` (every `readEvery` steps) and reported to `onStep`.
 */
export async function train(config: TrainConfig, onStep: (r: StepReport) => void | Promise<void>): Promise<TrainResult> {
  const { device } = config;
  const optimizer = optim.sgd({ learningRate: config.learningRate, momentum: config.momentum });
  const trainStep = jit(
    (state: TrainState, x: NDArray, targets: NDArray): [TrainState, NDArray] => {
      const [value, grads] = valueAndGrad(loss)(state.params, x, targets) as [NDArray, Params];
      const [updates, opt] = optimizer.update(grads, state.opt);
      return [{ params: optim.applyUpdates(state.params, updates), opt }, value];
    },
    { device },
  );
  const evaluate = jit((params: Params, x: NDArray, labels: NDArray): NDArray => np.mean(np.equal(np.argmax(predict(params, x), 1), labels)), {
    device,
  });

  const count = config.batch * config.batches;
  const data = makeDigits(count, config.noise, config.seed);
  const batches = Array.from({ length: config.batches }, (_, b) => {
    const images = data.images.subarray(b * config.batch * PIXELS, (b + 1) * config.batch * PIXELS);
    const labels = np.array(data.labels.subarray(b * config.batch, (b + 1) * config.batch), { shape: [config.batch] });
    return {
      x: np.array(images, { shape: [config.batch, PIXELS], device }),
      t: nn.oneHot(labels, CLASSES).to(device),
    };
  });
  const held = makeDigits(500, config.noise, config.seed + 1000);
  const heldX = np.array(held.images, { shape: [500, PIXELS], device });
  const heldY = np.array(held.labels, { shape: [500], device });

  const params = initParams(config.seed, config.hidden);
  let state: TrainState = { params, opt: optimizer.init(params) };
  const losses: number[] = [];
  const started = performance.now();
  // Losses are read back every `readEvery` steps, not after each one, so the device is not
  // idle while the page waits for each value.
  let pending: NDArray[] = [];
  for (let step = 0; step < config.steps; step++) {
    const { x, t } = batches[step % batches.length]!;
    let value: NDArray;
    [state, value] = trainStep(state, x, t);
    pending.push(value);
    if (pending.length === config.readEvery || step === config.steps - 1) {
      const read = await Promise.all(pending.map((p) => p.data()));
      for (const p of pending) p.dispose();
      pending = [];
      for (const v of read) {
        losses.push(Number(v[0]));
        await onStep({ step: losses.length, loss: Number(v[0]) });
      }
    }
  }
  const millis = performance.now() - started;
  const accuracy = Number((await evaluate(state.params, heldX, heldY).data())[0]);
  return { losses, accuracy, millis };
}
