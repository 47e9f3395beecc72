/**
 * Products reading their operands through broadcasts and transposes under jit (`viewDots`): the
 * chains read only by products are absorbed and the operand read with composed strides (stride 0
 * along broadcast axes); the jitted result has the eager (materialising) result's bits, also where
 * the strided kernel declines and the step materialises the operands itself.
 */
import { describe, expect, it } from "vitest";
import { type DType, type NDArray, jit, lax, makeJaxpr, np, vmap } from "../../src/index.js";
import { viewDots } from "../../interpreters/jit/dot_views.js";
import { fusionFacts } from "../../src/ir/fusion.js";
import { isElementwise } from "../../src/codegen/js_expr.js";
import { configureMatmul } from "../../interpreters/eval/kernels/matmul.js";

/** Deterministic values of `shape` in `dtype`, full-mantissa for floats (so a changed order of additions shows). */
function values(shape: number[], seed: number, dtype: DType): NDArray {
  const n = shape.reduce((a, b) => a * b, 1);
  const v = Array.from({ length: n }, (_, i) => {
    const k = Math.sin(i * 12.9898 + seed * 78.233) * 43758.5453;
    return dtype === "int32" ? Math.floor((k - Math.floor(k)) * 19) - 9 : (k - Math.floor(k)) * 2 - 1;
  });
  return np.array(v, { dtype }).reshape(shape);
}

const bits = (x: NDArray) => Array.from(new Uint8Array((x.dataSync() as Float32Array).slice().buffer));

/** An ensemble's layer and its weight gradient: the data unbatched, the weights batched. */
const layer = (x: NDArray, w: NDArray) => np.matmul(x, w);
const weightGrad = (x: NDArray, g: NDArray) => np.matmul(np.transpose(x), g);

describe("products through broadcasts and transposes under jit", () => {
  for (const dtype of ["float32", "float64", "int32"] as const)
    it(`vmapped products with an unbatched operand, ${dtype}: jit gives eager's bits`, () => {
      const x = values([64, 16], 1, dtype),
        w = values([8, 16, 32], 2, dtype),
        g = values([8, 64, 32], 3, dtype);
      const cases: [string, (...a: NDArray[]) => NDArray, NDArray[]][] = [
        ["layer", vmap(layer, { inAxes: [null, 0] }), [x, w]],
        ["weight gradient (transposed data)", vmap(weightGrad, { inAxes: [null, 0] }), [x, g]],
        // A broadcast read by two products and a transposed batched operand.
        [
          "shared broadcast, transposed operand",
          (a, b) => {
            const ab = lax.broadcastInDim(a, [8, 64, 16], [1, 2]);
            const p = lax.dotGeneral(ab, b, [
              [[2], [1]],
              [[0], [0]],
            ]);
            const q = lax.dotGeneral(ab, np.transpose(b, [0, 2, 1]), [
              [[2], [2]],
              [[0], [0]],
            ]);
            return np.add(p, q);
          },
          [x, w],
        ],
        // A size-1 axis broadcast along a batch dim: read with stride 0 there.
        [
          "size-1 axis",
          (a, b) =>
            lax.dotGeneral(lax.broadcastInDim(a.reshape([1, 64, 16]), [8, 64, 16], [0, 1, 2]), b, [
              [[2], [1]],
              [[0], [0]],
            ]),
          [x, w],
        ],
        // A broadcast also read by a reduction: materialised, the product reads the copy.
        [
          "size-1 axis, broadcast also read elementwise",
          (a, b) => {
            const a1 = lax.broadcastInDim(a.reshape([1, 64, 16]), [8, 64, 16], [0, 1, 2]);
            const p = lax.dotGeneral(a1, b, [
              [[2], [1]],
              [[0], [0]],
            ]);
            return np.add(p, np.sum(a1, 2).reshape([8, 64, 1]));
          },
          [x, w],
        ],
      ];
      for (const [name, f, args] of cases) {
        const want = f(...args),
          got = jit(f)(...args);
        expect(got.shape, name).toEqual(want.shape);
        expect(bits(got), name).toEqual(bits(want));
      }
    });

  it("gives eager's bits where the strided kernel declines (wasm off) and the operands are materialised", () => {
    const saved = configureMatmul({ wasm: false });
    try {
      const x = values([64, 16], 4, "float32"),
        g = values([8, 64, 32], 5, "float32");
      const f = vmap(weightGrad, { inAxes: [null, 0] });
      expect(bits(jit(f)(x, g))).toEqual(bits(f(x, g)));
    } finally {
      configureMatmul(saved);
    }
  });

  it("absorbs the broadcast and transpose of the data and reads it with stride 0 along the batch axis", () => {
    const x = np.zeros([64, 16]),
      g = np.zeros([8, 64, 32]);
    const p = makeJaxpr(vmap(weightGrad, { inAxes: [null, 0] }))(x, g).program;
    const { consumers, outputs } = fusionFacts(p, isElementwise);
    const { dots, absorbed } = viewDots(p, consumers, outputs);
    expect([...absorbed].map((e) => e.prim).sort()).toEqual(["broadcast_in_dim", "transpose"]);
    const [dot] = [...dots.values()];
    // The data x [64, 16] read as the [8, 16, 64] broadcast of its transpose.
    expect(dot!.views[0].source).toBe(p.invars[0]);
    expect(dot!.views[0].strides).toEqual([0, 1, 16]);
    expect(dot!.views[1].source).toBe(p.invars[1]);
    expect(dot!.views[1].strides).toEqual([2048, 32, 1]);
    // A program output is never absorbed.
    const q = makeJaxpr((a: NDArray) => {
      const b = lax.broadcastInDim(a, [2, 64, 16], [1, 2]);
      return [
        b,
        lax.dotGeneral(b, b, [
          [[2], [2]],
          [[0], [0]],
        ]),
      ];
    })(x).program;
    const facts = fusionFacts(q, isElementwise);
    expect(viewDots(q, facts.consumers, facts.outputs).absorbed.size).toBe(0);
  });
});
