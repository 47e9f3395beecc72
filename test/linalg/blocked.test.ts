/**
 * The blocked Cholesky, triangular solve and LU (interpreters/eval/kernels/linalg_blocked.ts) and
 * their product C -= A·B (linalg_gemm.ts), against plain float64 references written here, over sizes
 * on both sides of the block size, batched, in float32 and float64, well and badly conditioned, with
 * the WebAssembly GEMM and with the JavaScript fallback.
 */
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { type NDArray, Prim, bind, jvp, np } from "../../src/index.js";
import { BLOCK } from "../../interpreters/eval/kernels/linalg_blocked.js";
import { block, gemmSub, gemmSubPaths, tr } from "../../interpreters/eval/kernels/linalg_gemm.js";
import { configureMatmul, type MatmulConfig } from "../../interpreters/eval/kernels/matmul.js";
import { orthogonal as orthogonalOf, rand } from "./matrices.js";

type DType = "float32" | "float64";
const SIZES = [BLOCK - 1, BLOCK, BLOCK + 1, 2 * BLOCK + 3, 3 * BLOCK - 5];

/** x·yᵀ for row-major n×k x and m×k y. */
function mulT(x: Float64Array, y: Float64Array, n: number, m: number, k: number): Float64Array {
  const out = new Float64Array(n * m);
  for (let i = 0; i < n; i++) for (let j = 0; j < m; j++) for (let p = 0; p < k; p++) out[i * m + j] += x[i * k + p]! * y[j * k + p]!;
  return out;
}

/** An orthogonal n×n matrix: a product of four Householder reflections. */
const orthogonal = (n: number, seed: number) => orthogonalOf(n, seed, 4, 1);

/** Q·diag(eig)·Qᵀ: symmetric positive definite with condition number max(eig) / min(eig). */
function spdWith(eig: (i: number) => number, n: number, seed: number): Float64Array {
  const q = orthogonal(n, seed),
    qd = q.map((v, idx) => v * eig(idx % n));
  return mulT(qd, q, n, n, n);
}
const spd = (n: number, seed: number) => spdWith((i) => 1 + i / n, n, seed);
/** Eigenvalues spread evenly on a log scale from 1 down to 1/cond. */
const illSpd = (n: number, seed: number, cond: number) => spdWith((i) => cond ** (-i / (n - 1)), n, seed);

/** Cholesky–Banachiewicz, row by row. */
function refCholesky(a: Float64Array, n: number): Float64Array {
  const l = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      let s = a[i * n + j]!;
      for (let p = 0; p < j; p++) s -= l[i * n + p]! * l[j * n + p]!;
      l[i * n + j] = i === j ? Math.sqrt(s) : s / l[j * n + j]!;
    }
  }
  return l;
}

/** X with M·X = B for an explicit triangular n×n M, column by column of the n×c B. */
function refTriSolve(m: Float64Array, b: Float64Array, n: number, c: number, lower: boolean, unit: boolean): Float64Array {
  const x = new Float64Array(n * c);
  for (let q = 0; q < c; q++) {
    for (let t = 0; t < n; t++) {
      const i = lower ? t : n - 1 - t;
      let s = b[i * c + q]!;
      for (let j = 0; j < n; j++) if (lower ? j < i : j > i) s -= m[i * n + j]! * x[j * c + q]!;
      x[i * c + q] = unit ? s : s / m[i * n + i]!;
    }
  }
  return x;
}

/** Doolittle LU with partial pivoting on a copy: [lu, pivots, permutation]. */
function refLu(a0: Float64Array, n: number): [Float64Array, number[], number[]] {
  const a = Float64Array.from(a0),
    piv: number[] = [],
    perm = Array.from({ length: n }, (_, i) => i);
  for (let s = 0; s < n; s++) {
    let p = s;
    for (let i = s + 1; i < n; i++) if (Math.abs(a[i * n + s]!) > Math.abs(a[p * n + s]!)) p = i;
    piv.push(p);
    for (let j = 0; j < n; j++) [a[s * n + j], a[p * n + j]] = [a[p * n + j]!, a[s * n + j]!];
    [perm[s], perm[p]] = [perm[p]!, perm[s]!];
    for (let i = s + 1; i < n; i++) {
      a[i * n + s] /= a[s * n + s]!;
      for (let j = s + 1; j < n; j++) a[i * n + j] -= a[i * n + s]! * a[s * n + j]!;
    }
  }
  return [a, piv, perm];
}

const arr = (x: Float64Array, shape: number[], dtype: DType): NDArray => np.array(dtype === "float32" ? Float32Array.from(x) : x, { shape, dtype });
const values = (x: NDArray): Float64Array => Float64Array.from(x.dataSync() as ArrayLike<number>);
/** Per-dtype tolerance relative to the largest reference magnitude: a few roundings of the result. */
const EPS: Record<DType, number> = { float32: 2 ** -22, float64: 1e-12 };

function expectClose(got: Float64Array, want: Float64Array, tol: number, what: string): void {
  expect(got.length).toBe(want.length);
  const scale = want.reduce((s, v) => Math.max(s, Math.abs(v)), 1e-300);
  let worst = 0,
    at = 0;
  got.forEach((v, i) => {
    const e = Math.abs(v - want[i]!);
    // A NaN error is the worst and stays so.
    if (!Number.isNaN(worst) && !(e <= worst)) [worst, at] = [e, i];
  });
  expect(worst / scale, `${what}: element ${at}: ${got[at]} vs ${want[at]}`).toBeLessThanOrEqual(tol);
}

let saved: MatmulConfig;
beforeAll(() => {
  saved = configureMatmul();
});
afterEach(() => {
  configureMatmul(saved);
});

describe("gemmSub: C -= A·B on strided blocks", () => {
  for (const wasm of [true, false]) {
    it(`matches a plain loop, full, lower and with A transposed, ${wasm ? "WebAssembly" : "JavaScript"}`, () => {
      configureMatmul({ wasm });
      for (const [m, k, n] of [
        [130, 64, 130],
        [300, 17, 45],
        [3, 64, 200],
        [129, 1, 129],
        // Past the chunk sizes (1024 rows, depth 256, 1024 columns).
        [1030, 260, 1030],
        [1030, 260, 40],
        [40, 10, 1030],
      ] as const) {
        for (const [lower, transA] of [
          [false, false],
          [true, false],
          [false, true],
        ] as const) {
          if (lower ? m !== n : m * n > 1e6) continue;
          // Blocks inside larger matrices, at an offset, with row strides past their widths; with
          // transA, A is a transposed view: A(i, p) is stored at row p, column i.
          const [lda, ldb, ldc] = [(transA ? m : k) + 3, n + 5, n + 2];
          const a = rand(((transA ? k : m) + 1) * lda, 1),
            b = rand((k + 2) * ldb, 2),
            c = rand((m + 1) * ldc, 3);
          const aAt = (i: number, p: number) => a[lda + 2 + (transA ? p * lda + i : i * lda + p)]!;
          const want = Float64Array.from(c);
          for (let i = 0; i < m; i++)
            for (let j = 0; j < (lower ? i + 1 : n); j++) {
              let s = 0;
              for (let p = 0; p < k; p++) s += aAt(i, p) * b[2 * ldb + 4 + p * ldb + j]!;
              want[ldc + 1 + i * ldc + j] -= s;
            }
          const before = gemmSubPaths().wasm;
          gemmSub(block(c, ldc + 1, ldc), transA ? tr(block(a, lda + 2, lda)) : block(a, lda + 2, lda), block(b, 2 * ldb + 4, ldb), m, k, n, lower);
          expect(gemmSubPaths().wasm - before).toBe(wasm && m * k * n >= 1 << 13 ? 1 : 0);
          expectClose(c, want, 1e-14, `[${m}, ${k}, ${n}] lower=${lower} transA=${transA}`);
        }
      }
    });
  }
});

describe("blocked factorizations match plain references", () => {
  for (const dtype of ["float32", "float64"] as const) {
    it(`cholesky, ${dtype}, n = ${SIZES.join(", ")}, batched`, () => {
      for (const n of SIZES) {
        const mats = [spd(n, n), spd(n, n + 1)];
        const l = values(np.linalg.cholesky(arr(Float64Array.from(mats.flatMap((m) => [...m])), [2, n, n], dtype)));
        mats.forEach((m, t) => expectClose(l.subarray(t * n * n, (t + 1) * n * n), refCholesky(m, n), EPS[dtype], `n=${n} matrix ${t}`));
      }
    });

    it(`lu, ${dtype}: factors, pivots and permutation, batched`, () => {
      for (const n of SIZES) {
        const mats = [rand(n * n, 7 * n), rand(n * n, 7 * n + 1)];
        const [lu, piv, perm] = bind(Prim.Lu, [arr(Float64Array.from(mats.flatMap((m) => [...m])), [2, n, n], dtype)], {});
        mats.forEach((m, t) => {
          const [wantLu, wantPiv, wantPerm] = refLu(dtype === "float32" ? Float64Array.from(Float32Array.from(m)) : m, n);
          expect(Array.from(piv!.dataSync()).slice(t * n, (t + 1) * n)).toEqual(wantPiv);
          expect(Array.from(perm!.dataSync()).slice(t * n, (t + 1) * n)).toEqual(wantPerm);
          // Growth of random LU factors stays modest, so the factors agree to a few hundred roundings.
          expectClose(values(lu!).subarray(t * n * n, (t + 1) * n * n), wantLu, 300 * EPS[dtype], `n=${n} matrix ${t}`);
        });
      }
    });
  }

  const CASES = [true, false].flatMap((leftSide) =>
    [true, false].flatMap((lower) =>
      [true, false].flatMap((transposeA) => [true, false].map((unitDiagonal) => ({ leftSide, lower, transposeA, unitDiagonal }))),
    ),
  );
  for (const dtype of ["float32", "float64"] as const) {
    it(`triangular_solve, ${dtype}: every side, triangle, transpose and diagonal; batched`, () => {
      for (const [n, c] of [
        [BLOCK + 1, 37],
        [2 * BLOCK + 3, 37],
        [2 * BLOCK + 3, 1],
      ] as const) {
        // Well-conditioned triangles: a dominant diagonal.
        const a = rand(2 * n * n, n).map((v, idx) => ((idx % (n * n)) % (n + 1) === 0 ? 4 + v : v / Math.sqrt(n)));
        for (const p of CASES) {
          const shapeB = p.leftSide ? [n, c] : [c, n];
          const b = rand(2 * n * c, n + 5);
          const x = values(bind(Prim.TriangularSolve, [arr(a, [2, n, n], dtype), arr(b, [2, ...shapeB], dtype)], p)[0]!);
          for (let t = 0; t < 2; t++) {
            const at = a.subarray(t * n * n, (t + 1) * n * n);
            const bt =
              dtype === "float32"
                ? Float64Array.from(Float32Array.from(b.subarray(t * n * c, (t + 1) * n * c)))
                : b.subarray(t * n * c, (t + 1) * n * c);
            // op(a) explicitly, from its `lower` triangle; x·op(a) = b  <=>  op(a)ᵀ·xᵀ = bᵀ.
            const tri = new Float64Array(n * n);
            for (let i = 0; i < n; i++)
              for (let j = 0; j < n; j++)
                if (p.lower ? j <= i : j >= i) tri[i * n + j] = dtype === "float32" ? Math.fround(at[i * n + j]!) : at[i * n + j]!;
            const opA = p.transposeA ? transpose(tri, n, n) : tri;
            const m = p.leftSide ? opA : transpose(opA, n, n);
            const opLower = (p.lower !== p.transposeA) !== !p.leftSide;
            const want = p.leftSide
              ? refTriSolve(m, bt, n, c, opLower, p.unitDiagonal)
              : transpose(refTriSolve(m, transpose(bt, c, n), n, c, opLower, p.unitDiagonal), n, c);
            expectClose(x.subarray(t * n * c, (t + 1) * n * c), want, 4 * EPS[dtype], `n=${n} ${JSON.stringify(p)} matrix ${t}`);
          }
        }
      }
    });
  }
});

function transpose(x: Float64Array, r: number, c: number): Float64Array {
  const t = new Float64Array(r * c);
  for (let i = 0; i < r; i++) for (let j = 0; j < c; j++) t[j * r + i] = x[i * c + j]!;
  return t;
}

describe("badly conditioned inputs, and the JavaScript fallback", () => {
  it("cholesky and solve of an SPD matrix with condition number 1e10 reconstruct their inputs", () => {
    const n = 2 * BLOCK + 3,
      a = illSpd(n, 11, 1e10);
    const l = values(np.linalg.cholesky(arr(a, [n, n], "float64")));
    // Backward stable: L·Lᵀ = A to rounding, though L itself may move by cond · eps.
    expectClose(mulT(l, l, n, n, n), a, 1e-13, "L Lᵀ");
    expectClose(l, refCholesky(a, n), 1e-5, "L");
    const xs = rand(n * 3, 5),
      b = new Float64Array(n * 3);
    for (let i = 0; i < n; i++) for (let q = 0; q < 3; q++) for (let j = 0; j < n; j++) b[i * 3 + q] += a[i * n + j]! * xs[j * 3 + q]!;
    const x = values(np.linalg.solve(arr(a, [n, n], "float64"), arr(b, [n, 3], "float64")));
    // The residual is small even though x itself is only good to cond · eps.
    const r = new Float64Array(n * 3);
    for (let i = 0; i < n; i++) for (let q = 0; q < 3; q++) for (let j = 0; j < n; j++) r[i * 3 + q] += a[i * n + j]! * x[j * 3 + q]!;
    expectClose(r, b, 1e-12, "A x");
  });

  it("lu of a singular matrix (a zero column past the first block) keeps the zero pivot and reconstructs P·A = L·U", () => {
    const n = 2 * BLOCK + 3,
      zero = BLOCK + 7,
      a = rand(n * n, 21);
    for (let i = 0; i < n; i++) a[i * n + zero] = 0;
    const [lu, , perm] = bind(Prim.Lu, [arr(a, [n, n], "float64")], {}).map(values);
    // The column stays exactly zero through every update, so its pivot is exactly zero.
    expect(Math.abs(lu![zero * n + zero]!)).toBe(0);
    const l = new Float64Array(n * n),
      u = new Float64Array(n * n),
      pa = new Float64Array(n * n);
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < n; j++) {
        if (j < i) l[i * n + j] = lu![i * n + j]!;
        else u[i * n + j] = lu![i * n + j]!;
        pa[i * n + j] = a[perm![i]! * n + j]!;
      }
      l[i * n + i] = 1;
    }
    expectClose(mulT(l, transpose(u, n, n), n, n, n), pa, 1e-13, "L U");
    expect(Math.abs(np.linalg.det(arr(a, [n, n], "float64")).item())).toBe(0);
  });

  it("the Cholesky derivative (triangular solves with n right-hand sides) matches central differences", () => {
    const n = 2 * BLOCK + 3,
      a = spd(n, 8),
      s = rand(n * n, 13);
    const dir = s.map((_, idx) => s[idx]! + s[(idx % n) * n + Math.floor(idx / n)]!);
    const chol = (x: NDArray) => np.linalg.cholesky(x);
    const [, dl] = jvp(chol, [arr(a, [n, n], "float64")], [arr(dir, [n, n], "float64")]);
    const h = 1e-5;
    const at = (sign: number) =>
      values(
        chol(
          arr(
            a.map((v, idx) => v + sign * h * dir[idx]!),
            [n, n],
            "float64",
          ),
        ),
      );
    const plus = at(1),
      minus = at(-1);
    expectClose(
      values(dl as NDArray),
      plus.map((v, idx) => (v - minus[idx]!) / (2 * h)),
      1e-8,
      "dL",
    );
  });

  it("a large matrix that is not positive definite (negative eigenvalue past the first block) is all NaN", () => {
    const n = 2 * BLOCK + 3;
    const a = spdWith((i) => (i === n - 2 ? -0.5 : 1), n, 4);
    expect(values(np.linalg.cholesky(arr(a, [n, n], "float64"))).every(Number.isNaN)).toBe(true);
  });

  it("the products run in WebAssembly when it is on, and the JavaScript fallback agrees", () => {
    const n = 3 * BLOCK - 5,
      a = spd(n, 3),
      g = rand(n * n, 9);
    const run = () => [
      values(np.linalg.cholesky(arr(a, [n, n], "float64"))),
      values(np.linalg.solve(arr(g, [n, n], "float64"), arr(a, [n, n], "float64"))),
    ];
    configureMatmul({ wasm: true });
    const before = gemmSubPaths();
    const withWasm = run();
    expect(gemmSubPaths().wasm).toBeGreaterThan(before.wasm);
    configureMatmul({ wasm: false });
    const mid = gemmSubPaths();
    const withJs = run();
    expect(gemmSubPaths().wasm).toBe(mid.wasm);
    expectClose(withJs[0]!, withWasm[0]!, 1e-13, "cholesky");
    expectClose(withJs[1]!, withWasm[1]!, 1e-10, "solve");
  });
});
