/**
 * Memory held for reverse mode by a deep network, with and without checkpointing: 1,000 tanh
 * layers of width 256 (batch 64, one shared weight matrix). After `vjp` returns, the backward
 * function holds the residuals; we measure the typed-array memory it keeps alive (after GC), and
 * check both versions give the same gradient. Run: `npm run bench:memory`.
 */
import { type NDArray, checkpointChain, np, random, vjp } from "../src/index.js";

const DEPTH = 1000,
  WIDTH = 256,
  BATCH = 64;
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error("run with node --expose-gc");

const [kw, kx] = random.split(random.key(0), 2);
const w = random.normal(kw!, [WIDTH, WIDTH]).mul(1 / Math.sqrt(WIDTH));
const x = random.normal(kx!, [BATCH, WIDTH]);
const layer = (h: NDArray) => np.tanh(np.matmul(h, w));
const layers = Array.from({ length: DEPTH }, () => layer);
const plain = (h: NDArray) => layers.reduce((y, l) => l(y), h);

/** Typed-array (external) memory after GC; backing stores are freed a tick after collection. */
const external = async () => {
  for (let i = 0; i < 4; i++) {
    gc!();
    await new Promise((r) => setTimeout(r, 20));
  }
  return process.memoryUsage().arrayBuffers;
};

/** Typed-array memory kept alive by the backward function alone (measured by releasing it). */
async function held(f: (h: NDArray) => NDArray): Promise<{ mib: number; grad: NDArray }> {
  const [out, pullback] = vjp(f, x) as [NDArray, (ct: NDArray) => NDArray[]];
  let pull: ((ct: NDArray) => NDArray[]) | null = pullback;
  const [g] = pull(np.onesLike(out));
  const withPull = await external();
  // Drop the only reference to the backward function (and what it holds) before measuring again.
  pull = null;
  void pull;
  const without = await external();
  return { mib: (withPull - without) / 2 ** 20, grad: g! };
}

const activation = (BATCH * WIDTH * 4) / 2 ** 20;
const base = await held(plain);
const rows: [string, number][] = [["no checkpointing", base.mib]];
for (const every of [Math.ceil(Math.sqrt(DEPTH)), 100]) {
  const r = await held(checkpointChain(layers, { every }));
  const diff = np.max(np.abs(r.grad.sub(base.grad))).item();
  if (diff > 1e-5) throw new Error(`checkpointed gradient differs by ${diff}`);
  rows.push([`checkpointChain every ${every} (${Math.ceil(DEPTH / every)} blocks)`, r.mib]);
}
console.log(`${DEPTH} tanh layers, width ${WIDTH}, batch ${BATCH}; one activation = ${activation.toFixed(3)} MiB`);
for (const [name, mib] of rows)
  console.log(`${name.padEnd(40)} ${mib.toFixed(1).padStart(8)} MiB held for the backward pass (${(mib / activation).toFixed(0)} activations)`);
