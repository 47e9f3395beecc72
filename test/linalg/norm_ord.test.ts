/**
 * np.linalg.norm's matrix ords (JAX's set: "fro", "nuc", 1, -1, 2, -2, Infinity, -Infinity) over
 * 2-D arrays and any pair of axes of N-d arrays. Expected values are computed here in plain
 * float64 JavaScript: column and row sums by loops, singular values as the square roots of the
 * eigenvalues of AᵀA found by a cyclic Jacobi iteration. Derivatives by finite differences
 * (checkGrads) and against the closed forms u₁v₁ᵀ and U Vᵀ; jit against eager; vmap against a loop.
 */
import { describe, expect, it } from "vitest";
import { ArgumentError, type NDArray, grad, jit, np, vmap } from "../../src/index.js";
import { checkGrads } from "../../laws/index.js";
import { expectClose } from "../helpers.js";

type Mat = number[][];
type Ord = number | "fro" | "nuc" | null;

const f64 = (data: unknown) => np.array(data as number[], { dtype: "float64" });

const ORDS: Ord[] = [null, "fro", "nuc", 1, -1, 2, -2, Infinity, -Infinity];

const transpose = (m: Mat): Mat => m[0]!.map((_, j) => m.map((row) => row[j]!));

const matmul = (a: Mat, b: Mat): Mat => a.map((row) => b[0]!.map((_, j) => row.reduce((s, v, k) => s + v * b[k]![j]!, 0)));

/** Eigenvalues and eigenvectors (columns of v) of a symmetric matrix, by cyclic Jacobi rotations. */
function jacobiEigen(sym: Mat): { w: number[]; v: Mat } {
  const n = sym.length;
  const a = sym.map((r) => r.slice());
  const v: Mat = a.map((_, i) => a.map((__, j) => (i === j ? 1 : 0)));
  for (let sweep = 0; sweep < 100; sweep++) {
    let off = 0;
    for (let p = 0; p < n; p++) for (let q = p + 1; q < n; q++) off += a[p]![q]! ** 2;
    if (off < 1e-30) break;
    for (let p = 0; p < n; p++) {
      for (let q = p + 1; q < n; q++) {
        const apq = a[p]![q]!;
        if (apq === 0) continue;
        const theta = (a[q]![q]! - a[p]![p]!) / (2 * apq);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1),
          s = t * c;
        for (let k = 0; k < n; k++) {
          const akp = a[k]![p]!,
            akq = a[k]![q]!;
          a[k]![p] = c * akp - s * akq;
          a[k]![q] = s * akp + c * akq;
        }
        for (let k = 0; k < n; k++) {
          const apk = a[p]![k]!,
            aqk = a[q]![k]!;
          a[p]![k] = c * apk - s * aqk;
          a[q]![k] = s * apk + c * aqk;
        }
        for (let k = 0; k < n; k++) {
          const vkp = v[k]![p]!,
            vkq = v[k]![q]!;
          v[k]![p] = c * vkp - s * vkq;
          v[k]![q] = s * vkp + c * vkq;
        }
      }
    }
  }
  return { w: a.map((r, i) => r[i]!), v };
}

/** Singular values of m (min(rows, cols) of them, descending): √eig(AᵀA) or √eig(AAᵀ), whichever is smaller. */
function singularValues(m: Mat): number[] {
  const g = m.length >= m[0]!.length ? matmul(transpose(m), m) : matmul(m, transpose(m));
  return jacobiEigen(g)
    .w.map((x) => Math.sqrt(Math.max(x, 0)))
    .sort((x, y) => y - x);
}

const colSums = (m: Mat): number[] => m[0]!.map((_, j) => m.reduce((s, row) => s + Math.abs(row[j]!), 0));
const rowSums = (m: Mat): number[] => m.map((row) => row.reduce((s, v) => s + Math.abs(v), 0));

/** The matrix norm of m by plain loops (and Jacobi for the singular values). */
function refNorm(m: Mat, ord: Ord): number {
  switch (ord) {
    case null:
    case "fro":
      return Math.sqrt(m.flat().reduce((s, v) => s + v * v, 0));
    case "nuc":
      return singularValues(m).reduce((s, v) => s + v, 0);
    case 1:
      return Math.max(...colSums(m));
    case -1:
      return Math.min(...colSums(m));
    case Infinity:
      return Math.max(...rowSums(m));
    case -Infinity:
      return Math.min(...rowSums(m));
    case 2:
      return singularValues(m)[0]!;
    case -2:
      return singularValues(m).at(-1)!;
  }
  throw new Error(`no reference for ord ${String(ord)}`);
}

/** Nested element at index `idx` of a nested array. */
const at = (x: unknown, idx: number[]): number => idx.reduce<unknown>((v, i) => (v as unknown[])[i], x) as number;

/**
 * The matrices of a nested array of shape `shape` over axes [r, c] (rows along r, columns along c),
 * one per index of the remaining axes in row-major order.
 */
function matricesOver(x: unknown, shape: number[], r: number, c: number): Mat[] {
  const others = shape.map((_, d) => d).filter((d) => d !== r && d !== c);
  const count = others.reduce((p, d) => p * shape[d]!, 1);
  const out: Mat[] = [];
  for (let flat = 0; flat < count; flat++) {
    const idx = shape.map(() => 0);
    let rest = flat;
    for (let k = others.length - 1; k >= 0; k--) {
      const d = others[k]!;
      idx[d] = rest % shape[d]!;
      rest = Math.floor(rest / shape[d]!);
    }
    const m: Mat = [];
    for (let i = 0; i < shape[r]!; i++) {
      const row: number[] = [];
      for (let j = 0; j < shape[c]!; j++) {
        idx[r] = i;
        idx[c] = j;
        row.push(at(x, idx));
      }
      m.push(row);
    }
    out.push(m);
  }
  return out;
}

/** Well-conditioned, distinct singular values, no ties among row or column sums. */
const A33: Mat = [
  [4, -1, 0.5],
  [1.5, 3, -2],
  [-0.9, 2.2, 5],
];
const A42: Mat = [
  [2, -1],
  [0.3, 3],
  [-1.2, 0.8],
  [4, 1.7],
];
/** [2, 3, 3] */
const B233 = [
  A33,
  [
    [1, 2, -3],
    [0.25, -4, 1],
    [2.5, 0.5, 6],
  ],
];
/** [3, 2, 4] */
const C324 = [
  [
    [1, -2, 0.5, 3],
    [0.7, 1.1, -2.3, 0.2],
  ],
  [
    [-1.5, 2.5, 1, -0.4],
    [3.2, -0.6, 0.9, 1.8],
  ],
  [
    [0.3, -1.7, 2.2, 4.1],
    [-2.6, 0.4, 1.3, -0.9],
  ],
];

const near = (got: NDArray, want: number[], shape: number[], rtol = 1e-10) => {
  expect(got.shape).toEqual(shape);
  expectClose(got, want, rtol, rtol);
};

describe("np.linalg.norm matrix ords: values", () => {
  it("the references see what they should (sanity of the test's own Jacobi SVD)", () => {
    // diag(3, -2) has singular values 3 and 2; a rotation times it keeps them.
    expect(
      singularValues([
        [3, 0],
        [0, -2],
      ]),
    ).toEqual([3, 2]);
    const c = Math.cos(0.3),
      s = Math.sin(0.3);
    const sv = singularValues(
      matmul(
        [
          [c, -s],
          [s, c],
        ],
        [
          [3, 0],
          [0, -2],
        ],
      ),
    );
    expect(Math.abs(sv[0]! - 3)).toBeLessThan(1e-14);
    expect(Math.abs(sv[1]! - 2)).toBeLessThan(1e-14);
    // Σσ² is the squared Frobenius norm.
    const s33 = singularValues(A33);
    expect(s33.reduce((p, v) => p + v * v, 0)).toBeCloseTo(
      A33.flat().reduce((p, v) => p + v * v, 0),
      10,
    );
    expect(new Set(s33.map((v) => v.toFixed(6))).size).toBe(3);
    // No ties among A33's column sums or row sums, where 1 / -1 / ±Infinity would have kinks.
    expect(new Set(colSums(A33)).size).toBe(3);
    expect(new Set(rowSums(A33)).size).toBe(3);
  });

  for (const [name, m] of [
    ["3×3", A33],
    ["4×2", A42],
    ["2×4", transpose(A42)],
  ] as [string, Mat][]) {
    it(`${name} float64: every ord, with no axis, axis [0, 1] and axis [1, 0] (the transpose)`, () => {
      const x = f64(m);
      for (const ord of ORDS) {
        const want = refNorm(m, ord);
        near(np.linalg.norm(x, { ord }), [want], []);
        near(np.linalg.norm(x, { ord, axis: [0, 1] }), [want], []);
        near(np.linalg.norm(x, { ord, axis: [-2, -1] }), [want], []);
        near(np.linalg.norm(x, { ord, axis: [1, 0] }), [refNorm(transpose(m), ord)], []);
        near(np.linalg.norm(x, { ord, keepdims: true }), [want], [1, 1]);
        expect(np.linalg.norm(x, { ord }).dtype).toBe("float64");
      }
      // The number form is the ord.
      near(np.linalg.norm(x, 2), [refNorm(m, 2)], []);
      near(np.linalg.norm(x, -1), [refNorm(m, -1)], []);
    });
  }

  it("1 / -1 are column sums and Infinity / -Infinity row sums (not the other way round)", () => {
    // Column sums 1 and 10, row sums 5 and 6: each ord has its own value.
    const m: Mat = [
      [1, 4],
      [0, 6],
    ];
    const x = f64(m);
    expect(np.linalg.norm(x, 1).tolist()).toBe(10);
    expect(np.linalg.norm(x, -1).tolist()).toBe(1);
    expect(np.linalg.norm(x, Infinity).tolist()).toBe(6);
    expect(np.linalg.norm(x, -Infinity).tolist()).toBe(5);
  });

  it("batched [2, 3, 3] over axis [1, 2] and axis [2, 1], with and without keepdims", () => {
    const x = f64(B233);
    for (const ord of ORDS) {
      for (const axis of [
        [1, 2],
        [2, 1],
        [-2, -1],
        [-1, 1],
      ]) {
        const [r, c] = axis.map((d) => (d < 0 ? d + 3 : d)) as [number, number];
        const want = matricesOver(B233, [2, 3, 3], r, c).map((mm) => refNorm(mm, ord));
        near(np.linalg.norm(x, { ord, axis }), want, [2]);
        near(np.linalg.norm(x, { ord, axis, keepdims: true }), want, [2, 1, 1]);
      }
    }
    // [2, 1] is the transposed matrices: 1 there is Infinity over [1, 2].
    expectClose(np.linalg.norm(x, { ord: 1, axis: [2, 1] }), np.linalg.norm(x, { ord: Infinity, axis: [1, 2] }), 1e-12, 1e-12);
  });

  it("[3, 2, 4] over axis [0, 2] and [2, 0]: the middle axis batches; keepdims gives [1, 2, 1]", () => {
    const x = f64(C324);
    for (const ord of ORDS) {
      for (const [r, c] of [
        [0, 2],
        [2, 0],
      ] as [number, number][]) {
        const want = matricesOver(C324, [3, 2, 4], r, c).map((mm) => refNorm(mm, ord));
        expect(want).toHaveLength(2);
        near(np.linalg.norm(x, { ord, axis: [r, c] }), want, [2]);
        near(np.linalg.norm(x, { ord, axis: [r, c], keepdims: true }), want, [1, 2, 1]);
      }
    }
    // [3, 2, 4] over [1, 2]: three 2×4 matrices; keepdims [3, 1, 1].
    const want = matricesOver(C324, [3, 2, 4], 1, 2).map((mm) => refNorm(mm, "nuc"));
    near(np.linalg.norm(x, { ord: "nuc", axis: [1, 2], keepdims: true }), want, [3, 1, 1]);
  });

  it("4-D [2, 3, 2, 3] over axis [3, 1]: the two other axes batch in their order", () => {
    const shape = [2, 3, 2, 3];
    let seed = 7;
    const next = () => ((seed = (seed * 16807) % 2147483647) / 2147483647) * 4 - 2;
    const data = [0, 1].map(() => [0, 1, 2].map(() => [0, 1].map(() => [0, 1, 2].map(next))));
    const x = f64(data);
    for (const ord of ORDS) {
      const want = matricesOver(data, shape, 3, 1).map((mm) => refNorm(mm, ord));
      near(np.linalg.norm(x, { ord, axis: [3, 1] }), want, [2, 2]);
      near(np.linalg.norm(x, { ord, axis: [-1, 1], keepdims: true }), want, [2, 1, 2, 1]);
    }
  });

  it("float32 input gives a float32 result; integer input is promoted to float32", () => {
    const x = np.array(A33, { dtype: "float32" });
    const m32 = x.tolist() as Mat; // the float32-rounded entries
    for (const ord of ORDS) {
      const got = np.linalg.norm(x, { ord });
      expect(got.dtype).toBe("float32");
      near(got, [refNorm(m32, ord)], [], 2e-6);
    }
    const b = np.linalg.norm(np.array(B233, { dtype: "float32" }), { ord: -2, axis: [2, 1], keepdims: true });
    expect(b.dtype).toBe("float32");
    near(
      b,
      matricesOver(B233, [2, 3, 3], 2, 1).map((mm) => refNorm(mm, -2)),
      [2, 1, 1],
      2e-6,
    );
    const ints: Mat = [
      [1, -2],
      [3, 4],
    ];
    const gi = np.linalg.norm(np.array(ints, { dtype: "int32" }), { ord: 2 });
    expect(gi.dtype).toBe("float32");
    near(gi, [refNorm(ints, 2)], [], 2e-6);
  });
});

describe("np.linalg.norm matrix ords: errors", () => {
  const x = f64(A33);
  it("names the supported matrix ords for an unsupported one", () => {
    for (const ord of [3, -3, 0, 0.5, NaN]) {
      expect(() => np.linalg.norm(x, { ord })).toThrow(ArgumentError);
      expect(() => np.linalg.norm(x, { ord })).toThrow(/matrix ord .* is not supported; use "fro", "nuc", 1, -1, 2, -2, Infinity or -Infinity/);
    }
    expect(() => np.linalg.norm(f64(B233), { ord: 3, axis: [2, 0] })).toThrow(ArgumentError);
  });
  it('"nuc" and "fro" need two axes', () => {
    expect(() => np.linalg.norm(x, { ord: "nuc", axis: 0 })).toThrow(ArgumentError);
    expect(() => np.linalg.norm(x, { ord: "nuc", axis: 0 })).toThrow(/ord "nuc" needs two axes, got 1/);
    expect(() => np.linalg.norm(f64([1, 2, 3]), { ord: "nuc" })).toThrow(ArgumentError);
    expect(() => np.linalg.norm(f64([1, 2, 3]), { ord: "fro" })).toThrow(/ord "fro" needs two axes/);
  });
  it('rejects an ord that is not a number, "fro", "nuc" or null', () => {
    expect(() => np.linalg.norm(x, { ord: "spectral" as never })).toThrow(ArgumentError);
    expect(() => np.linalg.norm(x, { ord: "spectral" as never })).toThrow(/ord must be a number, "fro", "nuc" or null/);
    expect(() => np.linalg.norm(f64([1, 2]), { ord: "nuc2" as never, axis: 0 })).toThrow(ArgumentError);
  });
  it("a matrix ord on a 3-D array needs an axis pair; a repeated axis is refused", () => {
    expect(() => np.linalg.norm(f64(B233), { ord: 2 })).toThrow(ArgumentError);
    expect(() => np.linalg.norm(f64(B233), { ord: 2, axis: [1, 1] })).toThrow(/repeated/);
    expect(() => np.linalg.norm(f64(B233), { ord: 2, axis: [1, 3] })).toThrow(/out of range/);
  });
});

describe("np.linalg.norm matrix ords: transforms", () => {
  const x = f64(A33);
  const matOrds: Ord[] = [2, -2, "nuc", 1, -1, Infinity, -Infinity];

  it("checkGrads (both modes, second order) on a well-conditioned matrix with distinct singular values", () => {
    for (const ord of matOrds) checkGrads((v: NDArray) => np.linalg.norm(v, { ord }), [x], { order: 2 });
    for (const ord of [2, -2, "nuc"] as Ord[]) {
      checkGrads((v: NDArray) => np.linalg.norm(v, { ord }), [f64(A42)], { order: 1 });
      checkGrads((v: NDArray) => np.linalg.norm(v, { ord, axis: [2, 0] }), [f64(C324)], { order: 1 });
    }
  });

  it("grad of the 2-norm is u₁v₁ᵀ, of -2 is uₙvₙᵀ, and of the nuclear norm U Vᵀ", () => {
    const { w, v } = jacobiEigen(matmul(transpose(A33), A33));
    const order = w.map((_, i) => i).sort((i, j) => w[j]! - w[i]!);
    const sig = order.map((i) => Math.sqrt(w[i]!));
    const vcol = (k: number) => v.map((row) => [row[order[k]!]!]); // 3×1
    // uₖvₖᵀ = A vₖ vₖᵀ / σₖ, independent of vₖ's sign.
    const outerK = (k: number): Mat => matmul(matmul(A33, vcol(k)), transpose(vcol(k))).map((r) => r.map((e) => e / sig[k]!));
    expectClose(grad((a: NDArray) => np.linalg.norm(a, 2))(x), outerK(0), 1e-9, 1e-9);
    expectClose(grad((a: NDArray) => np.linalg.norm(a, -2))(x), outerK(2), 1e-9, 1e-9);
    const uvt = outerK(0).map((r, i) => r.map((e, j) => e + outerK(1)[i]![j]! + outerK(2)[i]![j]!));
    expectClose(grad((a: NDArray) => np.linalg.norm(a, "nuc"))(x), uvt, 1e-9, 1e-9);
  });

  it("jit(f) = f for every ord, 2-D and batched over a pair of axes", () => {
    const b = f64(C324);
    for (const ord of ORDS) {
      const f = (a: NDArray) => np.linalg.norm(a, { ord });
      expectClose(jit(f)(x), f(x), 1e-12, 1e-12);
      const g = (a: NDArray) => np.linalg.norm(a, { ord, axis: [2, 0], keepdims: true });
      const got = jit(g)(b);
      expect(got.shape).toEqual([1, 2, 1]);
      expectClose(got, g(b), 1e-12, 1e-12);
    }
  });

  it("vmap over a batch of matrices = a loop; vmap of grad = a loop of grads", () => {
    const stack = f64([...B233, A33.map((r) => r.map((e) => -0.5 * e + 1))]);
    for (const ord of ORDS) {
      const f = (a: NDArray) => np.linalg.norm(a, { ord });
      const looped = [0, 1, 2].map((i) => f(stack.index(i)).tolist() as number);
      expectClose(vmap(f)(stack), looped, 1e-12, 1e-12);
      const h = (a: NDArray) => np.linalg.norm(a, { ord, axis: [1, 0] });
      expectClose(
        vmap(h)(stack),
        [0, 1, 2].map((i) => h(stack.index(i)).tolist() as number),
        1e-12,
        1e-12,
      );
    }
    for (const ord of [2, "nuc", -1] as Ord[]) {
      const g = grad((a: NDArray) => np.linalg.norm(a, { ord }));
      const looped = [0, 1, 2].map((i) => g(stack.index(i)).tolist() as Mat);
      expectClose(vmap(g)(stack), looped, 1e-10, 1e-10);
    }
  });
});
