/**
 * Times one training step of the demo's model (MLP 784-256-10, batch 128, optim.sgd with momentum)
 * eagerly and under `jit(valueAndGrad(loss))` and a fully jitted step (gradients + optimizer), and
 * checks that all three give the same parameters. Each is run twice; compare the second round.
 *
 *   npx tsx scripts/demo_step_bench.ts [steps]
 */
import { type NDArray, jit, nn, np, optim, random, valueAndGrad } from "../src/index.js";

const PIXELS = 784,
  HIDDEN = 256,
  CLASSES = 10,
  BATCH = 128;
const steps = Number(process.argv[2] ?? 40);

interface Params {
  w1: NDArray;
  b1: NDArray;
  w2: NDArray;
  b2: NDArray;
}

function loss(p: Params, x: NDArray, targets: NDArray): NDArray {
  const hidden = nn.relu(np.matmul(x, p.w1).add(p.b1));
  const logProbs = nn.logSoftmax(np.matmul(hidden, p.w2).add(p.b2));
  return np.negative(np.mean(np.sum(logProbs.mul(targets), 1)));
}

const [k1, k2, k3, k4] = random.split(random.key(0), 4);
const params0: Params = {
  w1: random.normal(k1!, [PIXELS, HIDDEN]).mul(Math.sqrt(2 / PIXELS)),
  b1: np.zeros([HIDDEN]),
  w2: random.normal(k2!, [HIDDEN, CLASSES]).mul(Math.sqrt(2 / (HIDDEN + CLASSES))),
  b2: np.zeros([CLASSES]),
};
const x = random.uniform(k3!, [BATCH, PIXELS]);
const targets = nn.oneHot(np.argmax(random.normal(k4!, [BATCH, CLASSES]), 1), CLASSES);
const opt = optim.sgd({ learningRate: 0.2, momentum: 0.9 });

type Step = (p: Params, s: optim.SgdState) => [Params, optim.SgdState, NDArray];

function withGrad(lossAndGrad: (p: Params, x: NDArray, t: NDArray) => [NDArray, Params]): Step {
  return (p, s) => {
    const [value, grads] = lossAndGrad(p, x, targets);
    const [updates, next] = opt.update(grads, s);
    return [optim.applyUpdates(p, updates), next, value];
  };
}

const eager = withGrad(valueAndGrad(loss) as never);
const jitGrad = withGrad(jit(valueAndGrad(loss)) as never);
const jitStep = jit((p: Params, s: optim.SgdState, xb: NDArray, tb: NDArray): [Params, optim.SgdState, NDArray] => {
  const [value, grads] = valueAndGrad(loss)(p, xb, tb) as [NDArray, Params];
  const [updates, next] = opt.update(grads, s);
  return [optim.applyUpdates(p, updates), next, value];
});
const fullJit: Step = (p, s) => jitStep(p, s, x, targets);

function run(name: string, step: Step): Params {
  let p = params0,
    s = opt.init(params0);
  let t0 = performance.now();
  [p, s] = step(p, s);
  const first = performance.now() - t0;
  t0 = performance.now();
  let last = NaN;
  for (let i = 1; i < steps; i++) {
    const [np_, ns, v] = step(p, s);
    [p, s] = [np_, ns];
    last = v.item();
  }
  const per = (performance.now() - t0) / (steps - 1);
  console.log(
    `${name.padEnd(28)} first step ${first.toFixed(0).padStart(5)} ms   then ${per.toFixed(2).padStart(7)} ms/step   final loss ${last.toFixed(5)}`,
  );
  return p;
}

// Two rounds, so that the second compares the three with the process warmed up.
let results: Params[] = [];
for (const round of [1, 2]) {
  console.log(`round ${round}:`);
  results = [run("eager valueAndGrad", eager), run("jit(valueAndGrad(loss))", jitGrad), run("jit(whole step)", fullJit)];
}
const diff = (a: Params, b: Params): number => Math.max(...(["w1", "b1", "w2", "b2"] as const).map((k) => np.max(np.abs(a[k].sub(b[k]))).item()));
console.log(
  `max |param difference| vs eager: jit(valueAndGrad) ${diff(results[0]!, results[1]!).toExponential(2)}, jit(step) ${diff(results[0]!, results[2]!).toExponential(2)}`,
);
