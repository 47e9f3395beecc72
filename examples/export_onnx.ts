/**
 * Export to ONNX: trains the demo's MLP (examples/mlp.ts) on handwritten digits for one epoch,
 * exports the forward pass with `exportOnnx`, runs it in ONNX Runtime (onnxruntime-node) and checks
 * that it predicts the same classes, so the accuracy printed twice is the same.
 *
 *   npx tsx examples/export_onnx.ts            # full epoch, 784-128-10
 *   npx tsx examples/export_onnx.ts --small    # a fast run on a subset (used by the tests)
 */
import * as ort from "onnxruntime-node";
import { type NDArray, exportOnnx, jit, np, optim, random, tree, valueAndGrad } from "../src/index.js";
import { CLASSES, PIXELS, loadDigits } from "./mnist_data.js";
import { type MlpParams, crossEntropy, initMlp, predict } from "./mlp.js";

const SMALL = process.argv.includes("--small");
const HIDDEN = SMALL ? 32 : 128;
const BATCH = 64;
const TRAIN = SMALL ? 1024 : Infinity;

const fail = (msg: string): never => {
  console.error(msg);
  process.exit(1);
};

const digits = loadDigits();
const nTrain = Math.min(digits.train.count, TRAIN);
// The digits come grouped by class: shuffle once, keep nTrain of them.
const order = random.permutation(random.key(1), digits.train.count).astype("int32");
const xTrain = np.take(np.array(digits.train.images, { shape: [digits.train.count, PIXELS] }), order, 0);
const yTrain = np.take(np.array(digits.train.labels, { shape: [digits.train.count] }), order);
const xTest = np.array(digits.test.images, { shape: [digits.test.count, PIXELS] });
const yTest = np.array(digits.test.labels, { shape: [digits.test.count] });
const oneHot = (y: NDArray) => np.equal(np.expandDims(y, 1), np.arange(CLASSES).astype("int32")).astype("float32");

const opt = optim.sgd({ learningRate: 0.2, momentum: 0.9 });
interface State {
  params: MlpParams;
  opt: optim.SgdState;
}
const step = jit((s: State, x: NDArray, y: NDArray): [State, NDArray] => {
  const [loss, grads] = valueAndGrad(crossEntropy)(s.params, x, y) as [NDArray, MlpParams];
  const [updates, next] = opt.update(grads, s.opt);
  return [{ params: optim.applyUpdates(s.params, updates), opt: next }, loss];
});

let state: State = { params: initMlp(0, PIXELS, HIDDEN, CLASSES), opt: opt.init(initMlp(0, PIXELS, HIDDEN, CLASSES)) };
let loss = np.array(0);
for (let start = 0; start + BATCH <= nTrain; start += BATCH) {
  const x = np.take(xTrain, np.arange(start, start + BATCH).astype("int32"), 0);
  const y = oneHot(np.take(yTrain, np.arange(start, start + BATCH).astype("int32")));
  [state, loss] = step(state, x, y);
}
console.log(`trained one epoch on ${nTrain} digits, last loss ${loss.item().toFixed(4)}`);

// fluxion's accuracy on the held-out digits
const classes = np.argmax(predict(state.params, xTest), 1);
const accuracy = np.mean(np.equal(classes, yTest)).item();
console.log(`fluxion accuracy:      ${(100 * accuracy).toFixed(2)}%`);

// Export the forward pass for the test set's shape; the model's inputs are the arguments' leaves
// in tree.flatten order (the parameters by key, then x).
const model = exportOnnx(predict, state.params, xTest);
const session = await ort.InferenceSession.create(model);
const feeds: Record<string, ort.Tensor> = {};
const [leaves] = tree.flatten([state.params, xTest]) as [NDArray[], unknown];
leaves.forEach((a, i) => (feeds[`input_${i}`] = new ort.Tensor("float32", a.dataSync() as Float32Array, a.shape)));
const logits = (await session.run(feeds))[session.outputNames[0]!]!;
const onnxClasses = np.argmax(np.array(logits.data as Float32Array, { shape: logits.dims.slice() }), 1);
const onnxAccuracy = np.mean(np.equal(onnxClasses, yTest)).item();
console.log(`ONNX Runtime accuracy: ${(100 * onnxAccuracy).toFixed(2)}%  (model ${(model.length / 1024).toFixed(0)} KiB)`);
if (onnxAccuracy !== accuracy) fail(`the exported model's accuracy ${onnxAccuracy} differs from fluxion's ${accuracy}`);
if (accuracy < (SMALL ? 0.6 : 0.85)) fail(`accuracy ${accuracy} is lower than expected after one epoch`);
console.log("all checks passed");
