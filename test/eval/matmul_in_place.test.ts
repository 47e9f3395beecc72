/**
 * `matmulWasmInPlace`: products whose operands the caller writes straight into the wasm GEMM's
 * memory, against a plain triple loop written here. Its own file, so no engine exists before it: the
 * products run in an unshared memory (the input copied into it, the operands assembled there), and
 * still do after a threaded product has built the shared engine.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { configureMatmul, lastMatmulPath, matmul, type MatmulConfig } from "../../interpreters/eval/kernels/matmul.js";
import { type InPlaceProduct, matmulWasmInPlace } from "../../interpreters/eval/kernels/matmul_wasm.js";
import { rng } from "../../laws/numeric.js";

type Ctor = Float32ArrayConstructor | Float64ArrayConstructor;
type Shape = { batch: number; m: number; k: number; n: number; sharedA: boolean; sharedB: boolean };

const SHAPES: Shape[] = [
  { batch: 3, m: 5, k: 7, n: 19, sharedA: true, sharedB: false },
  { batch: 2, m: 37, k: 300, n: 16, sharedA: false, sharedB: true },
  { batch: 4, m: 2, k: 1, n: 33, sharedA: false, sharedB: false },
  { batch: 1, m: 130, k: 20, n: 1030, sharedA: true, sharedB: true },
];

/**
 * Runs one product: A_e[i, p] = input[e·m·k + i·k + p] (or the first entry's when shared), B_e
 * likewise after all the A's, each copied out of `input` element by element through the offset
 * the callback is given. Returns C and whether the callbacks read the input from the view itself.
 */
function run(Ctor: Ctor, s: Shape, seed: number): { want: Float64Array; got: Float64Array; inView: boolean } {
  const r = rng(seed);
  const aCount = s.sharedA ? 1 : s.batch,
    bCount = s.sharedB ? 1 : s.batch;
  const input = new Ctor(aCount * s.m * s.k + bCount * s.k * s.n).map(() => 2 * r() - 1);
  const bStart = aCount * s.m * s.k;
  const want = new Float64Array(s.batch * s.m * s.n);
  for (let e = 0; e < s.batch; e++) {
    const ea = s.sharedA ? 0 : e,
      eb = s.sharedB ? 0 : e;
    for (let i = 0; i < s.m; i++)
      for (let j = 0; j < s.n; j++) {
        let acc = 0;
        for (let p = 0; p < s.k; p++) acc += input[(ea * s.m + i) * s.k + p]! * input[bStart + (eb * s.k + p) * s.n + j]!;
        want[(e * s.m + i) * s.n + j] = acc;
      }
  }
  const got = new Float64Array(want.length).fill(Number.NaN);
  let inView = false;
  const p: InPlaceProduct = {
    ...s,
    input,
    a: (view, at, e, x, from) => {
      inView = x === view;
      for (let t = 0; t < s.m * s.k; t++) view[at + t] = x[from + e * s.m * s.k + t]!;
    },
    b: (view, at, e, x, from) => {
      for (let t = 0; t < s.k * s.n; t++) view[at + t] = x[from + bStart + e * s.k * s.n + t]!;
    },
    c: (view, at, e) => {
      for (let t = 0; t < s.m * s.n; t++) got[e * s.m * s.n + t] = view[at + t]!;
    },
  };
  expect(matmulWasmInPlace(Ctor === Float32Array ? "float32" : "float64", p)).toBe(true);
  return { want, got, inView };
}

function maxError(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let e = 0;
  for (let i = 0; i < a.length; i++) e = Math.max(e, Math.abs(a[i]! - b[i]!));
  return e;
}

let saved: MatmulConfig;
beforeAll(() => {
  saved = configureMatmul({ wasm: true, wasmMinWork: 0 });
});
afterAll(() => {
  configureMatmul(saved);
});

describe("matmulWasmInPlace", () => {
  it("matches the plain loop, in an unshared memory before and after a threaded product", () => {
    for (const memory of ["unshared", "after threads"]) {
      if (memory === "after threads") {
        // A threaded product builds the engine on a shared memory (where threads are available).
        configureMatmul({ threads: 2, threadMinWork: 0 });
        const x = new Float32Array(64 * 64).fill(1);
        matmul(x, x, new Float32Array(64 * 64), 1, 64, 64, 64);
        if (lastMatmulPath().threads < 2) return;
      }
      SHAPES.forEach((s, i) => {
        for (const [Ctor, tol] of [
          [Float32Array, 1e-4],
          [Float64Array, 1e-12],
        ] as const) {
          const { want, got, inView } = run(Ctor, s, 10 * i + (Ctor === Float32Array ? 1 : 2));
          expect(maxError(got, want), `${memory} ${JSON.stringify(s)}`).toBeLessThan(tol);
          // The input was copied into the (unshared) memory the view covers, also after the threaded product.
          expect(inView).toBe(true);
          expect(lastMatmulPath()).toMatchObject({ path: "wasm", threads: 1 });
        }
      });
    }
  });

  it("declines, calling nothing back, below the wasm threshold and for M or N below 2", () => {
    const never = () => {
      throw new Error("called back");
    };
    const p = { batch: 2, m: 2, k: 3, n: 4, input: new Float32Array(1), a: never, b: never, c: never };
    configureMatmul({ wasmMinWork: 1000 });
    expect(matmulWasmInPlace("float32", p)).toBe(false);
    configureMatmul({ wasmMinWork: 0 });
    expect(matmulWasmInPlace("float32", { ...p, m: 1 })).toBe(false);
    expect(matmulWasmInPlace("float64", { ...p, n: 1 })).toBe(false);
    configureMatmul({ wasm: false });
    expect(matmulWasmInPlace("float32", p)).toBe(false);
  });
});
