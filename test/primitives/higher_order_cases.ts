/**
 * Table cases of the higher-order primitives. `jit_call` runs a staged program; each case stages a
 * small program written directly with `bind` (so it holds exactly the primitives named) with
 * `makeJaxpr` on operands of the run's float dtype, and checks it against a naive reference of
 * the whole program. The references do not call the library.
 */
import { type NDArray, Prim, bind, bind1, makeJaxpr, np } from "../../src/index.js";
import {
  type FloatDType, type Host, type Operand, type PrimCase, Rng, at, build, distinct, ints, uni, zipMap,
} from "./cases_util.js";

export type HigherOrderPrim = Prim.JitCall;

type JC = PrimCase<Prim.JitCall>;
const E = {} as Record<string, never>;

const nd = (o: Operand): NDArray => np.array(Float64Array.from(o.data), { shape: o.shape, dtype: o.dtype });

/** A jit_call case: `fn` is staged on operands shaped like `make`'s. */
function jitCase(name: string, make: (rng: Rng, fdt: FloatDType) => Operand[], fn: (fdt: FloatDType) => (...xs: NDArray[]) => NDArray[], rest: Omit<JC, "name" | "make" | "params">): JC {
  return {
    name,
    make,
    params: (fdt) => {
      const program = makeJaxpr(fn(fdt))(...make(new Rng(1), fdt).map(nd));
      return { program, name: name.split(":")[0]! };
    },
    ...rest,
  };
}

/** A staged constant of the program in case "x * c": exactly representable in float32. */
const C = [0.5, -1.5, 2];

export const higherOrderCases: { [P in HigherOrderPrim]: PrimCase<P>[] } = {
  [Prim.JitCall]: [
    jitCase(
      "nonlinear: sin(x) * y + x, [2,3]",
      (rng, fdt) => [uni(rng, [2, 3], fdt, -2, 2), uni(rng, [2, 3], fdt, -2, 2)],
      () => (x, y) => [bind1(Prim.Add, [bind1(Prim.Mul, [bind1(Prim.Sin, [x], E), y], E), x], E)],
      { ref: ([x, y]) => zipMap([x!, y!], (a, b) => Math.sin(a) * b + a), diff: [0, 1] },
    ),
    jitCase(
      "two outputs: [reduce_sum(x, [1]), x - y]",
      (rng, fdt) => [uni(rng, [2, 3], fdt), uni(rng, [2, 3], fdt)],
      () => (x, y) => bind(Prim.ReduceSum, [x], { axes: [1] }).concat(bind(Prim.Sub, [x, y], E)),
      {
        ref: ([x, y]): Host[] => [build([2], ([i]) => at(x!, [i!, 0]) + at(x!, [i!, 1]) + at(x!, [i!, 2])), zipMap([x!, y!], (a, b) => a - b)],
        diff: [0, 1],
        linear: [[0, 1], [1]],
      },
    ),
    jitCase(
      "closes over a constant: x * c, [2,3]",
      (rng, fdt) => [uni(rng, [2, 3], fdt)],
      (fdt) => (x) => [bind1(Prim.Mul, [x, bind1(Prim.BroadcastInDim, [np.array(C, { dtype: fdt })], { shape: [2, 3], broadcastDimensions: [1] })], E)],
      { ref: ([x]) => build([2, 3], ([i, j]) => at(x!, [i!, j!]) * C[j!]!), diff: [0], linear: [[0]] },
    ),
    jitCase(
      "int operand, mixed outputs: [gather(x, idx, axis 1), argmax(x, 1)]",
      (rng, fdt) => [distinct(rng, [2, 4], fdt), ints(rng, [3], 0, 3)],
      () => (x, idx) => [bind1(Prim.Gather, [x, idx], { axis: 1, batchDims: 0 }), bind1(Prim.ArgMax, [x], { axis: 1 })],
      {
        ref: ([x, idx]) => [
          build([2, 3], ([i, k]) => at(x!, [i!, idx!.data[k!]!])),
          build([2], ([i]) => [0, 1, 2, 3].reduce((best, j) => (at(x!, [i!, j]) > at(x!, [i!, best]) ? j : best), 0)),
        ],
        outDtype: ([x]) => [x!.dtype, "int32"],
        diff: [0],
      },
    ),
  ],
};
