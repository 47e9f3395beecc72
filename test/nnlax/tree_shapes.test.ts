/** tree.structure/reduce/transpose/flattenWithPath/mapWithPath, TreeDef helpers, evalShape, linearTranspose. */
import { describe, expect, it } from "vitest";
import {
  ArgumentError,
  DTypeError,
  type NDArray,
  ShapeDtypeStruct,
  ShapeError,
  evalShape,
  jit,
  lax,
  linearTranspose,
  nn,
  np,
  tree,
  vjp,
  vmap,
} from "../../src/index.js";
import { expectClose, toNums } from "../helpers.js";

const d = (data: unknown) => np.array(data as number[], { dtype: "float64" });

describe("tree utilities", () => {
  const t = { b: [1, { c: 2, a: 3 }], a: null, z: 4 };

  it("structure, numLeaves, numNodes, childDefs", () => {
    const s = tree.structure(t);
    expect(s.equals(tree.flatten(t)[1])).toBe(true);
    expect(s.numLeaves).toBe(4);
    // root, a(null), b, b[0], b[1], b[1].a, b[1].c, z
    expect(s.numNodes).toBe(8);
    expect(s.childDefs().map(String)).toEqual(["null", '[*,{"a":*,"c":*}]', "*"]);
    expect(tree.structure(5).isLeaf).toBe(true);
  });

  it("reduce folds the leaves in order, with or without an initial value", () => {
    expect(tree.reduce((acc: string, l) => acc + String(l), t, "")).toBe("1324");
    expect(tree.reduce((acc: number, l) => acc * 10 + (l as number), t)).toBe(1324);
    expect(() => tree.reduce((a: number) => a, { x: null })).toThrow(ArgumentError);
    expect(tree.reduce((a: number) => a, { x: null }, 7)).toBe(7);
    const total = tree.reduce((acc: NDArray, l) => acc.add(np.sum(l as NDArray)), { w: d([1, 2]), b: d([3]) }, np.array(0, { dtype: "float64" }));
    expect(total.item()).toBe(6);
  });

  it("all: every leaf truthy; one-element arrays by value, larger ones refused", () => {
    expect(tree.all({ a: [1, true], b: "x" })).toBe(true);
    expect(tree.all({ a: [1, 0] })).toBe(false);
    expect(tree.all([])).toBe(true);
    expect(tree.all({ w: np.array(2), b: [np.array([true])] })).toBe(true);
    expect(tree.all({ w: np.array(2), b: [np.array([0])] })).toBe(false);
    expect(() => tree.all({ w: d([1, 2]) })).toThrow(/tree.all: the truth of a leaf of shape \[2\] is ambiguous/);
  });

  it("flattenWithPath and mapWithPath give each leaf its path of keys", () => {
    const [pairs, def] = tree.flattenWithPath(t);
    expect(pairs).toEqual([
      [["b", 0], 1],
      [["b", 1, "a"], 3],
      [["b", 1, "c"], 2],
      [["z"], 4],
    ]);
    expect(def.equals(tree.structure(t))).toBe(true);
    const named = tree.mapWithPath((p, l, m) => `${p.join(".")}=${(l as number) + (m as number)}`, t, { b: [10, { c: 20, a: 30 }], a: null, z: 40 });
    expect(named).toEqual({ b: ["b.0=11", { a: "b.1.a=33", c: "b.1.c=22" }], a: null, z: "z=44" });
    expect(() => tree.mapWithPath((_p, l) => l, t, { z: 1 })).toThrow(ArgumentError);
  });

  it("transpose swaps a list of objects into an object of lists, and back", () => {
    const list = [
      { w: 1, b: 2 },
      { w: 3, b: 4 },
      { w: 5, b: 6 },
    ];
    const outer = tree.structure([0, 0, 0]),
      inner = tree.structure({ w: 0, b: 0 });
    const swapped = tree.transpose(outer, inner, list);
    expect(swapped).toEqual({ b: [2, 4, 6], w: [1, 3, 5] });
    expect(tree.transpose(inner, outer, swapped)).toEqual(list);
    expect(() => tree.transpose(outer, inner, [{ w: 1 }, { w: 2, b: 3 }, { w: 4, b: 5 }])).toThrow(ArgumentError);
    expect(() => tree.transpose("x" as never, inner, list)).toThrow(ArgumentError);
  });
});

describe("evalShape", () => {
  it("gives shapes and dtypes of a pytree result without computing", () => {
    let calls = 0;
    const f = (p: { w: NDArray; b: NDArray }, x: NDArray) => {
      calls++;
      const h = nn.relu(np.matmul(x, p.w).add(p.b));
      return { h, n: np.sum(h).astype("float64"), i: np.argmax(h, 1) };
    };
    const out = evalShape(f, { w: new ShapeDtypeStruct([4, 3]), b: np.zeros([3]) }, new ShapeDtypeStruct([5, 4]));
    expect(calls).toBe(1);
    expect(out.h).toBeInstanceOf(ShapeDtypeStruct);
    expect([out.h.shape, out.h.dtype, out.n.shape, out.n.dtype, out.i.shape, out.i.dtype]).toEqual([[5, 3], "float32", [], "float64", [5], "int32"]);
    expect(String(out.h)).toBe("ShapeDtypeStruct(float32[5,3])");
  });

  it("sees through jit, vmap and control flow, and reports shape errors as f would", () => {
    const g = jit((x: NDArray) => lax.scan((c: NDArray, r: NDArray) => [c.add(r), c.mul(2)], np.zeros([3], "float64"), x));
    const [c, ys] = evalShape(g, new ShapeDtypeStruct([7, 3], "float64"));
    expect([c.shape, c.dtype, ys.shape]).toEqual([[3], "float64", [7, 3]]);
    const v = evalShape(
      vmap((x: NDArray) => np.outer(x, x)),
      new ShapeDtypeStruct([2, 6]),
    );
    expect(v.shape).toEqual([2, 6, 6]);
    expect(() => evalShape((x: NDArray) => np.matmul(x, x), new ShapeDtypeStruct([2, 3]))).toThrow(ShapeError);
    expect(() => new ShapeDtypeStruct([2, -1])).toThrow(ShapeError);
  });
});

describe("linearTranspose", () => {
  const A = d([
    [1, 2, 3],
    [4, 5, 6],
  ]);

  it("transposes a matrix product: fᵀ(ct) = Aᵀ ct, and <fᵀ(u), v> = <u, f(v)>", () => {
    const f = (x: NDArray) => np.matmul(A, x);
    const fT = linearTranspose(f, np.zeros([3], "float64"));
    const [g] = fT(d([1, -2]));
    expectClose(g as NDArray, [1 - 8, 2 - 10, 3 - 12], 1e-12);
    const u = d([0.3, -0.7]),
      v = d([1.5, 0.2, -0.4]);
    const lhs = np.sum((fT(u)[0] as NDArray).mul(v)).item(),
      rhs = np.sum(u.mul(f(v))).item();
    expect(lhs).toBeCloseTo(rhs, 12);
  });

  it("pytrees in and out, several primals, and agrees with vjp", () => {
    const f = (p: { a: NDArray; b: NDArray }, y: NDArray) => [p.a.mul(3).add(np.flip(y)), np.sum(p.b).mul(2)];
    const primals = [{ a: d([1, 2]), b: d([3, 4, 5]) }, d([6, 7])] as const;
    const fT = linearTranspose(f, ...primals);
    const ct = [d([1, 10]), d(0.5)];
    const [pt, yt] = fT(ct) as [{ a: NDArray; b: NDArray }, NDArray];
    expectClose(pt.a, [3, 30], 1e-12);
    expectClose(pt.b, [1, 1, 1], 1e-12);
    expectClose(yt, [10, 1], 1e-12);
    const [, back] = vjp(f, ...primals);
    const viaVjp = back(ct) as [{ a: NDArray; b: NDArray }, NDArray];
    expect(toNums(viaVjp[1])).toEqual(toNums(yt));
  });

  it("accepts ShapeDtypeStruct primals and runs under jit", () => {
    const fT = linearTranspose((x: NDArray) => np.cumsum(x), new ShapeDtypeStruct([4], "float64"));
    expectClose(fT(d([1, 1, 1, 1]))[0] as NDArray, [4, 3, 2, 1], 1e-12);
    const jT = jit((c: NDArray) => fT(c)[0] as NDArray);
    expectClose(jT(d([1, 0, 0, 1])), [2, 1, 1, 1], 1e-12);
  });

  it("a nonlinear f, integer primals and a wrong cotangent are typed errors", () => {
    expect(() => linearTranspose((x: NDArray) => np.sin(x), d([1]))(d([1]))).toThrow(/not linear/);
    expect(() => linearTranspose((x: NDArray) => x.mul(x), d([1]))(d([1]))).toThrow(ArgumentError);
    expect(() => linearTranspose((x: NDArray) => x, np.array([1], { dtype: "int32" }))).toThrow(DTypeError);
    expect(() => linearTranspose((x: NDArray) => x, d([1, 2]))([d([1, 2])])).toThrow(ArgumentError);
  });
});
