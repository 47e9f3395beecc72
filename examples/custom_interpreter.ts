/**
 * Writing your own interpreter: give fluxion programs a new meaning without touching the library.
 *
 *   npx tsx examples/custom_interpreter.ts
 *
 * Every `np.*` call is built from a small, closed set of primitives (`Prim`), and every primitive is
 * handed to the *current* interpreter through `bind`. An interpreter is one method,
 * `process(prim, args, params)`, plus a `parent` to delegate to. `grad`, `vmap` and `jit` are
 * interpreters too, stacked on top of whatever was current when they were called. So an interpreter
 * you install with `withInterpreter(mine, () => ...)` sits *below* any transform started inside it,
 * and sees exactly the work that transform asks its parent to do.
 *
 * Two interpreters:
 *
 * 1. `FlopCounter` forwards every primitive to its parent (so results are unchanged) and counts the
 *    floating-point operations from the shapes. Run `f`, `grad(f)`, `vmap(f)` or `jit(f)` inside it and
 *    it counts what each really executes: the backward pass of `grad`, the whole batch of `vmap`, and
 *    for `jit` a single `jit_call` primitive, whose staged program the counter reads statically.
 *
 * 2. `IntervalInterpreter` evaluates a function on boxes instead of points: its values are tracers
 *    holding a lower and an upper bound, and its rules propagate bounds through each primitive
 *    (interval bound propagation, as used to certify neural networks against input perturbations).
 *    Primitives that touch none of its tracers go to the parent unchanged.
 *
 * Exits with code 1 if a check fails.
 */
import { pathToFileURL } from "node:url";
import {
  type ClosedProgram,
  ConcretizationError,
  type Interpreter,
  type NDArray,
  Prim,
  type PrimParams,
  type Program,
  Tag,
  Tracer,
  bind,
  currentInterpreter,
  grad,
  jit,
  lax,
  nn,
  np,
  random,
  vmap,
  withInterpreter,
} from "../src/index.js";

// =============================================================================================
// 1. A FLOP counter
// =============================================================================================

/** Anything with a shape: an array, or the aval of a staged program's variable. */
type Shaped = { readonly shape: readonly number[] };
const sizeOf = (a: Shaped): number => a.shape.reduce((n, d) => n * d, 1);

/**
 * How each primitive is costed. An exhaustive table: if fluxion grows a primitive, this example
 * stops compiling until someone decides what it costs (the same discipline as the library's own
 * rule tables).
 *  - free:        moves or reinterprets data, no arithmetic (reshape, broadcast, gather, ...)
 *  - elementwise: one FLOP per output element (transcendentals included, by convention)
 *  - reduction:   combines n inputs into fewer outputs: one FLOP per element folded in
 *  - contraction: dot_general; a multiply-add is 2 FLOPs, so an [m,k] @ [k,n] matmul is 2mkn
 *  - control:     a higher-order primitive; its cost is that of the programs it runs
 */
type Kind = "free" | "elementwise" | "reduction" | "contraction" | "factorization" | "control";
const KIND: { [P in Prim]: Kind } = {
  [Prim.Add]: "elementwise",
  [Prim.Sub]: "elementwise",
  [Prim.Neg]: "elementwise",
  [Prim.Mul]: "elementwise",
  [Prim.Div]: "elementwise",
  [Prim.Exp]: "elementwise",
  [Prim.Log]: "elementwise",
  [Prim.Log1p]: "elementwise",
  [Prim.Expm1]: "elementwise",
  [Prim.Sin]: "elementwise",
  [Prim.Cos]: "elementwise",
  [Prim.Tanh]: "elementwise",
  [Prim.Atan]: "elementwise",
  [Prim.Logistic]: "elementwise",
  [Prim.Sqrt]: "elementwise",
  [Prim.Rsqrt]: "elementwise",
  [Prim.Abs]: "elementwise",
  [Prim.Pow]: "elementwise",
  [Prim.Max]: "elementwise",
  [Prim.Min]: "elementwise",
  [Prim.Sign]: "elementwise",
  [Prim.Floor]: "elementwise",
  [Prim.Eq]: "elementwise",
  [Prim.Ne]: "elementwise",
  [Prim.Lt]: "elementwise",
  [Prim.Le]: "elementwise",
  [Prim.Gt]: "elementwise",
  [Prim.Ge]: "elementwise",
  [Prim.And]: "elementwise",
  [Prim.Or]: "elementwise",
  [Prim.Not]: "elementwise",
  [Prim.Xor]: "elementwise",
  [Prim.ShiftLeft]: "elementwise",
  [Prim.ShiftRightLogical]: "elementwise",
  [Prim.BitcastConvertType]: "elementwise",
  [Prim.SelectN]: "elementwise",
  [Prim.ConvertElementType]: "free",
  [Prim.StopGradient]: "free",
  [Prim.ReduceSum]: "reduction",
  [Prim.ReduceMax]: "reduction",
  [Prim.ReduceMin]: "reduction",
  [Prim.ArgMax]: "reduction",
  [Prim.ArgMin]: "reduction",
  [Prim.Cumsum]: "reduction",
  [Prim.Argsort]: "reduction",
  [Prim.ConvGeneralDilated]: "contraction",
  [Prim.BroadcastInDim]: "free",
  [Prim.Reshape]: "free",
  [Prim.Transpose]: "free",
  [Prim.Rev]: "free",
  [Prim.Slice]: "free",
  [Prim.Pad]: "free",
  [Prim.Concatenate]: "free",
  [Prim.Gather]: "free",
  [Prim.DynamicSlice]: "free",
  [Prim.DynamicUpdateSlice]: "free",
  [Prim.ScatterAdd]: "elementwise", // one add per update element; counted below on the updates
  [Prim.Scatter]: "elementwise", // one combine per update element; counted below on the updates
  [Prim.DotGeneral]: "contraction",
  [Prim.Cholesky]: "factorization",
  [Prim.TriangularSolve]: "factorization",
  [Prim.Lu]: "factorization",
  [Prim.Qr]: "factorization",
  [Prim.Eigh]: "factorization",
  [Prim.Svd]: "factorization",
  [Prim.JitCall]: "control",
  [Prim.Cond]: "control",
  [Prim.While]: "control",
  [Prim.Scan]: "control",
  [Prim.CustomJvpCall]: "control",
  [Prim.CustomVjpCall]: "control",
  [Prim.CustomLin]: "control",
  [Prim.DebugCallback]: "free",
  [Prim.Remat]: "control",
};

/** FLOPs of one first-order primitive, from its operand and result shapes. */
function firstOrderFlops(prim: Prim, ins: readonly Shaped[], outs: readonly Shaped[], params: PrimParams[Prim]): number {
  switch (KIND[prim]) {
    case "free":
      return 0;
    case "elementwise":
      return prim === Prim.ScatterAdd || prim === Prim.Scatter ? sizeOf(ins[2]!) : sizeOf(outs[0]!);
    case "reduction": {
      // A reduce folds (in - out) elements into the outputs; cumsum about one add each; argsort
      // about log2(n) comparisons each.
      if (prim === Prim.Cumsum) return sizeOf(ins[0]!);
      if (prim === Prim.Argsort)
        return sizeOf(ins[0]!) * Math.ceil(Math.log2(Math.max(2, ins[0]!.shape[(params as PrimParams[Prim.Argsort]).axis]!)));
      return sizeOf(ins[0]!) - sizeOf(outs[0]!);
    }
    case "contraction": {
      // A convolution: one multiply-add per output element and kernel entry it reads (O rows of the kernel).
      if (prim === Prim.ConvGeneralDilated) return (2 * sizeOf(outs[0]!) * sizeOf(ins[1]!)) / ins[1]!.shape[0]!;
      const { contract } = params as PrimParams[Prim.DotGeneral];
      const k = contract[0].reduce((n, d) => n * ins[0]!.shape[d]!, 1); // the contracted size
      return 2 * sizeOf(outs[0]!) * k;
    }
    case "factorization": {
      // about m·n·min(m, n) for a decomposition; n² per right-hand side for a triangular solve
      const [m, n] = ins[0]!.shape.slice(-2) as [number, number];
      return prim === Prim.TriangularSolve ? n * sizeOf(ins[1]!) : m * n * Math.min(m, n);
    }
    case "control":
      throw new Error(`firstOrderFlops: ${prim} is higher-order; tally its programs instead`);
  }
}

/** FLOPs in total and per primitive name. */
class Tally {
  flops = 0;
  /** While loops met inside staged programs, each counted as one iteration (trip count unknown). */
  whileLoops = 0;
  readonly byPrim = new Map<string, number>();

  add(prim: string, n: number): void {
    this.flops += n;
    this.byPrim.set(prim, (this.byPrim.get(prim) ?? 0) + n);
  }

  merge(other: Tally, times = 1): void {
    for (const [prim, n] of other.byPrim) this.add(prim, times * n);
    this.whileLoops += other.whileLoops;
  }
}

/** Statically tallies a staged program: what `jit` (and scan, remat, ...) hand an interpreter. */
function programTally(p: Program): Tally {
  const t = new Tally();
  for (const e of p.eqns)
    tallyEqn(
      t,
      e.prim,
      e.inputs.map((v) => v.aval),
      e.outvars.map((v) => v.aval),
      e.params,
    );
  return t;
}

/**
 * Adds one primitive application to `t`. Higher-order primitives add the programs they run: a
 * scan its body times its length, a cond its most expensive branch, a while loop one iteration.
 */
function tallyEqn(t: Tally, prim: Prim, ins: readonly Shaped[], outs: readonly Shaped[], params: PrimParams[Prim]): void {
  switch (prim) {
    case Prim.JitCall:
      return t.merge(programTally((params as PrimParams[Prim.JitCall]).program.program));
    case Prim.Remat:
      return t.merge(programTally((params as PrimParams[Prim.Remat]).body.program));
    case Prim.CustomJvpCall:
      return t.merge(programTally((params as PrimParams[Prim.CustomJvpCall]).fun.program));
    case Prim.CustomVjpCall:
      return t.merge(programTally((params as PrimParams[Prim.CustomVjpCall]).fun.program));
    case Prim.CustomLin:
      return; // never evaluated, only transposed: its backward ops are bound one by one
    case Prim.Scan: {
      const { body, length } = params as PrimParams[Prim.Scan];
      return t.merge(programTally(body.program), length);
    }
    case Prim.Cond: {
      const branches = (params as PrimParams[Prim.Cond]).branches.map((b) => programTally(b.program));
      return t.merge(branches.reduce((a, b) => (b.flops > a.flops ? b : a)));
    }
    case Prim.While: {
      const { cond, body } = params as PrimParams[Prim.While];
      t.merge(programTally(cond.program));
      t.merge(programTally(body.program));
      t.whileLoops++;
      return;
    }
    default:
      return t.add(prim, firstOrderFlops(prim, ins, outs, params));
  }
}

/**
 * Counts the FLOPs of everything executed while it is the current interpreter. Every primitive is
 * forwarded unchanged to the parent, so values (and any transform running above) are unaffected.
 */
class FlopCounter implements Interpreter {
  readonly tally = new Tally();
  /** The primitives this interpreter was handed, in order. */
  readonly seen: string[] = [];

  constructor(readonly parent: Interpreter) {}

  process<P extends Prim>(prim: P, args: readonly NDArray[], params: PrimParams[P]): NDArray[] {
    this.seen.push(prim);
    // A while loop's trip count is only known by running it: run it here, one jit_call per cond
    // and body evaluation, each forwarded (and counted) like any other primitive.
    if (prim === Prim.While) return this.runWhile(args, params as PrimParams[Prim.While]);
    const outs = this.parent.process(prim, args, params);
    if (prim === Prim.Cond && !(args[0] instanceof Tracer)) {
      // The branch that ran is known from the concrete index (clamped, as lax.cond does).
      const { branches } = params as PrimParams[Prim.Cond];
      this.tally.merge(programTally(branches[Math.min(Math.max(args[0]!.item(), 0), branches.length - 1)]!.program));
    } else {
      tallyEqn(this.tally, prim, args, outs, params);
    }
    return outs;
  }

  private runWhile(args: readonly NDArray[], { cond, body, condConsts, bodyConsts }: PrimParams[Prim.While]): NDArray[] {
    const cc = args.slice(0, condConsts),
      bc = args.slice(condConsts, condConsts + bodyConsts);
    let carry = args.slice(condConsts + bodyConsts);
    const call = (cp: ClosedProgram, ins: NDArray[]) => this.process(Prim.JitCall, ins, { program: cp, name: "while" });
    while (call(cond, [...cc, ...carry])[0]!.item()) carry = call(body, [...bc, ...carry]);
    return carry;
  }
}

/** Runs `fn` under a fresh FlopCounter (whose parent is whatever is current now). */
function countFlops<T>(fn: () => T): { flops: number; byPrim: Map<string, number>; seen: string[]; result: T } {
  const counter = new FlopCounter(currentInterpreter());
  const result = withInterpreter(counter, fn);
  return { flops: counter.tally.flops, byPrim: counter.tally.byPrim, seen: counter.seen, result };
}

// =============================================================================================
// 2. Interval arithmetic
// =============================================================================================

/** A value known only to lie in [lo, hi] elementwise. */
class IntervalTracer extends Tracer {
  constructor(
    readonly tag: Tag,
    readonly lo: NDArray,
    readonly hi: NDArray,
  ) {
    super();
  }
  get shape(): number[] {
    return this.lo.shape;
  }
  get dtype() {
    return this.lo.dtype;
  }
  toConcrete(fn: string): never {
    throw new ConcretizationError(`${fn}: an interval (${this.dtype}[${this.shape}]) has no single value; read .lo and .hi`);
  }
}

/**
 * Primitives that are non-decreasing in every operand: bounds map to bounds, f([lo, hi]) =
 * [f(lo), f(hi)], operand by operand. This covers the structural ones (reshape, broadcast, ...),
 * sums and maxima, and the increasing functions exp, log, tanh, sigmoid, sqrt, ...
 */
const MONOTONE = new Set<Prim>([
  Prim.Add,
  Prim.Max,
  Prim.Min,
  Prim.Exp,
  Prim.Log,
  Prim.Log1p,
  Prim.Expm1,
  Prim.Tanh,
  Prim.Atan,
  Prim.Logistic,
  Prim.Sqrt,
  Prim.ReduceSum,
  Prim.ReduceMax,
  Prim.ReduceMin,
  Prim.Cumsum,
  Prim.BroadcastInDim,
  Prim.Reshape,
  Prim.Transpose,
  Prim.Rev,
  Prim.Slice,
  Prim.Pad,
  Prim.Concatenate,
  Prim.Gather,
  Prim.DynamicSlice,
  Prim.ConvertElementType,
  Prim.StopGradient,
]);

/** Elementwise min and max of a list of arrays. */
const minOf = (xs: NDArray[]) => xs.reduce((a, b) => np.minimum(a, b));
const maxOf = (xs: NDArray[]) => xs.reduce((a, b) => np.maximum(a, b));

class IntervalInterpreter implements Interpreter {
  readonly tag = new Tag("interval");
  constructor(readonly parent: Interpreter) {}

  /** A box [lo, hi] as a value this interpreter owns. */
  box(lo: NDArray, hi: NDArray): IntervalTracer {
    return new IntervalTracer(this.tag, lo, hi);
  }

  /** [lo, hi] of any value; a plain array is the degenerate interval [x, x]. */
  bounds(x: NDArray): [NDArray, NDArray] {
    return x instanceof IntervalTracer && x.tag === this.tag ? [x.lo, x.hi] : [x, x];
  }

  process<P extends Prim>(prim: P, args: readonly NDArray[], params: PrimParams[P]): NDArray[] {
    if (!args.some((a) => a instanceof IntervalTracer && a.tag === this.tag)) return this.parent.process(prim, args, params);
    const b = args.map((a) => this.bounds(a));
    // The rules compute on plain arrays, with the parent as the current interpreter.
    const [lo, hi] = withInterpreter(this.parent, () => this.rule(prim, b, params));
    return [this.box(lo, hi)];
  }

  private rule<P extends Prim>(prim: P, b: [NDArray, NDArray][], params: PrimParams[P]): [NDArray, NDArray] {
    const apply = (ops: NDArray[]) => bind(prim, ops, params)[0]!;
    if (MONOTONE.has(prim)) return [apply(b.map(([l]) => l)), apply(b.map(([, h]) => h))];
    const [[al, ah], [bl, bh] = [al, ah]] = b as [[NDArray, NDArray], [NDArray, NDArray]?];
    switch (prim) {
      case Prim.Neg: // -[l, h] = [-h, -l]
        return [np.negative(ah), np.negative(al)];
      case Prim.Sub: // [al, ah] - [bl, bh] = [al - bh, ah - bl]
        return [al.sub(bh), ah.sub(bl)];
      case Prim.Mul: {
        // the extremes of a product are among the four corner products
        const corners = [al.mul(bl), al.mul(bh), ah.mul(bl), ah.mul(bh)];
        return [minOf(corners), maxOf(corners)];
      }
      case Prim.Div: {
        // like mul, unless the divisor's interval contains 0: then unbounded
        const corners = [al.div(bl), al.div(bh), ah.div(bl), ah.div(bh)];
        const straddles = np.logicalAnd(bl.lessEqual(0), bh.greaterEqual(0));
        return [np.where(straddles, -Infinity, minOf(corners)), np.where(straddles, Infinity, maxOf(corners))];
      }
      case Prim.Abs: {
        // |x| over [l, h]: 0 if the interval straddles 0
        const lo = np.where(al.greater(0), al, np.where(ah.less(0), np.negative(ah), np.zerosLike(al)));
        return [lo, np.maximum(np.abs(al), np.abs(ah))];
      }
      case Prim.DotGeneral:
      case Prim.ConvGeneralDilated: {
        // Midpoint-radius form: A B is within center(A) center(B) +- (|cA| rB + rA |cB| + rA rB).
        const mid = (l: NDArray, h: NDArray) => [l.add(h).mul(0.5), h.sub(l).mul(0.5)] as const;
        const [ca, ra] = mid(al, ah),
          [cb, rb] = mid(bl, bh);
        const center = apply([ca, cb]);
        const radius = apply([np.abs(ca), rb])
          .add(apply([ra, np.abs(cb)]))
          .add(apply([ra, rb]));
        return [center.sub(radius), center.add(radius)];
      }
      default:
        throw new Error(`IntervalInterpreter: no interval rule for '${prim}'; add one to rule()`);
    }
  }
}

/** Evaluates f on the box [lo, hi]; returns bounds on its output. */
function intervalEval(f: (x: NDArray) => NDArray, lo: NDArray, hi: NDArray): [NDArray, NDArray] {
  const interp = new IntervalInterpreter(currentInterpreter());
  try {
    const out = withInterpreter(interp, () => f(interp.box(lo, hi)));
    return interp.bounds(out);
  } finally {
    interp.tag.alive = false; // the box must not be used after this returns
  }
}

// =============================================================================================
// Demo
// =============================================================================================

const B = 32,
  N_IN = 16,
  HIDDEN = 32,
  N_OUT = 4;

interface Mlp {
  w1: NDArray;
  b1: NDArray;
  w2: NDArray;
  b2: NDArray;
}

function mlp(p: Mlp, x: NDArray): NDArray {
  return np.matmul(np.tanh(np.matmul(x, p.w1).add(p.b1)), p.w2).add(p.b2);
}

/** Mean squared error of a 2-layer tanh MLP on a batch. */
function loss(p: Mlp, x: NDArray, y: NDArray): NDArray {
  return np.mean(np.square(mlp(p, x).sub(y)));
}

export interface CustomInterpreterResult {
  /** FLOPs of the eager loss, counted, and the same from the closed form. */
  fFlops: number;
  fExpected: number;
  /** FLOPs of grad(loss) w.r.t. the parameters, total and in dot_general. */
  gradFlops: number;
  gradDotFlops: number;
  gradDotExpected: number;
  /** vmap(loss) over 8 batches counts exactly 8x the loss. */
  vmapFlops: number;
  /** What the counter was handed for jit(loss), and what it counted there (on the 1st and 2nd call). */
  jitSeen: string[];
  jitFlops: number;
  jitSecondCallFlops: number;
  /** jit(grad(loss)): one jit_call holding forward and backward; grad(jit(loss)): what the counter saw. */
  jitGradFlops: number;
  gradJitSeen: string[];
  gradJitFlops: number;
  /** A while loop: FLOPs counted by running it, and the closed-form count (10 trips). */
  whileFlops: number;
  whileExpected: number;
  /** Interval bounds of the network's outputs over an input box, and the sampled outputs' extremes. */
  intervalLo: number[];
  intervalHi: number[];
  sampledMin: number[];
  sampledMax: number[];
  samplesInside: boolean;
  /** x - x over [-1, 2]: interval arithmetic's dependency problem (true range is {0}). */
  dependencyBounds: [number, number];
  /** 1 / x over [-1, 2]: unbounded. */
  reciprocalBounds: [number, number];
}

function check(ok: boolean, what: string): void {
  if (!ok) throw new Error(`custom_interpreter: check failed: ${what}`);
}

const fmtCount = (n: number) => n.toLocaleString("en-US");
/** `[while, jit_call, jit_call, jit_call]` as `while, jit_call x3`. */
const summarize = (seen: string[]) =>
  seen
    .reduce<[string, number][]>((runs, p) => {
      const last = runs.at(-1);
      if (last && last[0] === p) last[1]++;
      else runs.push([p, 1]);
      return runs;
    }, [])
    .map(([p, n]) => (n > 1 ? `${p} x${n}` : p))
    .join(", ");
const breakdown = (m: Map<string, number>) =>
  [...m]
    .filter(([, n]) => n > 0)
    .sort((a, b) => b[1] - a[1])
    .map(([p, n]) => `${p} ${fmtCount(n)}`)
    .join(", ");

export function main(log: (line: string) => void = console.log): CustomInterpreterResult {
  const [k1, k2, kx, ky, kb] = random.split(random.key(0), 5);
  const params: Mlp = {
    w1: random.normal(k1!, [N_IN, HIDDEN]).mul(1 / Math.sqrt(N_IN)),
    b1: np.zeros([HIDDEN]),
    w2: random.normal(k2!, [HIDDEN, N_OUT]).mul(1 / Math.sqrt(HIDDEN)),
    b2: np.zeros([N_OUT]),
  };
  const x = random.normal(kx!, [B, N_IN]),
    y = random.normal(ky!, [B, N_OUT]);

  log(`== FLOP counter: 2-layer MLP, batch ${B}, ${N_IN} -> ${HIDDEN} -> ${N_OUT} ==`);
  // f: two matmuls (2mkn each), bias adds, tanh, the residual, square, sum, and one divide.
  const f = countFlops(() => loss(params, x, y));
  const fExpected = 2 * B * N_IN * HIDDEN + 2 * B * HIDDEN + 2 * B * HIDDEN * N_OUT + 3 * B * N_OUT + (B * N_OUT - 1) + 1;
  log(`loss:            ${fmtCount(f.flops).padStart(8)} FLOPs (closed form ${fmtCount(fExpected)})  [${breakdown(f.byPrim)}]`);

  // grad: run the transform inside the counter; it counts the forward pass plus the backward pass.
  const g = countFlops(() => grad(loss)(params, x, y));
  const gradDot = g.byPrim.get(Prim.DotGeneral) ?? 0;
  // Forward: x@W1, h@W2. Backward: dW2 = h^T d2, dh = d2 W2^T, dW1 = x^T d1 (no dx: x is not differentiated).
  const gradDotExpected = 2 * (2 * B * N_IN * HIDDEN) + 3 * (2 * B * HIDDEN * N_OUT);
  log(`grad(loss):      ${fmtCount(g.flops).padStart(8)} FLOPs = ${(g.flops / f.flops).toFixed(2)}x the loss  [${breakdown(g.byPrim)}]`);

  // vmap: the batching interpreter sits above the counter and hands it whole batches.
  const xs = random.normal(kb!, [8, B, N_IN]),
    ys = np.broadcastTo(y, [8, B, N_OUT]);
  const v = countFlops(() => vmap(loss, { inAxes: [null, 0, 0] })(params, xs, ys));
  log(`vmap(loss) x8:   ${fmtCount(v.flops).padStart(8)} FLOPs = ${(v.flops / f.flops).toFixed(2)}x the loss`);

  // jit: tracing runs on the base interpreter (not through the counter); the counter is handed one
  // jit_call primitive whose params hold the staged program, and counts that program's equations.
  const jitLoss = jit(loss);
  const j1 = countFlops(() => jitLoss(params, x, y));
  const j2 = countFlops(() => jitLoss(params, x, y)); // cached: no retrace, same jit_call
  log(`jit(loss):       ${fmtCount(j1.flops).padStart(8)} FLOPs; the counter saw [${summarize(j1.seen)}] (2nd call: ${fmtCount(j2.flops)})`);
  // jit(grad): forward and backward in one staged program. Work on constants alone (here the 1/n of
  // the mean's cotangent) is done once at trace time, outside the program: one FLOP less than eager.
  const jg = countFlops(() => jit(grad(loss))(params, x, y));
  log(`jit(grad(loss)): ${fmtCount(jg.flops).padStart(8)} FLOPs; the counter saw [${summarize(jg.seen)}]  [${breakdown(jg.byPrim)}]`);
  // grad of a jitted function: the forward half runs now, the backward half is a second compiled call.
  const gj = countFlops(() => grad(jit(loss))(params, x, y));
  log(`grad(jit(loss)): ${fmtCount(gj.flops).padStart(8)} FLOPs; the counter saw [${summarize(gj.seen)}]`);

  // A while loop: the counter runs it to learn the trip count. 1024 halves to <= 1 in 10 trips;
  // cond = sum (3) + compare (1), body = multiply (4): 11 conds + 10 bodies = 84.
  const w = countFlops(() =>
    lax.whileLoop(
      (c: NDArray) => np.sum(c).greater(1),
      (c: NDArray) => c.mul(0.5),
      np.full([4], 256),
    ),
  );
  const whileExpected = 11 * 4 + 10 * 4;
  log(`whileLoop:       ${fmtCount(w.flops).padStart(8)} FLOPs (expected ${whileExpected}); the counter saw [${summarize(w.seen)}]`);

  log("");
  log("== Interval arithmetic: bounds of the MLP's outputs for every input within +-0.05 of x[0] ==");
  const x0 = x.take(0, 0).astype("float64");
  const p64: Mlp = {
    w1: params.w1.astype("float64"),
    b1: params.b1.astype("float64"),
    w2: params.w2.astype("float64"),
    b2: params.b2.astype("float64"),
  };
  const eps = 0.05;
  const net = (xi: NDArray) => mlp(p64, xi);
  const [lo, hi] = intervalEval(net, x0.sub(eps), x0.add(eps));
  // Sample the box: every sampled output must lie inside the bounds (up to float64 rounding).
  const u = random.uniform(random.key(7), [2000, N_IN], "float64", -eps, eps);
  const outs = vmap(net)(x0.add(u));
  const sMin = np.min(outs, 0),
    sMax = np.max(outs, 0);
  const outside = np.logicalOr(sMin.less(lo.sub(1e-12)), sMax.greater(hi.add(1e-12)));
  const samplesInside = np.sum(outside.astype("int32")).item() === 0;
  const list = (a: NDArray) => Array.from(a.dataSync());
  const show = (a: NDArray) =>
    `[${list(a)
      .map((v) => v.toFixed(3).padStart(7))
      .join(" ")}]`;
  log(`interval lower bound  ${show(lo)}`);
  log(`sampled minimum       ${show(sMin)}`);
  log(`sampled maximum       ${show(sMax)}`);
  log(`interval upper bound  ${show(hi)}`);
  const [dl, dh] = intervalEval((t) => t.sub(t), np.array(-1, { dtype: "float64" }), np.array(2, { dtype: "float64" }));
  const dependencyBounds: [number, number] = [dl.item(), dh.item()];
  log(`x - x for x in [-1, 2]: [${dependencyBounds}] (sound but loose: each occurrence of x varies independently)`);
  const [sl, sh] = intervalEval((t) => nn.sigmoid(t.mul(3)), np.array(-1, { dtype: "float64" }), np.array(2, { dtype: "float64" }));
  log(`sigmoid(3x) for x in [-1, 2]: [${sl.item().toFixed(4)}, ${sh.item().toFixed(4)}] (monotone: exact)`);
  const [ql, qh] = intervalEval((t) => np.divide(1, t), np.array(-1, { dtype: "float64" }), np.array(2, { dtype: "float64" }));
  const reciprocalBounds: [number, number] = [ql.item(), qh.item()];
  log(`1 / x for x in [-1, 2]: [${reciprocalBounds}] (the interval contains 0)`);

  const result: CustomInterpreterResult = {
    fFlops: f.flops,
    fExpected,
    gradFlops: g.flops,
    gradDotFlops: gradDot,
    gradDotExpected,
    vmapFlops: v.flops,
    jitSeen: j1.seen,
    jitFlops: j1.flops,
    jitSecondCallFlops: j2.flops,
    jitGradFlops: jg.flops,
    gradJitSeen: gj.seen,
    gradJitFlops: gj.flops,
    whileFlops: w.flops,
    whileExpected,
    intervalLo: list(lo),
    intervalHi: list(hi),
    sampledMin: list(sMin),
    sampledMax: list(sMax),
    samplesInside,
    dependencyBounds,
    reciprocalBounds,
  };
  check(f.flops === fExpected, `the eager count matches the closed form (${f.flops} vs ${fExpected})`);
  check(gradDot === gradDotExpected, `grad's dot_general FLOPs are forward + 3 backward matmuls (${gradDot} vs ${gradDotExpected})`);
  check(g.flops > 2 * f.flops && g.flops < 4 * f.flops, "grad costs between 2x and 4x the loss");
  check(v.flops === 8 * f.flops, `vmap over 8 batches counts exactly 8x (${v.flops} vs ${8 * f.flops})`);
  check(j1.seen.length === 1 && j1.seen[0] === Prim.JitCall, "under jit the counter is handed a single jit_call");
  check(j1.flops === f.flops && j2.flops === f.flops, "the jitted program counts the same FLOPs as eager");
  check(
    jg.seen.length === 1 && jg.flops <= g.flops && jg.flops > 0.95 * g.flops,
    `jit(grad) is one jit_call counting about what eager grad counts (${jg.flops} vs ${g.flops})`,
  );
  check(gj.seen.length === 2 && gj.seen.every((s) => s === Prim.JitCall), "grad(jit) runs two compiled calls: forward and backward");
  check(w.flops === whileExpected, `the while loop counts ${whileExpected} FLOPs (${w.flops})`);
  check(samplesInside, "every sampled output lies inside the interval bounds");
  check(dependencyBounds[0] === -3 && dependencyBounds[1] === 3, "x - x over [-1, 2] gives [-3, 3]");
  check(reciprocalBounds[0] === -Infinity && reciprocalBounds[1] === Infinity, "1 / x over an interval containing 0 is unbounded");
  check(Math.abs(sl.item() - 1 / (1 + Math.exp(3))) < 1e-12 && Math.abs(sh.item() - 1 / (1 + Math.exp(-6))) < 1e-12, "monotone bounds are exact");
  log("all checks passed");
  return result;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  try {
    main();
  } catch (e) {
    console.error(e);
    process.exit(1);
  }
}
