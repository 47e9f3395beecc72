/**
 * np.sinc near 0: its derivatives come from a Taylor series below |x| = 0.1, so float32 second
 * derivatives agree with the closed form (the quotient form lost 3 % at x = 1e-3, found by the
 * long law run). Reference: sinc''(x) = π² · (−1/3 + π²x²/10 − ...) from the series, and the exact
 * quotient's second derivative in float64 away from 0.
 */
import { describe, expect, it } from "vitest";
import { grad, np } from "../../src/index.js";

/** d²/dx² sin(πx)/(πx), from the derivatives of sin(u)/u at u = πx. */
function sincSecond(x: number): number {
  const u = Math.PI * x;
  if (Math.abs(u) < 1e-2) return Math.PI ** 2 * (-1 / 3 + u ** 2 / 10 - u ** 4 / 168);
  const s = Math.sin(u),
    c = Math.cos(u);
  return Math.PI ** 2 * ((-s * u * u - 2 * c * u + 2 * s) / u ** 3);
}

describe("np.sinc second derivative", () => {
  it.each([1e-4, 1e-3, 0.01, 0.05, 0.0999, 0.1, 0.3, 1.7])("at %s agrees with the closed form in float32 and float64", (x) => {
    const d2 = (dtype: "float32" | "float64") => grad(grad((v: ReturnType<typeof np.array>) => np.sinc(v)))(np.array(x, { dtype })).item();
    const want = sincSecond(x);
    expect(Math.abs(d2("float64") - want)).toBeLessThan(1e-9);
    expect(Math.abs(d2("float32") - want)).toBeLessThan(1e-4 * Math.abs(want) + 1e-5);
  });
});
