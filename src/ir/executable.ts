/**
 * How a backend runs a staged program on concrete arrays. The default replays the program on the
 * base evaluator one primitive at a time; a compiler (the jit's CPU code generator) replaces it
 * with `setProgramCompiler`. Executables are cached per program.
 */
import { baseInterpreter, withInterpreter } from "../core/interpreter.js";
import type { ConcreteArray } from "../core/ndarray.js";
import { type ClosedProgram, type Program, evalProgram } from "./ir.js";

export type Executable = (args: readonly ConcreteArray[]) => ConcreteArray[];
export type ProgramCompiler = (cp: ClosedProgram) => Executable;

const interpret: ProgramCompiler = (cp) => (args) =>
  withInterpreter(baseInterpreter(), () => evalProgram(cp.program, cp.consts, args)) as ConcreteArray[];

let compiler: ProgramCompiler = interpret;
const compiled = new WeakMap<Program, Executable>();

export function setProgramCompiler(c: ProgramCompiler): void {
  compiler = c;
}

/** Runs a closed program on concrete operands with the installed compiler. */
export function runProgram(cp: ClosedProgram, args: readonly ConcreteArray[]): ConcreteArray[] {
  let exe = compiled.get(cp.program);
  if (exe === undefined) compiled.set(cp.program, (exe = compiler(cp)));
  return exe(args);
}
