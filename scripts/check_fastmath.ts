/**
 * Exhaustive check of the float32 fast-math functions (src/codegen/fastmath.ts) over all 2^32
 * float32 inputs:
 *  - accuracy: Math.fround(f(x)) within 1 ulp of Math.fround(Math.f(x)), NaN where that is NaN;
 *  - the WebAssembly loops (a jitted `np.f` over the same inputs) give the JavaScript function's
 *    bits exactly, which is what keeps jit = eager whichever path runs.
 * Too long for the test suite (about two minutes per function on two cores); the suite checks
 * random and hard-spot grids.
 *
 *   npm run check:fastmath             (every function)
 *   npm run check:fastmath -- exp sin  (some)
 */
import { type ChildProcess, fork } from "node:child_process";
import { availableParallelism } from "node:os";
import * as fm from "../src/codegen/fastmath.js";
import { type NDArray, jit, nn, np } from "../src/index.js";
import { wasmLoopsCompiled } from "../interpreters/jit/wasm_loop.js";

type Fn = (x: number) => number;
const FUNCTIONS: Record<string, { fast: Fn; ref: Fn; jitted: (a: NDArray) => NDArray }> = {
  exp: { fast: fm.exp32, ref: Math.exp, jitted: np.exp },
  expm1: { fast: fm.expm1_32, ref: Math.expm1, jitted: np.expm1 },
  tanh: { fast: fm.tanh32, ref: Math.tanh, jitted: np.tanh },
  logistic: {
    fast: fm.logistic32,
    ref: (a) => (a >= 0 ? 1 / (1 + Math.exp(-a)) : Math.exp(a) / (1 + Math.exp(a))),
    jitted: nn.sigmoid,
  },
  log: { fast: fm.log32, ref: Math.log, jitted: np.log },
  log1p: { fast: fm.log1p32, ref: Math.log1p, jitted: np.log1p },
  sin: { fast: fm.sin32, ref: Math.sin, jitted: np.sin },
  cos: { fast: fm.cos32, ref: Math.cos, jitted: np.cos },
};
const CHUNK = 1 << 24;
const CHUNKS = 2 ** 32 / CHUNK;

/** Position of a float32 value in the ordered list of all of them (-0 and +0 both at 0). */
const F = new Float32Array(1),
  I = new Int32Array(F.buffer);
function order(x: number): number {
  F[0] = x;
  const i = I[0]!;
  return i < 0 ? -(i & 0x7fffffff) : i;
}

interface Report {
  name: string;
  maxUlp: number;
  worst: number;
  wasmMismatches: number;
  firstMismatch: number;
}

/** Checks chunks [from, to) of the bit patterns for one function. */
function checkRange(name: string, from: number, to: number): Report {
  const { fast, ref, jitted } = FUNCTIONS[name]!;
  const wasm = jit((a: NDArray) => jitted(a));
  const report: Report = { name, maxUlp: 0, worst: NaN, wasmMismatches: 0, firstMismatch: NaN };
  const bits = new Uint32Array(CHUNK),
    xs = new Float32Array(bits.buffer);
  for (let c = from; c < to; c++) {
    for (let i = 0; i < CHUNK; i++) bits[i] = c * CHUNK + i;
    const compiled = wasmLoopsCompiled();
    const viaWasm = wasm(np.array(xs)).dataSync();
    // The first call compiles the loop: it must have become wasm, or this compares JavaScript with itself.
    if (c === from && wasmLoopsCompiled() === compiled) throw new Error(`${name}: the jitted loop did not run in WebAssembly`);
    for (let i = 0; i < CHUNK; i++) {
      const x = xs[i]!;
      const got = Math.fround(fast(x)),
        want = Math.fround(ref(x));
      if (!Object.is(viaWasm[i], got) && !(Number.isNaN(got) && Number.isNaN(viaWasm[i]))) {
        if (report.wasmMismatches++ === 0) report.firstMismatch = x;
      }
      if (got === want || (Number.isNaN(got) && Number.isNaN(want))) continue;
      const d = Number.isNaN(got) || Number.isNaN(want) ? Infinity : Math.abs(order(got) - order(want));
      if (d > report.maxUlp) Object.assign(report, { maxUlp: d, worst: x });
    }
  }
  return report;
}

if (process.argv[2] === "--child") {
  const [name, from, to] = [process.argv[3]!, Number(process.argv[4]), Number(process.argv[5])];
  process.send!(checkRange(name, from, to));
} else {
  const names = process.argv.slice(2).length > 0 ? process.argv.slice(2) : Object.keys(FUNCTIONS);
  const unknown = names.filter((n) => !Object.hasOwn(FUNCTIONS, n));
  if (unknown.length > 0) {
    console.error(`unknown function(s) ${unknown.join(", ")}; choose from ${Object.keys(FUNCTIONS).join(", ")}`);
    process.exit(2);
  }
  const workers = Math.max(1, Math.min(availableParallelism(), 8));
  let failed = false;
  for (const name of names) {
    const t0 = performance.now();
    const children: ChildProcess[] = [];
    const parts = await Promise.all(
      Array.from({ length: workers }, (_, w) => {
        const from = Math.floor((w * CHUNKS) / workers),
          to = Math.floor(((w + 1) * CHUNKS) / workers);
        return new Promise<Report>((resolve, reject) => {
          const child = fork(new URL(import.meta.url).pathname, ["--child", name, String(from), String(to)], {
            execArgv: ["--import", "tsx"],
          });
          children.push(child);
          child.once("message", (m) => resolve(m as Report));
          child.once("exit", (code) => (code === 0 ? undefined : reject(new Error(`${name}: checker exited with ${code}`))));
        });
      }),
    ).catch((e: unknown) => {
      for (const c of children) c.kill(); // the others would run on for minutes
      throw e;
    });
    const maxUlp = Math.max(...parts.map((p) => p.maxUlp));
    const worst = parts.find((p) => p.maxUlp === maxUlp)!.worst;
    const mismatches = parts.reduce((s, p) => s + p.wasmMismatches, 0);
    const first = parts.find((p) => p.wasmMismatches > 0)?.firstMismatch;
    const ok = maxUlp <= 1 && mismatches === 0;
    failed ||= !ok;
    console.log(
      `${name.padEnd(9)} max ${maxUlp} ulp${maxUlp > 0 ? ` (x = ${worst})` : ""}; wasm differs from JavaScript at ${mismatches} inputs${
        first === undefined ? "" : ` (first x = ${first})`
      }; ${((performance.now() - t0) / 1000).toFixed(0)} s ${ok ? "ok" : "FAILED"}`,
    );
  }
  process.exit(failed ? 1 : 0);
}
