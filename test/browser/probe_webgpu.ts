/**
 * Diagnostic: which Chromium flag sets give `navigator.gpu.requestAdapter()` an adapter here.
 *
 *   npx tsx test/browser/probe_webgpu.ts [/usr/bin/chromium]
 *
 * Serves a blank page on 127.0.0.1 (a secure context, which navigator.gpu needs), launches
 * Chromium once per flag set (Playwright gives each launch a fresh temporary profile) and prints the adapter's info or why there is none.
 */
import { createServer } from "node:http";
import { chromium } from "playwright-core";
import { BASE_FLAGS, WEBGPU_FLAG_SETS } from "./chromium.js";

const executablePath = process.argv[2] ?? "/usr/bin/chromium";

const server = createServer((_req, res) => {
  res.writeHead(200, { "content-type": "text/html" });
  res.end("<!doctype html><title>probe</title>");
});
await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
const port = (server.address() as { port: number }).port;

const sets: Record<string, string[]> = { "no extra flags": [], ...WEBGPU_FLAG_SETS };
for (const [name, flags] of Object.entries(sets)) {
  const started = performance.now();
  try {
    const browser = await chromium.launch({ executablePath, args: [...BASE_FLAGS, ...flags], timeout: 30_000 });
    try {
      const page = await browser.newPage();
      await page.goto(`http://127.0.0.1:${port}/`);
      const result = await page.evaluate(async () => {
        const gpu = (globalThis as unknown as { navigator: { gpu?: GPU } }).navigator.gpu;
        if (gpu === undefined) return "navigator.gpu is undefined";
        try {
          const adapter = await gpu.requestAdapter();
          if (adapter === null) return "requestAdapter() returned null";
          const info = (adapter as GPUAdapter & { info?: GPUAdapterInfo }).info;
          const device = await adapter.requestDevice();
          const ok = device !== null;
          device.destroy();
          return `ADAPTER ${JSON.stringify({ vendor: info?.vendor, architecture: info?.architecture, device: info?.device, description: info?.description })} device=${ok}`;
        } catch (e) {
          return `threw: ${String(e)}`;
        }
      });
      console.log(`${name.padEnd(28)} ${((performance.now() - started) / 1000).toFixed(1)}s  ${result}\n    flags: ${flags.join(" ")}`);
    } finally {
      await browser.close();
    }
  } catch (e) {
    console.log(`${name.padEnd(28)} launch failed: ${String(e).split("\n")[0]}`);
  }
}
server.close();
