/**
 * vmap: runs f under the batch interpreter. Inputs have their mapped axis moved to 0; outputs
 * that do not depend on a mapped input are broadcast along the batch, then moved to `outAxes`.
 */
import { BatchInterpreter } from "../../interpreters/batch/index.js";
import { BatchError, ShapeError, describe } from "../core/errors.js";
import { currentInterpreter, withInterpreter } from "../core/interpreter.js";
import * as lax from "../core/lax.js";
import type { NDArray } from "../core/ndarray.js";
import { fmtShape, range } from "../core/shape.js";
import { broadcastPrefix, unflatten } from "../tree.js";
import { checkFn, checkOptions, flattenArrays } from "./args.js";
import type { ArrayTree, Fn, Inputs } from "../types.js";

export interface VmapOptions {
  /** Mapped axis per argument: a number, null (not mapped), or a pytree prefix of the arguments. */
  inAxes?: unknown;
  /** Where the batch axis goes in each output: a number, or a pytree prefix of the output. */
  outAxes?: unknown;
}

function axisFor(what: string, ax: unknown, ndim: number, i: number): number | null {
  if (ax === null || ax === undefined) return null;
  if (typeof ax !== "number" || !Number.isInteger(ax) || ax < -ndim || ax >= ndim) {
    throw new ShapeError(`vmap: ${what} ${describe(ax)} is out of range for leaf ${i}, which has rank ${ndim}`);
  }
  return ax < 0 ? ax + ndim : ax;
}

/** Vectorises f over a mapped axis of its arguments. */
export function vmap<F extends Fn>(f: F, options?: VmapOptions): (...args: Inputs<Parameters<F>>) => ArrayTree<ReturnType<F>>;
export function vmap(f: (...args: any[]) => any, options: VmapOptions = {}): (...args: any[]) => any {
  checkFn("vmap", f);
  checkOptions("vmap", options, ["inAxes", "outAxes"]);
  const { inAxes = 0, outAxes = 0 } = options;
  return (...args: any[]) => {
    const [xs, def] = flattenArrays("vmap", "the arguments", args);
    const prefix = Array.isArray(inAxes) ? inAxes : args.map(() => inAxes);
    if (Array.isArray(inAxes) && inAxes.length !== args.length) {
      throw new BatchError(`vmap: inAxes has ${inAxes.length} entries but f was called with ${args.length} arguments`);
    }
    const axes = broadcastPrefix("vmap", "inAxes", prefix, args).map((a, i) => axisFor("inAxes", a, xs[i]!.ndim, i));
    let size = -1;
    axes.forEach((a, i) => {
      if (a === null) return;
      const n = xs[i]!.shape[a]!;
      if (size >= 0 && n !== size) {
        const desc = axes
          .map((b, j) => (b === null ? null : `leaf ${j} ${fmtShape(xs[j]!.shape)} axis ${b} has size ${xs[j]!.shape[b]}`))
          .filter((s) => s);
        throw new BatchError(`vmap: the mapped axes must all have one size, but ${desc.join("; ")}`);
      }
      size = n;
    });
    if (size < 0) throw new BatchError("vmap: no argument is mapped (every inAxes entry is null); map at least one axis");
    const interp = new BatchInterpreter(currentInterpreter(), size);
    const ins = xs.map((x, i) => (axes[i] === null ? x : interp.pack(lax.moveAxis(x, axes[i]!, 0))));
    try {
      const [outs, outDef] = flattenArrays(
        "vmap",
        "the output of f",
        withInterpreter(interp, () => f(...unflatten(def, ins))),
      );
      const out = unflatten(outDef, outs);
      const outAx = broadcastPrefix("vmap", "outAxes", outAxes, out);
      const results = outs.map((o, i): NDArray => {
        const val = interp.unpack(o);
        const ax = outAx[i];
        if (ax === null || ax === undefined) {
          if (val !== null) throw new BatchError(`vmap: outAxes is null for output leaf ${i}, but it depends on a mapped input`);
          return o;
        }
        const batched =
          val ??
          lax.broadcastInDim(
            o,
            [size, ...o.shape],
            range(o.ndim).map((d) => d + 1),
          );
        return lax.moveAxis(batched, 0, axisFor("outAxes", ax, batched.ndim, i)!);
      });
      return unflatten(outDef, results);
    } finally {
      interp.tag.alive = false;
    }
  };
}
