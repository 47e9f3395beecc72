/**
 * The op menu of random programs, linear algebra: ops on the last axis of an operand [..., n]
 * (n <= 4) that build a matrix from it and pass it through a decomposition. The matrices keep the
 * decompositions smooth for any input: a dominant diagonal 2 + tanh(x) (no pivot changes, positive
 * definite when symmetric) or 3i + 2 + tanh(x_i) (eigenvalues and singular values far apart and
 * away from 0), plus a small constant off-diagonal part drawn from `choice`.
 */
import type { Builder } from "./builder.js";
import { rng } from "./numeric.js";
import { MAX_SIZE, type OpDef, type Shape, defineOp, sizeOf } from "./ops_elementwise.js";

interface MatP {
  n: number;
  /** The constant off-diagonal part (row-major n×n), symmetric when `sym`. */
  c: number[];
  eye: number[];
  ramp: number[];
}

/** Params for an operand whose last axis n is 1..4 and whose n×n matrices fit; null otherwise. */
function planMat(s: Shape, choice: number, sym: boolean, out: (s: Shape) => number[]): { params: MatP; shape: number[] } | null {
  const n = s[s.length - 1];
  if (n === undefined || n < 1 || n > 4 || sizeOf(s) * n > MAX_SIZE) return null;
  const next = rng(choice * 31 + 7);
  const c = new Array<number>(n * n).fill(0);
  for (let i = 0; i < n; i++)
    for (let j = 0; j < n; j++) {
      if (i === j || (sym && j < i)) continue;
      c[i * n + j] = Math.round((next() - 0.5) * 8) / (8 * n);
      if (sym) c[j * n + i] = c[i * n + j]!;
    }
  const eye = Array.from({ length: n * n }, (_, k) => (k % (n + 1) === 0 ? 1 : 0));
  return { params: { n, c, eye, ramp: Array.from({ length: n }, (_, i) => 3 * i + 2) }, shape: out(s) };
}

/** diag(shift + tanh(x)) + C as a stack [..., n, n]. */
function matrix<T>(b: Builder<T>, x: T, p: MatP, shift: "two" | "ramp"): T {
  const d = b.call("np.add", b.call("np.tanh", x), shift === "two" ? 2 : b.constant(p.ramp, [p.n]));
  const diag = b.call("np.multiply", b.call("np.expandDims", d, -1), b.constant(p.eye, [p.n, p.n]));
  return b.call("np.add", diag, b.constant(p.c, [p.n, p.n]));
}

/** m · x over the last axis: [..., n, n] and [..., n] -> [..., n]. */
const apply = <T>(b: Builder<T>, m: T, x: T): T => b.call("np.squeeze", b.call("np.matmul", m, b.call("np.expandDims", x, -1)), -1);
const same = (s: Shape) => s.slice();

const solve = defineOp<MatP>({
  name: "linalgSolve",
  arity: 1,
  plan: ([s], choice) => planMat(s!, choice, false, same),
  build: (b, [x], p) => b.call("np.squeeze", b.call("np.linalg.solve", matrix(b, x!, p, "two"), b.call("np.expandDims", x!, -1)), -1),
});

const choSolve = defineOp<MatP>({
  name: "choSolve",
  arity: 1,
  plan: ([s], choice) => planMat(s!, choice, true, same),
  build: (b, [x], p) =>
    b.call("np.squeeze", b.call("linalg.choSolve", b.call("linalg.choFactor", matrix(b, x!, p, "two")), b.call("np.expandDims", x!, -1)), -1),
});

const slogdet = defineOp<MatP>({
  name: "slogdet",
  arity: 1,
  plan: ([s], choice) => planMat(s!, choice, false, (t) => t.slice(0, -1)),
  build: (b, [x], p) => b.at(b.call("np.linalg.slogdet", matrix(b, x!, p, "two")), 1),
});

const eigh = defineOp<MatP>({
  name: "eigh",
  arity: 1,
  plan: ([s], choice) => planMat(s!, choice, true, same),
  build: (b, [x], p) => {
    const wv = b.call("np.linalg.eigh", matrix(b, x!, p, "ramp"));
    return b.call("np.add", b.call("np.multiply", b.at(wv, 0), 0.25), apply(b, b.at(wv, 1), x!));
  },
});

const svd = defineOp<MatP>({
  name: "svd",
  arity: 1,
  plan: ([s], choice) => planMat(s!, choice, false, same),
  build: (b, [x], p) => {
    const usv = b.call("np.linalg.svd", matrix(b, x!, p, "ramp"), { fullMatrices: false });
    return b.call("np.add", b.call("np.multiply", b.at(usv, 1), 0.25), apply(b, b.at(usv, 0), apply(b, b.at(usv, 2), x!)));
  },
});

const qr = defineOp<MatP>({
  name: "qr",
  arity: 1,
  plan: ([s], choice) => planMat(s!, choice, false, same),
  build: (b, [x], p) => {
    const qrs = b.call("np.linalg.qr", matrix(b, x!, p, "two"));
    return b.call("np.add", b.call("np.linalg.diagonal", b.at(qrs, 1)), apply(b, b.at(qrs, 0), x!));
  },
});

export const linalgOps: OpDef[] = [solve, choSolve, slogdet, eigh, svd, qr];
