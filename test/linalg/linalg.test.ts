/**
 * np.linalg and linalg: reconstruction identities, comparisons with naive float64 references
 * written here (Gaussian elimination, Gram–Schmidt, cofactor determinants), closed forms on 2×2,
 * derivatives against finite differences (checkGrads, both modes, second order), vmap against a
 * loop, jit against eager, batched leading axes, and typed errors.
 */
import { describe, expect, it } from "vitest";
import {
  DTypeError,
  DeviceError,
  FluxionError,
  type NDArray,
  Prim,
  ShapeError,
  bind,
  grad,
  hessian,
  jacfwd,
  jit,
  linalg,
  np,
  vmap,
} from "../../src/index.js";
import { impls as gpuImpls } from "../../interpreters/webgpu/impl.js";
import { checkGrads } from "../../laws/index.js";

type Mat = number[][];
const f64 = (x: Mat | number[] | number[][][]) => np.array(x as never, { dtype: "float64" });
const host = (x: NDArray): number[] => Array.from(x.dataSync(), Number);
const T = (a: Mat): Mat => a[0]!.map((_, j) => a.map((r) => r[j]!));
const mul = (a: Mat, b: Mat): Mat => a.map((r) => b[0]!.map((_, j) => r.reduce((s, v, k) => s + v * b[k]![j]!, 0)));
const eye = (n: number): Mat => Array.from({ length: n }, (_, i) => Array.from({ length: n }, (__, j) => (i === j ? 1 : 0)));

function close(got: NDArray | number[], want: number[] | Mat, tol = 1e-10): void {
  const g = Array.isArray(got) ? got : host(got);
  const w = (want as unknown[]).flat(3) as number[];
  expect(g.length).toBe(w.length);
  const scale = Math.max(1, ...w.map(Math.abs));
  g.forEach((v, i) => expect(Math.abs(v - w[i]!), `element ${i}: ${v} vs ${w[i]}`).toBeLessThanOrEqual(tol * scale));
}

/** A deterministic pseudo-random matrix with entries in [-1, 1]. */
function rand(m: number, n: number, seed: number): Mat {
  let s = seed >>> 0;
  const next = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32) * 2 - 1;
  return Array.from({ length: m }, () => Array.from({ length: n }, next));
}
const spd = (n: number, seed: number): Mat => {
  const x = rand(n, n, seed);
  return mul(x, T(x)).map((r, i) => r.map((v, j) => v + (i === j ? n : 0)));
};

/** Naive Gaussian elimination with partial pivoting. */
function gaussSolve(a0: Mat, b0: Mat): Mat {
  const n = a0.length;
  const a = a0.map((r, i) => [...r, ...b0[i]!]);
  for (let k = 0; k < n; k++) {
    let p = k;
    for (let i = k + 1; i < n; i++) if (Math.abs(a[i]![k]!) > Math.abs(a[p]![k]!)) p = i;
    [a[k], a[p]] = [a[p]!, a[k]!];
    for (let i = 0; i < n; i++) {
      if (i === k) continue;
      const f = a[i]![k]! / a[k]![k]!;
      for (let j = k; j < a[i]!.length; j++) a[i]![j] -= f * a[k]![j]!;
    }
  }
  return a.map((r, i) => r.slice(n).map((v) => v / a[i]![i]!));
}

/** Determinant by cofactor expansion. */
function cofactorDet(a: Mat): number {
  if (a.length === 1) return a[0]![0]!;
  return a[0]!.reduce((s, v, j) => s + (j % 2 ? -1 : 1) * v * cofactorDet(a.slice(1).map((r) => r.filter((_, c) => c !== j))), 0);
}

const mm = (a: NDArray, b: NDArray) => np.matmul(a, b);
const tr = (a: NDArray) => np.swapaxes(a, -1, -2);

describe("decompositions reconstruct their input", () => {
  const A = f64(rand(5, 3, 1)),
    W = f64(rand(3, 5, 2)),
    S = f64(spd(4, 3));
  it("cholesky: L Lᵀ = A, L lower with a positive diagonal; batched leading axes", () => {
    const l = np.linalg.cholesky(S);
    close(mm(l, tr(l)), host(S));
    const lv = host(l);
    for (let i = 0; i < 4; i++) {
      expect(lv[i * 4 + i]!).toBeGreaterThan(0);
      for (let j = i + 1; j < 4; j++) expect(lv[i * 4 + j]).toBe(0);
    }
    const stack = np.stack([S, np.multiply(S, 2)]);
    const ls = np.linalg.cholesky(stack);
    expect(ls.shape).toEqual([2, 4, 4]);
    close(mm(ls, tr(ls)), host(stack));
  });
  it("cholesky of a matrix that is not positive definite is NaN (as JAX)", () => {
    expect(
      host(
        np.linalg.cholesky(
          f64([
            [1, 2],
            [2, 1],
          ]),
        ),
      ).every(Number.isNaN),
    ).toBe(true);
  });
  it("qr: Q R = A, Qᵀ Q = I, R upper with diag >= 0, reduced and complete, tall and wide", () => {
    for (const x of [A, W]) {
      for (const mode of ["reduced", "complete"] as const) {
        const [q, r] = np.linalg.qr(x, { mode });
        close(mm(q!, r!), host(x));
        close(mm(tr(q!), q!), eye(q!.shape[1]!));
        const rv = r!.tolist() as Mat;
        rv.forEach((row, i) => row.forEach((v, j) => j < i && expect(Math.abs(v)).toBeLessThan(1e-12)));
        rv.forEach((row, i) => i < row.length && expect(row[i]!).toBeGreaterThanOrEqual(0));
      }
    }
    expect(np.linalg.qr(A)[0]!.shape).toEqual([5, 3]);
    expect(np.linalg.qr(A, { mode: "complete" })[0]!.shape).toEqual([5, 5]);
    expect(np.linalg.qr(A, { mode: "r" })).toHaveLength(1);
  });
  it("qr agrees with classical Gram–Schmidt on a tall matrix", () => {
    const a = rand(5, 3, 7);
    const cols = T(a);
    const qs: number[][] = [];
    for (const c of cols) {
      const v = c.slice();
      for (const q of qs) {
        const d = q.reduce((s, x, t) => s + x * c[t]!, 0);
        for (let t = 0; t < v.length; t++) v[t] -= d * q[t]!;
      }
      const n = Math.hypot(...v);
      qs.push(v.map((x) => x / n));
    }
    close(np.linalg.qr(f64(a))[0]!, T(qs));
  });
  it("eigh: V diag(w) Vᵀ = A, Vᵀ V = I, w ascending; closed form on 2×2", () => {
    const [w, v] = np.linalg.eigh(S);
    close(mm(np.multiply(v, np.expandDims(w, 0)), tr(v)), host(S));
    close(mm(tr(v), v), eye(4));
    const wv = host(w);
    for (let i = 1; i < 4; i++) expect(wv[i]!).toBeGreaterThan(wv[i - 1]!);
    // [[2, 1], [1, 2]]: eigenvalues 1 and 3, eigenvectors (1, -1)/√2 and (1, 1)/√2 (largest entry positive)
    const [w2, v2] = np.linalg.eigh(
      f64([
        [2, 1],
        [1, 2],
      ]),
    );
    close(w2, [1, 3]);
    const r = Math.SQRT1_2;
    close(v2, [
      [r, r],
      [-r, r],
    ]);
  });
  it("svd: U diag(s) Vh = A, orthonormal factors, s descending; full and reduced; closed form", () => {
    for (const x of [A, W, S]) {
      const [u, s, vh] = np.linalg.svd(x, { fullMatrices: false });
      close(mm(np.multiply(u!, np.expandDims(s!, 0)), vh!), host(x));
      close(mm(tr(u!), u!), eye(u!.shape[1]!));
      close(mm(vh!, tr(vh!)), eye(vh!.shape[0]!));
      const sv = host(s!);
      for (let i = 1; i < sv.length; i++) expect(sv[i]!).toBeLessThanOrEqual(sv[i - 1]!);
      const [uf, , vhf] = np.linalg.svd(x);
      const [m, n] = x.shape as [number, number];
      expect(uf!.shape).toEqual([m, m]);
      expect(vhf!.shape).toEqual([n, n]);
      close(mm(tr(uf!), uf!), eye(m));
      close(mm(vhf!, tr(vhf!)), eye(n));
    }
    // [[3, 0], [0, -2]]: singular values 3 and 2
    close(
      np.linalg.svd(
        f64([
          [3, 0],
          [0, -2],
        ]),
        { computeUv: false },
      )[0]!,
      [3, 2],
    );
    // a rank-1 matrix: one zero singular value, factors still orthonormal
    const [u1, s1] = np.linalg.svd(
      f64([
        [1, 2],
        [2, 4],
        [3, 6],
      ]),
    );
    close(s1!, [Math.sqrt(70), 0], 1e-12);
    close(mm(tr(u1!), u1!), eye(3));
  });
  it("lu: P A = L U with the permutation and pivots", () => {
    const a = rand(4, 4, 11);
    const [lu, piv] = linalg.luFactor(f64(a));
    const luv = lu.tolist() as Mat;
    const L = luv.map((r, i) => r.map((v, j) => (j < i ? v : i === j ? 1 : 0)));
    const U = luv.map((r, i) => r.map((v, j) => (j >= i ? v : 0)));
    const pa = a.map((r) => r.slice());
    host(piv).forEach((p, k) => ([pa[k], pa[p]] = [pa[p]!, pa[k]!]));
    close(mul(L, U).flat(), pa);
    expect(piv.dtype).toBe("int32");
  });
});

describe("composed functions against naive references", () => {
  const a = rand(4, 4, 5),
    b = rand(4, 2, 6);
  it("solve (matrix and vector right-hand sides) matches Gaussian elimination", () => {
    close(np.linalg.solve(f64(a), f64(b)), gaussSolve(a, b));
    close(
      np.linalg.solve(f64(a), f64(T(b)[0]!)),
      gaussSolve(a, b).map((r) => r[0]!),
    );
    close(
      np.linalg.solve(
        f64([
          [3, 1],
          [1, 2],
        ]),
        f64([9, 8]),
      ),
      [2, 3],
    );
  });
  it("solve broadcasts leading axes", () => {
    const as = np.stack([f64(a), f64(spd(4, 9))]);
    const x = np.linalg.solve(as, f64(b));
    expect(x.shape).toEqual([2, 4, 2]);
    close(np.take(x, np.array(1, { dtype: "int32" }), 0), gaussSolve(spd(4, 9), b));
  });
  it("inv, det (sign included), slogdet, matrixPower", () => {
    close(mm(np.linalg.inv(f64(a)), f64(a)), eye(4));
    close(np.linalg.det(f64(a)), [cofactorDet(a)]);
    close(
      np.linalg.det(
        f64([
          [0, 1],
          [1, 0],
        ]),
      ),
      [-1],
    );
    const [sign, logabs] = np.linalg.slogdet(f64(a));
    close(np.multiply(sign, np.exp(logabs)), [cofactorDet(a)]);
    close(
      np.linalg.slogdet(
        f64([
          [0, 2],
          [3, 0],
        ]),
      )[0],
      [-1],
    );
    close(np.linalg.matrixPower(f64(a), 3), mul(mul(a, a), a));
    close(np.linalg.matrixPower(f64(a), 0), eye(4));
    close(mm(np.linalg.matrixPower(f64(a), -2), f64(mul(a, a))), eye(4), 1e-9);
  });
  it("lstsq and pinv: the normal equations; rank; a rank-deficient case gives the minimum-norm solution", () => {
    const x = rand(6, 3, 8),
      y = rand(6, 1, 9);
    const [sol, resid, rank] = np.linalg.lstsq(f64(x), f64(y));
    close(sol, gaussSolve(mul(T(x), x), mul(T(x), y)), 1e-9);
    expect(host(rank)).toEqual([3]);
    const r = mul(x, sol.tolist() as Mat).map((row, i) => row[0]! - y[i]![0]!);
    close(resid, [r.reduce((s, v) => s + v * v, 0)], 1e-9);
    close(mm(np.linalg.pinv(f64(x)), f64(x)), eye(3));
    // [[1, 1], [1, 1]] x = [2, 2]: minimum-norm solution [1, 1], rank 1
    const [xm, , rk] = np.linalg.lstsq(
      f64([
        [1, 1],
        [1, 1],
      ]),
      f64([2, 2]),
    );
    close(xm, [1, 1]);
    expect(host(rk)).toEqual([1]);
  });
  it("trace, diagonal, tril, triu, kron, outer", () => {
    const m = f64([
      [1, 2, 3],
      [4, 5, 6],
    ]);
    close(np.linalg.trace(m), [6]);
    close(np.linalg.diagonal(m, 1), [2, 6]);
    close(np.linalg.diagonal(m, -1), [4]);
    close(np.linalg.tril(m), [
      [1, 0, 0],
      [4, 5, 0],
    ]);
    close(np.linalg.triu(m, 1), [
      [0, 2, 3],
      [0, 0, 6],
    ]);
    close(
      np.linalg.kron(
        f64([
          [1, 2],
          [3, 4],
        ]),
        f64([
          [0, 1],
          [1, 0],
        ]),
      ),
      [
        [0, 1, 0, 2],
        [1, 0, 2, 0],
        [0, 3, 0, 4],
        [3, 0, 4, 0],
      ],
    );
    close(np.outer(f64([1, 2]), f64([3, 4, 5])), [
      [3, 4, 5],
      [6, 8, 10],
    ]);
  });
  it("linalg.solveTriangular, choFactor/choSolve, luFactor/luSolve", () => {
    const l = [
      [2, 0, 0],
      [1, 3, 0],
      [-1, 2, 4],
    ];
    const rhs = [[1], [2], [3]];
    close(linalg.solveTriangular(f64(l), f64(rhs), { lower: true }), gaussSolve(l, rhs));
    close(linalg.solveTriangular(f64(l), f64(rhs), { lower: true, trans: "T" }), gaussSolve(T(l), rhs));
    const unit = l.map((r, i) => r.map((v, j) => (i === j ? 1 : v)));
    close(linalg.solveTriangular(f64(l), f64(rhs), { lower: true, unitDiagonal: true }), gaussSolve(unit, rhs));
    // upper by default, as SciPy: only the upper triangle of Lᵀ-with-junk-below is read
    close(linalg.solveTriangular(f64(T(l).map((r, i) => r.map((v, j) => (j < i ? 99 : v)))), f64(rhs)), gaussSolve(T(l), rhs));
    const s = spd(4, 12),
      y = rand(4, 2, 13);
    for (const lower of [true, false]) close(linalg.choSolve(linalg.choFactor(f64(s), { lower }), f64(y)), gaussSolve(s, y));
    const a = rand(4, 4, 14);
    const fac = linalg.luFactor(f64(a));
    close(linalg.luSolve(fac, f64(y)), gaussSolve(a, y));
    close(linalg.luSolve(fac, f64(y), { trans: 1 }), gaussSolve(T(a), y));
  });
  it("integer inputs are promoted to float32, as JAX", () => {
    const x = np.linalg.solve(
      np.array(
        [
          [2, 0],
          [0, 4],
        ],
        { dtype: "int32" },
      ),
      np.array([2, 4], { dtype: "int32" }),
    );
    expect(x.dtype).toBe("float32");
    close(x, [1, 1]);
    expect(
      np.linalg.cholesky(
        np.array(
          [
            [4, 0],
            [0, 9],
          ],
          { dtype: "int32" },
        ),
      ).dtype,
    ).toBe("float32");
  });
  it("float32 inputs stay float32 and agree with float64 within float32 precision", () => {
    const x = np.linalg.inv(np.array(a, { dtype: "float32" }));
    expect(x.dtype).toBe("float32");
    close(x, host(np.linalg.inv(f64(a))), 1e-5);
  });
});

describe("derivatives (finite differences, both modes, second order)", () => {
  const a = f64(rand(3, 3, 21)),
    s = f64(spd(3, 22)),
    b = f64(rand(3, 2, 23));
  const sym = (x: NDArray) => np.multiply(np.add(x, tr(x)), 0.5);
  const cases: [string, (...x: NDArray[]) => unknown, NDArray[]][] = [
    ["cholesky", (x) => np.linalg.cholesky(np.add(x, tr(x))), [s]],
    ["solve", (x, y) => np.linalg.solve(x, y), [a, b]],
    ["inv", (x) => np.linalg.inv(x), [a]],
    ["det", (x) => np.linalg.det(x), [a]],
    ["slogdet", (x) => np.linalg.slogdet(x)[1], [a]],
    ["qr", (x) => np.linalg.qr(x), [f64(rand(4, 3, 24))]],
    [
      "eigh",
      (x) => np.linalg.eigh(sym(x)),
      [
        f64([
          [1, 0.3, 0.2],
          [0.1, 2.5, -0.4],
          [0.3, 0.2, 4],
        ]),
      ],
    ],
    [
      "svd (tall)",
      (x) => np.linalg.svd(x, { fullMatrices: false }),
      [
        f64([
          [3, 0.2],
          [0.1, 1],
          [0.5, -0.3],
        ]),
      ],
    ],
    [
      "svd (wide)",
      (x) => np.linalg.svd(x, { fullMatrices: false }),
      [
        f64([
          [3, 0.2, 0.4],
          [0.1, 1, -0.2],
        ]),
      ],
    ],
    ["pinv", (x) => np.linalg.pinv(x), [f64(rand(4, 3, 25))]],
    ["lstsq", (x, y) => np.linalg.lstsq(x, y)[0], [f64(rand(4, 2, 26)), f64(rand(4, 1, 27))]],
    [
      "solveTriangular",
      (x, y) => linalg.solveTriangular(np.add(x, np.multiply(np.eye(3, undefined, 0, "float64"), 3)), y, { lower: true, trans: 1 }),
      [a, b],
    ],
    ["choSolve", (x, y) => linalg.choSolve(linalg.choFactor(np.add(x, tr(x))), y), [s, b]],
    ["luSolve", (x, y) => linalg.luSolve(linalg.luFactor(x), y), [a, b]],
  ];
  for (const [name, f, args] of cases) {
    it(`${name}: order 2, fwd and rev`, () => {
      const report = checkGrads(f as never, args, { order: 2 });
      expect(report.comparisons.length).toBeGreaterThan(0);
    });
  }
  it("the derivative of det is det(A)·A⁻ᵀ, with its sign, also for a negative determinant", () => {
    const m = [
      [0, 2, 1],
      [3, 0.5, 0],
      [1, 1, 1],
    ];
    const g = grad((x: NDArray) => np.linalg.det(x))(f64(m));
    const d = cofactorDet(m);
    expect(d).toBeLessThan(0);
    close(g, host(np.multiply(tr(np.linalg.inv(f64(m))), d)));
  });
  it("hessian and jacfwd of logdet through cholesky", () => {
    const logdet = (x: NDArray) => np.multiply(np.sum(np.log(np.linalg.diagonal(np.linalg.cholesky(x)))), 2);
    const h = hessian(logdet)(s);
    expect(h.shape).toEqual([3, 3, 3, 3]);
    // d/dA logdet A = A⁻¹ (symmetric A)
    close(jacfwd(logdet)(s), host(np.linalg.inv(s)), 1e-9);
  });
  it("repeated eigenvalues give finite derivatives of the eigenvalues (F = 0 where they tie)", () => {
    const g = grad((x: NDArray) => np.sum(np.multiply(np.linalg.eigh(x)[0], f64([1, 2, 3]))))(f64(eye(3)));
    expect(host(g).every(Number.isFinite)).toBe(true);
    const gv = grad((x: NDArray) => np.sum(np.linalg.eigh(x)[1]))(f64(eye(3)));
    expect(host(gv).every(Number.isFinite)).toBe(true);
  });
});

describe("vmap, jit, batching", () => {
  const stack = np.stack([f64(spd(3, 31)), f64(spd(3, 32)), f64(spd(3, 33))]);
  const rhs = np.stack([f64(rand(3, 2, 34)), f64(rand(3, 2, 35)), f64(rand(3, 2, 36))]);
  const fns: [string, (x: NDArray, y: NDArray) => NDArray][] = [
    ["solve", (x, y) => np.linalg.solve(x, y)],
    ["cholesky", (x) => np.linalg.cholesky(x)],
    ["det", (x) => np.linalg.det(x)],
    ["eigh", (x) => np.linalg.eigh(x)[1]],
    ["svd", (x) => np.linalg.svd(x)[0]!],
    ["qr", (x) => np.linalg.qr(x)[1]!],
    ["inv", (x) => np.linalg.inv(x)],
    ["choSolve", (x, y) => linalg.choSolve(linalg.choFactor(x, { lower: true }), y)],
    ["luSolve", (x, y) => linalg.luSolve(linalg.luFactor(x), y)],
    ["grad of logdet", (x) => grad((z: NDArray) => np.linalg.slogdet(z)[1])(x)],
  ];
  const at = (x: NDArray, i: number) => np.take(x, np.array(i, { dtype: "int32" }), 0);
  for (const [name, f] of fns) {
    it(`${name}: vmap == loop, jit == eager, leading axes == loop`, () => {
      const loop = [0, 1, 2].map((i) => host(f(at(stack, i), at(rhs, i)))).flat();
      close(vmap(f)(stack, rhs), loop);
      close(vmap(jit(f))(stack, rhs), loop);
      if (name !== "grad of logdet") {
        close(jit(f)(stack, rhs), loop);
        close(f(stack, rhs), loop);
      }
    });
  }
  it("vmap of grad through solve == loop; vmap with an unbatched matrix", () => {
    const g = (x: NDArray, y: NDArray) => grad((z: NDArray) => np.sum(np.linalg.solve(z, y)))(x);
    const loop = [0, 1, 2].map((i) => host(g(at(stack, i), at(rhs, i)))).flat();
    close(vmap(g)(stack, rhs), loop);
    const fixed = at(stack, 0);
    const loop2 = [0, 1, 2].map((i) => host(np.linalg.solve(fixed, at(rhs, i)))).flat();
    close(vmap((y: NDArray) => np.linalg.solve(fixed, y))(rhs), loop2);
  });
});

describe("typed errors", () => {
  it("non-square, low-rank and mismatched shapes are ShapeErrors that name the function", () => {
    expect(() => np.linalg.cholesky(np.ones([2, 3]))).toThrow(ShapeError);
    expect(() => np.linalg.cholesky(np.ones([2, 3]))).toThrow(/np\.linalg\.cholesky.*square/);
    expect(() => np.linalg.inv(np.ones([3]))).toThrow(/at least 2 dimensions/);
    expect(() => np.linalg.solve(np.eye(3), np.ones([4]))).toThrow(ShapeError);
    expect(() => np.linalg.solve(np.eye(3), np.ones([4]))).toThrow(/np\.linalg\.solve.*size 3/);
    expect(() => np.linalg.det(np.ones([2, 3]))).toThrow(ShapeError);
    expect(() => linalg.solveTriangular(np.eye(2), np.ones([3, 1]))).toThrow(ShapeError);
    expect(() => np.linalg.eigh(np.ones([2, 3]))).toThrow(ShapeError);
  });
  it("bad options are ArgumentErrors", () => {
    expect(() => np.linalg.qr(np.eye(2), { mode: "full" as never })).toThrow(FluxionError);
    expect(() => np.linalg.matrixPower(np.eye(2), 1.5)).toThrow(/integer/);
    expect(() => linalg.solveTriangular(np.eye(2), np.ones([2]), { trans: 5 as never })).toThrow(FluxionError);
    expect(() => linalg.choSolve([np.eye(2)] as never, np.ones([2]))).toThrow(FluxionError);
  });
  it("a decomposition primitive bound on int32 operands is a DTypeError", () => {
    expect(() => bind(Prim.Cholesky, [np.array([[1]], { dtype: "int32" })], {})).toThrow(DTypeError);
    expect(() => bind(Prim.Svd, [np.array([[1, 2]], { dtype: "int32" })], { fullMatrices: false })).toThrow(/float/);
  });
  it("the qr derivative of a wide matrix and the full svd derivative of a non-square matrix are ShapeErrors", () => {
    expect(() => grad((x: NDArray) => np.sum(np.linalg.qr(x)[0]!))(np.ones([2, 3]))).toThrow(ShapeError);
    expect(() => grad((x: NDArray) => np.sum(np.linalg.svd(x)[0]!))(np.ones([3, 2]))).toThrow(/fullMatrices/);
  });
  it("a failed call leaves its inputs unchanged", () => {
    const x = np.array([[1, 2, 3]], { dtype: "float64" });
    const before = host(x);
    expect(() => np.linalg.inv(x)).toThrow(ShapeError);
    expect(host(x)).toEqual(before);
  });
  it("on webgpu the decompositions are DeviceErrors that say to move the operands to the cpu", () => {
    for (const p of [Prim.Cholesky, Prim.TriangularSolve, Prim.Lu, Prim.Qr, Prim.Eigh, Prim.Svd]) {
      const impl = gpuImpls[p] as unknown as (...a: unknown[]) => unknown;
      expect(() => impl({}, [], {}, [])).toThrow(DeviceError);
      expect(() => impl({}, [], {}, [])).toThrow(/move the operands to the cpu/);
    }
  });
});
