/**
 * Devices. The CPU is built in (`ConcreteArray`); other backends (WebGPU) register a `Backend`
 * and hold their arrays as `DeviceArray`s. A backend is narrow: it runs primitives on its own
 * arrays (uploading CPU operands), uploads and reads back. Rules and the IR live above it, so a
 * backend shares no semantics with another. This module knows no particular backend.
 */
import type { Aval } from "./ndarray.js";
import { type ConcreteArray, NDArray } from "./ndarray.js";
import type { TypedArray } from "./dtype.js";
import { ArgumentError, FluxionError, describe } from "./errors.js";
import type { Prim, PrimParams } from "./prim.js";

/** An array on the wrong device, or a device that is not available. */
export class DeviceError extends FluxionError {
  override name = "DeviceError";
}

/**
 * An operation the device has no kernel for, by design (matrix decompositions on WebGPU today):
 * the message says how to run it on the cpu. Laws comparing a device with the cpu
 * skip programs that raise it, as they skip float64 on WebGPU.
 */
export class NotOnDeviceError extends DeviceError {
  override name = "NotOnDeviceError";
}

export interface Backend {
  readonly name: string;
  /** Runs `prim` on operands of which at least one lives on this backend; CPU operands are uploaded. */
  process<P extends Prim>(prim: P, args: readonly NDArray[], params: PrimParams[P], outs: readonly Aval[]): NDArray[];
  /** Copies a CPU array onto this backend. */
  upload(x: ConcreteArray): DeviceArray;
}

/** An array whose values live on a non-CPU backend. Read it with `await x.data()`. */
export abstract class DeviceArray extends NDArray {
  abstract readonly backend: Backend;
  /** Copies the values back to the host. */
  abstract read(): Promise<TypedArray>;
  /** Frees the device memory now (optional: it is also freed when the array is garbage collected). */
  abstract override dispose(): void;

  override get device(): string {
    return this.backend.name;
  }

  override toConcrete(fn: string): never {
    throw new DeviceError(
      `${fn}: this ${this.dtype}[${this.shape}] array lives on ${this.device}, whose values cannot be read ` +
        `synchronously; use await x.data(), or await x.toAsync("cpu")`,
    );
  }

  override async data(): Promise<TypedArray> {
    return this.read();
  }
}

const backends = new Map<string, Backend>();

export function registerBackend(b: Backend): void {
  const ok =
    typeof b === "object" &&
    b !== null &&
    typeof b.name === "string" &&
    /^[a-z][a-z0-9_-]*$/.test(b.name) &&
    b.name !== "cpu" &&
    typeof b.process === "function" &&
    typeof b.upload === "function";
  if (!ok) {
    throw new ArgumentError(
      `registerBackend: a backend is an object with a lower-case name other than "cpu" and process/upload functions, got ${describe(b)}`,
    );
  }
  backends.set(b.name, b);
}

/** The backend named `device`, or a DeviceError that lists the available ones. */
export function backendFor(fn: string, device: string): Backend {
  if (typeof device !== "string") throw new ArgumentError(`${fn}: device must be a string such as "cpu" or "webgpu", got ${describe(device)}`);
  const b = backends.get(device);
  if (b === undefined) {
    throw new DeviceError(
      `${fn}: device ${describe(device)} is not available (have: cpu${[...backends.keys()].map((k) => `, ${k}`).join("")}); call await devices() first to initialise WebGPU`,
    );
  }
  return b;
}

export function registeredDevices(): string[] {
  return ["cpu", ...backends.keys()];
}

/** The backend among the operands (null when all are on the CPU); operands on two devices are an error. */
export function operandBackend(prim: string, args: readonly NDArray[]): Backend | null {
  let found: Backend | null = null;
  for (const a of args) {
    if (!(a instanceof DeviceArray)) continue;
    if (found !== null && found !== a.backend) {
      throw new DeviceError(`${prim}: operands live on ${found.name} and ${a.backend.name}; move them to one device with x.to(device)`);
    }
    found = a.backend;
  }
  return found;
}
