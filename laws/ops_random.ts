/**
 * Random-program ops over the bit primitives behind fluxion's random generator: x times 1.0 rebuilt
 * from x's own float32 bits (xor with itself, shifts, or with the bits of 1.0, bitcast back), so
 * xor, shift_left, shift_right_logical and bitcast_convert_type are drawn inside jit, scan, cond,
 * checkpoint and customJvp bodies under every transform, with a smooth overall value.
 */
import { Prim } from "../src/index.js";
import { type Builder, DT } from "./builder.js";
import { type OpDef, type Shape, defineOp } from "./ops_elementwise.js";

interface Same {
  shape: Shape;
}

/** 1.0 in x's shape and dtype through the bit primitives (their derivatives are zero). */
function onesFromBits<T>(b: Builder<T>, x: T): T {
  const w = b.bind(Prim.BitcastConvertType, [b.call("np.astype", x, "float32")], { dtype: "uint32" });
  const z = b.call("np.rightShift", b.call("np.leftShift", b.call("np.bitwiseXor", w, w), 3), 1);
  return b.bind(Prim.BitcastConvertType, [b.call("np.bitwiseOr", z, 0x3f800000)], { dtype: "float32" });
}

export const randomOps: OpDef[] = [
  defineOp<Same>({
    name: "bitsOne",
    arity: 1,
    plan: ([s]) => ({ params: { shape: s! }, shape: s! }),
    build: (b, [x]) => b.call("np.multiply", x!, b.call("np.astype", onesFromBits(b, x!), DT)),
  }),
];
