/**
 * Placement: `devices()`, `x.to(device)`, `x.toAsync(device)`, `x.dispose()`. WebGPU is probed on
 * the first `await devices()` (Node through the `webgpu` package, browsers through
 * navigator.gpu); the CPU is always there.
 */
import { initWebGPU } from "../../interpreters/webgpu/index.js";
import { DeviceArray, DeviceError, backendFor, registerBackend, registeredDevices } from "../core/device.js";
import { ConcreteArray, NDArray, Tracer } from "../core/ndarray.js";

let probed: Promise<void> | null = null;

/** The available devices: "cpu" always, "webgpu" where an adapter exists. Initialises WebGPU once. */
export async function devices(): Promise<string[]> {
  probed ??= initWebGPU().then((b) => {
    if (b !== null) registerBackend(b);
  });
  await probed;
  return registeredDevices();
}

declare module "../core/ndarray.js" {
  interface NDArray {
    /** This array on `device` (uploads synchronously; reading a device array back needs `toAsync`). */
    to(device: string): NDArray;
    /** This array on `device`, waiting for a device-to-host copy when needed. */
    toAsync(device: string): Promise<NDArray>;
    /** Frees device memory now; a no-op on the CPU. Optional: memory is also freed by GC. */
    dispose(): void;
  }
}

function to(this: NDArray, device: string): NDArray {
  if (this.device === device) return this;
  if (this instanceof Tracer) throw new DeviceError(`to: move arrays to ${device} before transforming, or use jit(f, { device })`);
  if (this instanceof ConcreteArray) return backendFor("to", device).upload(this);
  if (device === "cpu")
    throw new DeviceError(`to: reading a ${this.device} array back is asynchronous; use await x.toAsync("cpu") or await x.data()`);
  throw new DeviceError(`to: move the array to the cpu first (await x.toAsync("cpu")), then to ${device}`);
}

async function toAsync(this: NDArray, device: string): Promise<NDArray> {
  if (this.device === device) return this;
  if (this instanceof DeviceArray) {
    const host = new ConcreteArray(await this.read(), this.shape.slice(), this.dtype);
    return device === "cpu" ? host : host.to(device);
  }
  return to.call(this, device);
}

Object.defineProperty(NDArray.prototype, "to", { value: to, writable: true, configurable: true });
Object.defineProperty(NDArray.prototype, "toAsync", { value: toAsync, writable: true, configurable: true });
// CPU arrays are owned by the GC; DeviceArray overrides this.
Object.defineProperty(NDArray.prototype, "dispose", { value() {}, writable: true, configurable: true });
