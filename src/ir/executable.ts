/**
 * How a backend runs a staged program on concrete arrays. The default replays the program on the
 * base evaluator one primitive at a time; a compiler (the jit's CPU code generator) replaces it
 * with `setProgramCompiler`. Executables are cached per program.
 */
import { baseInterpreter, withInterpreter } from "../core/interpreter.js";
import type { Aval, ConcreteArray } from "../core/ndarray.js";
import type { ConvLayout } from "../core/conv_geometry.js";
import type { Prim, PrimParams } from "../core/prim.js";
import { type ClosedProgram, type Program, evalProgram } from "./ir.js";

export type Executable = (args: readonly ConcreteArray[]) => ConcreteArray[];
export type ProgramCompiler = (cp: ClosedProgram) => Executable;

const interpret: ProgramCompiler = (cp) => (args) =>
  withInterpreter(baseInterpreter(), () => evalProgram(cp.program, cp.consts, args)) as ConcreteArray[];

let compiler: ProgramCompiler = interpret;
const compiled = new WeakMap<Program, Executable>();

/** Runs one primitive on validated concrete operands with known output avals (the CPU kernels). */
export type PrimitiveImpl = (prim: Prim, args: readonly ConcreteArray[], params: PrimParams[Prim], outs: readonly Aval[]) => ConcreteArray[];
let primitiveImpl: PrimitiveImpl | null = null;

/** Installs the CPU kernels, so compiled programs call them without re-validating each operand. */
export function setPrimitiveImpl(impl: PrimitiveImpl): void {
  primitiveImpl = impl;
}

export function cpuImpl(): PrimitiveImpl {
  if (primitiveImpl === null) throw new Error("fluxion: no CPU kernels installed; import from the package root");
  return primitiveImpl;
}

/**
 * conv_general_dilated on operands, and into a result, stored in `layout` (shapes as stored; `out`
 * is the plain result's aval); null where the kernels do not take that layout.
 */
export type ConvLayoutImpl = (
  lhs: ConcreteArray,
  rhs: ConcreteArray,
  params: PrimParams[Prim.ConvGeneralDilated],
  out: Aval,
  layout: ConvLayout,
) => ConcreteArray | null;
let convLayoutImpl: ConvLayoutImpl | null = null;

/** Installs the CPU convolution that reads and writes swapped layouts (the jit's transposes around a kernel gradient). */
export function setConvLayoutImpl(impl: ConvLayoutImpl): void {
  convLayoutImpl = impl;
}

export const cpuConvLayoutImpl = (): ConvLayoutImpl | null => convLayoutImpl;

export function setProgramCompiler(c: ProgramCompiler): void {
  compiler = c;
}

/** Runs a closed program on concrete operands with the installed compiler. */
export function runProgram(cp: ClosedProgram, args: readonly ConcreteArray[]): ConcreteArray[] {
  let exe = compiled.get(cp.program);
  if (exe === undefined) compiled.set(cp.program, (exe = compiler(cp)));
  return exe(args);
}
