/**
 * Loops under jit: a `scan` or `while` equation becomes one step that runs its compiled body (or
 * cond) program in place. The body is compiled once, like any program (fused kernels inside); each
 * run of the loop makes one env per program and reuses it for every iteration: the carry moves
 * from output slots to input slots, xs enter as views of the stacked operand, and ys are copied
 * straight into the stacked outputs. No executable lookup, argument list or result list is made
 * per iteration. The eager kernels (interpreters/eval) compute the same values the same way.
 */
import { ELEMENT_BYTES, RECYCLE_MIN_BYTES, holdDuring, recycle } from "../../src/core/buffers.js";
import { ON_HEAP_BYTES, allocate } from "../../src/core/dtype.js";
import { ConcreteArray } from "../../src/core/ndarray.js";
import { EFFECTFUL, Prim } from "../../src/core/prim.js";
import { sizeOf } from "../../src/core/shape.js";
import { type ClosedProgram, type Eqn, type Program, type Var, nestedPrograms } from "../../src/ir/ir.js";
import type { Body, Env, Step } from "./compile.js";

type Compile = (cp: ClosedProgram) => Body;

/** A loop's step, or undefined for any other equation. */
export function loopStep(e: Eqn, slot: (v: Var) => number, compile: Compile): Step | undefined {
  if (e.prim === Prim.Scan) return scanStep(e as Eqn<Prim.Scan>, slot, compile);
  if (e.prim === Prim.While) return whileStep(e as Eqn<Prim.While>, slot, compile);
  return undefined;
}

/** Bodies compiled once per program, however many equations or compilations use them. */
const bodies = new WeakMap<Program, Body>();

function bodyOf(cp: ClosedProgram, compile: Compile): Body {
  let b = bodies.get(cp.program);
  if (b === undefined) bodies.set(cp.program, (b = compile(cp)));
  return b;
}

/** A fresh env for one run of a loop, holding the program's constants. */
function frame(b: Body): Env {
  const env: Env = new Array(b.size);
  for (let i = 0; i < b.constSlots.length; i++) env[b.constSlots[i]!] = b.consts[i]!;
  return env;
}

/**
 * The storage a loop run keeps unchanged: the body's own constants and the loop's constant
 * operands (`slots` of `env`). Kernels may keep copies of them while the loop runs (`holdDuring`).
 */
function constants(b: Body, env: Env, slots: readonly number[]): ConcreteArray["values"][] {
  return [...b.consts.map((c) => c.values), ...slots.map((s) => env[s]!.values)];
}

function scanStep(e: Eqn<Prim.Scan>, slot: (v: Var) => number, compile: Compile): Step {
  const { body, length, reverse, numConsts, numCarry } = e.params;
  const b = bodyOf(body, compile);
  const ins = e.inputs.map(slot),
    outs = e.outvars.map(slot);
  const constIn = b.inSlots.slice(0, numConsts),
    carryIn = b.inSlots.slice(numConsts, numConsts + numCarry),
    xIn = b.inSlots.slice(numConsts + numCarry);
  const carryOut = b.outSlots.slice(0, numCarry),
    yOut = b.outSlots.slice(numCarry);
  const xAvals = e.inputs.slice(numConsts + numCarry).map((v) => v.aval),
    yAvals = e.outvars.slice(numCarry).map((v) => v.aval);
  const xShape = xAvals.map((a) => a.shape.slice(1)),
    xSize = xShape.map(sizeOf);
  const ySize = yAvals.map((a) => sizeOf(a.shape.slice(1)));
  const nX = xIn.length,
    nY = yOut.length;
  // A debug callback in the body may keep the arrays it is shown: then no carry is given back.
  const release = recyclable(e.outvars.slice(0, numCarry)) && !showsValues(body.program);
  return (env) => {
    const local = frame(b);
    for (let k = 0; k < numConsts; k++) local[constIn[k]!] = env[ins[k]!]!;
    const carry: ConcreteArray[] = new Array(numCarry);
    for (let k = 0; k < numCarry; k++) carry[k] = env[ins[numConsts + k]!]!;
    const xs = new Array<ConcreteArray["values"]>(nX);
    for (let j = 0; j < nX; j++) xs[j] = env[ins[numConsts + numCarry + j]!]!.values;
    const ys = yAvals.map((a) => allocate(a.dtype, sizeOf(a.shape)));
    const held = constants(b, local, constIn);
    // Storage the loop must never give back: its constants, xs, and the carries it started from.
    const kept = release ? new Set<ArrayBufferLike>([...held, ...xs, ...carry.map((c) => c.values)].map((v) => v.buffer)) : null;
    holdDuring(held, () => {
      for (let s = 0; s < length; s++) {
        const t = reverse ? length - 1 - s : s;
        for (let k = 0; k < numCarry; k++) local[carryIn[k]!] = carry[k]!;
        for (let j = 0; j < nX; j++) {
          const n = xSize[j]!;
          local[xIn[j]!] = new ConcreteArray(xs[j]!.subarray(t * n, (t + 1) * n), xShape[j]!, xAvals[j]!.dtype);
        }
        b.run(local);
        for (let j = 0; j < nY; j++) {
          const n = ySize[j]!,
            y = local[yOut[j]!]!.values;
          if (n === 1) ys[j]![t] = y[0]!;
          else ys[j]!.set(y, t * n);
        }
        if (kept !== null && s > 0) releaseCarries(carry, local, b.outSlots, kept);
        for (let k = 0; k < numCarry; k++) carry[k] = local[carryOut[k]!]!;
      }
    });
    for (let k = 0; k < numCarry; k++) env[outs[k]!] = ownedIfSmall(carry[k]!);
    for (let j = 0; j < nY; j++) env[outs[numCarry + j]!] = new ConcreteArray(ys[j]!, yAvals[j]!.shape as number[], yAvals[j]!.dtype);
  };
}

/**
 * A final carry of at most ON_HEAP_BYTES that is a view of a larger buffer (a body that passes a
 * slice of xs on as its carry), copied into storage of its own. The executor does not count such
 * small arrays when it decides which buffers to recycle (`hold` in compile.ts), so none may leave a
 * loop still looking into xs, whose storage the enclosing program may recycle once the loop ends.
 */
function ownedIfSmall(c: ConcreteArray): ConcreteArray {
  const v = c.values;
  if (v.byteLength > ON_HEAP_BYTES || v.buffer.byteLength === v.byteLength) return c;
  return new ConcreteArray(v.slice(), c.shape, c.dtype);
}

/**
 * The carries of the step before last, once the body has run on them: storage the body made, which
 * nothing reads any more unless the body passed it on (as a new carry or output, or a view of one),
 * goes back to the recycler for the body's next results of its size. (A loop step's old carries
 * are garbage otherwise: a fresh buffer, and the collection it brings on, per carry and step.)
 */
function releaseCarries(old: readonly ConcreteArray[], env: Env, outSlots: readonly number[], kept: ReadonlySet<ArrayBufferLike>): void {
  next: for (let k = 0; k < old.length; k++) {
    const c = old[k]!,
      buffer = c.values.buffer;
    if (buffer.byteLength < RECYCLE_MIN_BYTES || kept.has(buffer)) continue;
    for (let o = 0; o < outSlots.length; o++) if (env[outSlots[o]!]!.values.buffer === buffer) continue next;
    // A carry that appears twice goes back once.
    for (let j = 0; j < k; j++) if (old[j]!.values.buffer === buffer) continue next;
    recycle(c.dtype, c.values);
  }
}

/** Whether any of these carries is large enough for the recycler (small ones share slabs). */
const recyclable = (carries: readonly Var[]): boolean => carries.some((v) => sizeOf(v.aval.shape) * ELEMENT_BYTES[v.aval.dtype] >= RECYCLE_MIN_BYTES);

const shows = new WeakMap<Program, boolean>();
/** Whether a program, or one nested in its equations' params, has an effect that sees values. */
function showsValues(p: Program): boolean {
  let r = shows.get(p);
  if (r === undefined) {
    shows.set(p, false); // a program never contains itself, but stop any cycle
    r = p.eqns.some((e) => EFFECTFUL.has(e.prim) || nestedPrograms(e.params).some(showsValues));
    shows.set(p, r);
  }
  return r;
}

function whileStep(e: Eqn<Prim.While>, slot: (v: Var) => number, compile: Compile): Step {
  const { cond, body, condConsts, bodyConsts } = e.params;
  const c = bodyOf(cond, compile),
    b = bodyOf(body, compile);
  const ins = e.inputs.map(slot),
    outs = e.outvars.map(slot);
  const n = outs.length;
  const condCarry = c.inSlots.slice(condConsts),
    bodyCarry = b.inSlots.slice(bodyConsts);
  const pred = c.outSlots[0]!;
  const release = recyclable(e.outvars) && !showsValues(cond.program) && !showsValues(body.program);
  return (env) => {
    const ce = frame(c),
      be = frame(b);
    for (let k = 0; k < condConsts; k++) ce[c.inSlots[k]!] = env[ins[k]!]!;
    for (let k = 0; k < bodyConsts; k++) be[b.inSlots[k]!] = env[ins[condConsts + k]!]!;
    const carry: ConcreteArray[] = new Array(n);
    for (let k = 0; k < n; k++) carry[k] = env[ins[condConsts + bodyConsts + k]!]!;
    const held = [...constants(c, ce, c.inSlots.slice(0, condConsts)), ...constants(b, be, b.inSlots.slice(0, bodyConsts))];
    const kept = release ? new Set<ArrayBufferLike>([...held, ...carry.map((x) => x.values)].map((v) => v.buffer)) : null;
    holdDuring(held, () => {
      for (let first = true; ; first = false) {
        for (let k = 0; k < n; k++) ce[condCarry[k]!] = carry[k]!;
        c.run(ce);
        if (!ce[pred]!.values[0]) break;
        for (let k = 0; k < n; k++) be[bodyCarry[k]!] = carry[k]!;
        b.run(be);
        if (kept !== null && !first) releaseCarries(carry, be, b.outSlots, kept);
        for (let k = 0; k < n; k++) carry[k] = be[b.outSlots[k]!]!;
      }
    });
    for (let k = 0; k < n; k++) env[outs[k]!] = carry[k]!;
  };
}
