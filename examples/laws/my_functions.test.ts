/**
 * Using fluxion/laws in your own vitest suite. In your project the imports read
 *   import { customJvp, np, type NDArray } from "fluxion";
 *   import { LAWS, arb, assertLaw, cases, checkGrads, laws } from "fluxion/laws";
 * (inside this repository the example imports the sources). test/laws/example.test.ts runs it.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { type NDArray, customJvp, np } from "../../src/index.js";
import { LAWS, LawViolation, arb, assertLaw, cases, checkGrads, laws } from "../../laws/index.js";

// ---- the code under test ----

interface Params {
  w: NDArray;
  b: NDArray;
}

/** A dense layer: tanh(x w + b). */
const layer = (p: Params, x: NDArray) => np.tanh(np.add(np.matmul(x, p.w), p.b));

/** log(cosh(x)), with its derivative tanh(x) written by hand (stable for large |x|). */
const logcosh = customJvp(
  (x: NDArray) => np.log(np.cosh(x)),
  ([x]: NDArray[], [t]: NDArray[]) => [np.log(np.cosh(x!)), np.multiply(np.tanh(x!), t!)],
);

/** The same with a bug in the hand-written derivative (sign flipped). */
const logcoshBuggy = customJvp(
  (x: NDArray) => np.log(np.cosh(x)),
  ([x]: NDArray[], [t]: NDArray[]) => [np.log(np.cosh(x!)), np.multiply(np.negative(np.tanh(x!)), t!)],
);

// ---- arbitraries of their inputs ----

// noNullPrototype: fluxion's pytrees take plain objects (fc.record may otherwise make null-prototype ones).
const params = fc.record({ w: arb.array({ shape: [3, 2] }), b: arb.array({ shape: [2] }) }, { noNullPrototype: true });
const batch = arb.array({ shape: [4, 3], dtype: "float32" });
const layerCases = cases(layer, fc.tuple(params, batch), { source: "layer" });
const reals = fc.tuple(arb.array({ shape: arb.shape({ maxRank: 2 }), min: -3, max: 3 }));

describe("my functions obey fluxion's laws", () => {
  it("layer: derivatives match float64 central differences up to order 2", () => {
    const p = {
      w: np.array(
        [
          [0.1, 0.2],
          [0.3, -0.4],
          [0.5, 0.6],
        ],
        { dtype: "float64" },
      ),
      b: np.array([0.01, -0.02], { dtype: "float64" }),
    };
    const report = checkGrads(
      layer,
      [
        p,
        np.array(
          [
            [1, 2, 3],
            [-1, 0.5, 2],
          ],
          { dtype: "float64" },
        ),
      ],
      { order: 2 },
    );
    expect(report.comparisons.every((c) => c.ok)).toBe(true);
  });

  // Every law, on random parameters and batches (pytree arguments, float32 inputs).
  for (const law of LAWS) it(`layer: ${law.name}`, () => assertLaw(law, layerCases, { numRuns: 10 }));

  it("logcosh: the hand-written derivative is right, to second order", () => {
    assertLaw(laws.jvpMatchesFiniteDifferences, cases(logcosh, reals), { numRuns: 50, order: 2 });
    assertLaw(laws.transposeIdentity, cases(logcosh, reals), { numRuns: 50 });
  });

  it("logcosh with a sign bug: checkGrads says where it fails", () => {
    expect(() => checkGrads(logcoshBuggy, [np.array([0.5, -1.5], { dtype: "float64" })])).toThrow(LawViolation);
    expect(() => assertLaw(laws.jvpMatchesFiniteDifferences, cases(logcoshBuggy, reals), { numRuns: 50 })).toThrow(/Counterexample/);
  });
});
