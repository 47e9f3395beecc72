/**
 * Long-run memory check: 10,000 jitted training steps (a small MLP, 16-64-64-1, regressing a fixed
 * random "teacher" network on synthetic data, with `optim.chain(clipByGlobalNorm, adam)`), sampling
 * `process.memoryUsage()` every 1,000 steps after a full GC. Fails (exit code 1) when heapUsed,
 * arrayBuffers or RSS grows by more than a small tolerance between step 2,000 (warmed up: traced,
 * compiled, caches filled) and the last step.
 *
 *   npm run long-run              (node --expose-gc --import tsx scripts/long_run.ts)
 *   npm run long-run -- 20000     (another number of steps; a multiple of 1,000, at least 3,000)
 */
import { type NDArray, jit, nn, np, optim, random, valueAndGrad } from "../src/index.js";

const STEPS = Number(process.argv[2] ?? 10_000);
const EVERY = 1_000;
const BASELINE_STEP = 2_000;
const IN = 16,
  HIDDEN = 64,
  BATCH = 64,
  DATASET = 4_096;
/** Allowed growth from the baseline sample to the last one, in MiB. */
const TOLERANCE_MIB = { heapUsed: 2, arrayBuffers: 1, rss: 24 } as const;

type Metric = keyof typeof TOLERANCE_MIB;
interface Params {
  w1: NDArray;
  b1: NDArray;
  w2: NDArray;
  b2: NDArray;
  w3: NDArray;
  b3: NDArray;
}

const gc = (globalThis as { gc?: () => void }).gc;
const MIB = 1024 * 1024;

function init(key: NDArray): Params {
  const [k1, k2, k3] = random.split(key, 3);
  const dense = (k: NDArray, n: number, m: number) => random.normal(k, [n, m]).mul(Math.sqrt(2 / n));
  return {
    w1: dense(k1!, IN, HIDDEN),
    b1: np.zeros([HIDDEN]),
    w2: dense(k2!, HIDDEN, HIDDEN),
    b2: np.zeros([HIDDEN]),
    w3: dense(k3!, HIDDEN, 1),
    b3: np.zeros([1]),
  };
}

function predict(p: Params, x: NDArray): NDArray {
  const h1 = np.tanh(np.matmul(x, p.w1).add(p.b1));
  const h2 = nn.relu(np.matmul(h1, p.w2).add(p.b2));
  return np.matmul(h2, p.w3).add(p.b3);
}

const loss = (p: Params, x: NDArray, y: NDArray): NDArray => np.mean(np.square(predict(p, x).sub(y)));

const optimizer = optim.chain(optim.clipByGlobalNorm(1), optim.adam({ learningRate: 1e-3 }));
type OptState = ReturnType<typeof optimizer.init>;

const step = jit((p: Params, s: OptState, x: NDArray, y: NDArray): [Params, OptState, NDArray] => {
  const [value, grads] = valueAndGrad(loss)(p, x, y) as [NDArray, Params];
  const [updates, next] = optimizer.update(grads, s, p);
  return [optim.applyUpdates(p, updates), next, value];
});

interface Sample {
  step: number;
  loss: number;
  seconds: number;
  heapUsed: number;
  arrayBuffers: number;
  rss: number;
}

function sample(stepNo: number, lossValue: number, started: number): Sample {
  gc?.();
  gc?.();
  const m = process.memoryUsage();
  return {
    step: stepNo,
    loss: lossValue,
    seconds: (performance.now() - started) / 1000,
    heapUsed: m.heapUsed,
    arrayBuffers: m.arrayBuffers,
    rss: m.rss,
  };
}

const mib = (bytes: number): string => (bytes / MIB).toFixed(2).padStart(9);

function printRow(s: Sample): void {
  console.log(
    `${String(s.step).padStart(6)}  ${s.loss.toExponential(3).padStart(10)}  ${s.seconds.toFixed(1).padStart(7)}  ${mib(s.heapUsed)}  ${mib(s.arrayBuffers)}  ${mib(s.rss)}`,
  );
}

function main(): number {
  if (!Number.isInteger(STEPS) || STEPS % EVERY !== 0 || STEPS <= BASELINE_STEP) {
    console.error(`long_run: steps must be a multiple of ${EVERY} above ${BASELINE_STEP}, got ${process.argv[2]}`);
    return 2;
  }
  if (gc === undefined) console.warn("long_run: run with node --expose-gc for exact numbers (npm run long-run does); sampling without a forced GC");

  const [kData, kTeacher, kInit, kBatches] = random.split(random.key(0), 4);
  const xs = random.normal(kData!, [DATASET, IN]);
  const ys = predict(init(kTeacher!), xs);
  let params = init(kInit!);
  let state = optimizer.init(params);
  // Batch indices for a whole pass, drawn once; batches cycle through the data set.
  const order = random.permutation(kBatches!, DATASET).dataSync() as Int32Array;
  const perPass = DATASET / BATCH;
  const batches = Array.from({ length: perPass }, (_, b) => np.array(order.slice(b * BATCH, (b + 1) * BATCH), { shape: [BATCH] }));

  console.log(
    `long run: ${STEPS} jitted steps, MLP ${IN}-${HIDDEN}-${HIDDEN}-1, batch ${BATCH}, clip + adam; memory in MiB after ${gc ? "a forced GC" : "no forced GC"}`,
  );
  console.log("  step        loss  time s   heapUsed  arrayBufs        rss");
  const started = performance.now();
  const samples: Sample[] = [sample(0, loss(params, xs, ys).item(), started)];
  printRow(samples[0]!);
  let value: NDArray;
  for (let i = 1; i <= STEPS; i++) {
    const idx = batches[(i - 1) % perPass]!;
    [params, state, value] = step(params, state, np.take(xs, idx, 0), np.take(ys, idx, 0));
    if (i % EVERY === 0) {
      samples.push(sample(i, value.item(), started));
      printRow(samples[samples.length - 1]!);
    }
  }

  const base = samples.find((s) => s.step === BASELINE_STEP)!,
    last = samples[samples.length - 1]!;
  const finalLoss = loss(params, xs, ys).item();
  console.log(
    `full-data loss: ${samples[0]!.loss.toExponential(3)} at step 0, ${finalLoss.toExponential(3)} at step ${STEPS}; ` +
      `${(((last.seconds - base.seconds) * 1000) / (STEPS - BASELINE_STEP)).toFixed(2)} ms/step after warm-up`,
  );
  let failed = false;
  for (const metric of Object.keys(TOLERANCE_MIB) as Metric[]) {
    const growth = (last[metric] - base[metric]) / MIB,
      limit = TOLERANCE_MIB[metric];
    const ok = growth <= limit;
    failed ||= !ok;
    console.log(
      `${metric.padEnd(12)} step ${BASELINE_STEP} → ${STEPS}: ${growth >= 0 ? "+" : ""}${growth.toFixed(2)} MiB (limit +${limit} MiB) ${ok ? "ok" : "GROWS"}`,
    );
  }
  if (!(finalLoss < samples[0]!.loss)) {
    console.error("long_run: the loss did not decrease; the training loop is broken");
    return 1;
  }
  if (failed) console.error("long_run: memory grows during training (a leak?)");
  return failed ? 1 : 0;
}

process.exitCode = main();
