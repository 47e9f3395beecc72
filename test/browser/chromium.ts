/**
 * Chromium launch settings shared by the browser test and the probe (probe_webgpu.ts).
 *
 * playwright-core adds `--headless`, `--no-sandbox` and a fresh temporary `--user-data-dir` (it
 * rejects one in `args` for `launch()`) and its own `--enable-features` list; Chromium keeps only
 * the last `--enable-features`, so ours repeats Playwright's two features.
 */
import { existsSync } from "node:fs";

/** Where Debian's `chromium` package puts the browser; FLUXION_CHROMIUM overrides it. */
export const CHROMIUM = process.env.FLUXION_CHROMIUM ?? "/usr/bin/chromium";

export const chromiumInstalled = (): boolean => existsSync(CHROMIUM);

/** Flags for a quiet, headless, sandbox-free run in a container. */
export const BASE_FLAGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu-sandbox",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--disable-dev-shm-usage",
];

const PLAYWRIGHT_FEATURES = "CDPScreenshotNewSurface,SkipListAccountsWithoutGaiaCookies";

/**
 * What the page test uses: Chromium 156 (Debian) in headless mode on a machine with no GPU gets a
 * WebGPU adapter from this flag alone (the adapter is SwiftShader, Dawn's CPU Vulkan, bundled with
 * Chromium as libvk_swiftshader.so); without it `requestAdapter()` returns null. Playwright's own
 * defaults already include `--enable-unsafe-swiftshader`, but the adapter is there without it too.
 */
export const WEBGPU_FLAGS = ["--enable-unsafe-webgpu"];

/** Candidate flag sets for WebGPU without a GPU; the probe tries each. */
export const WEBGPU_FLAG_SETS: Record<string, string[]> = {
  "unsafe-webgpu": ["--enable-unsafe-webgpu"],
  "unsafe-webgpu+swiftshader-adapter": ["--enable-unsafe-webgpu", "--use-webgpu-adapter=swiftshader"],
  "vulkan+swiftshader": [
    "--enable-unsafe-webgpu",
    `--enable-features=${PLAYWRIGHT_FEATURES},Vulkan,WebGPU`,
    "--use-vulkan=swiftshader",
    "--use-webgpu-adapter=swiftshader",
    "--use-angle=swiftshader",
  ],
  "vulkan-native(lavapipe)": [
    "--enable-unsafe-webgpu",
    `--enable-features=${PLAYWRIGHT_FEATURES},Vulkan,WebGPU`,
    "--use-vulkan=native",
    "--use-angle=vulkan",
    "--ignore-gpu-blocklist",
  ],
  "vulkan+angle-swiftshader": [
    "--enable-unsafe-webgpu",
    `--enable-features=${PLAYWRIGHT_FEATURES},Vulkan,WebGPU`,
    "--use-angle=swiftshader",
    "--ignore-gpu-blocklist",
  ],
  "swiftshader+ignore-blocklist": [
    "--enable-unsafe-webgpu",
    "--enable-unsafe-swiftshader",
    "--use-webgpu-adapter=swiftshader",
    "--use-angle=swiftshader",
    "--ignore-gpu-blocklist",
  ],
};
