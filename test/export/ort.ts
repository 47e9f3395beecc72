/**
 * Test helpers: run an exported model in onnxruntime-node on fluxion arrays, and compare outputs
 * with fluxion's eager results within the dtype's tolerance.
 */
import * as ort from "onnxruntime-node";
import { expect } from "vitest";
import { type NDArray, np, tree } from "../../src/index.js";

const ORT_TYPE = { float32: "float32", float64: "float64", int32: "int32", uint32: "uint32", bool: "bool" } as const;

/** An ONNX Runtime tensor holding a copy of `x`. */
export function toOrt(x: NDArray): ort.Tensor {
  return new ort.Tensor(ORT_TYPE[x.dtype as keyof typeof ORT_TYPE], x.dataSync() as never, x.shape.slice());
}

/** Runs `bytes` on the array leaves of `args` (inputs named input_0, ...); returns the outputs in order. */
export async function runOnnx(
  bytes: Uint8Array,
  args: unknown[],
): Promise<{ data: ArrayLike<number | bigint | boolean>; dims: readonly number[] }[]> {
  const session = await ort.InferenceSession.create(bytes);
  const [leaves] = tree.flatten(args);
  const feeds: Record<string, ort.Tensor> = {};
  (leaves as NDArray[]).forEach((l, i) => (feeds[`input_${i}`] = toOrt(l)));
  const out = await session.run(feeds);
  const res = session.outputNames.map((n) => out[n]!);
  await session.release();
  return res as never;
}

/** Tolerances per dtype: float32 loose (ONNX Runtime's kernels round differently), float64 tight. */
export function tolOf(dtype: string): { rtol: number; atol: number } {
  return dtype === "float32" ? { rtol: 2e-4, atol: 2e-5 } : dtype === "float64" ? { rtol: 1e-9, atol: 1e-12 } : { rtol: 0, atol: 0 };
}

/** Asserts an ONNX output equals a fluxion array: same shape, values within the dtype's tolerance. */
export function expectClose(
  got: { data: ArrayLike<number | bigint | boolean>; dims: readonly number[] },
  want: NDArray,
  what: string,
  scale = 1,
): void {
  expect(got.dims.slice(), `${what}: shape`).toEqual(want.shape);
  const w = want.dataSync();
  const { rtol, atol } = tolOf(want.dtype);
  for (let i = 0; i < w.length; i++) {
    const g = Number(got.data[i]);
    const x = w[i]!;
    if (Number.isNaN(x)) {
      expect(Number.isNaN(g), `${what}[${i}]: want NaN, got ${g}`).toBe(true);
      continue;
    }
    if (!Number.isFinite(x)) {
      expect(g, `${what}[${i}]`).toBe(x);
      continue;
    }
    const ok = Math.abs(g - x) <= atol * scale + rtol * Math.abs(x);
    expect(ok, `${what}[${i}]: ONNX ${g} vs fluxion ${x}`).toBe(true);
  }
}

/** An `OnnxRunner` for the laws: onnxruntime-node, outputs as fluxion arrays. */
export async function ortRunner(model: Uint8Array, inputs: NDArray[]): Promise<NDArray[]> {
  const session = await ort.InferenceSession.create(model);
  const feeds: Record<string, ort.Tensor> = {};
  inputs.forEach((l, i) => (feeds[`input_${i}`] = toOrt(l)));
  const out = await session.run(feeds);
  const res = session.outputNames.map((n) => {
    const t = out[n]!;
    const dtype = t.type === "float64" ? "float64" : t.type === "int32" ? "int32" : t.type === "bool" ? "bool" : "float32";
    const data = dtype === "bool" ? Array.from(t.data as Uint8Array, Boolean) : Array.from(t.data as Float32Array);
    return np.array(data as number[], { dtype }).reshape(t.dims.slice());
  });
  await session.release();
  return res;
}
