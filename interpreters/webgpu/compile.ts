/**
 * The jit lowering to WebGPU: a closed program becomes a list of steps, compiled once per program.
 * After the CPU compiler's rewrites (src/ir/passes.ts) and DCE, runs of elementwise equations of
 * one size become ONE generated WGSL kernel (the plan of interpreters/jit/compile.ts): values
 * inside the run are locals, values needed outside are stored, reshapes inside the run are aliases,
 * and broadcasts read only by elementwise equations are never materialised (readers index their
 * source). Reductions end a run; a sum, max or min of a value of the run over adjacent axes, right
 * after it, is computed by the run's kernel (the run is the reduction's loader), so the reduced
 * value is never stored; the run right after a reduction that reads its result (by index, and
 * nothing the loader computes) is the reduction's epilogue, computed on each result. A run that
 * reads a dot_general's product right after it is the product kernel's epilogue (a bias add and
 * activation in the same pass). Every other equation runs its per-primitive kernel. Intermediates
 * are disposed after their last use, so their buffers return to the pool and the next step, or the
 * next call, reuses them; outputs are new arrays. All dispatches of a call go into the caller's
 * batch (one submit). Generated WGSL holds only names and numbers made here.
 */
import { int } from "../../src/codegen/tokens.js";
import { Prim, type PrimParams } from "../../src/core/prim.js";
import { type Shape, sizeOf, stridesOf } from "../../src/core/shape.js";
import { type ClosedProgram, type Eqn, type Program, type Var } from "../../src/ir/ir.js";
import { composeBroadcasts, cse, dce, outerProducts } from "../../src/ir/passes.js";
import { fusionFacts } from "../../src/ir/fusion.js";
import { type GpuArray, type GpuBackend, empty, onDevice } from "./array.js";
import { WG } from "./context.js";
import { type GpuImpl, adjacentBlock, dotSizes, dotViews, impls } from "./impl.js";
import { type Epilogue, K_CHUNK, matmulInto, matmulSource } from "./kernels/matmul.js";
import { type Loader, type ReduceEpilogue, type ReduceOp, bufferLoader, reduceLoaded, store, storeEpilogue } from "./kernels/reduce.js";
import { type Executable, setExecutableFactory } from "./programs.js";
import { ENTRY, WGSL_HELPERS, elementLoop, isElementwiseGpu, storageDecl, wgslExpr, wgslType } from "./wgsl.js";

type Env = (GpuArray | undefined)[];

interface Step {
  reads: number[];
  writes: number[];
  run: (env: Env) => void;
}

/** Longest run fused into one kernel. */
const MAX_GROUP = 256;

const caches = new WeakMap<GpuBackend, WeakMap<Program, Executable>>();

/** The executable of a closed program on the device (compiled on first use, cached per program). */
export function executable(be: GpuBackend, cp: ClosedProgram): Executable {
  let cache = caches.get(be);
  if (cache === undefined) caches.set(be, (cache = new WeakMap()));
  let exe = cache.get(cp.program);
  if (exe === undefined) cache.set(cp.program, (exe = compile(be, cp)));
  return exe;
}
setExecutableFactory(executable);

function compile(be: GpuBackend, cp: ClosedProgram): Executable {
  // The CPU compiler's rewrites (src/ir/passes.ts): products that contract nothing become
  // multiplies of virtual broadcasts, a broadcast of a broadcast one broadcast, repeats one.
  const p = dce(cse(composeBroadcasts(outerProducts(cp.program))));
  const slots = new Map<Var, number>();
  const slot = (v: Var) => {
    let s = slots.get(v);
    if (s === undefined) slots.set(v, (s = slots.size));
    return s;
  };
  const constSlots = p.constvars.map(slot),
    inSlots = p.invars.map(slot);
  const consts = p.constvars.map((v) => cp.consts[cp.program.constvars.indexOf(v)]!);
  const steps = plan(be, p, slot);
  const outSlots = p.outvars.map(slot);
  const pinned = new Set([...constSlots, ...inSlots]);
  const kept = new Set(outSlots);
  // Dispose each intermediate after the step that reads it last (or right away if never read).
  const lastUse = new Map<number, number>();
  steps.forEach((s, k) => s.reads.forEach((r) => lastUse.set(r, k)));
  const frees: number[][] = steps.map(() => []);
  steps.forEach((s, k) => s.writes.forEach((w) => !kept.has(w) && !pinned.has(w) && frees[lastUse.get(w) ?? k]!.push(w)));
  const finalFrees = [...kept].filter((s) => !pinned.has(s));
  let constDev: GpuArray[] | null = null;
  return (args) => {
    // Uploads of the program's constants are made once and kept with the executable.
    constDev ??= consts.map((c) => onDevice(be, c, "jit"));
    const env: Env = new Array(slots.size);
    constSlots.forEach((s, i) => (env[s] = constDev![i]));
    inSlots.forEach((s, i) => (env[s] = onDevice(be, args[i]!, "jit")));
    for (let k = 0; k < steps.length; k++) {
      steps[k]!.run(env);
      for (const w of frees[k]!) {
        env[w]!.dispose();
        env[w] = undefined;
      }
    }
    const res = outSlots.map((s) => env[s]!.view());
    for (const s of finalFrees) env[s]!.dispose();
    return res;
  };
}

function plan(be: GpuBackend, p: Program, slot: (v: Var) => number): Step[] {
  const { consumers, outputs, virtual } = fusionFacts(p, isElementwiseGpu);
  const ctx: Context = { be, consumers, outputs, virtual, slot };
  const steps: Step[] = [];
  const eqns = p.eqns;
  const isVirtual = (e: Eqn) => e.prim === Prim.BroadcastInDim && virtual.has(e.outvars[0]!);
  /**
   * The run of elementwise equations of n elements from eqns[start] on (the equations it takes,
   * and their indices), within the device's bindings counting `taken` more.
   */
  const runFrom = (start: number, n: number, taken: number, given?: Var): { group: Eqn[]; at: number[] } => {
    const group: Eqn[] = [];
    const at: number[] = [];
    const inGroup = new Set<Var>();
    for (let j = start; j < eqns.length; j++) {
      const f = eqns[j]!;
      const v = f.outvars[0]!;
      if (isVirtual(f)) {
        if (inGroup.has(f.inputs[0]!) || f.inputs[0] === given) break;
        continue;
      }
      // Kernels index elements by their flat index, so any elementwise equation with as many
      // elements joins the run, and a reshape of a value of the run is an alias.
      const joins = isElementwiseGpu(f.prim)
        ? sizeOf(v.aval.shape) === n
        : f.prim === Prim.Reshape && (inGroup.has(f.inputs[0]!) || (given !== undefined && f.inputs[0] === given));
      if (!joins || group.length === MAX_GROUP) break;
      group.push(f);
      at.push(j);
      inGroup.add(v);
    }
    // Keep the kernel within the device's storage-buffer bindings.
    while (group.length > 1 && bindingsOf(group, ctx, given) + taken > be.ctx.maxStorage) {
      group.pop();
      at.pop();
    }
    return { group, at };
  };
  /**
   * The run after the reduction eqns[at] (`red`, whose loader computes `pre` in `taken` bindings)
   * that can be its epilogue, or an empty one.
   */
  const postRun = (at: number, red: Eqn, pre: readonly Eqn[], taken: number): { group: Eqn[]; at: number[] } => {
    const r = red.outvars[0]!;
    let j = at + 1;
    while (j < eqns.length && isVirtual(eqns[j]!)) j++;
    const first = eqns[j];
    if (first === undefined || !(isElementwiseGpu(first.prim) || (first.prim === Prim.Reshape && first.inputs[0] === r)))
      return { group: [], at: [] };
    const run = runFrom(j, sizeOf(r.aval.shape), taken, r);
    return fusiblePost(run.group, red, pre, taken, ctx) ? run : { group: [], at: [] };
  };
  for (let i = 0; i < eqns.length;) {
    const e = eqns[i]!;
    if (isVirtual(e)) {
      i++;
      continue;
    }
    if (e.prim === Prim.DotGeneral) {
      // A product whose elementwise readers come right after it: they become its epilogue.
      const v = e.outvars[0]!;
      let j = i + 1;
      while (j < eqns.length && isVirtual(eqns[j]!)) j++;
      const { group, at } = j < eqns.length ? runFrom(j, sizeOf(v.aval.shape), 2, v) : { group: [], at: [] };
      if (fusibleEpilogue(e, group, ctx)) {
        steps.push(epilogueStep(e, group, ctx));
        i = at[at.length - 1]! + 1;
        continue;
      }
    }
    if (fusibleReduction(e, [], ctx) !== null) {
      // A reduction of a stored value whose elementwise readers come right after it.
      const post = postRun(i, e, [], 1);
      if (post.group.length > 0) {
        steps.push(fusedReductionStep([], e, post.group, ctx));
        i = post.at[post.at.length - 1]! + 1;
        continue;
      }
    }
    if (!isElementwiseGpu(e.prim)) {
      steps.push(primitiveStep(be, e, slot));
      i++;
      continue;
    }
    const n = sizeOf(e.outvars[0]!.aval.shape);
    const { group, at } = runFrom(i, n, 0);
    const next = at[at.length - 1]! + 1;
    const red = fusibleReduction(eqns[next], group, ctx);
    if (red !== null) {
      const post = postRun(next, red, group, loaderBindings(group, red, ctx));
      steps.push(fusedReductionStep(group, red, post.group, ctx));
      i = post.group.length > 0 ? post.at[post.at.length - 1]! + 1 : next + 1;
      continue;
    }
    const single = group.length === 1 && group[0]!.inputs.every((v) => !virtual.has(v));
    steps.push(single ? primitiveStep(be, group[0]!, slot) : fusedStep(group, n, ctx));
    i = next;
  }
  return steps;
}

interface Context {
  be: GpuBackend;
  consumers: Map<Var, Eqn[]>;
  outputs: Set<Var>;
  virtual: Map<Var, Eqn>;
  slot: (v: Var) => number;
}

function primitiveStep(be: GpuBackend, e: Eqn, slot: (v: Var) => number): Step {
  const ins = e.inputs.map(slot),
    outs = e.outvars.map(slot);
  const avals = e.outvars.map((v) => v.aval);
  const impl = impls[e.prim] as GpuImpl<Prim>;
  return {
    reads: ins,
    writes: outs,
    run: (env) => {
      const res = impl(
        be,
        ins.map((s) => env[s]!),
        e.params as PrimParams[Prim],
        avals,
      );
      for (let k = 0; k < outs.length; k++) env[outs[k]!] = res[k];
    },
  };
}

/**
 * The values a group reads from outside (broadcasts resolved to their sources) and those it stores.
 * A reduction the group's kernel also computes (`absorbed`) reads the group's values in place; a
 * value `given` to the kernel (the product an epilogue follows) is not read, and is stored first
 * when needed outside.
 */
function groupIO(group: readonly Eqn[], ctx: Context, absorbed?: Eqn, given?: Var): { reads: Var[]; stores: Var[] } {
  const local = new Set(group.map((e) => e.outvars[0]!));
  if (given !== undefined) local.add(given);
  const members = new Set(absorbed === undefined ? group : [...group, absorbed]);
  const reads: Var[] = [];
  for (const e of group)
    for (const v of e.inputs) {
      if (local.has(v)) continue;
      const src = ctx.virtual.get(v)?.inputs[0] ?? v;
      if (!reads.includes(src)) reads.push(src);
    }
  const needed = (v: Var) => ctx.outputs.has(v) || (ctx.consumers.get(v) ?? []).some((c) => !members.has(c));
  const stores = [...(given === undefined ? [] : [given]), ...group.map((e) => e.outvars[0]!)].filter(needed);
  return { reads, stores };
}

const bindingsOf = (group: readonly Eqn[], ctx: Context, given?: Var) => {
  const { reads, stores } = groupIO(group, ctx, undefined, given);
  return reads.length + stores.length;
};

/** The flat source offset (WGSL, u32) of element i of `target` read from `src` laid along `dims`. */
function offsetExpr(target: Shape, src: Shape, dims: readonly number[]): string {
  const ts = stridesOf(target),
    ss = stridesOf(src);
  const real = dims.map((d, k) => ({ d, k })).filter(({ k }) => src[k] !== 1);
  if (real.length === 0) return "0u";
  const contiguous = real.every(({ d }, n) => n === 0 || d === real[n - 1]!.d + 1);
  if (contiguous) {
    const first = real[0]!.d,
      last = real[real.length - 1]!.d;
    const below = ts[last]!,
      span = sizeOf(target.slice(first, last + 1));
    const q = below === 1 ? "i" : `(i / ${int(below)}u)`;
    return first === 0 ? q : `(${q} % ${int(span)}u)`;
  }
  return real.map(({ d, k }) => `(((i / ${int(ts[d]!)}u) % ${int(target[d]!)}u) * ${int(ss[k]!)}u)`).join(" + ");
}

/**
 * The WGSL statements computing a group's equations at flat index `i` (each value `v<slot>`), the
 * stores of the values needed outside (`out<k>[i]`), and the declarations of the bindings: the
 * values read (`in<k>`, bindings first..) then those stored. A value `given` is computed by the
 * caller (stored first where needed); two groups in one kernel name their bindings apart.
 */
function groupCode(
  group: readonly Eqn[],
  ctx: Context,
  reads: readonly Var[],
  stores: readonly Var[],
  first = 0,
  given?: Var,
  inName = "in",
  outName = "out",
): { body: string[]; decls: string[] } {
  const { slot, virtual } = ctx;
  const local = new Set(group.map((e) => e.outvars[0]!));
  const body: string[] = [];
  if (given !== undefined) {
    local.add(given);
    const k = stores.indexOf(given);
    if (k >= 0) body.push(`${outName}${k}[i] = v${slot(given)};`);
  }
  const named = new Map<Var, string>();
  const read = (v: Var): string => {
    if (local.has(v)) return `v${slot(v)}`;
    let r = named.get(v);
    if (r !== undefined) return r;
    const b = virtual.get(v);
    const src = b ? b.inputs[0]! : v;
    const k = reads.indexOf(src);
    const at =
      sizeOf(src.aval.shape) === 1
        ? "0u"
        : b
          ? offsetExpr(v.aval.shape, src.aval.shape, (b.params as PrimParams[Prim.BroadcastInDim]).broadcastDimensions)
          : "i";
    r = `r${slot(v)}`;
    body.push(`let ${r} = ${inName}${k}[${at}];`);
    named.set(v, r);
    return r;
  };
  for (const e of group) {
    const v = e.outvars[0]!;
    const args = e.inputs.map(read);
    const expr = e.prim === Prim.Reshape ? args[0]! : wgslExpr(e.prim, args, e.inputs[e.inputs.length - 1]!.aval.dtype, v.aval.dtype);
    body.push(`let v${slot(v)} = ${expr};`);
    const k = stores.indexOf(v);
    if (k >= 0) body.push(`${outName}${k}[i] = v${slot(v)};`);
  }
  const decls = [
    ...reads.map((v, k) => storageDecl(first + k, `${inName}${k}`, wgslType(v.aval.dtype, "jit"), false)),
    ...stores.map((v, k) => storageDecl(first + reads.length + k, `${outName}${k}`, wgslType(v.aval.dtype, "jit"), true)),
  ];
  return { body, decls };
}

/** One generated kernel computing a group of elementwise equations per element. */
function fusedStep(group: readonly Eqn[], n: number, ctx: Context): Step {
  const { slot } = ctx;
  const { reads, stores } = groupIO(group, ctx);
  const { body, decls } = groupCode(group, ctx, reads, stores);
  // One source per count of elements per invocation (the device's, which tests may switch).
  const sources = new Map<number, string>();
  const sourceFor = (per: number) => {
    let src = sources.get(per);
    if (src === undefined) {
      src = `${WGSL_HELPERS}
${decls.join("\n")}
${ENTRY} {
  ${elementLoop(per, `${int(n)}u`, body.join("\n  "))}
}`;
      sources.set(per, src);
    }
    return src;
  };
  const readSlots = reads.map(slot),
    storeSlots = stores.map(slot);
  const be = ctx.be;
  return {
    reads: readSlots,
    writes: storeSlots,
    run: (env) => {
      const outs = stores.map((v) => empty(be, v.aval));
      const binds = [...readSlots.map((s) => env[s]!.bind("jit")), ...outs.map((o) => o.bind("jit"))];
      const per = be.ctx.elementsPerThread;
      be.ctx.dispatch(sourceFor(per), binds, null, Math.ceil(n / (WG * per)));
      storeSlots.forEach((s, k) => (env[s] = outs[k]));
    },
  };
}

const REDUCE_OPS: Partial<Record<Prim, ReduceOp>> = { [Prim.ReduceSum]: "sum", [Prim.ReduceMax]: "max", [Prim.ReduceMin]: "min" };

/**
 * `e` when it can be computed by the kernel of `group` (the run before it, maybe empty): a sum, max
 * or min, over one block of adjacent axes (so the [outer, n, inner] view needs no transpose), of a
 * value the group computes (or of any value, after no group), within the device's bindings.
 */
function fusibleReduction(e: Eqn | undefined, group: readonly Eqn[], ctx: Context): Eqn | null {
  if (e === undefined || REDUCE_OPS[e.prim] === undefined) return null;
  const v = e.inputs[0]!;
  if (group.length > 0 && !group.some((g) => g.outvars[0] === v)) return null;
  // webgpu does not sum uint32: the primitive's own kernel raises that error.
  if (e.prim === Prim.ReduceSum && v.aval.dtype === "uint32") return null;
  if (adjacentBlock(v.aval.shape, (e.params as PrimParams[Prim.ReduceSum]).axes) === null) return null;
  // The group's bindings, and the reduction's output or its partial results.
  if (loaderBindings(group, e, ctx) + 1 > ctx.be.ctx.maxStorage) return null;
  return e;
}

/** Storage bindings of the loader a reduction `red` reads through: the group's, or its operand's. */
function loaderBindings(group: readonly Eqn[], red: Eqn, ctx: Context): number {
  if (group.length === 0) return 1;
  const { reads, stores } = groupIO(group, ctx, red);
  return reads.length + stores.length;
}

/**
 * Whether `post`, the run after a reduction `red` whose loader computes `pre`, can be its
 * epilogue: it reads the result by index, and nothing the loader computes (stored by the same
 * kernel, so not there to read).
 */
function fusiblePost(post: readonly Eqn[], red: Eqn, pre: readonly Eqn[], taken: number, ctx: Context): boolean {
  const v = red.outvars[0]!;
  if (post.length === 0 || !post.some((g) => g.inputs.includes(v))) return false;
  const { reads, stores } = groupIO(post, ctx, undefined, v);
  const made = new Set(pre.map((e) => e.outvars[0]!));
  if (reads.some((x) => made.has(x))) return false;
  return taken + reads.length + stores.length <= ctx.be.ctx.maxStorage;
}

/**
 * One kernel computing the reduction `red` with the run before it (`pre`, maybe empty) as its
 * loader, so the reduced value is computed where the reduction reads it and never stored, and the
 * run after it (`post`, maybe empty) as its epilogue, computed on each result as it is made. Values
 * either run must still store are stored by the loader, which sees every element once, or by the
 * epilogue, which sees every result once.
 */
function fusedReductionStep(pre: readonly Eqn[], red: Eqn, post: readonly Eqn[], ctx: Context): Step {
  const { slot } = ctx;
  const x = red.inputs[0]!,
    r = red.outvars[0]!;
  const t = wgslType(x.aval.dtype, "jit");
  const preIO = pre.length > 0 ? groupIO(pre, ctx, red) : { reads: [x], stores: [] };
  const op = REDUCE_OPS[red.prim]!;
  const load: Loader = (() => {
    if (pre.length === 0) return bufferLoader(t);
    const { body, decls } = groupCode(pre, ctx, preIO.reads, preIO.stores);
    return {
      decls: `${decls.join("\n")}
fn load(i: u32) -> ${t} {
  ${body.join("\n  ")}
  return v${slot(x)};
}`,
      count: preIO.reads.length + preIO.stores.length,
    };
  })();
  const postIO = post.length > 0 ? groupIO(post, ctx, undefined, r) : { reads: [], stores: [r] };
  const epi: ReduceEpilogue = (() => {
    if (post.length === 0) return storeEpilogue(op, t);
    return {
      count: postIO.reads.length + postIO.stores.length,
      decls: (first) => {
        const { body, decls } = groupCode(post, ctx, postIO.reads, postIO.stores, first, r, "pin", "pout");
        return `${decls.join("\n")}
fn epi(i: u32, d: ${t}) {
  let v${slot(r)} = ${store(t, op, "d")};
  ${body.join("\n  ")}
}`;
      },
    };
  })();
  // (fusibleReduction made sure the axes are one block)
  const { o: outer, n: len, i: inner } = adjacentBlock(x.aval.shape, (red.params as PrimParams[Prim.ReduceSum]).axes)!;
  const preReads = preIO.reads.map(slot),
    preStores = preIO.stores.map(slot),
    postReads = postIO.reads.map(slot),
    postStores = postIO.stores.map(slot);
  const be = ctx.be;
  return {
    reads: [...preReads, ...postReads],
    writes: [...preStores, ...postStores],
    run: (env) => {
      const preOuts = preIO.stores.map((v) => empty(be, v.aval)),
        postOuts = postIO.stores.map((v) => empty(be, v.aval));
      const bindOf = (s: number) => env[s]!.bind("jit");
      reduceLoaded(
        op,
        x.aval.dtype,
        load,
        [...preReads.map(bindOf), ...preOuts.map((o) => o.bind("jit"))],
        epi,
        [...postReads.map(bindOf), ...postOuts.map((o) => o.bind("jit"))],
        be,
        outer,
        len,
        inner,
      );
      preStores.forEach((s, k) => (env[s] = preOuts[k]));
      postStores.forEach((s, k) => (env[s] = postOuts[k]));
    },
  };
}

/**
 * Whether `group` can be the epilogue of the product `dot`: it reads the product (by flat index,
 * not through a broadcast), the product's K fits one dispatch (the plain epilogue alone adds K
 * chunks together) and its batch one launch, within the device's bindings.
 */
function fusibleEpilogue(dot: Eqn, group: readonly Eqn[], ctx: Context): boolean {
  const v = dot.outvars[0]!;
  if (group.length === 0 || !group.some((g) => g.inputs.includes(v))) return false;
  const [l, r] = dot.inputs.map((x) => x.aval);
  const { batch, K } = dotSizes(l!, r!, dot.params as PrimParams[Prim.DotGeneral]);
  if (K > K_CHUNK || batch > 65535) return false;
  const { reads, stores } = groupIO(group, ctx, undefined, v);
  return reads.length + stores.length + 2 <= ctx.be.ctx.maxStorage;
}

/**
 * The product `dot` with the elementwise equations that follow it computed in its kernel, at each
 * result as it is made (kernels/matmul.ts's epilogue): the product is stored only if needed
 * outside, and a bias add and activation cost no pass of their own.
 */
function epilogueStep(dot: Eqn, group: readonly Eqn[], ctx: Context): Step {
  const { slot } = ctx;
  const v = dot.outvars[0]!;
  const { reads, stores } = groupIO(group, ctx, undefined, v);
  const { body, decls } = groupCode(group, ctx, reads, stores, 2, v);
  const t = wgslType(v.aval.dtype, "dot_general");
  const epi: Epilogue = {
    decls: `${decls.join("\n")}
fn epi(i: u32, d: ${t}) {
  let v${slot(v)} = d;
  ${body.join("\n  ")}
}`,
    count: reads.length + stores.length,
  };
  const params = dot.params as PrimParams[Prim.DotGeneral];
  const [ls, rs] = dot.inputs.map(slot);
  const readSlots = reads.map(slot),
    storeSlots = stores.map(slot);
  const be = ctx.be;
  return {
    reads: [ls!, rs!, ...readSlots],
    writes: storeSlots,
    run: (env) => {
      const d = dotViews(be, onDevice(be, env[ls!]!, "jit"), onDevice(be, env[rs!]!, "jit"), params);
      const src = matmulSource(be.ctx, v.aval.dtype, d.M, d.N, d.batch, epi);
      const outs = stores.map((x) => empty(be, x.aval));
      const binds = [...readSlots.map((s) => env[s]!.bind("jit")), ...outs.map((o) => o.bind("jit"))];
      matmulInto(be.ctx, src, d.a, d.sa, d.b, d.sb, binds, d.batch, d.M, d.K, d.N);
      for (const x of d.temps) x.dispose();
      storeSlots.forEach((s, k) => (env[s] = outs[k]));
    },
  };
}
