/**
 * NumPy indexing (`x.index`), JAX's `x.at[...]` updates, takeAlongAxis / putAlongAxis and the
 * public dynamic slices: values against plain-JS references written here (NumPy's rules on
 * nested arrays and flat loops), derivatives by finite differences in float64 (both modes,
 * second order), vmap against a loop, jit against eager, and the typed errors.
 */
import { describe, expect, it } from "vitest";
import { ArgumentError, ConcretizationError, DTypeError, type NDArray, ShapeError, grad, jit, lax, np, vjp, vmap } from "../../src/index.js";
import { checkGrads } from "../../laws/index.js";

type N = number | N[];
const i32 = (v: N) => np.array(v as number[], { dtype: "int32" });
const f64 = (v: N) => np.array(v as number[], { dtype: "float64" });
const iota = (shape: number[]) => np.arange(shape.reduce((a, b) => a * b, 1)).reshape(shape);

// ---------------------------------------------------------------- a reference for basic indexing

type RefSpec = number | { start?: number; stop?: number; step?: number } | null | "...";

/** Python's range of a slice on a dim of size n, written as the loop the language defines. */
function sliceRange(n: number, sl: { start?: number; stop?: number; step?: number }): number[] {
  const step = sl.step ?? 1;
  const fix = (v: number | undefined, dflt: number, lo: number, hi: number) =>
    v === undefined ? dflt : Math.min(Math.max(v < 0 ? v + n : v, lo), hi);
  const out: number[] = [];
  if (step > 0) for (let i = fix(sl.start, 0, 0, n); i < fix(sl.stop, n, 0, n); i += step) out.push(i);
  else for (let i = fix(sl.start, n - 1, -1, n - 1); i > fix(sl.stop, -1, -1, n - 1); i += step) out.push(i);
  return out;
}

/** NumPy basic indexing on nested arrays, one spec at a time. */
function refBasic(x: N, specs: RefSpec[], ndim: number): N {
  const used = specs.filter((s) => s !== null && s !== "...").length;
  const e = specs.indexOf("...");
  const full = Array.from({ length: ndim - used }, () => ({}));
  const sp = e < 0 ? [...specs, ...full] : [...specs.slice(0, e), ...full, ...specs.slice(e + 1)];
  const go = (v: N, k: number): N => {
    if (k === sp.length) return v;
    const s = sp[k]!;
    if (s === null) return [go(v, k + 1)];
    const arr = v as N[];
    if (typeof s === "number") return go(arr[s < 0 ? s + arr.length : s]!, k + 1);
    return sliceRange(arr.length, s as object).map((i) => go(arr[i]!, k + 1));
  };
  return go(x, 0);
}

const toSpec = (s: RefSpec) => (s === null || s === "..." || typeof s === "number" ? s : np.s(s.start ?? null, s.stop ?? null, s.step ?? null));

describe("x.index: basic indexing", () => {
  const x = iota([3, 4, 5]);
  const nested = x.tolist() as N;
  const cases: RefSpec[][] = [
    [1],
    [-1, 2],
    [{ start: 1 }, { step: 2 }],
    [{ step: -1 }],
    [{ start: -2, stop: 0, step: -1 }, "...", 3],
    ["...", { start: 4, stop: 0, step: -2 }],
    [null, 0, null, { start: 1, stop: 3 }],
    [{ start: 5, stop: 9 }],
    [{ start: 2, stop: 2 }, 1],
    [0, 0, 0],
    [{ start: -100, stop: 100, step: 3 }, -4, { step: -3 }],
  ];
  for (const c of cases)
    it(`x[${JSON.stringify(c)}] equals NumPy's rule`, () => {
      const got = x.index(...c.map(toSpec));
      expect(got.tolist()).toEqual(refBasic(nested, c, 3));
    });

  it("reads slice strings like NumPy's a:b:c", () => {
    expect(x.index("1:", "::-2", "1:4:2").tolist()).toEqual(refBasic(nested, [{ start: 1 }, { step: -2 }, { start: 1, stop: 4, step: 2 }], 3));
    expect(x.index("...", ":2").tolist()).toEqual(refBasic(nested, ["...", { stop: 2 }], 3));
  });
});

describe("x.index: advanced indexing", () => {
  const X = iota([3, 4, 5]);
  const a = X.tolist() as number[][][];
  const i = [2, 0, -1],
    j = [1, 3, 3];
  it("one index array on the first axis", () => {
    expect(X.index(i32(i)).tolist()).toEqual(i.map((r) => a.at(r)));
  });
  it("two adjacent index arrays keep their place (x[:, i, j])", () => {
    const want = a.map((m) => i.map((r, k) => m.at(r)!.at(j[k]!)!));
    expect(X.index(np.s(), i32(i), i32(j)).tolist()).toEqual(want);
  });
  it("separated index arrays go first (x[i, :, j]), ints count as advanced (x[:, 1, j])", () => {
    const want = i.map((r, k) => a.at(r)!.map((row) => row.at(j[k]!)!));
    expect(X.index(i32(i), np.s(), i32(j)).tolist()).toEqual(want);
    const want2 = a.map((m) => j.map((c) => m[1]![c]!));
    expect(X.index(np.s(), 1, i32(j)).tolist()).toEqual(want2);
    expect(X.index(np.s(), i32(j), 0).tolist()).toEqual(a.map((m) => j.map((c) => m[c]![0]!)));
    expect(X.index(i32([1, 2]), np.s(), 0).tolist()).toEqual([1, 2].map((r) => a[r]!.map((row) => row[0]!)));
  });
  it("index arrays broadcast together (x[i[:, None], j[None, :]])", () => {
    const want = i.map((r) => j.map((c) => a.at(r)![c]!));
    expect(X.index(i32(i).reshape([3, 1]), i32(j).reshape([1, 3])).tolist()).toEqual(want);
  });
  it("a concrete bool mask selects its true positions in row-major order", () => {
    const mask = [
      [true, false, true, false],
      [false, false, false, true],
      [true, true, false, false],
    ];
    const want = mask.flatMap((row, r) => row.flatMap((m, c) => (m ? [a[r]![c]!] : [])));
    expect(X.index(np.array(mask)).tolist()).toEqual(want);
    expect(X.index(np.s(), np.s(), np.array([false, true, true, false, true])).tolist()).toEqual(
      a.map((m) => m.map((row) => [row[1], row[2], row[4]])),
    );
  });
  it("out-of-range array indices are clamped (JAX's gather)", () => {
    expect(X.index(0, 0, i32([7, -9])).tolist()).toEqual([4, 0]);
  });
  it("nested JS lists index like int32 arrays", () => {
    expect(X.index(0, [3, 1]).tolist()).toEqual([a[0]![3], a[0]![1]]);
  });
});

// ---------------------------------------------------------------- x.at[...]

type Op = "set" | "add" | "mul" | "min" | "max";
const fold: Record<Op, (a: number, u: number) => number> = {
  set: (_a, u) => u,
  add: (a, u) => a + u,
  mul: (a, u) => a * u,
  min: Math.min,
  max: Math.max,
};

/** x.at[idx].op(u) on a flat vector, writing the updates one by one; out-of-range dropped. */
function refAt(x: number[], idx: number[], u: number[], op: Op): number[] {
  const out = x.slice();
  idx.forEach((i, k) => {
    const j = i < 0 ? i + x.length : i;
    if (j >= 0 && j < x.length) out[j] = fold[op](out[j]!, u[k]!);
  });
  return out;
}

describe("x.at[...]", () => {
  const x = [0.5, -1, 2, 3, -0.25, 1.5];
  const idx = [1, 4, 1, -1, 9, 0, 4];
  const u = [2, -3, 0.5, 4, 100, -2, 1];
  for (const op of ["set", "add", "mul", "min", "max"] as const)
    it(`${op} with repeated, negative and out-of-range indices matches the loop (set: last wins)`, () => {
      const got = (f64(x).at(i32(idx)) as unknown as Record<Op, (v: NDArray) => NDArray>)[op](f64(u));
      expect(got.tolist()).toEqual(refAt(x, idx, u, op));
    });
  it("slices, integers and scalars broadcast to the indexed shape; get equals index", () => {
    const X = iota([3, 4]);
    const want = (X.tolist() as number[][]).map((row, r) => row.map((v, c) => (r >= 1 && c % 2 === 1 ? 9 : v)));
    expect(X.at("1:", "1::2").set(9).tolist()).toEqual(want);
    expect(
      X.at(0)
        .add(np.array([1, 2, 3, 4]))
        .index(0)
        .tolist(),
    ).toEqual([1, 3, 5, 7]);
    expect(
      X.at(np.s(null, null, -1), 2)
        .get()
        .tolist(),
    ).toEqual([10, 6, 2]);
    expect(
      X.at(i32([0, 2]), i32([3, 0]))
        .mul(10)
        .tolist(),
    ).toEqual([
      [0, 1, 2, 30],
      [4, 5, 6, 7],
      [80, 9, 10, 11],
    ]);
  });
  it("casts updates to x's dtype", () => {
    const got = i32([1, 2, 3]).at(0).set(7.9);
    expect(got.dtype).toBe("int32");
    expect(got.tolist()).toEqual([7, 2, 3]);
  });
});

describe("takeAlongAxis / putAlongAxis / dynamic slices: values", () => {
  const x = [
    [3, 1, 2],
    [9, 7, 8],
  ];
  it("takeAlongAxis follows out[r][c] = x[r][idx[r][c]] (negatives wrap)", () => {
    const idx = [
      [2, 0, 0, 1],
      [-1, 1, 0, 2],
    ];
    const want = idx.map((row, r) => row.map((c) => x[r]!.at(c)!));
    expect(np.takeAlongAxis(f64(x), i32(idx), 1).tolist()).toEqual(want);
    expect(np.takeAlongAxis(f64(x), i32([[1, 0, 1]]), 0).tolist()).toEqual([[9, 1, 8]]);
    expect(np.takeAlongAxis(f64(x), i32([5, 0]), null).tolist()).toEqual([8, 3]);
  });
  it("putAlongAxis writes values at x[r][idx[r][c]] in a new array", () => {
    const X = f64(x);
    const got = np.putAlongAxis(X, i32([[2], [0]]), f64([[-1], [-2]]), 1);
    expect(got.tolist()).toEqual([
      [3, 1, -1],
      [-2, 7, 8],
    ]);
    expect(X.tolist()).toEqual(x);
    expect(np.putAlongAxis(X, i32([[1, 0, 1]]), 0, 0).tolist()).toEqual([
      [3, 0, 2],
      [0, 7, 0],
    ]);
  });
  it("dynamicSlice / dynamicUpdateSlice clamp their starts as JAX does", () => {
    const A = iota([4, 5]);
    const a = A.tolist() as number[][];
    expect(lax.dynamicSlice(A, [3, i32(1).reshape([])], [2, 3]).tolist()).toEqual([a[2]!.slice(1, 4), a[3]!.slice(1, 4)]);
    expect(lax.dynamicSlice(A, [-5, 9], [1, 2]).tolist()).toEqual([a[0]!.slice(3, 5)]);
    const upd = lax.dynamicUpdateSlice(A, np.zeros([2, 2]), [1, 4]);
    expect(upd.tolist()).toEqual(a.map((row, r) => row.map((v, c) => (r >= 1 && r < 3 && c >= 3 ? 0 : v))));
  });
});

// ---------------------------------------------------------------- derivatives

const opts = { order: 2, modes: ["fwd", "rev"] } as const;
const X0 = f64([
  [0.3, -1.2, 0.7, 2.1],
  [1.1, 0.4, -0.6, 0.9],
  [-0.8, 1.7, 0.2, -1.4],
]);

describe("derivatives (finite differences, float64, both modes, second order)", () => {
  it("basic and advanced indexing", () => {
    checkGrads((x: NDArray) => np.sin(x.index("::-1", np.s(1, null, 2))), [X0], opts);
    checkGrads((x: NDArray) => np.sin(x.index(i32([2, 0, 2]), np.s(), null)), [X0], opts);
    checkGrads((x: NDArray) => np.sin(x.index(i32([0, 2]), i32([3, 3]))), [X0], opts);
  });
  it("x.at[...].set/add/mul/min/max in the operand and the updates (repeated indices)", () => {
    const idx = i32([1, 0, 1]);
    const u = f64([
      [0.5, -0.2, 1.3, 0.05],
      [2.5, 0.6, -1.9, 1.2],
      [-0.7, 0.15, 0.35, -2.2],
    ]);
    for (const op of ["set", "add", "mul", "min", "max"] as const)
      checkGrads((x: NDArray, v: NDArray) => np.sin((x.at(idx) as unknown as Record<Op, (v: NDArray) => NDArray>)[op](v)), [X0, u], opts);
    checkGrads((x: NDArray, v: NDArray) => x.at(2, "1:3").mul(v).square(), [X0, f64([0, 1.5])], opts);
  });
  it("mul with exact zeros among repeated updates keeps its second derivatives", () => {
    // Position 0 takes three factors: one zero, then two zeros; the product of the others is 0
    // in value but not in derivative.
    const idx = i32([0, 0, 0, 2]);
    for (const u of [f64([0.8, 0, 0.6, 1.1]), f64([0, 0, 0.6, 1.1]), f64([0, 0, 0, 0])])
      checkGrads((x: NDArray, v: NDArray) => np.sin(x.at(idx).mul(v)), [f64([1.5, 2, 0.7]), u], opts);
  });
  it("mul with updates near the underflow (1e-149, 1e-40) keeps its second derivatives: no division by an update", () => {
    // Both found by the long law run: a quotient by a tiny update overflowed at second order.
    checkGrads(
      (x: NDArray) => x.at(i32([1, 1, 0])).mul(np.tanh(np.take(x, i32([0, 1, 0]), 0))),
      [f64([-1.0092136399009794e-149, 1.452602788977201e-40])],
      opts,
    );
    checkGrads(
      (x: NDArray) => np.sin(x.at(i32([0, 1, 1])).mul(np.tanh(np.take(x, i32([0, 1, 0]), 0)))),
      [
        f64([
          [-1e-150, 0, 0],
          [1.0274221986451495e-58, 0, 0],
        ]),
      ],
      opts,
    );
    // Repeated, zero and out-of-range updates together.
    checkGrads(
      (x: NDArray, v: NDArray) => x.at(i32([2, 0, 2, 5, 2, 1, 0])).mul(v),
      [f64([0.5, -1.5, 2, 0.7]), f64([1.1, 0.9, -0.8, 3, 0, 1.3, 0.6])],
      opts,
    );
  });
  it("takeAlongAxis, putAlongAxis, dynamicSlice, dynamicUpdateSlice", () => {
    const idx = i32([
      [1, 0, 3],
      [2, 2, 0],
      [3, 1, 1],
    ]);
    checkGrads((x: NDArray) => np.sin(np.takeAlongAxis(x, idx, 1)), [X0], opts);
    checkGrads((x: NDArray, v: NDArray) => np.sin(np.putAlongAxis(x, i32([[0], [3], [1]]), v, 1)), [X0, f64([[1], [2], [3]])], opts);
    checkGrads((x: NDArray) => np.sin(lax.dynamicSlice(x, [1, 2], [2, 2])), [X0], opts);
    checkGrads((x: NDArray, v: NDArray) => np.sin(lax.dynamicUpdateSlice(x, v, [2, 1])), [X0, f64([[0.1, 0.2]])], opts);
  });
  it("min/max at a tie split the derivative evenly between the tied values", () => {
    const x = f64([1, 5]);
    const f = (v: NDArray) =>
      v
        .at(i32([0, 0]))
        .max(f64([1, 0.5]))
        .sum();
    const [out, g] = vjpOf(f, x);
    expect(out).toBe(6);
    expect(g).toEqual([0.5, 1]);
  });
});

describe("set with repeated indices: only the winning write gets a derivative", () => {
  it("the last write in index order wins, in value and in gradient", () => {
    const w = f64([2, 3, 5]);
    const f = (u: NDArray) =>
      np.sum(
        np.multiply(
          np
            .zeros([3], "float64")
            .at(i32([0, 2, 0]))
            .set(u),
          w,
        ),
      );
    expect(f(f64([1, 10, 100])).item()).toBe(100 * 2 + 10 * 5);
    expect(grad(f)(f64([1, 10, 100])).tolist()).toEqual([0, 5, 2]);
  });
  it("vmap of grad and jit of grad through x.at[] equal the loop and eager", () => {
    const f = (x: NDArray, u: NDArray) => np.sum(np.sin(x.at(i32([1, -1, 1])).max(u)));
    const xs = f64([
      [0.1, 0.9, -0.3],
      [1.2, -0.5, 0.4],
    ]);
    const us = f64([
      [0.5, -0.1, 0.2],
      [0.3, 0.8, -0.9],
    ]);
    const g = grad(f, { argnums: [0, 1] });
    const loop = [0, 1].map((b) => g(xs.index(b), us.index(b)) as NDArray[]);
    const batched = vmap(g)(xs, us) as NDArray[];
    [0, 1].forEach((k) => close(batched[k]!, np.stack(loop.map((l) => l[k]!))));
    const jitted = jit(g)(xs.index(0), us.index(0)) as NDArray[];
    [0, 1].forEach((k) => close(jitted[k]!, loop[0]![k]!));
  });
});

function vjpOf(f: (v: NDArray) => NDArray, x: NDArray): [number, number[]] {
  const [out, back] = vjp(f, x);
  const [g] = back(np.array(1, { dtype: "float64" }));
  return [out.item(), (g as NDArray).tolist() as number[]];
}

// ---------------------------------------------------------------- vmap, jit, scan

const close = (a: NDArray, b: NDArray) => expect(a.tolist()).toEqual(b.tolist());

describe("vmap equals a loop; jit equals eager; traced indices", () => {
  const xs = np.arange(2 * 3 * 4, undefined, undefined, "float32").reshape([2, 3, 4]);
  const is = i32([
    [2, 0, 1],
    [1, 1, -1],
  ]);
  const loop = (f: (x: NDArray, i: NDArray) => NDArray, bx: boolean, bi: boolean) =>
    np.stack([0, 1].map((b) => f(bx ? xs.index(b) : xs.index(0), bi ? is.index(b) : is.index(0))));
  const fns: [string, (x: NDArray, i: NDArray) => NDArray][] = [
    ["index", (x, i) => x.index(np.s(), i)],
    ["index two arrays", (x, i) => x.index(i, i.add(1))],
    ["at.set", (x, i) => x.at(i, 1).set(-1)],
    ["at.add", (x, i) => x.at(i).add(x.index(0))],
    ["at.max", (x, i) => x.at(np.s(), i).max(5)],
    ["takeAlongAxis", (x, i) => np.takeAlongAxis(x, i.reshape([1, 3]), 1)],
    ["dynamicSlice", (x, i) => lax.dynamicSlice(x, [i.index(0), i.index(1)], [2, 2])],
  ];
  for (const [name, f] of fns) {
    it(`${name}: vmap over operand, indices, both`, () => {
      close(vmap(f, { inAxes: [0, null] })(xs, is.index(0)), loop(f, true, false));
      close(vmap(f, { inAxes: [null, 0] })(xs.index(0), is), loop(f, false, true));
      close(vmap(f)(xs, is), loop(f, true, true));
    });
    it(`${name}: jit with traced indices equals eager`, () => {
      close(jit(f)(xs.index(1), is.index(1)), f(xs.index(1), is.index(1)));
    });
  }
  it("dynamic starts inside scan", () => {
    const x = np.arange(6, undefined, undefined, "float32");
    const [, ys] = lax.scan(
      (c: NDArray, i: NDArray) => [c, lax.dynamicSlice(x, [i], [2])],
      np.zeros([]),
      np.arange(4, undefined, undefined, "int32"),
    );
    expect((ys as NDArray).tolist()).toEqual([
      [0, 1],
      [1, 2],
      [2, 3],
      [3, 4],
    ]);
  });
});

// ---------------------------------------------------------------- errors

describe("typed errors", () => {
  const x = iota([3, 4]);
  it("refuses bad indices with a typed error and leaves x unchanged", () => {
    expect(() => x.index(3)).toThrow(ShapeError);
    expect(() => x.index(0, -5)).toThrow(/out of bounds for axis 1 with size 4/);
    expect(() => x.index(0, 0, 0)).toThrow(ShapeError);
    expect(() => x.index(0, 0, 0)).toThrow(/too many indices/);
    expect(() => x.index(np.array([0.5, 1]))).toThrow(DTypeError);
    expect(() => x.index("1:x")).toThrow(ArgumentError);
    expect(() => x.index("...", "...")).toThrow(ArgumentError);
    expect(() => x.index({} as never)).toThrow(ArgumentError);
    expect(() => np.s(0, 1, 0)).toThrow(ArgumentError);
    expect(() => x.at(0).set(np.ones([3]))).toThrow(ShapeError);
    expect(() => x.index(i32([0, 1]), i32([0, 1, 2]))).toThrow(ShapeError);
    expect(() => jit((m: NDArray) => x.index(m))(np.array([true, false, true]))).toThrow(ConcretizationError);
    expect(() => jit((m: NDArray) => x.index(m))(np.array([true, false, true]))).toThrow(/np\.where/);
    expect(() => np.takeAlongAxis(x, i32([1, 2]), 1)).toThrow(ShapeError);
    expect(() => lax.dynamicSlice(x, [0], [1, 1])).toThrow(ShapeError);
    expect(() => lax.dynamicSlice(x, [0, 0], [4, 1])).toThrow(ShapeError);
    expect(() => lax.dynamicSlice(x, [0, np.array(1)], [1, 1])).toThrow(DTypeError);
    expect(x.tolist()).toEqual(iota([3, 4]).tolist());
  });
});
