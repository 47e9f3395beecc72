/**
 * The two-layer perceptron shared by the demo (examples/demo.ts) and the browser page
 * (web/train.ts): parameters as a pytree, He/Glorot initialisation, logits, and softmax
 * cross-entropy against one-hot targets.
 */
import { type NDArray, nn, np, random } from "../src/index.js";

/** The model's parameters: a pytree that the transforms and the optimizer see through. */
export interface MlpParams {
  w1: NDArray;
  b1: NDArray;
  w2: NDArray;
  b2: NDArray;
}

/** He initialisation for the ReLU layer, Glorot for the output layer, zero biases. */
export function initMlp(seed: number, inputs: number, hidden: number, classes: number): MlpParams {
  const [k1, k2] = random.split(random.key(seed));
  return {
    w1: random.normal(k1!, [inputs, hidden]).mul(Math.sqrt(2 / inputs)),
    b1: np.zeros([hidden]),
    w2: random.normal(k2!, [hidden, classes]).mul(Math.sqrt(2 / (hidden + classes))),
    b2: np.zeros([classes]),
  };
}

/** Logits [N, classes] for inputs [N, inputs]. */
export function predict(params: MlpParams, x: NDArray): NDArray {
  const hidden = nn.relu(np.matmul(x, params.w1).add(params.b1));
  return np.matmul(hidden, params.w2).add(params.b2);
}

/** Mean softmax cross-entropy of the logits against one-hot targets. */
export function crossEntropy(params: MlpParams, x: NDArray, targets: NDArray): NDArray {
  const logProbs = nn.logSoftmax(predict(params, x));
  return np.negative(np.mean(np.sum(logProbs.mul(targets), 1)));
}
