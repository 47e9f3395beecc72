/** The adapter self-check: a shader loop past the 65,535 iterations some drivers stop at, and software-adapter detection on every backend. */
import { describe, expect, it } from "vitest";
import { np } from "../../src/index.js";
import { SELF_CHECK_ITERATIONS, countLoopIterations, isSoftwareAdapter, selfCheckWarning } from "../../interpreters/webgpu/self_check.js";
import { backend, requireAdapterInCI, runGpu } from "./setup.js";

describe.runIf(runGpu)("webgpu adapter self-check", () => {
  requireAdapterInCI();

  it(`the adapter in use runs a ${SELF_CHECK_ITERATIONS}-iteration loop to the end`, async () => {
    const { device } = backend(np.ones([1]).to("webgpu")).ctx;
    expect(SELF_CHECK_ITERATIONS).toBeGreaterThan(65_535);
    expect(await countLoopIterations(device)).toBe(SELF_CHECK_ITERATIONS);
  });
});

describe("software adapters and the warning", () => {
  it("recognises CPU adapters on Vulkan and on OpenGL ES, where only the device name tells", () => {
    // What Dawn reports for Mesa's llvmpipe through its Vulkan and its OpenGL ES backends.
    expect(
      isSoftwareAdapter({
        vendor: "mesa",
        architecture: "software",
        device: "llvmpipe-llvm-15-0-6-256-bits-",
        description: "llvmpipe: Mesa 25.0.7",
        isFallbackAdapter: true,
      }),
    ).toBe(true);
    expect(
      isSoftwareAdapter({
        vendor: "",
        architecture: "",
        device: "llvmpipe-llvm-15-0-6-256-bits-",
        description: "OpenGL version OpenGL ES 3.2 Mesa 25.0.7",
        isFallbackAdapter: false,
      }),
    ).toBe(true);
    expect(isSoftwareAdapter({ vendor: "google", architecture: "", device: "swiftshader-device", description: "SwiftShader" })).toBe(true);
    expect(
      isSoftwareAdapter({ vendor: "nvidia", architecture: "", device: "nvidia-h200", description: "NVIDIA: 580.159.04", isFallbackAdapter: false }),
    ).toBe(false);
    expect(isSoftwareAdapter(undefined)).toBe(false);
  });

  it("the warning names the adapter, the count it reached and the fix", () => {
    const w = selfCheckWarning("OpenGL ES 3.2 Mesa 22.3.6", 65_535);
    expect(w).toContain('"OpenGL ES 3.2 Mesa 22.3.6"');
    expect(w).toContain("65,535");
    expect(w).toContain("70,000");
    expect(w).toMatch(/not used.*cpu only.*Install a current Vulkan driver/);
  });
});

// Set by scripts/webgpu_drivers.sh on a driver whose shader loops stop early (Mesa 22's llvmpipe on OpenGL ES).
describe.runIf(process.env.FLUXION_EXPECT_NO_WEBGPU === "1")("a driver that stops shader loops early", () => {
  it("is left out of devices(), with a warning that names it and the count it reached", async () => {
    const { devices } = await import("../../src/index.js");
    const { initWebGPU } = await import("../../interpreters/webgpu/index.js");
    expect(await devices()).toEqual(["cpu"]);
    const warnings: string[] = [];
    const warn = console.warn;
    console.warn = (...a: unknown[]) => void warnings.push(a.join(" "));
    try {
      expect(await initWebGPU()).toBe(null);
    } finally {
      console.warn = warn;
    }
    expect(warnings.join("\n")).toMatch(/WebGPU adapter ".*Mesa 22.*" ran a 70,000-iteration shader loop only 65,535 times/);
  });
});
