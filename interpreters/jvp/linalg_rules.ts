/**
 * Forward-mode rules of the linear-algebra primitives, as JAX derives them, written with bound ops
 * (so they differentiate again and batch). Matrices are the last two axes; leading axes are batch.
 *
 * Repeated eigenvalues / singular values: the eigenvector and singular-vector tangents contain
 * 1/(w_j − w_i) (eigh) and 1/(s_j² − s_i²) (svd); where two values are exactly equal that factor is
 * taken as 0, i.e. the tangent is the one of the basis the kernel returned, with no rotation inside
 * the repeated subspace (which is not unique). Eigenvalue and singular-value tangents stay right.
 * Singular vectors of a zero singular value in a non-square svd get infinite tangents, as in JAX.
 */
import { ShapeError } from "../../src/core/errors.js";
import * as lax from "../../src/core/lax.js";
import { asColumns, asRows, diagonal, eyeLike, mT, mm, scaleBy, symmetrize, tril, triu } from "../../src/core/lax_linalg.js";
import type { NDArray } from "../../src/core/ndarray.js";
import { Prim } from "../../src/core/prim.js";
import { type JvpRule, type Tangent, Zero } from "./interpreter.js";

type LinalgPrim = Prim.Cholesky | Prim.TriangularSolve | Prim.Lu | Prim.Qr | Prim.Eigh | Prim.Svd;

const isZero = (t: Tangent | undefined): t is Zero => t instanceof Zero;
const real = (t: Tangent): NDArray => (t instanceof Zero ? lax.zerosOf(t) : t);
const zeros = (outs: NDArray[]): Zero[] => outs.map((o) => new Zero(o));

/** 1/d where d != 0, and 0 where d == 0 (no NaN reaches any derivative). */
function safeReciprocal(d: NDArray): NDArray {
  const isZ = lax.eq(d, lax.fill(d, 0));
  const safe = lax.selectN(isZ, d, lax.fill(d, 1));
  return lax.selectN(isZ, lax.div(lax.fill(d, 1), safe), lax.fill(d, 0));
}

/** The triangle of `da` a triangular solve reads (strict when the diagonal is taken as ones). */
const readTriangle = (da: NDArray, lower: boolean, unit: boolean): NDArray => (lower ? tril(da, unit ? -1 : 0) : triu(da, unit ? 1 : 0));

export const linalgJvpRules: { [P in LinalgPrim]: JvpRule<P> } = {
  // A = L Lᵀ: dL = L Φ(L⁻¹ sym(dA) L⁻ᵀ), Φ = lower triangle with the diagonal halved.
  [Prim.Cholesky]: ([a], [da]) => {
    const l = lax.cholesky(a!);
    if (isZero(da)) return [[l], [da]];
    const sig = symmetrize(da as NDArray);
    const right = lax.triangularSolve(l, sig, { leftSide: false, lower: true, transposeA: true, unitDiagonal: false });
    const inner = lax.triangularSolve(l, right, { leftSide: true, lower: true, transposeA: false, unitDiagonal: false });
    const phi = scaleBy(inner, (i, j) => (j < i ? 1 : j === i ? 0.5 : 0));
    return [[l], [mm(l, phi)]];
  },
  // X = op(A)⁻¹ B: dX = op(A)⁻¹ (dB − op(dA) X) (left side), (dB − X op(dA)) op(A)⁻¹ (right side),
  // where dA is restricted to the triangle the solve reads.
  [Prim.TriangularSolve]: ([a, b], [da, db], params) => {
    const x = lax.triangularSolve(a!, b!, params);
    if (isZero(da) && isZero(db)) return [[x], [new Zero(x)]];
    let rhs: NDArray | null = isZero(db) ? null : (db as NDArray);
    if (!isZero(da)) {
      let g = readTriangle(da as NDArray, params.lower, params.unitDiagonal);
      if (params.transposeA) g = mT(g);
      const gx = lax.neg(params.leftSide ? mm(g, x) : mm(x, g));
      rhs = rhs === null ? gx : lax.add(rhs, gx);
    }
    return [[x], [lax.triangularSolve(a!, rhs!, params)]];
  },
  // P A = L U: with X = P dA, L⁻¹ X U⁻¹ = M, dL = L·strictly_lower(M), dU = upper(M)·U.
  [Prim.Lu]: ([a], [da]) => {
    const outs = lax.lu(a!);
    if (isZero(da)) return [outs, zeros(outs)];
    const [lu, , perm] = outs as [NDArray, NDArray, NDArray];
    const r = a!.ndim;
    const x = lax.gather(da as NDArray, perm, r - 2, r - 2);
    const la = lax.triangularSolve(lu, x, { leftSide: true, lower: true, transposeA: false, unitDiagonal: true });
    const m = lax.triangularSolve(lu, la, { leftSide: false, lower: false, transposeA: false, unitDiagonal: false });
    const l = lax.add(tril(lu, -1), eyeLike(lu));
    const u = triu(lu);
    const dlu = lax.add(mm(l, tril(m, -1)), mm(triu(m), u));
    return [outs, [dlu, new Zero(outs[1]!), new Zero(outs[2]!)]];
  },
  // A = Q R (m >= n): with C = Qᵀ dA R⁻¹ and Ω = low(C) − low(C)ᵀ (low: strictly lower),
  // dQ = Q (Ω − C) + dA R⁻¹, dR = (C − Ω) R.
  [Prim.Qr]: ([a], [da], { fullMatrices }) => {
    const outs = lax.qr(a!, fullMatrices);
    if (isZero(da)) return [outs, zeros(outs)];
    const [m, n] = a!.shape.slice(-2) as [number, number];
    if (m < n || (fullMatrices && m !== n)) {
      throw new ShapeError(
        `qr: the derivative is defined for m >= n with reduced factors (got ${m}×${n}${fullMatrices ? ", fullMatrices" : ""}); ` +
          `differentiate qr of the transpose, or use mode "reduced"`,
      );
    }
    const [q, r] = outs as [NDArray, NDArray];
    const dxRinv = lax.triangularSolve(r, da as NDArray, { leftSide: false, lower: false, transposeA: false, unitDiagonal: false });
    const c = mm(mT(q), dxRinv);
    const low = tril(c, -1);
    const omega = lax.sub(low, mT(low));
    const dq = lax.add(mm(q, lax.sub(omega, c)), dxRinv);
    const dr = mm(lax.sub(c, omega), r);
    return [outs, [dq, dr]];
  },
  // A = V diag(w) Vᵀ: with S = Vᵀ sym(dA) V, dw = diag(S), dV = V (F ∘ S), F_ij = 1/(w_j − w_i) (0 where equal).
  [Prim.Eigh]: ([a], [da]) => {
    const outs = lax.eigh(a!);
    if (isZero(da)) return [outs, zeros(outs)];
    const [w, v] = outs as [NDArray, NDArray];
    const n = w.shape[w.ndim - 1]!;
    const s = mm(mT(v), mm(symmetrize(da as NDArray), v));
    const f = safeReciprocal(lax.sub(asRows(w, n), asColumns(w, n)));
    return [outs, [diagonal(s), mm(v, lax.mul(f, s))]];
  },
  // A = U diag(s) Vᵀ: with S = Uᵀ dA V, ds = diag(S), F_ij = 1/(s_j² − s_i²) (0 where equal),
  // dU = U (F ∘ (S diag(s) + diag(s) Sᵀ)) (+ (I − U Uᵀ) dA V diag(1/s) when m > n),
  // dV = V (F ∘ (diag(s) S + Sᵀ diag(s))) (+ (I − V Vᵀ) dAᵀ U diag(1/s) when n > m).
  [Prim.Svd]: ([a], [da], { fullMatrices }) => {
    const outs = lax.svd(a!, fullMatrices);
    if (isZero(da)) return [outs, zeros(outs)];
    const [m, n] = a!.shape.slice(-2) as [number, number];
    if (fullMatrices && m !== n) {
      throw new ShapeError(
        `svd: the derivative needs fullMatrices false for a non-square ${m}×${n} matrix; the extra singular vectors are not unique`,
      );
    }
    const [u, s, vh] = outs as [NDArray, NDArray, NDArray];
    const dA = real(da!);
    const k = Math.min(m, n);
    const v = mT(vh);
    const dS = mm(mT(u), mm(dA, v));
    const sj = asRows(s, k),
      si = asColumns(s, k);
    const f = safeReciprocal(lax.mul(lax.add(sj, si), lax.sub(sj, si)));
    const dSS = lax.mul(sj, dS),
      SdS = lax.mul(si, dS);
    let dU = mm(u, lax.mul(f, lax.add(dSS, mT(dSS))));
    let dV = mm(v, lax.mul(f, lax.add(SdS, mT(SdS))));
    if (m > n) {
      const dAV = mm(dA, v);
      dU = lax.add(dU, lax.div(lax.sub(dAV, mm(u, mm(mT(u), dAV))), asRows(s, m)));
    }
    if (n > m) {
      const dAHU = mm(mT(dA), u);
      dV = lax.add(dV, lax.div(lax.sub(dAHU, mm(v, mm(vh, dAHU))), asRows(s, n)));
    }
    return [outs, [dU, diagonal(dS), mT(dV)]];
  },
};
