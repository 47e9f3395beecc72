/**
 * The eval interpreter's implementations of the linear-algebra primitives: each loops over the
 * leading (batch) axes, copies one matrix into float64, runs its kernel (Cholesky, triangular solve
 * and LU: `linalg_blocked.ts`; QR: `linalg_qr.ts`; eigh: `linalg_eigh.ts`; SVD: `linalg_svd.ts`;
 * each hands small matrices to `linalg.ts`, and their O(n³) products run in WebAssembly) and writes
 * the results in the output dtype. Operands are validated by the abstract rules (float, rank >= 2,
 * square where needed).
 */
import { type TypedArray, allocate } from "../../../src/core/dtype.js";
import { type Aval, ConcreteArray } from "../../../src/core/ndarray.js";
import { Prim, type PrimParams } from "../../../src/core/prim.js";
import { sizeOf } from "../../../src/core/shape.js";
import * as k from "./linalg.js";
import * as blocked from "./linalg_blocked.js";
import * as golubKahan from "./linalg_svd.js";
import * as tridiagonal from "./linalg_eigh.js";
import * as householder from "./linalg_qr.js";

type C = ConcreteArray;
type Impl<P extends Prim> = (args: readonly C[], params: PrimParams[P], outs: Aval[]) => C[];
type LinalgPrim = Prim.Cholesky | Prim.TriangularSolve | Prim.Lu | Prim.Qr | Prim.Eigh | Prim.Svd;

/** The last two dims of `x` and the number of matrices before them. */
const dims = (x: Aval): [number, number, number] => {
  const r = x.shape.length;
  return [sizeOf(x.shape.slice(0, -2)), x.shape[r - 2]!, x.shape[r - 1]!];
};

/**
 * Runs `kernel` on every matrix of `x`: it gets a float64 copy of matrix b and float64 (or int32)
 * buffers for each output's matrix b, which are then written into the outputs.
 */
function perMatrix(x: C, outs: Aval[], kernel: (a: Float64Array, o: (Float64Array | Int32Array)[]) => void): C[] {
  const [batch, m, n] = dims(x);
  const datas: TypedArray[] = outs.map((o) => allocate(o.dtype, sizeOf(o.shape)));
  const per = outs.map((o) => sizeOf(o.shape) / Math.max(batch, 1));
  const bufs = outs.map((o, i) => (o.dtype === "int32" ? new Int32Array(per[i]!) : new Float64Array(per[i]!)));
  for (let b = 0; b < batch; b++) {
    const a = Float64Array.from(x.values.subarray(b * m * n, (b + 1) * m * n));
    kernel(a, bufs);
    bufs.forEach((buf, i) => datas[i]!.set(buf, b * per[i]!));
  }
  return outs.map((o, i) => new ConcreteArray(datas[i]!, o.shape as number[], o.dtype));
}

const f64 = (o: Float64Array | Int32Array): Float64Array => o as Float64Array;

export const linalgImpls: { [P in LinalgPrim]: Impl<P> } = {
  [Prim.Cholesky]: ([x], _p, outs) => {
    const n = dims(x!)[2];
    return perMatrix(x!, outs, (a, [l]) => blocked.cholesky(k.symmetricPart(a, n), n, f64(l!)));
  },
  [Prim.TriangularSolve]: ([a, b], { leftSide, lower, transposeA, unitDiagonal }, outs) => {
    const [batch, n] = dims(a!);
    const [, r, c] = dims(b!);
    const data = allocate(outs[0]!.dtype, b!.size);
    for (let t = 0; t < batch; t++) {
      const am = Float64Array.from(a!.values.subarray(t * n * n, (t + 1) * n * n));
      const bm = Float64Array.from(b!.values.subarray(t * r * c, (t + 1) * r * c));
      blocked.triangularSolve(am, bm, n, r, c, leftSide, lower, transposeA, unitDiagonal);
      data.set(bm, t * r * c);
    }
    return [new ConcreteArray(data, outs[0]!.shape as number[], outs[0]!.dtype)];
  },
  [Prim.Lu]: ([x], _p, outs) => {
    const n = dims(x!)[2];
    return perMatrix(x!, outs, (a, [luOut, piv, perm]) => {
      blocked.lu(a, n, piv as Int32Array, perm as Int32Array);
      f64(luOut!).set(a);
    });
  },
  [Prim.Qr]: ([x], { fullMatrices }, outs) => {
    const [, m, n] = dims(x!);
    return perMatrix(x!, outs, (a, [q, r]) => householder.qr(a, m, n, fullMatrices, f64(q!), f64(r!)));
  },
  [Prim.Eigh]: ([x], _p, outs) => {
    const n = dims(x!)[2];
    return perMatrix(x!, outs, (a, [w, v]) => tridiagonal.eigh(k.symmetricPart(a, n), n, f64(w!), f64(v!)));
  },
  [Prim.Svd]: ([x], { fullMatrices }, outs) => {
    const [, m, n] = dims(x!);
    return perMatrix(x!, outs, (a, [u, s, vh]) => golubKahan.svd(a, m, n, fullMatrices, f64(u!), f64(s!), f64(vh!)));
  },
};
