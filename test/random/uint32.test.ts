/**
 * The uint32 dtype and the bit operations: wrapping arithmetic (Math.imul semantics), and/or/xor/not,
 * shifts (0 at 32 or more), the 32-bit bitcast, promotion (JAX with 64-bit types off), conversion,
 * printing, eager vs jit (fused loops) vs vmap. References are written here with BigInt.
 */
import { describe, expect, it } from "vitest";
import { type NDArray, grad, jit, lax, np, vmap } from "../../src/index.js";

const vals = (x: NDArray): number[] => Array.from(x.dataSync(), Number);
const u = (a: number[]) => np.array(a, { dtype: "uint32" });
const A = [0, 1, 0x7fffffff, 0x80000000, 0xffffffff, 0xdeadbeef, 12345];
const B = [5, 0xffffffff, 2, 0x80000001, 0xffffffff, 0x12345678, 3];
const big = (f: (a: bigint, b: bigint) => bigint) => A.map((a, i) => Number(f(BigInt(a), BigInt(B[i]!)) & 0xffffffffn));

describe("uint32 arithmetic wraps mod 2^32", () => {
  const cases: [string, (x: NDArray, y: NDArray) => NDArray, (a: bigint, b: bigint) => bigint][] = [
    ["add", (x, y) => np.add(x, y), (a, b) => a + b],
    ["subtract", (x, y) => np.subtract(x, y), (a, b) => a - b + (1n << 32n)],
    ["multiply", (x, y) => np.multiply(x, y), (a, b) => a * b],
    ["bitwiseAnd", (x, y) => np.bitwiseAnd(x, y), (a, b) => a & b],
    ["bitwiseOr", (x, y) => np.bitwiseOr(x, y), (a, b) => a | b],
    ["bitwiseXor", (x, y) => np.bitwiseXor(x, y), (a, b) => a ^ b],
  ];
  it.each(cases)("%s: eager, jit (fused) and vmap agree with BigInt", (_n, f, ref) => {
    const want = big(ref);
    expect(vals(f(u(A), u(B)))).toEqual(want);
    // A chain in one jit: the fused loop must wrap every intermediate, not only the stored result.
    expect(vals(jit((x: NDArray, y: NDArray) => np.bitwiseXor(f(x, y), u(A.map(() => 0))))(u(A), u(B)))).toEqual(want);
    expect(vals(vmap(f)(u(A).reshape([7, 1]), u(B).reshape([7, 1])))).toEqual(want);
  });

  it("a jitted chain of wrapping ops then a comparison sees wrapped values", () => {
    const f = jit((x: NDArray, y: NDArray) => np.greater(np.add(x, y), u([10])));
    expect(vals(f(u([0xffffffff]), u([5])))).toEqual([0]); // 0xffffffff + 5 wraps to 4
  });

  it("bitwiseNot, shifts (0 at 32 or more), rightShift arithmetic for int32", () => {
    expect(vals(np.bitwiseNot(u([0, 0xffffffff, 0x0f0f0f0f])))).toEqual([0xffffffff, 0, 0xf0f0f0f0]);
    expect(vals(np.bitwiseNot(np.array([0, -1, 5], { dtype: "int32" })))).toEqual([-1, 0, -6]);
    expect(vals(np.leftShift(u([1, 0xffffffff, 3, 3]), u([31, 4, 32, 40])))).toEqual([0x80000000, 0xfffffff0, 0, 0]);
    expect(vals(np.rightShift(u([0x80000000, 0xffffffff, 7]), u([31, 4, 32])))).toEqual([1, 0x0fffffff, 0]);
    expect(vals(np.rightShift(np.array([-8, -1, 8, -8], { dtype: "int32" }), np.array([1, 5, 2, 40], { dtype: "int32" })))).toEqual([-4, -1, 2, -1]);
    expect(vals(jit((x: NDArray, s: NDArray) => np.leftShift(x, s))(u([1, 1]), u([3, 33])))).toEqual([8, 0]);
  });

  it("bool and/or/xor/not keep working", () => {
    const t = np.array([true, true, false, false]),
      f = np.array([true, false, true, false]);
    expect(vals(np.bitwiseXor(t, f))).toEqual([0, 1, 1, 0]);
    expect(vals(np.bitwiseNot(t))).toEqual([0, 0, 1, 1]);
  });

  it("floats are refused by the bit operations with a typed error naming the function", () => {
    expect(() => np.bitwiseAnd(np.ones([2]), np.ones([2]))).toThrow(/np\.bitwiseAnd: needs bool, int32 or uint32/);
    expect(() => np.leftShift(np.array([true]), np.array([true]))).toThrow(/np\.leftShift/);
  });
});

describe("bitcastConvertType", () => {
  it("float32 <-> uint32 <-> int32 bits, as a DataView reads them", () => {
    const dv = new DataView(new ArrayBuffer(4));
    const xs = [1, -2.5, 0.1, 3e38];
    const bits = xs.map((x) => (dv.setFloat32(0, x), dv.getUint32(0)));
    expect(vals(lax.bitcastConvertType(np.array(xs), "uint32"))).toEqual(bits);
    expect(vals(lax.bitcastConvertType(u(bits), "float32"))).toEqual(xs.map(Math.fround));
    expect(vals(lax.bitcastConvertType(u([0xffffffff]), "int32"))).toEqual([-1]);
    expect(vals(jit((x: NDArray) => lax.bitcastConvertType(lax.bitcastConvertType(x, "uint32"), "float32"))(np.array(xs)))).toEqual(
      xs.map(Math.fround),
    );
  });
  it("has a zero derivative and refuses non-32-bit dtypes", () => {
    expect(
      grad((x: NDArray) => np.sum(np.multiply(lax.bitcastConvertType(lax.bitcastConvertType(x, "uint32"), "float32"), x)))(np.array([2, 3])).tolist(),
    ).toEqual([2, 3]);
    expect(() => lax.bitcastConvertType(np.array([1], { dtype: "float64" }), "uint32")).toThrow(/32-bit/);
  });
});

describe("uint32 as a dtype", () => {
  it("promotes as JAX with 64-bit types off: u32 + i32 = i32, u32 + f32 = f32, u32 + weak int = u32", () => {
    expect(np.add(u([1]), np.array([1], { dtype: "int32" })).dtype).toBe("int32");
    expect(np.add(u([1]), np.array([1])).dtype).toBe("float32");
    expect(np.add(u([1]), 2).dtype).toBe("uint32");
    expect(np.add(u([1]), 0.5).dtype).toBe("float32");
    expect(np.add(u([1]), np.array([true])).dtype).toBe("uint32");
  });
  it("converts with astype (ToUint32 / ToInt32 wrapping), prints and sums", () => {
    expect(vals(np.array([-1, 3.7, 2 ** 32 + 2]).astype("uint32"))).toEqual([0xffffffff, 3, 0]);
    expect(vals(u([0xffffffff, 2]).astype("int32"))).toEqual([-1, 2]);
    expect(vals(u([0xffffffff, 2]).astype("float32"))).toEqual([4294967296, 2]);
    expect(String(u([1, 0xffffffff]))).toBe("array([1,4294967295], uint32)");
    expect(np.sum(u([0xffffffff, 2])).item()).toBe(1);
    expect(np.max(u([0xffffffff, 2])).item()).toBe(0xffffffff);
  });
  it("dot_general refuses uint32 with a typed error", () => {
    expect(() => np.matmul(u([1, 2]), u([1, 2]))).toThrow(/uint32 operands are not supported/);
  });
});
