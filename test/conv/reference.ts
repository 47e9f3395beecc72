/**
 * A naive float64 convolution written from the definition, independent of the library: nested
 * loops over every output, input feature and window offset, in the canonical layout
 * lhs [N, C, ...S], rhs [O, C/G, ...K], out [N/B, O, ...Q].
 */
import type { Host } from "../primitives/cases_util.js";

export interface RefConvParams {
  strides: number[];
  padding: [number, number][];
  lhsDilation: number[];
  rhsDilation: number[];
  featureGroupCount: number;
  batchGroupCount: number;
}

const prod = (v: readonly number[]) => v.reduce((a, b) => a * b, 1);
const strides = (shape: readonly number[]) => shape.map((_, d) => prod(shape.slice(d + 1)));
const unravel = (i: number, shape: readonly number[]) => shape.map((_, d) => Math.floor(i / prod(shape.slice(d + 1))) % shape[d]!);

/** The convolution of `lhs` with `rhs`, straight from the definition. */
export function convRef(lhs: Host, rhs: Host, p: RefConvParams): Host {
  const [n, c, ...s] = lhs.shape as [number, number, ...number[]];
  const [o, i, ...k] = rhs.shape as [number, number, ...number[]];
  const nd = s.length;
  const g = p.featureGroupCount,
    b = p.batchGroupCount;
  const q = s.map((sz, d) => {
    const dil = sz === 0 ? 0 : (sz - 1) * p.lhsDilation[d]! + 1;
    const padded = dil + p.padding[d]![0] + p.padding[d]![1];
    const span = (k[d]! - 1) * p.rhsDilation[d]! + 1;
    return padded < span ? 0 : Math.floor((padded - span) / p.strides[d]!) + 1;
  });
  const outShape = [n / b, o, ...q];
  const ls = strides(lhs.shape),
    rs = strides(rhs.shape);
  const data = new Array<number>(prod(outShape)).fill(0);
  for (let flat = 0; flat < data.length; flat++) {
    const [on, oo, ...oq] = unravel(flat, outShape) as [number, number, ...number[]];
    const grp = Math.floor(oo / (o / (g * b)));
    const batch = b > 1 ? grp * (n / b) + on : on;
    const c0 = g > 1 ? grp * i : 0;
    let acc = 0;
    for (let ci = 0; ci < i; ci++) {
      for (let kf = 0; kf < prod(k); kf++) {
        const kk = unravel(kf, k);
        let off = (batch * c + c0 + ci) * ls[1]!;
        let inside = true;
        for (let d = 0; d < nd && inside; d++) {
          // Position in the dilated, padded lhs; a real element only at multiples of the dilation.
          const pos = oq[d]! * p.strides[d]! + kk[d]! * p.rhsDilation[d]! - p.padding[d]![0];
          if (pos < 0 || pos % p.lhsDilation[d]! !== 0 || pos / p.lhsDilation[d]! >= s[d]!) inside = false;
          else off += (pos / p.lhsDilation[d]!) * ls[d + 2]!;
        }
        if (!inside) continue;
        let roff = (oo * i + ci) * rs[1]!;
        for (let d = 0; d < nd; d++) roff += kk[d]! * rs[d + 2]!;
        acc += lhs.data[off]! * rhs.data[roff]!;
      }
    }
    data[flat] = acc;
  }
  return { shape: outShape, data };
}

/** JAX's "SAME" padding for one dim, computed here independently. */
const same = (n: number, k: number, s: number): [number, number] => {
  const out = Math.ceil(n / s);
  const total = Math.max(0, (out - 1) * s + k - n);
  return [Math.floor(total / 2), total - Math.floor(total / 2)];
};

/** A convolution case of the tests: shapes, strides, padding and the optional params. */
export interface Config {
  name: string;
  x: number[];
  w: number[];
  strides: number[];
  padding: "SAME" | "VALID" | [number, number][];
  lhsDilation?: number[];
  rhsDilation?: number[];
  featureGroupCount?: number;
  batchGroupCount?: number;
}

/** Padding as [low, high] per spatial dim ("SAME" and "VALID" resolved as JAX does). */
function explicit(c: Config): [number, number][] {
  if (Array.isArray(c.padding)) return c.padding;
  const nd = c.x.length - 2;
  return Array.from({ length: nd }, (_, d) => {
    if (c.padding === "VALID") return [0, 0];
    const n = (c.x[d + 2]! - 1) * (c.lhsDilation?.[d] ?? 1) + 1;
    const k = (c.w[d + 2]! - 1) * (c.rhsDilation?.[d] ?? 1) + 1;
    return same(n, k, c.strides[d]!);
  });
}

/** The reference convolution's params of a case. */
export const refParams = (c: Config) => {
  const nd = c.x.length - 2;
  return {
    strides: c.strides,
    padding: explicit(c),
    lhsDilation: c.lhsDilation ?? Array<number>(nd).fill(1),
    rhsDilation: c.rhsDilation ?? Array<number>(nd).fill(1),
    featureGroupCount: c.featureGroupCount ?? 1,
    batchGroupCount: c.batchGroupCount ?? 1,
  };
};
/** The optional params of a case, as lax.convGeneralDilated takes them. */
export const opts = (c: Config) => ({
  lhsDilation: c.lhsDilation,
  rhsDilation: c.rhsDilation,
  featureGroupCount: c.featureGroupCount,
  batchGroupCount: c.batchGroupCount,
});
