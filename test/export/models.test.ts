/**
 * Whole programs through ONNX Runtime: the demo MLP's forward pass, its gradient
 * (`jit(valueAndGrad(loss))`) and a full SGD training step, and a scan-based RNN (forward and
 * gradient); each agrees with fluxion's eager result. Also the export's own contract: input and
 * output names, float64 as DOUBLE, typed errors for bad options.
 */
import * as ort from "onnxruntime-node";
import { describe, expect, it } from "vitest";
import { ArgumentError, type NDArray, exportOnnx, exportOnnxWith, grad, jit, lax, np, random, tree, valueAndGrad } from "../../src/index.js";
import { type MlpParams, crossEntropy, initMlp, predict } from "../../examples/mlp.js";
import { expectClose, runOnnx, toOrt } from "./ort.js";

const batch = (seed: number, n: number, d: number, classes: number) => {
  const [k1, k2] = random.split(random.key(seed));
  const x = random.normal(k1!, [n, d]);
  const labels = random.uniform(k2!, [n]).mul(classes).astype("int32");
  const y = np.equal(np.expandDims(labels, 1), np.arange(classes).astype("int32")).astype("float32");
  return { x, y };
};

async function expectSame(f: (...a: any[]) => unknown, args: unknown[], scale = 1): Promise<void> {
  const [want] = tree.flatten(f(...args));
  const got = await runOnnx(exportOnnx(f, ...args), args);
  expect(got.length).toBe(want.length);
  want.forEach((w, i) => expectClose(got[i]!, w as NDArray, `output ${i}`, scale));
}

describe("exported MLP (examples/mlp.ts)", () => {
  const params = initMlp(0, 12, 16, 4);
  const { x, y } = batch(1, 8, 12, 4);
  it("forward pass", async () => expectSame(predict, [params, x]));
  it("loss and gradient: jit(valueAndGrad(loss))", async () => expectSame(jit(valueAndGrad(crossEntropy)), [params, x, y]));
  it("one SGD training step", async () => {
    const step = (p: MlpParams, xb: NDArray, yb: NDArray) => {
      const [loss, g] = valueAndGrad(crossEntropy)(p, xb, yb);
      return [loss, tree.map((w: NDArray, d: NDArray) => w.sub(d.mul(0.1)), p, g)];
    };
    await expectSame(jit(step), [params, x, y]);
  });
  it("float64 parameters export as DOUBLE", async () => {
    const p64: MlpParams = {
      w1: params.w1.astype("float64"),
      b1: params.b1.astype("float64"),
      w2: params.w2.astype("float64"),
      b2: params.b2.astype("float64"),
    };
    await expectSame(predict, [p64, x.astype("float64")]);
  });
});

describe("exported scan RNN", () => {
  const [k1, k2, k3] = random.split(random.key(7), 3);
  const w = random.normal(k1!, [5, 5]).mul(0.4);
  const u = random.normal(k2!, [3, 5]).mul(0.4);
  const xs = random.normal(k3!, [6, 3]);
  const rnn = (w: NDArray, u: NDArray, xs: NDArray, reverse: boolean) =>
    lax.scan(
      (h: NDArray, x: NDArray) => {
        const hn = np.tanh(np.matmul(h, w).add(np.matmul(x, u)));
        return [hn, np.sum(hn)];
      },
      np.zeros([5]),
      xs,
      { reverse },
    );
  it("forward, both directions", async () => {
    await expectSame((w: NDArray, u: NDArray, xs: NDArray) => rnn(w, u, xs, false), [w, u, xs]);
    await expectSame((w: NDArray, u: NDArray, xs: NDArray) => rnn(w, u, xs, true), [w, u, xs]);
  });
  it("gradient of the final state's loss", async () => {
    const loss = (w: NDArray, u: NDArray, xs: NDArray) => {
      const [h, ys] = rnn(w, u, xs, false) as [NDArray, NDArray];
      return np.sum(np.square(h)).add(np.sum(ys));
    };
    await expectSame(grad(loss, { argnums: [0, 1] }), [w, u, xs]);
  });
  it("while loop and cond", async () => {
    const f = (x: NDArray) => {
      const [, y] = lax.whileLoop(
        (c: [NDArray, NDArray]) => np.less(c[0], 5),
        (c: [NDArray, NDArray]) => [c[0].add(1), np.sin(c[1]).mul(1.5)],
        [np.array(0, { dtype: "int32" }), x],
      );
      return lax.cond(
        np.greater(np.sum(y), 0),
        (v: NDArray) => v.mul(2),
        (v: NDArray) => np.exp(v),
        y,
      );
    };
    await expectSame(f, [np.array([0.3, -0.2, 1.1])]);
    await expectSame(f, [np.array([-2.3, -0.2, 0.1])]);
  });
});

describe("exportOnnx options and errors", () => {
  it("names inputs and outputs as asked", async () => {
    const bytes = exportOnnxWith(
      (a: NDArray, b: NDArray) => [a.add(b), a.mul(b)],
      { inputNames: ["a", "b"], outputNames: ["sum", "prod"] },
      np.ones([2]),
      np.ones([2]),
    );
    const s = await ort.InferenceSession.create(bytes);
    expect([s.inputNames, s.outputNames]).toEqual([
      ["a", "b"],
      ["sum", "prod"],
    ]);
    const out = await s.run({ a: toOrt(np.array([1, 2])), b: toOrt(np.array([3, 4])) });
    expect(Array.from(out.prod!.data as Float32Array)).toEqual([3, 8]);
  });
  it("refuses bad names and options with ArgumentError", () => {
    const f = (a: NDArray) => a.add(1);
    expect(() => exportOnnxWith(f, { inputNames: ["a b"] }, np.ones([2]))).toThrow(ArgumentError);
    expect(() => exportOnnxWith(f, { inputNames: ["a", "b"] }, np.ones([2]))).toThrow(/1 distinct identifiers/);
    expect(() => exportOnnxWith(f, { opset: 9 } as never, np.ones([2]))).toThrow(ArgumentError);
    expect(() => (exportOnnx as (f: unknown, ...a: unknown[]) => Uint8Array)(42, np.ones([2]))).toThrow(ArgumentError);
  });
});
