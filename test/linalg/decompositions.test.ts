/**
 * The SVD (Golub–Kahan, interpreters/eval/kernels/linalg_svd.ts), the symmetric eigen-decomposition
 * and QR on matrices past the sizes where the small-matrix kernels take over: factors reconstruct
 * the input to c·n·eps, are orthonormal, follow the sign conventions, and the spectra agree with
 * references computed here (closed forms Q·D·Qᵀ with Q a product of Householder reflections, and a
 * plain one-sided Jacobi SVD), for square, tall and wide, rank-deficient, repeated and graded
 * inputs, in float32 and float64.
 */
import { afterEach, describe, expect, it } from "vitest";
import { type NDArray, np } from "../../src/index.js";
import { JACOBI_MAX, bidiagonalQr } from "../../interpreters/eval/kernels/linalg_svd.js";
import { tridiagonalQl } from "../../interpreters/eval/kernels/linalg_eigh.js";
import { rotateChain } from "../../interpreters/eval/kernels/linalg_householder.js";
import { rotators } from "../../interpreters/eval/kernels/linalg_rotate.js";
import { configureMatmul } from "../../interpreters/eval/kernels/matmul.js";
import { orthogonal as orthogonalOf, rand } from "./matrices.js";

type DType = "float32" | "float64";
const EPS: Record<DType, number> = { float32: 2 ** -23, float64: 2 ** -52 };

/** An orthogonal n×n matrix: a product of five Householder reflections. */
const orthogonal = (n: number, seed: number) => orthogonalOf(n, seed, 5, 31);

/** P·diag(sigma)·Qᵀ (m×n) for orthogonal P (m×m) and Q (n×n): singular values sigma, by construction. */
function withSingularValues(m: number, n: number, sigma: number[], seed: number): Float64Array {
  const p = orthogonal(m, seed),
    q = orthogonal(n, seed + 7),
    a = new Float64Array(m * n);
  for (let i = 0; i < m; i++)
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let t = 0; t < sigma.length; t++) s += p[i * m + t]! * sigma[t]! * q[j * n + t]!;
      a[i * n + j] = s;
    }
  return a;
}

/** Singular values (descending) by one-sided Jacobi on the columns of the m×n `a` (m >= n), to convergence. */
function jacobiSingularValues(a0: Float64Array, m: number, n: number): number[] {
  const a = Float64Array.from(a0);
  for (let sweep = 0; sweep < 60; sweep++) {
    let off = 0;
    for (let p = 0; p < n; p++)
      for (let q = p + 1; q < n; q++) {
        let al = 0,
          be = 0,
          ga = 0;
        for (let i = 0; i < m; i++) {
          al += a[i * n + p]! ** 2;
          be += a[i * n + q]! ** 2;
          ga += a[i * n + p]! * a[i * n + q]!;
        }
        if (Math.abs(ga) <= 1e-17 * Math.sqrt(al * be)) continue;
        off = Math.max(off, Math.abs(ga) / Math.sqrt(al * be));
        const zeta = (be - al) / (2 * ga),
          t = Math.sign(zeta || 1) / (Math.abs(zeta) + Math.sqrt(1 + zeta * zeta)),
          c = 1 / Math.sqrt(1 + t * t),
          s = c * t;
        for (let i = 0; i < m; i++) {
          const x = a[i * n + p]!,
            y = a[i * n + q]!;
          a[i * n + p] = c * x - s * y;
          a[i * n + q] = s * x + c * y;
        }
      }
    if (off === 0) break;
  }
  return Array.from({ length: n }, (_, j) => {
    let s = 0;
    for (let i = 0; i < m; i++) s += a[i * n + j]! ** 2;
    return Math.sqrt(s);
  }).sort((x, y) => y - x);
}

const transpose = (x: Float64Array, r: number, c: number): Float64Array => {
  const t = new Float64Array(r * c);
  for (let i = 0; i < r; i++) for (let j = 0; j < c; j++) t[j * r + i] = x[i * c + j]!;
  return t;
};
const arr = (x: Float64Array, shape: number[], dtype: DType): NDArray => np.array(dtype === "float32" ? Float32Array.from(x) : x, { shape, dtype });
const values = (x: NDArray): Float64Array => Float64Array.from(x.dataSync() as ArrayLike<number>);
const maxAbs = (x: ArrayLike<number>): number => {
  let m = 0;
  for (let i = 0; i < x.length; i++) m = Math.max(m, Math.abs(x[i]!));
  return m;
};

/** max |x·yᵀ - z| for row-major x (r×k), y (c×k), z (r×c). */
function productError(x: Float64Array, y: Float64Array, z: Float64Array, r: number, c: number, k: number): number {
  let worst = 0;
  for (let i = 0; i < r; i++)
    for (let j = 0; j < c; j++) {
      let s = 0;
      for (let p = 0; p < k; p++) s += x[i * k + p]! * y[j * k + p]!;
      worst = Math.max(worst, Math.abs(s - z[i * c + j]!));
    }
  return worst;
}
const identity = (n: number): Float64Array => Float64Array.from({ length: n * n }, (_, i) => (i % (n + 1) === 0 ? 1 : 0));

/** Columns of the r×c `x` (row-major): each one's largest-magnitude entry must be positive. */
function expectPositiveColumns(x: Float64Array, r: number, c: number, what: string): void {
  for (let j = 0; j < c; j++) {
    let best = 0;
    for (let i = 0; i < r; i++) if (Math.abs(x[i * c + j]!) > Math.abs(best) * (1 + 1e-6)) best = x[i * c + j]!;
    expect(best, `${what}: column ${j}`).toBeGreaterThan(0);
  }
}

/**
 * Checks np.linalg.svd of the m×n `a` in both modes: reconstruction, orthonormal factors, the sign
 * convention, and the singular values against `want` (descending) to c·n·eps·σmax.
 */
function checkSvd(a: Float64Array, m: number, n: number, dtype: DType, want: number[], what: string): void {
  const x = arr(a, [m, n], dtype),
    k = Math.min(m, n),
    tol = 4 * Math.max(m, n) * EPS[dtype];
  const scale = Math.max(maxAbs(want), 1e-300);
  for (const full of [false, true]) {
    const [u, s, vh] = np.linalg.svd(x, { fullMatrices: full }).map((t) => values(t!)) as [Float64Array, Float64Array, Float64Array];
    const uc = full ? m : k,
      vr = full ? n : k;
    expect([u.length, s.length, vh.length], what).toEqual([m * uc, k, vr * n]);
    // U·diag(s)·Vh = A: the first k columns of u, scaled, against the first k rows of vh.
    const us = new Float64Array(m * k);
    for (let i = 0; i < m; i++) for (let p = 0; p < k; p++) us[i * k + p] = u[i * uc + p]! * s[p]!;
    const aRef = dtype === "float32" ? Float64Array.from(Float32Array.from(a)) : a;
    expect(
      productError(us, transpose(vh.subarray(0, k * n), k, n), aRef, m, n, k) / scale,
      `${what} full=${full}: reconstruction`,
    ).toBeLessThanOrEqual(tol);
    expect(productError(transpose(u, m, uc), transpose(u, m, uc), identity(uc), uc, uc, m), `${what} full=${full}: UᵀU`).toBeLessThanOrEqual(tol);
    expect(productError(vh, vh, identity(vr), vr, vr, n), `${what} full=${full}: Vh·Vhᵀ`).toBeLessThanOrEqual(tol);
    expectPositiveColumns(u, m, uc, `${what} full=${full}: u`);
    for (let i = 0; i < k; i++) {
      expect(Math.abs(s[i]! - want[i]!) / scale, `${what}: s[${i}] = ${s[i]} vs ${want[i]}`).toBeLessThanOrEqual(tol);
      if (i > 0) expect(s[i]!).toBeLessThanOrEqual(s[i - 1]!);
      expect(s[i]!).toBeGreaterThanOrEqual(0);
    }
  }
}

describe("svd past the Jacobi sizes (Golub–Kahan)", () => {
  const J = JACOBI_MAX;
  for (const dtype of ["float64", "float32"] as const) {
    it(`random square, tall and wide, sizes around ${J} and larger, against a Jacobi reference, ${dtype}`, () => {
      for (const [m, n] of [
        [J, J],
        [J + 1, J + 1],
        [J + 2, J + 1],
        [J + 1, 3 * J],
        [70, 45],
        [45, 70],
        [97, 97],
        // Past the blocked bidiagonalisation's crossover (96 columns) and panel width (32).
        [161, 129],
        [129, 161],
      ] as const) {
        const a = rand(m * n, 100 * m + n);
        const ref = m >= n ? jacobiSingularValues(a, m, n) : jacobiSingularValues(transpose(a, m, n), n, m);
        checkSvd(a, m, n, dtype, ref, `${m}×${n}`);
      }
    });

    it(`known spectra: repeated, rank-deficient, graded, zero; ${dtype}`, () => {
      const cases: [number, number, (i: number) => number][] = [
        [40, 40, (i) => (i < 10 ? 3 : i < 30 ? 1 : 0.5)],
        [50, 30, (i) => (i < 12 ? 1 + i : 0)],
        [30, 50, (i) => (i % 3 === 0 ? 2 : 0)],
        [45, 45, (i) => 10 ** (-i / 4)],
        [35, 20, () => 0],
        // Blocked bidiagonalisation: repeated, graded and zero values together.
        [130, 110, (i) => (i < 40 ? 2 : i < 80 ? 10 ** (-i / 10) : 0)],
      ];
      for (const [m, n, f] of cases) {
        const sigma = Array.from({ length: Math.min(m, n) }, (_, i) => f(i)).sort((x, y) => y - x);
        const a = withSingularValues(m, n, sigma, m + n);
        checkSvd(a, m, n, dtype, sigma, `${m}×${n} [${sigma.slice(0, 3).join(", ")}, …]`);
      }
    });
  }

  it("a diagonal matrix: its absolute entries, sorted; a rank-one matrix: one nonzero value", () => {
    const n = 30,
      a = new Float64Array(n * n);
    for (let i = 0; i < n; i++) a[i * n + i] = (i % 2 ? -1 : 1) * (i + 1) * 0.5;
    checkSvd(
      a,
      n,
      n,
      "float64",
      Array.from({ length: n }, (_, i) => (n - i) * 0.5),
      "diagonal",
    );
    const r1 = Float64Array.from({ length: 40 * 25 }, (_, t) => (Math.floor(t / 25) + 1) * ((t % 25) - 12));
    let nu = 0,
      nv = 0;
    for (let i = 1; i <= 40; i++) nu += i * i;
    for (let j = 0; j < 25; j++) nv += (j - 12) ** 2;
    checkSvd(r1, 40, 25, "float64", [Math.sqrt(nu * nv), ...new Array(24).fill(0)], "rank one");
  });

  it("batched leading axes agree with one matrix at a time", () => {
    const [m, n] = [24, 20];
    const mats = [rand(m * n, 5), rand(m * n, 6)];
    const [u, s, vh] = np.linalg.svd(arr(Float64Array.from([...mats[0]!, ...mats[1]!]), [2, m, n], "float64"), { fullMatrices: false });
    mats.forEach((a, t) => {
      const [u1, s1, vh1] = np.linalg.svd(arr(a, [m, n], "float64"), { fullMatrices: false });
      expect(values(u!).subarray(t * m * n, (t + 1) * m * n)).toEqual(values(u1!));
      expect(values(s!).subarray(t * n, (t + 1) * n)).toEqual(values(s1!));
      expect(values(vh!).subarray(t * n * n, (t + 1) * n * n)).toEqual(values(vh1!));
    });
  });
});

describe("bidiagonal QR iteration", () => {
  /** Runs bidiagonalQr on (d, e) with u = v = I and returns max |U·diag(d')·Vᵀ - B| and the largest e left. */
  function diagonalise(d0: number[], e0: number[]): [number, number, Float64Array] {
    const n = d0.length,
      d = Float64Array.from(d0),
      e = Float64Array.from(e0),
      u = identity(n),
      v = identity(n);
    bidiagonalQr(n, d, e, u, n, n, v, n, n);
    const b = new Float64Array(n * n);
    d0.forEach((x, i) => (b[i * n + i] = x));
    e0.forEach((x, i) => (b[i * n + i + 1] = x));
    const ud = u.map((x, t) => x * d[t % n]!);
    return [productError(ud, v, b, n, n, n), maxAbs(e), d];
  }
  const n = 40,
    r = rand(2 * n, 9);
  const cases: [string, number[], number[]][] = [
    ["random", [...r.subarray(0, n)], [...r.subarray(n, 2 * n - 1)]],
    // Larger at the bottom: the bulge is chased upwards, with nonzero shifts.
    ["increasing", Array.from({ length: n }, (_, i) => 1 + i / 4), [...r.subarray(n, 2 * n - 1)]],
    ["decreasing", Array.from({ length: n }, (_, i) => 1 + (n - i) / 4), [...r.subarray(n, 2 * n - 1)]],
    ["graded upwards", Array.from({ length: n }, (_, i) => 2 ** (i - n)), Array.from({ length: n - 1 }, (_, i) => 2 ** (i - n) * r[i]!)],
    ["a zero on the diagonal", Array.from({ length: n }, (_, i) => (i === 11 ? 0 : 1)), new Array(n - 1).fill(1)],
  ];
  for (const [name, d, e] of cases) {
    it(`${name}: B = U·diag(s)·Vᵀ with e driven to zero`, () => {
      const [err, left, s] = diagonalise(d, e);
      const scale = Math.max(maxAbs(d), maxAbs(e));
      expect(err / scale).toBeLessThanOrEqual(4 * n * EPS.float64);
      expect(left).toBe(0);
      // The sum of squares of B's entries is the sum of squared singular values.
      const fro = [...d, ...e].reduce((t, x) => t + x * x, 0);
      expect(Math.abs(s.reduce((t, x) => t + x * x, 0) - fro) / fro).toBeLessThanOrEqual(n * EPS.float64);
    });
  }
});

/** Eigenvalues (ascending) of the symmetric n×n `a` by cyclic Jacobi rotations, to convergence. */
function jacobiEigenvalues(a0: Float64Array, n: number): number[] {
  const a = Float64Array.from(a0);
  for (let sweep = 0; sweep < 60; sweep++) {
    let off = 0;
    for (let p = 0; p < n; p++) for (let q = p + 1; q < n; q++) off = Math.max(off, Math.abs(a[p * n + q]!));
    if (off === 0) break;
    for (let p = 0; p < n; p++)
      for (let q = p + 1; q < n; q++) {
        const apq = a[p * n + q]!;
        if (apq === 0) continue;
        const theta = (a[q * n + q]! - a[p * n + p]!) / (2 * apq),
          t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1)),
          c = 1 / Math.sqrt(t * t + 1),
          s = t * c;
        // A ← Jᵀ·A·J for the rotation J of plane (p, q) that zeroes a[p][q].
        for (let i = 0; i < n; i++) {
          const x = a[i * n + p]!,
            y = a[i * n + q]!;
          a[i * n + p] = c * x - s * y;
          a[i * n + q] = s * x + c * y;
        }
        for (let i = 0; i < n; i++) {
          const x = a[p * n + i]!,
            y = a[q * n + i]!;
          a[p * n + i] = c * x - s * y;
          a[q * n + i] = s * x + c * y;
        }
      }
  }
  return Array.from({ length: n }, (_, i) => a[i * n + i]!).sort((x, y) => x - y);
}

/** Checks np.linalg.eigh of the symmetric n×n `a`: V·diag(w)·Vᵀ = A, VᵀV = I, the sign convention, and w against `want` (ascending). */
function checkEigh(a: Float64Array, n: number, dtype: DType, want: number[], what: string): void {
  const [w, v] = np.linalg.eigh(arr(a, [n, n], dtype)).map(values) as [Float64Array, Float64Array];
  const tol = 4 * n * EPS[dtype],
    scale = Math.max(maxAbs(want), 1e-300);
  const vw = v.map((x, t) => x * w[t % n]!);
  const aRef = dtype === "float32" ? Float64Array.from(Float32Array.from(a)) : a;
  expect(productError(vw, v, aRef, n, n, n) / scale, `${what}: reconstruction`).toBeLessThanOrEqual(tol);
  const vt = transpose(v, n, n);
  expect(productError(vt, vt, identity(n), n, n, n), `${what}: VᵀV`).toBeLessThanOrEqual(tol);
  expectPositiveColumns(v, n, n, what);
  for (let i = 0; i < n; i++) {
    expect(Math.abs(w[i]! - want[i]!) / scale, `${what}: w[${i}] = ${w[i]} vs ${want[i]}`).toBeLessThanOrEqual(tol);
    if (i > 0) expect(w[i]!).toBeGreaterThanOrEqual(w[i - 1]!);
  }
}

/** Q·diag(lambda)·Qᵀ for an orthogonal Q: symmetric with eigenvalues lambda. */
function withEigenvalues(lambda: number[], seed: number): Float64Array {
  const n = lambda.length,
    q = orthogonal(n, seed),
    a = new Float64Array(n * n);
  for (let i = 0; i < n; i++)
    for (let j = 0; j <= i; j++) {
      let s = 0;
      for (let t = 0; t < n; t++) s += q[i * n + t]! * lambda[t]! * q[j * n + t]!;
      a[i * n + j] = a[j * n + i] = s;
    }
  return a;
}

describe("eigh past the Jacobi sizes (tridiagonal QL)", () => {
  const J = JACOBI_MAX;
  for (const dtype of ["float64", "float32"] as const) {
    it(`random symmetric, sizes around ${J} and larger, against a Jacobi reference, ${dtype}`, () => {
      // 97 and 130: past the blocked tridiagonalisation's crossover (96) and panel width (32).
      for (const n of [J, J + 1, J + 2, 2 * J + 1, 70, 97, 130]) {
        const r = rand(n * n, 3 * n),
          a = new Float64Array(n * n);
        for (let i = 0; i < n; i++) for (let j = 0; j <= i; j++) a[i * n + j] = a[j * n + i] = r[i * n + j]!;
        checkEigh(a, n, dtype, jacobiEigenvalues(a, n), `n=${n}`);
      }
    });

    it(`known spectra: repeated, clustered, graded, zero, negative; ${dtype}`, () => {
      const cases: [number, (i: number) => number][] = [
        [40, (i) => (i < 15 ? -2 : i < 25 ? 1 : 3)],
        [33, (i) => 1 + i * 1e-9],
        [45, (i) => (i % 2 ? 1 : -1) * 10 ** (-i / 4)],
        [30, () => 0],
        [35, (i) => (i < 34 ? 0 : 5)],
        [129, (i) => (i < 50 ? -1 : i < 100 ? 10 ** (-i / 10) : 2)],
      ];
      for (const [n, f] of cases) {
        const lambda = Array.from({ length: n }, (_, i) => f(i)).sort((x, y) => x - y);
        checkEigh(withEigenvalues(lambda, n), n, dtype, lambda, `n=${n} [${lambda.slice(0, 3).join(", ")}, …]`);
      }
    });
  }

  it("the second-difference matrix: eigenvalues 2 - 2·cos(kπ/(n+1)); a diagonal matrix: its sorted entries", () => {
    const n = 50,
      a = new Float64Array(n * n);
    for (let i = 0; i < n; i++) {
      a[i * n + i] = 2;
      if (i > 0) a[i * n + i - 1] = a[(i - 1) * n + i] = -1;
    }
    checkEigh(
      a,
      n,
      "float64",
      Array.from({ length: n }, (_, k) => 2 - 2 * Math.cos(((k + 1) * Math.PI) / (n + 1))),
      "second difference",
    );
    const diag = new Float64Array(n * n);
    for (let i = 0; i < n; i++) diag[i * n + i] = ((i * 37) % n) - 20;
    checkEigh(
      diag,
      n,
      "float64",
      Array.from({ length: n }, (_, i) => i - 20),
      "diagonal",
    );
  });

  it("tridiagonalQl keeps Z·T·Zᵀ and drives the off-diagonal to zero", () => {
    const n = 30,
      r = rand(2 * n, 4),
      d = Float64Array.from(r.subarray(0, n)),
      e = Float64Array.from({ length: n }, (_, i) => (i < n - 1 ? r[n + i]! : 0)),
      z = identity(n),
      t = new Float64Array(n * n);
    for (let i = 0; i < n; i++) {
      t[i * n + i] = d[i]!;
      if (i < n - 1) t[i * n + i + 1] = t[(i + 1) * n + i] = e[i]!;
    }
    tridiagonalQl(n, d, e, z);
    expect(
      productError(
        z.map((x, k) => x * d[k % n]!),
        z,
        t,
        n,
        n,
        n,
      ),
    ).toBeLessThanOrEqual(4 * n * EPS.float64);
    expect(maxAbs(e)).toBe(0);
  });
});

/** Modified Gram–Schmidt on the columns of the m×n `a` (m >= n, full column rank): q (m×n) and r (n×n). */
function gramSchmidt(a: Float64Array, m: number, n: number): [Float64Array, Float64Array] {
  const q = Float64Array.from(a),
    r = new Float64Array(n * n);
  for (let j = 0; j < n; j++) {
    let nrm = 0;
    for (let i = 0; i < m; i++) nrm += q[i * n + j]! ** 2;
    nrm = Math.sqrt(nrm);
    r[j * n + j] = nrm;
    for (let i = 0; i < m; i++) q[i * n + j] /= nrm;
    for (let c = j + 1; c < n; c++) {
      let d = 0;
      for (let i = 0; i < m; i++) d += q[i * n + j]! * q[i * n + c]!;
      r[j * n + c] = d;
      for (let i = 0; i < m; i++) q[i * n + c] -= d * q[i * n + j]!;
    }
  }
  return [q, r];
}

describe("qr past the block size (compact WY products)", () => {
  for (const dtype of ["float64", "float32"] as const) {
    it(`square, tall and wide around 64 and 96 columns, reduced and complete, against Gram–Schmidt; ${dtype}`, () => {
      for (const [m, n] of [
        [64, 64],
        [65, 65],
        [97, 96],
        [96, 97],
        [150, 70],
        [70, 150],
        [130, 129],
      ] as const) {
        const a = rand(m * n, m * 1000 + n),
          k = Math.min(m, n),
          tol = 4 * Math.max(m, n) * EPS[dtype];
        const aRef = dtype === "float32" ? Float64Array.from(Float32Array.from(a)) : a;
        for (const mode of ["reduced", "complete"] as const) {
          const [q, r] = np.linalg.qr(arr(a, [m, n], dtype), { mode }).map((x) => values(x!)) as [Float64Array, Float64Array];
          const qc = mode === "complete" ? m : k,
            what = `${m}×${n} ${mode}`;
          expect([q.length, r.length]).toEqual([m * qc, qc * n]);
          expect(productError(q, transpose(r, qc, n), aRef, m, n, qc) / maxAbs(aRef), `${what}: QR = A`).toBeLessThanOrEqual(tol);
          const qt = transpose(q, m, qc);
          expect(productError(qt, qt, identity(qc), qc, qc, m), `${what}: QᵀQ`).toBeLessThanOrEqual(tol);
          for (let i = 0; i < qc; i++) {
            for (let j = 0; j < Math.min(i, n); j++) expect(r[i * n + j], `${what}: r[${i}][${j}]`).toBe(0);
            if (i < k) expect(r[i * n + i]!).toBeGreaterThanOrEqual(0);
          }
          // Full column rank with diag(r) > 0: R is unique, so Gram–Schmidt on the leading k columns gives it.
          const lead = new Float64Array(m * k);
          for (let i = 0; i < m; i++) for (let j = 0; j < k; j++) lead[i * k + j] = aRef[i * n + j]!;
          const [, rRef] = gramSchmidt(lead, m, k);
          let worst = 0;
          for (let i = 0; i < k; i++) for (let j = i; j < k; j++) worst = Math.max(worst, Math.abs(r[i * n + j]! - rRef[i * k + j]!));
          expect(worst / maxAbs(rRef), `${what}: R against Gram–Schmidt`).toBeLessThanOrEqual(dtype === "float32" ? 1e-4 : 1e-11);
        }
      }
    });
  }

  it("rank-deficient and zero columns: still QR = A with orthonormal Q and diag(r) >= 0", () => {
    const [m, n] = [90, 80];
    const base = rand(m * 20, 3),
      mix = rand(20 * n, 4),
      a = new Float64Array(m * n);
    // Rank 20, and every fifth column zero.
    for (let i = 0; i < m; i++)
      for (let j = 0; j < n; j++) {
        if (j % 5 === 0) continue;
        for (let p = 0; p < 20; p++) a[i * n + j] += base[i * 20 + p]! * mix[p * n + j]!;
      }
    const [q, r] = np.linalg.qr(arr(a, [m, n], "float64"), { mode: "complete" }).map((x) => values(x!)) as [Float64Array, Float64Array];
    expect(productError(q, transpose(r, m, n), a, m, n, m) / maxAbs(a)).toBeLessThanOrEqual(4 * m * EPS.float64);
    const qt = transpose(q, m, m);
    expect(productError(qt, qt, identity(m), m, m, m)).toBeLessThanOrEqual(4 * m * EPS.float64);
    for (let i = 0; i < n; i++) expect(r[i * n + i]!).toBeGreaterThanOrEqual(0);
  });
});

describe("non-finite inputs", () => {
  it("a NaN or an infinity makes every output of svd and eigh NaN", () => {
    const n = 40;
    for (const bad of [NaN, Infinity]) {
      const a = rand(n * n, 8);
      a[3 * n + 5] = a[5 * n + 3] = bad;
      const outs = [...np.linalg.svd(arr(a, [n, n], "float64")), ...np.linalg.eigh(arr(a, [n, n], "float64"))];
      for (const o of outs) expect(values(o!).every(Number.isNaN), String(bad)).toBe(true);
    }
  });
});

describe("rotation sweeps", () => {
  const saved = configureMatmul();
  afterEach(() => void configureMatmul(saved));
  /** Plain rotations of columns (c0 + k, c0 + k + 1), one rotation at a time over every row. */
  function plain(x: Float64Array, ld: number, rows: number, c0: number, cnt: number, cs: Float64Array, sn: Float64Array, forward: boolean): void {
    for (let step = 0; step < cnt; step++) {
      const k = forward ? step : cnt - 1 - step;
      for (let r = 0; r < rows; r++) {
        const a = x[r * ld + c0 + k]!,
          b = x[r * ld + c0 + k + 1]!;
        x[r * ld + c0 + k] = cs[k]! * a + sn[k]! * b;
        x[r * ld + c0 + k + 1] = cs[k]! * b - sn[k]! * a;
      }
    }
  }
  for (const wasm of [true, false]) {
    it(`rotators (${wasm ? "WebAssembly" : "JavaScript"}) and rotateChain equal plain rotations, bit for bit; odd and even row counts, whole and partial groups of row pairs, both directions`, () => {
      configureMatmul({ wasm });
      for (const [rows, ld, cols] of [
        [7, 12, 10],
        [8, 9, 9],
        [33, 40, 31],
        [12, 14, 13],
        [1, 5, 5],
      ] as const) {
        const x0 = rand(rows * ld, rows + cols),
          ang = rand(cols, 2),
          cs = ang.map((a) => Math.cos(3 * a)),
          sn = ang.map((a) => Math.sin(3 * a));
        const want = Float64Array.from(x0),
          chain = Float64Array.from(x0),
          got = Float64Array.from(x0);
        const [r] = rotators([{ x: got, rows, ld, cols }], cols);
        for (let sweep = 0; sweep < 6; sweep++) {
          const c0 = sweep % 3,
            cnt = cols - 1 - c0 - (sweep % 2),
            forward = sweep % 2 === 0;
          plain(want, ld, rows, c0, cnt, cs, sn, forward);
          rotateChain(chain, ld, rows, c0, cnt, cs, sn, forward);
          r!.apply(c0, cnt, cs, sn, forward);
        }
        r!.finish();
        expect(chain).toEqual(want);
        expect(got).toEqual(want);
      }
    });
  }

  it("svd and eigh give the same factors, to rounding, with the WebAssembly kernels switched off", () => {
    const [m, n] = [120, 100];
    const a = rand(m * n, 12),
      sym = new Float64Array(n * n);
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) sym[i * n + j] = a[i * n + j]! + a[j * n + i]!;
    const run = () =>
      [...np.linalg.svd(arr(a, [m, n], "float64")), ...np.linalg.eigh(arr(sym, [n, n], "float64")), ...np.linalg.qr(arr(a, [m, n], "float64"))].map(
        (x) => values(x!),
      );
    const on = run();
    configureMatmul({ wasm: false });
    const off = run();
    on.forEach((x, i) => {
      let worst = 0;
      x.forEach((v, t) => (worst = Math.max(worst, Math.abs(v - off[i]![t]!))));
      expect(worst / Math.max(maxAbs(x), 1), `output ${i}`).toBeLessThanOrEqual(1e-11);
    });
  });
});

describe("extreme scales", () => {
  it("entries near overflow, near underflow and subnormal: spectra and R scale with the input", () => {
    for (const n of [10, 40, 70]) {
      const a = rand(n * n, n),
        sym = new Float64Array(n * n);
      for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) sym[i * n + j] = a[i * n + j]! + a[j * n + i]!;
      const f64 = (x: Float64Array) => arr(x, [n, n], "float64");
      const s = values(np.linalg.svd(f64(a), { computeUv: false })[0]!),
        w = values(np.linalg.eigh(f64(sym))[0]),
        r = values(np.linalg.qr(f64(a))[1]!);
      for (const scale of [2 ** 1000, 2 ** -1000, 2 ** -1040]) {
        // Subnormal inputs keep only 1074 - 1040 + about 10 bits.
        const tol = scale < 2 ** -1022 ? 1e-9 : 4 * n * EPS.float64;
        const sa = a.map((x) => x * scale),
          ss = sym.map((x) => x * scale);
        const check = (got: Float64Array, want: Float64Array, what: string) => {
          let worst = 0;
          got.forEach((g, i) => (worst = Math.max(worst, Math.abs(g / scale - want[i]!))));
          expect(worst / maxAbs(want), `n=${n} scale=2^${Math.log2(scale)}: ${what}`).toBeLessThanOrEqual(tol);
        };
        check(values(np.linalg.svd(f64(sa), { computeUv: false })[0]!), s, "singular values");
        check(values(np.linalg.eigh(f64(ss))[0]), w, "eigenvalues");
        check(values(np.linalg.qr(f64(sa))[1]!), r, "r");
      }
    }
  });
});
