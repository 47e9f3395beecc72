/**
 * Reductions and scans on the CPU over a [outer, n, inner] view of the operand: the reduced (or
 * scanned) dims form the middle block. Callers move the reduced axes into one block first.
 */
import type { TypedArray } from "../../../src/core/dtype.js";

export type ReduceOp = "sum" | "max" | "min";

export function reduceKernel(op: ReduceOp, x: TypedArray, out: TypedArray, outer: number, n: number, inner: number): void {
  const init = op === "sum" ? 0 : op === "max" ? -Infinity : Infinity;
  const acc = new Float64Array(inner);
  for (let o = 0; o < outer; o++) {
    acc.fill(init);
    const base = o * n * inner;
    for (let r = 0; r < n; r++) {
      const row = base + r * inner;
      if (op === "sum") for (let i = 0; i < inner; i++) acc[i] += x[row + i]!;
      else if (op === "max") for (let i = 0; i < inner; i++) { const v = x[row + i]!; if (v > acc[i]! || v !== v) acc[i] = v; }
      else for (let i = 0; i < inner; i++) { const v = x[row + i]!; if (v < acc[i]! || v !== v) acc[i] = v; }
    }
    for (let i = 0; i < inner; i++) out[o * inner + i] = acc[i]!;
  }
}

/** Index of the first extremum along the middle dim (a NaN counts as the extremum). */
export function argReduceKernel(isMax: boolean, x: TypedArray, out: TypedArray, outer: number, n: number, inner: number): void {
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++) {
      const base = o * n * inner + i;
      let best = x[base]!, at = 0;
      for (let r = 1; r < n && best === best; r++) {
        const v = x[base + r * inner]!;
        if ((isMax ? v > best : v < best) || v !== v) { best = v; at = r; }
      }
      out[o * inner + i] = at;
    }
  }
}

export function cumsumKernel(x: TypedArray, out: TypedArray, outer: number, n: number, inner: number, reverse: boolean): void {
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++) {
      const base = o * n * inner + i;
      let acc = 0;
      for (let k = 0; k < n; k++) {
        const at = base + (reverse ? n - 1 - k : k) * inner;
        acc += x[at]!;
        out[at] = acc;
      }
    }
  }
}
