/**
 * The CPU code generator: turns a staged program into an executable. After CSE and DCE, runs of
 * elementwise equations of one shape become a single generated JavaScript loop ("fusion"):
 * values inside the run are locals, broadcasts feeding it become index arithmetic instead of
 * copies, and reductions of its values right after it are accumulated in the same loop. Every
 * other equation runs on the eval interpreter's kernels. Generated source holds only names and
 * numbers made here.
 */
import { type DType, ON_HEAP_BYTES, allocateFull, isSlab } from "../../src/core/dtype.js";
import { ConcreteArray } from "../../src/core/ndarray.js";
import { Prim, type PrimParams } from "../../src/core/prim.js";
import { type Shape, sizeOf, stridesOf } from "../../src/core/shape.js";
import { byDType, dtypeToken, int } from "../../src/codegen/tokens.js";
import { HEAVY, JS_HELPER_NAMES, JS_HELPER_VALUES, isElementwise, jsExpr } from "../../src/codegen/js_expr.js";
import { type Executable, cpuConvLayoutImpl, cpuImpl } from "../../src/ir/executable.js";
import type { ClosedProgram, Eqn, Program, Var } from "../../src/ir/ir.js";
import { fusionFacts } from "../../src/ir/fusion.js";
import { ELEMENT_BYTES, RECYCLE_MIN_BYTES, recycle } from "../../src/core/buffers.js";
import { viewDotStep, viewDots } from "./dot_views.js";
import { loopStep } from "./loops.js";
import { composeBroadcasts, cse, dce, outerProducts } from "../../src/ir/passes.js";
import { wasmColumnSumStep, wasmExtremumStep, wasmSumStep } from "./wasm_sum.js";
import { coveredFrom, wasmLoopSize, wasmLoopStep, wasmLoopsEnabled } from "./wasm_loop.js";

export type Env = ConcreteArray[];
export type Step = (env: Env) => void;

const ARRAY: Record<DType, string> = {
  float32: "Float32Array",
  float64: "Float64Array",
  int32: "Int32Array",
  uint32: "Uint32Array",
  bool: "Uint8Array",
};
/**
 * Reductions accumulated inside a fused loop. Sums are not: they run on the eager kernel's
 * blocked pairwise order (error ~ log n), which a single running accumulator cannot reproduce.
 */
const REDUCE = new Set<Prim>([Prim.ReduceMax, Prim.ReduceMin]);
const REDUCE_ANY = new Set<Prim>([Prim.ReduceSum, Prim.ReduceMax, Prim.ReduceMin]);
/** Longest run fused into one loop: keeps generated functions small enough for V8 to compile. */
const MAX_GROUP = 512;
/**
 * Fast-math calls per loop: V8 inlines only about five, and a call left out doubles the loop's cost.
 * Loops of at most `SHORT` elements take any number: call costs are nothing beside compiling a
 * function per few ops (a 100,000-op scalar program would otherwise become 12,500 functions).
 */
const MAX_HEAVY = 4;
const SHORT = 64;

/** A step and the equations it computes (for liveness). */
interface Planned {
  readonly run: Step;
  readonly eqns: readonly Eqn[];
}

/**
 * A compiled program before it is wrapped as an executable: `run` computes every slot of an env of
 * `size` slots from its constants and inputs (recycling the storage of large intermediates that
 * die). Loops run their bodies in this form, reusing one env for every iteration.
 */
export interface Body {
  size: number;
  run: Step;
  constSlots: number[];
  consts: ConcreteArray[];
  inSlots: number[];
  outSlots: number[];
}

/** Compiles a closed program into a function from concrete inputs to concrete outputs. */
export function compileProgram(cp: ClosedProgram): Executable {
  const { size, run, constSlots, consts, inSlots, outSlots } = compileBody(cp);
  return (args) => {
    const env: Env = new Array(size);
    for (let i = 0; i < constSlots.length; i++) env[constSlots[i]!] = consts[i]!;
    for (let i = 0; i < inSlots.length; i++) env[inSlots[i]!] = args[i]!;
    run(env);
    return outSlots.map((s) => env[s]!);
  };
}

/** Optimises a closed program and orders it into steps over numbered slots. */
export function compileBody(cp: ClosedProgram): Body {
  const p = dce(cse(composeBroadcasts(outerProducts(cp.program))));
  const slots = new Map<Var, number>();
  const slot = (v: Var) => {
    let s = slots.get(v);
    if (s === undefined) slots.set(v, (s = slots.size));
    return s;
  };
  p.constvars.forEach(slot);
  p.invars.forEach(slot);
  const { planned, virtual } = plan(p, slot);
  const steps = planned.map((s) => s.run);
  const constSlots = p.constvars.map(slot),
    inSlots = p.invars.map(slot),
    outSlots = p.outvars.map(slot);
  // The constants in the order of the optimised program's constvars, resolved once (not per call).
  const constIndex = new Map(cp.program.constvars.map((v, i) => [v, i]));
  const consts = p.constvars.map((v) => cp.consts[constIndex.get(v)!]!.toConcrete("jit"));
  const body = { size: slots.size, constSlots, consts, inSlots, outSlots };
  const life = lifetimes(p, planned, virtual, slot);
  if (life === null)
    return {
      ...body,
      run: (env) => {
        for (let i = 0; i < steps.length; i++) steps[i]!(env);
      },
    };
  const { writes, dies } = life;
  const run: Step = (env) => {
    // References to each large buffer from live slots; inputs and constants are never released.
    const refs: Refs = new Map();
    for (let i = 0; i < constSlots.length; i++) hold(refs, env[constSlots[i]!]!, Infinity);
    for (let i = 0; i < inSlots.length; i++) hold(refs, env[inSlots[i]!]!, Infinity);
    for (let k = 0; k < steps.length; k++) {
      steps[k]!(env);
      const written = writes[k]!,
        dying = dies[k]!;
      for (let i = 0; i < written.length; i++) {
        const a = env[written[i]!];
        if (a !== undefined) hold(refs, a, 1);
      }
      for (let i = 0; i < dying.length; i++) {
        const s = dying[i]!,
          a = env[s];
        if (a === undefined) continue;
        env[s] = undefined!;
        release(refs, a);
      }
    }
  };
  return { ...body, run };
}

type Refs = Map<ArrayBufferLike, number>;

/**
 * Counts `n` more references from live slots to the buffer of `a` if it is one that could be
 * recycled. Arrays of at most ON_HEAP_BYTES are skipped without asking for their buffer: V8 keeps
 * them inside its heap, and reading `.buffer` would move one out (about 0.35 µs, on every call for
 * a fresh small result). None of them holds a buffer this run could recycle: their own is below
 * RECYCLE_MIN_BYTES; the only small views of larger buffers a compiled program makes are a scan's
 * per-iteration slices of its xs, which live inside the loop (a final carry that is one leaves
 * the loop as a copy, `ownedIfSmall` in loops.ts); and views made outside come in as inputs,
 * whose storage a run never recycles.
 */
function hold(refs: Refs, a: ConcreteArray, n: number): void {
  const v = a.values;
  if (v.byteLength <= ON_HEAP_BYTES) return;
  const b = v.buffer;
  if (b.byteLength >= RECYCLE_MIN_BYTES && !isSlab(b)) refs.set(b, (refs.get(b) ?? 0) + n);
}

/** Drops the reference of a slot that died to the buffer of `a`; the last one recycles it (small arrays are skipped as in `hold`). */
function release(refs: Refs, a: ConcreteArray): void {
  const v = a.values;
  if (v.byteLength <= ON_HEAP_BYTES) return;
  const b = v.buffer,
    c = refs.get(b);
  if (c === undefined) return;
  if (c > 1) refs.set(b, c - 1);
  else {
    refs.delete(b);
    recycle(a.dtype, v);
  }
}

/**
 * For each step, the slots it writes and the slots whose last reader it is, when the program has
 * arrays large enough to recycle (else null: small programs pay nothing for this). Outputs, inputs,
 * constants and whatever a debug callback sees are never released.
 */
function lifetimes(
  p: Program,
  planned: readonly Planned[],
  virtual: ReadonlyMap<Var, Eqn>,
  slot: (v: Var) => number,
): { writes: number[][]; dies: number[][] } | null {
  const large = p.eqns.some((e) => e.outvars.some((v) => sizeOf(v.aval.shape) * ELEMENT_BYTES[v.aval.dtype] >= RECYCLE_MIN_BYTES));
  if (!large) return null;
  const kept = new Set<Var>([...p.outvars, ...p.invars, ...p.constvars]);
  const last = new Map<Var, number>();
  const writes: number[][] = [];
  planned.forEach(({ eqns }, k) => {
    writes.push(eqns.flatMap((e) => e.outvars.map(slot)));
    for (const e of eqns)
      for (const v of e.inputs) {
        const src = virtual.get(v)?.inputs[0] ?? v;
        last.set(src, k);
        if (e.prim === Prim.DebugCallback) kept.add(src);
      }
  });
  const dies: number[][] = planned.map(() => []);
  planned.forEach(({ eqns }, k) => {
    for (const e of eqns) for (const v of e.outvars) if (!kept.has(v)) dies[last.get(v) ?? k]!.push(slot(v));
  });
  return { writes, dies };
}

/** Orders the program into steps: fused kernels, zero-copy reshapes, and single primitives. */
function plan(p: Program, slot: (v: Var) => number): { planned: Planned[]; virtual: ReadonlyMap<Var, Eqn> } {
  const { consumers, outputs, virtual } = fusionFacts(p, isElementwise);
  const { convs, absorbed } = layoutConvs(p, consumers, outputs);
  const products = viewDots(p, consumers, outputs);
  const planned: Planned[] = [];
  const eqns = p.eqns;
  const chain = residentChain(eqns, (f) =>
    f.prim === Prim.Reshape || REDUCE_ANY.has(f.prim)
      ? true
      : f.prim === Prim.BroadcastInDim
        ? virtual.has(f.outvars[0]!)
        : isElementwise(f.prim) && !absorbed.has(f) && !products.absorbed.has(f) && !convs.has(f) && !products.dots.has(f),
  );
  for (let i = 0; i < eqns.length;) {
    const e = eqns[i]!;
    if ((e.prim === Prim.BroadcastInDim && virtual.has(e.outvars[0]!)) || absorbed.has(e) || products.absorbed.has(e)) {
      i++;
      continue;
    }
    const conv = convs.get(e);
    if (conv !== undefined) {
      planned.push({ run: layoutConvStep(conv, slot), eqns: [conv.lhs, conv.rhs, e, conv.out].filter((f) => f !== undefined) });
      i++;
      continue;
    }
    const product = products.dots.get(e);
    if (product !== undefined) {
      planned.push({ run: viewDotStep(product, slot), eqns: [...product.through, e] });
      i++;
      continue;
    }
    if (!isElementwise(e.prim)) {
      planned.push({ run: e.prim === Prim.Reshape ? reshapeStep(e, slot) : primitiveStep(e, slot), eqns: [e] });
      i++;
      continue;
    }
    const shape = e.outvars[0]!.aval.shape;
    /** The run of elementwise equations of this shape from i, with at most `maxHeavy` fast-math calls. */
    const collect = (maxHeavy: number) => {
      const group: Eqn[] = [];
      const inGroup = new Set<Var>();
      let heavy = 0;
      let j = i;
      for (; j < eqns.length; j++) {
        const f = eqns[j]!;
        const v = f.outvars[0]!;
        if (f.prim === Prim.BroadcastInDim && virtual.has(v)) {
          if (inGroup.has(f.inputs[0]!)) break;
          continue;
        }
        if (!isElementwise(f.prim) || !sameShape(v.aval.shape, shape) || group.length === MAX_GROUP) break;
        if (HEAVY.has(f.prim) && heavy === maxHeavy) break;
        if (HEAVY.has(f.prim)) heavy++;
        group.push(f);
        inGroup.add(v);
      }
      return { group, inGroup, j };
    };
    if (wasmLoopsEnabled()) {
      // WebAssembly has no inlining budget: the whole run is one loop. Its values read by
      // reductions are stored, and the reductions run on the eager kernels.
      const run = collect(Infinity);
      const members = new Set(run.group);
      const step = wasmLoopStep({
        group: run.group,
        shape,
        virtual,
        escapes: (v) => outputs.has(v) || (consumers.get(v) ?? []).some((c) => !members.has(c)),
        readInPlace: (v) => !outputs.has(v) && chain.lastReader(v, members, run.j, consumers) !== null,
        base: chain.base(i),
        resident: (v) => chain.at(v, i),
        handOn: (v, offset, bytes, shared) => chain.add(v, offset, bytes, shared, chain.lastReader(v, members, run.j, consumers)!),
        slot,
        fallback: () => kernelStep(run.group, [], shape, { consumers, outputs, virtual }, slot),
      });
      if (step !== null) {
        planned.push({ run: step, eqns: run.group });
        i = run.j;
        continue;
      }
      // Leading equations no wasm lanes hold (integer division, a float-to-int conversion) run as
      // a JavaScript loop, so that the fast-math rest of the run still compiles to wasm.
      const cut = coveredFrom(run.group);
      const head = run.group.slice(0, cut),
        rest = run.group.slice(cut);
      if (cut > 0 && wasmLoopSize(shape) && rest.some((f) => HEAVY.has(f.prim)) && head.filter((f) => HEAVY.has(f.prim)).length <= MAX_HEAVY) {
        planned.push({ run: kernelStep(head, [], shape, { consumers, outputs, virtual }, slot), eqns: head });
        i = eqns.indexOf(rest[0]!, i);
        continue;
      }
    }
    const { group, inGroup, j: end } = collect(sizeOf(shape) <= SHORT ? Infinity : MAX_HEAVY);
    let j = end;
    const reductions: Eqn[] = [];
    for (; j < eqns.length; j++) {
      const f = eqns[j]!;
      if (!REDUCE.has(f.prim) || !inGroup.has(f.inputs[0]!)) break;
      reductions.push(f);
    }
    planned.push({ run: kernelStep(group, reductions, shape, { consumers, outputs, virtual }, slot), eqns: [...group, ...reductions] });
    i = j;
  }
  return { planned, virtual };
}

/** A convolution with the transposes swapping the first two axes of its operands or result absorbed. */
interface LayoutConv {
  conv: Eqn;
  lhs?: Eqn;
  rhs?: Eqn;
  out?: Eqn;
}

const swapsLeadingAxes = (e: Eqn | undefined): e is Eqn => {
  if (e?.prim !== Prim.Transpose) return false;
  const perm = (e.params as PrimParams[Prim.Transpose]).perm;
  return perm[0] === 1 && perm[1] === 0 && perm.every((a, i) => i < 2 || a === i);
};

/**
 * Convolutions whose operands come from transposes swapping their first two axes, or whose result
 * only goes to one, read by nothing else: the layout changes around a kernel gradient, which the
 * CPU convolution reads and writes itself (`ConvLayoutImpl`), so they are never materialised.
 */
function layoutConvs(p: Program, consumers: Map<Var, Eqn[]>, outputs: Set<Var>): { convs: Map<Eqn, LayoutConv>; absorbed: Set<Eqn> } {
  const convs = new Map<Eqn, LayoutConv>(),
    absorbed = new Set<Eqn>();
  if (cpuConvLayoutImpl() === null || !p.eqns.some((e) => e.prim === Prim.ConvGeneralDilated)) return { convs, absorbed };
  const producer = new Map<Var, Eqn>();
  for (const e of p.eqns) for (const v of e.outvars) producer.set(v, e);
  const onlyReader = (v: Var, reader: Eqn) => !outputs.has(v) && consumers.get(v)?.length === 1 && consumers.get(v)![0] === reader;
  for (const e of p.eqns) {
    if (e.prim !== Prim.ConvGeneralDilated) continue;
    const [l, r] = e.inputs as [Var, Var];
    const o = e.outvars[0]!;
    const [lt, rt, ot] = [producer.get(l), producer.get(r), consumers.get(o)?.[0]];
    const c: LayoutConv = { conv: e };
    if (swapsLeadingAxes(lt) && onlyReader(l, e)) c.lhs = lt;
    if (swapsLeadingAxes(rt) && onlyReader(r, e)) c.rhs = rt;
    if (swapsLeadingAxes(ot) && onlyReader(o, ot)) c.out = ot;
    if (c.lhs === undefined && c.rhs === undefined && c.out === undefined) continue;
    convs.set(e, c);
    for (const t of [c.lhs, c.rhs, c.out]) if (t !== undefined) absorbed.add(t);
  }
  return { convs, absorbed };
}

/** Runs a layout convolution; where the kernels do not take it, the transposes and the plain convolution instead. */
function layoutConvStep({ conv, lhs, rhs, out }: LayoutConv, slot: (v: Var) => number): Step {
  const impl = cpuImpl(),
    convImpl = cpuConvLayoutImpl()!;
  const layout = { lhs: lhs !== undefined, rhs: rhs !== undefined, out: out !== undefined };
  const [l, r] = [lhs ?? conv, rhs ?? conv].map((e, k) => slot(e === conv ? conv.inputs[k]! : e.inputs[0]!));
  const result = slot((out ?? conv).outvars[0]!);
  const params = conv.params as PrimParams[Prim.ConvGeneralDilated];
  const aval = conv.outvars[0]!.aval;
  const run = (e: Eqn, xs: ConcreteArray[]) => impl(e.prim, xs, e.params as PrimParams[Prim], [e.outvars[0]!.aval])[0]!;
  return (env) => {
    const done = convImpl(env[l]!, env[r]!, params, aval, layout);
    if (done !== null) {
      env[result] = done;
      return;
    }
    const a = lhs === undefined ? env[l]! : run(lhs, [env[l]!]),
      b = rhs === undefined ? env[r]! : run(rhs, [env[r]!]);
    const y = run(conv, [a, b]);
    env[result] = out === undefined ? y : run(out, [y]);
  };
}

const sameShape = (a: Shape, b: Shape) => a.length === b.length && a.every((n, d) => n === b[d]);

function primitiveStep(e: Eqn, slot: (v: Var) => number): Step {
  const loop = loopStep(e, slot, compileBody);
  if (loop !== undefined) return loop;
  const ins = e.inputs.map(slot),
    outs = e.outvars.map(slot);
  const avals = e.outvars.map((v) => v.aval);
  const impl = cpuImpl();
  // Shapes were checked when the program was staged: call the kernel directly.
  const step: Step = (env) => {
    const res = impl(
      e.prim,
      ins.map((s) => env[s]!),
      e.params as PrimParams[Prim],
      avals,
    );
    for (let k = 0; k < outs.length; k++) env[outs[k]!] = res[k]!;
  };
  if (e.prim === Prim.ReduceSum) return trailingSumStep(e, slot, step);
  if (e.prim === Prim.ReduceMax || e.prim === Prim.ReduceMin) return trailingExtremumStep(e, slot, step);
  return step;
}

/**
 * A float reduction's input shape and dtype and its axes as one run [first, last], or null where
 * the wasm reductions do not apply (other dtypes, scattered axes, wasm off).
 */
function floatAxisRun(e: Eqn): { shape: Shape; dtype: "float32" | "float64"; first: number; last: number } | null {
  const { shape, dtype } = e.inputs[0]!.aval;
  const axes = [...(e.params as PrimParams[Prim.ReduceSum]).axes].sort((a, b) => a - b);
  if ((dtype !== "float32" && dtype !== "float64") || e.outvars[0]!.aval.dtype !== dtype || axes.length === 0 || !wasmLoopsEnabled()) return null;
  const first = axes[0]!,
    last = axes[axes.length - 1]!;
  return axes.every((a, k) => a === first + k) ? { shape, dtype, first, last } : null;
}

/** A float max or min over trailing axes in WebAssembly (`wasm_sum.ts`; where it declines, the eager kernel). */
function trailingExtremumStep(e: Eqn, slot: (v: Var) => number, step: Step): Step {
  const run = floatAxisRun(e);
  if (run === null || run.last !== run.shape.length - 1) return step;
  const { shape, dtype, first } = run;
  const op = e.prim === Prim.ReduceMax ? "max" : "min";
  const [x, y] = [slot(e.inputs[0]!), slot(e.outvars[0]!)],
    outShape = e.outvars[0]!.aval.shape as number[];
  return wasmExtremumStep(x, y, sizeOf(shape.slice(0, first)), sizeOf(shape.slice(first)), dtype, outShape, op, step);
}

/**
 * A float sum over trailing axes, or over one block of adjacent axes before others (column sums), in
 * WebAssembly (`wasm_sum.ts`; where the kernels decline, the eager kernel).
 */
function trailingSumStep(e: Eqn, slot: (v: Var) => number, step: Step): Step {
  const run = floatAxisRun(e);
  if (run === null) return step;
  const { shape, dtype, first, last } = run;
  const outShape = e.outvars[0]!.aval.shape as number[];
  if (last < shape.length - 1) {
    const block: [number, number, number] = [sizeOf(shape.slice(0, first)), sizeOf(shape.slice(first, last + 1)), sizeOf(shape.slice(last + 1))];
    return wasmColumnSumStep(slot(e.inputs[0]!), slot(e.outvars[0]!), block, dtype, outShape, step);
  }
  return wasmSumStep(slot(e.inputs[0]!), slot(e.outvars[0]!), sizeOf(shape.slice(0, first)), sizeOf(shape.slice(first)), dtype, outShape, step);
}

function reshapeStep(e: Eqn, slot: (v: Var) => number): Step {
  const from = slot(e.inputs[0]!),
    to = slot(e.outvars[0]!);
  const { shape, dtype } = e.outvars[0]!.aval;
  return (env) => {
    env[to] = new ConcreteArray(env[from]!.values, shape as number[], dtype);
  };
}

/**
 * The flat source offset, as a JS expression in `i`, of element i of `target` read from an array
 * of shape `src` laid along `dims` of target (size-1 source dims broadcast).
 */
function offsetExpr(target: Shape, src: Shape, dims: readonly number[]): string {
  const ts = stridesOf(target),
    ss = stridesOf(src);
  const real = dims.map((d, k) => ({ d, k })).filter(({ k }) => src[k] !== 1);
  if (real.length === 0) return "0";
  const contiguous = real.every(({ d }, n) => n === 0 || d === real[n - 1]!.d + 1);
  if (contiguous) {
    const first = real[0]!.d,
      last = real[real.length - 1]!.d;
    const below = ts[last]!,
      span = sizeOf(target.slice(first, last + 1));
    const q = below === 1 ? "i" : `((i / ${int(below)}) | 0)`;
    return first === 0 ? q : `(${q} % ${int(span)})`;
  }
  return real.map(({ d, k }) => `(((i / ${int(ts[d]!)}) | 0) % ${int(target[d]!)}) * ${int(ss[k]!)}`).join(" + ");
}

/**
 * Values fused runs hand on in place (views of linear memory, not copies) and the steps that may
 * read them. A value qualifies when every reader outside its run comes after the run and before the
 * first step of another kind than the reductions, zero-copy reshapes, virtual broadcasts and fused
 * runs (`allowed`): those steps write linear memory only above the values pending (the reductions,
 * `wasm_sum.ts`) or not at all, and each later fused run lays itself out above every value still to
 * be read (`base`) and reads these where they lie (`at`). A softmax's exponentials so stay in place
 * for its sum and for the divide's run.
 */
function residentChain(eqns: readonly Eqn[], allowed: (e: Eqn) => boolean) {
  const index = new Map<Eqn, number>();
  eqns.forEach((e, k) => index.set(e, k));
  // stop[k]: the first equation at or after k that breaks a chain.
  const stop = new Int32Array(eqns.length + 1);
  stop[eqns.length] = eqns.length;
  for (let k = eqns.length - 1; k >= 0; k--) stop[k] = allowed(eqns[k]!) ? stop[k + 1]! : k;
  const live = new Map<Var, { offset: number; end: number; shared: boolean; last: number }>();
  return {
    /**
     * The index of the last step reading `v` (made by a run of `members` ending before `from`),
     * or null where some reader lies outside the chain, is a reshape (which would alias it), or
     * is a virtual broadcast read outside it.
     */
    lastReader(v: Var, members: ReadonlySet<Eqn>, from: number, consumers: ReadonlyMap<Var, Eqn[]>): number | null {
      const end = stop[from]!;
      let last = from - 1;
      const within = (c: Eqn): boolean => {
        const k = index.get(c)!;
        last = Math.max(last, k);
        return k >= from && k < end && c.prim !== Prim.Reshape;
      };
      for (const c of consumers.get(v) ?? []) {
        if (members.has(c)) continue;
        if (!within(c)) return null;
        if (
          c.prim === Prim.BroadcastInDim &&
          !(consumers.get(c.outvars[0]!) ?? []).every((d) => members.has(d) || (within(d) && d.prim !== Prim.BroadcastInDim))
        )
          return null;
      }
      return last;
    },
    /** Bytes above DATA where a run starting at step i may lay itself out (values no step from i on reads are forgotten). */
    base(i: number): number {
      let b = 0;
      for (const [v, l] of live) if (l.last < i) live.delete(v);
      for (const l of live.values()) b = Math.max(b, l.end);
      return b;
    },
    /** Where `v` lies, if a run handed it on in place and it is still to be read at step i. */
    at(v: Var, i: number): { offset: number; shared: boolean } | undefined {
      const l = live.get(v);
      return l !== undefined && l.last >= i ? l : undefined;
    },
    add(v: Var, offset: number, bytes: number, shared: boolean, last: number): void {
      live.set(v, { offset, end: Math.ceil((offset + bytes + 64) / 64) * 64, shared, last });
    },
  };
}

interface Context {
  consumers: Map<Var, Eqn[]>;
  outputs: Set<Var>;
  virtual: Map<Var, Eqn>;
}

/** Generates the fused loop of one group (and its trailing reductions). */
function kernelStep(group: Eqn[], reductions: Eqn[], shape: Shape, ctx: Context, slot: (v: Var) => number): Step {
  const n = sizeOf(shape);
  const local = new Set(group.map((e) => e.outvars[0]!));
  const members = new Set<Eqn>([...group, ...reductions]);
  const pre: string[] = [],
    body: string[] = [],
    post: string[] = [];
  const shapes: Shape[] = [];
  const reads = new Map<Var, string>();
  const declared = new Set<Var>();
  const mk = (shapeOf: Shape, dtype: DType, values: string) => `__mk(${values}, __shapes[${int(shapes.push(shapeOf) - 1)}], "${dtypeToken(dtype)}")`;

  const read = (v: Var): string => {
    if (local.has(v)) return `v${slot(v)}`;
    let r = reads.get(v);
    if (r !== undefined) return r;
    const b = ctx.virtual.get(v);
    const src = b ? b.inputs[0]! : v;
    const name = `a${slot(src)}`;
    if (!declared.has(src)) {
      declared.add(src);
      pre.push(`const ${name} = env[${slot(src)}].values;`);
    }
    if (sizeOf(src.aval.shape) === 1) {
      r = `s${slot(v)}`;
      pre.push(`const ${r} = ${name}[0];`);
    } else if (b) {
      r = `${name}[${offsetExpr(shape, src.aval.shape, (b.params as PrimParams[Prim.BroadcastInDim]).broadcastDimensions)}]`;
    } else r = `${name}[i]`;
    reads.set(v, r);
    return r;
  };

  for (const e of group) {
    const v = e.outvars[0]!;
    const inDtype = e.inputs[e.inputs.length - 1]!.aval.dtype;
    body.push(`const v${slot(v)} = ${jsExpr(e.prim, e.inputs.map(read), inDtype, v.aval.dtype)};`);
    const escapes = ctx.outputs.has(v) || (ctx.consumers.get(v) ?? []).some((c) => !members.has(c));
    if (escapes) {
      // Written in full below: recycled or unfilled storage will do.
      pre.push(`const o${slot(v)} = __full("${dtypeToken(v.aval.dtype)}", ${int(n)});`);
      body.push(`o${slot(v)}[i] = v${slot(v)};`);
      post.push(`env[${slot(v)}] = ${mk(shape, v.aval.dtype, `o${slot(v)}`)};`);
    }
  }
  for (const r of reductions) {
    const out = r.outvars[0]!;
    const axes = (r.params as PrimParams[Prim.ReduceSum]).axes;
    const kept = shape.map((d, k) => (axes.includes(k) ? 1 : d));
    const init = r.prim === Prim.ReduceSum ? "0" : r.prim === Prim.ReduceMax ? "-Infinity" : "Infinity";
    const x = read(r.inputs[0]!),
      acc = `r${slot(out)}`;
    const scalar = sizeOf(out.aval.shape) === 1;
    const at = scalar
      ? acc
      : `${acc}[${offsetExpr(
          shape,
          kept,
          kept.map((_, k) => k),
        )}]`;
    pre.push(scalar ? `let ${acc} = ${init};` : `const ${acc} = new Float64Array(${int(sizeOf(out.aval.shape))}).fill(${init});`);
    body.push(
      r.prim === Prim.ReduceSum
        ? `${at} += ${x};`
        : `{ const t = ${x}; if (t ${r.prim === Prim.ReduceMax ? ">" : "<"} ${at} || t !== t) ${at} = t; }`,
    );
    const values = `${byDType(ARRAY, out.aval.dtype)}.${scalar ? "of" : "from"}(${acc})`;
    post.push(`env[${slot(out)}] = ${mk(out.aval.shape, out.aval.dtype, values)};`);
  }
  const src = `${pre.join("\n")}\nfor (let i = 0; i < ${int(n)}; i++) {\n${body.join("\n")}\n}\n${post.join("\n")}`;
  const factory = new Function("__mk", "__shapes", "__full", ...JS_HELPER_NAMES, `return function fused(env) {\n${src}\n};`);
  return factory(
    (values: ConcreteArray["values"], s: number[], dtype: DType) => new ConcreteArray(values, s, dtype),
    shapes,
    allocateFull,
    ...JS_HELPER_VALUES,
  );
}
