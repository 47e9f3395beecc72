/**
 * CPU convolution over flat row-major buffers in the canonical layout: lhs [N, C, ...S],
 * rhs [O, C/G, ...K], out [N/B, O, ...Q], with 1 to 3 spatial dims (padded to 3 with size 1).
 * The lhs window of each output position is unrolled into a column matrix (im2col, with lhs
 * dilation, padding and window dilation resolved by index arithmetic, so negative padding and
 * transposed convolutions need no special case), and each group's kernel multiplies it on the
 * shared matmul (WebAssembly SIMD for large products). This is the general path; ungrouped
 * convolutions take the faster lowerings of `conv_gemm.ts` first (lhs-dilated ones where no stride
 * shares the dim). Knows nothing of NDArrays or transforms.
 */
import type { ConvGeometry } from "../../../src/core/conv_geometry.js";
import type { TypedArray } from "../../../src/core/dtype.js";
import { convGemm } from "./conv_gemm.js";
import { type FloatArray, matmul } from "./matmul.js";

export type { ConvGeometry };

/** Positions in lhs along one dim for every (window offset, output position), -1 where padding. */
function sourceIndex(s: number, k: number, q: number, stride: number, lo: number, ld: number, rd: number): Int32Array {
  const idx = new Int32Array(k * q);
  for (let a = 0; a < k; a++) {
    for (let b = 0; b < q; b++) {
      const p = b * stride + a * rd - lo;
      idx[a * q + b] = p >= 0 && p % ld === 0 && p / ld < s ? p / ld : -1;
    }
  }
  return idx;
}

let scratch: Record<string, TypedArray> = {};
function buffer(like: TypedArray, n: number): TypedArray {
  const key = like.constructor.name;
  let b = scratch[key];
  if (!b || b.length < n) {
    b = new (like.constructor as new (n: number) => TypedArray)(n);
    scratch = { ...scratch, [key]: b };
  }
  return b.subarray(0, n);
}

/** out = conv(lhs, rhs) for the given geometry; `out` must hold N/B * O * prod(Q) elements. */
export function convKernel(lhs: TypedArray, rhs: TypedArray, out: TypedArray, g: ConvGeometry): void {
  if (convGemm(lhs, rhs, out, g)) return;
  const [s0, s1, s2] = g.s as [number, number, number];
  const [k0, k1, k2] = g.k as [number, number, number];
  const [q0, q1, q2] = g.q as [number, number, number];
  const ix = [0, 1, 2].map((d) => sourceIndex(g.s[d]!, g.k[d]!, g.q[d]!, g.strides[d]!, g.lo[d]!, g.lhsDilation[d]!, g.rhsDilation[d]!));
  const [i0, i1, i2] = ix as [Int32Array, Int32Array, Int32Array];
  const sp = s0 * s1 * s2,
    kp = k0 * k1 * k2,
    qp = q0 * q1 * q2;
  const groups = g.groups * g.batchGroups;
  const oPer = g.o / groups;
  const rows = g.i * kp;
  const outN = g.n / g.batchGroups;
  const cols = buffer(lhs, rows * qp);
  if (qp === 0) return;
  for (let n = 0; n < outN; n++) {
    for (let grp = 0; grp < groups; grp++) {
      // Feature groups read channels [grp*i, (grp+1)*i) of batch n; batch groups read all
      // channels of batch grp * outN + n.
      const batch = g.batchGroups > 1 ? grp * outN + n : n;
      const chan0 = g.groups > 1 ? grp * g.i : 0;
      let r = 0;
      for (let ch = 0; ch < g.i; ch++) {
        const base = (batch * g.c + chan0 + ch) * sp;
        for (let a0 = 0; a0 < k0; a0++)
          for (let a1 = 0; a1 < k1; a1++)
            for (let a2 = 0; a2 < k2; a2++, r++) {
              let w = r * qp;
              for (let b0 = 0; b0 < q0; b0++) {
                const p0 = i0[a0 * q0 + b0]!;
                for (let b1 = 0; b1 < q1; b1++) {
                  const p1 = i1[a1 * q1 + b1]!;
                  if (p0 < 0 || p1 < 0) {
                    cols.fill(0, w, w + q2);
                    w += q2;
                    continue;
                  }
                  const row = base + (p0 * s1 + p1) * s2;
                  const off = a2 * q2;
                  for (let b2 = 0; b2 < q2; b2++, w++) {
                    const p2 = i2[off + b2]!;
                    cols[w] = p2 < 0 ? 0 : lhs[row + p2]!;
                  }
                }
              }
            }
      }
      const kernel = rhs.subarray(grp * oPer * rows, (grp + 1) * oPer * rows);
      const dst = out.subarray((n * g.o + grp * oPer) * qp, (n * g.o + (grp + 1) * oPer) * qp);
      matmul(kernel as FloatArray, cols as FloatArray, dst as FloatArray, 1, oPer, rows, qp);
    }
  }
}
