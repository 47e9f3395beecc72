/**
 * Program-to-program optimisations run before code generation: common-subexpression elimination,
 * broadcast composition and outer products as multiplies here, and dead-code elimination (shared
 * with partial evaluation, in src/ir). Each is a single iterative sweep (no recursion), so a
 * 100,000-equation program is fine. Constant folding happens earlier, while staging (all-constant
 * work runs then).
 */
import { HIGHER_ORDER, Prim } from "../core/prim.js";
import { type Eqn, Program, Var } from "./ir.js";
import { dotResultAxes, isOuterProduct, shapeEq } from "../core/shape.js";

export { dce } from "./ir.js";

/** The params part of a CSE key; most equations have none, and stringifying `{}` 100,000 times shows. */
const paramsKey = (params: object): string => {
  for (const _ in params) return JSON.stringify(params);
  return "";
};

/** Replaces an equation that repeats an earlier one (same primitive, inputs and params) by its outputs. */
export function cse(p: Program): Program {
  const subst = new Map<Var, Var>();
  const seen = new Map<string, Eqn>();
  const ids = new Map<Var, number>();
  const id = (v: Var) => {
    let n = ids.get(v);
    if (n === undefined) ids.set(v, (n = ids.size));
    return n;
  };
  const eqns: Eqn[] = [];
  let changed = false;
  for (const e of p.eqns) {
    const inputs = e.inputs.map((v) => subst.get(v) ?? v);
    const renamed = inputs.some((v, i) => v !== e.inputs[i]) ? { ...e, inputs } : e;
    if (!HIGHER_ORDER.has(e.prim)) {
      const key = `${e.prim}|${inputs.map(id).join(",")}|${paramsKey(e.params)}`;
      const prev = seen.get(key);
      if (prev !== undefined) {
        e.outvars.forEach((v, i) => subst.set(v, prev.outvars[i]!));
        changed = true;
        continue;
      }
      seen.set(key, renamed);
    }
    changed ||= renamed !== e;
    eqns.push(renamed);
  }
  if (!changed) return p;
  return new Program(
    p.constvars,
    p.invars,
    eqns,
    p.outvars.map((v) => subst.get(v) ?? v),
  );
}

/**
 * Composes a broadcast of a broadcast into one broadcast of the first one's operand. vmap
 * broadcasts unbatched operands that are often broadcasts themselves (of a literal, say); composed,
 * the inner one dies and the outer one, when read only elementwise, stays virtual, where the pair
 * would materialise the inner one on every call.
 */
export function composeBroadcasts(p: Program): Program {
  const producers = new Map<Var, Eqn<Prim.BroadcastInDim>>();
  let changed = false;
  const eqns = p.eqns.map((e) => {
    if (e.prim !== Prim.BroadcastInDim) return e;
    let b = e as Eqn<Prim.BroadcastInDim>;
    const inner = producers.get(b.inputs[0]!);
    if (inner !== undefined) {
      // y's dim i lands on dim inner[i] of x, which lands on dim outer[inner[i]] of the result.
      const broadcastDimensions = inner.params.broadcastDimensions.map((d) => b.params.broadcastDimensions[d]!);
      b = { ...b, inputs: inner.inputs, params: { shape: b.params.shape, broadcastDimensions } };
      changed = true;
    }
    producers.set(b.outvars[0]!, b);
    return b;
  });
  return changed ? new Program(p.constvars, p.invars, eqns, p.outvars) : p;
}

/**
 * Rewrites a dot_general that contracts nothing, or only dims of size 1 (an outer product per batch
 * entry, as reverse mode makes for per-example gradients, and for the weights of a matrix-vector
 * product in a scan's step), into `mul` of its operands broadcast along the result's axes (reshaped
 * without the contracted dims, transposed first where their dims land out of order). The multiply
 * then fuses with its neighbours and the broadcasts stay virtual, where the product kernel would
 * run one tiny GEMM per element row. The eager kernel computes the same `mul`
 * (interpreters/eval/impl.ts).
 */
export function outerProducts(p: Program): Program {
  if (!p.eqns.some(isOuterProductEqn)) return p;
  const eqns: Eqn[] = [];
  for (const e of p.eqns) {
    if (!isOuterProductEqn(e)) {
      eqns.push(e);
      continue;
    }
    const { contract, batch } = e.params;
    const out = e.outvars[0]!;
    const shape = out.aval.shape;
    const axes = dotResultAxes(e.inputs[0]!.aval.shape.length, e.inputs[1]!.aval.shape.length, contract, batch);
    const spread = e.inputs.map((x, k) => {
      let v = x;
      // Contracted dims (of size 1) land nowhere in the result (-1): dropped by a reshape.
      const at = axes[k]!.filter((a) => a >= 0);
      if (at.length < axes[k]!.length) {
        v = new Var({ shape: x.aval.shape.filter((_, d) => axes[k]![d]! >= 0), dtype: x.aval.dtype });
        eqns.push({ prim: Prim.Reshape, inputs: [x], params: { shape: v.aval.shape.slice() }, outvars: [v] });
      }
      const source = v;
      const perm = at.map((_, d) => d).sort((a, b) => at[a]! - at[b]!);
      if (perm.some((d, i) => d !== i)) {
        v = new Var({ shape: perm.map((d) => source.aval.shape[d]!), dtype: x.aval.dtype });
        eqns.push({ prim: Prim.Transpose, inputs: [source], params: { perm }, outvars: [v] });
      }
      if (shapeEq(v.aval.shape, shape)) return v;
      const b = new Var({ shape, dtype: x.aval.dtype });
      eqns.push({
        prim: Prim.BroadcastInDim,
        inputs: [v],
        params: { shape: shape.slice(), broadcastDimensions: perm.map((d) => at[d]!) },
        outvars: [b],
      });
      return b;
    });
    eqns.push({ prim: Prim.Mul, inputs: spread, params: {}, outvars: [out] });
  }
  return new Program(p.constvars, p.invars, eqns, p.outvars);
}

const isOuterProductEqn = (e: Eqn): e is Eqn<Prim.DotGeneral> =>
  e.prim === Prim.DotGeneral && isOuterProduct(e.inputs[0]!.aval.shape, (e as Eqn<Prim.DotGeneral>).params.contract[0]);
