/**
 * `npm run bench`: eager dispatch cost per op on a 1,000-op scalar chain (forward and grad) and
 * matmul throughput. Prints a table; targets live here, never in unit tests.
 */
import { type NDArray, grad, np } from "../src/index.js";
import { table, time } from "./util.js";

const CHAIN = 1000;

function chain(x: NDArray): NDArray {
  let y = x;
  for (let i = 0; i < CHAIN / 4; i++) y = np.sin(y).mul(0.5).add(0.25).tanh();
  return y;
}

async function main(): Promise<void> {
  const rows: (string | number)[][] = [];
  const x = np.array(0.3);

  const fwd = await time(() => chain(x).item(), 50, 10);
  rows.push(["scalar chain forward", `${CHAIN} ops`, fwd.median, (fwd.median * 1000) / CHAIN, "µs/op ≤ 1"]);
  const g = grad(chain);
  const bwd = await time(() => g(x).item(), 50, 10);
  rows.push(["scalar chain grad", `${CHAIN} ops`, bwd.median, (bwd.median * 1000) / CHAIN, "µs/op ≤ 3"]);

  for (const n of [256, 1024]) {
    const a = np.ones([n, n]), b = np.ones([n, n]);
    const t = await time(() => np.matmul(a, b).dataSync(), n >= 1024 ? 10 : 20, 2);
    rows.push([`matmul ${n} float32`, `${n}x${n}x${n}`, t.median, (2 * n ** 3) / (t.median * 1e6), "GFLOP/s"]);
  }
  console.log(table(["workload", "size", "median ms", "per unit", "unit / goal"], rows));
}

await main();
