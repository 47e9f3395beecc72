/**
 * Summation accuracy: reductions add in blocked pairwise order, so the rounding error grows like
 * log n rather than n, and jit (which runs the same kernel) agrees with eager bit for bit.
 */
import { describe, expect, it } from "vitest";
import { type NDArray, jit, np } from "../../src/index.js";

/** Neumaier's compensated sum: a reference accurate to about one rounding, independent of the kernel. */
function compensated(xs: ArrayLike<number>): number {
  let s = 0,
    c = 0;
  for (let i = 0; i < xs.length; i++) {
    const x = xs[i]!,
      t = s + x;
    c += Math.abs(s) >= Math.abs(x) ? s - t + x : x - t + s;
    s = t;
  }
  return s + c;
}

describe("pairwise summation", () => {
  it("sums 10^7 x 0.1 in float64 to 10^6 within 1e-12 relative (left-to-right gave 1.6e-10)", () => {
    const s = np.sum(np.full([1e7], 0.1, "float64")).item();
    expect(Math.abs(s - 1e6) / 1e6).toBeLessThan(1e-12);
  });

  it("keeps float32 sums of many values close to the compensated sum", () => {
    const n = 1 << 20;
    const data = new Float32Array(n);
    let seed = 7;
    for (let i = 0; i < n; i++) {
      seed = (seed * 1103515245 + 12345) >>> 0;
      data[i] = seed / 2 ** 32;
    }
    const ref = compensated(data);
    const got = np.sum(np.array(data)).item();
    expect(Math.abs(got - ref) / ref).toBeLessThan(2 ** -23);
  });

  it("agrees with the compensated sum along every axis, eagerly and under jit (bit for bit)", () => {
    const shape = [37, 129, 5];
    const n = shape.reduce((a, b) => a * b);
    const data = new Float64Array(n);
    for (let i = 0; i < n; i++) data[i] = Math.sin(i * 12.9898) * 1e3 + (i % 7) * 1e-3;
    const x = np.array(data, { shape });
    const strides = [shape[1]! * shape[2]!, shape[2]!, 1];
    for (const axis of [0, 1, 2]) {
      const eager = np.sum(x, axis).dataSync();
      const jitted = jit((a: NDArray) => np.sum(a.mul(1), axis))(x).dataSync();
      expect(Array.from(jitted)).toEqual(Array.from(eager));
      // Reference for output element 0: the values along `axis` at index 0 of the other dims.
      const col = Array.from({ length: shape[axis]! }, (_, k) => data[k * strides[axis]!]!);
      const ref = compensated(col);
      expect(Math.abs(eager[0]! - ref)).toBeLessThanOrEqual(64 * Number.EPSILON * col.reduce((s, v) => s + Math.abs(v), 0));
    }
  });
});
