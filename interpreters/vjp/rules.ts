/**
 * Transpose rules of the linear primitives: given the cotangent of the output and the operands
 * (linear ones are `UndefPrimal`, the rest known values), the cotangents of the linear operands.
 * Written with bound ops only, so reverse mode composes with every other transform.
 */
import { ArgumentError, LinearityError, ShapeError } from "../../src/core/errors.js";
import { bind } from "../../src/core/interpreter.js";
import * as lax from "../../src/core/lax.js";
import { type NDArray, fmtAval } from "../../src/core/ndarray.js";
import { Prim, type PrimParams } from "../../src/core/prim.js";
import { invertPerm, range, shapeEq } from "../../src/core/shape.js";
import { type ClosedProgram, type Program, where } from "../../src/ir/ir.js";
import { traceToProgram } from "../../src/ir/trace.js";
import { type LinArg, NonlinearUse, type TransposeRule, type TransposeRules, UndefPrimal, transposeCall } from "./transpose.js";

/** A rule for a single-output primitive, given its output's cotangent. */
type SingleRule<P extends Prim> = (ct: NDArray, args: LinArg[], params: PrimParams[P]) => (NDArray | null)[];
const single =
  <P extends Prim>(rule: SingleRule<P>): TransposeRule<P> =>
  (cts, args, params) =>
    rule(cts[0]!, args, params);

const undef = (a: LinArg | undefined): a is UndefPrimal => a instanceof UndefPrimal;
const known = (a: LinArg | undefined): NDArray => {
  if (a instanceof UndefPrimal) throw new NonlinearUse();
  return a!;
};

function notLinear<P extends Prim>(prim: P): TransposeRule<P> {
  return () => {
    throw new LinearityError(
      `transpose of ${prim}: ${prim} is not linear, yet reverse mode met it applied to a linear value. Partial evaluation ` +
        `keeps nonlinear work on the known side, so this is a bug in fluxion; please report it with the program`,
    );
  };
}

type ConvParams = PrimParams[Prim.ConvGeneralDilated];

/**
 * The cotangent of a convolution's lhs (the input gradient). Per spatial dim, forward output q
 * reads dilated input position q*s + k*rd - lo, so input position i*ld receives ct[q] * w[k] for
 * q*s = i*ld - k*rd + lo. That is again a convolution: of ct dilated by s, with the window
 * reversed (k -> K-1-k), padded low by (K-1)*rd - lo and high so that exactly S outputs remain,
 * striding by ld. The kernel swaps in/out features within each group; batch groups come back as
 * feature groups whose outputs are the batch slices.
 */
function convTransposeLhs(ct: NDArray, lhsShape: readonly number[], w: NDArray, p: ConvParams): NDArray {
  const nd = lhsShape.length - 2;
  const [o, i] = w.shape as [number, number];
  const spatial = range(nd).map((d) => d + 2);
  const groups = p.featureGroupCount * p.batchGroupCount;
  if (ct.size === 0) return lax.zerosOf({ shape: lhsShape, dtype: ct.dtype });
  // [O, I, K] -> [G, O/G, I, K] -> [G, I, O/G, K] -> [G*I, O/G, K], window reversed.
  const k = w.shape.slice(2);
  let wt = lax.reshape(w, [groups, o / groups, i, ...k]);
  wt = lax.transpose(wt, [0, 2, 1, ...spatial.map((d) => d + 1)]);
  wt = lax.rev(lax.reshape(wt, [groups * i, o / groups, ...k]), spatial);
  const padding = range(nd).map((d): [number, number] => {
    const lo = (k[d]! - 1) * p.rhsDilation[d]! - p.padding[d]![0];
    const span = (lhsShape[d + 2]! - 1) * p.lhsDilation[d]! + (k[d]! - 1) * p.rhsDilation[d]! + 1;
    return [lo, span - ((ct.shape[d + 2]! - 1) * p.strides[d]! + 1) - lo];
  });
  const out = lax.conv(ct, wt, {
    strides: p.lhsDilation,
    padding,
    lhsDilation: p.strides,
    rhsDilation: p.rhsDilation,
    featureGroupCount: groups,
    batchGroupCount: 1,
  });
  if (p.batchGroupCount === 1) return out;
  // [N/B, B*C, S] -> [N/B, B, C, S] -> [B, N/B, C, S] -> [N, C, S].
  const b = p.batchGroupCount;
  const [nb, , ...s] = out.shape as number[];
  const split = lax.reshape(out, [nb!, b, lhsShape[1]!, ...s]);
  return lax.reshape(lax.transpose(split, [1, 0, 2, ...spatial.map((d) => d + 1)]), lhsShape as number[]);
}

/**
 * The cotangent of a convolution's rhs (the kernel gradient): ct_w[o, c, k] = sum over n, q of
 * ct[n, o, q] * x_dilated[n, c, q*s + k*rd - lo], a convolution of x with batch and feature
 * swapped ([C, N, S]) by ct as the kernel ([O, N/B, Q]): stride rd, window dilation s, the same
 * lhs dilation and low padding, high padding leaving K outputs. Feature groups become batch
 * groups and batch groups feature groups.
 */
function convTransposeRhs(ct: NDArray, x: NDArray, rhsShape: readonly number[], p: ConvParams): NDArray {
  const nd = x.ndim - 2;
  const swap = [1, 0, ...range(nd).map((d) => d + 2)];
  if (ct.size === 0 || x.size === 0) return lax.zerosOf({ shape: rhsShape, dtype: ct.dtype });
  const padding = range(nd).map((d): [number, number] => {
    const lo = p.padding[d]![0];
    const dilated = (x.shape[d + 2]! - 1) * p.lhsDilation[d]! + 1;
    const need = (rhsShape[d + 2]! - 1) * p.rhsDilation[d]! + (ct.shape[d + 2]! - 1) * p.strides[d]! + 1;
    return [lo, need - dilated - lo];
  });
  const out = lax.conv(lax.transpose(x, swap), lax.transpose(ct, swap), {
    strides: p.rhsDilation,
    padding,
    lhsDilation: p.lhsDilation,
    rhsDilation: p.strides,
    featureGroupCount: p.batchGroupCount,
    batchGroupCount: p.featureGroupCount,
  });
  return lax.transpose(out, swap);
}

/** The transpose of dot_general with respect to one operand (`which` = 0 for lhs, 1 for rhs). */
function dotTranspose(ct: NDArray, args: LinArg[], { contract: [xc, yc], batch: [xb, yb] }: PrimParams[Prim.DotGeneral], which: 0 | 1): NDArray {
  const [x, y] = args;
  const xAval = undef(x) ? x.aval : known(x);
  const yAval = undef(y) ? y.aval : known(y);
  const xn = xAval.shape.length,
    yn = yAval.shape.length,
    nb = xb.length;
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
 * `linear` inputs of a call of `cp` (zeros where nothing flows back).
 */
function transposedProgram(cp: ClosedProgram, linear: readonly boolean[], present: readonly boolean[]): ClosedProgram {
  const key = `${linear.map(Number).join("")}:${present.map(Number).join("")}`;
  let byKey = transposed.get(cp.program);
  if (byKey === undefined) transposed.set(cp.program, (byKey = new Map()));
  let hit = byKey.get(key);
  if (hit !== undefined) return hit;
  const p = cp.program;
  const knownAvals = p.invars.filter((_, i) => !linear[i]).map((v) => v.aval);
  const ctAvals = p.outvars.filter((_, i) => present[i]).map((v) => v.aval);
  hit = traceToProgram("transpose", [...knownAvals, ...ctAvals], (ins) => {
    let kIn = 0,
      kCt = knownAvals.length;
    const args = p.invars.map((v, i) => (linear[i] ? new UndefPrimal(v.aval) : ins[kIn++]!));
    const cts = present.map((b) => (b ? ins[kCt++]! : null));
    const res = transposeCall(cp, args, cts);
    return where(linear as boolean[]).map((i) => res[i] ?? lax.zerosOf(p.invars[i]!.aval));
  });
  byKey.set(key, hit);
  return hit;
}

/** Binds `prim` on a transposed program: known operands, then the present cotangents; maps results back to the linear operands. */
function callTransposed<P extends Prim.JitCall | Prim.Remat | Prim.Cond>(
  prim: P,
  lead: NDArray[],
  args: LinArg[],
  cts: (NDArray | null)[],
  params: (tp: (cp: ClosedProgram) => ClosedProgram) => PrimParams[P],
): (NDArray | null)[] {
  const linear = args.map(undef),
    present = cts.map((c) => c !== null);
  const outs = bind(
    prim,
    [...lead, ...args.filter((a): a is NDArray => !undef(a)), ...(cts.filter((c) => c !== null) as NDArray[])],
    params((cp) => transposedProgram(cp, linear, present)),
  );
  let k = 0;
  return linear.map((l) => (l ? outs[k++]! : null));
}

function transposeScan(
  cts: (NDArray | null)[],
  args: LinArg[],
  { body, length, reverse, numConsts: nc, numCarry: k }: PrimParams[Prim.Scan],
): (NDArray | null)[] {
  const aval = (a: LinArg) => (undef(a) ? a.aval : known(a));
  // Every carry of a linear scan is linear; a known initial carry can only be a materialised zero
  // tangent, whose cotangent nobody needs.
  const consts = args.slice(0, nc),
    carry = args.slice(nc, nc + k).map((a) => (undef(a) ? a : new UndefPrimal(aval(a)))),
    xs = args.slice(nc + k);
  const p = body.program;
  const ys = p.outvars.slice(k).map((v) => v.aval);
  const cLin = consts.map(undef),
    xLin = xs.map(undef);
  const kc = consts.filter((a) => !undef(a)) as NDArray[],
    lc = consts.filter(undef);
  const kx = xs.filter((a) => !undef(a)) as NDArray[];
  const carryAvals = carry.map(aval),
    ySlices = ys;
  const nkc = kc.length,
    nlc = lc.length,
    nkx = kx.length;
  const bodyT = traceToProgram(
    "transpose",
    [...kc, ...lc.map(aval), ...carryAvals, ...kx.map((x) => ({ shape: x.shape.slice(1), dtype: x.dtype })), ...ySlices],
    (ins) => {
      const kcv = ins.slice(0, nkc),
        acc = ins.slice(nkc, nkc + nlc),
        ctc = ins.slice(nkc + nlc, nkc + nlc + k);
      const kxv = ins.slice(nkc + nlc + k, nkc + nlc + k + nkx),
        cty = ins.slice(nkc + nlc + k + nkx);
      let ic = 0,
        ix = 0;
      const callArgs: LinArg[] = [
        ...consts.map((a) => (undef(a) ? a : kcv[ic++]!)),
        ...carry.map((a) => a as UndefPrimal),
        ...xs.map((a) => (undef(a) ? new UndefPrimal({ shape: a.aval.shape.slice(1), dtype: a.aval.dtype }) : kxv[ix++]!)),
      ];
      const res = transposeCall(body, callArgs, [...ctc, ...cty]);
      const ctOf = (i: number) => res[i] ?? lax.zerosOf(p.invars[i]!.aval);
      const ctConsts = where(cLin).map(ctOf),
        ctCarry = range(k).map((i) => ctOf(nc + i)),
        ctXs = where(xLin).map((i) => ctOf(nc + k + i));
      return [...acc.map((a, i) => lax.add(a, ctConsts[i]!)), ...ctCarry, ...ctXs];
    },
  );
  const outs = bind(
    Prim.Scan,
    [
      ...kc,
      ...lc.map((a) => lax.zerosOf(aval(a))),
      ...cts.slice(0, k).map((c, i) => c ?? lax.zerosOf(carryAvals[i]!)),
      ...kx,
      ...cts.slice(k).map((c, j) => c ?? lax.zerosOf({ shape: [length, ...ys[j]!.shape], dtype: ys[j]!.dtype })),
    ],
    { body: bodyT, length, reverse: !reverse, numConsts: nkc, numCarry: nlc + k },
  );
  let a = 0,
    x = nlc + k;
  return [
    ...cLin.map((l) => (l ? outs[a++]! : null)),
    ...outs.slice(nlc, nlc + k).map((ct, i) => (undef(args[nc + i]) ? ct : null)),
    ...xLin.map((l) => (l ? outs[x++]! : null)),
  ];
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
    return [
      lax.broadcastInDim(
        ct,
        shape,
        range(shape.length).filter((d) => !axes.includes(d)),
      ),
    ];
  }),
  [Prim.Cumsum]: single((ct, _a, { axis, reverse }) => [lax.cumsum(ct, axis, !reverse)]),
  [Prim.ConvGeneralDilated]: single((ct, args, params) => [
    undef(args[0]) ? convTransposeLhs(ct, args[0].aval.shape, known(args[1]), params) : null,
    undef(args[1]) ? convTransposeRhs(ct, known(args[0]), args[1].aval.shape, params) : null,
  ]),
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
    const ctX = lax.slice(
      ct,
      start,
      limit,
      config.map(([, , i]) => i + 1),
    );
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
  [Prim.Gather]: single((ct, [x, idx], { axis, batchDims }) => [
    lax.scatterAdd(lax.zerosOf((x as UndefPrimal).aval), known(idx), ct, axis, batchDims),
    null,
  ]),
  [Prim.ScatterAdd]: single((ct, [x, idx, u], { axis, batchDims }) => [
    undef(x) ? ct : null,
    null,
    undef(u) ? lax.gather(ct, known(idx), axis, batchDims) : null,
  ]),
  // scatter's jvp rule expresses every tangent through scatter_add, gather and mul, so scatter
  // itself never meets a linear operand.
  [Prim.Scatter]: notLinear(Prim.Scatter),
  [Prim.DynamicSlice]: single((ct, [x, ...starts]) => [
    lax.dynamicUpdateSlice(lax.zerosOf((x as UndefPrimal).aval), ct, starts.map(known)),
    ...starts.map(() => null),
  ]),
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
  // X = op(A)⁻¹ B is linear in B; its transpose solves with op(A)ᵀ: ct_B = op(A)⁻ᵀ ct (left), ct op(A)⁻ᵀ (right).
  [Prim.TriangularSolve]: single((ct, [a, b], params) => {
    if (undef(a) || !undef(b)) throw new NonlinearUse();
    return [null, lax.triangularSolve(known(a), ct, { ...params, transposeA: !params.transposeA })];
  }),
  [Prim.Cholesky]: notLinear(Prim.Cholesky),
  [Prim.Lu]: notLinear(Prim.Lu),
  [Prim.Qr]: notLinear(Prim.Qr),
  [Prim.Eigh]: notLinear(Prim.Eigh),
  [Prim.Svd]: notLinear(Prim.Svd),
  // A compiled linear call transposes into a compiled call of its transposed program.
  [Prim.JitCall]: (cts, args, { program, name }) =>
    callTransposed(Prim.JitCall, [], args, cts, (tp) => ({ program: tp(program), name: `transpose(${name})` })),
  // The recomputation inside a checkpointed block runs again as part of its transposed program.
  // No outputs, so no cotangent flows to its operands (it reads primal values only).
  [Prim.DebugCallback]: (_cts, args) => args.map(() => null),
  [Prim.Remat]: (cts, args, { body, policy, name }) =>
    callTransposed(Prim.Remat, [], args, cts, (tp) => ({ body: tp(body), policy, name: `transpose(${name})` })),
  [Prim.Cond]: (cts, [index, ...ops], { branches }) => [
    null,
    ...callTransposed(Prim.Cond, [known(index)], ops, cts, (tp) => ({ branches: branches.map(tp) })),
  ],
  // A linear scan transposes to a scan in the other direction: cotangents of the carry flow
  // backwards as its carry, those of linear consts accumulate in extra carries.
  [Prim.Scan]: (cts, args, params) => transposeScan(cts, args, params),
  // custom_lin's transpose is the user's bwd, checked against the linear operands.
  [Prim.CustomLin]: (cts, args, { bwd, numRes, outAvals, name }) => {
    const res = args.slice(0, numRes).map(known);
    const lin = args.slice(numRes);
    const ctsIn = bwd(
      res,
      cts.map((c, i) => c ?? lax.zerosOf(outAvals[i]!)),
    );
    if (!Array.isArray(ctsIn) || ctsIn.length !== lin.length) {
      throw new ArgumentError(
        `${name}: bwd must return one cotangent per input (${lin.length}), got ${Array.isArray(ctsIn) ? ctsIn.length : typeof ctsIn}`,
      );
    }
    ctsIn.forEach((c, i) => {
      const a = lin[i]!,
        want = undef(a) ? a.aval : known(a);
      if (!shapeEq(c.shape, want.shape) || c.dtype !== want.dtype) {
        throw new ShapeError(`${name}: bwd's cotangent ${i} is ${fmtAval(c)} but the input is ${fmtAval(want)}`);
      }
    });
    return [...res.map(() => null), ...ctsIn.map((c, i) => (undef(lin[i]) ? c : null))];
  },
  [Prim.While]: () => {
    throw new ArgumentError(
      "lax.whileLoop: reverse-mode differentiation (grad, vjp, jacrev) of a while loop is not defined, " +
        "since its trip count is unknown; use lax.scan, or lax.fori with static (number) bounds (forward mode, jvp and linearize, works)",
    );
  },
  [Prim.CustomJvpCall]: notLinear(Prim.CustomJvpCall),
  [Prim.CustomVjpCall]: notLinear(Prim.CustomVjpCall),
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
  [Prim.Xor]: notLinear(Prim.Xor),
  [Prim.ShiftLeft]: notLinear(Prim.ShiftLeft),
  [Prim.ShiftRightLogical]: notLinear(Prim.ShiftRightLogical),
  [Prim.BitcastConvertType]: notLinear(Prim.BitcastConvertType),
  // In a linear program stop_gradient only guards values whose lanes are discarded (the donor
  // operands of a batched cond); like its derivative, its transpose passes nothing back.
  [Prim.StopGradient]: single(() => [null]),
  [Prim.ReduceMax]: notLinear(Prim.ReduceMax),
  [Prim.ReduceMin]: notLinear(Prim.ReduceMin),
  [Prim.ArgMax]: notLinear(Prim.ArgMax),
  [Prim.ArgMin]: notLinear(Prim.ArgMin),
  [Prim.Argsort]: notLinear(Prim.Argsort),
};
