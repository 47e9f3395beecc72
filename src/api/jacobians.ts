/**
 * Jacobians and Hessians built from the other transforms: jacfwd pushes the standard basis
 * forward with vmap(jvp); jacrev pulls it back with vmap(vjp); hessian = jacfwd(jacrev). Results
 * have the output's tree, each leaf holding the input tree (a tuple of them for several argnums)
 * with leaves of shape out.shape ++ in.shape.
 */
import { ArgumentError, naming } from "../core/errors.js";
import * as lax from "../core/lax.js";
import type { NDArray } from "../core/ndarray.js";
import { sizeOf } from "../core/shape.js";
import { type TreeDef, unflatten } from "../tree.js";
import { checkFn, checkOptions, flattenArrays, normArgnums, requireFloat } from "./args.js";
import { jvp, vjp } from "./autodiff.js";
import { vmap } from "./vmap.js";
import type { ArgsAt, Argnums, Fn, Inputs, Jacobian } from "../types.js";

export interface JacOptions<A extends Argnums = Argnums> {
  /** Which positional argument(s) to differentiate with respect to (default 0). */
  argnums?: A;
}

/** The Jacobian of f in the arguments at A: f's output tree, each leaf holding the argument tree(s). */
type JacobianOf<F extends Fn, A extends Argnums> = Jacobian<ReturnType<F>, ArgsAt<Parameters<F>, A>>;

/** The float identity of size n, built on the host. */
function basis(n: number, dtype: NDArray["dtype"]): NDArray {
  const e = lax.full([n, n], 0, dtype);
  for (let i = 0; i < n; i++) e.values[i * n + i] = 1;
  return e;
}

/** Cuts a flat leading axis into per-leaf blocks reshaped to `leading ++ shape`. */
function split(x: NDArray, shapes: readonly number[][], reshape: (block: NDArray, shape: number[]) => NDArray): NDArray[] {
  let at = 0;
  return shapes.map((s) => {
    const n = sizeOf(s);
    at += n;
    return reshape(lax.sliceAxis(x, 0, at - n, at), s);
  });
}

/** Assembles per (out leaf, in leaf) blocks into the Jacobian tree. */
function assemble(blocks: NDArray[][], outDef: TreeDef, inDef: TreeDef, multi: boolean): any {
  return unflatten(
    outDef,
    blocks.map((row) => {
      const t = unflatten(inDef, row) as unknown[];
      return multi ? t : t[0];
    }),
  );
}

function setup(fn: string, f: (...args: any[]) => any, argnums: Argnums, args: any[]) {
  const nums = normArgnums(fn, argnums, args.length);
  const [xs, inDef] = flattenArrays(
    fn,
    "the differentiated arguments",
    nums.map((i) => args[i]),
  );
  if (xs.length === 0)
    throw new ArgumentError(`${fn}: the differentiated argument(s) ${nums.join(", ")} hold no arrays; pass at least one float array`);
  requireFloat(fn, xs, `argument ${nums.join(", ")}`);
  const call = (...vals: unknown[]) => {
    const full = args.slice();
    nums.forEach((a, i) => (full[a] = vals[i]));
    return f(...full);
  };
  return { xs, inDef, call, primals: unflatten(inDef, xs) as unknown[], multi: typeof argnums !== "number" };
}

/** Forward-mode Jacobian: one jvp per input element, batched with vmap. */
export function jacfwd<F extends Fn, const A extends Argnums = 0>(
  f: F,
  options?: JacOptions<A>,
): (...args: Inputs<Parameters<F>>) => JacobianOf<F, A>;
export function jacfwd(f: (...args: any[]) => any, options: JacOptions = {}): (...args: any[]) => any {
  checkFn("jacfwd", f);
  checkOptions("jacfwd", options, ["argnums"]);
  return (...args: any[]) => {
    const { xs, inDef, call, primals, multi } = setup("jacfwd", f, options.argnums ?? 0, args);
    const inShapes = xs.map((x) => x.shape);
    const n = xs.reduce((s, x) => s + x.size, 0);
    const push = (v: NDArray) => {
      const ts = split(v, inShapes, (b, s) => lax.reshape(b, s)).map((t, i) => lax.convert(t, xs[i]!.dtype));
      return jvp(call, primals, unflatten(inDef, ts) as unknown[])[1];
    };
    const outTangents = vmap(push)(basis(n, xs[0]!.dtype));
    const [outs, outDef] = flattenArrays("jacfwd", "the output of f", outTangents);
    const blocks = outs.map((o) => {
      const outShape = o.shape.slice(1);
      return split(o, inShapes, (b, s) => {
        // b: [size(s), ...outShape] -> [...outShape, ...s]
        const r = lax.reshape(b, [...s, ...outShape]);
        const perm = [...outShape.map((_, d) => s.length + d), ...s.map((_, d) => d)];
        return lax.transpose(r, perm);
      });
    });
    return assemble(blocks, outDef, inDef, multi);
  };
}

/** Reverse-mode Jacobian: one vjp per output element, batched with vmap. */
export function jacrev<F extends Fn, const A extends Argnums = 0>(
  f: F,
  options?: JacOptions<A>,
): (...args: Inputs<Parameters<F>>) => JacobianOf<F, A>;
export function jacrev(f: (...args: any[]) => any, options: JacOptions = {}): (...args: any[]) => any {
  checkFn("jacrev", f);
  checkOptions("jacrev", options, ["argnums"]);
  return (...args: any[]) => {
    const { xs, inDef, call, primals, multi } = setup("jacrev", f, options.argnums ?? 0, args);
    const [out, pull] = vjp(call, ...primals);
    const [outs, outDef] = flattenArrays("jacrev", "the output of f", out);
    const outShapes = outs.map((o) => o.shape);
    const m = outs.reduce((s, o) => s + o.size, 0);
    const pullRow = (u: NDArray) => {
      const cts = split(u, outShapes, (b, s) => lax.reshape(b, s)).map((c, i) => lax.convert(c, outs[i]!.dtype));
      return pull(unflatten(outDef, cts));
    };
    const rows = vmap(pullRow)(basis(m, outs[0]?.dtype === "float64" ? "float64" : "float32"));
    const [inCts] = flattenArrays("jacrev", "cotangents", rows);
    // inCts[j]: [m, ...inShape_j]; cut rows per output leaf.
    const perIn = inCts.map((c, j) => split(c, outShapes, (b, s) => lax.reshape(b, [...s, ...xs[j]!.shape])));
    const blocks = outs.map((_, i) => perIn.map((col) => col[i]!));
    return assemble(blocks, outDef, inDef, multi);
  };
}

/** The Hessian: forward over reverse. */
export function hessian<F extends Fn, const A extends Argnums = 0>(
  f: F,
  options?: JacOptions<A>,
): (...args: Inputs<Parameters<F>>) => Jacobian<JacobianOf<F, A>, ArgsAt<Parameters<F>, A>>;
export function hessian(f: (...args: any[]) => any, options: JacOptions = {}): (...args: any[]) => any {
  checkFn("hessian", f);
  checkOptions("hessian", options, ["argnums"]);
  const h = jacfwd(jacrev(f, options), options);
  return (...args: any[]) => naming("hessian", () => h(...args));
}
