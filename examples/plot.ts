/**
 * A tiny dependency-free SVG line plot: a title, an x axis, a left and an optional right y axis
 * (each linear or logarithmic, with "nice" ticks and a label), any number of series (a polyline,
 * optionally with point markers) and a legend. Good enough for training curves; no layout engine.
 *
 *   writeFileSync("curve.svg", linePlot({ title, x: { label: "epoch" }, left: { label: "loss" }, series }));
 */

/** One axis: its label, scale, and optionally a fixed range (else fitted to the data). */
export interface Axis {
  label: string;
  scale?: "linear" | "log";
  min?: number;
  max?: number;
  /** Formats a tick value (default: a short decimal). */
  format?: (v: number) => string;
}

/** One line: points `[x, y]`, drawn against the left or the right y axis. */
export interface Series {
  name: string;
  points: readonly (readonly [number, number])[];
  color: string;
  axis?: "left" | "right";
  /** Stroke width in pixels (default 2). */
  width?: number;
  /** Draws a dot at every point (default false). */
  markers?: boolean;
  opacity?: number;
}

export interface PlotOptions {
  title: string;
  x: Axis;
  left: Axis;
  right?: Axis;
  series: readonly Series[];
  width?: number;
  height?: number;
}

interface Scale {
  lo: number;
  hi: number;
  log: boolean;
  ticks: number[];
  /** Maps a value to [0, 1] along the axis. */
  at(v: number): number;
}

const escape = (s: string): string => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
const fmt = (v: number): string => String(Number(v.toPrecision(6)));
const px = (v: number): string => (Math.round(v * 10) / 10).toString();

/** About `count` round tick values (1, 2 or 5 times a power of ten apart) covering [lo, hi]. */
function linearTicks(lo: number, hi: number, count = 6): { lo: number; hi: number; ticks: number[] } {
  if (hi <= lo) [lo, hi] = [lo - 1, hi + 1];
  const raw = (hi - lo) / count,
    mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw)!;
  const first = Math.floor(lo / step + 1e-9) * step,
    last = Math.ceil(hi / step - 1e-9) * step;
  const ticks: number[] = [];
  for (let v = first; v <= last + step / 2; v += step) ticks.push(Number(v.toPrecision(12)));
  return { lo: first, hi: last, ticks };
}

/** Decades (and 2x, 5x within them when the range is short) covering [lo, hi], lo > 0. */
function logTicks(lo: number, hi: number): { lo: number; hi: number; ticks: number[] } {
  const a = Math.floor(Math.log10(lo)),
    b = Math.max(a + 1, Math.ceil(Math.log10(hi)));
  const ticks: number[] = [];
  for (let e = a; e <= b; e++) for (const m of b - a <= 2 ? [1, 2, 5] : [1]) if (e < b || m === 1) ticks.push(Number((m * 10 ** e).toPrecision(12)));
  return { lo: 10 ** a, hi: 10 ** b, ticks };
}

function makeScale(axis: Axis, values: number[]): Scale {
  const log = axis.scale === "log";
  const data = values.filter((v) => Number.isFinite(v) && (!log || v > 0));
  const lo0 = axis.min ?? (data.length ? Math.min(...data) : log ? 1 : 0);
  const hi0 = axis.max ?? (data.length ? Math.max(...data) : log ? 10 : 1);
  const fitted = log ? logTicks(lo0, hi0) : linearTicks(lo0, hi0);
  const lo = axis.min ?? fitted.lo,
    hi = axis.max ?? fitted.hi;
  const ticks = fitted.ticks.filter((t) => t >= lo - 1e-12 && t <= hi + 1e-12);
  const t = (v: number): number => (log ? Math.log10(v) : v);
  return { lo, hi, log, ticks, at: (v) => (t(v) - t(lo)) / (t(hi) - t(lo)) };
}

/** The plot as a standalone SVG document. */
export function linePlot(options: PlotOptions): string {
  const width = options.width ?? 760,
    height = options.height ?? 420;
  const hasRight = options.right !== undefined && options.series.some((s) => s.axis === "right");
  const margin = { top: 48, right: hasRight ? 72 : 24, bottom: 84, left: 72 };
  const plotW = width - margin.left - margin.right,
    plotH = height - margin.top - margin.bottom;
  const on = (side: "left" | "right") => options.series.filter((s) => (s.axis ?? "left") === side);
  const xs = makeScale(
    options.x,
    options.series.flatMap((s) => s.points.map((p) => p[0])),
  );
  const ys = {
    left: makeScale(
      options.left,
      on("left").flatMap((s) => s.points.map((p) => p[1])),
    ),
    right: makeScale(
      options.right ?? options.left,
      on("right").flatMap((s) => s.points.map((p) => p[1])),
    ),
  };
  const X = (v: number): number => margin.left + xs.at(v) * plotW;
  const Y = (side: "left" | "right", v: number): number => margin.top + (1 - ys[side].at(v)) * plotH;
  const out: string[] = [];
  const text = (x: number, y: number, s: string, attrs = ""): void => {
    out.push(`<text x="${px(x)}" y="${px(y)}" ${attrs}>${escape(s)}</text>`);
  };

  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="Helvetica, Arial, sans-serif" font-size="12">`,
  );
  out.push(`<rect width="100%" height="100%" fill="white"/>`);
  text(width / 2, 28, options.title, `text-anchor="middle" font-size="16" font-weight="bold" fill="#222"`);

  // Grid and ticks: vertical lines at x ticks, horizontal at left-axis ticks.
  const bottom = margin.top + plotH,
    right = margin.left + plotW;
  for (const t of xs.ticks) {
    out.push(`<line x1="${px(X(t))}" y1="${margin.top}" x2="${px(X(t))}" y2="${bottom}" stroke="#e6e6e6"/>`);
    out.push(`<line x1="${px(X(t))}" y1="${bottom}" x2="${px(X(t))}" y2="${bottom + 5}" stroke="#444"/>`);
    text(X(t), bottom + 19, (options.x.format ?? fmt)(t), `text-anchor="middle" fill="#444"`);
  }
  for (const t of ys.left.ticks) {
    out.push(`<line x1="${margin.left}" y1="${px(Y("left", t))}" x2="${right}" y2="${px(Y("left", t))}" stroke="#e6e6e6"/>`);
    out.push(`<line x1="${margin.left - 5}" y1="${px(Y("left", t))}" x2="${margin.left}" y2="${px(Y("left", t))}" stroke="#444"/>`);
    text(margin.left - 8, Y("left", t) + 4, (options.left.format ?? fmt)(t), `text-anchor="end" fill="#444"`);
  }
  if (hasRight) {
    for (const t of ys.right.ticks) {
      out.push(`<line x1="${right}" y1="${px(Y("right", t))}" x2="${right + 5}" y2="${px(Y("right", t))}" stroke="#444"/>`);
      text(right + 8, Y("right", t) + 4, (options.right!.format ?? fmt)(t), `text-anchor="start" fill="#444"`);
    }
  }

  // Axes lines and labels.
  out.push(`<rect x="${margin.left}" y="${margin.top}" width="${plotW}" height="${plotH}" fill="none" stroke="#444"/>`);
  text(margin.left + plotW / 2, bottom + 36, options.x.label, `text-anchor="middle" fill="#222"`);
  const vertical = (x: number, label: string): void =>
    text(x, margin.top + plotH / 2, label, `text-anchor="middle" fill="#222" transform="rotate(-90 ${px(x)} ${px(margin.top + plotH / 2)})"`);
  vertical(20, options.left.label);
  if (hasRight) vertical(width - 14, options.right!.label);

  // Series, clipped to the plot area
  // (padded by a marker's radius, so that markers on the frame show whole)
  out.push(
    `<defs><clipPath id="plot-area"><rect x="${margin.left - 4}" y="${margin.top - 4}" width="${plotW + 8}" height="${plotH + 8}"/></clipPath></defs>`,
  );
  out.push(`<g clip-path="url(#plot-area)">`);
  for (const s of options.series) {
    const side = s.axis ?? "left";
    const pts = s.points.filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y) && (!ys[side].log || y > 0));
    const coords = pts.map(([x, y]) => `${px(X(x))},${px(Y(side, y))}`).join(" ");
    const opacity = s.opacity === undefined ? "" : ` stroke-opacity="${s.opacity}"`;
    if (pts.length > 1)
      out.push(`<polyline points="${coords}" fill="none" stroke="${s.color}" stroke-width="${s.width ?? 2}" stroke-linejoin="round"${opacity}/>`);
    if (s.markers || pts.length === 1) {
      for (const [x, y] of pts) out.push(`<circle cx="${px(X(x))}" cy="${px(Y(side, y))}" r="3.5" fill="${s.color}"/>`);
    }
  }
  out.push(`</g>`);

  // Legend under the x label, wrapping to a second row when it does not fit.
  let lx = margin.left,
    ly = height - 30;
  for (const s of options.series) {
    const label = hasRight && s.axis === "right" ? `${s.name} (right axis)` : s.name;
    const w = 28 + label.length * 6.5 + 24;
    if (lx + w > width && lx > margin.left) [lx, ly] = [margin.left, ly + 18];
    out.push(`<line x1="${lx}" y1="${ly - 4}" x2="${lx + 22}" y2="${ly - 4}" stroke="${s.color}" stroke-width="${Math.max(2, s.width ?? 2)}"/>`);
    if (s.markers) out.push(`<circle cx="${lx + 11}" cy="${ly - 4}" r="3.5" fill="${s.color}"/>`);
    text(lx + 28, ly, label, `fill="#222"`);
    lx += w;
  }
  out.push(`</svg>`);
  return out.join("\n") + "\n";
}
