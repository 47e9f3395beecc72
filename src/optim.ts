/**
 * `optim`: functional optimizers over pytrees, in the style of optax. An optimizer is a
 * `GradientTransformation`, a pair of pure functions: `init(params)` makes a state and
 * `update(grads, state, params?)` turns gradients into updates and a new state; `applyUpdates`
 * adds the updates to the parameters. States are pytrees of NDArrays, so a whole training step
 * (loss, gradients, update) can go through `jit`. Transformations compose with `chain`.
 *
 * This module is built on `np` and `tree` only; it knows no interpreter.
 */
import { isFloat } from "./core/dtype.js";
import { ArgumentError, DTypeError, describe, naming } from "./core/errors.js";
import { NDArray } from "./core/ndarray.js";
import * as np from "./np/index.js";
import { type TreeDef, flatten, unflatten } from "./tree.js";

/**
 * A gradient transformation: `init` makes the optimizer state for some parameters, and `update`
 * maps gradients (a pytree shaped like the parameters) to updates of the same shape and a new
 * state. Both are pure: nothing is mutated, so they can run inside `jit`.
 *
 * @example
 * import { type NDArray, grad, np, optim } from "fluxion";
 * const loss = (p: { w: NDArray }) => np.sum(np.square(p.w));
 * const opt: optim.GradientTransformation<optim.AdamState> = optim.adam({ learningRate: 0.1 });
 * let params = { w: np.array([1, -2]) };
 * let state = opt.init(params);
 * const [updates, next] = opt.update(grad(loss)(params), state, params);
 * params = optim.applyUpdates(params, updates);
 * state = next;
 */
export interface GradientTransformation<S = unknown> {
  /** The initial state for `params` (a pytree of float NDArrays). */
  init(params: unknown): S;
  /**
   * Updates for `grads` (same structure as the parameters) and the next state. `params` is needed
   * by transformations that look at the parameters (`adamw`'s weight decay).
   */
  update<G>(grads: G, state: S, params?: G): [updates: G, state: S];
}

/**
 * The state of a transformation that keeps none (`sgd` without momentum, `clipByGlobalNorm`).
 *
 * @example
 * import { np, optim } from "fluxion";
 * const state: optim.EmptyState = optim.clipByGlobalNorm(1).init({ w: np.zeros([2]) });
 * Object.keys(state).length; // [0]
 */
export type EmptyState = Record<string, never>;

/**
 * The state of `sgd`: the momentum buffer (shaped like the parameters), when momentum is on.
 *
 * @example
 * import { type NDArray, np, optim } from "fluxion";
 * const state: optim.SgdState = optim.sgd({ learningRate: 0.1, momentum: 0.9 }).init({ w: np.ones([2]) });
 * (state.trace as { w: NDArray }).w.tolist(); // [0, 0]
 */
export interface SgdState {
  /** The momentum buffer, a tree like the parameters (absent without momentum). */
  trace?: unknown;
}

/**
 * The state of `adam` and `adamw`: the step count (int32 scalar) and the two moment estimates
 * `mu` and `nu`, each shaped like the parameters.
 *
 * @example
 * import { np, optim } from "fluxion";
 * const state: optim.AdamState = optim.adam({ learningRate: 0.1 }).init({ w: np.ones([2]) });
 * state.count.item(); // [0]
 */
export interface AdamState {
  /** The number of updates so far, an int32 scalar (it drives the bias correction). */
  count: NDArray;
  /** The moving average of the gradients (first moment), a tree like the parameters. */
  mu: unknown;
  /** The moving average of the squared gradients (second moment), a tree like the parameters. */
  nu: unknown;
}

/**
 * Options of `sgd`.
 *
 * @example
 * import { optim } from "fluxion";
 * const options: optim.SgdOptions = { learningRate: 0.01, momentum: 0.9, nesterov: true };
 * const opt = optim.sgd(options);
 */
export interface SgdOptions {
  /** Step size (>= 0). */
  learningRate: number;
  /** Heavy-ball momentum in [0, 1); 0 (the default) keeps no state. */
  momentum?: number;
  /** Nesterov momentum (needs `momentum > 0`). Default false. */
  nesterov?: boolean;
}

/**
 * Options of `adam` (the defaults are optax's).
 *
 * @example
 * import { optim } from "fluxion";
 * const options: optim.AdamOptions = { learningRate: 1e-3, b1: 0.9, b2: 0.999, eps: 1e-8 };
 * const opt = optim.adam(options);
 */
export interface AdamOptions {
  /** Step size (>= 0). */
  learningRate: number;
  /** Decay of the first-moment estimate, in [0, 1). Default 0.9. */
  b1?: number;
  /** Decay of the second-moment estimate, in [0, 1). Default 0.999. */
  b2?: number;
  /** Added to the root of the second moment for numerical stability (>= 0). Default 1e-8. */
  eps?: number;
}

/**
 * Options of `adamw`: those of `adam` plus decoupled weight decay.
 *
 * @example
 * import { optim } from "fluxion";
 * const options: optim.AdamWOptions = { learningRate: 1e-3, weightDecay: 0.01 };
 * const opt = optim.adamw(options);
 */
export interface AdamWOptions extends AdamOptions {
  /** Coefficient of the decoupled weight decay (>= 0). Default 1e-4, as in optax. */
  weightDecay?: number;
}

// ---------------------------------------------------------------------------------------------
// Validation
// ---------------------------------------------------------------------------------------------

type Check = "nonNegative" | "positive" | "unit" | "boolean";

const checkText: Record<Check, string> = {
  nonNegative: "a finite number >= 0",
  positive: "a finite number > 0",
  unit: "a number in [0, 1)",
  boolean: "a boolean",
};

function valid(check: Check, v: unknown): boolean {
  if (check === "boolean") return typeof v === "boolean";
  if (typeof v !== "number" || !Number.isFinite(v)) return false;
  return check === "nonNegative" ? v >= 0 : check === "positive" ? v > 0 : v >= 0 && v < 1;
}

const show = describe;

/**
 * Checks an options object against `spec` (option name → check; names ending in `?` are optional)
 * and throws an ArgumentError naming `optim.<fn>` and the option.
 */
function checkOptions(fn: string, options: unknown, spec: Record<string, Check>, example: string): void {
  const name = `optim.${fn}`;
  if (typeof options !== "object" || options === null || Array.isArray(options)) {
    throw new ArgumentError(`${name}: expected an options object such as ${example}, got ${show(options)}`);
  }
  const known = Object.keys(spec).map((k) => k.replace(/\?$/, ""));
  for (const key of Object.keys(options)) {
    if (!known.includes(key)) {
      throw new ArgumentError(`${name}: unknown option ${describe(key)}; the options are ${known.join(", ")}`);
    }
  }
  for (const [key, check] of Object.entries(spec)) {
    const optional = key.endsWith("?");
    const option = optional ? key.slice(0, -1) : key;
    const v = (options as Record<string, unknown>)[option];
    if (v === undefined && optional) continue;
    if (v === undefined) throw new ArgumentError(`${name}: option ${option} is required, as in ${example}`);
    if (!valid(check, v)) throw new ArgumentError(`${name}: option ${option} must be ${checkText[check]}, got ${show(v)}`);
  }
}

/** The leaves of a tree of float NDArrays, with its structure; `what` names the tree in errors. */
function floatLeaves(fn: string, what: string, tree: unknown): [NDArray[], TreeDef] {
  const [leaves, def] = naming(`${fn} (argument ${what})`, () => flatten(tree));
  leaves.forEach((leaf, i) => {
    if (!(leaf instanceof NDArray)) {
      throw new ArgumentError(`${fn}: leaf ${i} of ${what} (structure ${def}) is ${show(leaf)}, not an NDArray; wrap numbers with np.array`);
    }
    if (!isFloat(leaf.dtype)) {
      throw new DTypeError(`${fn}: leaf ${i} of ${what} (structure ${def}) has dtype ${leaf.dtype}; optimizers work on float arrays only`);
    }
  });
  return [leaves as NDArray[], def];
}

function sameStructure(fn: string, what: string, def: TreeDef, expected: TreeDef, expectedWhat: string): void {
  if (!def.equals(expected)) {
    throw new ArgumentError(`${fn}: ${what} has structure ${def} but ${expectedWhat} has ${expected}; pass trees shaped like the parameters`);
  }
}

/** Applies `fn` to corresponding leaves of `trees` (the first gives the structure). */
function mapLeaves(def: TreeDef, trees: NDArray[][], fn: (...xs: NDArray[]) => NDArray): unknown {
  return unflatten(
    def,
    trees[0]!.map((_, i) => fn(...trees.map((t) => t[i]!))),
  );
}

// ---------------------------------------------------------------------------------------------
// Optimizers
// ---------------------------------------------------------------------------------------------

/**
 * Stochastic gradient descent, optionally with heavy-ball or Nesterov momentum (as `optax.sgd`):
 * `trace = g + momentum * trace`, `update = -learningRate * trace` (Nesterov:
 * `-learningRate * (g + momentum * trace)`).
 *
 * @example
 * import { type NDArray, grad, np, optim } from "fluxion";
 * const opt = optim.sgd({ learningRate: 0.1, momentum: 0.9 });
 * const loss = (p: { w: NDArray }) => np.sum(np.square(p.w));
 * let params = { w: np.array([1, -2]) };
 * let state = opt.init(params);
 * for (let i = 0; i < 100; i++) {
 *   const [updates, next] = opt.update(grad(loss)(params), state);
 *   params = optim.applyUpdates(params, updates);
 *   state = next;
 * }
 * params.w.tolist(); // close to [0, 0]
 */
export function sgd(options: SgdOptions): GradientTransformation<SgdState> {
  checkOptions("sgd", options, { learningRate: "nonNegative", "momentum?": "unit", "nesterov?": "boolean" }, "{ learningRate: 0.01, momentum: 0.9 }");
  const { learningRate: lr, momentum = 0, nesterov = false } = options;
  if (nesterov && momentum === 0) {
    throw new ArgumentError("optim.sgd: option nesterov needs a momentum > 0; pass e.g. { learningRate: 0.01, momentum: 0.9, nesterov: true }");
  }
  return {
    init(params) {
      const [leaves, def] = floatLeaves("optim.sgd.init", "params", params);
      return momentum === 0 ? {} : { trace: mapLeaves(def, [leaves], (p) => np.zerosLike(p)) };
    },
    update<G>(grads: G, state: SgdState): [G, SgdState] {
      const [gs, def] = floatLeaves("optim.sgd.update", "grads", grads);
      if (momentum === 0) return [mapLeaves(def, [gs], (g) => g.mul(-lr)) as G, state];
      const [ts, tdef] = floatLeaves("optim.sgd.update", "state.trace", state.trace);
      sameStructure("optim.sgd.update", "grads", def, tdef, "the state (from init)");
      const trace = gs.map((g, i) => g.add(ts[i]!.mul(momentum)));
      const dirs = nesterov ? gs.map((g, i) => g.add(trace[i]!.mul(momentum))) : trace;
      return [
        unflatten(
          def,
          dirs.map((d) => d.mul(-lr)),
        ) as G,
        { trace: unflatten(def, trace) },
      ];
    },
  };
}

/** Adam with optional decoupled weight decay (`decay * params`, added before the step size): adam and adamw. */
function adamCore(fn: string, options: AdamOptions, decay: number, needsParams: boolean): GradientTransformation<AdamState> {
  const { learningRate: lr, b1 = 0.9, b2 = 0.999, eps = 1e-8 } = options;
  return {
    init(params) {
      const [leaves, def] = floatLeaves(`${fn}.init`, "params", params);
      const zeros = (): unknown => mapLeaves(def, [leaves], (p) => np.zerosLike(p));
      return { count: np.zeros([], "int32"), mu: zeros(), nu: zeros() };
    },
    update<G>(grads: G, state: AdamState, params?: G): [G, AdamState] {
      const [gs, def] = floatLeaves(`${fn}.update`, "grads", grads);
      const [mus, muDef] = floatLeaves(`${fn}.update`, "state.mu", state.mu);
      const [nus] = floatLeaves(`${fn}.update`, "state.nu", state.nu);
      sameStructure(`${fn}.update`, "grads", def, muDef, "the state (from init)");
      let ps: NDArray[] = [];
      if (needsParams) {
        if (params === undefined) throw new ArgumentError(`${fn}.update: weight decay needs the parameters; call update(grads, state, params)`);
        const [leaves, pdef] = floatLeaves(`${fn}.update`, "params", params);
        sameStructure(`${fn}.update`, "params", pdef, def, "grads");
        ps = leaves;
      }
      const count = state.count.add(1);
      const mu = gs.map((g, i) => mus[i]!.mul(b1).add(g.mul(1 - b1)));
      const nu = gs.map((g, i) => nus[i]!.mul(b2).add(g.square().mul(1 - b2)));
      const updates = gs.map((g, i) => {
        // Bias correction: mû = mu / (1 - b1^t), nû = nu / (1 - b2^t); update = mû / (√nû + eps).
        const t = count.astype(g.dtype);
        const muHat = mu[i]!.div(np.subtract(1, np.power(b1, t)));
        const nuHat = nu[i]!.div(np.subtract(1, np.power(b2, t)));
        const dir = muHat.div(nuHat.sqrt().add(eps));
        return (needsParams ? dir.add(ps[i]!.mul(decay)) : dir).mul(-lr);
      });
      return [unflatten(def, updates) as G, { count, mu: unflatten(def, mu), nu: unflatten(def, nu) }];
    },
  };
}

/**
 * Adam (as `optax.adam`): exponential moving averages of the gradient and its square, with bias
 * correction; `update = -learningRate * mû / (√nû + eps)`.
 *
 * @example
 * import { type NDArray, grad, jit, np, optim } from "fluxion";
 * const opt = optim.adam({ learningRate: 0.05 });
 * const loss = (p: { w: NDArray }) => np.sum(np.square(p.w.sub(3)));
 * const step = jit((p: { w: NDArray }, s: optim.AdamState): [{ w: NDArray }, optim.AdamState] => {
 *   const [updates, next] = opt.update(grad(loss)(p), s);
 *   return [optim.applyUpdates(p, updates), next];
 * });
 * let params = { w: np.zeros([3]) };
 * let state = opt.init(params);
 * for (let i = 0; i < 300; i++) [params, state] = step(params, state);
 * params.w.tolist(); // close to [3, 3, 3]
 */
export function adam(options: AdamOptions): GradientTransformation<AdamState> {
  checkOptions("adam", options, { learningRate: "nonNegative", "b1?": "unit", "b2?": "unit", "eps?": "nonNegative" }, "{ learningRate: 0.001 }");
  return adamCore("optim.adam", options, 0, false);
}

/**
 * AdamW (as `optax.adamw`): Adam with decoupled weight decay,
 * `update = -learningRate * (mû / (√nû + eps) + weightDecay * params)`. `update` needs the
 * parameters as its third argument.
 *
 * @example
 * import { type NDArray, grad, np, optim } from "fluxion";
 * const opt = optim.adamw({ learningRate: 0.01, weightDecay: 0.01 });
 * const loss = (p: { w: NDArray }) => np.sum(np.square(p.w));
 * let params = { w: np.array([1, -2]) };
 * let state = opt.init(params);
 * const [updates, next] = opt.update(grad(loss)(params), state, params);
 * params = optim.applyUpdates(params, updates);
 */
export function adamw(options: AdamWOptions): GradientTransformation<AdamState> {
  checkOptions(
    "adamw",
    options,
    {
      learningRate: "nonNegative",
      "b1?": "unit",
      "b2?": "unit",
      "eps?": "nonNegative",
      "weightDecay?": "nonNegative",
    },
    "{ learningRate: 0.001, weightDecay: 0.01 }",
  );
  return adamCore("optim.adamw", options, options.weightDecay ?? 1e-4, true);
}

/**
 * Rescales the gradients so that their global norm (the 2-norm of all leaves together) is at most
 * `maxNorm`; gradients already within it pass unchanged. Keeps no state. Use it first in a `chain`.
 *
 * @example
 * import { np, optim } from "fluxion";
 * const clip = optim.clipByGlobalNorm(1);
 * const [clipped] = clip.update({ a: np.array([3]), b: np.array([4]) }, clip.init({}));
 * clipped.a.tolist(); // [0.6] (the global norm was 5)
 */
export function clipByGlobalNorm(maxNorm: number): GradientTransformation<EmptyState> {
  if (!valid("positive", maxNorm)) {
    throw new ArgumentError(`optim.clipByGlobalNorm: maxNorm must be ${checkText.positive}, got ${show(maxNorm)}`);
  }
  return {
    init: () => ({}),
    update<G>(grads: G, state: EmptyState): [G, EmptyState] {
      const [gs, def] = floatLeaves("optim.clipByGlobalNorm.update", "grads", grads);
      if (gs.length === 0) return [grads, state];
      const norm = np.sqrt(gs.map((g) => g.square().sum()).reduce((a, b) => a.add(b)));
      // scale = maxNorm / max(norm, maxNorm): exactly 1 when the norm is within bounds.
      const scale = np.divide(maxNorm, np.maximum(norm, maxNorm));
      return [
        unflatten(
          def,
          gs.map((g) => g.mul(scale.astype(g.dtype))),
        ) as G,
        state,
      ];
    },
  };
}

/**
 * Composes transformations left to right: each `update` gets the previous one's updates as its
 * gradients. The state is the array of the parts' states.
 *
 * @example
 * import { type NDArray, grad, np, optim } from "fluxion";
 * const opt = optim.chain(optim.clipByGlobalNorm(1), optim.adam({ learningRate: 0.01 }));
 * const loss = (p: { w: NDArray }) => np.sum(np.square(p.w));
 * let params = { w: np.array([10, -20]) };
 * let state = opt.init(params); // one state per part: clip's, then adam's
 * const [updates, next] = opt.update(grad(loss)(params), state, params);
 * params = optim.applyUpdates(params, updates);
 */
export function chain<S extends unknown[]>(...transforms: { [K in keyof S]: GradientTransformation<S[K]> }): GradientTransformation<S> {
  transforms.forEach((t: unknown, i) => {
    const ok =
      typeof t === "object" &&
      t !== null &&
      typeof (t as GradientTransformation).init === "function" &&
      typeof (t as GradientTransformation).update === "function";
    if (!ok)
      throw new ArgumentError(`optim.chain: argument ${i} is ${show(t)}, not a GradientTransformation ({ init, update }) such as optim.sgd(...)`);
  });
  const parts = transforms as readonly GradientTransformation[];
  return {
    init: (params) => parts.map((t) => t.init(params)) as S,
    update<G>(grads: G, state: S, params?: G): [G, S] {
      if (!Array.isArray(state) || state.length !== parts.length) {
        throw new ArgumentError(`optim.chain.update: the state must be the array of ${parts.length} states that init returned`);
      }
      const states: unknown[] = [];
      let updates = grads;
      parts.forEach((t, i) => {
        const [u, s] = t.update(updates, state[i], params);
        updates = u;
        states.push(s);
      });
      return [updates, states as S];
    },
  };
}

/**
 * `params + updates`, leaf by leaf, keeping each parameter's dtype.
 *
 * @example
 * import { np, optim } from "fluxion";
 * const params = optim.applyUpdates({ w: np.array([1, 2]) }, { w: np.array([0.5, -0.5]) });
 * params.w.tolist(); // [1.5, 1.5]
 */
export function applyUpdates<P>(params: P, updates: P): P {
  const [ps, def] = floatLeaves("optim.applyUpdates", "params", params);
  const [us, udef] = floatLeaves("optim.applyUpdates", "updates", updates);
  sameStructure("optim.applyUpdates", "updates", udef, def, "params");
  return naming("optim.applyUpdates", () =>
    mapLeaves(def, [ps, us], (p, u) => {
      const sum = p.add(u);
      return sum.dtype === p.dtype ? sum : sum.astype(p.dtype);
    }),
  ) as P;
}
