/**
 * Coverage entries for the bit primitives behind the random generator. Each float case runs
 * x * ones(x), where ones is 1.0 rebuilt from bits: the float32 bits of x xor themselves (0),
 * shifted left and logically right (still 0), or'ed with the bits of 1.0 and bitcast back. Every
 * law then sees a smooth function whose path holds xor, both shifts and both bitcasts (zero
 * derivatives, which central differences see as constant).
 */
import fc from "fast-check";
import { type NDArray, lax, np } from "../../src/index.js";
import { type Case, arb, makeCase } from "../../laws/index.js";
import type { PrimEntry } from "./coverage.js";

/** 1.0 in x's shape and dtype, computed through the bit primitives from x's own bits. */
export function onesFromBits(x: NDArray): NDArray {
  const w = lax.bitcastConvertType(x.astype("float32"), "uint32");
  const z = np.rightShift(np.leftShift(np.bitwiseXor(w, w), 3), 1);
  return lax.bitcastConvertType(np.bitwiseOr(z, 0x3f800000), "float32").astype(x.dtype);
}

const f = (x: NDArray): NDArray => np.tanh(np.multiply(x, onesFromBits(x)));

const cases: fc.Arbitrary<Case> = fc
  .record({ s: arb.shape({ maxRank: 3, maxDim: 3 }), dtype: arb.floatDType() })
  .chain(({ s, dtype }) =>
    fc
      .array(arb.array({ shape: s, dtype }), { minLength: 3, maxLength: 3 })
      .map(([a, ...rest]) =>
        makeCase({ f, args: [a!], batch: rest.map((r) => [r]), source: `x => tanh(x * onesFromBits(x)) with ${JSON.stringify({ s, dtype })}` }),
      ),
  );

const entry: PrimEntry = { cases };

/** The entries, spread into the coverage table. */
export const randomCoverage = { xor: entry, shift_left: entry, shift_right_logical: entry, bitcast_convert_type: entry } as const;
