/**
 * Indexing on the WebGPU backend: x.index, every x.at[] update (repeated and out-of-range
 * indices: "set" keeps the last write there too) and their gradients, jitted onto the device,
 * equal the CPU results.
 */
import { describe, it } from "vitest";
import { type NDArray, grad, jit, np } from "../../src/index.js";
import { expectSame, requireAdapterInCI, runGpu } from "../webgpu/setup.js";

requireAdapterInCI();

describe.runIf(runGpu)("indexing on webgpu == cpu", () => {
  const x = np.array([
    [0.5, -1, 2, 3],
    [-0.25, 1.5, 0.75, -2],
    [1, 0, -0.5, 0.25],
  ]);
  const idx = np.array([2, 0, 2, -1, 7], { dtype: "int32" });
  const u = np.array([
    [1, 2, 3, 4],
    [-1, -2, -3, -4],
    [0.5, 0.25, 0.125, 2],
    [9, 8, 7, 6],
    [5, 5, 5, 5],
  ]);
  const fns: [string, (x: NDArray, i: NDArray, u: NDArray) => NDArray][] = [
    ["index", (x, i) => x.index(i, "::-1")],
    ["set", (x, i, u) => x.at(i).set(u)],
    ["add", (x, i, u) => x.at(i).add(u)],
    ["mul", (x, i, u) => x.at(i).mul(u)],
    ["min", (x, i, u) => x.at(i).min(u)],
    ["max", (x, i, u) => x.at(i).max(u)],
  ];
  for (const [name, f] of fns)
    it(`${name}: values and gradient`, async () => {
      await expectSame(name, jit(f, { device: "webgpu" })(x, idx, u), f(x, idx, u));
      const loss = (x: NDArray, i: NDArray, u: NDArray) => np.sum(np.sin(f(x, i, u)));
      await expectSame(`grad ${name}`, jit(grad(loss), { device: "webgpu" })(x, idx, u), grad(loss)(x, idx, u), 1e-4, 1e-6);
    });
});
