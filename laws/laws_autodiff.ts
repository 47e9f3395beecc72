/**
 * The differentiation laws: jvp against finite differences, jvp linearity, the transpose identity
 * between jvp and vjp, Hessian symmetry, `jvp(grad f)` as a Hessian-vector product, and nesting
 * without perturbation confusion; plus `equivalentUnder`, the law family for transforms that must
 * not change values (`primalsAgree` today; jit and device laws slot in the same way).
 * Every law works on the float leaves of a case's arguments and on any output tree.
 */
import { ArgumentError, type NDArray, Prim, bind1, grad, hessian, jit, jvp, linearize, np, tree, vjp } from "../src/index.js";
import { type Case, type Fn, scalarize } from "./cases.js";
import { centralDifference, checkFlat, overFloatLeaves } from "./check_grads.js";
import { type Law, type LawOptions, defineLaw, toleranceFor } from "./law.js";
import { combine, floatSize, fromHost, host, leavesOf, randomLike, rng, toleranceDType, vdot, worstElement } from "./numeric.js";
import type { Recorder } from "./violation.js";
import { needFunction, show } from "./validate.js";

type Flat = (...xs: NDArray[]) => unknown;

/** Records a leafwise comparison, failing on a structural mismatch. */
export function recordLeaves(
  rec: Recorder,
  what: string,
  mode: string,
  order: number,
  actual: NDArray[],
  expected: NDArray[],
  xs: readonly NDArray[],
  tol: { atol: number; rtol: number },
  seed: number,
  path: string[] = [],
): void {
  const w = worstElement(actual, expected, tol, Math.sqrt(Math.max(1, floatSize(xs))));
  if (typeof w === "string") rec.fail(`${what}: the two sides differ in structure (${w})`);
  rec.record({
    what,
    mode,
    order,
    path,
    direction: { seed, index: 0 },
    inSize: floatSize(xs),
    outSize: floatSize(expected),
    dtype: toleranceDType(xs),
    ...w,
  });
}

/** Records `lhs ≈ rhs` for two inner products, with the tolerance scaled by their terms. */
function recordDots(
  rec: Recorder,
  what: string,
  mode: string,
  order: number,
  lhs: { value: number; absSum: number },
  rhs: { value: number; absSum: number },
  xs: readonly NDArray[],
  outSize: number,
  tol: { atol: number; rtol: number },
  seed: number,
  path: string[] = [],
): void {
  const inSize = floatSize(xs);
  rec.record({
    what,
    mode,
    order,
    path,
    direction: { seed, index: 0 },
    inSize,
    outSize,
    dtype: toleranceDType(xs),
    actual: lhs.value,
    expected: rhs.value,
    error: Math.abs(lhs.value - rhs.value),
    tolerance: tol.atol * Math.sqrt(Math.max(1, inSize + outSize)) + tol.rtol * Math.max(lhs.absSum, rhs.absSum),
  });
}

/**
 * jvp equals float64 central differences along random directions (order `options.order`, default 1).
 *
 * @example
 * assertLaw(laws.jvpMatchesFiniteDifferences, cases(myFn, fc.tuple(arb.array({ shape: [3] }))), { numRuns: 100 });
 */
export const jvpMatchesFiniteDifferences: Law = defineLaw(
  "jvpMatchesFiniteDifferences",
  "jvp(f, x, v) = (f(x + εv) - f(x - εv)) / 2ε",
  (rec, c, seed, o) => {
    const { g, xs } = overFloatLeaves(c.f, c.args);
    checkFlat(rec, g, xs, { order: o.order ?? 1, modes: ["fwd"], seed, ...pick(o) });
  },
);

const pick = (o: LawOptions) => Object.fromEntries(Object.entries({ eps: o.eps, atol: o.atol, rtol: o.rtol }).filter(([, v]) => v !== undefined));

/**
 * jvp is linear in the tangent: J(a v1 + b v2) = a J v1 + b J v2, and J 0 = 0.
 *
 * @example
 * assertLaw(laws.jvpIsLinear, cases(myFn, fc.tuple(arb.array({ shape: [3] }))), { numRuns: 100 });
 */
export const jvpIsLinear: Law = defineLaw("jvpIsLinear", "jvp(f, x, a v1 + b v2) = a jvp(f, x, v1) + b jvp(f, x, v2)", (rec, c, seed, o) => {
  const { g, xs } = overFloatLeaves(c.f, c.args);
  const next = rng(seed);
  const [v1, v2] = [randomLike(next, xs), randomLike(next, xs)];
  const a = 4 * next() - 2,
    b = 4 * next() - 2;
  const j = (v: NDArray[]) => leavesOf(jvp(g, xs, v)[1]);
  const j1 = j(v1),
    j2 = j(v2);
  const tol = toleranceFor("ad", xs, o);
  recordLeaves(rec, "jvp(a v1 + b v2) vs a jvp(v1) + b jvp(v2)", "fwd", 1, j(combine(a, v1, b, v2)), combine(a, j1, b, j2), xs, tol, seed);
  recordLeaves(rec, "jvp(0) vs 0", "fwd", 1, j(combine(0, v1, 0, v1)), combine(0, j1, 0, j1), xs, tol, seed);
});

/**
 * The transpose identity: <u, J v> from jvp equals <Jᵀ u, v> from vjp.
 *
 * @example
 * assertLaw(laws.transposeIdentity, cases(myFn, fc.tuple(arb.array({ shape: [3] }))), { numRuns: 100 });
 */
export const transposeIdentity: Law = defineLaw("transposeIdentity", "<u, jvp(f, x, v)> = <vjp(f, x)(u), v>", (rec, c, seed, o) => {
  const { g, xs } = overFloatLeaves(c.f, c.args);
  const next = rng(seed);
  const v = randomLike(next, xs);
  const jv = leavesOf(jvp(g, xs, v)[1]);
  const [out, pull] = vjp(g, ...xs);
  const [outLeaves, def] = tree.flatten(out);
  const u = randomLike(
    next,
    outLeaves.map((l) => leavesOf(l)[0]!),
  );
  const ct = leavesOf(pull(tree.unflatten(def, u)));
  recordDots(rec, "<u, J v> (jvp) vs <Jᵀu, v> (vjp)", "rev", 1, vdot(u, jv), vdot(ct, v), xs, floatSize(u), toleranceFor("ad", xs, o), seed);
});

/** The float leaves as one vector (in the widest dtype) and the traceable inverse. */
function ravel(xs: readonly NDArray[]): { z: NDArray; unravel: (z: NDArray) => NDArray[] } {
  const dtype = toleranceDType(xs) === "float32" && xs.every((x) => x.dtype === "float32") ? "float32" : "float64";
  const z = np.concatenate(xs.map((x) => np.reshape(x.astype(dtype), [x.size])));
  const unravel = (w: NDArray) => {
    let at = 0;
    return xs.map((x) => {
      at += x.size;
      const part = bind1(Prim.Slice, [w], { start: [at - x.size], limit: [at], step: [1] });
      return np.reshape(part, x.shape).astype(x.dtype);
    });
  };
  return { z, unravel };
}

/** The case as a scalar function of one flat vector, for the Hessian laws; null without float inputs. */
function scalarOfVector(c: Case): { s: (z: NDArray) => NDArray; z: NDArray; xs: NDArray[] } | null {
  const { g, xs } = overFloatLeaves(c.f, c.args);
  if (floatSize(xs) === 0) return null;
  const { z, unravel } = ravel(xs);
  return { s: (w) => scalarize(g(...unravel(w))), z, xs };
}

/**
 * Hessians are symmetric: H = Hᵀ for H = hessian(x ↦ <w, f(x)>) over all float inputs.
 *
 * @example
 * assertLaw(laws.hessianIsSymmetric, cases(myFn, fc.tuple(arb.array({ shape: [3] }))), { numRuns: 100 });
 */
export const hessianIsSymmetric: Law = defineLaw("hessianIsSymmetric", "hessian(s)(x) = hessian(s)(x)ᵀ for s = <w, f>", (rec, c, seed, o) => {
  const sv = scalarOfVector(c);
  if (sv === null) return;
  const H = hessian(sv.s)(sv.z) as NDArray;
  recordLeaves(rec, "H vs Hᵀ", "fwd", 2, [H], [np.transpose(H)], sv.xs, toleranceFor("ad", sv.xs, o), seed, ["rev"]);
});

/**
 * jvp(grad s)(x, v) equals hessian(s)(x) v and grad(x ↦ <grad s(x), v>) (forward-over-reverse = reverse-over-reverse).
 *
 * @example
 * assertLaw(laws.jvpOfGradIsHessianVector, cases(myFn, fc.tuple(arb.array({ shape: [3] }))), { numRuns: 100 });
 */
export const jvpOfGradIsHessianVector: Law = defineLaw(
  "jvpOfGradIsHessianVector",
  "jvp(grad s, x, v) = hessian(s)(x) v = grad(<grad s, v>)(x)",
  (rec, c, seed, o) => {
    const sv = scalarOfVector(c);
    if (sv === null) return;
    const { s, z, xs } = sv;
    const [v] = randomLike(rng(seed), [z]);
    const hv = jvp(grad(s), [z], [v!])[1] as NDArray;
    const H = host(hessian(s)(z) as NDArray),
      vh = host(v!),
      n = z.size;
    const Hv = fromHost(
      Array.from({ length: n }, (_, i) => vh.reduce((acc, vj, j) => acc + H[i * n + j]! * vj, 0)),
      [n],
      z.dtype,
    );
    const rr = grad((w: NDArray) => np.sum(np.multiply(grad(s)(w), v!)))(z) as NDArray;
    const tol = toleranceFor("ad", xs, o);
    recordLeaves(rec, "jvp(grad s)(v) vs hessian(s) v", "fwd", 2, [hv], [Hv], xs, tol, seed, ["rev"]);
    recordLeaves(rec, "jvp(grad s)(v) vs grad(<grad s, v>)", "rev", 2, [hv], [rr], xs, tol, seed, ["rev"]);
  },
);

/**
 * Nesting without perturbation confusion. With `d(x, v) = jvp(t ↦ s(x + t v), [0], [1])`, an inner
 * derivative that closes over the outer variable: `D_w d(·, v) = D_v d(·, w)` (both the mixed second
 * derivative), reverse mode agrees, and so do float64 central differences of `d(·, v)` along w.
 *
 * @example
 * assertLaw(laws.noPerturbationConfusion, cases(myFn, fc.tuple(arb.array({ shape: [3] }))), { numRuns: 100 });
 */
export const noPerturbationConfusion: Law = defineLaw(
  "noPerturbationConfusion",
  "jvp(x ↦ jvp(t ↦ s(x + t v))(0), x, w) is symmetric in v, w and matches grad and central differences",
  (rec, c, seed, o) => {
    const { g, xs } = overFloatLeaves(c.f, c.args);
    if (floatSize(xs) === 0) return;
    const next = rng(seed);
    const v = randomLike(next, xs),
      w = randomLike(next, xs);
    const s = (ys: NDArray[]) => scalarize(g(...ys));
    const d =
      (dir: NDArray[]): Flat =>
      (...x) => {
        const t0 = np.array(0, { dtype: x[0]!.dtype });
        return jvp(
          (t: NDArray) => s(x.map((xi, i) => np.add(xi, np.multiply(t.astype(xi.dtype), dir[i]!.astype(xi.dtype))))),
          [t0],
          [np.onesLike(t0)],
        )[1];
      };
    const dv = d(v),
      dw = d(w);
    const a = leavesOf(jvp(dv, xs, w)[1]),
      b = leavesOf(jvp(dw, xs, v)[1]);
    const argnums = xs.map((_, i) => i);
    const gr = leavesOf(grad(dv, { argnums })(...xs));
    const rev = vdot(gr, w);
    const tol = toleranceFor("ad", xs, o);
    recordLeaves(rec, "D_w (x ↦ D_v s(x)) vs D_v (x ↦ D_w s(x))", "fwd", 2, a, b, xs, tol, seed, ["fwd"]);
    recordLeaves(rec, "jvp of the inner jvp vs <grad of the inner jvp, w>", "rev", 2, a, [fromHost([rev.value], [], a[0]!.dtype)], xs, tol, seed, [
      "fwd",
    ]);
    const fd = centralDifference(dv, xs, w, o.eps ?? (toleranceDType(xs) === "float32" ? 1e-4 : 1e-6));
    recordLeaves(rec, "jvp of the inner jvp vs central differences", "fwd", 2, a, fd, xs, toleranceFor("fd", xs, o), seed, ["fwd"]);
  },
);

/**
 * A law family: `transform(f)` computes the same values as `f` (within the inputs' rounding
 * tolerance). `primalsAgree` is one; `jit` and device placement are others, added in one line each.
 *
 * @example
 * const jitEqualsEager = equivalentUnder("jitEqualsEager", { jit: (f) => jit(f) });
 * assertLaw(jitEqualsEager, arb.programCases(), { numRuns: 500 });
 */
export function equivalentUnder(name: string, transforms: Record<string, (f: Fn) => Fn>): Law {
  if (typeof name !== "string") throw new ArgumentError(`equivalentUnder: name must be a string, got ${show(name)}`);
  if (typeof transforms !== "object" || transforms === null)
    throw new ArgumentError(`equivalentUnder: transforms must be an object of functions, got ${show(transforms)}`);
  for (const [k, t] of Object.entries(transforms)) needFunction("equivalentUnder", `transforms.${k}`, t);
  return defineLaw(
    name,
    `${Object.keys(transforms)
      .map((t) => `${t}(f)(x)`)
      .join(" = ")} = f(x)`,
    (rec, c, seed, o) => {
      const expected = leavesOf(c.f(...c.args));
      const xs = leavesOf(c.args.slice());
      for (const [label, transform] of Object.entries(transforms)) {
        const actual = leavesOf(transform(c.f)(...c.args));
        recordLeaves(rec, `${label}(f)(x) vs f(x)`, label, 0, actual, expected, xs, toleranceFor("ad", xs, o), seed);
      }
    },
  );
}

/**
 * The primal outputs of jvp, vjp and linearize equal f's.
 *
 * @example
 * assertLaw(laws.primalsAgree, cases(myFn, fc.tuple(arb.array({ shape: [3] }))), { numRuns: 100 });
 */
export const primalsAgree: Law = equivalentUnder("primalsAgree", {
  jvpPrimal:
    (f) =>
    (...args) => {
      const { g, xs } = overFloatLeaves(f, args);
      return jvp(
        g,
        xs,
        xs.map((x) => np.zerosLike(x)),
      )[0];
    },
  vjpPrimal:
    (f) =>
    (...args) =>
      vjp(f, ...args)[0],
  linearizePrimal:
    (f) =>
    (...args) =>
      linearize(f, ...args)[0],
});

/**
 * `jit(f)` computes what `f` computes (staging, fusion and compilation change no value beyond
 * the dtype's tolerance).
 *
 * @example
 * assertLaw(laws.jitEqualsEager, arb.programCases(), { numRuns: 100 });
 */
export const jitEqualsEager: Law = equivalentUnder("jitEqualsEager", { jit: (f) => jit(f) });
