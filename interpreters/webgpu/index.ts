/**
 * The WebGPU backend. `initWebGPU` finds an adapter (a browser's navigator.gpu, or in Node the
 * `webgpu` package, imported only when asked) and returns the backend, or null when WebGPU is not
 * available here. In Node, `FLUXION_WEBGPU_BACKEND` picks Dawn's backend (e.g. "opengles", "vulkan");
 * without it Dawn's default is tried first and its OpenGL ES backend second.
 *
 * Every primitive runs on the device (impl.ts); jit_call programs are compiled to fused WGSL
 * kernels (compile.ts). float64 has no WGSL type and is a DTypeError; a while loop needs a host
 * predicate and is a DeviceError; a lost device or a failed command is a DeviceError on the next call.
 */
import type { Backend } from "../../src/core/device.js";
import type { Aval, ConcreteArray, NDArray } from "../../src/core/ndarray.js";
import { Prim, type PrimParams } from "../../src/core/prim.js";
import { type GpuArray, uploadFresh } from "./array.js";
import "./compile.js";
import { GpuContext } from "./context.js";
import { type GpuImpl, impls } from "./impl.js";
import { SELF_CHECK_ITERATIONS, countLoopIterations, isSoftwareAdapter, selfCheckWarning } from "./self_check.js";
import { wgslType } from "./wgsl.js";

export { GpuArray } from "./array.js";
export { bufferStats, liveBuffers } from "./context.js";

export class WebGpuBackend implements Backend {
  readonly name = "webgpu";
  constructor(readonly ctx: GpuContext) {}

  /** The adapter's description (e.g. "llvmpipe ..." for Mesa's software Vulkan driver). */
  get adapter(): string {
    return this.ctx.adapterName;
  }

  process<P extends Prim>(prim: P, args: readonly NDArray[], params: PrimParams[P], outs: readonly Aval[]): NDArray[] {
    this.ctx.check(prim);
    // (while and custom_lin raise their own errors whatever the dtypes)
    if (prim !== Prim.While && prim !== Prim.CustomLin) for (const o of outs) wgslType(o.dtype, prim);
    return this.ctx.batch(() => (impls[prim] as GpuImpl<P>)(this, args, params, outs));
  }

  /**
   * `x.to("webgpu")`: a buffer of its own, not a view of the upload cache that operands share, so
   * `dispose()` frees it at once (a cached upload would live on until the CPU array is collected).
   */
  upload(x: ConcreteArray): GpuArray {
    this.ctx.check("to");
    return uploadFresh(this, x, "to");
  }

  /** Frees the pooled buffers that no array uses (liveBuffers() then counts only buffers in use). */
  trim(): void {
    this.ctx.trim();
  }
}

interface WebGpuModule {
  create(options: string[]): GPU;
  globals: object;
}

async function requestDevice(gpu: GPU, compat: boolean): Promise<WebGpuBackend | null> {
  const adapter = await gpu.requestAdapter(compat ? ({ featureLevel: "compatibility" } as GPURequestAdapterOptions) : undefined);
  if (adapter === null) return null;
  const l = adapter.limits;
  // Subgroup reductions need the adapter's `subgroups` feature and WGSL's `subgroup_id` builtin.
  const subgroups = adapter.features.has("subgroups") && (gpu.wgslLanguageFeatures?.has("subgroup_id") ?? false);
  const device = await adapter.requestDevice({
    requiredFeatures: subgroups ? ["subgroups" as GPUFeatureName] : [],
    requiredLimits: {
      maxStorageBuffersPerShaderStage: l.maxStorageBuffersPerShaderStage,
      maxStorageBufferBindingSize: l.maxStorageBufferBindingSize,
      maxBufferSize: l.maxBufferSize,
      // Compatibility-mode defaults (e.g. Dawn on OpenGL ES) are below the 256-wide workgroups used here.
      maxComputeWorkgroupSizeX: l.maxComputeWorkgroupSizeX,
      maxComputeWorkgroupSizeY: l.maxComputeWorkgroupSizeY,
      maxComputeInvocationsPerWorkgroup: l.maxComputeInvocationsPerWorkgroup,
      maxComputeWorkgroupStorageSize: l.maxComputeWorkgroupStorageSize,
    },
  });
  const info = (adapter as GPUAdapter & { info?: GPUAdapterInfo & { isFallbackAdapter?: boolean } }).info;
  const name = info ? `${info.vendor} ${info.description}`.trim() : "webgpu";
  const count = await countLoopIterations(device);
  if (count !== SELF_CHECK_ITERATIONS) {
    console.warn(selfCheckWarning(name, count));
    device.destroy();
    return null;
  }
  // The context keeps the GPU and adapter objects alive: Dawn tears its instance down when they are collected.
  return new WebGpuBackend(new GpuContext(device, name, isSoftwareAdapter(info), subgroups, [gpu, adapter]));
}

/** The WebGPU backend, or null when no adapter (or no `webgpu` package in Node) is available. */
export async function initWebGPU(): Promise<Backend | null> {
  try {
    const nav = (globalThis as { navigator?: { gpu?: GPU } }).navigator;
    // A core adapter first; a compatibility one (OpenGL ES, older GPUs) when that is all there is.
    if (nav?.gpu !== undefined) return (await requestDevice(nav.gpu, false)) ?? (await requestDevice(nav.gpu, true));
    if (typeof process === "undefined" || process.versions?.node === undefined) return null;
    const mod = (await import("webgpu")) as unknown as WebGpuModule;
    Object.assign(globalThis, mod.globals);
    const chosen = process.env.FLUXION_WEBGPU_BACKEND;
    const gl = (b: string) => b === "opengles" || b === "opengl";
    // Dawn's GL backend needs an EGL display; without a window system Mesa offers a surfaceless one.
    if (chosen !== undefined && chosen !== "") {
      if (gl(chosen)) process.env.EGL_PLATFORM ??= "surfaceless";
      return await requestDevice(mod.create([`backend=${chosen}`]), gl(chosen));
    }
    const first = await requestDevice(mod.create([]), false).catch(() => null);
    if (first !== null) return first;
    process.env.EGL_PLATFORM ??= "surfaceless";
    return await requestDevice(mod.create(["backend=opengles"]), true);
  } catch {
    return null;
  }
}
