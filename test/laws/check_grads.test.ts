/** checkGrads: passes on correct derivatives of every order, reports precisely what fails, and validates its options. */
import * as E from "fp-ts/lib/Either.js";
import { describe, expect, it } from "vitest";
import { ArgumentError, type NDArray, customJvp, customVjp, nn, np } from "../../src/index.js";
import { LawViolation, checkGrads, checkGradsEither, checkLaw, checkLawEither, laws } from "../../laws/index.js";

const d = (xs: number[] | number[][]) => np.array(xs, { dtype: "float64" });
const f32 = (xs: number[] | number[][]) => np.array(xs, { dtype: "float32" });

/** sin with a deliberately wrong derivative (t instead of cos(x) t), through the public customJvp. */
const badSin = customJvp(
  (x: NDArray) => np.sin(x),
  ([x]: NDArray[], [t]: NDArray[]) => [np.sin(x!), t!],
);

describe("checkGrads", () => {
  it("passes on correct derivatives up to order 3 in both modes, and reports every comparison", () => {
    const f = (p: { w: NDArray; b: NDArray }, x: NDArray) => np.tanh(np.matmul(x, p.w).add(p.b));
    const args = [
      {
        w: d([
          [0.1, 0.2],
          [0.3, -0.4],
          [0.5, 0.6],
        ]),
        b: d([0.01, -0.02]),
      },
      d([
        [1, 2, 3],
        [-1, 0.5, 2],
      ]),
    ];
    const report = checkGrads(f, args, { order: 3 });
    // 2 modes at order 1, each recursing into 2 at order 2, each into 2 at order 3.
    expect(report.comparisons).toHaveLength(2 + 4 + 8);
    expect(report.comparisons.every((c) => c.ok)).toBe(true);
    expect(new Set(report.comparisons.map((c) => c.order))).toEqual(new Set([1, 2, 3]));
    expect(report.comparisons.find((c) => c.order === 3)!.path).toHaveLength(2);
  });

  it("uses float32 tolerances for float32 inputs and ignores integer leaves", () => {
    const f = (x: NDArray, idx: NDArray) => nn.softmax(np.take(x, idx));
    const report = checkGrads(f, [f32([0.3, -1.2, 2.1]), np.array([2, 0], { dtype: "int32" })], { order: 2 });
    expect(report.comparisons.every((c) => c.dtype === "float32" && c.inSize === 3)).toBe(true);
  });

  it("throws a LawViolation that names the mode, order, direction and size of the error", () => {
    let err: unknown;
    try {
      checkGrads(badSin, [d([0.3, -1.2, 2.0])], { modes: ["fwd"], seed: 5 });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(LawViolation);
    const v = err as LawViolation;
    expect(v.message).toMatch(
      /^checkGrads: fwd-mode check at order 1 failed \(jvp vs central differences\) along random direction #0 \(seed 5\) at output leaf 0, element \d: got .*, expected .*, \|error\| .* > tolerance .* \(float64; 3 input and 3 output elements\)$/,
    );
    expect(v.report.failed).toMatchObject({ mode: "fwd", order: 1, direction: { seed: 5, index: 0 }, ok: false });
    expect(v.report.failed!.error).toBeGreaterThan(v.report.failed!.tolerance);
  });

  it("checks reverse mode through the transpose identity with central differences", () => {
    // A wrong bwd: forward mode is unavailable for customVjp, reverse mode is wrong.
    const f = customVjp(
      (x: NDArray) => np.sin(x),
      (x: NDArray) => [np.sin(x), x],
      (x: NDArray, ct: NDArray) => [np.multiply(np.sin(x), ct)],
    );
    expect(() => checkGrads(f, [d([0.3, -1.2])], { modes: ["rev"] })).toThrow(
      /checkGrads: rev-mode check at order 1 failed \(<vjp\(u\), v> vs <u, central differences along v>\)/,
    );
  });

  it("has a non-throwing twin returning an fp-ts Either with the same report", () => {
    const bad = checkGradsEither(badSin, [d([0.3])], { modes: ["fwd"] });
    expect(E.isLeft(bad)).toBe(true);
    if (E.isLeft(bad)) {
      expect(bad.left).toBeInstanceOf(LawViolation);
      expect(bad.left.report.failed?.mode).toBe("fwd");
    }
    const good = checkGradsEither(np.sin, [d([0.3])], { order: 2 });
    expect(E.isRight(good) && good.right.comparisons.length === 6).toBe(true);
  });

  it("validates its options and names itself in the error", () => {
    const x = [d([0.3])];
    expect(() => checkGrads(np.sin, x, { order: 0 })).toThrow(new ArgumentError("checkGrads: order must be an integer from 1 to 4, got 0"));
    expect(() => checkGrads(np.sin, x, { modes: [] })).toThrow(/checkGrads: modes must be a non-empty list of "fwd" and "rev"/);
    expect(() => checkGrads(np.sin, x, { eps: -1 })).toThrow(/checkGrads: eps must be a positive finite number, got -1/);
    expect(() => checkGrads(np.sin, x, { atol: Number.NaN })).toThrow(/checkGrads: atol must be a non-negative finite number/);
    expect(() => checkGrads("sin" as never, x)).toThrow(/checkGrads: f must be a function/);
  });
});

describe("checkLaw", () => {
  it("checks one law on one function and argument list", () => {
    const report = checkLaw(laws.transposeIdentity, (x: NDArray) => np.cumsum(np.sin(x)), [d([0.3, -1.2, 2])]);
    expect(report.comparisons).toHaveLength(1);
    expect(report.comparisons[0]).toMatchObject({ law: "transposeIdentity", mode: "rev", ok: true });
  });

  it("returns the violation as an fp-ts Left", () => {
    const r = checkLawEither(laws.jvpMatchesFiniteDifferences, badSin, [d([0.5])]);
    expect(E.isLeft(r) && r.left.report.law === "jvpMatchesFiniteDifferences").toBe(true);
  });
});
