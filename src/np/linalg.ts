/**
 * Contractions: matmul, dot, outer, inner, einsum, and `linalg.norm`. Everything lowers to
 * `dot_general` (plus transposes, reductions and masks), so it differentiates and batches freely.
 * einsum specs are parsed and validated here; nothing from a spec ever reaches generated code.
 */
import { promote } from "../core/dtype.js";
import { ArgumentError, ShapeError, describe, naming } from "../core/errors.js";
import { checkOptionsObject } from "../core/options.js";
import * as lax from "../core/lax.js";
import type { NDArray } from "../core/ndarray.js";
import { broadcastShapes, fmtShape, normAxes, normAxis, range } from "../core/shape.js";
import { type ArrayLike, asArray, keptShape } from "./base.js";
import { abs, multiply, sqrt } from "./math.js";
import { max, min, sum } from "./reductions.js";

/** Operands of a product in one numeric dtype (bool counts as int32). */
function numericPair(fn: string, x: ArrayLike, y: ArrayLike): [NDArray, NDArray] {
  const a = asArray(fn, x, undefined, "x"),
    b = asArray(fn, y, a.dtype, "y");
  let dtype = promote(a.dtype, b.dtype);
  if (dtype === "bool") dtype = "int32";
  return [lax.convert(a, dtype), lax.convert(b, dtype)];
}

/** Matrix product with NumPy's rules: 1-D operands are promoted and the added dim dropped; leading dims broadcast. */
export function matmul(x: ArrayLike, y: ArrayLike): NDArray {
  let [a, b] = numericPair("matmul", x, y);
  if (a.ndim === 0 || b.ndim === 0) throw new ShapeError("np.matmul: operands must not be scalars; use np.multiply");
  const aVec = a.ndim === 1,
    bVec = b.ndim === 1;
  if (aVec) a = lax.reshape(a, [1, a.shape[0]!]);
  if (bVec) b = lax.reshape(b, [b.shape[0]!, 1]);
  const k = a.shape[a.ndim - 1]!;
  if (b.shape[b.ndim - 2] !== k) {
    throw new ShapeError(
      `np.matmul: shapes ${fmtShape(asArray("matmul", x, undefined, "x").shape)} and ${fmtShape(asArray("matmul", y, undefined, "y").shape)} do not align (${k} != ${b.shape[b.ndim - 2]}); the last axis of the first must equal the second-to-last of the second`,
    );
  }
  const batch = broadcastShapes("np.matmul", a.shape.slice(0, -2), b.shape.slice(0, -2));
  a = lax.broadcastTo(a, [...batch, ...a.shape.slice(-2)]);
  b = lax.broadcastTo(b, [...batch, ...b.shape.slice(-2)]);
  const nb = batch.length;
  let out = lax.dotGeneral(a, b, [[nb + 1], [nb]], [range(nb), range(nb)]);
  if (aVec)
    out = lax.reshape(
      out,
      out.shape.filter((_, d) => d !== nb),
    );
  if (bVec) out = lax.reshape(out, out.shape.slice(0, -1));
  return out;
}

/** NumPy's dot: products of scalars, vector inner products, matrix products, and sums over the last axis of x and second-to-last of y. */
export function dot(x: ArrayLike, y: ArrayLike): NDArray {
  const [a, b] = numericPair("dot", x, y);
  if (a.ndim === 0 || b.ndim === 0) return multiply(a, b);
  const ca = a.ndim - 1,
    cb = b.ndim === 1 ? 0 : b.ndim - 2;
  if (a.shape[ca] !== b.shape[cb]) {
    throw new ShapeError(
      `np.dot: shapes ${fmtShape(a.shape)} and ${fmtShape(b.shape)} do not align (axis ${ca} has ${a.shape[ca]}, axis ${cb} has ${b.shape[cb]})`,
    );
  }
  return lax.dotGeneral(a, b, [[ca], [cb]]);
}

/** Sum over the last axes of both. */
export function inner(x: ArrayLike, y: ArrayLike): NDArray {
  const [a, b] = numericPair("inner", x, y);
  if (a.ndim === 0 || b.ndim === 0) return multiply(a, b);
  if (a.shape[a.ndim - 1] !== b.shape[b.ndim - 1])
    throw new ShapeError(`np.inner: last axes of ${fmtShape(a.shape)} and ${fmtShape(b.shape)} differ`);
  return lax.dotGeneral(a, b, [[a.ndim - 1], [b.ndim - 1]]);
}

/** Outer product of the flattened operands. */
export function outer(x: ArrayLike, y: ArrayLike): NDArray {
  const [a, b] = numericPair("outer", x, y);
  return lax.dotGeneral(lax.reshape(a, [a.size, 1]), lax.reshape(b, [1, b.size]), [[1], [0]]);
}

// ---- einsum ----

interface Term {
  labels: string[];
  value: NDArray;
}

/** Parses "ij,jk->ik" (or implicit "ij,jk") into input label lists and output labels. */
function parseSpec(spec: string, n: number): [string[][], string[]] {
  if (typeof spec !== "string" || !/^[a-zA-Z,\s]*(->[a-zA-Z\s]*)?$/.test(spec)) {
    throw new ArgumentError(`np.einsum: spec ${describe(spec)} must use letters, commas and one optional "->" (ellipses are not supported)`);
  }
  const clean = spec.replace(/\s/g, "");
  const [lhs, rhs] = clean.split("->") as [string, string | undefined];
  const inputs = lhs.split(",").map((s) => [...s]);
  if (inputs.length !== n) throw new ArgumentError(`np.einsum: spec ${describe(spec)} names ${inputs.length} operands but ${n} were given`);
  let output: string[];
  if (rhs === undefined) {
    const counts = new Map<string, number>();
    for (const l of inputs.flat()) counts.set(l, (counts.get(l) ?? 0) + 1);
    output = [...counts.keys()].filter((l) => counts.get(l) === 1).sort();
  } else {
    output = [...rhs];
    if (new Set(output).size !== output.length) throw new ArgumentError(`np.einsum: output labels in ${describe(spec)} repeat`);
    for (const l of output)
      if (!inputs.some((t) => t.includes(l))) throw new ArgumentError(`np.einsum: output label "${l}" appears in no input of ${describe(spec)}`);
  }
  return [inputs, output];
}

/** Takes the diagonal over repeated labels within one term, by masking with an identity and summing. */
function diagonal(t: Term): Term {
  for (;;) {
    const l = t.labels.find((x, i) => t.labels.indexOf(x) !== i);
    if (l === undefined) return t;
    const i = t.labels.indexOf(l),
      j = t.labels.indexOf(l, i + 1);
    const n = t.value.shape[i]!;
    if (t.value.shape[j] !== n) throw new ShapeError(`np.einsum: label "${l}" has sizes ${n} and ${t.value.shape[j]} in one operand`);
    const eye = lax.full([n, n], 0, t.value.dtype);
    for (let k = 0; k < n; k++) eye.values[k * n + k] = 1;
    const mask = lax.broadcastInDim(eye, t.value.shape, [i, j]);
    t = { labels: t.labels.filter((_, d) => d !== j), value: lax.reduceSum(lax.mul(t.value, mask), [j]) };
  }
}

/** Sums out labels that appear in this term only and are not wanted later. */
function sumUnique(t: Term, keep: Set<string>): Term {
  const axes = t.labels.map((l, d) => (keep.has(l) ? -1 : d)).filter((d) => d >= 0);
  return { labels: t.labels.filter((l) => keep.has(l)), value: lax.reduceSum(t.value, axes) };
}

/** Contracts two terms over shared labels not needed later; shared labels still needed become batch dims. */
function contract(a: Term, b: Term, keep: Set<string>): Term {
  const shared = a.labels.filter((l) => b.labels.includes(l));
  const batch = shared.filter((l) => keep.has(l)),
    summed = shared.filter((l) => !keep.has(l));
  for (const l of shared) {
    const na = a.value.shape[a.labels.indexOf(l)],
      nb = b.value.shape[b.labels.indexOf(l)];
    if (na !== nb) throw new ShapeError(`np.einsum: label "${l}" has sizes ${na} and ${nb}`);
  }
  const idx = (t: Term, ls: string[]) => ls.map((l) => t.labels.indexOf(l));
  const value = lax.dotGeneral(a.value, b.value, [idx(a, summed), idx(b, summed)], [idx(a, batch), idx(b, batch)]);
  const labels = [...batch, ...a.labels.filter((l) => !shared.includes(l)), ...b.labels.filter((l) => !shared.includes(l))];
  return { labels, value };
}

/** Einstein summation over letters, e.g. `np.einsum("bij,bjk->bik", a, b)`; contracts left to right. */
export function einsum(spec: string, ...operands: ArrayLike[]): NDArray {
  const [inputs, output] = parseSpec(spec, operands.length);
  let dtype = operands.map((o) => asArray("einsum", o, undefined, "operands").dtype).reduce(promote);
  if (dtype === "bool") dtype = "int32";
  const terms: Term[] = operands.map((o, i) => {
    const value = lax.convert(asArray("einsum", o, undefined, "operands"), dtype);
    if (value.ndim !== inputs[i]!.length) {
      throw new ShapeError(
        `np.einsum: operand ${i} has shape ${fmtShape(value.shape)} but its labels "${inputs[i]!.join("")}" name ${inputs[i]!.length} axes`,
      );
    }
    return diagonal({ labels: inputs[i]!, value });
  });
  const needed = (from: number): Set<string> => new Set([...output, ...terms.slice(from).flatMap((t) => t.labels)]);
  let acc = sumUnique(terms[0]!, new Set([...output, ...terms.slice(1).flatMap((t) => t.labels)]));
  for (let i = 1; i < terms.length; i++) {
    const keepAfter = needed(i + 1);
    const next = sumUnique(terms[i]!, new Set([...keepAfter, ...acc.labels]));
    acc = sumUnique(contract(acc, next, keepAfter), keepAfter);
  }
  acc = sumUnique(acc, new Set(output));
  return lax.transpose(
    acc.value,
    output.map((l) => acc.labels.indexOf(l)),
  );
}

// ---- norms ----

export interface NormOptions {
  ord?: number | "fro" | "nuc" | null;
  axis?: number | number[] | null;
  keepdims?: boolean;
}

const MATRIX_ORDS = '"fro", "nuc", 1, -1, 2, -2, Infinity or -Infinity';

/**
 * Vector and matrix norms as NumPy and JAX compute them: with no axis, the 2-norm of the flattened
 * array; along one axis, vector norms (ord = 2, 1, Infinity, -Infinity, 0 or any p); along two
 * axes (a 2-D array, or `axis` a pair [row, column] of any two axes of an N-d array, the others
 * batch), matrix norms: the Frobenius norm ("fro" or default), 1 / -1 (largest / smallest column
 * sum of |a|), Infinity / -Infinity (largest / smallest row sum of |a|), 2 / -2 (largest / smallest
 * singular value) and "nuc" (sum of the singular values). The singular values come from the
 * reduced SVD of the matrices with their axes moved last. A number or string in place of the
 * options is the ord.
 */
export function norm(x: ArrayLike, options: NormOptions | number | "fro" | "nuc" = {}): NDArray {
  return naming("np.linalg.norm", () => normOf(x, options));
}

function normOf(x: ArrayLike, options: NormOptions | number | "fro" | "nuc"): NDArray {
  const opts =
    typeof options === "number" || typeof options === "string"
      ? { ord: options }
      : checkOptionsObject("np.linalg.norm", options, ["ord", "axis", "keepdims"]);
  let a = asArray("linalg.norm", x, undefined, "x");
  if (a.dtype !== "float32" && a.dtype !== "float64") a = lax.convert(a, "float32");
  const ord = opts.ord ?? null;
  const keepdims = opts.keepdims ?? false;
  if (ord !== null && ord !== "fro" && ord !== "nuc" && typeof ord !== "number") {
    throw new ArgumentError(`np.linalg.norm: ord must be a number, "fro", "nuc" or null, got ${describe(ord)}`);
  }
  if ((opts.axis === null || opts.axis === undefined) && ord !== null && a.ndim > 2) {
    throw new ArgumentError(`np.linalg.norm: ord ${describe(ord)} needs a 1-D or 2-D array, or an axis; got shape ${fmtShape(a.shape)}`);
  }
  const given = opts.axis === null || opts.axis === undefined ? range(a.ndim) : typeof opts.axis === "number" ? [opts.axis] : opts.axis;
  const axes = normAxes("np.linalg.norm", given, a.ndim);
  const finish = (v: NDArray) => (keepdims ? lax.reshape(v, keptShape(a.shape, axes)) : v);
  if ((ord === "fro" || ord === "nuc") && axes.length !== 2) {
    throw new ArgumentError(`np.linalg.norm: ord ${describe(ord)} needs two axes, got ${axes.length}`);
  }
  if (ord === null || ord === "fro" || (ord === 2 && axes.length === 1)) return finish(sqrt(sum(lax.mul(a, a), axes)));
  if (axes.length === 1) {
    const p = ord as number;
    if (p === Infinity) return finish(max(abs(a), axes));
    if (p === -Infinity) return finish(min(abs(a), axes));
    if (p === 0) return finish(sum(lax.convert(lax.ne(a, lax.fill(a, 0)), a.dtype), axes));
    if (p === 1) return finish(sum(abs(a), axes));
    const pp = lax.fill(a, p);
    const s = sum(lax.pow(abs(a), pp), axes);
    return finish(lax.pow(s, lax.fill(s, 1 / p)));
  }
  if (axes.length === 2) {
    // The pair in the order given: [row axis, column axis].
    const [r, c] = given.map((d) => normAxis("np.linalg.norm", d, a.ndim)) as [number, number];
    if (ord === 1) return finish(extremeKeep(max, sum(abs(a), { axis: r, keepdims: true }), c, r));
    if (ord === -1) return finish(extremeKeep(min, sum(abs(a), { axis: r, keepdims: true }), c, r));
    if (ord === Infinity) return finish(extremeKeep(max, sum(abs(a), { axis: c, keepdims: true }), r, c));
    if (ord === -Infinity) return finish(extremeKeep(min, sum(abs(a), { axis: c, keepdims: true }), r, c));
    if (ord === 2 || ord === -2 || ord === "nuc") {
      const others = range(a.ndim).filter((d) => d !== r && d !== c);
      const s = lax.svd(lax.transpose(a, [...others, r, c]), false)[1]!;
      const last = [s.ndim - 1];
      return finish(ord === 2 ? lax.reduceMax(s, last) : ord === -2 ? lax.reduceMin(s, last) : lax.reduceSum(s, last));
    }
    throw new ArgumentError(`np.linalg.norm: matrix ord ${describe(ord)} is not supported; use ${MATRIX_ORDS}`);
  }
  throw new ShapeError(`np.linalg.norm: ord ${describe(ord)} needs one or two axes, got ${axes.length}`);
}

/** `reduce` (max or min) over `axis` of an array with a kept size-1 `other` axis, then drops both. */
function extremeKeep(reduce: typeof max, v: NDArray, axis: number, other: number): NDArray {
  const m = reduce(v, { axis, keepdims: true });
  return lax.reshape(
    m,
    m.shape.filter((_, d) => d !== axis && d !== other),
  );
}
