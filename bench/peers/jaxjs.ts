/**
 * Peer adapter for jax-js (`@jax-js/jax`) on its Wasm backend (`init("wasm")`, then
 * `defaultDevice("wasm")`). In Node there is no Web Worker, so its Wasm backend runs on one thread.
 *
 * jax-js arrays are reference counted and every function consumes its arguments: inputs that live
 * across runs are passed as `x.ref`, values used twice inside a function take `.ref` on first use,
 * and `dataSync()` / `item()` read back *and* dispose the result.
 */
import * as jax from "@jax-js/jax";
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

const { numpy: np, nn, tree, grad, jit, jvp, lax, valueAndGrad, vmap } = jax;
type Arr = jax.Array;

const arr = (values: Float32Array, shape: number[]): Arr => np.array(values).reshape(shape);

/** Reads back (and so frees) every array leaf of a result tree. */
function readAll(out: unknown): Readback {
  return tree.leaves(out as jax.JsTree<Arr>).map((leaf) => (leaf as Arr).dataSync() as Float32Array);
}

type Params = { w1: Arr; b1: Arr; w2: Arr; b2: Arr };

function mlpLoss(p: Params, x: Arr, y: Arr): Arr {
  const h = nn.relu(np.matmul(x, p.w1).add(p.b1));
  const logits = np.matmul(h, p.w2).add(p.b2);
  return np.negative(np.mean(np.sum(nn.logSoftmax(logits).mul(y), 1)));
}

function chainWith(iters: number, c: number = SIZES.chainConst): (x: Arr) => Arr {
  return (x) => {
    let y = x;
    for (let i = 0; i < iters; i++) y = np.tanh(np.sin(y).mul(0.5).add(c));
    return y;
  };
}

/**
 * jax-js fuses the whole scalar chain into one expression and simplifies it recursively; past a
 * few hundred ops that overflows the JS stack. Tries one call and reports that as n/a. (After
 * such a failure the scalar input's reference count is unknown, so it is left allocated.)
 */
function unlessStackOverflow(run: () => Readback): Prepared | undefined {
  try {
    run();
    return undefined;
  } catch (e) {
    if (!(e instanceof RangeError)) throw e;
    return new NotAvailable("jit stack overflow");
  }
}

const linearLoss = (w: Arr, x: Arr, y: Arr): Arr => np.square(np.dot(x, w).sub(y));

function rosenbrock(x: Arr): Arr {
  const x0 = x.ref.slice([0, -1]),
    x1 = x.slice([1]);
  const curve = np.square(x1.sub(np.square(x0.ref))).mul(100);
  return np.sum(curve.add(np.square(np.subtract(1, x0))));
}

const expSinSum = (x: Arr): Arr => np.sum(np.exp(np.sin(x).mul(2).add(1)));

/** One RNN step, h ← tanh(W·h + U·x + b). jax-js has no scan, so the loop is a JavaScript loop. */
const rnnStep = (w: Arr, u: Arr, b: Arr, h: Arr, x: Arr): Arr => np.tanh(np.matmul(w, h).add(np.matmul(u, x)).add(b));

/** A case whose persistent inputs are disposed afterwards (along with any jitted function). */
function owned(run: () => Readback, inputs: unknown, jitted?: { dispose(): void }): Case {
  return {
    run,
    dispose: () => {
      tree.dispose(inputs as jax.JsTree<Arr>);
      jitted?.dispose();
    },
  };
}

export const jaxjs: Impl = {
  name: "jax-js wasm",
  async activate() {
    const available = await jax.init("wasm");
    if (!available.includes("wasm")) throw new Error(`jax-js: wasm backend unavailable (got ${available.join(", ")})`);
    jax.defaultDevice("wasm");
  },

  matmul(n: number, mode: MatmulMode): Case {
    const d = data().matmul(n);
    const a = arr(d.a, [n, n]),
      b = arr(d.b, [n, n]);
    if (mode === "eager") return owned(() => np.matmul(a.ref, b.ref).dataSync() as Float32Array, [a, b]);
    const f = jit((p: Arr, q: Arr) => np.matmul(p, q));
    return owned(() => f(a.ref, b.ref).dataSync() as Float32Array, [a, b], f);
  },

  mlp(mode: MlpMode): Case {
    const d = data().mlp,
      { batch, input, hidden, classes } = SIZES.mlp;
    const p: Params = { w1: arr(d.w1, [input, hidden]), b1: arr(d.b1, [hidden]), w2: arr(d.w2, [hidden, classes]), b2: arr(d.b2, [classes]) };
    const x = arr(d.x, [batch, input]),
      y = arr(d.y, [batch, classes]);
    const jitted = mode === "jitForward" ? jit(mlpLoss) : mode === "jitValueAndGrad" ? jit(valueAndGrad(mlpLoss)) : undefined;
    const f = (jitted ?? (mode === "forward" ? mlpLoss : valueAndGrad(mlpLoss))) as (p: Params, x: Arr, y: Arr) => unknown;
    return owned(() => readAll(f(tree.ref(p), x.ref, y.ref)), [p, x, y], jitted);
  },

  chain(mode: ChainMode, iters: number): Prepared {
    const x = np.array(SIZES.chainStart),
      chain = chainWith(iters);
    if (mode === "jit") {
      const f = jit(chain);
      const run = () => f(x.ref).item();
      return unlessStackOverflow(run) ?? owned(run, x, f);
    }
    const f = mode === "forward" ? chain : grad(chain);
    return owned(() => f(x.ref).item(), x);
  },

  jitCall(leaves: number): Prepared {
    const p = Object.fromEntries(Array.from({ length: leaves }, (_, i) => [`w${i}`, arr(data().expSin.subarray(4 * i, 4 * i + 4), [4])]));
    const f = jit((q: Record<string, Arr>) => q.w0!.mul(2));
    return owned(
      () => {
        let out!: Float32Array;
        for (let i = 0; i < SIZES.jitCalls; i++) out = f(tree.ref(p)).dataSync() as Float32Array;
        return out;
      },
      p,
      f,
    );
  },

  chainCompile(iters: number): Prepared {
    const x = np.array(SIZES.chainStart);
    const compileAndRun = (c: number) => {
      const f = jit(chainWith(iters, c));
      try {
        return f(x.ref).item();
      } finally {
        f.dispose();
      }
    };
    const failed = unlessStackOverflow(() => compileAndRun(SIZES.chainConst));
    if (failed) return failed;
    let k = 0;
    // A new constant each run, so jax-js's kernel cache cannot serve an earlier compilation.
    return owned(() => compileAndRun(SIZES.chainConst + ++k * 1e-3), x);
  },

  perExampleGrads(): Case {
    const d = data().perExample,
      { dim, batch } = SIZES.perExample;
    const w = arr(d.w, [dim]),
      xs = arr(d.xs, [batch, dim]),
      ys = arr(d.ys, [batch]);
    const f = jit(vmap(grad(linearLoss), [null, 0, 0]));
    return owned(() => f(w.ref, xs.ref, ys.ref).dataSync() as Float32Array, [w, xs, ys], f);
  },

  hvp(): Case {
    const d = data().rosenbrock,
      n = SIZES.rosenbrock;
    const x = arr(d.x, [n]),
      v = arr(d.v, [n]);
    const f = jit((x: Arr, v: Arr) => {
      const [g, hv] = jvp(grad(rosenbrock), [x], [v]);
      g.dispose();
      return hv;
    });
    return owned(() => f(x.ref, v.ref).dataSync() as Float32Array, [x, v], f);
  },

  expSin(mode: ExpSinMode): Case {
    const x = arr(data().expSin, [SIZES.expSin]);
    if (mode === "forward") {
      const f = jit(expSinSum);
      return owned(() => f(x.ref).item(), x, f);
    }
    const g = jit(grad(expSinSum));
    return owned(() => g(x.ref).dataSync() as Float32Array, x, g);
  },

  convGrad(): Case {
    const { batch, channels, size, filters, k } = SIZES.conv;
    const x = arr(data().conv.x, [batch, channels, size, size]),
      w = arr(data().conv.w, [filters, channels, k, k]);
    const loss = (a: Arr, b: Arr): Arr => np.sum(np.square(lax.convGeneralDilated(a, b, [1, 1], "SAME")));
    const g = jit(grad(loss, { argnums: [0, 1] }) as (a: Arr, b: Arr) => Arr[]);
    return owned(() => g(x.ref, w.ref).map((a) => a.dataSync() as Float32Array), [x, w], g);
  },

  cholesky(): Case {
    const n = SIZES.linalg,
      a = arr(data().linalg().a, [n, n]);
    return owned(() => np.linalg.cholesky(a.ref).dataSync() as Float32Array, a);
  },

  solve(): Case {
    const n = SIZES.linalg,
      d = data().linalg();
    const a = arr(d.a, [n, n]),
      b = arr(d.b, [n]);
    return owned(() => np.linalg.solve(a.ref, b.ref).dataSync() as Float32Array, [a, b]);
  },

  eigh(): Case {
    const n = SIZES.decomposition,
      a = arr(data().decomposition.sym, [n, n]);
    return owned(() => np.linalg.eigh(a.ref).map((x) => x.dataSync() as Float32Array), a);
  },

  svd(): Case {
    const n = SIZES.decomposition,
      a = arr(data().decomposition.a, [n, n]);
    return owned(() => np.linalg.svd(a.ref, { fullMatrices: false }).map((x) => x.dataSync() as Float32Array), a);
  },

  rnn(mode: RnnMode): Prepared {
    const { hidden, input, steps } = SIZES.rnn,
      d = data().rnn;
    const w = arr(d.w, [hidden, hidden]),
      u = arr(d.u, [hidden, input]),
      b = arr(d.b, [hidden]);
    const rows = Array.from({ length: steps }, (_, t) => np.array(d.xs.subarray(t * input, (t + 1) * input)));
    if (mode === "forward") {
      const step = jit(rnnStep);
      const run = () => {
        let h = np.zeros([hidden]);
        for (const x of rows) h = step(w.ref, u.ref, b.ref, h, x.ref);
        return h.dataSync() as Float32Array;
      };
      return { ...owned(run, [w, u, b, rows], step), tag: "JS loop of jit steps" };
    }
    // The loop unrolled inside grad (eager), as jax-js has no scan to differentiate.
    const loss = (w: Arr, u: Arr, b: Arr): Arr => {
      let h = np.zeros([hidden]);
      for (const x of rows) h = rnnStep(w.ref, u.ref, b.ref, h, x.ref);
      w.dispose();
      u.dispose();
      b.dispose();
      return np.sum(np.square(h));
    };
    const g = grad(loss, { argnums: [0, 1, 2] }) as unknown as (w: Arr, u: Arr, b: Arr) => Arr[];
    const run = () => g(w.ref, u.ref, b.ref).map((a) => a.dataSync() as Float32Array);
    if (unlessStackOverflow(run)) return new NotAvailable("no scan; grad of the JS loop overflows the stack");
    return { ...owned(run, [w, u, b, rows]), tag: "JS loop, eager grad" };
  },

  fori(): Prepared {
    const step = jit((c: Arr) => c.mul(0.999).add(0.001));
    const c = np.array(0.5);
    const run = () => {
      let y = c.ref;
      for (let i = 0; i < SIZES.foriSteps; i++) y = step(y);
      return y.item();
    };
    return { ...owned(run, c, step), tag: "JS loop of jit steps" };
  },

  library(fn: LibraryFn): Case {
    const { normal, softmax, sort } = SIZES.library;
    if (fn === "normal") {
      const key = jax.random.key(0);
      return owned(() => jax.random.normal(key.ref, [normal]).dataSync() as Float32Array, key);
    }
    if (fn === "softmax" || fn === "relu" || fn === "biasAdd") {
      const x = arr(data().library.softmax, [...softmax]);
      if (fn === "relu") return owned(() => nn.relu(x.ref).dataSync() as Float32Array, x);
      if (fn === "biasAdd") {
        const b = arr(data().library.bias, [softmax[1]]);
        return owned(() => np.add(x.ref, b.ref).dataSync() as Float32Array, [x, b]);
      }
      return owned(() => nn.softmax(x.ref).dataSync() as Float32Array, x);
    }
    const x = arr(data().library.sort, [sort]);
    return owned(() => np.sort(x.ref).dataSync() as Float32Array, x);
  },
};
