/**
 * The benchmark workloads written with fluxion (the library under test), filling `Impl` from
 * spec.ts. Eager calls use the `np` ops directly; "jit" cases wrap the same functions in `jit`.
 * Every run reads its results back with `dataSync()` / `item()`.
 */
import { type NDArray, grad, jit, jvp, lax, nn, np, random, tree, valueAndGrad, vmap } from "../src/index.js";
import {
  type Case,
  type ChainMode,
  type ExpSinMode,
  type Impl,
  type MatmulMode,
  type MlpMode,
  type Readback,
  type LibraryFn,
  type RnnMode,
  SIZES,
  data,
} from "./spec.js";

const arr = (values: Float32Array, shape: number[]) => np.array(values, { shape });

/** Reads every array leaf of a result tree back to JS. */
function readAll(out: unknown): Readback {
  return tree.leaves(out).map((leaf) => (leaf as NDArray).dataSync() as Float32Array);
}

type Params = { w1: NDArray; b1: NDArray; w2: NDArray; b2: NDArray };

function mlpLoss(p: Params, x: NDArray, y: NDArray): NDArray {
  const h = nn.relu(np.add(np.matmul(x, p.w1), p.b1));
  const logits = np.add(np.matmul(h, p.w2), p.b2);
  return np.negative(np.mean(np.sum(np.multiply(nn.logSoftmax(logits), y), 1)));
}

function chainWith(iters: number, c: number = SIZES.chainConst): (x: NDArray) => NDArray {
  return (x) => {
    let y = x;
    for (let i = 0; i < iters; i++) y = np.tanh(np.add(np.multiply(np.sin(y), 0.5), c));
    return y;
  };
}

/** Per-example squared error of a linear model. */
const linearLoss = (w: NDArray, x: NDArray, y: NDArray) => np.square(np.subtract(np.dot(x, w), y));

/** Rosenbrock: sum(100 (x[1:] - x[:-1]^2)^2 + (1 - x[:-1])^2), with slices as the peers write it. */
function rosenbrock(x: NDArray): NDArray {
  const n = x.shape[0]!;
  const x0 = lax.slice(x, [0], [n - 1]),
    x1 = lax.slice(x, [1], [n]);
  return np.sum(np.add(np.multiply(np.square(np.subtract(x1, np.square(x0))), 100), np.square(np.subtract(1, x0))));
}

const expSinSum = (x: NDArray) => np.sum(np.exp(np.add(np.multiply(np.sin(x), 2), 1)));

/** The RNN's last hidden state: one scan over the rows of xs. */
const rnnLast = (w: NDArray, u: NDArray, b: NDArray, xs: NDArray) =>
  lax.scan((h: NDArray, x: NDArray) => [np.tanh(np.add(np.add(np.matmul(w, h), np.matmul(u, x)), b)), null], np.zeros([SIZES.rnn.hidden]), xs)[0];
const rnnLoss = (w: NDArray, u: NDArray, b: NDArray, xs: NDArray) => np.sum(np.square(rnnLast(w, u, b, xs)));

export const fluxion: Impl = {
  name: "fluxion",
  async activate() {},

  matmul(n: number, mode: MatmulMode): Case {
    const d = data().matmul(n);
    const a = arr(d.a, [n, n]),
      b = arr(d.b, [n, n]);
    const f = mode === "jit" ? jit((p: NDArray, q: NDArray) => np.matmul(p, q)) : np.matmul;
    return { run: () => f(a, b).dataSync() as Float32Array };
  },

  mlp(mode: MlpMode): Case {
    const d = data().mlp,
      { batch, input, hidden, classes } = SIZES.mlp;
    const p: Params = { w1: arr(d.w1, [input, hidden]), b1: arr(d.b1, [hidden]), w2: arr(d.w2, [hidden, classes]), b2: arr(d.b2, [classes]) };
    const x = arr(d.x, [batch, input]),
      y = arr(d.y, [batch, classes]);
    const f = {
      forward: mlpLoss,
      valueAndGrad: valueAndGrad(mlpLoss),
      jitForward: jit(mlpLoss),
      jitValueAndGrad: jit(valueAndGrad(mlpLoss)),
    }[mode] as (p: Params, x: NDArray, y: NDArray) => unknown;
    return { run: () => readAll(f(p, x, y)) };
  },

  chain(mode: ChainMode, iters: number): Case {
    const x = np.array(SIZES.chainStart),
      chain = chainWith(iters);
    const f = { forward: chain, grad: grad(chain), jit: jit(chain) }[mode];
    return { run: () => f(x).item() };
  },

  jitCall(leaves: number): Case {
    const p = Object.fromEntries(Array.from({ length: leaves }, (_, i) => [`w${i}`, arr(data().expSin.subarray(4 * i, 4 * i + 4), [4])]));
    const f = jit((q: Record<string, NDArray>) => q.w0!.mul(2));
    return {
      run: () => {
        let out!: Float32Array;
        for (let i = 0; i < SIZES.jitCalls; i++) out = f(p).dataSync() as Float32Array;
        return out;
      },
    };
  },

  chainCompile(iters: number): Case {
    const x = np.array(SIZES.chainStart);
    let k = 0;
    // A new constant each run: a fresh program that no cache can have seen.
    return { run: () => jit(chainWith(iters, SIZES.chainConst + ++k * 1e-3))(x).item() };
  },

  perExampleGrads(): Case {
    const d = data().perExample,
      { dim, batch } = SIZES.perExample;
    const w = arr(d.w, [dim]),
      xs = arr(d.xs, [batch, dim]),
      ys = arr(d.ys, [batch]);
    const f = jit(vmap(grad(linearLoss), { inAxes: [null, 0, 0] }));
    return { run: () => f(w, xs, ys).dataSync() as Float32Array };
  },

  hvp(): Case {
    const d = data().rosenbrock,
      n = SIZES.rosenbrock;
    const x = arr(d.x, [n]),
      v = arr(d.v, [n]);
    const hvp = jit((x: NDArray, v: NDArray) => jvp(grad(rosenbrock), [x], [v])[1] as NDArray);
    return { run: () => hvp(x, v).dataSync() as Float32Array };
  },

  expSin(mode: ExpSinMode): Case {
    const x = arr(data().expSin, [SIZES.expSin]);
    if (mode === "forward") {
      const f = jit(expSinSum);
      return { run: () => f(x).item() };
    }
    const g = jit(grad(expSinSum));
    return { run: () => g(x).dataSync() as Float32Array };
  },

  convGrad(): Case {
    const { batch, channels, size, filters, k } = SIZES.conv;
    const x = arr(data().conv.x, [batch, channels, size, size]),
      w = arr(data().conv.w, [filters, channels, k, k]);
    const loss = (a: NDArray, b: NDArray) => np.sum(np.square(lax.convGeneralDilated(a, b, [1, 1], "SAME")));
    const g = jit(grad(loss, { argnums: [0, 1] }));
    return { run: () => (g(x, w) as NDArray[]).map((a) => a.dataSync() as Float32Array) };
  },

  cholesky(): Case {
    const n = SIZES.linalg,
      a = arr(data().linalg().a, [n, n]);
    return { run: () => np.linalg.cholesky(a).dataSync() as Float32Array };
  },

  solve(): Case {
    const n = SIZES.linalg,
      d = data().linalg();
    const a = arr(d.a, [n, n]),
      b = arr(d.b, [n]);
    return { run: () => np.linalg.solve(a, b).dataSync() as Float32Array };
  },

  eigh(): Case {
    const n = SIZES.decomposition,
      a = arr(data().decomposition.sym, [n, n]);
    return { run: () => np.linalg.eigh(a).map((x) => x.dataSync() as Float32Array) };
  },

  svd(): Case {
    const n = SIZES.decomposition,
      a = arr(data().decomposition.a, [n, n]);
    return { run: () => np.linalg.svd(a, { fullMatrices: false }).map((x) => x!.dataSync() as Float32Array) };
  },

  rnn(mode: RnnMode): Case {
    const { hidden, input, steps } = SIZES.rnn,
      d = data().rnn;
    const w = arr(d.w, [hidden, hidden]),
      u = arr(d.u, [hidden, input]),
      b = arr(d.b, [hidden]),
      xs = arr(d.xs, [steps, input]);
    const f = mode === "forward" ? jit(rnnLast) : jit(grad(rnnLoss, { argnums: [0, 1, 2] }));
    return { run: () => readAll(f(w, u, b, xs)) };
  },

  fori(): Case {
    const f = jit((c: NDArray) => lax.fori(0, SIZES.foriSteps, (_i, y: NDArray) => y.mul(0.999).add(0.001), c));
    const c = np.array(0.5);
    return { run: () => f(c).item() };
  },

  library(fn: LibraryFn): Case {
    const { normal, softmax, sort } = SIZES.library;
    if (fn === "normal") {
      const key = random.key(0);
      return { run: () => random.normal(key, [normal]).dataSync() as Float32Array };
    }
    if (fn === "softmax" || fn === "relu" || fn === "biasAdd") {
      const x = arr(data().library.softmax, [...softmax]);
      if (fn === "relu") return { run: () => nn.relu(x).dataSync() as Float32Array };
      if (fn === "biasAdd") {
        const b = arr(data().library.bias, [softmax[1]]);
        return { run: () => np.add(x, b).dataSync() as Float32Array };
      }
      return { run: () => nn.softmax(x).dataSync() as Float32Array };
    }
    const x = arr(data().library.sort, [sort]);
    return { run: () => np.sort(x).dataSync() as Float32Array };
  },
};
