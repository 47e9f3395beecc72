/**
 * The WebGPU check for a machine with a real GPU: which adapter we get, float32 matmul 4096
 * GFLOP/s, the MLP training step (784-256-10, batch 128, jit(valueAndGrad) on the device) and a
 * 3x3 convolution with its gradients, each checked against the CPU result. Prints one table. Run: `npx tsx scripts/gpu_check.ts`.
 */
import { devices, grad, jit, lax, nn, np, random, valueAndGrad, type NDArray } from "../src/index.js";

async function median(fn: () => Promise<unknown>, runs: number): Promise<number> {
  await fn();
  const ts: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    await fn();
    ts.push(performance.now() - t0);
  }
  return ts.sort((a, b) => a - b)[Math.floor(runs / 2)]!;
}

const available = await devices();
console.log(`devices: ${available.join(", ")}`);
if (!available.includes("webgpu")) {
  console.log("no WebGPU adapter");
  process.exit(1);
}
const rows: string[][] = [];
const [k1, k2, k3, k4] = random.split(random.key(0), 4);

for (const n of [1024, 4096]) {
  const a = random.normal(k1!, [n, n]),
    b = random.normal(k2!, [n, n]);
  const mm = jit((x: NDArray, y: NDArray) => np.matmul(x, y), { device: "webgpu" });
  const ga = a.to("webgpu"),
    gb = b.to("webgpu");
  const ms = await median(async () => (await mm(ga, gb)).data(), 5);
  // Spot-check one row against the CPU.
  const row = np.matmul(a.take(np.array([7], { dtype: "int32" }), 0), b);
  const gpuOut = await mm(ga, gb).data();
  const err = Math.max(...Array.from(row.dataSync(), (v, j) => Math.abs(v - gpuOut[7 * n + j]!) / (1 + Math.abs(v))));
  rows.push([
    `matmul ${n} float32`,
    `${ms.toFixed(2)} ms`,
    `${((2 * n ** 3) / (ms * 1e6)).toFixed(1)} GFLOP/s`,
    `max rel err ${err.toExponential(1)}`,
  ]);
}

const params = {
  w1: random.normal(k3!, [784, 256]).mul(0.05),
  b1: np.zeros([256]),
  w2: random.normal(k4!, [256, 10]).mul(0.05),
  b2: np.zeros([10]),
};
const x = random.uniform(k1!, [128, 784]);
const y = nn.oneHot(random.randint(k2!, [128], 0, 10), 10);
const loss = (p: typeof params, xb: NDArray, yb: NDArray) =>
  np.negative(np.mean(np.sum(nn.logSoftmax(np.matmul(nn.relu(np.matmul(xb, p.w1).add(p.b1)), p.w2).add(p.b2)).mul(yb), 1)));
const stepGpu = jit(valueAndGrad(loss), { device: "webgpu" });
const gp = { w1: params.w1.to("webgpu"), b1: params.b1.to("webgpu"), w2: params.w2.to("webgpu"), b2: params.b2.to("webgpu") };
const gx = x.to("webgpu"),
  gy = y.to("webgpu");
const ms = await median(async () => {
  const [v, g] = stepGpu(gp, gx, gy);
  await g.w1.data();
  return v.data();
}, 20);
const [vCpu] = valueAndGrad(loss)(params, x, y);
const [vGpu] = stepGpu(gp, gx, gy);
rows.push([
  "MLP step jit(valueAndGrad) 784-256-10 b128",
  `${ms.toFixed(2)} ms`,
  "",
  `loss gpu ${(await vGpu.data())[0]!.toFixed(5)} cpu ${vCpu.item().toFixed(5)}`,
]);
// A ResNet-style 3x3 convolution (64 -> 64 channels, 56x56, batch 32, NCHW) and its gradients,
// checked against the CPU on a batch of 2.
{
  const [k5, k6] = random.split(random.key(1), 2);
  const conv = (a: NDArray, w: NDArray) => lax.convGeneralDilated(a, w, [1, 1], "SAME");
  const w = random.normal(k5!, [64, 64, 3, 3]).mul(0.05);
  const a = random.normal(k6!, [32, 64, 56, 56]);
  const fwd = jit(conv, { device: "webgpu" });
  const bwd = jit(
    grad((a: NDArray, w: NDArray) => np.sum(np.square(conv(a, w))), { argnums: [0, 1] }),
    { device: "webgpu" },
  );
  const ga = a.to("webgpu"),
    gw = w.to("webgpu");
  const flops = 2 * 32 * 64 * 56 * 56 * 64 * 9;
  const fms = await median(async () => fwd(ga, gw).data(), 10);
  const bms = await median(async () => {
    const [dx, dw] = bwd(ga, gw) as NDArray[];
    await dx!.data();
    return dw!.data();
  }, 10);
  const small = a.index(":2");
  const want = conv(small, w).dataSync(),
    got = await fwd(small.to("webgpu"), gw).data();
  const err = Math.max(...Array.from(want, (v, j) => Math.abs(v - got[j]!) / (1 + Math.abs(v))));
  rows.push([
    "conv 3x3 64->64 56x56 b32 float32",
    `${fms.toFixed(2)} ms`,
    `${(flops / (fms * 1e6)).toFixed(1)} GFLOP/s`,
    `max rel err ${err.toExponential(1)}`,
  ]);
  rows.push(["conv grad (input and kernel), jit", `${bms.toFixed(2)} ms`, `${((2 * flops) / (bms * 1e6)).toFixed(1)} GFLOP/s`, ""]);
}
for (const r of rows) console.log(r.map((c, i) => c.padEnd(i === 0 ? 44 : 22)).join(""));
process.exit(0);
