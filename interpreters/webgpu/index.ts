/**
 * The WebGPU backend (work in progress): `initWebGPU` finds an adapter and returns the backend, or
 * null when WebGPU is not available here.
 */
import type { Backend } from "../../src/core/device.js";

export async function initWebGPU(): Promise<Backend | null> {
  return null;
}
