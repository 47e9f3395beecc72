/**
 * Batching rules: each primitive applied to operands whose batch axis (when present) is axis 0,
 * written with bound ops. Most rules shift axis params by one; elementwise rules first broadcast
 * unbatched operands; dot_general moves batch dims; dynamic slices with batched starts become
 * gathers, so every rule stays differentiable.
 */
import { bind, bind1, currentInterpreter, withInterpreter } from "../../src/core/interpreter.js";
import * as lax from "../../src/core/lax.js";
import { ConcreteArray, type NDArray } from "../../src/core/ndarray.js";
import { type FlatBwd, type FlatFwd, type FlatJvpRule, Prim, type PrimParams } from "../../src/core/prim.js";
import { range, sizeOf } from "../../src/core/shape.js";
import { type ClosedProgram, type Program, evalProgram } from "../../src/ir/ir.js";
import { traceToProgram } from "../../src/ir/trace.js";
import { BatchInterpreter, type BatchRule, type BatchRules } from "./interpreter.js";

/** `x` with a leading batch axis of `size` (broadcast when unbatched). */
export const withBatch = (x: NDArray, isBatched: boolean, size: number): NDArray =>
  isBatched
    ? x
    : lax.broadcastInDim(
        x,
        [size, ...x.shape],
        range(x.ndim).map((d) => d + 1),
      );

const inc = (axes: readonly number[]) => axes.map((a) => a + 1);
const one = (x: NDArray): [NDArray[], boolean[]] => [[x], [true]];

/** dot_general of two batched operands: the batch axis is one more (leading) batch dim. */
const dotBatched = (x: NDArray, y: NDArray, { contract: [xc, yc], batch: [xb, yb] }: PrimParams[Prim.DotGeneral]) =>
  one(
    lax.dotGeneral(
      x,
      y,
      [inc(xc), inc(yc)],
      [
        [0, ...inc(xb)],
        [0, ...inc(yb)],
      ],
    ),
  );

/**
 * An unbatched dot_general operand (`side` 0: lhs, 1: rhs) transposed, before it is broadcast, into
 * the order the matrix kernel reads without gathering: lhs [batch, free, contracting], rhs [batch,
 * contracting, free]; with the params renumbered. A no-op when it is in that order already.
 */
function kernelOrder(u: NDArray, params: PrimParams[Prim.DotGeneral], side: 0 | 1): [NDArray, PrimParams[Prim.DotGeneral]] {
  const c = params.contract[side],
    b = params.batch[side];
  const free = range(u.ndim).filter((d) => !c.includes(d) && !b.includes(d));
  const perm = side === 0 ? [...b, ...free, ...c] : [...b, ...c, ...free];
  if (perm.every((d, i) => d === i)) return [u, params];
  const at = (d: number) => perm.indexOf(d);
  const contract = [...params.contract] as [number[], number[]],
    batch = [...params.batch] as [number[], number[]];
  contract[side] = c.map(at);
  batch[side] = b.map(at);
  return [lax.transpose(u, perm), { contract, batch }];
}

/** Whether a one-side-batched dot_general leaves the batch axis off the front of its result. */
function batchAxisMoves(x: NDArray, y: NDArray, bx: boolean, { contract: [xc], batch: [xb] }: PrimParams[Prim.DotGeneral]): boolean {
  const xFree = x.ndim - (bx ? 1 : 0) - xc.length - xb.length;
  return bx ? xb.length > 0 : xb.length + xFree > 0;
}

/** Elements of one lane's dot_general result: batch dims x free dims of both operands. */
function dotLaneSize(x: NDArray, y: NDArray, bx: boolean, by: boolean, { contract: [xc], batch: [xb] }: PrimParams[Prim.DotGeneral]): number {
  const xs = bx ? x.shape.slice(1) : x.shape,
    ys = by ? y.shape.slice(1) : y.shape;
  const k = xc.reduce((n, d) => n * xs[d]!, 1),
    b = xb.reduce((n, d) => n * xs[d]!, 1);
  return (sizeOf(xs) * sizeOf(ys)) / (k * k * b);
}

/** Elementwise: broadcast unbatched operands, then apply as is. */
function elementwise<P extends Prim>(prim: P): BatchRule<P> {
  return (args, batched, params, size) =>
    one(
      bind1(
        prim,
        args.map((x, i) => withBatch(x, batched[i]!, size)),
        params,
      ),
    );
}

/** A one-operand primitive whose params are shifted by `shift` to skip the batch axis. */
function shifted<P extends Prim>(prim: P, shift: (p: PrimParams[P], size: number) => PrimParams[P]): BatchRule<P> {
  return ([x], _b, params, size) => one(bind1(prim, [x!], shift(params, size)));
}

/** A one-operand primitive over the last axes: the batch axis is one more leading axis, every output batched. */
function leadingBatch<P extends Prim>(prim: P): BatchRule<P> {
  return ([x], _b, params) => {
    const outs = bind(prim, [x!], params);
    return [outs, outs.map(() => true)];
  };
}

/**
 * vmap of a convolution (canonical layout, the vmapped axis V leading). A batched lhs folds V into
 * its batch dim (inside each batch group); a batched kernel folds V into the output features
 * (inside each group); both batched fold V into the feature groups (or, with batch groups, into
 * the batch groups), so each lane convolves its own input with its own kernel.
 */
function convBatch(x: NDArray, w: NDArray, bx: boolean, bw: boolean, p: PrimParams[Prim.ConvGeneralDilated], v: number): NDArray {
  const nd = p.strides.length;
  const sp = (from: number) => range(nd).map((d) => d + from);
  const { featureGroupCount: g, batchGroupCount: b } = p;
  if (bx && bw && b === 1) {
    // x [V, N, C, S] -> [N, V*C, S]; w [V, O, I, K] -> [V*O, I, K]; V*G feature groups.
    const [, n, c, ...s] = x.shape as number[];
    const [, o, ...rest] = w.shape as number[];
    const xs = lax.reshape(lax.transpose(x, [1, 0, 2, ...sp(3)]), [n!, v * c!, ...s]);
    const out = lax.conv(xs, lax.reshape(w, [v * o!, ...rest]), { ...p, featureGroupCount: v * g });
    const [on, , ...q] = out.shape as number[];
    return lax.transpose(lax.reshape(out, [on!, v, o!, ...q]), [1, 0, 2, ...sp(3)]);
  }
  if (bx && bw) {
    // With batch groups: x [V, N, C, S] -> [V*N, C, S], w -> [V*O, C, K]; V*B batch groups.
    const [, n, ...xr] = x.shape as number[];
    const [, o, ...wr] = w.shape as number[];
    const out = lax.conv(lax.reshape(x, [v * n!, ...xr]), lax.reshape(w, [v * o!, ...wr]), { ...p, batchGroupCount: v * b });
    const [on, , ...q] = out.shape as number[];
    return lax.transpose(lax.reshape(out, [on!, v, o!, ...q]), [1, 0, 2, ...sp(3)]);
  }
  if (bx) {
    // x [V, N, C, S] -> [B, V, N/B, C, S] -> [B*V*N/B, C, S]; out [V*N/B, O, Q] -> [V, N/B, O, Q].
    const [, n, ...xr] = x.shape as number[];
    const split = lax.reshape(x, [v, b, n! / b, ...xr]);
    const xs = lax.reshape(lax.transpose(split, [1, 0, ...range(nd + 2).map((d) => d + 2)]), [v * n!, ...xr]);
    const out = lax.conv(xs, w, p);
    return lax.reshape(out, [v, out.shape[0]! / v, ...out.shape.slice(1)]);
  }
  // w [V, O, I, K] -> [H, V, O/H, I, K] -> [H*V*O/H, I, K] with H = G*B output-feature groups;
  // out [N', H*V*O/H, Q] -> [N', H, V, O/H, Q] -> [V, N', H, O/H, Q] -> [V, N', O, Q].
  const h = g * b;
  const [, o, ...wr] = w.shape as number[];
  const split = lax.reshape(w, [v, h, o! / h, ...wr]);
  const ws = lax.reshape(lax.transpose(split, [1, 0, ...range(nd + 2).map((d) => d + 2)]), [v * o!, ...wr]);
  const out = lax.conv(x, ws, p);
  const [on, , ...q] = out.shape as number[];
  const parts = lax.reshape(out, [on!, h, v, o! / h, ...q]);
  return lax.reshape(lax.transpose(parts, [2, 0, 1, 3, ...sp(4)]), [v, on!, o!, ...q]);
}

function iota(n: number): ConcreteArray {
  const v = new Int32Array(n);
  for (let i = 0; i < n; i++) v[i] = i;
  return new ConcreteArray(v, [n], "int32");
}

/** Per-lane start of dim d, clamped as dynamic_slice clamps: [B] int32. */
function clampedStart(start: NDArray, isBatched: boolean, size: number, n: number, len: number): NDArray {
  const s = withBatch(start, isBatched, size);
  return lax.min(lax.max(s, lax.full([size], 0, "int32")), lax.full([size], n - len, "int32"));
}

/** [B, len] int32 indices start[b] + j, for j in [0, len). */
function windowIndices(start: NDArray, size: number, len: number): NDArray {
  const s = lax.broadcastInDim(start, [size, len], [0]);
  return lax.add(s, lax.broadcastInDim(iota(len), [size, len], [1]));
}

/**
 * Runs a user function (a custom rule) under a batch interpreter: the `masks` say which of each
 * group of flat inputs are batched at axis 0; every output comes back batched at axis 0.
 */
function underBatch(size: number, groups: NDArray[][], masks: boolean[][], fn: (groups: NDArray[][]) => NDArray[][]): NDArray[][] {
  const interp = new BatchInterpreter(currentInterpreter(), size);
  try {
    const packed = groups.map((g, j) => g.map((x, i) => (masks[j]![i] ? interp.pack(x) : x)));
    const outs = withInterpreter(interp, () => fn(packed));
    return outs.map((g) => g.map((x) => interp.unpack(x) ?? withBatch(x, false, size)));
  } finally {
    interp.tag.alive = false;
  }
}

/** A user bwd on batched residuals and cotangents; cotangents of unbatched inputs are summed over the batch. */
function batchBwd(bwd: FlatBwd, inBatched: readonly boolean[], size: number): FlatBwd {
  return (res, cts) => {
    const [out] = underBatch(size, [res, cts], [res.map(() => true), cts.map(() => true)], ([r, c]) => [bwd(r!, c!)]);
    return out!.map((c, i) => (inBatched[i] ? c : lax.reduceSum(c, [0])));
  };
}

const batchPrograms = new WeakMap<Program, Map<string, ClosedProgram>>();

/** The program mapping `batched` inputs (batch axis 0, of `size`) to outputs all batched at 0. */
function batchProgram(cp: ClosedProgram, batched: readonly boolean[], size: number): ClosedProgram {
  const key = `${size}:${batched.map((b) => (b ? 1 : 0)).join("")}`;
  let byKey = batchPrograms.get(cp.program);
  if (byKey === undefined) batchPrograms.set(cp.program, (byKey = new Map()));
  let hit = byKey.get(key);
  if (hit !== undefined) return hit;
  const avals = cp.program.invars.map((v, i) => (batched[i] ? { shape: [size, ...v.aval.shape], dtype: v.aval.dtype } : v.aval));
  hit = traceToProgram("vmap", avals, (ins) => {
    const interp = new BatchInterpreter(currentInterpreter(), size);
    const packed = ins.map((x, i) => (batched[i] ? interp.pack(x) : x));
    try {
      const outs = withInterpreter(interp, () => evalProgram(cp.program, cp.consts, packed));
      return outs.map((o) => interp.unpack(o) ?? withBatch(o, false, size));
    } finally {
      interp.tag.alive = false;
    }
  });
  byKey.set(key, hit);
  return hit;
}

export const batchRules: BatchRules = {
  [Prim.Add]: elementwise(Prim.Add),
  [Prim.Sub]: elementwise(Prim.Sub),
  [Prim.Mul]: elementwise(Prim.Mul),
  [Prim.Div]: elementwise(Prim.Div),
  [Prim.Max]: elementwise(Prim.Max),
  [Prim.Min]: elementwise(Prim.Min),
  [Prim.Pow]: elementwise(Prim.Pow),
  [Prim.Eq]: elementwise(Prim.Eq),
  [Prim.Ne]: elementwise(Prim.Ne),
  [Prim.Lt]: elementwise(Prim.Lt),
  [Prim.Le]: elementwise(Prim.Le),
  [Prim.Gt]: elementwise(Prim.Gt),
  [Prim.Ge]: elementwise(Prim.Ge),
  [Prim.And]: elementwise(Prim.And),
  [Prim.Or]: elementwise(Prim.Or),
  [Prim.Not]: elementwise(Prim.Not),
  [Prim.Xor]: elementwise(Prim.Xor),
  [Prim.ShiftLeft]: elementwise(Prim.ShiftLeft),
  [Prim.ShiftRightLogical]: elementwise(Prim.ShiftRightLogical),
  [Prim.BitcastConvertType]: elementwise(Prim.BitcastConvertType),
  [Prim.Neg]: elementwise(Prim.Neg),
  [Prim.Exp]: elementwise(Prim.Exp),
  [Prim.Log]: elementwise(Prim.Log),
  [Prim.Log1p]: elementwise(Prim.Log1p),
  [Prim.Expm1]: elementwise(Prim.Expm1),
  [Prim.Sin]: elementwise(Prim.Sin),
  [Prim.Cos]: elementwise(Prim.Cos),
  [Prim.Tanh]: elementwise(Prim.Tanh),
  [Prim.Atan]: elementwise(Prim.Atan),
  [Prim.Logistic]: elementwise(Prim.Logistic),
  [Prim.Sqrt]: elementwise(Prim.Sqrt),
  [Prim.Rsqrt]: elementwise(Prim.Rsqrt),
  [Prim.Abs]: elementwise(Prim.Abs),
  [Prim.Sign]: elementwise(Prim.Sign),
  [Prim.Floor]: elementwise(Prim.Floor),
  [Prim.StopGradient]: elementwise(Prim.StopGradient),
  [Prim.ConvertElementType]: elementwise(Prim.ConvertElementType),
  [Prim.SelectN]: elementwise(Prim.SelectN),
  [Prim.ReduceSum]: shifted(Prim.ReduceSum, ({ axes }) => ({ axes: inc(axes) })),
  [Prim.ReduceMax]: shifted(Prim.ReduceMax, ({ axes }) => ({ axes: inc(axes) })),
  [Prim.ReduceMin]: shifted(Prim.ReduceMin, ({ axes }) => ({ axes: inc(axes) })),
  [Prim.ArgMax]: shifted(Prim.ArgMax, ({ axis }) => ({ axis: axis + 1 })),
  [Prim.ArgMin]: shifted(Prim.ArgMin, ({ axis }) => ({ axis: axis + 1 })),
  [Prim.Cumsum]: shifted(Prim.Cumsum, ({ axis, reverse }) => ({ axis: axis + 1, reverse })),
  [Prim.Argsort]: shifted(Prim.Argsort, ({ axis }) => ({ axis: axis + 1 })),
  [Prim.ConvGeneralDilated]: ([x, w], [bx, by], params, size) => one(convBatch(x!, w!, bx!, by!, params, size)),
  [Prim.BroadcastInDim]: shifted(Prim.BroadcastInDim, ({ shape, broadcastDimensions }, size) => ({
    shape: [size, ...shape],
    broadcastDimensions: [0, ...inc(broadcastDimensions)],
  })),
  [Prim.Reshape]: shifted(Prim.Reshape, ({ shape }, size) => ({ shape: [size, ...shape] })),
  [Prim.Transpose]: shifted(Prim.Transpose, ({ perm }) => ({ perm: [0, ...inc(perm)] })),
  [Prim.Rev]: shifted(Prim.Rev, ({ axes }) => ({ axes: inc(axes) })),
  [Prim.Slice]: shifted(Prim.Slice, ({ start, limit, step }, size) => ({
    start: [0, ...start],
    limit: [size, ...limit],
    step: [1, ...step],
  })),
  [Prim.Pad]: ([x, v], [bx, bv], { config }, size) => {
    const cfg: [number, number, number][] = [[0, 0, 0], ...config];
    const xb = withBatch(x!, bx!, size);
    if (!bv) return one(lax.pad(xb, v!, cfg));
    // A batched padding value: pad with zeros, then select the value where the mask says "padding".
    const padded = lax.pad(xb, lax.scalar(0, x!.dtype), cfg);
    const inside = lax.pad(lax.full(xb.shape, 1, "bool"), lax.scalar(0, "bool"), cfg);
    const fill = lax.broadcastInDim(v!, padded.shape, [0]);
    return one(lax.selectN(inside, fill, padded));
  },
  [Prim.Concatenate]: (xs, batched, { axis }, size) =>
    one(
      lax.concatenate(
        xs.map((x, i) => withBatch(x, batched[i]!, size)),
        axis + 1,
      ),
    ),
  [Prim.Gather]: ([x, idx], [bx, bi], { axis, batchDims }, size) => {
    if (!bi && batchDims === 0) return one(lax.gather(x!, idx!, axis + 1, 0));
    if (!bx && batchDims === 0) return one(lax.moveAxis(lax.gather(x!, idx!, axis, 0), axis, 0));
    return one(lax.gather(withBatch(x!, bx!, size), withBatch(idx!, bi!, size), axis + 1, batchDims + 1));
  },
  [Prim.ScatterAdd]: (args, batched, { axis, batchDims }, size) => {
    const [x, idx, u] = args.map((a, i) => withBatch(a, batched[i]!, size));
    return one(lax.scatterAdd(x!, idx!, u!, axis + 1, batchDims + 1));
  },
  [Prim.Scatter]: (args, batched, { axis, batchDims, op }, size) => {
    const [x, idx, u] = args.map((a, i) => withBatch(a, batched[i]!, size));
    return one(lax.scatter(x!, idx!, u!, axis + 1, op, batchDims + 1));
  },
  [Prim.DynamicSlice]: ([x, ...starts], [bx, ...bs], { sizes }, size) => {
    if (!bs.some((b) => b)) return one(lax.dynamicSlice(x!, [lax.scalar(0, "int32"), ...starts], [size, ...sizes]));
    // Batched starts: one batched gather per dim, each taking a window of indices.
    let out = withBatch(x!, bx!, size);
    starts.forEach((s, d) => {
      const start = clampedStart(s, bs[d]!, size, x!.shape[d + 1 - (bx ? 0 : 1)]!, sizes[d]!);
      out = lax.gather(out, windowIndices(start, size, sizes[d]!), d + 1, 1);
    });
    return one(out);
  },
  [Prim.DynamicUpdateSlice]: ([x, u, ...starts], [bx, bu, ...bs], _p, size) => {
    const xb = withBatch(x!, bx!, size),
      ub = withBatch(u!, bu!, size);
    if (!bs.some((b) => b)) return one(lax.dynamicUpdateSlice(xb, ub, [lax.scalar(0, "int32"), ...starts]));
    // Batched starts: gather the update onto x's grid, then select it inside each lane's window.
    const shape = xb.shape.slice(1);
    let placed = ub;
    let mask: NDArray | null = null;
    starts.forEach((s, d) => {
      const n = shape[d]!,
        len = ub.shape[d + 1]!;
      const start = clampedStart(s, bs[d]!, size, n, len);
      const local = lax.sub(lax.broadcastInDim(iota(n), [size, n], [1]), lax.broadcastInDim(start, [size, n], [0]));
      const clamped = lax.min(lax.max(local, lax.full([size, n], 0, "int32")), lax.full([size, n], len - 1, "int32"));
      placed = lax.gather(placed, clamped, d + 1, 1);
      const hit = lax.and(lax.ge(local, lax.full([size, n], 0, "int32")), lax.lt(local, lax.full([size, n], len, "int32")));
      const m = lax.broadcastInDim(hit, xb.shape, [0, d + 1]);
      mask = mask === null ? m : lax.and(mask, m);
    });
    return one(lax.selectN(mask!, xb, placed));
  },
  [Prim.DotGeneral]: ([x, y], [bx, by], params, size) => {
    // One operand batched: its batch axis becomes a free dim of the product, and moving it to the
    // front afterwards copies the result. Broadcasting the other operand instead (one copy of it)
    // makes the product batched with the axis already in front: done when that copy is no larger
    // than a lane's result plus the batched operand's lane (which the unbatched product reads
    // transposed).
    if (bx !== by && batchAxisMoves(x!, y!, bx!, params)) {
      const lane = (a: NDArray, batched: boolean) => (batched ? a.size / size : a.size);
      if (lane(bx ? y! : x!, false) <= lane(bx ? x! : y!, true) + dotLaneSize(x!, y!, bx!, by!, params)) {
        const [u, p] = bx ? kernelOrder(y!, params, 1) : kernelOrder(x!, params, 0);
        return dotBatched(withBatch(bx ? x! : u, bx!, size), withBatch(bx ? u : y!, by!, size), p);
      }
    }
    const {
      contract: [xc, yc],
      batch: [xb, yb],
    } = params;
    if (bx && by) return dotBatched(x!, y!, params);
    if (bx) {
      // x's batch axis becomes its first free dim, which lands right after the batch dims.
      const out = lax.dotGeneral(x!, y!, [inc(xc), yc], [inc(xb), yb]);
      return one(lax.moveAxis(out, xb.length, 0));
    }
    const out = lax.dotGeneral(x!, y!, [xc, inc(yc)], [xb, inc(yb)]);
    const xFree = x!.ndim - xc.length - xb.length;
    return one(lax.moveAxis(out, xb.length + xFree, 0));
  },
  // The decompositions batch over leading axes already: the batch axis (0) is one more of them.
  [Prim.Cholesky]: leadingBatch(Prim.Cholesky),
  [Prim.TriangularSolve]: ([a, b], [ba, bb], params, size) => one(lax.triangularSolve(withBatch(a!, ba!, size), withBatch(b!, bb!, size), params)),
  [Prim.Lu]: leadingBatch(Prim.Lu),
  [Prim.Qr]: leadingBatch(Prim.Qr),
  [Prim.Eigh]: leadingBatch(Prim.Eigh),
  [Prim.Svd]: leadingBatch(Prim.Svd),
  [Prim.Cond]: ([index, ...ops], [bi, ...bops], { branches }, size) => {
    if (!bi) {
      const outs = bind(Prim.Cond, [index!, ...ops], { branches: branches.map((b) => batchProgram(b, bops, size)) });
      return [outs, outs.map(() => true)];
    }
    // A batched predicate: every branch runs on every lane and each lane keeps its own branch's
    // result. Lanes where a branch is not taken get operands copied from a lane where it is, so
    // an untaken branch never sees inputs outside its domain (no NaN leaks into gradients).
    const clamped = lax.min(lax.max(index!, lax.fill(index!, 0)), lax.fill(index!, branches.length - 1));
    const results = branches.map((b, k) => {
      const taken = lax.eq(clamped, lax.fill(clamped, k));
      const first = lax.reshape(lax.argmax(lax.convert(taken, "int32"), 0), [1]);
      const safe = ops.map((x, i) => {
        if (!bops[i]) return x;
        // The donor only keeps the branch in its domain: its lanes' results are discarded, so no
        // derivative may flow back through it (a NaN there would reach the donor lane).
        const donor = lax.stopGradient(lax.broadcastInDim(lax.gather(x, first, 0), x.shape, range(x.ndim)));
        return lax.selectN(lax.broadcastInDim(taken, x.shape, [0]), donor, x);
      });
      return bind(Prim.JitCall, safe, { program: batchProgram(b, bops, size), name: `branch${k}` });
    });
    const outs = results[0]!.map((o, j) => lax.selectN(lax.broadcastInDim(clamped, o.shape, [0]), ...results.map((r) => r[j]!)));
    return [outs, outs.map(() => true)];
  },
  // Every carry is batched; the loop runs until no lane's predicate holds, and finished lanes keep their carry.
  [Prim.While]: (args, batched, { cond, body, condConsts: nc, bodyConsts: nb }, size) => {
    const cc = args.slice(0, nc),
      bc = args.slice(nc, nc + nb);
    const carry = args.slice(nc + nb).map((c, i) => withBatch(c, batched[nc + nb + i]!, size));
    const all = carry.map(() => true);
    const condB = batchProgram(cond, [...batched.slice(0, nc), ...all], size);
    const bodyB = batchProgram(body, [...batched.slice(nc, nc + nb), ...all], size);
    const anyLane = traceToProgram("vmap", [...cc, ...carry], (ins) => {
      const [p] = evalProgram(condB.program, condB.consts, ins);
      return [lax.gt(lax.reduceMax(lax.convert(p!, "int32"), [0]), lax.scalar(0, "int32"))];
    });
    const step = traceToProgram("vmap", [...cc, ...bc, ...carry], (ins) => {
      const c = ins.slice(0, nc),
        b = ins.slice(nc, nc + nb),
        x = ins.slice(nc + nb);
      const [p] = evalProgram(condB.program, condB.consts, [...c, ...x]);
      const next = evalProgram(bodyB.program, bodyB.consts, [...b, ...x]);
      return next.map((v, i) => lax.selectN(lax.broadcastInDim(p!, v.shape, [0]), x[i]!, v));
    });
    const outs = bind(Prim.While, [...cc, ...cc, ...bc, ...carry], { cond: anyLane, body: step, condConsts: nc, bodyConsts: nc + nb });
    return [outs, outs.map(() => true)];
  },
  // Batched xs scan along axis 0 with the batch axis second; carries are all batched.
  [Prim.Scan]: (args, batched, { body, length, reverse, numConsts: nc, numCarry: k }, size) => {
    const carry = args.slice(nc, nc + k).map((c, i) => withBatch(c, batched[nc + i]!, size));
    const xs = args.slice(nc + k).map((x, i) => (batched[nc + k + i] ? lax.moveAxis(x, 0, 1) : x));
    const bb = batchProgram(body, [...batched.slice(0, nc), ...carry.map(() => true), ...batched.slice(nc + k)], size);
    const outs = bind(Prim.Scan, [...args.slice(0, nc), ...carry, ...xs], { body: bb, length, reverse, numConsts: nc, numCarry: k });
    return [[...outs.slice(0, k), ...outs.slice(k).map((y) => lax.moveAxis(y, 1, 0))], outs.map(() => true)];
  },
  [Prim.CustomJvpCall]: (args, batched, { fun, rule, numLifted, name }, size) => {
    const rule2: FlatJvpRule = (ps, ts) => {
      const [o, t] = underBatch(size, [ps, ts], [batched, batched], ([p, tt]) => rule(p!, tt!));
      return [o!, t!];
    };
    const outs = bind(Prim.CustomJvpCall, args, { fun: batchProgram(fun, batched, size), rule: rule2, numLifted, name });
    return [outs, outs.map(() => true)];
  },
  [Prim.CustomVjpCall]: (args, batched, { fun, fwd, bwd, numLifted, name }, size) => {
    const fwd2: FlatFwd = (ps) => {
      const [o, r] = underBatch(size, [ps], [batched], ([p]) => fwd(p!));
      return [o!, r!];
    };
    const outs = bind(Prim.CustomVjpCall, args, {
      fun: batchProgram(fun, batched, size),
      fwd: fwd2,
      bwd: batchBwd(bwd, batched, size),
      numLifted,
      name,
    });
    return [outs, outs.map(() => true)];
  },
  [Prim.CustomLin]: (args, batched, { bwd, numRes, outAvals, name }, size) => {
    const res = args.slice(0, numRes).map((r, i) => withBatch(r, batched[i]!, size));
    const outs = bind(Prim.CustomLin, [...res, ...args.slice(numRes)], {
      bwd: batchBwd(bwd, batched.slice(numRes), size),
      numRes,
      name,
      outAvals: outAvals.map((a) => ({ shape: [size, ...a.shape], dtype: a.dtype })),
    });
    return [outs, outs.map(() => true)];
  },
  // As JAX: the callback sees the batched values (unbatched operands broadcast along the batch).
  [Prim.DebugCallback]: (args, batched, params, size) => {
    bind(
      Prim.DebugCallback,
      args.map((a, i) => withBatch(a, batched[i]!, size)),
      params,
    );
    return [[], []];
  },
  [Prim.Remat]: (args, batched, { body, policy, name }, size) => {
    const outs = bind(Prim.Remat, args, { body: batchProgram(body, batched, size), policy, name });
    return [outs, outs.map(() => true)];
  },
  // A compiled call batches into a compiled call of its batched program.
  [Prim.JitCall]: (args, batched, { program, name }, size) => {
    const outs = bind(Prim.JitCall, args, { program: batchProgram(program, batched, size), name: `vmap(${name})` });
    return [outs, outs.map(() => true)];
  },
};
