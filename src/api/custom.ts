/**
 * User-defined derivatives and checkpointing: customJvp, customVjp, checkpoint, and
 * checkpointChain. Each stages the function into a closed program and binds a higher-order
 * primitive; the user's rules are wrapped to work on flat arrays and checked against the
 * function's structure, shapes and dtypes.
 */
import { ArgumentError, DTypeError, ShapeError, describe } from "../core/errors.js";
import { bind } from "../core/interpreter.js";
import * as lax from "../core/lax.js";
import { type Aval, type NDArray, fmtAval } from "../core/ndarray.js";
import { type FlatBwd, type FlatFwd, type FlatJvpRule, Prim, type RematPolicy } from "../core/prim.js";
import { fmtShape, shapeEq } from "../core/shape.js";
import { traceClosure } from "../ir/closure.js";
import { type TreeDef, flatten, unflatten } from "../tree.js";
import { checkFn, checkOptions, flattenArrays, leafArray } from "./args.js";
import type { ArrayTree, Fn } from "../types.js";

type LooseFn = (...args: any[]) => any;

/** Flattens `tree` and checks it against `def` and `like`'s shapes and dtypes. */
function leavesLike(fn: string, what: string, tree: unknown, def: TreeDef, like: readonly Aval[]): NDArray[] {
  const [leaves, d] = flatten(tree);
  if (!d.equals(def)) throw new ArgumentError(`${fn}: ${what} has structure ${d} but must have ${def}`);
  return leaves.map((l, i) => {
    const x = leafArray(fn, what, l, like[i]!.dtype);
    if (!shapeEq(x.shape, like[i]!.shape))
      throw new ShapeError(`${fn}: ${what} leaf ${i} has shape ${fmtShape(x.shape)} but must have ${fmtShape(like[i]!.shape)}`);
    if (x.dtype !== like[i]!.dtype) throw new DTypeError(`${fn}: ${what} leaf ${i} is ${fmtAval(x)} but must be ${fmtAval(like[i]!)}`);
    return x;
  });
}

/** Stages f on the flattened arguments; returns what every custom primitive needs. */
function stageFn(fn: string, f: LooseFn, args: unknown[]) {
  const [leaves, def] = flattenArrays(fn, "the arguments", args);
  let outDef!: TreeDef;
  const { cp, lifted } = traceClosure(fn, leaves, (ins) => {
    const [outs, d] = flattenArrays(fn, "the output of f", f(...unflatten(def, ins)));
    outDef = d;
    return outs;
  });
  const outAvals = cp.program.outvars.map((v) => v.aval);
  return { leaves, def, cp, lifted, outDef, outAvals };
}

/**
 * f with a user-supplied forward derivative: `jvpRule(primals, tangents) => [out, tangentOut]`.
 * The tangent output must be linear in the tangents (reverse mode transposes it).
 */
export function customJvp<F extends Fn>(
  f: F,
  jvpRule: (primals: Parameters<F>, tangents: ArrayTree<Parameters<F>>) => readonly [ReturnType<F>, unknown],
): F;
export function customJvp<F extends LooseFn>(f: F, jvpRule: (primals: any, tangents: any) => readonly unknown[]): F {
  checkFn("customJvp", f);
  checkFn("customJvp", jvpRule, "jvpRule");
  const name = `customJvp(${f.name || "f"})`;
  return ((...args: unknown[]) => {
    const { leaves, def, cp, lifted, outDef, outAvals } = stageFn(name, f, args);
    const nl = lifted.length;
    const rule: FlatJvpRule = (ps, ts) => {
      const res = jvpRule(unflatten(def, ps.slice(nl)), unflatten(def, ts.slice(nl)));
      if (!Array.isArray(res) || res.length !== 2) throw new ArgumentError(`${name}: the jvp rule must return [out, tangentOut]`);
      return [
        leavesLike(name, "the rule's output", res[0], outDef, outAvals),
        leavesLike(name, "the rule's tangent output", res[1], outDef, outAvals),
      ];
    };
    return unflatten(outDef, bind(Prim.CustomJvpCall, [...lifted, ...leaves], { fun: cp, rule, numLifted: nl, name }));
  }) as F;
}

/**
 * f with a user-supplied reverse derivative: `fwd(...args) => [out, residuals]` and
 * `bwd(residuals, ct) => cotangents` (an array with one cotangent tree per argument).
 * Forward mode (jvp, jacfwd) through it is a typed error; give a customJvp for that.
 */
export function customVjp<F extends Fn, R>(
  f: F,
  fwd: (...args: Parameters<F>) => readonly [ReturnType<F>, R],
  bwd: (residuals: R, ct: ArrayTree<ReturnType<F>>) => readonly unknown[],
): F;
export function customVjp<F extends LooseFn>(
  f: F,
  fwd: (...args: any[]) => readonly unknown[],
  bwd: (residuals: any, ct: any) => readonly unknown[],
): F {
  checkFn("customVjp", f);
  checkFn("customVjp", fwd, "fwd");
  checkFn("customVjp", bwd, "bwd");
  const name = `customVjp(${f.name || "f"})`;
  return ((...args: unknown[]) => {
    const { leaves, def, cp, lifted, outDef, outAvals } = stageFn(name, f, args);
    const nl = lifted.length;
    let resDef: TreeDef | null = null;
    const flatFwd: FlatFwd = (ps) => {
      const res = fwd(...unflatten(def, ps.slice(nl)));
      if (!Array.isArray(res) || res.length !== 2) throw new ArgumentError(`${name}: fwd must return [out, residuals]`);
      const [r, d] = flattenArrays(name, "fwd's residuals", res[1]);
      resDef = d;
      return [leavesLike(name, "fwd's output", res[0], outDef, outAvals), r];
    };
    const flatBwd: FlatBwd = (res, cts) => {
      const g = bwd(unflatten(resDef!, res), unflatten(outDef, cts));
      if (!Array.isArray(g) || g.length !== args.length) {
        throw new ArgumentError(
          `${name}: bwd must return an array with one cotangent per argument (${args.length}), got ${Array.isArray(g) ? `${g.length} entries` : typeof g}`,
        );
      }
      return [...lifted.map((t) => lax.zerosOf(t)), ...leavesLike(name, "bwd's cotangents", g, def, leaves)];
    };
    return unflatten(outDef, bind(Prim.CustomVjpCall, [...lifted, ...leaves], { fun: cp, fwd: flatFwd, bwd: flatBwd, numLifted: nl, name }));
  }) as F;
}

export interface CheckpointOptions {
  /** What reverse mode saves besides the block's inputs: "nothing" (default) or "dots" (matrix products). */
  policy?: RematPolicy;
}

/** f with the same values and derivatives; reverse mode saves only its inputs and recomputes the inside. */
export function checkpoint<F extends Fn>(f: F, options?: CheckpointOptions): F;
export function checkpoint<F extends LooseFn>(f: F, options: CheckpointOptions = {}): F {
  checkFn("checkpoint", f);
  checkOptions("checkpoint", options, ["policy"]);
  const policy = options.policy ?? "nothing";
  if (policy !== "nothing" && policy !== "dots") throw new ArgumentError(`checkpoint: policy must be "nothing" or "dots", got ${describe(policy)}`);
  const name = `checkpoint(${f.name || "f"})`;
  return ((...args: unknown[]) => {
    const { leaves, cp, lifted, outDef } = stageFn(name, f, args);
    return unflatten(outDef, bind(Prim.Remat, [...lifted, ...leaves], { body: cp, policy, name }));
  }) as F;
}

/**
 * Applies `layers` in order, checkpointing every `every` layers (default ⌈√n⌉): reverse mode then
 * holds O(n/k + k) activations instead of O(n).
 */
export function checkpointChain<T>(layers: ((x: T) => T)[], options: CheckpointOptions & { every?: number } = {}): (x: T) => T {
  if (!Array.isArray(layers)) throw new ArgumentError(`checkpointChain: layers must be an array of functions, got ${describe(layers)}`);
  layers.forEach((l, i) => checkFn("checkpointChain", l, `layers[${i}]`));
  checkOptions("checkpointChain", options, ["policy", "every"]);
  const n = layers.length;
  const k = options.every ?? Math.max(1, Math.ceil(Math.sqrt(n)));
  if (!Number.isInteger(k) || k < 1) throw new ArgumentError(`checkpointChain: every must be a positive integer, got ${k}`);
  const blocks: ((x: T) => T)[] = [];
  for (let i = 0; i < n; i += k) {
    const group = layers.slice(i, i + k);
    blocks.push(checkpoint((x: T) => group.reduce((y, layer) => layer(y), x), options));
  }
  return (x: T) => blocks.reduce((y, block) => block(y), x);
}
