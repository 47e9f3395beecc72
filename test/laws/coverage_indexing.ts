/**
 * Coverage entries of the indexing primitives, through the public `x.at[...]` updates: scatter
 * with "set" and "mul" on any values, "min"/"max" with updates kept apart from each other and
 * from the operand (no ties, so finite differences see a smooth function). Repeated indices are
 * drawn on purpose.
 */
import fc from "fast-check";
import { type NDArray, Prim, np, tree } from "../../src/index.js";
import { arb, makeCase } from "../../laws/index.js";
import type { PrimEntry } from "./coverage.js";

type Op = "set" | "mul" | "min" | "max";
const dt = arb.floatDType();
const squash =
  (f: (...a: NDArray[]) => NDArray) =>
  (...a: NDArray[]) =>
    tree.map((l: NDArray) => np.tanh(l), f(...a));
const update = (x: NDArray, i: NDArray, v: NDArray, op: Op): NDArray => x.at(i)[op](v);

const params = fc.record({
  n: fc.integer({ min: 1, max: 4 }),
  k: fc.integer({ min: 1, max: 3 }),
  m: fc.integer({ min: 1, max: 4 }),
  op: fc.constantFrom<Op>("set", "mul", "min", "max"),
  dtype: dt,
});

export const coverageIndexing: Partial<Record<Prim, PrimEntry>> = {
  [Prim.Scatter]: {
    cases: params.chain(({ n, k, m, op, dtype }) => {
      const extremal = op === "min" || op === "max";
      // min/max: updates are x at the index plus a distinct nonzero offset, so nothing ties.
      const f = extremal
        ? (x: NDArray, i: NDArray, d: NDArray) => update(x, i, np.add(x.index(i), d), op)
        : (x: NDArray, i: NDArray, v: NDArray) => update(x, i, v, op);
      const args = fc.tuple(
        arb.array({ shape: [n, k], dtype }),
        arb.array({ shape: [m], dtype: "int32", min: -n, max: n - 1 }),
        // mul: updates kept away from 0, where its derivative switches to counting zeros.
        arb.array({
          shape: [m, k],
          dtype,
          ...(extremal ? { distinct: 0.1, avoid: [0], margin: 0.1 } : op === "mul" ? { avoid: [0], margin: 0.1 } : {}),
        }),
      );
      const source = extremal ? `(x, i, d) => x.at(i).${op}(x[i] + d)` : `(x, i, v) => x.at(i).${op}(v)`;
      return fc
        .array(args, { minLength: 3, maxLength: 3 })
        .map(([a, ...rest]) => makeCase({ f: squash(f), args: a!, batch: rest, source: `tanh ∘ ${source} with ${JSON.stringify({ n, k, m })}` }));
    }),
  },
};
