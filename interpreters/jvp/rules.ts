/**
 * Forward-mode rules: for each primitive, its outputs and their tangents, given primals and
 * tangents. Written only with bound ops, so they run under any interpreter below (which is what
 * makes jvp-of-jvp and linearize work). A `Zero` tangent is symbolic: rules skip the work it implies.
 */
import { isFloat } from "../../src/core/dtype.js";
import { bind, bind1, currentInterpreter, withInterpreter } from "../../src/core/interpreter.js";
import * as lax from "../../src/core/lax.js";
import { type Aval, ConcreteArray, type NDArray, fmtAval } from "../../src/core/ndarray.js";
import { ArgumentError, ShapeError, customVjpForwardError } from "../../src/core/errors.js";
import { Prim, type PrimParams } from "../../src/core/prim.js";
import { range, shapeEq } from "../../src/core/shape.js";
import { type ClosedProgram, Program, Var, evalProgram, permuteProgram, where } from "../../src/ir/ir.js";
import { traceToProgram } from "../../src/ir/trace.js";
import { linalgJvpRules } from "./linalg_rules.js";
import { type JvpRule, type JvpRules, JvpInterpreter, type Tangent, Zero } from "./interpreter.js";

const isZero = (t: Tangent): t is Zero => t instanceof Zero;
/** A real array for a tangent (zeros materialised). */
export const instantiate = (t: Tangent): NDArray => (t instanceof Zero ? lax.zerosOf(t) : t);

/** tangent * factor, skipping symbolic zeros. */
const scale = (t: Tangent, factor: NDArray): Tangent => (isZero(t) ? t : lax.mul(t, factor));
const plus = (a: Tangent, b: Tangent): Tangent => (isZero(a) ? b : isZero(b) ? a : lax.add(a, b));
const c = (x: NDArray, v: number): NDArray => lax.fill(x, v);

/** y = f(x) with dy = dx * f'(x, y). */
function unary<P extends Prim>(prim: P, deriv: (x: NDArray, y: NDArray) => NDArray): JvpRule<P> {
  return ([x], [t], params) => {
    const y = bind1(prim, [x!], params);
    return [[y], [isZero(t!) ? t! : lax.mul(t!, deriv(x!, y))]];
  };
}

/** A primitive linear in the operands at `linearArgs` (all, if omitted): its tangent is itself on the tangents. */
function linear<P extends Prim>(prim: P, isLinear: (i: number) => boolean = () => true): JvpRule<P> {
  return (xs, ts, params) => {
    const out = bind(prim, xs, params);
    if (ts.every((t, i) => !isLinear(i) || isZero(t))) return [out, out.map((o) => new Zero(o))];
    const targs = xs.map((x, i) => (isLinear(i) ? instantiate(ts[i]!) : x));
    return [out, bind(prim, targs, params)];
  };
}

/** Comparisons, sign, floor, argmax, stop_gradient: the tangent is zero. */
function zeroDerivative<P extends Prim>(prim: P): JvpRule<P> {
  return (xs, _ts, params) => {
    const out = bind(prim, xs, params);
    return [out, out.map((o) => new Zero(o))];
  };
}

/** max/min: the winner's tangent; a tie splits it 1/2 : 1/2. */
function extremum(prim: Prim.Max | Prim.Min): JvpRule<Prim.Max | Prim.Min> {
  return ([x, y], [tx, ty]) => {
    const out = bind1(prim, [x!, y!], {});
    if (isZero(tx!) && isZero(ty!)) return [[out], [tx!]];
    const wins = prim === Prim.Max ? lax.gt(x!, y!) : lax.lt(x!, y!);
    const half = lax.mul(lax.convert(lax.eq(x!, y!), x!.dtype), c(x!, 0.5));
    const wx = lax.add(lax.convert(wins, x!.dtype), half);
    const wy = lax.sub(c(x!, 1), wx);
    return [[out], [plus(scale(tx!, wx), scale(ty!, wy))]];
  };
}

/** reduce_max/min: the tangent averaged over the elements that attain the extremum. */
function reduceExtremum<P extends Prim.ReduceMax | Prim.ReduceMin>(prim: P): JvpRule<P> {
  return ([x], [t], params) => {
    const out = bind1(prim, [x!], params);
    if (isZero(t!)) return [[out], [t!]];
    const keep = range(x!.ndim).filter((d) => !params.axes.includes(d));
    const back = (v: NDArray) => lax.broadcastInDim(v, x!.shape, keep);
    const mask = lax.convert(lax.eq(x!, back(out)), x!.dtype);
    const weights = lax.div(mask, back(lax.reduceSum(mask, params.axes)));
    return [[out], [lax.reduceSum(lax.mul(t!, weights), params.axes)]];
  };
}

/** The pieces scatter's jvp needs: where each update lands, and which updates are in range. */
function scatterGeometry(x: NDArray, idx: NDArray, u: NDArray, { axis, batchDims: bd }: PrimParams[Prim.Scatter]) {
  const n = x.shape[axis]!;
  const inRange = lax.and(lax.ge(idx, lax.fill(idx, 0)), lax.lt(idx, lax.fill(idx, n)));
  const idxDims = [...range(bd), ...range(idx.ndim - bd).map((k) => axis + k)];
  const valid = lax.convert(lax.broadcastInDim(inRange, u.shape.slice(), idxDims), x.dtype);
  return {
    /** v (shaped like x) read at each update's position: shaped like u. */
    at: (v: NDArray) => lax.gather(v, idx, axis, bd),
    /** The in-range entries of w (shaped like u) summed into zeros shaped like x. */
    sum: (w: NDArray) => lax.scatterAdd(lax.zerosOf(x), idx, lax.mul(w, valid), axis, bd),
    valid,
  };
}

/**
 * Inclusive products of the 1-d `v` within segments (a segment starts where `start` is true), by
 * log-step doubling: step d multiplies in the value d places back unless a segment starts between.
 */
function segmentedCumprod(v: NDArray, start: NDArray): NDArray {
  const n = v.shape[0]!;
  let val = v,
    flag = start;
  for (let d = 1; d < n; d *= 2) {
    const back = lax.pad(lax.slice(val, [0], [n - d]), lax.scalar(1, val.dtype), [[d, 0, 0]]);
    const backFlag = lax.pad(lax.slice(flag, [0], [n - d]), lax.scalar(1, "bool"), [[d, 0, 0]]);
    val = lax.selectN(flag, lax.mul(back, val), val);
    flag = lax.or(flag, backFlag);
  }
  return val;
}

/** v shifted one place towards the end (towards the start when `back`), `fill` entering. */
const shifted = (v: NDArray, fill: NDArray, back = false): NDArray => {
  const n = v.shape[0]!;
  return back ? lax.pad(lax.slice(v, [1], [n]), fill, [[0, 1, 0]]) : lax.pad(lax.slice(v, [0], [n - 1]), fill, [[1, 0, 0]]);
};

/**
 * For each update u_i of a multiplying scatter, the product of the other updates written to its
 * position, Π_{k≠i, pos_k = pos_i} u_k, without dividing (an update may be 0, or so small that a
 * quotient's second derivative overflows): updates are sorted by position, and each gets the
 * product of those before it times the product of those after it in its segment (segmented scans
 * from both ends). Out-of-range updates (dropped by the scatter) each form their own segment.
 */
function productOfOthers(x: NDArray, idx: NDArray, u: NDArray, g: ReturnType<typeof scatterGeometry>): NDArray {
  const n = u.size;
  if (n <= 1) return lax.fill(u, 1);
  const iotaX = new ConcreteArray(
    Int32Array.from({ length: x.size }, (_, i) => i),
    x.shape.slice(),
    "int32",
  );
  const ids = updateIds(u.shape.slice());
  const inRange = lax.gt(g.valid, lax.fill(g.valid, 0));
  const pos = lax.reshape(lax.selectN(inRange, lax.neg(ids), g.at(iotaX)), [n]);
  const order = lax.argsort(pos, 0);
  const sp = lax.gather(pos, order, 0),
    su = lax.gather(lax.reshape(u, [n]), order, 0);
  const one = lax.scalar(1, u.dtype),
    yes = lax.scalar(1, "bool");
  // Neighbours in different positions: a segment ends at k and the next starts at k + 1.
  const differ = lax.ne(lax.slice(sp, [1], [n]), lax.slice(sp, [0], [n - 1]));
  const starts = lax.pad(differ, yes, [[1, 0, 0]]),
    ends = lax.pad(differ, yes, [[0, 1, 0]]);
  const before = lax.selectN(starts, shifted(segmentedCumprod(su, starts), one), lax.fill(su, 1));
  const fromEnd = lax.rev(segmentedCumprod(lax.rev(su, [0]), lax.rev(ends, [0])), [0]);
  const after = lax.selectN(ends, shifted(fromEnd, one, true), lax.fill(su, 1));
  return lax.reshape(lax.gather(lax.mul(before, after), lax.argsort(order, 0), 0), u.shape.slice());
}

/** 1, 2, ... size as int32 in `shape`: distinct ids for scatter's updates. */
function updateIds(shape: number[]): NDArray {
  const v = new Int32Array(shape.reduce((a, b) => a * b, 1));
  for (let i = 0; i < v.length; i++) v[i] = i + 1;
  return new ConcreteArray(v, shape, "int32");
}

/**
 * scatter. set: d out = dx · [position not written] + scatter_add(du · [update won]); the winner
 * is found by scattering update ids (the same last-write-wins order), as JAX does for repeated
 * indices. mul: out_j = x_j · Π u_i, so d out = dx · Π u + x · Σ du_i · Π_{k≠i} u_k, with the
 * product of the others computed by segmented products, never by dividing. min/max:
 * the tangent of whichever values attain the result, averaged over ties (JAX's rule).
 */
const scatterJvp: JvpRule<Prim.Scatter> = ([x, idx, u], [tx, , tu], params) => {
  const out = bind1(Prim.Scatter, [x!, idx!, u!], params);
  if (isZero(tx!) && isZero(tu!)) return [[out], [tx!]];
  const g = scatterGeometry(x!, idx!, u!, params);
  const f = (m: NDArray) => lax.convert(m, x!.dtype);
  const scat = (base: NDArray, upd: NDArray) => lax.scatter(base, idx!, upd, params.axis, params.op, params.batchDims);
  const spread = (t: Tangent, w: NDArray): Tangent => (isZero(t) ? t : g.sum(lax.mul(t, w)));
  if (params.op === "set") {
    const ids = updateIds(u!.shape.slice());
    const sid = lax.scatter(lax.zerosOf({ shape: x!.shape, dtype: "int32" }), idx!, ids, params.axis, "set", params.batchDims);
    const won = f(lax.eq(lax.gather(sid, idx!, params.axis, params.batchDims), ids));
    return [[out], [plus(scale(tx!, f(lax.eq(sid, lax.fill(sid, 0)))), spread(tu!, won))]];
  }
  if (params.op === "mul") {
    const others = productOfOthers(x!, idx!, u!, g);
    const dx = scale(tx!, scat(lax.fill(x!, 1), u!));
    return [[out], [plus(dx, spread(tu!, lax.mul(others, g.at(x!))))]];
  }
  const won = lax.mul(f(lax.eq(u!, g.at(out))), g.valid);
  const kept = f(lax.eq(x!, out));
  const count = lax.add(g.sum(won), kept);
  const num = plus(scale(tx!, kept), spread(tu!, won));
  return [[out], [isZero(num) ? num : lax.div(num, count)]];
};

const jvpPrograms = new WeakMap<Program, Map<string, ClosedProgram>>();

/**
 * The program computing (outputs, tangents of the `want` outputs) from (inputs, tangents of the
 * `nonzero` inputs). Output tangents are materialised (zeros where symbolically zero).
 */
function jvpProgram(cp: ClosedProgram, nonzero: readonly boolean[], want?: readonly boolean[]): ClosedProgram {
  const key = `${nonzero.map(Number).join("")}:${want?.map(Number).join("") ?? "all"}`;
  let byMask = jvpPrograms.get(cp.program);
  if (byMask === undefined) jvpPrograms.set(cp.program, (byMask = new Map()));
  let hit = byMask.get(key);
  if (hit !== undefined) return hit;
  const avals = cp.program.invars.map((v) => v.aval);
  hit = traceToProgram("jvp", [...avals, ...avals.filter((_, i) => nonzero[i])], (ins) => {
    const interp = new JvpInterpreter(currentInterpreter(), "jvp");
    let k = avals.length;
    const packed = avals.map((_, i) => (nonzero[i] ? interp.pack(ins[i]!, ins[k++]!) : ins[i]!));
    try {
      const pairs = withInterpreter(interp, () => evalProgram(cp.program, cp.consts, packed)).map((o) => interp.unpack(o));
      return [...pairs.map(([p]) => p), ...pairs.filter((_, i) => want?.[i] ?? true).map(([, t]) => instantiate(t))];
    } finally {
      interp.tag.alive = false;
    }
  });
  byMask.set(key, hit);
  return hit;
}

const nonzeroOf = (ts: Tangent[]): NDArray[] => ts.filter((t) => !isZero(t)) as NDArray[];

/** `cp` taking extra trailing inputs of the given avals that it ignores. */
function ignoreTrailing(cp: ClosedProgram, extra: readonly Aval[]): ClosedProgram {
  const p = cp.program;
  return { program: new Program(p.constvars, [...p.invars, ...extra.map((a) => new Var(a))], p.eqns, p.outvars), consts: cp.consts };
}

/** Custom rules see only declared arguments: a closed-over value being differentiated would be lost. */
function noLiftedTangents(name: string, ts: Tangent[], numLifted: number): void {
  if (ts.slice(0, numLifted).some((t) => !isZero(t))) {
    throw new ArgumentError(
      `${name}: the function closes over a value that is being differentiated; pass it as an argument so the custom rule sees it`,
    );
  }
}

function checkAvals(name: string, what: string, got: readonly NDArray[], want: readonly Var[]): void {
  const ok = got.length === want.length && got.every((g, i) => shapeEq(g.shape, want[i]!.aval.shape) && g.dtype === want[i]!.aval.dtype);
  if (!ok) {
    throw new ShapeError(
      `${name}: ${what} are ${got.map(fmtAval).join(", ") || "none"} but must match the function's outputs ${want.map((v) => fmtAval(v.aval)).join(", ")}`,
    );
  }
}

export const jvpRules: JvpRules = {
  // A zero tangent adds nothing: the other one passes through (not an add of materialised zeros).
  [Prim.Add]: ([x, y], [tx, ty]) => [[lax.add(x!, y!)], [plus(tx!, ty!)]],
  [Prim.Sub]: ([x, y], [tx, ty]) => [[lax.sub(x!, y!)], [isZero(ty!) ? tx! : isZero(tx!) ? lax.neg(ty!) : lax.sub(tx!, ty!)]],
  [Prim.Neg]: linear(Prim.Neg),
  [Prim.ConvertElementType]: ([x], [t], params) => {
    const out = lax.convert(x!, params.dtype);
    const differentiable = isFloat(x!.dtype) && isFloat(params.dtype) && !isZero(t!);
    return [[out], [differentiable ? lax.convert(t as NDArray, params.dtype) : new Zero(out)]];
  },
  [Prim.SelectN]: linear(Prim.SelectN, (i) => i > 0),
  // d(xy) = dx y + x dy
  [Prim.Mul]: ([x, y], [tx, ty]) => [[lax.mul(x!, y!)], [plus(scale(tx!, y!), isZero(ty!) ? ty! : lax.mul(x!, ty!))]],
  // d(x/y) = dx/y - dy x/y^2 = (dx - dy out) / y
  [Prim.Div]: ([x, y], [tx, ty]) => {
    const out = lax.div(x!, y!);
    const dx = isZero(tx!) ? tx! : lax.div(tx!, y!);
    const dy = isZero(ty!) ? ty! : lax.mul(ty!, lax.neg(lax.div(out, y!)));
    return [[out], [plus(dx, dy)]];
  },
  [Prim.Exp]: unary(Prim.Exp, (_x, y) => y),
  [Prim.Log]: unary(Prim.Log, (x) => lax.div(c(x, 1), x)),
  [Prim.Log1p]: unary(Prim.Log1p, (x) => lax.div(c(x, 1), lax.add(x, c(x, 1)))),
  [Prim.Expm1]: unary(Prim.Expm1, (x, y) => lax.add(y, c(x, 1))),
  [Prim.Sin]: unary(Prim.Sin, (x) => lax.cos(x)),
  [Prim.Cos]: unary(Prim.Cos, (x) => lax.neg(lax.sin(x))),
  // d tanh = 1 - tanh^2
  [Prim.Tanh]: unary(Prim.Tanh, (x, y) => lax.sub(c(x, 1), lax.mul(y, y))),
  [Prim.Atan]: unary(Prim.Atan, (x) => lax.div(c(x, 1), lax.add(c(x, 1), lax.mul(x, x)))),
  // d sigma = sigma (1 - sigma)
  [Prim.Logistic]: unary(Prim.Logistic, (x, y) => lax.mul(y, lax.sub(c(x, 1), y))),
  [Prim.Sqrt]: unary(Prim.Sqrt, (x, y) => lax.div(c(x, 0.5), y)),
  // d x^-1/2 = -1/2 x^-3/2 = -0.5 y / x
  [Prim.Rsqrt]: unary(Prim.Rsqrt, (x, y) => lax.mul(c(x, -0.5), lax.div(y, x))),
  [Prim.Abs]: unary(Prim.Abs, (x) => lax.sign(x)),
  // d x^y = y x^(y-1) dx + log(x) x^y dy. Only 0^0 needs a guard in the first term (0 * 0^-1),
  // and x = 0 in the second (log 0); both use a safe operand inside the guarded branch so no inf
  // reaches a derivative, and elsewhere the full expression stays, so that mixed second
  // derivatives are right at y = 0 (d/dy of y x^(y-1) is 1/x there).
  [Prim.Pow]: ([x, y], [tx, ty]) => {
    const out = lax.pow(x!, y!);
    const zero = c(x!, 0),
      one = c(x!, 1);
    const xZero = lax.eq(x!, zero);
    let dx: Tangent = tx!,
      dy: Tangent = ty!;
    if (!isZero(tx!)) {
      const guard = lax.and(xZero, lax.eq(y!, zero));
      const xSafe = lax.selectN(guard, x!, one);
      dx = lax.mul(tx!, lax.selectN(guard, lax.mul(y!, lax.pow(xSafe, lax.sub(y!, c(y!, 1)))), zero));
    }
    if (!isZero(ty!)) dy = lax.mul(ty!, lax.selectN(xZero, lax.mul(lax.log(lax.selectN(xZero, x!, one)), out), zero));
    return [[out], [plus(dx, dy)]];
  },
  [Prim.Max]: extremum(Prim.Max),
  [Prim.Min]: extremum(Prim.Min),
  [Prim.Sign]: zeroDerivative(Prim.Sign),
  [Prim.Floor]: zeroDerivative(Prim.Floor),
  [Prim.Eq]: zeroDerivative(Prim.Eq),
  [Prim.Ne]: zeroDerivative(Prim.Ne),
  [Prim.Lt]: zeroDerivative(Prim.Lt),
  [Prim.Le]: zeroDerivative(Prim.Le),
  [Prim.Gt]: zeroDerivative(Prim.Gt),
  [Prim.Ge]: zeroDerivative(Prim.Ge),
  [Prim.And]: zeroDerivative(Prim.And),
  [Prim.Or]: zeroDerivative(Prim.Or),
  [Prim.Not]: zeroDerivative(Prim.Not),
  // Bit operations: integer outputs, so the tangent is a symbolic zero (JAX's float0).
  [Prim.Xor]: zeroDerivative(Prim.Xor),
  [Prim.ShiftLeft]: zeroDerivative(Prim.ShiftLeft),
  [Prim.ShiftRightLogical]: zeroDerivative(Prim.ShiftRightLogical),
  // A bitcast is not a smooth map of the value (float32 <-> integer bits): zero, as in JAX.
  [Prim.BitcastConvertType]: zeroDerivative(Prim.BitcastConvertType),
  [Prim.StopGradient]: zeroDerivative(Prim.StopGradient),
  [Prim.ArgMax]: zeroDerivative(Prim.ArgMax),
  [Prim.ArgMin]: zeroDerivative(Prim.ArgMin),
  [Prim.ReduceSum]: linear(Prim.ReduceSum),
  [Prim.ReduceMax]: reduceExtremum(Prim.ReduceMax),
  [Prim.ReduceMin]: reduceExtremum(Prim.ReduceMin),
  [Prim.Cumsum]: linear(Prim.Cumsum),
  [Prim.Argsort]: zeroDerivative(Prim.Argsort),
  // Bilinear: d conv(x, w) = conv(dx, w) + conv(x, dw).
  [Prim.ConvGeneralDilated]: ([x, w], [tx, tw], params) => {
    const conv = (a: NDArray, b: NDArray) => lax.conv(a, b, params);
    const dx = isZero(tx!) ? null : conv(tx!, w!);
    const dw = isZero(tw!) ? null : conv(x!, tw!);
    const out = conv(x!, w!);
    return [[out], [dx && dw ? lax.add(dx, dw) : (dx ?? dw ?? new Zero(out))]];
  },
  [Prim.BroadcastInDim]: linear(Prim.BroadcastInDim),
  [Prim.Reshape]: linear(Prim.Reshape),
  [Prim.Transpose]: linear(Prim.Transpose),
  [Prim.Rev]: linear(Prim.Rev),
  [Prim.Slice]: linear(Prim.Slice),
  [Prim.Pad]: linear(Prim.Pad),
  [Prim.Concatenate]: linear(Prim.Concatenate),
  [Prim.Gather]: linear(Prim.Gather, (i) => i === 0),
  [Prim.ScatterAdd]: linear(Prim.ScatterAdd, (i) => i !== 1),
  [Prim.Scatter]: scatterJvp,
  [Prim.DynamicSlice]: linear(Prim.DynamicSlice, (i) => i === 0),
  [Prim.DynamicUpdateSlice]: linear(Prim.DynamicUpdateSlice, (i) => i < 2),
  // d(x . y) = dx . y + x . dy
  [Prim.DotGeneral]: ([x, y], [tx, ty], params) => {
    const dot = (a: NDArray, b: NDArray) => bind1(Prim.DotGeneral, [a, b], params);
    const dx = isZero(tx!) ? null : dot(tx!, y!);
    const dy = isZero(ty!) ? null : dot(x!, ty!);
    const out = dot(x!, y!);
    return [[out], [dx && dy ? lax.add(dx, dy) : (dx ?? dy ?? new Zero(out))]];
  },
  ...linalgJvpRules,
  [Prim.Cond]: ([index, ...ops], [, ...tans], { branches }) => {
    const nonzero = tans.map((t) => !isZero(t));
    const outs = bind(Prim.Cond, [index!, ...ops, ...nonzeroOf(tans)], { branches: branches.map((b) => jvpProgram(b, nonzero)) });
    const n = branches[0]!.program.outvars.length;
    return [outs.slice(0, n), outs.slice(n)];
  },
  // Float carries always carry a tangent (the fixpoint is "all floats"); the cond ignores tangents.
  [Prim.While]: (args, tans, { cond, body, condConsts: nc, bodyConsts: nb }) => {
    const carry = args.slice(nc + nb),
      k = carry.length;
    const floatCarry = carry.map((c) => isFloat(c.dtype));
    const bcNonzero = tans.slice(nc, nc + nb).map((t) => !isZero(t));
    const jb = jvpProgram(body, [...bcNonzero, ...floatCarry], floatCarry);
    const nbt = where(bcNonzero).length,
      nct = where(floatCarry).length;
    // jb inputs: bc, carry, bcTan, carryTan -> want bc, bcTan, carry, carryTan; outputs already carry, carryTan.
    const body2 = permuteProgram(
      jb,
      [...range(nb), ...range(nbt).map((i) => nb + k + i), ...range(k).map((i) => nb + i), ...range(nct).map((i) => nb + k + nbt + i)],
      range(k + nct),
    );
    const cond2 = ignoreTrailing(
      cond,
      carry.filter((_, i) => floatCarry[i]),
    );
    const carryTans = where(floatCarry).map((i) => instantiate(tans[nc + nb + i]!));
    const outs = bind(Prim.While, [...args.slice(0, nc), ...args.slice(nc, nc + nb), ...nonzeroOf(tans.slice(nc, nc + nb)), ...carry, ...carryTans], {
      cond: cond2,
      body: body2,
      condConsts: nc,
      bodyConsts: nb + nbt,
    });
    return [outs.slice(0, k), carry.map((c, i) => (floatCarry[i] ? outs[k + where(floatCarry).indexOf(i)]! : new Zero(c)))];
  },
  [Prim.Scan]: (args, tans, { body, length, reverse, numConsts: nc, numCarry: k }) => {
    const nx = args.length - nc - k;
    const carry = args.slice(nc, nc + k);
    const floatCarry = carry.map((c) => isFloat(c.dtype));
    const cNz = tans.slice(0, nc).map((t) => !isZero(t)),
      xNz = tans.slice(nc + k).map((t) => !isZero(t));
    const ys = body.program.outvars.slice(k).map((v) => isFloat(v.aval.dtype));
    const jb = jvpProgram(body, [...cNz, ...floatCarry, ...xNz], [...floatCarry, ...ys]);
    const [nct, nkt, nxt, nyt] = [cNz, floatCarry, xNz, ys].map((m) => where(m).length) as [number, number, number, number];
    const ny = ys.length;
    // jb inputs: c, carry, x, cTan, carryTan, xTan; outputs: carryOut, y, carryTanOut, yTan.
    const base = nc + k + nx;
    const inOrder = [
      ...range(nc),
      ...range(nct).map((i) => base + i),
      ...range(k).map((i) => nc + i),
      ...range(nkt).map((i) => base + nct + i),
      ...range(nx).map((i) => nc + k + i),
      ...range(nxt).map((i) => base + nct + nkt + i),
    ];
    const outOrder = [...range(k), ...range(nkt).map((i) => k + ny + i), ...range(ny).map((i) => k + i), ...range(nyt).map((i) => k + ny + nkt + i)];
    const outs = bind(
      Prim.Scan,
      [
        ...args.slice(0, nc),
        ...nonzeroOf(tans.slice(0, nc)),
        ...carry,
        ...where(floatCarry).map((i) => instantiate(tans[nc + i]!)),
        ...args.slice(nc + k),
        ...nonzeroOf(tans.slice(nc + k)),
      ],
      { body: permuteProgram(jb, inOrder, outOrder), length, reverse, numConsts: nc + nct, numCarry: k + nkt },
    );
    const carryT = carry.map((c, i) => (floatCarry[i] ? outs[k + where(floatCarry).indexOf(i)]! : new Zero(c)));
    const yOut = outs.slice(k + nkt, k + nkt + ny);
    const yT = yOut.map((y, i) => (ys[i] ? outs[k + nkt + ny + where(ys).indexOf(i)]! : new Zero(y)));
    return [
      [...outs.slice(0, k), ...yOut],
      [...carryT, ...yT],
    ];
  },
  // The user's rule, on materialised tangents; its outputs are checked against the function's.
  [Prim.CustomJvpCall]: (xs, ts, { fun, rule, numLifted, name }) => {
    noLiftedTangents(name, ts, numLifted);
    const [outs, touts] = rule(xs, ts.map(instantiate));
    checkAvals(name, "the rule's outputs", outs, fun.program.outvars);
    checkAvals(name, "the rule's output tangents", touts, fun.program.outvars);
    return [outs, touts];
  },
  // Reverse mode through a customVjp function: fwd now, and a custom_lin that transposes to bwd.
  [Prim.CustomVjpCall]: (xs, ts, { fun, fwd, bwd, numLifted, name }) => {
    noLiftedTangents(name, ts, numLifted);
    const [outs, res] = fwd(xs);
    checkAvals(name, "fwd's outputs", outs, fun.program.outvars);
    if (ts.every((t) => isZero(t))) return [outs, outs.map((o) => new Zero(o))];
    const outAvals = outs.map((o) => ({ shape: o.shape.slice(), dtype: o.dtype }));
    return [outs, bind(Prim.CustomLin, [...res, ...ts.map(instantiate)], { bwd, numRes: res.length, outAvals, name })];
  },
  [Prim.CustomLin]: (_x, _t, { name }) => {
    throw customVjpForwardError(name);
  },
  // The callback sees primal values only; nothing comes out, so no tangent does.
  [Prim.DebugCallback]: (xs, _ts, params) => {
    bind(Prim.DebugCallback, xs, params);
    return [[], []];
  },
  [Prim.Remat]: (xs, ts, { body, policy, name }) => {
    const nonzero = ts.map((t) => !isZero(t));
    const outs = bind(Prim.Remat, [...xs, ...nonzeroOf(ts)], { body: jvpProgram(body, nonzero), policy, name });
    const n = body.program.outvars.length;
    return [outs.slice(0, n), outs.slice(n)];
  },
  // A compiled call's derivative is a compiled call of its jvp program.
  [Prim.JitCall]: (xs, ts, { program, name }) => {
    const nonzero = ts.map((t) => !isZero(t));
    const outs = bind(Prim.JitCall, [...xs, ...(ts.filter((t) => !isZero(t)) as NDArray[])], {
      program: jvpProgram(program, nonzero),
      name: `jvp(${name})`,
    });
    const n = program.program.outvars.length;
    return [outs.slice(0, n), outs.slice(n)];
  },
};
