/**
 * Control flow on the device. `cond`: an index on the CPU picks its branch; an index on the device
 * cannot be read synchronously, so every branch runs and a kernel selects by the clamped index
 * (correct because branches have no side effects). `scan`: a host loop over the static length;
 * each step slices xs and writes ys with copy kernels whose offsets come from the step number, all
 * recorded into the caller's batch.
 */
import { type Aval, ConcreteArray, type NDArray } from "../../src/core/ndarray.js";
import type { Prim, PrimParams } from "../../src/core/prim.js";
import type { ClosedProgram } from "../../src/ir/ir.js";
import { type GpuArray, type GpuBackend, empty, onDevice } from "./array.js";
import { copyStrided } from "./kernels/copy.js";
import { pickBranch } from "./kernels/gather.js";
import { executable } from "./programs.js";

export function runCond(be: GpuBackend, args: readonly NDArray[], branches: readonly ClosedProgram[], outs: readonly Aval[]): GpuArray[] {
  const [index, ...ops] = args;
  const clampIndex = (i: number) => Math.min(Math.max(i, 0), branches.length - 1);
  if (index instanceof ConcreteArray) return executable(be, branches[clampIndex(Number(index.values[0]))]!)(ops);
  const results = branches.map((b) => executable(be, b)(ops));
  if (results.length === 1) return results[0]!;
  const idx = onDevice(be, index!, "cond");
  const picked = outs.map((aval, k) => {
    let acc = results[0]![k]!;
    for (let j = 1; j < results.length; j++) {
      const o = empty(be, aval);
      pickBranch(idx, j, acc, results[j]![k]!, o);
      if (j > 1) acc.dispose();
      acc = o;
    }
    return acc;
  });
  for (const r of results) r.forEach((a, k) => picked[k] !== a && a.dispose());
  return picked;
}

export function runScan(be: GpuBackend, args: readonly NDArray[], params: PrimParams[Prim.Scan], outs: readonly Aval[]): GpuArray[] {
  const { body, length, reverse, numConsts, numCarry } = params;
  const exe = executable(be, body);
  const consts = args.slice(0, numConsts).map((a) => onDevice(be, a, "scan"));
  const xs = args.slice(numConsts + numCarry).map((a) => onDevice(be, a, "scan"));
  let carry = args.slice(numConsts, numConsts + numCarry).map((a) => onDevice(be, a, "scan"));
  let owned = false;
  const ys = outs.slice(numCarry).map((a) => empty(be, a));
  const xSize = xs.map((x) => (length === 0 ? 0 : x.size / length));
  for (let s = 0; s < length; s++) {
    const t = reverse ? length - 1 - s : s;
    const xt = xs.map((x, j) => {
      const o = empty(be, { shape: x.shape.slice(1), dtype: x.dtype });
      copyStrided(x, t * xSize[j]!, [1], o, 0, [1], [xSize[j]!]);
      return o;
    });
    const res = exe([...consts, ...carry, ...xt]);
    for (const x of xt) x.dispose();
    if (owned) for (const c of carry) c.dispose();
    carry = res.slice(0, numCarry);
    owned = true;
    res.slice(numCarry).forEach((y, j) => {
      copyStrided(y, 0, [1], ys[j]!, t * y.size, [1], [y.size]);
      y.dispose();
    });
  }
  return [...(owned ? carry : carry.map((c) => c.view())), ...ys];
}
