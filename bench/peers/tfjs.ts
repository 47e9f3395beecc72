/**
 * Peer adapter for TensorFlow.js (`@tensorflow/tfjs` 4.x), one `Impl` per backend: "wasm"
 * (`@tensorflow/tfjs-backend-wasm`, its .wasm binaries loaded from node_modules via `setWasmPaths`;
 * single-threaded in Node) and "cpu" (plain JS kernels).
 *
 * tfjs is eager-only: it has no jit, no vmap and no forward mode. Rows that ask for a jitted
 * function get tfjs's eager equivalent (tagged "eager"); per-example gradients are a loop of
 * `tf.grad` calls; the Hessian-vector product is reverse-over-reverse (`tf.grad` of a `tf.grad`).
 * Gradients use `tf.grad` / `tf.valueAndGrads`; every run is wrapped in `tf.tidy` and reads back
 * with `dataSync()`.
 */
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import * as tf from "@tensorflow/tfjs";
import { getThreadsCount, setWasmPaths } from "@tensorflow/tfjs-backend-wasm";
import {
  type Case,
  type ChainMode,
  type ExpSinMode,
  type Impl,
  type MatmulMode,
  type MlpMode,
  NotAvailable,
  type Prepared,
  type Readback,
  type LibraryFn,
  type RnnMode,
  SIZES,
  data,
} from "../spec.js";

type T = tf.Tensor;

let wasmPathsSet = false;

/** The directory holding tfjs-backend-wasm's .wasm files, with a trailing slash. */
function wasmDir(): string {
  const pkg = createRequire(import.meta.url).resolve("@tensorflow/tfjs-backend-wasm/package.json");
  return join(dirname(pkg), "dist") + "/";
}

/** Runs `fn` inside `tf.tidy` (freeing every intermediate) and returns what it read back. */
function tidyRead(fn: () => Readback): Readback {
  let out: Readback = 0;
  tf.tidy(() => {
    out = fn();
  });
  return out;
}

const read = (t: T) => t.dataSync() as Float32Array;

function mlpLoss(w1: T, b1: T, w2: T, b2: T, x: T, y: T): T {
  const h = tf.relu(tf.add(tf.matMul(x, w1), b1));
  const logits = tf.add(tf.matMul(h, w2), b2);
  return tf.neg(tf.mean(tf.sum(tf.mul(tf.logSoftmax(logits), y), 1)));
}

function chainWith(iters: number): (x: T) => T {
  return (x) => {
    let y = x;
    for (let i = 0; i < iters; i++) y = tf.tanh(tf.add(tf.mul(tf.sin(y), 0.5), SIZES.chainConst));
    return y;
  };
}

const linearLoss = (w: T, x: T, y: T): T => tf.square(tf.sub(tf.dot(x, w), y));

function rosenbrock(x: T): T {
  const n = x.shape[0]!;
  const x0 = tf.slice(x, [0], [n - 1]),
    x1 = tf.slice(x, [1], [n - 1]);
  return tf.sum(tf.add(tf.mul(tf.square(tf.sub(x1, tf.square(x0))), 100), tf.square(tf.sub(1, x0))));
}

const expSinSum = (x: T): T => tf.sum(tf.exp(tf.add(tf.mul(tf.sin(x), 2), 1)));

function withInputs(inputs: T[], run: () => Readback, tag?: string): Case {
  return { run, dispose: () => tf.dispose(inputs), ...(tag ? { tag } : {}) };
}

/** Threads the tfjs Wasm backend uses ("not started" before it is initialised). */
export function tfjsWasmThreads(): string {
  return wasmPathsSet ? String(getThreadsCount()) : "not started";
}

export function tfjs(backend: "wasm" | "cpu"): Impl {
  return {
    name: `tfjs ${backend}`,

    async activate() {
      if (backend === "wasm" && !wasmPathsSet) {
        setWasmPaths(wasmDir());
        wasmPathsSet = true;
      }
      tf.enableProdMode(); // no debug checks (and no "install tfjs-node" banner)
      if (!(await tf.setBackend(backend))) throw new Error(`tfjs: backend ${backend} failed to initialise`);
      await tf.ready();
    },

    matmul(n: number, mode: MatmulMode): Prepared {
      if (mode === "jit") return new NotAvailable("no jit");
      const d = data().matmul(n);
      const a = tf.tensor2d(d.a, [n, n]),
        b = tf.tensor2d(d.b, [n, n]);
      return withInputs([a, b], () => tidyRead(() => read(tf.matMul(a, b))));
    },

    mlp(mode: MlpMode): Case {
      const d = data().mlp,
        { batch, input, hidden, classes } = SIZES.mlp;
      const params = [tf.tensor2d(d.w1, [input, hidden]), tf.tensor1d(d.b1), tf.tensor2d(d.w2, [hidden, classes]), tf.tensor1d(d.b2)];
      const x = tf.tensor2d(d.x, [batch, input]),
        y = tf.tensor2d(d.y, [batch, classes]);
      const loss = (...p: T[]) => mlpLoss(p[0]!, p[1]!, p[2]!, p[3]!, x, y);
      const tag = mode.startsWith("jit") ? "eager" : undefined;
      if (mode === "forward" || mode === "jitForward") return withInputs([...params, x, y], () => tidyRead(() => read(loss(...params))), tag);
      const vg = tf.valueAndGrads(loss);
      return withInputs(
        [...params, x, y],
        () =>
          tidyRead(() => {
            const { value, grads } = vg(params);
            return [read(value), ...grads.map(read)];
          }),
        tag,
      );
    },

    chain(mode: ChainMode, iters: number): Case {
      const x = tf.scalar(SIZES.chainStart),
        chain = chainWith(iters);
      if (mode === "grad") {
        const g = tf.grad(chain);
        return withInputs([x], () => tidyRead(() => read(g(x))[0]!));
      }
      return withInputs([x], () => tidyRead(() => read(chain(x))[0]!), mode === "jit" ? "eager" : undefined);
    },

    chainCompile: () => new NotAvailable("no jit"),
    jitCall: () => new NotAvailable("no jit"),

    perExampleGrads(): Case {
      const d = data().perExample,
        { dim, batch } = SIZES.perExample;
      const w = tf.tensor1d(d.w),
        xs = tf.tensor2d(d.xs, [batch, dim]),
        ys = tf.tensor1d(d.ys);
      return withInputs(
        [w, xs, ys],
        () =>
          tidyRead(() => {
            const xRows = tf.unstack(xs),
              yRows = tf.unstack(ys);
            const rows = xRows.map((xi, i) => tf.grad((wv: T) => linearLoss(wv, xi, yRows[i]!))(w));
            return read(tf.stack(rows));
          }),
        "loop",
      );
    },

    hvp(): Prepared {
      const d = data().rosenbrock;
      const x = tf.tensor1d(d.x),
        v = tf.tensor1d(d.v);
      const gradF = tf.grad(rosenbrock);
      const hvp = tf.grad((z: T) => tf.sum(tf.mul(gradF(z), v)));
      const run = () => tidyRead(() => read(hvp(x)));
      try {
        run(); // tfjs may lack second-order gradients for some op: report n/a rather than fail
      } catch (e) {
        tf.dispose([x, v]);
        return new NotAvailable(`no 2nd-order grad: ${(e as Error).message.slice(0, 40)}`);
      }
      return withInputs([x, v], run, "rev-rev");
    },

    expSin(mode: ExpSinMode): Case {
      const x = tf.tensor1d(data().expSin);
      if (mode === "forward") return withInputs([x], () => tidyRead(() => read(expSinSum(x))[0]!), "eager");
      const g = tf.grad(expSinSum);
      return withInputs([x], () => tidyRead(() => read(g(x))), "eager");
    },

    convGrad(): Prepared {
      // tfjs's wasm backend has no Conv2DBackpropFilter kernel.
      if (backend === "wasm") return new NotAvailable("no conv grad kernel");
      const { batch, channels, size, filters, k } = SIZES.conv;
      // tfjs convolves NHWC inputs with HWIO kernels: the same data, transposed once up front.
      const x = tf.transpose(tf.tensor4d(data().conv.x, [batch, channels, size, size]), [0, 2, 3, 1]);
      const w = tf.transpose(tf.tensor4d(data().conv.w, [filters, channels, k, k]), [2, 3, 1, 0]);
      const g = tf.grads((a: T, b: T) => tf.sum(tf.square(tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, 1, "same"))));
      return withInputs([x, w], () => tidyRead(() => g([x, w]).map(read)), "eager");
    },

    // tf.linalg has only bandPart, gramSchmidt and qr.
    cholesky: () => new NotAvailable("no cholesky in tfjs"),
    solve: () => new NotAvailable("no linear solve in tfjs"),
    eigh: () => new NotAvailable("no eigh in tfjs"),
    svd: () => new NotAvailable("no svd in tfjs"),

    rnn(mode: RnnMode): Case {
      const { hidden, input, steps } = SIZES.rnn,
        d = data().rnn;
      // Column vectors, so that tf.matMul computes W·h and U·x.
      const w = tf.tensor2d(d.w, [hidden, hidden]),
        u = tf.tensor2d(d.u, [hidden, input]),
        b = tf.tensor2d(d.b, [hidden, 1]),
        xs = tf.tensor2d(d.xs, [steps, input]);
      const last = (wv: T, uv: T, bv: T): T => {
        let h: T = tf.zeros([hidden, 1]);
        for (const x of tf.unstack(xs)) h = tf.tanh(tf.add(tf.add(tf.matMul(wv, h), tf.matMul(uv, tf.reshape(x, [input, 1]))), bv));
        return h;
      };
      if (mode === "forward") return withInputs([w, u, b, xs], () => tidyRead(() => read(last(w, u, b))), "JS loop, eager");
      const g = tf.grads((wv: T, uv: T, bv: T) => tf.sum(tf.square(last(wv, uv, bv))));
      return withInputs([w, u, b, xs], () => tidyRead(() => g([w, u, b]).map(read)), "JS loop, eager");
    },

    fori(): Case {
      const c = tf.scalar(0.5);
      const run = () =>
        tidyRead(() => {
          let y: T = c;
          for (let i = 0; i < SIZES.foriSteps; i++) y = tf.add(tf.mul(y, 0.999), 0.001);
          return read(y)[0]!;
        });
      return withInputs([c], run, "JS loop, eager");
    },

    library(fn: LibraryFn): Case {
      const { normal, softmax, sort } = SIZES.library;
      // tfjs's own generator (Box-Muller on a seeded Alea stream), not threefry.
      if (fn === "normal") return withInputs([], () => tidyRead(() => read(tf.randomNormal([normal], 0, 1, "float32", 0))), "own RNG");
      if (fn === "softmax" || fn === "relu" || fn === "biasAdd") {
        const x = tf.tensor2d(data().library.softmax, [...softmax] as [number, number]);
        if (fn === "relu") return withInputs([x], () => tidyRead(() => read(tf.relu(x))));
        if (fn === "biasAdd") {
          const b = tf.tensor1d(data().library.bias);
          return withInputs([x, b], () => tidyRead(() => read(tf.add(x, b))));
        }
        return withInputs([x], () => tidyRead(() => read(tf.softmax(x))));
      }
      const x = tf.tensor1d(data().library.sort);
      return withInputs([x], () => tidyRead(() => read(tf.topk(x, sort).values)), "topk, descending");
    },
  };
}
