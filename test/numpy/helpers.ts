/** Shared checks for the np / scipy function tests: float64 references, derivatives, vmap and jit. */
import { expect } from "vitest";
import { type NDArray, jit, np, vmap } from "../../src/index.js";
import { checkGrads } from "../../laws/index.js";

export const f64 = (v: number | readonly unknown[]): NDArray => np.array(v as number[], { dtype: "float64" });

/** Elementwise comparison against reference numbers, with a relative-plus-absolute tolerance; NaN and infinities must match exactly. */
export function expectClose(got: NDArray, want: number[], tol = 1e-10): void {
  const g = Array.from(got.dataSync() as Float64Array);
  expect(g.length).toBe(want.length);
  g.forEach((v, i) => {
    const w = want[i]!;
    if (Number.isNaN(w)) expect(v, `element ${i}`).toBeNaN();
    else if (!Number.isFinite(w)) expect(v, `element ${i}`).toBe(w);
    else expect(Math.abs(v - w), `element ${i}: got ${v}, want ${w}`).toBeLessThanOrEqual(tol * (1 + Math.abs(w)));
  });
}

/** vmap over the leading axis equals stacking per-row results, and jit equals eager. */
export function expectVmapJit(f: (...xs: NDArray[]) => NDArray, ...args: NDArray[]): void {
  const batched = vmap(f)(...args);
  const rows = Array.from({ length: args[0]!.shape[0]! }, (_, i) => f(...args.map((a) => np.take(a, np.array(i, { dtype: "int32" }), 0))));
  expectClose(batched, Array.from(np.stack(rows).dataSync()), 1e-12);
  expectClose(jit(f)(...args), Array.from(f(...args).dataSync()), 1e-12);
}

/** Derivatives against central finite differences in float64, forward and reverse, to `order`. */
export function expectGrads(f: (...xs: NDArray[]) => NDArray, args: NDArray[], order = 2): void {
  const report = checkGrads(f, args, { order });
  expect(report.comparisons.length).toBeGreaterThan(0);
  expect(report.comparisons.every((c) => c.ok)).toBe(true);
}

/** ∫ₐᵇ g by composite Simpson with n (even) panels: an independent reference for integrals. */
export function simpson(g: (t: number) => number, a: number, b: number, n = 4000): number {
  const h = (b - a) / n;
  let s = g(a) + g(b);
  for (let i = 1; i < n; i++) s += (i % 2 ? 4 : 2) * g(a + i * h);
  return (s * h) / 3;
}
/** erf by quadrature of its defining integral. */
export const refErf = (x: number): number => (2 / Math.sqrt(Math.PI)) * simpson((t) => Math.exp(-t * t), 0, x);
/** erfc by quadrature over [x, x + min(12, 40/x)] (the rest is below 1e-15 relative). */
export const refErfc = (x: number): number =>
  (2 / Math.sqrt(Math.PI)) * simpson((t) => Math.exp(-t * t), x, x + Math.min(12, 40 / Math.max(x, 1)), 20000);
