/**
 * What the benchmark measures, independent of any library: workload sizes, the deterministic input
 * data every implementation starts from (plain typed arrays, so all libraries see the same numbers),
 * and the `Impl` interface that the fluxion workloads module and each peer adapter fill in.
 *
 * A prepared workload is a `Case`: `run()` does one unit of work *and reads every result back to
 * JS* (so lazy libraries are timed honestly) and returns what it read; the runner times it and
 * compares a checksum of the last read-back across implementations.
 */

/** Sizes shared by every implementation. */
export const SIZES = {
  /** W1: square matmul sizes (the small one is the legacy row). */
  matmul: 1024,
  matmulSmall: 256,
  /** W2: MLP 784-256-10 with ReLU, softmax cross-entropy over one-hot labels. */
  mlp: { batch: 128, input: 784, hidden: 256, classes: 10 },
  /**
   * W3: `chainIters` times `y = tanh(sin(y) * 0.5 + c)`, 4 ops each, starting from `chainStart`;
   * `chainItersSmall` is a shorter chain that jax-js's jit can still compile.
   */
  chainIters: 250,
  chainItersSmall: 100,
  chainStart: 0.3,
  chainConst: 0.25,
  /**
   * Cached jitted calls per timed run of the call-overhead rows: a single microsecond call timed
   * alone measures the engine's warm-up (V8 optimises the call path after thousands of calls, not
   * the 200 a row warms up with) and the timer, not the steady cost a training loop pays.
   */
  jitCalls: 1000,
  /** W4: per-example gradients of a squared-error linear model. */
  perExample: { dim: 100, batch: 64 },
  /** W5: Hessian-vector product of the n-dimensional Rosenbrock function. */
  rosenbrock: 1000,
  /** W6: `sum(exp(sin(x) * 2 + 1))` over this many elements. */
  expSin: 1_000_000,
  /** W7: a 3x3 convolution, NCHW input [batch, channels, size, size], `filters` kernels, SAME padding. */
  conv: { batch: 32, channels: 8, size: 28, filters: 16, k: 3 },
  /** W8: an n×n symmetric positive-definite matrix: its Cholesky factor, and a solve with one right-hand side. */
  linalg: 512,
  /** W9: the n×n symmetric matrix for eigh and the general matrix for the SVD. */
  decomposition: 256,
  /** W10: an RNN h ← tanh(W·h + U·x_t + b) from h = 0 over `steps` inputs x_t (a scan). */
  rnn: { hidden: 64, input: 32, steps: 1000 },
  /** W10: a loop of this many scalar steps c ← c·0.999 + 0.001 from c = 0.5 (a fori loop). */
  foriSteps: 1000,
  /** Library functions called eagerly: normal samples drawn, a softmax's rows, values sorted. */
  library: { normal: 1_000_000, softmax: [1024, 1024], sort: 100_000 },
} as const;

/** Data read back from a run: typed arrays, numbers, or lists of them. */
export type Readback = ArrayLike<number> | number | readonly Readback[];

/** One prepared workload. `run` must compute and read back everything; `dispose` frees inputs. */
export interface Case {
  run: () => Readback | Promise<Readback>;
  dispose?: () => void;
  /** Short remark shown next to the number (e.g. "eager" where a peer has no jit). */
  tag?: string;
}

/** A workload an implementation cannot express, with a short reason for the table. */
export class NotAvailable {
  constructor(readonly reason: string) {}
}

export type Prepared = Case | NotAvailable;

/** A row that reports a number of its own (a ratio, a heap size) instead of its run's time. */
export type MeasuredCase = Case & { measured: () => number };

/**
 * Two workloads timed in alternation, one call of each per run, so a host whose speed drifts
 * between rows moves both alike: `measured()` is the median time of `a` over the median time of
 * `b` divided by `per` (b's calls per a's). `run` reads back a's result.
 */
export function alternated(a: () => Readback, b: () => unknown, per = 1): MeasuredCase {
  const ta: number[] = [],
    tb: number[] = [];
  const median = (xs: number[]) => [...xs].sort((p, q) => p - q)[xs.length >> 1]!;
  return {
    run: () => {
      let t = performance.now();
      const out = a();
      ta.push(performance.now() - t);
      t = performance.now();
      void b();
      tb.push(performance.now() - t);
      return out;
    },
    measured: () => median(ta) / (median(tb) / per),
  };
}

export type MatmulMode = "eager" | "jit";
export type MlpMode = "forward" | "valueAndGrad" | "jitForward" | "jitValueAndGrad";
export type ChainMode = "forward" | "grad" | "jit";
export type ExpSinMode = "forward" | "grad";
export type RnnMode = "forward" | "grad";
/** The library functions timed eagerly (see `Impl.library`). */
export type LibraryFn = "normal" | "softmax" | "sort" | "relu" | "biasAdd";

/** The workloads, as every implementation (fluxion and each peer) provides them. */
export interface Impl {
  /** Column title. */
  readonly name: string;
  /** Selects this implementation's backend; called before each workload is prepared. */
  activate(): Promise<void>;
  matmul(n: number, mode: MatmulMode): Prepared;
  mlp(mode: MlpMode): Prepared;
  /** W3 and the legacy eager rows: forward, grad, or a cached call of the jitted chain. */
  chain(mode: ChainMode, iters: number): Prepared;
  /** `SIZES.jitCalls` cached calls of `jit((p) => p.w0 * 2)` on a pytree of `leaves` [4] float32 arrays: the call overhead. */
  jitCall(leaves: number): Prepared;
  /** W3 compile: every run must trace and compile a fresh program (first call of a new jit). */
  chainCompile(iters: number): Prepared;
  /** W4: `jit(vmap(grad(loss)))` over the batch. */
  perExampleGrads(): Prepared;
  /** W5: `jit((x, v) => jvp(grad(rosenbrock), [x], [v])[1])`. */
  hvp(): Prepared;
  /** W6: jitted forward or gradient of `sum(exp(sin(x) * 2 + 1))`. */
  expSin(mode: ExpSinMode): Prepared;
  /** W7: jitted gradient of `sum(conv(x, w)²)` with respect to x and w (NCHW / OIHW, SAME). */
  convGrad(): Prepared;
  /** W8: the lower Cholesky factor of the SPD matrix (eager). */
  cholesky(): Prepared;
  /** W8: x with a·x = b for the SPD matrix a and the vector b, by the library's general solve (eager). */
  solve(): Prepared;
  /** W9: eigenvalues and eigenvectors of the symmetric matrix (eager). */
  eigh(): Prepared;
  /** W9: the reduced SVD (u, s, vh) of the general matrix (eager). */
  svd(): Prepared;
  /** W10: the RNN's last hidden state (jitted scan), or the gradient of sum(h²) of it with respect to W, U and b. */
  rnn(mode: RnnMode): Prepared;
  /** W10: the jitted fori loop of `SIZES.foriSteps` scalar steps. */
  fori(): Prepared;
  /**
   * A library function called eagerly on `SIZES.library`'s sizes: float32 standard normal samples
   * from a fixed key (or seed), a softmax over the last axis of `data().library.softmax`, a sort
   * of `data().library.sort` (ascending; a descending top-k where that is the library's sort), relu
   * of the softmax logits, or the logits plus a bias along their last axis (`data().library.bias`,
   * broadcast over the rows).
   */
  library(fn: LibraryFn): Prepared;
}

/** Deterministic PRNG (mulberry32) so every run and every library sees the same inputs. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** `count` standard normal samples (Box-Muller), scaled and shifted. */
export function normal(count: number, seed: number, scale = 1, shift = 0): Float32Array {
  const next = rng(seed),
    out = new Float32Array(count);
  for (let i = 0; i < count; i += 2) {
    const r = Math.sqrt(-2 * Math.log(1 - next())),
      a = 2 * Math.PI * next();
    out[i] = shift + scale * r * Math.cos(a);
    if (i + 1 < count) out[i + 1] = shift + scale * r * Math.sin(a);
  }
  return out;
}

/** `count` uniform samples in [0, 1). */
export function uniform(count: number, seed: number): Float32Array {
  const next = rng(seed),
    out = new Float32Array(count);
  for (let i = 0; i < count; i++) out[i] = next();
  return out;
}

export interface MlpData {
  x: Float32Array; // batch x input, "pixels" in [0, 1)
  y: Float32Array; // batch x classes, one-hot labels
  w1: Float32Array; // input x hidden
  b1: Float32Array; // hidden
  w2: Float32Array; // hidden x classes
  b2: Float32Array; // classes
}

export interface Data {
  matmul: (n: number) => { a: Float32Array; b: Float32Array };
  mlp: MlpData;
  perExample: { w: Float32Array; xs: Float32Array; ys: Float32Array };
  rosenbrock: { x: Float32Array; v: Float32Array };
  expSin: Float32Array;
  conv: { x: Float32Array; w: Float32Array };
  /** W8: a = g·gᵀ/n + I (n×n, g standard normal; eigenvalues in [1, ~5]) and b. */
  linalg: () => { a: Float32Array; b: Float32Array };
  /** W9: sym = (g + gᵀ)/2 and a = h (n×n, g and h standard normal). */
  decomposition: { sym: Float32Array; a: Float32Array };
  /** W10: W (hidden×hidden), U (hidden×input), b (hidden) and xs (steps×input), row-major. */
  rnn: { w: Float32Array; u: Float32Array; b: Float32Array; xs: Float32Array };
  /** Inputs of the library-function rows: softmax logits (relu's and biasAdd's input too), values to sort, a bias row. */
  library: { softmax: Float32Array; sort: Float32Array; bias: Float32Array };
}

let cached: Data | undefined;

/** The shared inputs, generated once per process. */
export function data(): Data {
  if (cached) return cached;
  const { batch, input, hidden, classes } = SIZES.mlp;
  const y = new Float32Array(batch * classes);
  for (let i = 0; i < batch; i++) y[i * classes + ((i * 7 + 3) % classes)] = 1;
  const { dim, batch: peb } = SIZES.perExample;
  const matmuls = new Map<number, { a: Float32Array; b: Float32Array }>();
  let spd: { a: Float32Array; b: Float32Array } | undefined;
  cached = {
    matmul: (n) => {
      let m = matmuls.get(n);
      if (!m) matmuls.set(n, (m = { a: normal(n * n, 11 + n), b: normal(n * n, 13 + n) }));
      return m;
    },
    mlp: {
      x: uniform(batch * input, 1),
      y,
      w1: normal(input * hidden, 2, Math.sqrt(2 / input)),
      b1: normal(hidden, 3, 0.01),
      w2: normal(hidden * classes, 4, Math.sqrt(2 / hidden)),
      b2: normal(classes, 5, 0.01),
    },
    perExample: { w: normal(dim, 6, 0.1), xs: normal(peb * dim, 7), ys: normal(peb, 8) },
    rosenbrock: { x: normal(SIZES.rosenbrock, 9, 0.5, 1), v: normal(SIZES.rosenbrock, 10) },
    expSin: normal(SIZES.expSin, 12),
    conv: {
      x: normal(SIZES.conv.batch * SIZES.conv.channels * SIZES.conv.size ** 2, 14),
      w: normal(SIZES.conv.filters * SIZES.conv.channels * SIZES.conv.k ** 2, 15, Math.sqrt(2 / (SIZES.conv.channels * SIZES.conv.k ** 2))),
    },
    // Built on first use (an n³/2 product in plain JavaScript), symmetric to the last bit.
    linalg: () => (spd ??= spdMatrix(SIZES.linalg)),
    decomposition: { sym: symmetric(SIZES.decomposition, 18), a: normal(SIZES.decomposition ** 2, 19) },
    rnn: {
      w: normal(SIZES.rnn.hidden ** 2, 22, 0.9 / Math.sqrt(SIZES.rnn.hidden)),
      u: normal(SIZES.rnn.hidden * SIZES.rnn.input, 23, 1 / Math.sqrt(SIZES.rnn.input)),
      b: normal(SIZES.rnn.hidden, 24, 0.1),
      xs: normal(SIZES.rnn.steps * SIZES.rnn.input, 25),
    },
    library: {
      softmax: normal(SIZES.library.softmax[0] * SIZES.library.softmax[1], 26, 3),
      sort: normal(SIZES.library.sort, 27),
      bias: normal(SIZES.library.softmax[1], 28),
    },
  };
  return cached;
}

/** g·gᵀ/n + I for a standard normal n×n g (accumulated in float64), and a right-hand side. */
function spdMatrix(n: number): { a: Float32Array; b: Float32Array } {
  const g = normal(n * n, 16),
    a = new Float32Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      let s = 0;
      for (let k = 0; k < n; k++) s += g[i * n + k]! * g[j * n + k]!;
      a[i * n + j] = a[j * n + i] = s / n + (i === j ? 1 : 0);
    }
  }
  return { a, b: normal(n, 17) };
}

/** (g + gᵀ)/2 for a standard normal n×n g. */
function symmetric(n: number, seed: number): Float32Array {
  const g = normal(n * n, seed),
    s = new Float32Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) s[i * n + j] = (g[i * n + j]! + g[j * n + i]!) / 2;
  return s;
}

/** Sum of absolute values of everything read back (a cheap cross-implementation checksum). */
export function checksum(r: Readback): number {
  if (typeof r === "number") return Math.abs(r);
  let s = 0;
  if (Array.isArray(r)) for (const part of r as readonly Readback[]) s += checksum(part);
  else for (let i = 0; i < (r as ArrayLike<number>).length; i++) s += Math.abs((r as ArrayLike<number>)[i]!);
  return s;
}
