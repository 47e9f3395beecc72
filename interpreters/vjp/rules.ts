/**
 * Transpose rules of the linear primitives: given the cotangent of the output and the operands
 * (linear ones are `UndefPrimal`, the rest known values), the cotangents of the linear operands.
 * Written with bound ops only, so reverse mode composes with every other transform.
 */
import { ArgumentError } from "../../src/core/errors.js";
import { bind } from "../../src/core/interpreter.js";
import * as lax from "../../src/core/lax.js";
import type { NDArray } from "../../src/core/ndarray.js";
import { Prim, type PrimParams } from "../../src/core/prim.js";
import { invertPerm, range } from "../../src/core/shape.js";
import { type ClosedProgram, Program } from "../../src/ir/ir.js";
import { traceToProgram } from "../../src/ir/trace.js";
import { type LinArg, type TransposeRule, type TransposeRules, UndefPrimal, transposeProgram } from "./transpose.js";

/** A rule for a single-output primitive, given its output's cotangent. */
type SingleRule<P extends Prim> = (ct: NDArray, args: LinArg[], params: PrimParams[P]) => (NDArray | null)[];
const single = <P extends Prim>(rule: SingleRule<P>): TransposeRule<P> => (cts, args, params) => rule(cts[0]!, args, params);

const undef = (a: LinArg | undefined): a is UndefPrimal => a instanceof UndefPrimal;
const known = (a: LinArg | undefined): NDArray => {
  if (a instanceof UndefPrimal) throw new Error("transpose: a nonlinear use of a linear value");
  return a!;
};

function notLinear<P extends Prim>(prim: P): TransposeRule<P> {
  return () => {
    throw new ArgumentError(`${prim} is not linear, so it cannot be transposed (reverse mode met it in a linear program)`);
  };
}

/** The transpose of dot_general with respect to one operand (`which` = 0 for lhs, 1 for rhs). */
function dotTranspose(ct: NDArray, args: LinArg[], { contract: [xc, yc], batch: [xb, yb] }: PrimParams[Prim.DotGeneral], which: 0 | 1): NDArray {
  const [x, y] = args;
  const xAval = undef(x) ? x.aval : known(x);
  const yAval = undef(y) ? y.aval : known(y);
  const xn = xAval.shape.length, yn = yAval.shape.length, nb = xb.length;
  const xFree = range(xn).filter((d) => !xc.includes(d) && !xb.includes(d));
  const yFree = range(yn).filter((d) => !yc.includes(d) && !yb.includes(d));
  const ctX = range(xFree.length).map((i) => nb + i);
  const ctY = range(yFree.length).map((i) => nb + xFree.length + i);
  let res: NDArray, toOperand: number[];
  if (which === 0) {
    res = lax.dotGeneral(ct, known(y), [ctY, yFree], [range(nb), yb]);
    const ycSorted = [...yc].sort((a, b) => a - b);
    toOperand = [...xb, ...xFree, ...ycSorted.map((d) => xc[yc.indexOf(d)]!)];
  } else {
    res = lax.dotGeneral(known(x), ct, [xFree, ctX], [xb, range(nb)]);
    const xcSorted = [...xc].sort((a, b) => a - b);
    toOperand = [...yb, ...xcSorted.map((d) => yc[xc.indexOf(d)]!), ...yFree];
  }
  return lax.transpose(res, invertPerm(toOperand));
}

const transposed = new WeakMap<Program, Map<string, ClosedProgram>>();

/**
 * The program mapping (known inputs, cotangents of the `present` outputs) to cotangents of the
 * `linear` inputs of a linear program.
 */
function transposedProgram(cp: ClosedProgram, linear: readonly boolean[], present: readonly boolean[]): ClosedProgram {
  const key = `${linear.map(Number).join("")}:${present.map(Number).join("")}`;
  let byKey = transposed.get(cp.program);
  if (byKey === undefined) transposed.set(cp.program, (byKey = new Map()));
  let hit = byKey.get(key);
  if (hit !== undefined) return hit;
  const p = cp.program;
  const knownVars = p.invars.filter((_, i) => !linear[i]), linearVars = p.invars.filter((_, i) => linear[i]);
  const ctAvals = p.outvars.filter((_, i) => present[i]).map((v) => v.aval);
  hit = traceToProgram("transpose", [...knownVars.map((v) => v.aval), ...ctAvals], (ins) => {
    const view = new Program([...p.constvars, ...knownVars], linearVars, p.eqns, p.outvars);
    let k = knownVars.length;
    const cts = present.map((b) => (b ? ins[k++]! : null));
    const res = transposeProgram({ program: view, consts: [...cp.consts, ...ins.slice(0, knownVars.length)] }, cts);
    return res.map((r, i) => r ?? lax.zerosOf(linearVars[i]!.aval));
  });
  byKey.set(key, hit);
  return hit;
}

export const transposeRules: TransposeRules = {

  [Prim.Add]: single((ct, [x, y]) => [undef(x) ? ct : null, undef(y) ? ct : null]),
  [Prim.Sub]: single((ct, [x, y]) => [undef(x) ? ct : null, undef(y) ? lax.neg(ct) : null]),
  [Prim.Neg]: single((ct) => [lax.neg(ct)]),
  [Prim.Mul]: single((ct, [x, y]) => [undef(x) ? lax.mul(ct, known(y)) : null, undef(y) ? lax.mul(known(x), ct) : null]),
  [Prim.Div]: single((ct, [, y]) => [lax.div(ct, known(y)), null]),
  [Prim.ConvertElementType]: single((ct, [x]) => [lax.convert(ct, (x as UndefPrimal).aval.dtype)]),
  [Prim.SelectN]: single((ct, [which, ...cases]) => {
    const zero = lax.zerosOf(ct);
    return [null, ...cases.map((c, i) => (undef(c) ? lax.selectN(known(which), ...cases.map((_, j) => (i === j ? ct : zero))) : null))];
  }),
  [Prim.ReduceSum]: single((ct, [x], { axes }) => {
    const shape = (x as UndefPrimal).aval.shape as number[];
    return [lax.broadcastInDim(ct, shape, range(shape.length).filter((d) => !axes.includes(d)))];
  }),
  [Prim.Cumsum]: single((ct, _a, { axis, reverse }) => [lax.cumsum(ct, axis, !reverse)]),
  [Prim.BroadcastInDim]: single((ct, [x], { shape, broadcastDimensions: bd }) => {
    const xs = (x as UndefPrimal).aval.shape as number[];
    const sumAxes = range(shape.length).filter((d) => {
      const i = bd.indexOf(d);
      return i < 0 || (xs[i] === 1 && shape[d] !== 1);
    });
    return [lax.reshape(lax.reduceSum(ct, sumAxes), xs)];
  }),
  [Prim.Reshape]: single((ct, [x]) => [lax.reshape(ct, (x as UndefPrimal).aval.shape as number[])]),
  [Prim.Transpose]: single((ct, _a, { perm }) => [lax.transpose(ct, invertPerm(perm))]),
  [Prim.Rev]: single((ct, _a, { axes }) => [lax.rev(ct, axes)]),
  [Prim.Slice]: single((ct, [x], { start, step }) => {
    const xs = (x as UndefPrimal).aval.shape;
    const config = xs.map((n, d): [number, number, number] => {
      const m = ct.shape[d]!;
      return [start[d]!, n - start[d]! - (m > 0 ? (m - 1) * step[d]! + 1 : 0), step[d]! - 1];
    });
    return [lax.pad(ct, lax.scalar(0, ct.dtype), config)];
  }),
  [Prim.Pad]: single((ct, [x, v], { config }) => {
    const xs = undef(x) ? x.aval.shape : known(x).shape;
    const start = config.map(([lo]) => lo);
    const limit = xs.map((n, d) => config[d]![0] + (n > 0 ? (n - 1) * (config[d]![2] + 1) + 1 : 0));
    const ctX = lax.slice(ct, start, limit, config.map(([, , i]) => i + 1));
    const all = range(ct.ndim);
    const ctV = undef(v) ? lax.sub(lax.reduceSum(ct, all), lax.reduceSum(ctX, all)) : null;
    return [undef(x) ? ctX : null, ctV];
  }),
  [Prim.Concatenate]: single((ct, xs, { axis }) => {
    let at = 0;
    return xs.map((x) => {
      const n = undef(x) ? x.aval.shape[axis]! : known(x).shape[axis]!;
      at += n;
      return undef(x) ? lax.sliceAxis(ct, axis, at - n, at) : null;
    });
  }),
  [Prim.Gather]: single((ct, [x, idx], { axis, batchDims }) =>
    [lax.scatterAdd(lax.zerosOf((x as UndefPrimal).aval), known(idx), ct, axis, batchDims), null]),
  [Prim.ScatterAdd]: single((ct, [x, idx, u], { axis, batchDims }) =>
    [undef(x) ? ct : null, null, undef(u) ? lax.gather(ct, known(idx), axis, batchDims) : null]),
  [Prim.DynamicSlice]: single((ct, [x, ...starts]) =>
    [lax.dynamicUpdateSlice(lax.zerosOf((x as UndefPrimal).aval), ct, starts.map(known)), ...starts.map(() => null)]),
  [Prim.DynamicUpdateSlice]: single((ct, [x, u, ...starts]) => {
    const s = starts.map(known);
    const uAval = undef(u) ? u.aval : known(u);
    return [
      undef(x) ? lax.dynamicUpdateSlice(ct, lax.zerosOf(uAval), s) : null,
      undef(u) ? lax.dynamicSlice(ct, s, uAval.shape as number[]) : null,
      ...starts.map(() => null),
    ];
  }),
  [Prim.DotGeneral]: single((ct, args, params) => [
    undef(args[0]) ? dotTranspose(ct, args, params, 0) : null,
    undef(args[1]) ? dotTranspose(ct, args, params, 1) : null,
  ]),
  // A compiled linear call transposes into a compiled call of its transposed program.
  [Prim.JitCall]: (cts, args, { program, name }) => {
    const linear = args.map(undef);
    const present = cts.map((c) => c !== null);
    const tp = transposedProgram(program, linear, present);
    const knownArgs = args.filter((a): a is NDArray => !undef(a));
    const outs = bind(Prim.JitCall, [...knownArgs, ...(cts.filter((c) => c !== null) as NDArray[])], { program: tp, name: `transpose(${name})` });
    let k = 0;
    return linear.map((l) => (l ? outs[k++]! : null));
  },
  [Prim.Exp]: notLinear(Prim.Exp),
  [Prim.Log]: notLinear(Prim.Log),
  [Prim.Log1p]: notLinear(Prim.Log1p),
  [Prim.Expm1]: notLinear(Prim.Expm1),
  [Prim.Sin]: notLinear(Prim.Sin),
  [Prim.Cos]: notLinear(Prim.Cos),
  [Prim.Tanh]: notLinear(Prim.Tanh),
  [Prim.Atan]: notLinear(Prim.Atan),
  [Prim.Logistic]: notLinear(Prim.Logistic),
  [Prim.Sqrt]: notLinear(Prim.Sqrt),
  [Prim.Rsqrt]: notLinear(Prim.Rsqrt),
  [Prim.Abs]: notLinear(Prim.Abs),
  [Prim.Pow]: notLinear(Prim.Pow),
  [Prim.Max]: notLinear(Prim.Max),
  [Prim.Min]: notLinear(Prim.Min),
  [Prim.Sign]: notLinear(Prim.Sign),
  [Prim.Floor]: notLinear(Prim.Floor),
  [Prim.Eq]: notLinear(Prim.Eq),
  [Prim.Ne]: notLinear(Prim.Ne),
  [Prim.Lt]: notLinear(Prim.Lt),
  [Prim.Le]: notLinear(Prim.Le),
  [Prim.Gt]: notLinear(Prim.Gt),
  [Prim.Ge]: notLinear(Prim.Ge),
  [Prim.And]: notLinear(Prim.And),
  [Prim.Or]: notLinear(Prim.Or),
  [Prim.Not]: notLinear(Prim.Not),
  [Prim.StopGradient]: notLinear(Prim.StopGradient),
  [Prim.ReduceMax]: notLinear(Prim.ReduceMax),
  [Prim.ReduceMin]: notLinear(Prim.ReduceMin),
  [Prim.ArgMax]: notLinear(Prim.ArgMax),
  [Prim.ArgMin]: notLinear(Prim.ArgMin),
};