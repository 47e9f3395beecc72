/** Benchmark plumbing: warm-up, repeated timing, medians, and a plain-text table. */

export interface Timing<R = unknown> {
  median: number;
  min: number;
  runs: number;
  /** What the last timed call returned (e.g. the data it read back), for checking results. */
  last: R;
}

export interface SlowOptions {
  /** A first warm-up call slower than this (ms) marks `fn` as slow: no more warm-ups, `slowRuns` runs. */
  slowMs: number;
  slowRuns: number;
  /**
   * Keep warming up until this many ms have passed (at most `maxWarmup` calls): a call of a
   * millisecond or less is otherwise timed before the engine has optimised its code, and work split
   * into many small calls (which tier up sooner) looks better than the same work in one call.
   */
  warmupMs?: number;
  maxWarmup?: number;
}

/**
 * Times `fn` (ms): `warmup` untimed calls (more while `slow.warmupMs` has not passed), then `runs`
 * timed ones; returns the median and min. A promise returned by `fn` is awaited inside the timed
 * region; a plain value is not awaited, so sub-microsecond calls are not padded by a microtask turn.
 * With `slow`, a call that takes seconds gets fewer runs (the returned `runs` says how many) so that
 * the whole bench stays short.
 */
export async function time<R>(fn: () => R | Promise<R>, runs = 10, warmup = 2, slow?: SlowOptions): Promise<Timing<R>> {
  const started = performance.now();
  const budget = slow?.warmupMs ?? 0,
    most = Math.max(warmup, slow?.maxWarmup ?? warmup);
  for (let i = 0; i < most && (i < warmup || performance.now() - started < budget); i++) {
    const t0 = performance.now();
    const r = fn();
    if (r instanceof Promise) await r;
    if (i === 0 && slow && performance.now() - t0 > slow.slowMs) {
      runs = Math.min(runs, slow.slowRuns);
      break;
    }
  }
  const ts: number[] = [];
  let last!: R;
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    const r = fn();
    last = r instanceof Promise ? await r : r;
    ts.push(performance.now() - t0);
  }
  ts.sort((a, b) => a - b);
  return { median: ts[Math.floor(ts.length / 2)]!, min: ts[0]!, runs, last };
}

/** Prints rows as an aligned table. */
export function table(header: string[], rows: (string | number)[][]): string {
  const cells = [header, ...rows.map((r) => r.map((c) => (typeof c === "number" ? fmt(c) : c)))];
  const widths = header.map((_, i) => Math.max(...cells.map((r) => String(r[i] ?? "").length)));
  const line = (r: (string | number)[]) => r.map((c, i) => String(c).padEnd(widths[i]!)).join("  ");
  return [line(cells[0]!), widths.map((w) => "-".repeat(w)).join("  "), ...cells.slice(1).map(line)].join("\n");
}

export function fmt(x: number): string {
  if (!Number.isFinite(x)) return String(x);
  if (Math.abs(x) >= 100) return x.toFixed(0);
  if (Math.abs(x) >= 1) return x.toFixed(2);
  return x.toPrecision(3);
}
