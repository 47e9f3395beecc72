/**
 * Table cases of the bit primitives behind the random generator (xor, the shifts, the 32-bit
 * bitcast), on int32 and uint32 operands, each with a naive reference written here.
 */
import { Prim } from "../../src/index.js";
import { type Operand, type PrimCase, type Rng, operand, zipMap } from "./cases_util.js";

type BitPrim = Prim.Xor | Prim.ShiftLeft | Prim.ShiftRightLogical | Prim.BitcastConvertType;
type NP = PrimCase<any>;
const E = {} as Record<string, never>;

const words = (rng: Rng, shape: number[], dtype: "int32" | "uint32"): Operand => operand(shape, dtype, () => Math.floor(rng.next() * 4294967296));
const counts = (rng: Rng, shape: number[], dtype: "int32" | "uint32"): Operand => operand(shape, dtype, () => rng.int(0, 40));

/** A reference that wraps its 32-bit result to the operand dtype. */
const wrap = (dtype: string, v: number): number => (dtype === "uint32" ? v >>> 0 : v | 0);

function bitCases(f: (a: number, b: number) => number, second: typeof words): NP[] {
  return (["uint32", "int32"] as const).flatMap((dt) =>
    [
      ["[3,4]", [3, 4]],
      ["scalar", []],
    ].map(([label, shape]) => ({
      name: `${dt} ${label as string}`,
      make: (rng: Rng) => [words(rng, shape as number[], dt), second(rng, shape as number[], dt)],
      params: E,
      ref: (xs: Operand[]) => zipMap(xs, (a, b) => wrap(dt, f(a, b))),
      diff: [],
      zeroDerivative: true,
    })),
  );
}

/** Shifts by 32 or more give 0 (XLA), unlike JS's count mod 32. */
const shl = (a: number, s: number) => (s >= 32 ? 0 : Number((BigInt(a >>> 0) << BigInt(s)) & 0xffffffffn));
const shr = (a: number, s: number) => (s >= 32 ? 0 : Math.floor((a >>> 0) / 2 ** s));

/** float32 <-> uint32 bit patterns via a DataView (independent of the library's scratch words). */
const view = new DataView(new ArrayBuffer(4));
const f2u = (x: number) => (view.setFloat32(0, x), view.getUint32(0));
const u2f = (u: number) => (view.setUint32(0, u >>> 0), view.getFloat32(0));

export const randomCases: { [P in BitPrim]: PrimCase<P>[] } = {
  [Prim.Xor]: bitCases((a, b) => a ^ b, words),
  [Prim.ShiftLeft]: bitCases(shl, counts),
  [Prim.ShiftRightLogical]: bitCases(shr, counts),
  [Prim.BitcastConvertType]: [
    {
      name: "float32 -> uint32",
      make: (rng) => [operand([2, 3], "float32", () => rng.uniform(-3, 3))],
      params: { dtype: "uint32" },
      ref: ([x]) => zipMap([x!], f2u),
      outDtype: () => "uint32",
      diff: [],
      zeroDerivative: true,
    },
    {
      name: "uint32 -> float32 (exponent bits of [1, 2))",
      make: (rng) => [operand([4], "uint32", () => 0x3f800000 + Math.floor(rng.next() * 0x800000))],
      params: { dtype: "float32" },
      ref: ([x]) => zipMap([x!], u2f),
      outDtype: () => "float32",
      diff: [],
      zeroDerivative: true,
    },
    {
      name: "int32 -> uint32",
      make: (rng) => [words(rng, [5], "int32")],
      params: { dtype: "uint32" },
      ref: ([x]) => zipMap([x!], (v) => v >>> 0),
      outDtype: () => "uint32",
      diff: [],
      zeroDerivative: true,
    },
  ],
};
