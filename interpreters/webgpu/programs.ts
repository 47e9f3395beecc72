/**
 * How the impl table runs a nested program (jit_call, cond branches, scan bodies, custom calls):
 * through the executable factory that compile.ts installs, so the table and the compiler (which
 * uses the table) do not import each other.
 */
import type { NDArray } from "../../src/core/ndarray.js";
import type { ClosedProgram } from "../../src/ir/ir.js";
import type { GpuArray, GpuBackend } from "./array.js";

export type Executable = (args: readonly NDArray[]) => GpuArray[];
type Factory = (be: GpuBackend, cp: ClosedProgram) => Executable;

let factory: Factory | null = null;

export function setExecutableFactory(f: Factory): void {
  factory = f;
}

/** The device executable of `cp` (compiled once per program by the installed factory). */
export function executable(be: GpuBackend, cp: ClosedProgram): Executable {
  if (factory === null) throw new Error("webgpu: the program compiler is not installed (import interpreters/webgpu/index.js)");
  return factory(be, cp);
}
