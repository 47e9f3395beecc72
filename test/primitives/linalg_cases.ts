/**
 * Primitive cases of the linear-algebra primitives. References are naive float64 algorithms
 * written here (Cholesky–Banachiewicz, Gaussian elimination, classical Gram–Schmidt, classical
 * max-element Jacobi), independent of the kernels. Operands stay in each primitive's smooth
 * domain: positive-definite matrices, well-separated pivots, eigenvalues and singular values.
 */
import { Prim, type PrimParams } from "../../src/index.js";
import { type FloatDType, type Host, type Operand, type PrimCase, type Rng, operand } from "./cases_util.js";

type LinalgPrim = Prim.Cholesky | Prim.TriangularSolve | Prim.Lu | Prim.Qr | Prim.Eigh | Prim.Svd;

type Mat = number[][];
const matOf = (h: Host, b: number, m: number, n: number): Mat =>
  Array.from({ length: m }, (_, i) => h.data.slice(b * m * n + i * n, b * m * n + (i + 1) * n));
const batchOf = (shape: number[]): number => shape.slice(0, -2).reduce((a, b) => a * b, 1);
const T = (a: Mat): Mat => a[0]!.map((_, j) => a.map((r) => r[j]!));
const mul = (a: Mat, b: Mat): Mat => a.map((r) => b[0]!.map((_, j) => r.reduce((s, v, k) => s + v * b[k]![j]!, 0)));

/** Runs `f` on every matrix of `x` and stacks each output along the leading axes. */
function perMatrix(x: Host, f: (a: Mat) => Mat[] | Mat, shapes: (lead: number[]) => number[][]): Host[] {
  const [m, n] = x.shape.slice(-2) as [number, number];
  const lead = x.shape.slice(0, -2);
  const outs = shapes(lead).map((shape) => ({ shape, data: [] as number[] }));
  for (let b = 0; b < batchOf(x.shape); b++) {
    const r = f(matOf(x, b, m, n));
    const list = Array.isArray(r[0]![0]) ? (r as Mat[]) : [r as Mat];
    list.forEach((o, k) => outs[k]!.data.push(...o.flat()));
  }
  return outs;
}

// ---------------------------------------------------------------- references

function cholRef(a: Mat): Mat {
  const n = a.length;
  const s = a.map((r, i) => r.map((v, j) => (v + a[j]![i]!) / 2));
  const l = s.map((r) => r.map(() => 0));
  for (let i = 0; i < n; i++)
    for (let j = 0; j <= i; j++) {
      let v = s[i]![j]!;
      for (let k = 0; k < j; k++) v -= l[i]![k]! * l[j]![k]!;
      l[i]![j] = i === j ? Math.sqrt(v) : v / l[j]![j]!;
    }
  return l;
}

/** Solves m·x = b by Gaussian elimination with partial pivoting on a dense copy. */
function gaussSolve(m: Mat, b: Mat): Mat {
  const n = m.length;
  const a = m.map((r, i) => [...r, ...b[i]!]);
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

function triSolveRef(a: Mat, b: Mat, p: PrimParams[Prim.TriangularSolve]): Mat {
  const eff = a.map((r, i) => r.map((v, j) => (i === j ? (p.unitDiagonal ? 1 : v) : (p.lower ? j < i : j > i) ? v : 0)));
  const op = p.transposeA ? T(eff) : eff;
  return p.leftSide ? gaussSolve(op, b) : T(gaussSolve(T(op), T(b)));
}

function luRef(a0: Mat): Mat[] {
  const n = a0.length;
  const a = a0.map((r) => r.slice());
  const piv: number[] = [],
    perm = a.map((_, i) => i);
  for (let k = 0; k < n; k++) {
    let p = k;
    for (let i = k + 1; i < n; i++) if (Math.abs(a[i]![k]!) > Math.abs(a[p]![k]!)) p = i;
    piv.push(p);
    [a[k], a[p]] = [a[p]!, a[k]!];
    [perm[k], perm[p]] = [perm[p]!, perm[k]!];
    for (let i = k + 1; i < n; i++) {
      a[i]![k] /= a[k]![k]!;
      for (let j = k + 1; j < n; j++) a[i]![j] -= a[i]![k]! * a[k]![j]!;
    }
  }
  return [a, [piv], [perm]];
}

/** Reduced QR by classical Gram–Schmidt (full column rank): r has a positive diagonal. */
function qrRef(a: Mat): Mat[] {
  const m = a.length,
    n = a[0]!.length;
  const cols = T(a);
  const qs: number[][] = [];
  const r = Array.from({ length: n }, () => new Array<number>(n).fill(0));
  cols.forEach((c, j) => {
    const v = c.slice();
    qs.forEach((q, i) => {
      const d = q.reduce((s, x, t) => s + x * c[t]!, 0);
      r[i]![j] = d;
      for (let t = 0; t < m; t++) v[t] -= d * q[t]!;
    });
    const nrm = Math.hypot(...v);
    r[j]![j] = nrm;
    qs.push(v.map((x) => x / nrm));
  });
  return [T(qs), r];
}

/** Symmetric eigenproblem by classical Jacobi (largest off-diagonal first): ascending w, v with largest entries positive. */
function eighRef(a0: Mat): Mat[] {
  const n = a0.length;
  const a = a0.map((r, i) => r.map((v, j) => (v + a0[j]![i]!) / 2));
  const v: Mat = a.map((r, i) => r.map((_, j) => (i === j ? 1 : 0)));
  for (let it = 0; it < 500; it++) {
    let p = 0,
      q = 1,
      best = 0;
    for (let i = 0; i < n; i++)
      for (let j = i + 1; j < n; j++)
        if (Math.abs(a[i]![j]!) > best) {
          best = Math.abs(a[i]![j]!);
          p = i;
          q = j;
        }
    if (best < 1e-300 || n < 2) break;
    const phi = 0.5 * Math.atan2(2 * a[p]![q]!, a[q]![q]! - a[p]![p]!);
    const c = Math.cos(phi),
      s = Math.sin(phi);
    // rotation G with G_pp = c, G_pq = s, G_qp = -s, G_qq = c; a <- Gᵀ a G zeroes a_pq
    const g: Mat = a.map((_, i) =>
      a.map((__, j): number => (i === j ? (i === p || i === q ? c : 1) : i === p && j === q ? s : i === q && j === p ? -s : 0)),
    );
    const na = mul(mul(T(g), a), g);
    na[p]![q] = na[q]![p] = 0;
    a.splice(0, n, ...na);
    v.splice(0, n, ...mul(v, g));
  }
  const order = a.map((_, i) => i).sort((i, j) => a[i]![i]! - a[j]![j]!);
  const w = order.map((i) => a[i]![i]!);
  const vs = T(order.map((i) => positive(v.map((r) => r[i]!))));
  return [[w], vs];
}

/** A vector with its largest-magnitude entry made positive. */
function positive(x: number[]): number[] {
  let at = 0;
  x.forEach((v, i) => Math.abs(v) > Math.abs(x[at]!) && (at = i));
  return x[at]! < 0 ? x.map((v) => -v) : x;
}

/** Reduced SVD from the eigenproblem of aᵀa (tall) or aaᵀ (wide): s descending, u's largest entries positive. */
function svdRef(a: Mat): Mat[] {
  const m = a.length,
    n = a[0]!.length;
  const tall = m >= n;
  const g = tall ? mul(T(a), a) : mul(a, T(a));
  const [[w], vecs] = eighRef(g) as [Mat, Mat];
  const k = w!.length;
  const idx = Array.from({ length: k }, (_, i) => k - 1 - i);
  const s = idx.map((i) => Math.sqrt(Math.max(w![i]!, 0)));
  const other = idx.map((i) => vecs!.map((r) => r[i]!)); // unit vectors of the Gram matrix
  // tall: other are v's, u_j = a v_j / s_j; wide: other are u's, v_j = aᵀ u_j / s_j.
  const partner = other.map((x, j) =>
    (tall ? a.map((r) => r.reduce((t, v, c) => t + v * x[c]!, 0)) : T(a).map((r) => r.reduce((t, v, c) => t + v * x[c]!, 0))).map((v) => v / s[j]!),
  );
  const us = tall ? partner : other,
    vs = tall ? other : partner;
  const fixed = us.map((u, j) => {
    const p = positive(u);
    return [p, p === u ? vs[j]! : vs[j]!.map((v) => -v)] as const;
  });
  return [T(fixed.map(([u]) => u.slice())), [s], fixed.map(([, v]) => v.slice())];
}

// ---------------------------------------------------------------- operands

/** Random m×n matrices (stacked over `lead`) with entries in [-1, 1]. */
const randMats = (rng: Rng, shape: number[]): number[] => Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => rng.uniform(-1, 1));

/** Stacks of well-conditioned symmetric positive-definite n×n matrices: m mᵀ/n + I. */
function spd(rng: Rng, shape: number[], fdt: FloatDType): Operand {
  const n = shape[shape.length - 1]!;
  const raw = randMats(rng, shape);
  const out: number[] = [];
  for (let b = 0; b < batchOf(shape); b++) {
    const m = matOf({ shape, data: raw }, b, n, n);
    out.push(
      ...mul(m, T(m))
        .map((r, i) => r.map((v, j) => v / n + (i === j ? 1 : 0)))
        .flat(),
    );
  }
  return operand(shape, fdt, (i) => out[i]!);
}

/** Symmetric matrices with eigenvalues about 1.5 apart (a diagonal ramp plus small symmetric noise). */
function separated(rng: Rng, shape: number[], fdt: FloatDType): Operand {
  const n = shape[shape.length - 1]!;
  const raw = randMats(rng, shape);
  const out: number[] = [];
  for (let b = 0; b < batchOf(shape); b++) {
    const m = matOf({ shape, data: raw }, b, n, n);
    out.push(...m.map((r, i) => r.map((v, j) => 0.25 * (v + m[j]![i]!) + (i === j ? 1.5 * i - 1 : 0))).flat());
  }
  return operand(shape, fdt, (i) => out[i]!);
}

/** Matrices with distinct singular values: a permuted diagonal ramp plus small noise. */
function distinctSv(rng: Rng, shape: number[], fdt: FloatDType): Operand {
  const [m, n] = shape.slice(-2) as [number, number];
  const raw = randMats(rng, shape);
  return operand(shape, fdt, (i) => {
    const r = Math.floor(i / n) % m,
      c = i % n;
    return 0.2 * raw[i]! + (r === c ? 1 + r : 0);
  });
}

/** Triangular-solve coefficients: a diagonal far from 0 (every triangle is well conditioned). */
function triangular(rng: Rng, shape: number[], fdt: FloatDType): Operand {
  const n = shape[shape.length - 1]!;
  return operand(shape, fdt, (i) => {
    const r = Math.floor(i / n) % n,
      c = i % n;
    return r === c ? rng.awayFromZero(1.5, 2.5) : rng.uniform(-1, 1);
  });
}

/** Matrices whose partial pivots are clear winners: one dominant entry per column in a shuffled row order. */
function pivoted(rng: Rng, shape: number[], fdt: FloatDType): Operand {
  const n = shape[shape.length - 1]!;
  const rows = rng.shuffle(Array.from({ length: n }, (_, i) => i));
  return operand(shape, fdt, (i) => {
    const r = Math.floor(i / n) % n,
      c = i % n;
    return rows[c] === r ? rng.awayFromZero(3, 4) : rng.uniform(-0.5, 0.5);
  });
}

// ---------------------------------------------------------------- cases

const single = <P extends LinalgPrim>(
  name: string,
  make: (rng: Rng, fdt: FloatDType) => Operand[],
  params: PrimParams[P],
  ref: (xs: Operand[], p: PrimParams[P]) => Host | Host[],
  extra: Partial<PrimCase<P>> = {},
): PrimCase<P> => ({ name, make, params, ref, diff: [0], tol: { fd: 1e-5 }, ...extra });

const chol = (name: string, shape: number[]) =>
  single<Prim.Cholesky>(
    name,
    (rng, fdt) => [spd(rng, shape, fdt)],
    {},
    ([a]) => perMatrix(a!, cholRef, (lead) => [[...lead, shape.at(-1)!, shape.at(-1)!]])[0]!,
  );

const tri = (name: string, aShape: number[], bShape: number[], params: PrimParams[Prim.TriangularSolve]) =>
  single<Prim.TriangularSolve>(
    name,
    (rng, fdt) => [triangular(rng, aShape, fdt), operand(bShape, fdt, () => rng.uniform(-1, 1))],
    params,
    ([a, b], p) => {
      const n = aShape.at(-1)!,
        [r, c] = bShape.slice(-2) as [number, number];
      const data: number[] = [];
      for (let t = 0; t < batchOf(aShape); t++) data.push(...triSolveRef(matOf(a!, t, n, n), matOf(b!, t, r, c), p).flat());
      return { shape: bShape, data };
    },
    { diff: [0, 1], linear: [[1]] },
  );

const luCase = (name: string, shape: number[]) =>
  single<Prim.Lu>(
    name,
    (rng, fdt) => [pivoted(rng, shape, fdt)],
    {},
    ([a]) => perMatrix(a!, luRef, (lead) => [shape, [...lead, shape.at(-1)!], [...lead, shape.at(-1)!]]),
    { outDtype: ([a]) => [a!.dtype, "int32", "int32"] },
  );

const qrCase = (name: string, shape: number[]) =>
  single<Prim.Qr>(
    name,
    (rng, fdt) => [distinctSv(rng, shape, fdt)],
    { fullMatrices: false },
    ([a]) => {
      const [m, n] = shape.slice(-2) as [number, number];
      return perMatrix(a!, qrRef, (lead) => [
        [...lead, m, n],
        [...lead, n, n],
      ]);
    },
  );

const eighCase = (name: string, shape: number[]) =>
  single<Prim.Eigh>(
    name,
    (rng, fdt) => [separated(rng, shape, fdt)],
    {},
    ([a]) => {
      const n = shape.at(-1)!;
      return perMatrix(a!, eighRef, (lead) => [
        [...lead, n],
        [...lead, n, n],
      ]);
    },
  );

const svdCase = (name: string, shape: number[]) =>
  single<Prim.Svd>(
    name,
    (rng, fdt) => [distinctSv(rng, shape, fdt)],
    { fullMatrices: false },
    ([a]) => {
      const [m, n] = shape.slice(-2) as [number, number];
      const k = Math.min(m, n);
      return perMatrix(a!, svdRef, (lead) => [
        [...lead, m, k],
        [...lead, k],
        [...lead, k, n],
      ]);
    },
  );

const TS = (leftSide: boolean, lower: boolean, transposeA: boolean, unitDiagonal: boolean) => ({ leftSide, lower, transposeA, unitDiagonal });

export const linalgCases: { [P in LinalgPrim]: PrimCase<P>[] } = {
  [Prim.Cholesky]: [chol("float [3,3]", [3, 3]), chol("float [2,4,4] (batched)", [2, 4, 4]), chol("float [1,1]", [1, 1])],
  [Prim.TriangularSolve]: [
    tri("left lower [3,3] [3,2]", [3, 3], [3, 2], TS(true, true, false, false)),
    tri("left upper transposed [3,3] [3,1]", [3, 3], [3, 1], TS(true, false, true, false)),
    tri("right lower unit-diagonal [3,3] [2,3]", [3, 3], [2, 3], TS(false, true, false, true)),
    tri("right upper transposed batched [2,3,3] [2,4,3]", [2, 3, 3], [2, 4, 3], TS(false, false, true, false)),
  ],
  [Prim.Lu]: [luCase("float [3,3]", [3, 3]), luCase("float [2,4,4] (batched)", [2, 4, 4])],
  [Prim.Qr]: [qrCase("reduced [3,3]", [3, 3]), qrCase("reduced tall [4,2]", [4, 2]), qrCase("reduced batched [2,3,2]", [2, 3, 2])],
  [Prim.Eigh]: [eighCase("float [3,3]", [3, 3]), eighCase("float [2,2] ", [2, 2]), eighCase("batched [2,4,4]", [2, 4, 4])],
  [Prim.Svd]: [svdCase("square [3,3]", [3, 3]), svdCase("tall [4,2]", [4, 2]), svdCase("wide [2,3]", [2, 3]), svdCase("batched [2,3,2]", [2, 3, 2])],
};
