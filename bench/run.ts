/**
 * `npm run bench`: one table comparing fluxion with its peers (jax-js on Wasm, TensorFlow.js on
 * Wasm and on CPU). Each implementation runs every workload (spec.ts) in a child process of its
 * own, one after the other, so that no library's heap, worker threads or engine state weighs on
 * another's timings: in one shared process fluxion's millisecond rows came out up to 5–7× slower
 * than alone. A workload is prepared, warmed up, then timed (median of the runs, each run reading
 * its results back); this process gathers the cells, compares the implementations' read-back
 * checksums and prints the table. Goals live here, never in unit tests.
 *
 * Environment: BENCH_QUICK=1 for a fast smoke run (3 timed runs, 1 warm-up);
 * BENCH_IMPLS=fluxion,jaxjs,tfjs-wasm,tfjs-cpu to run only some implementations.
 * Progress goes to stderr, the table to stdout.
 */
import { spawnSync } from "node:child_process";
import { cpus, loadavg } from "node:os";
import { fluxion } from "./fluxion.js";
import { ENSEMBLE, ensembleCase, ensembleRatioCase } from "./ensemble.js";
import { CONSTANTS, PROGRAM_OPS, SHAPES, constantsCall, fluxionOnly, jitCacheHeap, longProgramCachedRatio, longProgramCompile } from "./resources.js";
import { jaxjs } from "./peers/jaxjs.js";
import { tfjs, tfjsWasmThreads } from "./peers/tfjs.js";
import { type Case, type Impl, NotAvailable, type Prepared, type Readback, SIZES, alternated, checksum } from "./spec.js";
import { numpyMatmulGflops } from "./numpy_ref.js";
import { type WasmPeak, wasmPeakGflops } from "./wasm_peak.js";
import { fmt, table, time } from "./util.js";

const QUICK = process.env.BENCH_QUICK === "1";
const RUNS = QUICK ? 3 : 10;
const WARMUP = QUICK ? 1 : 2;
/**
 * A cell whose first warm-up call takes over 2 s (only slow peers do) gets 3 runs, flagged. Rows
 * with the default warm-up keep warming up for 300 ms (at most 200 calls), so that millisecond
 * calls are timed in steady state, as in a training loop.
 */
const SLOW = { slowMs: 2000, slowRuns: 3 };
const STEADY = { ...SLOW, warmupMs: QUICK ? 0 : 300, maxWarmup: 200 };

const ALL: Record<string, Impl> = { fluxion, jaxjs, "tfjs-wasm": tfjs("wasm"), "tfjs-cpu": tfjs("cpu") };
const selected = process.env.BENCH_IMPLS?.split(",").map((s) => s.trim()) ?? Object.keys(ALL);
for (const key of selected) if (!(key in ALL)) throw new Error(`BENCH_IMPLS: unknown "${key}"; use ${Object.keys(ALL).join(",")}`);
/** Columns, in order; those not selected print as "skipped". */
const COLUMNS = Object.entries(ALL);

type Unit = "ms" | "GFLOP/s" | "µs/op" | "MiB" | "×";

/** One measured cell: a value in the row's unit, or why there is none. */
interface Cell {
  value?: number;
  text: string;
  sum?: number;
  /** Why the cell has no value, when preparing or running it threw (becomes a numbered note). */
  error?: string;
}

/** Measured cells of every row so far, by row id then implementation name. */
type Results = Map<string, Map<string, Cell>>;

interface Row {
  id: string;
  label: string;
  unit: Unit;
  prepare: (impl: Impl) => Prepared;
  /** FLOPs per run (GFLOP/s rows) or ops per run (µs/op rows). */
  work?: number;
  warmup?: number;
  /** Timed runs for this row (default RUNS). */
  runs?: number;
  goal?: string;
  /** Whether fluxion meets the goal, plus an optional detail appended to the goal text. */
  judge?: (fx: number, results: Results) => [boolean, string?] | undefined;
}

const flops = (n: number) => 2 * n ** 3;
const CHAIN_OPS = 4 * SIZES.chainIters;
const SMALL_CHAIN_OPS = 4 * SIZES.chainItersSmall;
const valueOf = (results: Results, row: string, impl: string) => results.get(row)?.get(impl)?.value;
const atMost =
  (limit: number) =>
  (fx: number): [boolean] => [fx <= limit];

const ROWS: Row[] = [
  {
    id: "mm",
    label: `W1 matmul ${SIZES.matmul}³ eager (GFLOP/s)`,
    unit: "GFLOP/s",
    work: flops(SIZES.matmul),
    warmup: 1,
    prepare: (i) => i.matmul(SIZES.matmul, "eager"),
    goal: "≥ 100 GFLOP/s and ≥ 50 % of NumPy's BLAS",
    judge: (fx) => blasGoal(fx),
  },
  {
    id: "mmJit",
    label: `W1 matmul ${SIZES.matmul}³ jit (GFLOP/s)`,
    unit: "GFLOP/s",
    work: flops(SIZES.matmul),
    warmup: 1,
    prepare: (i) => i.matmul(SIZES.matmul, "jit"),
    goal: "≥ 100 GFLOP/s and ≥ 50 % of NumPy's BLAS",
    judge: (fx) => blasGoal(fx),
  },
  {
    id: "mmSmall",
    label: `matmul ${SIZES.matmulSmall}³ eager (GFLOP/s)`,
    unit: "GFLOP/s",
    work: flops(SIZES.matmulSmall),
    prepare: (i) => i.matmul(SIZES.matmulSmall, "eager"),
  },
  { id: "mlpFwd", label: "W2 MLP forward eager (ms)", unit: "ms", prepare: (i) => i.mlp("forward") },
  {
    id: "mlpVg",
    label: "W2 MLP valueAndGrad eager (ms)",
    unit: "ms",
    prepare: (i) => i.mlp("valueAndGrad"),
    goal: "≤ 3× forward: the next row",
  },
  {
    id: "mlpVgRatio",
    label: "W2 MLP valueAndGrad ÷ forward, eager, timed in alternation (×)",
    unit: "×",
    runs: 40,
    prepare: (i) =>
      fluxionOnly(fluxion.name, () => {
        const vg = i.mlp("valueAndGrad") as Case,
          fwd = i.mlp("forward") as Case;
        return alternated(
          () => vg.run() as Readback,
          () => fwd.run(),
        );
      })(i.name),
    goal: "≤ 3× forward",
    judge: atMost(3),
  },
  { id: "mlpJitFwd", label: "W2 MLP jit forward (ms)", unit: "ms", prepare: (i) => i.mlp("jitForward") },
  {
    id: "mlpJitVg",
    label: "W2 MLP jit(valueAndGrad) (ms)",
    unit: "ms",
    prepare: (i) => i.mlp("jitValueAndGrad"),
    goal: "≤ 0.5× jax-js",
    judge: (fx, r) => ratioGoal(fx, valueOf(r, "mlpJitVg", jaxjs.name), 0.5, "jax-js"),
  },
  {
    id: "chainCompile",
    label: `W3 ${CHAIN_OPS}-op chain jit 1st call (ms)`,
    unit: "ms",
    warmup: 1,
    prepare: (i) => i.chainCompile(SIZES.chainIters),
    goal: "≤ 100 ms",
    judge: atMost(100),
  },
  {
    id: "chainJit",
    label: `W3 ${CHAIN_OPS}-op chain jit cached (ms)`,
    unit: "ms",
    prepare: (i) => i.chain("jit", SIZES.chainIters),
    goal: "≤ jax-js",
    judge: (fx, r) => ratioGoal(fx, valueOf(r, "chainJit", jaxjs.name), 1, "jax-js"),
  },
  {
    id: "chainCompileSmall",
    label: `W3 ${SMALL_CHAIN_OPS}-op chain jit 1st call (ms)`,
    unit: "ms",
    warmup: 1,
    prepare: (i) => i.chainCompile(SIZES.chainItersSmall),
  },
  {
    id: "chainJitSmall",
    label: `W3 ${SMALL_CHAIN_OPS}-op chain jit cached (ms)`,
    unit: "ms",
    prepare: (i) => i.chain("jit", SIZES.chainItersSmall),
    goal: "≤ jax-js",
    judge: (fx, r) => ratioGoal(fx, valueOf(r, "chainJitSmall", jaxjs.name), 1, "jax-js"),
  },
  ...[3, 50].map((leaves): Row => ({
    id: `jitCall${leaves}`,
    label: `jit cached call, ${leaves}-leaf pytree (µs)`,
    unit: "µs/op",
    work: SIZES.jitCalls,
    prepare: (i) => i.jitCall(leaves),
    goal: `≤ ${3 + 0.2 * leaves} µs (3 + 0.2 per leaf)`,
    judge: atMost(3 + 0.2 * leaves),
  })),
  {
    id: "chainFwd",
    label: `scalar chain forward eager (µs/op)`,
    unit: "µs/op",
    work: CHAIN_OPS,
    prepare: (i) => i.chain("forward", SIZES.chainIters),
    goal: "≤ 1 µs/op",
    judge: atMost(1),
  },
  {
    id: "chainGrad",
    label: "scalar chain grad eager (µs/op)",
    unit: "µs/op",
    work: CHAIN_OPS,
    prepare: (i) => i.chain("grad", SIZES.chainIters),
    goal: "≤ 3 µs/op",
    judge: atMost(3),
  },
  {
    id: "perExample",
    label: `W4 jit(vmap(grad)) d=${SIZES.perExample.dim} b=${SIZES.perExample.batch} (ms)`,
    unit: "ms",
    prepare: (i) => i.perExampleGrads(),
    goal: "≤ 0.05 ms",
    judge: atMost(0.05),
  },
  {
    id: "hvp",
    label: `W5 HVP jit(jvp(grad)) n=${SIZES.rosenbrock} (ms)`,
    unit: "ms",
    prepare: (i) => i.hvp(),
    goal: "≤ 0.05 ms",
    judge: atMost(0.05),
  },
  {
    id: "expSin",
    label: "W6 sum(exp(sin(x)*2+1)) 1e6 jit fwd (ms)",
    unit: "ms",
    prepare: (i) => i.expSin("forward"),
    goal: "≤ 1.5 ms",
    judge: atMost(1.5),
  },
  {
    id: "expSinGrad",
    label: "W6 sum(exp(sin(x)*2+1)) 1e6 jit grad (ms)",
    unit: "ms",
    prepare: (i) => i.expSin("grad"),
    goal: "≤ 3 ms",
    judge: atMost(3),
  },
  {
    id: "convGrad",
    label: "W7 conv 32x8x28x28 * 16x3x3 jit grad x,w (ms)",
    unit: "ms",
    prepare: (i) => i.convGrad(),
    goal: "≤ 5 ms",
    judge: atMost(5),
  },
  {
    id: "cholesky",
    label: `W8 ${SIZES.linalg}×${SIZES.linalg} Cholesky eager (ms)`,
    unit: "ms",
    prepare: (i) => i.cholesky(),
    goal: "≤ 20 ms",
    judge: atMost(20),
  },
  {
    id: "solve",
    label: `W8 ${SIZES.linalg}×${SIZES.linalg} solve, one right-hand side, eager (ms)`,
    unit: "ms",
    prepare: (i) => i.solve(),
    goal: "≤ 20 ms",
    judge: atMost(20),
  },
  {
    id: "eigh",
    label: `W9 ${SIZES.decomposition}×${SIZES.decomposition} eigh eager (ms)`,
    unit: "ms",
    prepare: (i) => i.eigh(),
    goal: "≤ 50 ms",
    judge: atMost(50),
  },
  {
    id: "svd",
    label: `W9 ${SIZES.decomposition}×${SIZES.decomposition} svd eager (ms)`,
    unit: "ms",
    prepare: (i) => i.svd(),
    goal: "≤ 50 ms",
    judge: atMost(50),
  },
  {
    id: "libNormal",
    label: `random.normal ${SIZES.library.normal / 1e6}e6 float32 eager (ms)`,
    unit: "ms",
    prepare: (i) => i.library("normal"),
  },
  {
    id: "libSoftmax",
    label: `nn.softmax [${SIZES.library.softmax}] eager (ms)`,
    unit: "ms",
    prepare: (i) => i.library("softmax"),
  },
  {
    id: "libSort",
    label: `np.sort ${SIZES.library.sort / 1e5}e5 float32 eager (ms)`,
    unit: "ms",
    prepare: (i) => i.library("sort"),
  },
  {
    id: "libRelu",
    label: `nn.relu [${SIZES.library.softmax}] eager (ms)`,
    unit: "ms",
    prepare: (i) => i.library("relu"),
  },
  {
    id: "libBiasAdd",
    label: `[${SIZES.library.softmax}] + a bias row, eager (ms)`,
    unit: "ms",
    prepare: (i) => i.library("biasAdd"),
  },
  {
    id: "ensembleLoop",
    label: `ensemble: ${ENSEMBLE.models} separate jitted MLP train steps (ms)`,
    unit: "ms",
    prepare: (i) => fluxionOnly(fluxion.name, () => ensembleCase("loop"))(i.name),
    goal: "baseline for the next row",
  },
  {
    id: "ensembleVmap",
    label: `ensemble: one jit(vmap) step training ${ENSEMBLE.models} MLPs (ms)`,
    unit: "ms",
    prepare: (i) => fluxionOnly(fluxion.name, () => ensembleCase("vmap"))(i.name),
    goal: "the next row times it against one model's step",
  },
  {
    id: "ensembleRatio",
    label: `ensemble: jit(vmap) step ÷ one model's step, timed in alternation (×)`,
    unit: "×",
    runs: 40,
    prepare: (i) => fluxionOnly(fluxion.name, ensembleRatioCase)(i.name),
    goal: "≤ 3× one model's step",
    judge: atMost(3),
  },
  {
    id: "constants",
    label: `jit cached call closing over ${CONSTANTS / 1000}k constants (ms)`,
    unit: "ms",
    warmup: 1,
    prepare: (i) => fluxionOnly(fluxion.name, constantsCall)(i.name),
    goal: "≤ 100 ms (linear)",
    judge: atMost(100),
  },
  {
    id: "longCompile",
    label: `${PROGRAM_OPS / 1000}k-op program: jit trace, compile and 1st call (ms)`,
    unit: "ms",
    warmup: 0,
    runs: 3,
    prepare: (i) => fluxionOnly(fluxion.name, longProgramCompile)(i.name),
    goal: "≤ 1500 ms",
    judge: atMost(1500),
  },
  {
    id: "longCached",
    label: `${PROGRAM_OPS / 1000}k-op program: cached jit call ÷ eager call, in alternation (×)`,
    unit: "×",
    warmup: 1,
    runs: 7,
    prepare: (i) => fluxionOnly(fluxion.name, longProgramCachedRatio)(i.name),
    goal: "< 1 (faster than eager)",
    judge: (fx) => [fx < 1],
  },
  {
    id: "jitCache",
    label: `jit cache: heap growth over ${SHAPES / 1000}k shapes (MiB)`,
    unit: "MiB",
    warmup: 0,
    runs: 1,
    prepare: (i) => fluxionOnly(fluxion.name, jitCacheHeap)(i.name),
    goal: "≤ 8 MiB (flat)",
    judge: atMost(8),
  },
  {
    id: "rnnScan",
    label: `RNN scan step, hidden ${SIZES.rnn.hidden}, jit (µs/step)`,
    unit: "µs/op",
    work: SIZES.rnn.steps,
    prepare: (i) => i.rnn("forward"),
    goal: "≤ 5 µs",
    judge: atMost(5),
  },
  {
    id: "rnnGrad",
    label: `RNN scan jit(grad) of sum(h²), hidden ${SIZES.rnn.hidden} (µs/step)`,
    unit: "µs/op",
    work: SIZES.rnn.steps,
    prepare: (i) => i.rnn("grad"),
  },
  {
    id: "fori",
    label: `fori loop of ${SIZES.foriSteps} scalar steps, jit (µs/step)`,
    unit: "µs/op",
    work: SIZES.foriSteps,
    prepare: (i) => i.fori(),
  },
];

/** NumPy's matmul on this machine, measured once, for the W1 rows' goal and reference column. */
let numpyRef: ReturnType<typeof numpyMatmulGflops> | undefined;
const numpyMatmul = () => (numpyRef ??= numpyMatmulGflops(SIZES.matmul, RUNS));
/** WebAssembly's multiply-add ceiling on this machine (`wasm_peak.ts`), measured once before the table. */
let wasmPeak: Awaited<ReturnType<typeof wasmPeakGflops>> | undefined;
const peak = (): WasmPeak | null => (wasmPeak === undefined || "reason" in wasmPeak ? null : wasmPeak);
function blasGoal(fx: number): [boolean, string?] {
  const ref = numpyMatmul();
  const p = peak();
  const ceiling = p === null ? "" : `, ${((100 * fx) / p.total).toFixed(0)} % of the wasm ceiling`;
  if ("reason" in ref) return [fx >= 100, `no BLAS reference: ${ref.reason}${ceiling}`];
  return [fx >= 100 && fx >= 0.5 * ref.gflops, `now ${((100 * fx) / ref.gflops).toFixed(0)} % of ${ref.blas}${ceiling}`];
}
/** The reference column: NumPy's figure (and the wasm ceiling) on the W1 rows, blank elsewhere. */
function referenceCell(row: Row): string {
  if (row.id !== "mm" && row.id !== "mmJit") return "—";
  const ref = numpyMatmul();
  const p = peak();
  const ceiling = p === null ? "" : `; wasm f32x4 multiply + add ceiling ${fmt(p.total)} on ${p.threads} threads`;
  return ("reason" in ref ? `skipped (${ref.reason})` : `${fmt(ref.gflops)} (${ref.blas})`) + ceiling;
}

/** `fx ≤ factor × ref`, with the measured factor as detail. */
function ratioGoal(fx: number, ref: number | undefined, factor: number, refName: string): [boolean, string?] | undefined {
  if (ref === undefined) return undefined;
  return [fx <= factor * ref, `now ${(fx / ref).toFixed(2)}× ${refName}`];
}

const notes: string[] = [];
function note(text: string): number {
  notes.push(text);
  return notes.length;
}

function convert(row: Row, ms: number): number {
  if (row.unit === "GFLOP/s") return row.work! / (ms * 1e6);
  if (row.unit === "µs/op") return (ms * 1000) / row.work!;
  return ms;
}

async function measure(row: Row, key: string, impl: Impl): Promise<Cell> {
  if (!selected.includes(key)) return { text: "skipped" };
  let prepared: Prepared | undefined;
  try {
    await impl.activate();
    prepared = row.prepare(impl);
    if (prepared instanceof NotAvailable) return { text: `n/a (${prepared.reason})` };
    const t = await time(prepared.run, row.runs ?? RUNS, row.warmup ?? WARMUP, row.warmup === undefined ? STEADY : SLOW);
    // A row that measures something other than time (memory) reports it itself.
    const measured = (prepared as { measured?: () => number }).measured;
    const value = measured ? measured() : convert(row, t.median);
    const tags = [prepared.tag, t.runs < RUNS ? `${t.runs} runs` : undefined].filter(Boolean);
    return { value, sum: checksum(t.last), text: fmt(value) + (tags.length ? ` (${tags.join(", ")})` : "") };
  } catch (e) {
    const msg = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
    return { text: "error", error: `${impl.name}, ${row.label}: ${msg.split("\n")[0]!.slice(0, 300)}` };
  } finally {
    if (prepared && !(prepared instanceof NotAvailable)) prepared.dispose?.();
  }
}

/** Flags implementations whose read-back differs from fluxion's (or the first available) result. */
function compareChecksums(row: Row, cells: Map<string, Cell>): void {
  const withSums = [...cells.entries()].filter(([, c]) => c.sum !== undefined);
  if (withSums.length < 2) return;
  const [refName, ref] = withSums[0]!;
  for (const [name, cell] of withSums.slice(1)) {
    const rel = Math.abs(cell.sum! - ref.sum!) / Math.max(Math.abs(ref.sum!), 1e-30);
    if (rel > 2e-3)
      cell.text += ` [${note(`${row.label}: ${name} read back Σ|x| = ${cell.sum!.toPrecision(6)}, ${refName} ${ref.sum!.toPrecision(6)} (rel. diff ${rel.toExponential(1)})`)}]`;
  }
}

/** fluxion ms / best peer ms, or best peer GFLOP/s / fluxion GFLOP/s: > 1 means fluxion is slower. */
function ratio(row: Row, cells: Map<string, Cell>): string {
  const fx = cells.get(fluxion.name)?.value;
  const peers = [...cells.entries()].filter(([n, c]) => n !== fluxion.name && c.value !== undefined).map(([, c]) => c.value!);
  if (fx === undefined || peers.length === 0) return "—";
  const r = row.unit === "GFLOP/s" ? Math.max(...peers) / fx : fx / Math.min(...peers);
  return `${fmt(r)}×`;
}

/** Child mode (BENCH_CHILD=key): measures every row for one implementation, one JSON line per row. */
async function child(key: string): Promise<void> {
  const impl = ALL[key]!;
  for (const row of ROWS) {
    process.stderr.write(`${row.label} — ${impl.name} … `);
    const cell = await measure(row, key, impl);
    process.stderr.write(`${cell.text}\n`);
    process.stdout.write(`${JSON.stringify({ row: row.id, cell })}\n`);
  }
  process.stdout.write(`${JSON.stringify({ tfjsThreads: tfjsWasmThreads() })}\n`);
}

/** tfjs-wasm's thread count, as its child process reports it. */
let tfjsThreads = "not started";

/** Runs one implementation's child process and returns its cells by row id. */
function runChild(key: string): Map<string, Cell> {
  const out = spawnSync(process.execPath, [...process.execArgv, process.argv[1]!], {
    env: { ...process.env, BENCH_CHILD: key },
    stdio: ["ignore", "pipe", "inherit"],
    encoding: "utf8",
    maxBuffer: 64 * 1024 * 1024,
  });
  const cells = new Map<string, Cell>();
  for (const line of (out.stdout ?? "").split("\n")) {
    if (!line.startsWith("{")) continue;
    const msg = JSON.parse(line) as { row: string; cell: Cell } | { tfjsThreads: string };
    if ("row" in msg) cells.set(msg.row, msg.cell);
    else if (msg.tfjsThreads !== "not started") tfjsThreads = msg.tfjsThreads;
  }
  if (out.status !== 0) {
    const why = out.error?.message ?? `exit status ${out.status ?? out.signal}`;
    for (const row of ROWS)
      if (!cells.has(row.id)) cells.set(row.id, { text: "error", error: `${ALL[key]!.name}, ${row.label}: its process failed (${why})` });
  }
  return cells;
}

async function main(): Promise<void> {
  const results: Results = new Map();
  const rows: string[][] = [];
  const started = performance.now(),
    loadBefore = loadavg()[0]!;
  const byImpl = new Map(COLUMNS.map(([key]) => [key, selected.includes(key) ? runChild(key) : new Map<string, Cell>()]));
  if (selected.includes("fluxion")) wasmPeak = await wasmPeakGflops(cpus().length);
  for (const row of ROWS) {
    const cells = new Map<string, Cell>();
    results.set(row.id, cells);
    for (const [key, impl] of COLUMNS) {
      const cell = byImpl.get(key)!.get(row.id) ?? { text: "skipped" };
      if (cell.error !== undefined) cell.text = `error [${note(cell.error)}]`;
      cells.set(impl.name, cell);
    }
    compareChecksums(row, cells);
    const fx = cells.get(fluxion.name)?.value;
    const verdict = fx === undefined || !row.judge ? undefined : row.judge(fx, results);
    const goal = row.goal ? row.goal + (verdict?.[1] ? ` (${verdict[1]})` : "") : "—";
    rows.push([
      row.label,
      ...COLUMNS.map(([, impl]) => cells.get(impl.name)!.text),
      referenceCell(row),
      ratio(row, cells),
      goal,
      verdict === undefined ? "—" : verdict[0] ? "yes" : "NO",
    ]);
  }
  const elapsed = (performance.now() - started) / 1000;

  console.log(table(["workload", ...COLUMNS.map(([, impl]) => impl.name), "numpy (reference)", "ratio", "goal", "met?"], rows));
  console.log(`
ratio: > 1 means fluxion is slower than the best peer in the row (time rows: fluxion / best peer time;
  GFLOP/s rows: best peer / fluxion rate).
cells: each implementation in a child process of its own, one after the other;
  median of ${RUNS} timed runs after warm-up (${STEADY.warmupMs} ms, at most ${STEADY.maxWarmup} calls, where a row does not set its
  own; fewer runs where flagged: calls over ${SLOW.slowMs / 1000} s), each run reading all
  results back (dataSync/item), float32.
  "(eager)": tfjs has no jit, so its eager equivalent; "(loop)": per-example tf.grad calls;
  "(rev-rev)": tfjs Hessian-vector product as tf.grad of tf.grad; "(JS loop …)": the loop rows where
  a peer has no scan or fori, run as a JavaScript loop of its (jitted or eager) steps. numpy (reference): NumPy's float32
  matmul in a python3 subprocess on all cores, the machine's BLAS, not a peer (the ratio ignores it); beside it
  the wasm ceiling (bench/wasm_peak.ts): f32x4 multiplies and adds alone, no memory traffic, on all cores at once,
  which no wasm matmul can beat (Node 20's wasm has no fused multiply-add). The ${SMALL_CHAIN_OPS}-op chain rows are there
  because jax-js's jit cannot compile the ${CHAIN_OPS}-op chain.
machine: ${cpus().length} × ${cpus()[0]?.model.trim() ?? "?"}, Node ${process.version}, load average ${loadBefore.toFixed(2)} → ${loadavg()[0]!.toFixed(2)};
  jax-js wasm and tfjs wasm are single-threaded here (no Web Workers in Node; tfjs wasm threads: ${tfjsThreads}).
  ${QUICK ? "BENCH_QUICK run. " : ""}Took ${elapsed.toFixed(0)} s.`);
  if (notes.length) console.log("\n" + notes.map((n, i) => `[${i + 1}] ${n}`).join("\n"));
}

const childKey = process.env.BENCH_CHILD;
if (childKey !== undefined) await child(childKey);
else await main();
