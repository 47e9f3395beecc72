/**
 * What a law is, and the generic helpers that turn any law into a fast-check property. A law is
 * written once, as a `check` of one `Case` with a seed for its random directions; `lawProperty`
 * and `assertLaw` run it over an arbitrary of cases, so one helper serves users' own functions,
 * the per-primitive table and random programs alike.
 */
import fc from "fast-check";
import * as E from "fp-ts/lib/Either.js";
import { ArgumentError, type NDArray } from "../src/index.js";
import { type Case, makeCase } from "./cases.js";
import { type Tolerance, defaultTolerance, toleranceDType } from "./numeric.js";
import { type LawReport, LawViolation, Recorder } from "./violation.js";
import { needArbitrary, needArray, needFunction, needLaw, needOptions, renamed, show } from "./validate.js";

export interface LawOptions {
  /** Absolute and relative tolerance (default: by dtype, for the kind of comparison the law makes). */
  atol?: number;
  rtol?: number;
  /** Central-difference step, for laws that compare with finite differences. */
  eps?: number;
  /** Derivative order, for `jvpMatchesFiniteDifferences` (default 1). */
  order?: number;
  /** Examples per batch for the vmap laws when a case brings none (default 3). */
  batchSize?: number;
}

export interface Law {
  /** A camelCase name, used in reports and test titles. */
  readonly name: string;
  /** The equation the law asserts. */
  readonly statement: string;
  /**
   * Checks the law on one case; `seed` fixes its random directions. Returns every comparison made;
   * throws a `LawViolation` on the first that fails.
   */
  check(c: Case, seed: number, options?: LawOptions): LawReport;
}

/**
 * Defines a law from a check that records its comparisons; the recorder throws on failure. This is
 * how `jit equals eager` or a law of your own joins `LAWS`.
 *
 * @example
 * const doubleNegation = defineLaw("doubleNegation", "-(-f(x)) = f(x)", (rec, c) => {
 *   const y = c.f(...c.args) as NDArray, z = np.negative(np.negative(y));
 *   const err = np.max(np.abs(np.subtract(y, z))).item();
 *   rec.record({ what: "-(-f) vs f", mode: "eval", order: 0, path: [], direction: { seed: 0, index: 0 },
 *     inSize: 0, outSize: y.size, dtype: y.dtype, error: err, tolerance: 0, actual: err, expected: 0 });
 * });
 */
export function defineLaw(name: string, statement: string, body: (rec: Recorder, c: Case, seed: number, options: LawOptions) => void): Law {
  if (typeof name !== "string" || typeof statement !== "string")
    throw new ArgumentError(`defineLaw: name and statement must be strings, got ${show(name)}, ${show(statement)}`);
  needFunction("defineLaw", "body", body);
  return {
    name,
    statement,
    check(c, seed, options = {}) {
      const rec = new Recorder(name);
      body(rec, c, seed, options);
      return rec.report();
    },
  };
}

/**
 * Tolerance for a comparison of `kind` at the inputs' dtype, with the caller's overrides.
 *
 * @example
 * toleranceFor("fd", [np.zeros([2], "float32")], {}); // { atol: 2e-3, rtol: 2e-3 }
 */
export function toleranceFor(kind: "fd" | "ad", xs: readonly NDArray[], o: LawOptions): Tolerance {
  const d = defaultTolerance(kind, toleranceDType(xs));
  return { atol: o.atol ?? d.atol, rtol: o.rtol ?? d.rtol };
}

/** fast-check parameters plus law options. */
export type AssertLawOptions = LawOptions & fc.Parameters<[Case, number]>;

const seeds = fc.integer({ min: 0, max: 0x7fffffff });

/**
 * The law as a fast-check property over `cases` (each run also draws a direction seed), for
 * `fc.assert`, `fc.check` or any runner that takes properties.
 *
 * @example
 * fc.assert(lawProperty(laws.vmapEqualsMap, arb.programCases()), { numRuns: 200 });
 */
export function lawProperty(law: Law, cases: fc.Arbitrary<Case>, options: LawOptions = {}): fc.IPropertyWithHooks<[Case, number]> {
  needLaw("lawProperty", law);
  needArbitrary("lawProperty", "cases", cases);
  options = needOptions("lawProperty", options);
  return fc.property(cases, seeds, (c, seed) => {
    law.check(c, seed, options);
  });
}

/**
 * Runs the law over `cases` with `fc.assert` (fast-check prints the seed, the path and the shrunk
 * counterexample as code on failure). Options mix law options (tolerances, order) and fast-check
 * parameters (numRuns, seed, path).
 *
 * @example
 * const f = (x: NDArray) => np.log(x);
 * assertLaw(laws.jvpMatchesFiniteDifferences, cases(f, fc.tuple(arb.array({ min: 0.1, max: 3 }))), { numRuns: 100, order: 2 });
 */
export function assertLaw(law: Law, cases: fc.Arbitrary<Case>, options: AssertLawOptions = {}): void {
  needLaw("assertLaw", law);
  needArbitrary("assertLaw", "cases", cases);
  const { atol, rtol, eps, order, batchSize, ...params } = needOptions("assertLaw", options);
  const lawOptions: LawOptions = Object.fromEntries(Object.entries({ atol, rtol, eps, order, batchSize }).filter(([, v]) => v !== undefined));
  fc.assert(lawProperty(law, cases, lawOptions), params);
}

/**
 * Checks a law on one function and argument list (seed 0 by default) and returns the report, or throws.
 *
 * @example
 * checkLaw(laws.transposeIdentity, (x: NDArray) => np.cumsum(x), [np.array([1, 2, 3], { dtype: "float64" })]);
 */
export function checkLaw(law: Law, f: (...args: never[]) => unknown, args: readonly unknown[], options?: LawOptions & { seed?: number }): LawReport;
export function checkLaw(
  law: Law,
  f: (...args: any[]) => unknown,
  args: readonly unknown[],
  options: LawOptions & { seed?: number } = {},
): LawReport {
  needLaw("checkLaw", law);
  needFunction("checkLaw", "f", f);
  needArray("checkLaw", "args", args);
  options = needOptions("checkLaw", options);
  return law.check(makeCase({ f, args }), options.seed ?? 0, options);
}

/**
 * `checkLaw` as an fp-ts `Either`: `left(LawViolation)` or `right(report)`.
 *
 * @example
 * const r = checkLawEither(laws.hessianIsSymmetric, f, [x]);
 * if (E.isLeft(r)) console.log(r.left.report.failed);
 */
export function checkLawEither(
  law: Law,
  f: (...args: never[]) => unknown,
  args: readonly unknown[],
  options?: LawOptions & { seed?: number },
): E.Either<LawViolation, LawReport>;
export function checkLawEither(
  law: Law,
  f: (...args: any[]) => unknown,
  args: readonly unknown[],
  options: LawOptions & { seed?: number } = {},
): E.Either<LawViolation, LawReport> {
  try {
    return E.right(renamed("checkLawEither", () => checkLaw(law, f, args, options)));
  } catch (e) {
    if (e instanceof LawViolation) return E.left(e);
    throw e;
  }
}

/**
 * Checks `check` on `numRuns` cases drawn from `cases` at `seed`, one after another (the checks
 * are async, so fast-check's runner does not drive them). A case whose error `notApplicable`
 * accepts is skipped; any other error gets the law's name, the seed and the case's source
 * appended. Returns how many cases were checked.
 */
export async function checkSampled(
  law: string,
  cases: fc.Arbitrary<Case>,
  options: { numRuns?: number; seed?: number },
  check: (c: Case, seed: number) => Promise<unknown>,
  notApplicable: (e: unknown) => boolean,
): Promise<number> {
  const seed = options.seed ?? Date.now() % 2 ** 31;
  const drawn = fc.sample(cases, { numRuns: options.numRuns ?? 100, seed });
  let checked = 0;
  for (let i = 0; i < drawn.length; i++) {
    const c = drawn[i]!;
    try {
      await check(c, seed + i);
      checked++;
    } catch (e) {
      if (notApplicable(e)) continue;
      const err = e as Error;
      err.message = `${err.message}\n  (${law}: seed ${seed}, case ${i}${c.source ? `:\n${c.source}` : ""})`;
      throw err;
    }
  }
  return checked;
}
