/**
 * The batching laws: vmap equals stacking per-example results (with random `inAxes`, unbatched
 * arguments and `outAxes`), and vmap commutes with grad and with jvp. A case's batch is its own
 * extra examples, or permutations of its one example (same values, so the same domain).
 */
import { type NDArray, grad, jvp, np, tree, vmap } from "../src/index.js";
import { type Case, examples, scalarize } from "./cases.js";
import { overFloatLeaves } from "./check_grads.js";
import { type Law, type LawOptions, defineLaw, toleranceFor } from "./law.js";
import { recordLeaves } from "./laws_autodiff.js";
import { floatSize, leavesOf, randomLike, rng } from "./numeric.js";

/** Leaves stacked along a new axis `axis` (each list holds one leaf per example). */
const stackLeaves = (perExample: NDArray[][], axis = 0): NDArray[] =>
  perExample[0]!.map((_, i) =>
    np.stack(
      perExample.map((leaves) => leaves[i]!),
      axis,
    ),
  );

/** A pytree with every leaf the stack of that leaf across `trees`, along `axis`. */
function stackTrees(trees: readonly unknown[], axis: number): unknown {
  const [first, def] = tree.flatten(trees[0]);
  const stacked = stackLeaves(
    trees.map((t) => leavesOf(t)),
    axis,
  );
  return tree.unflatten(def, stacked.slice(0, first.length));
}

const batchOf = (c: Case, o: LawOptions) => examples(c, o.batchSize ?? 3);

/**
 * vmap(f, { inAxes, outAxes })(stacked examples) equals the stack of f on each example.
 *
 * @example
 * assertLaw(laws.vmapEqualsMap, cases(myFn, fc.tuple(arb.array({ shape: [3] }))), { numRuns: 100 });
 */
export const vmapEqualsMap: Law = defineLaw("vmapEqualsMap", "vmap(f)(stack(x_b)) = stack(f(x_b))", (rec, c, seed, o) => {
  const exs = batchOf(c, o);
  const nargs = c.args.length;
  if (nargs === 0) return;
  const next = rng(seed);
  // Per argument: null (unbatched, example 0 everywhere) or an axis of the stacked leaves.
  const inAxes = c.args.map((a): number | null => {
    const ranks = leavesOf(a).map((l) => l.ndim);
    const top = ranks.length ? Math.min(...ranks) : 0;
    const k = Math.floor(next() * (top + 2));
    return k === top + 1 ? null : k;
  });
  if (!inAxes.some((a) => a !== null)) inAxes[Math.floor(next() * nargs)] = 0;
  const outAxis = next() < 0.5 ? 0 : -1;
  const args = inAxes.map((ax, i) =>
    ax === null
      ? exs[0]![i]
      : stackTrees(
          exs.map((e) => e[i]),
          ax,
        ),
  );
  const got = vmap(c.f, { inAxes, outAxes: outAxis })(...args);
  const per = exs.map((e) => leavesOf(c.f(...e.map((a, i) => (inAxes[i] === null ? exs[0]![i] : a)))));
  const want = per[0]!.map((_, i) =>
    np.stack(
      per.map((p) => p[i]!),
      outAxis === 0 ? 0 : per[0]![i]!.ndim,
    ),
  );
  const xs = leavesOf(c.args.slice());
  recordLeaves(
    rec,
    `vmap(f, { inAxes: ${JSON.stringify(inAxes)}, outAxes: ${outAxis} }) vs stacked f`,
    "vmap",
    0,
    leavesOf(got),
    want,
    xs,
    toleranceFor("ad", xs, o),
    seed,
  );
});

/** The float leaves of each example, and one function of them (other leaves from example 0). */
function flatBatch(c: Case, o: LawOptions) {
  const exs = batchOf(c, o);
  const { g, xs } = overFloatLeaves(c.f, exs[0]!);
  return { g, xs, each: exs.map((e) => overFloatLeaves(c.f, e).xs) };
}

/**
 * vmap(grad s) equals grad s per example, and equals grad of the summed vmap(s), for s = <w, f>.
 *
 * @example
 * assertLaw(laws.vmapCommutesWithGrad, cases(myFn, fc.tuple(arb.array({ shape: [3] }))), { numRuns: 100 });
 */
export const vmapCommutesWithGrad: Law = defineLaw(
  "vmapCommutesWithGrad",
  "vmap(grad s)(X) = stack(grad s(x_b)) = grad(sum ∘ vmap(s))(X)",
  (rec, c, seed, o) => {
    const { g, xs, each } = flatBatch(c, o);
    if (floatSize(xs) === 0) return;
    const argnums = xs.map((_, i) => i);
    const s = (...ys: NDArray[]) => scalarize(g(...ys));
    const gs = grad(s, { argnums });
    const want = stackLeaves(each.map((x) => leavesOf(gs(...x))));
    const X = stackLeaves(each);
    const tol = toleranceFor("ad", xs, o);
    recordLeaves(rec, "vmap(grad s) vs stacked grad s", "vmap", 1, leavesOf(vmap(gs)(...X)), want, xs, tol, seed, ["rev"]);
    const gOfV = grad((...Y: NDArray[]) => np.sum(vmap(s)(...Y)), { argnums });
    recordLeaves(rec, "grad(sum ∘ vmap(s)) vs stacked grad s", "rev", 1, leavesOf(gOfV(...X)), want, xs, tol, seed, ["vmap"]);
  },
);

/**
 * vmap of jvp equals jvp per example, and equals jvp of vmap(f), with per-example tangents.
 *
 * @example
 * assertLaw(laws.vmapCommutesWithJvp, cases(myFn, fc.tuple(arb.array({ shape: [3] }))), { numRuns: 100 });
 */
export const vmapCommutesWithJvp: Law = defineLaw(
  "vmapCommutesWithJvp",
  "vmap(jvp f)(X, V) = stack(jvp f(x_b, v_b)) = jvp(vmap f)(X, V)",
  (rec, c, seed, o) => {
    const { g, xs, each } = flatBatch(c, o);
    if (floatSize(xs) === 0) return;
    const next = rng(seed);
    const k = xs.length;
    const vs = each.map((x) => randomLike(next, x));
    const want = stackLeaves(each.map((x, b) => leavesOf(jvp(g, x, vs[b]!)[1])));
    const X = stackLeaves(each),
      V = stackLeaves(vs);
    const tol = toleranceFor("ad", xs, o);
    const vj = vmap((...a: NDArray[]) => jvp(g, a.slice(0, k), a.slice(k))[1])(...X, ...V);
    recordLeaves(rec, "vmap(jvp f) vs stacked jvp f", "vmap", 1, leavesOf(vj), want, xs, tol, seed, ["fwd"]);
    const jv = jvp((...Y: NDArray[]) => vmap(g)(...Y), X, V)[1];
    recordLeaves(rec, "jvp(vmap f) vs stacked jvp f", "fwd", 1, leavesOf(jv), want, xs, tol, seed, ["vmap"]);
  },
);
