/**
 * The browser demo (web/) in headless Chromium: builds the page with Vite, serves the bundle on
 * 127.0.0.1, opens it in Debian's Chromium through playwright-core and checks that training ran to
 * the end with the loss falling (final < 0.5 x first) on WebGPU, then that without navigator.gpu the
 * page falls back to the CPU, says so, and still trains.
 *
 * Without Chromium (/usr/bin/chromium, or FLUXION_CHROMIUM) the suite is skipped, except with
 * CI=true, where that fails. WebGPU must be the device with CI=true; elsewhere a CPU fallback only
 * warns. FLUXION_WEB_SCREENSHOT=<dir> saves screenshots of the pages.
 */
import { createReadStream, existsSync, mkdtempSync, rmSync, statSync } from "node:fs";
import { type Server, createServer } from "node:http";
import { tmpdir } from "node:os";
import { extname, join, normalize } from "node:path";
import { fileURLToPath } from "node:url";
import { type Browser, type Page, chromium } from "playwright-core";
import { build } from "vite";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BASE_FLAGS, CHROMIUM, WEBGPU_FLAGS, chromiumInstalled } from "./chromium.js";

const inCI = process.env.CI === "true";
const installed = chromiumInstalled();
const screenshots = process.env.FLUXION_WEB_SCREENSHOT;
const CONFIG = fileURLToPath(new URL("../../web/vite.config.ts", import.meta.url));
const MIME: Record<string, string> = {
  ".html": "text/html",
  ".js": "text/javascript",
  ".css": "text/css",
  ".svg": "image/svg+xml",
  ".json": "application/json",
};

if (!installed) {
  const message = `Chromium not found at ${CHROMIUM}: install it with \`apt-get install -y chromium\` (or set FLUXION_CHROMIUM)`;
  if (inCI) {
    it("has Chromium (required when CI=true)", () => {
      expect.fail(message);
    });
  } else {
    console.warn(`test/browser/page.test.ts skipped: ${message}`);
  }
}

/** A static file server for `dir` on 127.0.0.1 and a free port. */
async function serve(dir: string): Promise<{ server: Server; url: string }> {
  const server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? "/", "http://x").pathname);
    const file = join(dir, normalize(path === "/" ? "/index.html" : path));
    if (!file.startsWith(dir) || !existsSync(file) || !statSync(file).isFile()) {
      res.writeHead(404).end("not found");
      return;
    }
    res.writeHead(200, { "content-type": MIME[extname(file)] ?? "application/octet-stream" });
    createReadStream(file).pipe(res);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  return { server, url: `http://127.0.0.1:${port}/` };
}

interface PageResult {
  status: string;
  device: string;
  adapter: string;
  losses: number[];
  fallback: string | null;
  text: string;
  /** Milliseconds of the training loop as the page measured it. */
  millis: number;
  log: string[];
}

/**
 * Opens `url` in a fresh context (with `hideWebGPU`, one where `navigator.gpu` does not exist),
 * waits for the page to finish (done or error) and reads its result from the DOM.
 */
async function runPage(browser: Browser, url: string, timeout: number, shot: string, hideWebGPU = false): Promise<PageResult> {
  const context = await browser.newContext();
  if (hideWebGPU) await context.addInitScript("delete Navigator.prototype.gpu;");
  const page: Page = await context.newPage();
  const log: string[] = [];
  page.on("console", (m) => log.push(`[${m.type()}] ${m.text()}`));
  page.on("pageerror", (e) => log.push(`[pageerror] ${e.message}`));
  try {
    await page.goto(url);
    await page
      .locator('#status[data-status="done"], #status[data-status^="error"]')
      .waitFor({ state: "attached", timeout })
      .catch(() => {}); // a timeout shows up below as the last status
    const status = page.locator("#status");
    const fallback = page.locator("#fallback");
    const result: PageResult = {
      status: (await status.getAttribute("data-status")) ?? "",
      device: (await status.getAttribute("data-device")) ?? "",
      adapter: (await status.getAttribute("data-adapter")) ?? "",
      losses: JSON.parse((await page.locator("#losses").textContent()) ?? "[]") as number[],
      fallback: (await fallback.isVisible()) ? await fallback.textContent() : null,
      text: (await status.textContent()) ?? "",
      millis: Number(await status.getAttribute("data-millis")),
      log,
    };
    if (screenshots !== undefined) await page.screenshot({ path: join(screenshots, shot), fullPage: true });
    return result;
  } finally {
    await context.close();
  }
}

function expectTrained(r: PageResult, steps: number): void {
  const context = `status "${r.status}": ${r.text}\nbrowser log:\n${r.log.join("\n")}`;
  expect(r.status, context).toBe("done");
  expect(r.losses, context).toHaveLength(steps);
  expect(r.losses.every(Number.isFinite), context).toBe(true);
  const first = r.losses[0]!,
    last = r.losses[r.losses.length - 1]!;
  expect(last, `loss went from ${first} to ${last}; ${context}`).toBeLessThan(0.5 * first);
  console.info(
    `web demo on ${r.device} (adapter: ${r.adapter}): loss ${first.toFixed(3)} -> ${last.toFixed(3)} in ${steps} steps, ` +
      `${(r.millis / 1000).toFixed(1)} s`,
  );
}

describe.runIf(installed)("browser demo (web/) in headless Chromium", () => {
  let outDir = "";
  let server: Server | undefined;
  let url = "";
  let browser: Browser | undefined;

  beforeAll(async () => {
    outDir = mkdtempSync(join(tmpdir(), "fluxion-web-"));
    await build({ configFile: CONFIG, logLevel: "warn", build: { outDir, emptyOutDir: true } });
    ({ server, url } = await serve(outDir));
    browser = await chromium.launch({ executablePath: CHROMIUM, args: [...BASE_FLAGS, ...WEBGPU_FLAGS], timeout: 30_000 });
  }, 50_000);

  afterAll(async () => {
    await browser?.close();
    await new Promise((r) => (server ? server.close(r) : r(undefined)));
    if (outDir !== "") rmSync(outDir, { recursive: true, force: true });
  });

  it("trains the MLP on WebGPU and the loss falls", async () => {
    const steps = 150;
    const r = await runPage(browser!, `${url}?steps=${steps}`, 40_000, "webgpu.png");
    expectTrained(r, steps);
    if (r.device !== "webgpu") {
      const why = `the page trained on "${r.device}" (adapter: ${r.adapter}; ${r.fallback ?? "no fallback notice"})`;
      if (inCI) expect.fail(`WebGPU is required when CI=true: ${why}`);
      console.warn(`warning: ${why}; WebGPU was not checked`);
    } else {
      expect(r.fallback, "no fallback notice on WebGPU").toBeNull();
    }
  }, 45_000);

  it("without navigator.gpu, falls back to the CPU, says so, and still trains", async () => {
    const steps = 60;
    const r = await runPage(browser!, `${url}?steps=${steps}`, 20_000, "cpu.png", true);
    expectTrained(r, steps);
    expect(r.device).toBe("cpu");
    expect(r.adapter).toMatch(/^none/);
    expect(r.fallback).toMatch(/WebGPU is not available.*training on the CPU/);
  }, 25_000);
});
