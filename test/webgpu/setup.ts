/**
 * Shared set-up of the WebGPU tests: whether an adapter exists (with CI=true a missing adapter
 * fails the suites instead of skipping them), conversions, and a float32 comparison.
 */
import v8 from "node:v8";
import vm from "node:vm";
import { expect, it } from "vitest";
import { type DType, type NDArray, devices } from "../../src/index.js";
import { type WebGpuBackend } from "../../interpreters/webgpu/index.js";

export const hasWebGPU = (await devices()).includes("webgpu");
export const inCI = process.env.CI === "true";
/**
 * Set by scripts/webgpu_drivers.sh on a driver the start-up self-check must leave out (Mesa 22's
 * OpenGL ES): there no adapter is the expected outcome, even in CI.
 */
const expectNoAdapter = process.env.FLUXION_EXPECT_NO_WEBGPU === "1";
/** Run the suites when an adapter exists; in CI always (so a missing adapter fails), unless none is expected. */
export const runGpu = hasWebGPU || (inCI && !expectNoAdapter);

/** A test that fails in CI when there is no adapter (registered by every WebGPU test file). */
export function requireAdapterInCI(): void {
  it.runIf(runGpu)("has a WebGPU adapter (required when CI=true)", () => {
    expect(hasWebGPU, "no WebGPU adapter: install mesa-vulkan-drivers (lavapipe) or set FLUXION_WEBGPU_BACKEND=opengles").toBe(true);
  });
}

/** `global.gc`, exposed at run time when node was not started with --expose-gc. */
export const gc: () => void = (() => {
  const g = (globalThis as { gc?: () => void }).gc;
  if (g !== undefined) return g;
  v8.setFlagsFromString("--expose-gc");
  return vm.runInNewContext("gc") as () => void;
})();

/** Collects garbage and lets the finalizers of collected device arrays run. */
export async function collect(): Promise<void> {
  for (let k = 0; k < 3; k++) {
    gc();
    await new Promise((r) => setTimeout(r, 0));
  }
}

export const isFloat = (d: DType) => d === "float32" || d === "float64";

export async function values(x: NDArray): Promise<number[]> {
  return Array.from(await x.data(), Number);
}

/**
 * Asserts device results equal CPU results: exactly for int/bool, else within
 * atol + rtol * (|want| + max|want|) (float32 tolerance scaled by the output's magnitude).
 */
export async function expectSame(what: string, got: NDArray, want: NDArray, rtol = 2e-5, atol = 0): Promise<void> {
  expect(got.shape, `${what}: shape`).toEqual(want.shape);
  expect(got.dtype, `${what}: dtype`).toBe(want.dtype);
  const g = await values(got),
    w = await values(want);
  const scale = w.reduce((m, v) => (Number.isFinite(v) ? Math.max(m, Math.abs(v)) : m), 0);
  const exact = !isFloat(want.dtype);
  for (let i = 0; i < w.length; i++) {
    const a = g[i]!,
      b = w[i]!;
    const ok = exact ? a === b : a === b || Math.abs(a - b) <= atol + rtol * (Math.abs(b) + scale) || (Number.isNaN(a) && Number.isNaN(b));
    if (!ok) expect.fail(`${what}: element ${i} is ${a} on webgpu, ${b} on cpu (rtol ${rtol})\n gpu ${g.slice(0, 64)}\n cpu ${w.slice(0, 64)}`);
  }
}

export function backend(x: NDArray): WebGpuBackend {
  return (x as unknown as { backend: WebGpuBackend }).backend;
}
