/**
 * One convention for axes: the shape functions take an axis positionally or as `{ axis }` like
 * np.sum, with the same result; an unknown option is a typed error that names the options.
 */
import { describe, expect, it } from "vitest";
import { ArgumentError, np } from "../../src/index.js";

const x = np.arange(6).reshape([2, 3]);
const same = (a: { tolist(): unknown; shape: number[] }, b: { tolist(): unknown; shape: number[] }) => {
  expect(a.shape).toEqual(b.shape);
  expect(a.tolist()).toEqual(b.tolist());
};

describe("axis given positionally or as { axis }", () => {
  it("concatenate, stack, flip, squeeze, expandDims, take agree in both forms", () => {
    same(np.concatenate([x, x], { axis: 1 }), np.concatenate([x, x], 1));
    expect(np.concatenate([x, x], { axis: 1 }).shape).toEqual([2, 6]);
    same(np.stack([x, x], { axis: 2 }), np.stack([x, x], 2));
    expect(np.stack([x, x], { axis: 2 }).shape).toEqual([2, 3, 2]);
    same(np.flip(x, { axis: 1 }), np.flip(x, 1));
    expect(np.flip(x, { axis: 1 }).tolist()).toEqual([
      [2, 1, 0],
      [5, 4, 3],
    ]);
    same(np.squeeze(x.reshape([2, 1, 3]), { axis: 1 }), np.squeeze(x.reshape([2, 1, 3]), 1));
    same(np.expandDims(x, { axis: [0, 3] }), np.expandDims(x, [0, 3]));
    expect(np.expandDims(x, { axis: [0, 3] }).shape).toEqual([1, 2, 3, 1]);
    const i = np.array([2, 0], { dtype: "int32" });
    same(np.take(x, i, { axis: 1 }), np.take(x, i, 1));
    expect(np.take(x, i, { axis: 1 }).tolist()).toEqual([
      [2, 0],
      [5, 3],
    ]);
  });

  it("an unknown option is an ArgumentError naming the options", () => {
    expect(() => np.concatenate([x, x], { axes: 1 } as never)).toThrow(ArgumentError);
    expect(() => np.flip(x, { axis: 0, keepdims: true } as never)).toThrow(/the options are \{ axis \}/);
  });
});
