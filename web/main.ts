/**
 * The browser demo page: finds the devices, trains the MLP of train.ts on WebGPU (or on the CPU
 * when WebGPU is missing, which the page says), and draws the loss per step.
 *
 * For tests, the page exposes its state in the DOM:
 *   #status[data-status]   "loading" | "running" | "done" | "error: <message>"
 *   #status[data-device]   "webgpu" | "cpu" (where training runs)
 *   #status[data-adapter]  the WebGPU adapter's description, or "none"
 *   #losses                the losses per step as a JSON array
 */
import { devices } from "../src/index.js";
import { DEFAULTS, type TrainConfig, train } from "./train.js";

const $ = <T extends Element>(sel: string): T => {
  const el = document.querySelector<T>(sel);
  if (el === null) throw new Error(`missing element ${sel}`);
  return el;
};
const statusEl = $<HTMLDivElement>("#status");
const fallbackEl = $<HTMLDivElement>("#fallback");
const lossesEl = $<HTMLPreElement>("#losses");
const curveEl = $<SVGSVGElement>("#curve");

function setStatus(status: string, text: string): void {
  statusEl.dataset.status = status;
  statusEl.textContent = text;
}

/** Adapter info straight from navigator.gpu (for display; fluxion picks its own adapter). */
async function adapterName(): Promise<string> {
  const gpu = (navigator as Navigator & { gpu?: GPU }).gpu;
  if (gpu === undefined) return "none (navigator.gpu is undefined)";
  const adapter = await gpu.requestAdapter().catch(() => null);
  if (adapter === null) return "none (requestAdapter() returned null)";
  const info = (adapter as GPUAdapter & { info?: GPUAdapterInfo }).info;
  return [info?.vendor, info?.architecture, info?.description].filter((s) => s).join(" ") || "unknown adapter";
}

// -------------------------------------------------------------------------------------------------
// Loss curve (SVG)
// -------------------------------------------------------------------------------------------------

const W = 720,
  H = 300,
  PAD = { left: 48, right: 16, top: 16, bottom: 36 };
const SVG_NS = "http://www.w3.org/2000/svg";

function svg<K extends keyof SVGElementTagNameMap>(tag: K, attrs: Record<string, string | number>, text?: string): SVGElementTagNameMap[K] {
  const el = document.createElementNS(SVG_NS, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  if (text !== undefined) el.textContent = text;
  return el;
}

/** Redraws the axes and the curve of `losses` over `steps` steps (linear loss scale from 0). */
function drawCurve(losses: readonly number[], steps: number): void {
  const top = Math.max(2.5, ...losses.filter(Number.isFinite));
  const x = (i: number) => PAD.left + ((W - PAD.left - PAD.right) * i) / Math.max(1, steps);
  const y = (v: number) => H - PAD.bottom - ((H - PAD.top - PAD.bottom) * Math.min(v, top)) / top;
  curveEl.replaceChildren();
  curveEl.append(svg("rect", { x: 0, y: 0, width: W, height: H, fill: "#fff" }));
  for (let k = 0; k <= 5; k++) {
    const v = (top * k) / 5;
    curveEl.append(svg("line", { x1: PAD.left, x2: W - PAD.right, y1: y(v), y2: y(v), stroke: "#eee" }));
    curveEl.append(svg("text", { x: PAD.left - 6, y: y(v) + 4, "text-anchor": "end", "font-size": 11, fill: "#666" }, v.toFixed(1)));
  }
  for (let k = 0; k <= 5; k++) {
    const s = Math.round((steps * k) / 5);
    curveEl.append(svg("text", { x: x(s), y: H - PAD.bottom + 16, "text-anchor": "middle", "font-size": 11, fill: "#666" }, String(s)));
  }
  curveEl.append(svg("text", { x: (W + PAD.left) / 2, y: H - 4, "text-anchor": "middle", "font-size": 12, fill: "#444" }, "step"));
  curveEl.append(
    svg("text", { x: 12, y: H / 2, "text-anchor": "middle", "font-size": 12, fill: "#444", transform: `rotate(-90 12 ${H / 2})` }, "loss"),
  );
  const points = losses.map((v, i) => `${x(i + 1).toFixed(1)},${y(v).toFixed(1)}`).join(" ");
  curveEl.append(svg("polyline", { points, fill: "none", stroke: "#1f77b4", "stroke-width": 2 }));
}

// -------------------------------------------------------------------------------------------------
// Main
// -------------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const params = new URLSearchParams(location.search);
  const available = await devices();
  const wanted = params.get("device") ?? "webgpu";
  const device = available.includes(wanted) ? wanted : "cpu";
  const adapter = await adapterName();
  statusEl.dataset.device = device;
  statusEl.dataset.adapter = adapter;
  if (device !== "webgpu") {
    fallbackEl.hidden = false;
    fallbackEl.textContent =
      wanted === "webgpu"
        ? `WebGPU is not available in this browser (adapter: ${adapter}); training on the CPU instead.`
        : `Training on the ${device} (requested with ?device=${wanted}).`;
  }

  const steps = Math.max(1, Number(params.get("steps") ?? DEFAULTS.steps) | 0);
  const config: TrainConfig = { ...DEFAULTS, device, steps };
  const losses: number[] = [];
  setStatus("running", `Training on ${device}${device === "webgpu" ? ` (${adapter})` : ""}: step 0/${steps}`);
  drawCurve(losses, steps);
  const result = await train(config, async ({ step, loss }) => {
    losses.push(loss);
    if (step % 5 === 0 || step === steps) {
      statusEl.textContent = `Training on ${device}: step ${step}/${steps}, loss ${loss.toFixed(4)}`;
      lossesEl.textContent = JSON.stringify(losses);
      drawCurve(losses, steps);
      // Let the page repaint (the CPU backend's data() resolves without yielding to the browser).
      await new Promise((r) => setTimeout(r, 0));
    }
  });
  lossesEl.textContent = JSON.stringify(result.losses);
  drawCurve(result.losses, steps);
  const first = result.losses[0]!,
    last = result.losses[result.losses.length - 1]!;
  statusEl.dataset.accuracy = String(result.accuracy);
  statusEl.dataset.millis = result.millis.toFixed(0);
  setStatus(
    "done",
    `Done on ${device}: loss ${first.toFixed(3)} → ${last.toFixed(3)} in ${steps} steps ` +
      `(${(result.millis / 1000).toFixed(2)} s, ${(result.millis / steps).toFixed(1)} ms/step); ` +
      `held-out accuracy ${(100 * result.accuracy).toFixed(1)}%`,
  );
}

main().catch((e: unknown) => {
  console.error(e);
  const message = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
  setStatus(`error: ${message}`, `Error: ${message}`);
});
