/**
 * Reductions, scans, sorting and rearranging: values against naive JavaScript references written
 * here, derivatives by finite differences, vmap against a loop, jit against eager, typed errors.
 */
import { describe, expect, it } from "vitest";
import { ArgumentError, type NDArray, ShapeError, grad, jit, np, vmap } from "../../src/index.js";
import { expectClose, expectGrads, expectVmapJit, f64 } from "./helpers.js";

const flat = (x: NDArray): number[] => Array.from(x.dataSync());
const rows = [
  [0.3, -1.2, 2.5, 0.7],
  [1.1, 0.4, -0.6, 3.2],
  [-2.0, 0.9, 0.1, -0.3],
];
const scanRef = (xs: number[], op: (a: number, b: number) => number) => xs.map((_, i) => xs.slice(0, i + 1).reduce((a, b) => op(a, b)));

describe("cumulative functions", () => {
  const cases: [string, (x: NDArray, o?: never) => NDArray, (a: number, b: number) => number][] = [
    ["cumprod", np.cumprod as never, (a, b) => a * b],
    ["cummax", np.cummax as never, Math.max],
    ["cummin", np.cummin as never, Math.min],
    ["cumsum", np.cumsum as never, (a, b) => a + b],
  ];
  for (const [name, f, op] of cases) {
    it(`np.${name} along an axis, reversed, flattened; derivatives, vmap, jit`, () => {
      const x = f64(rows);
      expectClose(
        (f as any)(x, { axis: 1 }),
        rows.flatMap((r) => scanRef(r, op)),
        1e-13,
      );
      expectClose(
        (f as any)(x, 1),
        rows.flatMap((r) => scanRef(r, op)),
        1e-13,
      );
      expectClose(
        (f as any)(x, { axis: 1, reverse: true }),
        rows.flatMap((r) => scanRef([...r].reverse(), op).reverse()),
        1e-13,
      );
      expectClose((f as any)(x), scanRef(rows.flat(), op), 1e-12);
      expectGrads((v: NDArray) => (f as any)(v, { axis: 0 }), [x]);
      expectVmapJit((v: NDArray) => (f as any)(v, { axis: 0 }), x);
    });
  }
  it("np.cumprod's gradient is exact where an element is 0", () => {
    // d/dx_i of sum(cumprod(x)) at x = [2, 0, 3]: by hand, [1, 2 + 2*3, 0].
    expectClose(grad((x: NDArray) => np.sum(np.cumprod(x)))(f64([2, 0, 3])), [1, 8, 0], 1e-14);
  });
  it("a list of axes is a typed error that shows the right call", () => {
    expect(() => np.cumprod(f64(rows), [0] as never)).toThrow(/np\.cumprod\(x, \{ axis: 0 \}\)/);
  });
});

describe("sort, argsort, searchsorted, interp, quantiles", () => {
  it("np.sort / np.argsort agree with JavaScript's sort, are stable, put NaN last, and take { axis, descending }", () => {
    const x = f64(rows);
    expectClose(
      np.sort(x),
      rows.flatMap((r) => [...r].sort((a, b) => a - b)),
      0,
    );
    expectClose(np.sort(x, { axis: 0 }), flat(np.transpose(f64([0, 1, 2, 3].map((j) => rows.map((r) => r[j]!).sort((a, b) => a - b))))), 0);
    expectClose(
      np.sort(x, { axis: null, descending: true }),
      rows.flat().sort((a, b) => b - a),
      0,
    );
    expect(np.argsort(f64([2, 1, 2, 1, NaN, 0])).tolist()).toEqual([5, 1, 3, 0, 2, 4]);
    expect(np.argsort(f64([2, 1, 2, 1]), { descending: true }).tolist()).toEqual([0, 2, 1, 3]);
    expectClose(np.sort(f64([NaN, 1, -Infinity])), [-Infinity, 1, NaN]);
    expect(np.argsort(np.array([3, 1, 2], { dtype: "int32" })).tolist()).toEqual([1, 2, 0]);
  });
  it("np.sort's derivative follows the permutation; vmap and jit", () => {
    expectGrads((v: NDArray) => np.sort(v, { axis: 1 }), [f64(rows)]);
    expectVmapJit((v: NDArray) => np.sort(v), f64(rows));
    expectVmapJit((v: NDArray) => np.argsort(v).astype("float64"), f64(rows));
  });
  it("sorts long axes in O(n log n): 200,000 values with repeats and NaN, and quantiles of them", () => {
    const n = 200_000;
    const host = Array.from({ length: n }, (_, i) => (i % 1000 === 7 ? NaN : ((i * 7919) % 10007) - 5000));
    const want = host
      .map((v, i) => [v, i] as const)
      .sort(([a, i], [b, j]) => (Number.isNaN(a) ? (Number.isNaN(b) ? i - j : 1) : Number.isNaN(b) ? -1 : a - b || i - j))
      .map(([, i]) => i);
    const x = np.array(host, { dtype: "float64" });
    expect(Array.from(np.argsort(x).dataSync())).toEqual(want);
    const ordered = host.filter((v) => !Number.isNaN(v)).sort((a, b) => a - b);
    expect(
      np
        .median(
          np.array(
            host.filter((v) => !Number.isNaN(v)),
            { dtype: "float64" },
          ),
        )
        .item(),
    ).toBe((ordered[ordered.length / 2 - 1]! + ordered[ordered.length / 2]!) / 2);
  });
  it("np.searchsorted counts as NumPy's left and right sides", () => {
    const a = f64([1, 2, 2, 3]);
    expect(np.searchsorted(a, f64([0, 2, 2.5, 4])).tolist()).toEqual([0, 1, 3, 4]);
    expect(np.searchsorted(a, f64([2]), { side: "right" }).tolist()).toEqual([3]);
    expect(() => np.searchsorted(a, 1, { side: "middle" as never })).toThrow(ArgumentError);
  });
  it("np.searchsorted counts by binary search: any length (0, 1, powers of two and beside them), repeats, ±inf and NaN, both sides, jit and vmap", () => {
    // The reference counts every element, as the definition says.
    const count = (a: number[], v: number, side: "left" | "right") => a.filter((e) => (side === "left" ? e < v : e <= v)).length;
    for (const n of [0, 1, 2, 3, 7, 8, 9, 16, 33]) {
      const a = Array.from({ length: n }, (_, i) => Math.floor(i / 3) - 2).map((e, i) =>
        i === n - 1 && n > 4 ? NaN : i === 0 && n > 3 ? -Infinity : e,
      );
      const queries = [-Infinity, -3, -2, -1.5, 0, 1, 2, 9, Infinity, NaN];
      for (const side of ["left", "right"] as const) {
        const got = np.searchsorted(f64(a), f64(queries), { side });
        expect(flat(got), `n = ${n} ${side}`).toEqual(queries.map((q) => count(a, q, side)));
        expect(got.dtype).toBe("int32");
        expect(flat(jit((x: NDArray, q: NDArray) => np.searchsorted(x, q, { side }))(f64(a), f64(queries)))).toEqual(flat(got));
      }
    }
    // Values of any shape; vmap over the values and over the sorted arrays.
    const a = f64([1, 2, 2, 3, 5, 8]);
    expect(
      np
        .searchsorted(
          a,
          f64([
            [0, 2],
            [4, 9],
          ]),
        )
        .tolist(),
    ).toEqual([
      [0, 1],
      [4, 6],
    ]);
    expect(
      vmap((q: NDArray) => np.searchsorted(a, q))(
        f64([
          [0, 2],
          [4, 9],
        ]),
      ).tolist(),
    ).toEqual([
      [0, 1],
      [4, 6],
    ]);
    expect(
      vmap((s: NDArray) => np.searchsorted(s, 2.5))(
        f64([
          [1, 2, 3],
          [3, 4, 5],
        ]),
      ).tolist(),
    ).toEqual([2, 0]);
    // 10⁵ values in 10⁵ elements: comparing every pair would need 10¹⁰ of them.
    const big = Float32Array.from({ length: 100_000 }, (_, i) => i * 0.5);
    const qs = Float32Array.from({ length: 100_000 }, (_, i) => ((i * 7919) % 100_000) * 0.25);
    const got = flat(np.searchsorted(np.array(big), np.array(qs), { side: "right" }));
    expect(got.every((g, i) => g === Math.min(100_000, Math.floor(qs[i]! / 0.5) + 1))).toBe(true);
  });
  it("np.interp: values by hand, derivatives in x, xp and fp, vmap and jit", () => {
    const xp = f64([0, 1, 3]),
      fp = f64([1, 3, -1]);
    expectClose(np.interp(f64([-1, 0, 0.5, 2, 3, 5]), xp, fp), [1, 1, 2, 1, -1, -1], 1e-14);
    expectClose(np.interp(f64([-1, 5]), xp, fp, { left: 7, right: 8 }), [7, 8], 0);
    expectGrads((x: NDArray, a: NDArray, b: NDArray) => np.interp(x, a, b), [f64([0.5, 2.2]), xp, fp]);
    expectVmapJit(
      (x: NDArray) => np.interp(x, xp, fp),
      f64([
        [0.5, 2.5],
        [1.5, -1],
      ]),
    );
  });
  it("np.median / quantile / percentile interpolate linearly, as NumPy", () => {
    const x = f64([
      [3, 1, 4, 1],
      [5, 9, 2, 6],
    ]);
    expectClose(np.median(x), [3.5], 1e-14);
    expectClose(np.median(x, { axis: 1 }), [2, 5.5], 1e-14);
    expectClose(np.quantile(x, 0.25, { axis: 1 }), [1, 4.25], 1e-14);
    expectClose(np.percentile(x, 100, { axis: 0 }), [5, 9, 4, 6], 0);
    expectClose(np.median(x, { axis: 1, keepdims: true }), [2, 5.5], 1e-14);
    expect(np.median(x, { axis: 1, keepdims: true }).shape).toEqual([2, 1]);
    expectGrads((v: NDArray) => np.quantile(v, 0.3, { axis: 1 }), [f64(rows)]);
    expect(() => np.quantile(x, 1.5)).toThrow(/q must be a number in \[0, 1\]/);
  });
});

describe("NaN-aware and logical reductions", () => {
  const x = f64([
    [1, NaN, 3],
    [NaN, NaN, NaN],
    [-2, 4, 0.5],
  ]);
  it("nansum, nanprod, nanmean, nanvar, nanstd, nanmax, nanmin, nanargmax, nanargmin", () => {
    expectClose(np.nansum(x, { axis: 1 }), [4, 0, 2.5], 1e-14);
    expectClose(np.nanprod(x, 1), [3, 1, -4], 1e-14);
    expectClose(np.nanmean(x, { axis: 1 }), [2, NaN, 2.5 / 3], 1e-14);
    const m = 2.5 / 3;
    const v = ((-2 - m) ** 2 + (4 - m) ** 2 + (0.5 - m) ** 2) / 3;
    expectClose(np.nanvar(x, { axis: 1 }), [1, NaN, v], 1e-14);
    expectClose(np.nanstd(x, { axis: 1 }), [1, NaN, Math.sqrt(v)], 1e-14);
    expectClose(np.nanmax(x, { axis: 1 }), [3, NaN, 4], 0);
    expectClose(np.nanmin(x, { axis: 1 }), [1, NaN, -2], 0);
    expect(np.nanargmax(f64([NaN, 2, 5, NaN])).item()).toBe(2);
    expect(np.nanargmin(f64([NaN, 2, 5, NaN])).item()).toBe(1);
    const y = f64([
      [1, NaN, 3],
      [2, 0.5, NaN],
    ]);
    expectGrads(
      (t: NDArray) => np.nansum(np.square(t), { axis: 1 }),
      [
        f64([
          [1, 2.5, 3],
          [2, 0.5, -1],
        ]),
      ],
    );
    expectClose(grad((t: NDArray) => np.nanmean(t))(y), [0.25, 0, 0.25, 0.25, 0.25, 0], 1e-14);
    expectVmapJit(
      (t: NDArray) => np.nanmean(t),
      f64([
        [1, NaN],
        [2, 3],
      ]),
    );
  });
  it("all, any, countNonzero (empty axes give the identities), ptp, average", () => {
    const b = f64([
      [1, 0, 2],
      [3, 4, 5],
    ]);
    expect((np.all(b, { axis: 1 }).tolist() as number[]).map(Boolean)).toEqual([false, true]);
    expect((np.any(b, 0).tolist() as number[]).map(Boolean)).toEqual([true, true, true]);
    expect(np.all(np.zeros([0])).item()).toBe(1);
    expect(np.any(np.zeros([0])).item()).toBe(0);
    expect(np.countNonzero(b).item()).toBe(5);
    expectClose(np.ptp(b, { axis: 1 }), [2, 2], 0);
    expectClose(np.average(b, { axis: 1, weights: f64([1, 2, 1]) }), [0.75, 4], 1e-14);
    expectClose(np.average(b), [2.5], 1e-14);
    expectGrads((t: NDArray, w: NDArray) => np.average(t, { axis: 1, weights: w }), [b, f64([1, 2, 1.5])]);
  });
});

describe("cov and corrcoef", () => {
  it("against the two-pass formulas written here, rowvar, ddof, derivatives", () => {
    const m = [
      [1, 2, 3, 4.5],
      [2, 4.5, 6, 9],
      [0.3, -1, 0.2, 0.1],
    ];
    const mean = (v: number[]) => v.reduce((a, b) => a + b, 0) / v.length;
    const c = (a: number[], b: number[], ddof = 1) => a.reduce((s, _, i) => s + (a[i]! - mean(a)) * (b[i]! - mean(b)), 0) / (a.length - ddof);
    expectClose(
      np.cov(f64(m)),
      m.flatMap((a) => m.map((b) => c(a, b))),
      1e-13,
    );
    expectClose(
      np.cov(f64(m), { bias: true }),
      m.flatMap((a) => m.map((b) => c(a, b, 0))),
      1e-13,
    );
    const cols = [0, 1, 2, 3].map((j) => m.map((r) => r[j]!));
    expectClose(
      np.cov(f64(m), { rowvar: false }),
      cols.flatMap((a) => cols.map((b) => c(a, b))),
      1e-13,
    );
    expectClose(np.cov(f64(m[0]!)), [c(m[0]!, m[0]!)], 1e-13);
    expectClose(
      np.corrcoef(f64(m)),
      m.flatMap((a) => m.map((b) => c(a, b) / Math.sqrt(c(a, a) * c(b, b)))),
      1e-13,
    );
    expectGrads((t: NDArray) => np.corrcoef(t), [f64(m)]);
    const m2 = m.map((r) => r.map((v) => v * 2 - 1));
    expectClose(vmap((t: NDArray) => np.cov(t))(f64([m, m2])), [...np.cov(f64(m)).dataSync(), ...np.cov(f64(m2)).dataSync()], 1e-13);
    expectClose(jit((t: NDArray) => np.corrcoef(t))(f64(m)), Array.from(np.corrcoef(f64(m)).dataSync()), 1e-13);
  });
});

describe("rearranging arrays", () => {
  const x = f64([
    [0, 1, 2, 3, 4, 5],
    [6, 7, 8, 9, 10, 11],
  ]);
  it("split / arraySplit at sections and indices, with { axis } or a positional axis", () => {
    expect(np.split(x, 3, { axis: 1 }).map((p) => p.tolist())).toEqual([
      [
        [0, 1],
        [6, 7],
      ],
      [
        [2, 3],
        [8, 9],
      ],
      [
        [4, 5],
        [10, 11],
      ],
    ]);
    expect(np.split(x, [1, 4], 1).map((p) => p.shape)).toEqual([
      [2, 1],
      [2, 3],
      [2, 2],
    ]);
    expect(np.arraySplit(np.arange(7), 3).map((p) => p.tolist())).toEqual([
      [0, 1, 2],
      [3, 4],
      [5, 6],
    ]);
    expect(() => np.split(np.arange(7), 3)).toThrow(ShapeError);
    expectGrads((t: NDArray) => np.split(t, 2, { axis: 1 })[1]!.mul(f64(2)), [x]);
  });
  it("roll, rot90, fliplr, flipud against index arithmetic", () => {
    const n = [0, 1, 2, 3, 4, 5];
    expect(np.roll(f64(n), 2).tolist()).toEqual(n.map((_, i) => n[(i - 2 + 6) % 6]));
    expect(np.roll(f64(n), -7).tolist()).toEqual(n.map((_, i) => n[(i + 7) % 6]));
    expect(np.roll(x, 1, { axis: 1 }).tolist()).toEqual([
      [5, 0, 1, 2, 3, 4],
      [11, 6, 7, 8, 9, 10],
    ]);
    expect(np.roll(x, [1, 1], { axis: [0, 1] }).tolist()).toEqual([
      [11, 6, 7, 8, 9, 10],
      [5, 0, 1, 2, 3, 4],
    ]);
    expect(np.roll(x, 1).tolist()).toEqual([
      [11, 0, 1, 2, 3, 4],
      [5, 6, 7, 8, 9, 10],
    ]);
    const m = f64([
      [1, 2],
      [3, 4],
    ]);
    expect(np.rot90(m).tolist()).toEqual([
      [2, 4],
      [1, 3],
    ]);
    expect(np.rot90(m, 2).tolist()).toEqual([
      [4, 3],
      [2, 1],
    ]);
    expect(np.rot90(m, -1).tolist()).toEqual([
      [3, 1],
      [4, 2],
    ]);
    expect(np.fliplr(m).tolist()).toEqual([
      [2, 1],
      [4, 3],
    ]);
    expect(np.flipud(m).tolist()).toEqual([
      [3, 4],
      [1, 2],
    ]);
    expectVmapJit((t: NDArray) => np.roll(t, 2), x);
  });
  it("stacks, atleast, append, repeat, broadcastArrays", () => {
    const a = f64([1, 2]),
      b = f64([3, 4]);
    expect(np.hstack([a, b]).tolist()).toEqual([1, 2, 3, 4]);
    expect(np.vstack([a, b]).tolist()).toEqual([
      [1, 2],
      [3, 4],
    ]);
    expect(np.dstack([a, b]).shape).toEqual([1, 2, 2]);
    expect(np.columnStack([a, b]).tolist()).toEqual([
      [1, 3],
      [2, 4],
    ]);
    expect([np.atleast1d(f64(1)).shape, np.atleast2d(a).shape, np.atleast3d(np.ones([2, 3])).shape]).toEqual([[1], [1, 2], [2, 3, 1]]);
    expect(np.append(a, f64([[5]])).tolist()).toEqual([1, 2, 5]);
    expect(np.repeat(a, 2).tolist()).toEqual([1, 1, 2, 2]);
    expect(
      np
        .repeat(
          f64([
            [1, 2],
            [3, 4],
          ]),
          [1, 2],
          { axis: 0 },
        )
        .tolist(),
    ).toEqual([
      [1, 2],
      [3, 4],
      [3, 4],
    ]);
    expect(np.broadcastArrays(a, f64([[1], [2], [3]])).map((t) => t.shape)).toEqual([
      [3, 2],
      [3, 2],
    ]);
    expectGrads((t: NDArray) => np.repeat(t, [2, 0, 1]), [f64([0.5, 1.5, 2.5])]);
  });
  it("meshgrid with xy and ij indexing", () => {
    const [gx, gy] = np.meshgrid(f64([1, 2, 3]), f64([4, 5]));
    expect(gx!.tolist()).toEqual([
      [1, 2, 3],
      [1, 2, 3],
    ]);
    expect(gy!.tolist()).toEqual([
      [4, 4, 4],
      [5, 5, 5],
    ]);
    const [ix] = np.meshgrid(f64([1, 2, 3]), f64([4, 5]), { indexing: "ij" });
    expect(ix!.tolist()).toEqual([
      [1, 1],
      [2, 2],
      [3, 3],
    ]);
  });
  it("diag, diff, cross", () => {
    expect(np.diag(f64([1, 2]), -1).tolist()).toEqual([
      [0, 0, 0],
      [1, 0, 0],
      [0, 2, 0],
    ]);
    expect(
      np
        .diag(
          f64([
            [1, 2, 3],
            [4, 5, 6],
          ]),
          1,
        )
        .tolist(),
    ).toEqual([2, 6]);
    expect(np.diff(f64([1, 4, 9, 16])).tolist()).toEqual([3, 5, 7]);
    expect(np.diff(f64([1, 4, 9, 16]), 2).tolist()).toEqual([2, 2]);
    expect(np.diff(x, { axis: 0 }).tolist()).toEqual([[6, 6, 6, 6, 6, 6]]);
    expect(np.cross(f64([1, 0, 0]), f64([0, 1, 0])).tolist()).toEqual([0, 0, 1]);
    const u = [0.3, -1, 2],
      w = [1.5, 0.2, -0.7];
    const want = [u[1]! * w[2]! - u[2]! * w[1]!, u[2]! * w[0]! - u[0]! * w[2]!, u[0]! * w[1]! - u[1]! * w[0]!];
    expectClose(np.cross(f64(u), f64(w)), want, 1e-15);
    expectGrads((p: NDArray, q: NDArray) => np.cross(p, q), [f64(u), f64(w)]);
    expectVmapJit((p: NDArray) => np.diff(p), x);
  });
  it("tensordot and einsum with '...' against naive loops", () => {
    const A = f64([
      [
        [1, 2],
        [3, 4],
      ],
      [
        [5, 6],
        [7, 8],
      ],
    ]); // [2, 2, 2]
    const B = f64([
      [1, -1, 0],
      [2, 0.5, 1],
    ]); // [2, 3]
    const naive: number[] = [];
    for (let i = 0; i < 2; i++)
      for (let j = 0; j < 2; j++)
        for (let k = 0; k < 3; k++)
          naive.push([0, 1].reduce((s, l) => s + (A.tolist() as number[][][])[i]![j]![l]! * (B.tolist() as number[][])[l]![k]!, 0));
    expectClose(np.tensordot(A, B, 1), naive, 1e-14);
    expectClose(np.einsum("...j,jk->...k", A, B), naive, 1e-14);
    expectClose(np.einsum("...j,jk", A, B), naive, 1e-14);
    expectClose(
      np.tensordot(A, A, [
        [0, 1, 2],
        [0, 1, 2],
      ]),
      [204],
      1e-14,
    );
    expectClose(
      np.einsum(
        "i...,i...->...",
        f64([
          [1, 2],
          [3, 4],
        ]),
        f64([
          [1, 1],
          [2, 2],
        ]),
      ),
      [7, 10],
      1e-14,
    );
    expectGrads((p: NDArray, q: NDArray) => np.einsum("...j,jk->...k", p, q), [A, B]);
    expect(() => np.tensordot(A, B, 3)).toThrow(ArgumentError);
  });
});
