/**
 * lax.switch, lax.map and lax.associativeScan: values against loops written here, derivatives by
 * finite differences, vmap against a loop, jit against eager, typed errors.
 */
import { describe, expect, it } from "vitest";
import { ArgumentError, DTypeError, type NDArray, ShapeError, grad, jit, lax, np, vmap } from "../../src/index.js";
import { checkGrads } from "../../laws/index.js";
import { expectClose, toNums } from "../helpers.js";

const d = (data: unknown) => np.array(data as number[], { dtype: "float64" });

describe("lax.switch", () => {
  const branches = [(x: NDArray) => np.sin(x), (x: NDArray) => x.mul(x).mul(3), (x: NDArray) => np.exp(x).sub(1)];
  const refs = [(v: number) => Math.sin(v), (v: number) => 3 * v * v, (v: number) => Math.exp(v) - 1];
  const x = d([0.3, -1.1, 2.0]);

  it("picks branches[index], clamping the index as JAX does", () => {
    for (const [i, k] of [
      [0, 0],
      [1, 1],
      [2, 2],
      [-4, 0],
      [9, 2],
    ]) {
      expectClose(lax.switch(i!, branches, x), toNums(x).map(refs[k]!), 1e-12);
      expectClose(lax.switch(np.array(i!, { dtype: "int32" }), branches, x), toNums(x).map(refs[k]!), 1e-12);
    }
    expectClose(
      lax.switch(0, [(a: NDArray) => a.add(1)], x),
      toNums(x).map((v) => v + 1),
      1e-12,
    );
  });

  it("differentiates through the taken branch (both modes, order 2) and under jit", () => {
    for (const i of [0, 1, 2]) checkGrads((v: NDArray) => lax.switch(i, branches, v), [x], { order: 2 });
    const f = (i: NDArray, v: NDArray) => np.sum(lax.switch(i, branches, v));
    const idx = np.array(1, { dtype: "int32" });
    expectClose(
      jit(grad(f, { argnums: 1 }))(idx, x),
      toNums(x).map((v) => 6 * v),
      1e-12,
    );
    expectClose(jit(f)(idx, x), f(idx, x), 1e-12);
  });

  it("vmap with a batched index equals a loop, and several operands pass through", () => {
    const idx = np.array([2, 0, 1, 5], { dtype: "int32" });
    const xs = d([0.5, -0.2, 1.5, 0.7]);
    const out = vmap((i: NDArray, v: NDArray) => lax.switch(i, branches, v))(idx, xs);
    expectClose(out, [Math.exp(0.5) - 1, Math.sin(-0.2), 3 * 1.5 * 1.5, Math.exp(0.7) - 1], 1e-12);
    const two = lax.switch(1, [(a: NDArray, b: NDArray) => a.add(b), (a: NDArray, b: NDArray) => a.mul(b)], x, d([2, 2, 2]));
    expectClose(
      two,
      toNums(x).map((v) => 2 * v),
      1e-12,
    );
  });

  it("typed errors: no branches, mismatched results, a float index", () => {
    expect(() => lax.switch(0, [], x)).toThrow(ArgumentError);
    expect(() => lax.switch(0, [(a: NDArray) => a, (a: NDArray) => np.sum(a)], x)).toThrow(ShapeError);
    expect(() => lax.switch(np.array(1.5), branches, x)).toThrow(DTypeError);
    expect(() => lax.switch(0, [1 as never], x)).toThrow(/branches\[0\] must be a function/);
  });
});

describe("lax.map", () => {
  it("maps over axis 0 of a pytree; derivatives, vmap and jit", () => {
    const xs = {
      a: d([
        [1, 2],
        [3, 4],
        [5, 6],
      ]),
      b: d([0.5, -1, 2]),
    };
    const f = (p: { a: NDArray; b: NDArray }) => np.sum(p.a).mul(p.b);
    expectClose(lax.map(f, xs), [1.5, -7, 22], 1e-12);
    checkGrads((a: NDArray, b: NDArray) => lax.map(f, { a, b }), [xs.a, xs.b], { order: 2 });
    expectClose(jit((a: NDArray, b: NDArray) => lax.map(f, { a, b }))(xs.a, xs.b), [1.5, -7, 22], 1e-12);
    const batched = vmap((a: NDArray) => lax.map((r: NDArray) => np.sum(r.mul(r)), a))(d([[[1, 2]], [[3, 4]]]));
    expectClose(batched, [[5], [25]], 1e-12);
    expect(() => lax.map(3 as never, xs)).toThrow(ArgumentError);
  });
});

/** Inclusive scan by a loop: out[i] = fn(out[i-1], x[i]). */
function loopScan<T>(xs: T[], fn: (a: T, b: T) => T, reverse = false): T[] {
  const order = reverse ? xs.slice().reverse() : xs;
  const out: T[] = [];
  order.forEach((x, i) => out.push(i === 0 ? x : fn(out[i - 1]!, x)));
  return reverse ? out.reverse() : out;
}

describe("lax.associativeScan", () => {
  const vals = (n: number) => Array.from({ length: n }, (_, i) => Math.sin(1.3 * i + 0.4) + 0.1 * i);

  it("cumulative sum, product and max for every length 0..17, both directions", () => {
    for (let n = 0; n <= 17; n++) {
      const v = vals(n);
      const x = d(v);
      for (const reverse of [false, true]) {
        expectClose(
          lax.associativeScan(np.add, x, { reverse }),
          loopScan(v, (a, b) => a + b, reverse),
          1e-12,
        );
        expectClose(
          lax.associativeScan(np.multiply, x, { reverse }),
          loopScan(v, (a, b) => a * b, reverse),
          1e-12,
          1e-12,
        );
        expectClose(lax.associativeScan(np.maximum, x, { reverse }), loopScan(v, Math.max, reverse), 0);
      }
    }
  });

  it("a non-commutative combine on a pytree: composing affine maps (a, b) = x ↦ a·x + b", () => {
    const n = 11;
    const as = vals(n).map((v) => 0.9 + 0.1 * v),
      bs = vals(n).map((v) => v * v - 0.5);
    // (a1, b1) then (a2, b2) is x ↦ a2(a1 x + b1) + b2 = (a1 a2, a2 b1 + b2).
    const compose = (p: { a: NDArray; b: NDArray }, q: { a: NDArray; b: NDArray }) => ({ a: p.a.mul(q.a), b: q.a.mul(p.b).add(q.b) });
    const got = lax.associativeScan(compose, { a: d(as), b: d(bs) });
    const want = loopScan(
      as.map((a, i) => [a, bs[i]!] as [number, number]),
      ([a1, b1], [a2, b2]): [number, number] => [a1 * a2, a2 * b1 + b2],
    );
    expectClose(
      got.a,
      want.map((w) => w[0]),
      1e-12,
    );
    expectClose(
      got.b,
      want.map((w) => w[1]),
      1e-12,
    );
    const rev = lax.associativeScan(compose, { a: d(as), b: d(bs) }, { reverse: true });
    const wantRev = loopScan(
      as.map((a, i) => [a, bs[i]!] as [number, number]),
      ([a1, b1], [a2, b2]): [number, number] => [a1 * a2, a2 * b1 + b2],
      true,
    );
    expectClose(
      rev.b,
      wantRev.map((w) => w[1]),
      1e-12,
    );
  });

  it("along another axis; integer and bool elements", () => {
    const m = d([
      [1, 2, 3, 4, 5],
      [6, 7, 8, 9, 10],
    ]);
    expectClose(lax.associativeScan(np.add, m, { axis: 1 }), [
      [1, 3, 6, 10, 15],
      [6, 13, 21, 30, 40],
    ]);
    expectClose(lax.associativeScan(np.add, m, { axis: -2 }), [
      [1, 2, 3, 4, 5],
      [7, 9, 11, 13, 15],
    ]);
    const ints = np.array([3, 1, 4, 1, 5], { dtype: "int32" });
    expect(toNums(lax.associativeScan(np.add, ints))).toEqual([3, 4, 8, 9, 14]);
    const bools = np.array([false, false, true, false, true]);
    expect(toNums(lax.associativeScan(np.logicalOr, bools))).toEqual([0, 0, 1, 1, 1]);
  });

  it("derivatives (both modes, order 2), vmap = loop, jit = eager", () => {
    const x = d(vals(9).map((v) => 0.8 + 0.2 * v));
    const prod = (v: NDArray) => lax.associativeScan(np.multiply, v);
    checkGrads(prod, [x], { order: 2 });
    checkGrads((v: NDArray) => lax.associativeScan(np.add, v, { reverse: true }), [x], { order: 1 });
    const rows = d([vals(6), vals(6).map((v) => -v), vals(6).map((v) => 2 * v)]);
    const batched = vmap((r: NDArray) => lax.associativeScan(np.add, r))(rows);
    [0, 1, 2].forEach((i) => expectClose(np.take(batched, i, 0), lax.associativeScan(np.add, np.take(rows, i, 0)), 1e-14));
    expectClose(jit(prod)(x), prod(x), 1e-12, 1e-12);
  });

  it("typed errors: unequal lengths, a combine that changes shapes, bad options", () => {
    expect(() => lax.associativeScan((a: NDArray[]) => a, [d([1, 2]), d([1, 2, 3])])).toThrow(ShapeError);
    expect(() => lax.associativeScan((a: NDArray) => np.sum(a), d([1, 2, 3]))).toThrow(ShapeError);
    expect(() => lax.associativeScan(np.add, d([1, 2]), { axes: 0 } as never)).toThrow(/unknown option "axes"/);
    expect(() => lax.associativeScan(np.add, d([1, 2]), { axis: 1 })).toThrow(ShapeError);
    expect(() => lax.associativeScan(np.add, d([1, 2]), { reverse: 1 } as never)).toThrow(ArgumentError);
  });
});

describe("lax.rsqrt, dotGeneral, broadcastInDim, slice, pad, topK", () => {
  const m = [
    [0.5, -1.25, 2.0, 0.75],
    [1.5, 0.25, -0.5, 3.0],
    [-2.0, 1.0, 0.125, -0.25],
  ];
  const x = d(m);

  it("values against loops written here", () => {
    expectClose(lax.rsqrt(d([4, 0.25, 2])), [0.5, 2, 1 / Math.SQRT2], 1e-15);
    // dotGeneral: a batched matmul [2,3,4]·[2,4,5] and a contraction over two dims.
    const a = np.arange(24).reshape([2, 3, 4]).astype("float64"),
      b = np.arange(40).reshape([2, 4, 5]).astype("float64").mul(0.5);
    const av = toNums(a),
      bv = toNums(b);
    const want: number[] = [];
    for (let p = 0; p < 2; p++)
      for (let i = 0; i < 3; i++)
        for (let j = 0; j < 5; j++) {
          let s = 0;
          for (let k = 0; k < 4; k++) s += av[p * 12 + i * 4 + k]! * bv[p * 20 + k * 5 + j]!;
          want.push(s);
        }
    expectClose(
      lax.dotGeneral(a, b, [
        [[2], [1]],
        [[0], [0]],
      ]),
      want,
      1e-14,
    );
    let full = 0;
    for (let i = 0; i < 12; i++) full += av[i]! * av[i]!;
    expectClose(
      lax.dotGeneral(np.take(a, 0, 0), np.take(a, 0, 0), [
        [
          [0, 1],
          [0, 1],
        ],
        [[], []],
      ]),
      [full],
    );
    expectClose(lax.broadcastInDim(d([1, 2, 3]), [2, 3, 2], [1]), [1, 1, 2, 2, 3, 3, 1, 1, 2, 2, 3, 3]);
    expectClose(lax.slice(x, [0, 1], [3, 4], [2, 2]), [-1.25, 0.75, 1.0, -0.25]);
    expectClose(lax.slice(x, [1, 0], [2, 4]), m[1]!);
    expectClose(lax.pad(d([1, 2]), 0, [[1, 2, 1]]), [0, 1, 0, 2, 0, 0]);
    expectClose(lax.pad(d([1, 2, 3, 4]), 0, [[-1, -2, 0]]), [2]);
    expectClose(lax.pad(d([1, 2, 3]), 9, [[-1, 1, 1]]), [9, 2, 9, 3, 9]);
    const [vals, idx] = lax.topK(d([3, 1, 4, 1, 5, 9, 2, 6, 5]), 4);
    expectClose(vals, [9, 6, 5, 5]);
    expect(idx.tolist()).toEqual([5, 7, 4, 8]);
    const [rv, ri] = lax.topK(x, 2);
    const rowsTop = m.map((r) =>
      r
        .map((v, i) => [v, i] as const)
        .sort((p, q) => q[0] - p[0] || p[1] - q[1])
        .slice(0, 2),
    );
    expectClose(
      rv,
      rowsTop.flatMap((r) => r.map(([v]) => v)),
    );
    expect(toNums(ri)).toEqual(rowsTop.flatMap((r) => r.map(([, i]) => i)));
    expect(lax.topK(d([1, NaN, 2]), 1)[1].tolist()).toEqual([1]);
  });

  it("derivatives (both modes, order 2), vmap = loop, jit = eager", () => {
    const fns: ((v: NDArray) => NDArray)[] = [
      (v) => lax.rsqrt(v.mul(v).add(1)),
      (v) =>
        lax.dotGeneral(v, v, [
          [[1], [1]],
          [[], []],
        ]),
      (v) => lax.broadcastInDim(v, [2, ...v.shape], [1, 2]).mul(np.sin(v)),
      (v) => lax.slice(v, [0, 1], [v.shape[0]!, 4], [1, 2]),
      (v) =>
        lax.pad(v, 0.5, [
          [1, -1, 0],
          [-1, 2, 1],
        ]),
      (v) => lax.topK(v, 2)[0],
    ];
    for (const f of fns) {
      const report = checkGrads(f, [x], { order: 2 });
      expect(report.comparisons.length).toBeGreaterThan(0);
      expect(report.comparisons.every((c) => c.ok)).toBe(true);
      const stacked = np.stack([x, x.mul(0.5).add(0.1)]);
      const rows = [0, 1].map((i) => toNums(f(np.take(stacked, i, 0))));
      expectClose(vmap(f)(stacked), rows.flat(), 1e-14);
      expectClose(jit(f)(x), toNums(f(x)), 1e-14);
    }
  });

  it("typed errors name the function and the argument", () => {
    expect(() => lax.pad(d([1, 2]), 0, [[1, 2]] as never)).toThrow(/lax.pad: paddingConfig/);
    expect(() => lax.pad(d([1, 2]), d([0, 1]), [[1, 2, 0]])).toThrow(ShapeError);
    expect(() => lax.dotGeneral(x, x, [[[1], [1]]] as never)).toThrow(ArgumentError);
    expect(() => lax.slice(x, [0], [1])).toThrow(/lax.slice/);
    expect(() => lax.topK(x, 5)).toThrow(/lax.topK: k must be an integer in \[0, 4\]/);
    expect(() => lax.topK(d(1), 1)).toThrow(ShapeError);
    expect(() => lax.broadcastInDim(x, [3], [0])).toThrow(/lax.broadcastInDim/);
  });
});
