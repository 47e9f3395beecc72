/**
 * Coverage entries for conv_general_dilated: drawn layouts of 1 or 2 spatial dims, strides,
 * padding and dilations, through lax.convGeneralDilated (both operands differentiable).
 */
import fc from "fast-check";
import { type NDArray, Prim, lax, np } from "../../src/index.js";
import { arb, makeCase } from "../../laws/index.js";
import type { PrimEntry } from "./coverage.js";

const tanhAll = (x: NDArray) => np.tanh(x);

const params = fc.record({
  nd: fc.constantFrom(1, 2),
  n: fc.integer({ min: 1, max: 2 }),
  c: fc.integer({ min: 1, max: 2 }),
  o: fc.integer({ min: 1, max: 2 }),
  s: fc.integer({ min: 2, max: 4 }),
  k: fc.integer({ min: 1, max: 2 }),
  stride: fc.integer({ min: 1, max: 2 }),
  dil: fc.integer({ min: 1, max: 2 }),
  padding: fc.constantFrom("SAME" as const, "VALID" as const),
  dtype: arb.floatDType(),
});

export const convCoverage: Partial<Record<Prim, PrimEntry>> = {
  [Prim.ConvGeneralDilated]: {
    cases: params.chain((p) => {
      const xs = [p.n, p.c, ...Array<number>(p.nd).fill(p.s)];
      const ws = [p.o, p.c, ...Array<number>(p.nd).fill(p.k)];
      const strides = Array<number>(p.nd).fill(p.stride);
      const f = (x: NDArray, w: NDArray) =>
        tanhAll(lax.convGeneralDilated(x, w, strides, p.padding, { rhsDilation: Array<number>(p.nd).fill(p.dil) }));
      const args = fc.tuple(arb.array({ shape: xs, dtype: p.dtype }), arb.array({ shape: ws, dtype: p.dtype }));
      return fc
        .array(args, { minLength: 3, maxLength: 3 })
        .map(([a, ...rest]) => makeCase({ f, args: a!, batch: rest, source: `tanh ∘ lax.convGeneralDilated with ${JSON.stringify(p)}` }));
    }),
  },
};
