/**
 * Loops under jit: a `scan` or `while` equation becomes one step that runs its compiled body (or
 * cond) program in place. The body is compiled once, like any program (fused kernels inside); each
 * run of the loop makes one env per program and reuses it for every iteration: the carry moves
 * from output slots to input slots, xs enter as views of the stacked operand, and ys are copied
 * straight into the stacked outputs. No executable lookup, argument list or result list is made
 * per iteration. The eager kernels (interpreters/eval) compute the same values the same way.
 */
import { holdDuring } from "../../src/core/buffers.js";
import { allocate } from "../../src/core/dtype.js";
import { ConcreteArray } from "../../src/core/ndarray.js";
import { Prim } from "../../src/core/prim.js";
import { sizeOf } from "../../src/core/shape.js";
import type { ClosedProgram, Eqn, Program, Var } from "../../src/ir/ir.js";
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
  return (env) => {
    const local = frame(b);
    for (let k = 0; k < numConsts; k++) local[constIn[k]!] = env[ins[k]!]!;
    const carry: ConcreteArray[] = new Array(numCarry);
    for (let k = 0; k < numCarry; k++) carry[k] = env[ins[numConsts + k]!]!;
    const xs = new Array<ConcreteArray["values"]>(nX);
    for (let j = 0; j < nX; j++) xs[j] = env[ins[numConsts + numCarry + j]!]!.values;
    const ys = yAvals.map((a) => allocate(a.dtype, sizeOf(a.shape)));
    holdDuring(constants(b, local, constIn), () => {
      for (let s = 0; s < length; s++) {
        const t = reverse ? length - 1 - s : s;
        for (let k = 0; k < numCarry; k++) local[carryIn[k]!] = carry[k]!;
        for (let j = 0; j < nX; j++) {
          const n = xSize[j]!;
          local[xIn[j]!] = new ConcreteArray(xs[j]!.subarray(t * n, (t + 1) * n), xShape[j]!, xAvals[j]!.dtype);
        }
        b.run(local);
        for (let k = 0; k < numCarry; k++) carry[k] = local[carryOut[k]!]!;
        for (let j = 0; j < nY; j++) {
          const n = ySize[j]!,
            y = local[yOut[j]!]!.values;
          if (n === 1) ys[j]![t] = y[0]!;
          else ys[j]!.set(y, t * n);
        }
      }
    });
    for (let k = 0; k < numCarry; k++) env[outs[k]!] = carry[k]!;
    for (let j = 0; j < nY; j++) env[outs[numCarry + j]!] = new ConcreteArray(ys[j]!, yAvals[j]!.shape as number[], yAvals[j]!.dtype);
  };
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
  return (env) => {
    const ce = frame(c),
      be = frame(b);
    for (let k = 0; k < condConsts; k++) ce[c.inSlots[k]!] = env[ins[k]!]!;
    for (let k = 0; k < bodyConsts; k++) be[b.inSlots[k]!] = env[ins[condConsts + k]!]!;
    const carry: ConcreteArray[] = new Array(n);
    for (let k = 0; k < n; k++) carry[k] = env[ins[condConsts + bodyConsts + k]!]!;
    holdDuring([...constants(c, ce, c.inSlots.slice(0, condConsts)), ...constants(b, be, b.inSlots.slice(0, bodyConsts))], () => {
      for (;;) {
        for (let k = 0; k < n; k++) ce[condCarry[k]!] = carry[k]!;
        c.run(ce);
        if (!ce[pred]!.values[0]) break;
        for (let k = 0; k < n; k++) be[bodyCarry[k]!] = carry[k]!;
        b.run(be);
        for (let k = 0; k < n; k++) carry[k] = be[b.outSlots[k]!]!;
      }
    });
    for (let k = 0; k < n; k++) env[outs[k]!] = carry[k]!;
  };
}
