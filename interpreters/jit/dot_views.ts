/**
 * Products that read their operands through broadcasts and transposes. A vmapped model multiplies
 * an unbatched matrix (the data) by every model's weights: the batching rule broadcasts the matrix,
 * often after transposing it, so the product is one batched call. Materialising those copies cost
 * as much as the products; here the dot_general reads the broadcast's source with stride 0 along
 * the new axes and the transpose's with permuted strides (`dotStrided`, which gathers operands with
 * strides anyway and gathers a stride-0 operand once for all entries). Where that kernel does not
 * take the product, the step materialises the operands and runs the plain one.
 */
import { allocate, allocateFull } from "../../src/core/dtype.js";
import { ConcreteArray } from "../../src/core/ndarray.js";
import { Prim, type PrimParams } from "../../src/core/prim.js";
import { stridesOf } from "../../src/core/shape.js";
import { recycle } from "../../src/core/buffers.js";
import { cpuImpl } from "../../src/ir/executable.js";
import type { Eqn, Program, Var } from "../../src/ir/ir.js";
import { dotStrided } from "../eval/kernels/dot_strided.js";
import { copyStrided } from "../eval/kernels/strided.js";
import type { Step } from "./compile.js";

/** An operand as its source variable read with element strides over the operand's own dims. */
interface OperandView {
  source: Var;
  strides: number[];
}

/** A dot_general with at least one operand read through broadcasts and transposes, and those equations. */
export interface ViewDot {
  dot: Eqn<Prim.DotGeneral>;
  views: [OperandView, OperandView];
  through: Eqn[];
}

const FLOAT = new Set(["float32", "float64"]);

/**
 * The float dot_generals whose operands come from broadcast_in_dim / transpose chains read by
 * nothing but dot_generals (so each chain is absorbed: never computed), and the absorbed equations.
 */
export function viewDots(p: Program, consumers: Map<Var, Eqn[]>, outputs: Set<Var>): { dots: Map<Eqn, ViewDot>; absorbed: Set<Eqn> } {
  const dots = new Map<Eqn, ViewDot>(),
    absorbed = new Set<Eqn>();
  if (!p.eqns.some((e) => e.prim === Prim.DotGeneral)) return { dots, absorbed };
  const producer = new Map<Var, Eqn>();
  for (const e of p.eqns) for (const v of e.outvars) producer.set(v, e);
  /** v's chain back to its source, newest first, through variables only products (or the chain) read. */
  const chain = (v: Var): Eqn[] => {
    const links: Eqn[] = [];
    for (let cur = v; ;) {
      const e = producer.get(cur);
      if (e === undefined || (e.prim !== Prim.BroadcastInDim && e.prim !== Prim.Transpose) || outputs.has(cur)) return links;
      const readers = consumers.get(cur) ?? [];
      const onlyProducts =
        links.length === 0 ? readers.every((c) => c.prim === Prim.DotGeneral && FLOAT.has(c.outvars[0]!.aval.dtype)) : readers.length === 1;
      if (!onlyProducts) return links;
      links.push(e);
      cur = e.inputs[0]!;
    }
  };
  for (const e of p.eqns) {
    if (e.prim !== Prim.DotGeneral || !FLOAT.has(e.outvars[0]!.aval.dtype)) continue;
    const links = e.inputs.map(chain);
    if (links.every((l) => l.length === 0)) continue;
    const views = e.inputs.map((v, k) => viewThrough(v, links[k]!)) as [OperandView, OperandView];
    dots.set(e, { dot: e as Eqn<Prim.DotGeneral>, views, through: links.flat() });
    for (const l of links.flat()) absorbed.add(l);
  }
  return { dots, absorbed };
}

/** `v` as its chain's source with strides: composed from the source's row-major strides forward. */
function viewThrough(v: Var, links: readonly Eqn[]): OperandView {
  if (links.length === 0) return { source: v, strides: stridesOf(v.aval.shape) };
  const source = links[links.length - 1]!.inputs[0]!;
  let strides = stridesOf(source.aval.shape);
  for (let k = links.length - 1; k >= 0; k--) {
    const e = links[k]!;
    const inShape = e.inputs[0]!.aval.shape;
    if (e.prim === Prim.Transpose) {
      const { perm } = e.params as PrimParams[Prim.Transpose];
      strides = perm.map((d) => strides[d]!);
    } else {
      const { shape, broadcastDimensions } = e.params as PrimParams[Prim.BroadcastInDim];
      const next = shape.map(() => 0);
      broadcastDimensions.forEach((d, i) => (next[d] = inShape[i] === 1 ? 0 : strides[i]!));
      strides = next;
    }
  }
  return { source, strides };
}

/** Runs a `ViewDot` on the strided kernel, or materialises its operands and runs the plain product. */
export function viewDotStep({ dot, views }: ViewDot, slot: (v: Var) => number): Step {
  const [l, r] = views.map((w) => slot(w.source));
  const result = slot(dot.outvars[0]!);
  const [lShape, rShape] = dot.inputs.map((v) => v.aval.shape as number[]) as [number[], number[]];
  const [lStrides, rStrides] = views.map((w) => w.strides) as [number[], number[]];
  const direct = views.map((w, k) => w.source === dot.inputs[k]);
  const out = dot.outvars[0]!.aval;
  const n = out.shape.reduce((a, d) => a * d, 1);
  const { contract, batch } = dot.params;
  const impl = cpuImpl();
  const materialise = (x: ConcreteArray, k: number, shape: number[], strides: number[]) => {
    if (direct[k]) return x;
    const data = allocate(
      x.dtype,
      shape.reduce((a, d) => a * d, 1),
    );
    copyStrided(x.values, 0, strides, data, 0, stridesOf(shape), shape);
    return new ConcreteArray(data, shape, x.dtype);
  };
  return (env) => {
    const a = env[l]!,
      b = env[r]!;
    const data = allocateFull(out.dtype, n);
    if (
      a.values.constructor === b.values.constructor &&
      dotStrided(a.values as Float32Array, lShape, b.values as Float32Array, rShape, contract, batch, data as Float32Array, lStrides, rStrides)
    ) {
      env[result] = new ConcreteArray(data, out.shape as number[], out.dtype);
      return;
    }
    recycle(out.dtype, data);
    env[result] = impl(dot.prim, [materialise(a, 0, lShape, lStrides), materialise(b, 1, rShape, rStrides)], dot.params, [out])[0]!;
  };
}
