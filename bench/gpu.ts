/**
 * `npm run bench:gpu`: the WebGPU workloads that docs/PERFORMANCE.md tracks, for fluxion and for
 * jax-js on the same Dawn adapter in the same process, each result checked against a float64 (or
 * CPU) reference. Prints one table with the ratio fluxion / jax-js and, at full size, the goals the
 * WebGPU issue sets for a datacentre GPU.
 *
 * `GPU_SMALL=1` shrinks every workload so the script runs in seconds on a software adapter
 * (lavapipe); the test suite runs it that way (test/webgpu/bench_gpu.test.ts) so it cannot rot.
 * Both libraries get Dawn's `navigator.gpu`; fluxion finds it there like in a browser.
 */
import { create, globals } from "webgpu";

const SMALL = process.env.GPU_SMALL === "1";

interface MlpSpec {
  readonly name: string;
  readonly sizes: readonly number[];
  readonly batch: number;
}

const SIZES = SMALL
  ? {
      matmul: [64, 256],
      mlps: [
        { name: "mlp 64-32-10 b16", sizes: [64, 32, 10], batch: 16 },
        { name: "mlp 128-128-128-10 b32", sizes: [128, 128, 128, 10], batch: 32 },
      ],
      sum: 1 << 17,
      eager: { ops: 20, size: 256 },
      runs: 3,
    }
  : {
      matmul: [1024, 4096],
      mlps: [
        { name: "mlp 784-256-10 b128", sizes: [784, 256, 10], batch: 128 },
        { name: "mlp 4096-4096-4096-10 b1024", sizes: [4096, 4096, 4096, 10], batch: 1024 },
      ],
      sum: 1 << 24,
      eager: { ops: 100, size: 4096 },
      runs: 10,
    };

/** Goals on a datacentre GPU (the WebGPU issue): a row's time must be at most this many ms. */
const GOAL_MS: Record<string, number> = {
  "matmul 1024": 0.5,
  "matmul 4096": (2 * 4096 ** 3) / 30e9, // 30 TFLOP/s
  "mlp 784-256-10 b128": 0.6,
  "mlp 4096-4096-4096-10 b1024": 6,
  [`sum(exp(sin(x)·2+1)) n=${1 << 24}`]: 0.5,
  "eager 100 ops × 4096": 100 * 0.03,
};

/** Deterministic float32 data in [-1, 1) (a 32-bit LCG), the same for both libraries. */
function data(n: number, seed: number, scale = 1): Float32Array {
  const out = new Float32Array(n);
  let s = (seed * 2654435761) >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = (s / 2 ** 31 - 1) * scale;
  }
  return out;
}

function oneHot(batch: number, classes: number, seed: number): Float32Array {
  const y = new Float32Array(batch * classes);
  const r = data(batch, seed);
  for (let i = 0; i < batch; i++) y[i * classes + (Math.floor((r[i]! + 1) * 0.5 * classes) % classes)] = 1;
  return y;
}

/** Median and minimum of `runs` timed calls after two warm-ups. */
async function time(fn: () => Promise<unknown>, runs = SIZES.runs): Promise<{ median: number; min: number }> {
  await fn();
  await fn();
  const ts: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    await fn();
    ts.push(performance.now() - t0);
  }
  ts.sort((a, b) => a - b);
  return { median: ts[Math.floor(runs / 2)]!, min: ts[0]! };
}

/** Largest |a - b| / (1 + |b|) over the elements. */
function relErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let e = a.length === b.length ? 0 : Infinity;
  for (let i = 0; i < Math.min(a.length, b.length); i++) e = Math.max(e, Math.abs(a[i]! - b[i]!) / (1 + Math.abs(b[i]!)));
  return Number.isNaN(e) ? Infinity : e;
}

/** Rows `rows` of a·b in float64 (n×n operands), flattened. */
function matmulRows(a: Float32Array, b: Float32Array, n: number, rows: readonly number[]): Float64Array {
  const out = new Float64Array(rows.length * n);
  rows.forEach((r, k) => {
    for (let p = 0; p < n; p++) {
      const x = a[r * n + p]!;
      for (let j = 0; j < n; j++) out[k * n + j] += x * b[p * n + j]!;
    }
  });
  return out;
}

function sumRef(x: Float32Array): number {
  let s = 0;
  for (const v of x) s += Math.exp(Math.sin(v) * 2 + 1);
  return s;
}

function eagerRef(x: Float32Array, ops: number): Float32Array {
  return x.map((v) => {
    let y = v;
    for (let i = 0; i < ops; i++) y = i % 2 === 0 ? Math.fround(y * Math.fround(0.999)) : Math.fround(y + Math.fround(0.001));
    return y;
  });
}

interface Result {
  ms: number;
  err: number;
  tol: number;
}
/** One library's implementation of the workloads; each returns its median time and its check error. */
interface Lib {
  readonly name: string;
  matmul(n: number): Promise<Result>;
  mlp(spec: MlpSpec): Promise<Result>;
  sum(n: number): Promise<Result>;
  eager(ops: number, size: number): Promise<Result>;
}

async function fluxionLib(): Promise<Lib> {
  const { devices, jit, nn, np, valueAndGrad } = await import("../src/index.js");
  type A = import("../src/index.js").NDArray;
  if (!(await devices()).includes("webgpu")) throw new Error("fluxion found no WebGPU adapter");
  const put = (a: Float32Array, shape: number[]) => np.array(a, { shape }).to("webgpu");
  type Layer = { w: A; b: A };
  const loss = (p: Layer[], x: A, y: A): A => {
    let h = x;
    p.forEach((l, i) => {
      const z = np.matmul(h, l.w).add(l.b);
      h = i + 1 < p.length ? nn.relu(z) : z;
    });
    return np.negative(np.mean(np.sum(nn.logSoftmax(h).mul(y), 1)));
  };
  const layers = (s: readonly number[], host: boolean): Layer[] =>
    s.slice(1).map((m, l) => {
      const w = data(s[l]! * m, 10 + l, 1 / Math.sqrt(s[l]!)),
        b = data(m, 20 + l, 0.1);
      return host ? { w: np.array(w, { shape: [s[l]!, m] }), b: np.array(b) } : { w: put(w, [s[l]!, m]), b: put(b, [m]) };
    });
  return {
    name: "fluxion",
    async matmul(n) {
      const a = data(n * n, 1),
        b = data(n * n, 2);
      const ga = put(a, [n, n]),
        gb = put(b, [n, n]);
      const mm = jit((x: A, y: A) => np.matmul(x, y), { device: "webgpu" });
      const t = await time(() => mm(ga, gb).data());
      const got = await mm(ga, gb).data();
      const rows = [0, n >> 1, n - 1];
      const want = matmulRows(a, b, n, rows);
      const err = relErr(
        rows.flatMap((r) => Array.from(got.subarray(r * n, (r + 1) * n))),
        want,
      );
      return { ms: t.median, err, tol: 1e-3 };
    },
    async mlp(spec) {
      const s = spec.sizes;
      const x = data(spec.batch * s[0]!, 3),
        y = oneHot(spec.batch, s[s.length - 1]!, 4);
      const step = jit(valueAndGrad(loss), { device: "webgpu" });
      const gp = layers(s, false),
        gx = put(x, [spec.batch, s[0]!]),
        gy = put(y, [spec.batch, s[s.length - 1]!]);
      const t = await time(async () => {
        const [v, g] = step(gp, gx, gy);
        await g[0]!.w.data();
        return v.data();
      });
      const [vg] = step(gp, gx, gy);
      const [vc] = valueAndGrad(loss)(
        layers(s, true),
        np.array(x, { shape: [spec.batch, s[0]!] }),
        np.array(y, { shape: [spec.batch, s[s.length - 1]!] }),
      );
      return { ms: t.median, err: relErr(await vg.data(), [vc.item()]), tol: 2e-3 };
    },
    async sum(n) {
      const x = data(n, 5);
      const f = jit((v: A) => np.sum(np.exp(np.sin(v).mul(2).add(1))), { device: "webgpu" });
      const gx = put(x, [n]);
      let got = NaN;
      const t = await time(async () => (got = (await f(gx).data())[0]!));
      const ref = sumRef(x);
      return { ms: t.median, err: Math.abs(got - ref) / Math.abs(ref), tol: 1e-3 };
    },
    async eager(ops, size) {
      const x = data(size, 6);
      const gx = put(x, [size]);
      let out: ArrayLike<number> = [];
      const t = await time(async () => {
        let yv = gx;
        for (let i = 0; i < ops; i++) yv = i % 2 === 0 ? yv.mul(0.999) : yv.add(0.001);
        out = await yv.data();
      });
      return { ms: t.median, err: relErr(out, eagerRef(x, ops)), tol: 1e-5 };
    },
  };
}

async function jaxjsLib(): Promise<Lib> {
  const jax = await import("@jax-js/jax");
  const { numpy: np, nn, tree, jit, valueAndGrad } = jax;
  type A = import("@jax-js/jax").Array;
  const got = await jax.init("webgpu", "wasm");
  if (!got.includes("webgpu")) throw new Error(`jax-js: init("webgpu") gave [${got.join(", ")}]`);
  const put = (a: Float32Array, shape: number[], device: "webgpu" | "wasm" = "webgpu"): A => np.array(a, { shape, device });
  type Layer = { w: A; b: A };
  // jax-js arrays are reference counted and calls consume their arguments: inputs used again are passed as `.ref`.
  const loss = (p: Layer[], x: A, y: A): A => {
    let h = x;
    p.forEach((l, i) => {
      const z = np.matmul(h, l.w).add(l.b);
      h = i + 1 < p.length ? nn.relu(z) : z;
    });
    return np.negative(np.mean(np.sum(nn.logSoftmax(h).mul(y), 1)));
  };
  const layers = (s: readonly number[], device: "webgpu" | "wasm"): Layer[] =>
    s
      .slice(1)
      .map((m, l) => ({ w: put(data(s[l]! * m, 10 + l, 1 / Math.sqrt(s[l]!)), [s[l]!, m], device), b: put(data(m, 20 + l, 0.1), [m], device) }));
  return {
    name: "jax-js",
    async matmul(n) {
      const a = data(n * n, 1),
        b = data(n * n, 2);
      const ga = put(a, [n, n]),
        gb = put(b, [n, n]);
      const mm = jit((x: A, y: A) => np.matmul(x, y));
      const t = await time(() => mm(ga.ref, gb.ref).data());
      const out = (await mm(ga.ref, gb.ref).data()) as Float32Array;
      const rows = [0, n >> 1, n - 1];
      const err = relErr(
        rows.flatMap((r) => Array.from(out.subarray(r * n, (r + 1) * n))),
        matmulRows(a, b, n, rows),
      );
      ga.dispose();
      gb.dispose();
      return { ms: t.median, err, tol: 1e-3 };
    },
    async mlp(spec) {
      const s = spec.sizes;
      const x = data(spec.batch * s[0]!, 3),
        y = oneHot(spec.batch, s[s.length - 1]!, 4);
      const step = jit(valueAndGrad(loss)) as unknown as (p: Layer[], x: A, y: A) => [A, Layer[]];
      const gp = layers(s, "webgpu"),
        gx = put(x, [spec.batch, s[0]!]),
        gy = put(y, [spec.batch, s[s.length - 1]!]);
      const t = await time(async () => {
        const [v, g] = step(tree.ref(gp), gx.ref, gy.ref);
        await v.data();
        tree.dispose(g);
      });
      const [vg, gg] = step(tree.ref(gp), gx.ref, gy.ref);
      const lossGpu = (await vg.data())[0]!;
      tree.dispose(gg);
      jax.defaultDevice("wasm");
      const [vc, gc] = valueAndGrad(loss)(layers(s, "wasm"), put(x, [spec.batch, s[0]!], "wasm"), put(y, [spec.batch, s[s.length - 1]!], "wasm"));
      jax.defaultDevice("webgpu");
      const lossCpu = vc.item() as number;
      tree.dispose(gc);
      return { ms: t.median, err: relErr([lossGpu], [lossCpu]), tol: 2e-3 };
    },
    async sum(n) {
      const x = data(n, 5);
      const f = jit((v: A) => np.sum(np.exp(np.sin(v).mul(2).add(1))));
      const gx = put(x, [n]);
      let got = NaN;
      const t = await time(async () => (got = (await f(gx.ref).data())[0]!));
      gx.dispose();
      const ref = sumRef(x);
      return { ms: t.median, err: Math.abs(got - ref) / Math.abs(ref), tol: 1e-3 };
    },
    async eager(ops, size) {
      const x = data(size, 6);
      const gx = put(x, [size]);
      let out: ArrayLike<number> = [];
      const t = await time(async () => {
        let yv = gx.ref;
        for (let i = 0; i < ops; i++) yv = i % 2 === 0 ? yv.mul(0.999) : yv.add(0.001);
        out = (await yv.data()) as Float32Array;
      });
      gx.dispose();
      return { ms: t.median, err: relErr(out, eagerRef(x, ops)), tol: 1e-5 };
    },
  };
}

/** Dawn's navigator.gpu for both libraries (Node has no navigator). */
function installNavigator(): void {
  Object.assign(globalThis, globals);
  const backend = process.env.FLUXION_WEBGPU_BACKEND;
  if (backend === "opengles") process.env.EGL_PLATFORM ??= "surfaceless";
  const gpu = create(backend ? [`backend=${backend}`] : []) as GPU;
  Object.defineProperty(globalThis, "navigator", {
    value: { gpu, userAgent: `Node.js/${process.version}`, hardwareConcurrency: 1, language: "en-US" },
    configurable: true,
    writable: true,
  });
}

type Cell = { ms: number; ok: boolean; note: string } | { failed: string };

async function measure(lib: Lib, row: string, work: () => Promise<Result>): Promise<Cell> {
  try {
    const r = await work();
    const ok = r.err <= r.tol;
    return { ms: r.ms, ok, note: ok ? "" : `check failed: error ${r.err.toExponential(2)} > ${r.tol}` };
  } catch (e) {
    return { failed: `${lib.name}: ${(e as Error).message.split("\n")[0]}` };
  }
}

const fmtCell = (c: Cell | undefined): string => (c === undefined ? "—" : "failed" in c ? "FAIL" : `${c.ms.toFixed(3)} ms${c.ok ? "" : " BAD"}`);

async function main(): Promise<void> {
  installNavigator();
  const libs: Lib[] = [await fluxionLib()];
  try {
    libs.push(await jaxjsLib());
  } catch (e) {
    console.log(`# jax-js unavailable: ${(e as Error).message}`);
  }
  const rows: { name: string; cells: Cell[] }[] = [];
  const work: [string, (l: Lib) => Promise<Result>][] = [
    ...SIZES.matmul.map((n): [string, (l: Lib) => Promise<Result>] => [`matmul ${n}`, (l) => l.matmul(n)]),
    ...SIZES.mlps.map((m): [string, (l: Lib) => Promise<Result>] => [m.name, (l) => l.mlp(m)]),
    [`sum(exp(sin(x)·2+1)) n=${SIZES.sum}`, (l) => l.sum(SIZES.sum)],
    [`eager ${SIZES.eager.ops} ops × ${SIZES.eager.size}`, (l) => l.eager(SIZES.eager.ops, SIZES.eager.size)],
  ];
  for (const [name, fn] of work) {
    const cells: Cell[] = [];
    for (const lib of libs) cells.push(await measure(lib, name, () => fn(lib)));
    rows.push({ name, cells });
  }
  const head = ["workload", ...libs.map((l) => l.name), "fluxion / jax-js", "goal", "met"];
  const table = rows.map(({ name, cells }) => {
    const [f, j] = cells;
    const ratio = f && j && !("failed" in f) && !("failed" in j) ? (f.ms / j.ms).toFixed(2) : "—";
    const goal = SMALL ? undefined : GOAL_MS[name];
    const met = goal === undefined || f === undefined || "failed" in f ? "—" : f.ms <= goal ? "yes" : "no";
    return [name, ...cells.map(fmtCell), ratio, goal === undefined ? "—" : `≤ ${goal.toFixed(2)} ms`, met];
  });
  console.log(`| ${head.join(" | ")} |\n|${head.map(() => "---").join("|")}|`);
  for (const r of table) console.log(`| ${r.join(" | ")} |`);
  const problems = rows.flatMap((r) => r.cells.flatMap((c) => ("failed" in c ? [`${r.name}: ${c.failed}`] : c.ok ? [] : [`${r.name}: ${c.note}`])));
  for (const p of problems) console.log(`# ${p}`);
  // Only fluxion's own failures fail the run; a peer's failure is reported, not fatal.
  const ownBad = rows.some((r) => {
    const c = r.cells[0]!;
    return "failed" in c || !c.ok;
  });
  process.exit(ownBad ? 1 : 0);
}

await main();
