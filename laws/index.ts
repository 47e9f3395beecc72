/**
 * `fluxion/laws`: property-based laws for fluxion's transforms, built only on the public API.
 * Run them on your own functions, on every primitive, and on random programs:
 * - arbitraries for shapes, broadcastable shape pairs, arrays in smooth domains, pytrees and
 *   random well-typed programs (which shrink to small programs and print as code);
 * - `checkGrads` (JAX semantics) and its fp-ts `Either` twin;
 * - laws as values (`Law`), each a `check` of one case that `assertLaw` runs under fast-check.
 * Adding a law (as jitEqualsEager was) is one `equivalentUnder` or `defineLaw` call
 * plus an entry in `LAWS`; every suite that iterates `LAWS` picks it up.
 */
import * as arbitraries from "./arbitraries.js";
import { cases as casesOf } from "./cases.js";
import {
  hessianIsSymmetric,
  jvpIsLinear,
  jvpMatchesFiniteDifferences,
  jvpOfGradIsHessianVector,
  noPerturbationConfusion,
  jitEqualsEager,
  primalsAgree,
  transposeIdentity,
} from "./laws_autodiff.js";
import { vmapCommutesWithGrad, vmapCommutesWithJvp, vmapEqualsMap } from "./laws_vmap.js";
import type { Law } from "./law.js";
import { nestedProgramCases, program, programCases } from "./programs.js";

export { LawViolation, describeComparison, type Comparison, type LawReport } from "./violation.js";
export { type CheckGradsOptions, type Mode, checkGrads, checkGradsEither } from "./check_grads.js";
export { type AssertLawOptions, type Law, type LawOptions, assertLaw, checkLaw, checkLawEither, defineLaw, lawProperty } from "./law.js";
export { type Case, type CasesOptions, makeCase, scalarize } from "./cases.js";
export { equivalentUnder } from "./laws_autodiff.js";
export { type DeviceLawOptions, assertDeviceEqualsCpu, checkDeviceEqualsCpu } from "./laws_device.js";
export { type OnnxRunner, assertOnnxEqualsEager, checkOnnxEqualsEager } from "./laws_onnx.js";
export {
  MAX_DEPTH,
  OPS,
  type Body,
  type OpCall,
  type Program,
  type ProgramCase,
  type ProgramOptions,
  type ProgramSpec,
  printProgram,
  programSpec,
  realize,
  runProgram,
} from "./programs.js";
export type { ArrayOptions, PytreeOptions, ShapeOptions } from "./arbitraries.js";

/**
 * The laws, by name. Each is a `Law`: `law.check(case, seed)` returns a report or throws a
 * `LawViolation`; `assertLaw(law, cases)` runs it with fast-check.
 *
 * @example
 * import fc from "fast-check";
 * import { np } from "fluxion";
 * import { arb, assertLaw, cases, laws } from "fluxion/laws";
 * const f = (x: NDArray) => np.tanh(np.matmul(x, x.T));
 * assertLaw(laws.transposeIdentity, cases(f, fc.tuple(arb.array({ shape: [2, 3] }))), { numRuns: 50 });
 */
export const laws = {
  jvpMatchesFiniteDifferences,
  jvpIsLinear,
  transposeIdentity,
  vmapEqualsMap,
  vmapCommutesWithGrad,
  vmapCommutesWithJvp,
  hessianIsSymmetric,
  jvpOfGradIsHessianVector,
  noPerturbationConfusion,
  primalsAgree,
  jitEqualsEager,
} as const;

/**
 * Every law, for suites that run them all (over a table of primitives, or random programs).
 *
 * @example
 * import { LAWS, assertLaw, arb } from "fluxion/laws";
 * for (const law of LAWS) assertLaw(law, arb.programCases(), { numRuns: 100 });
 */
export const LAWS: readonly Law[] = Object.values(laws);

/**
 * fast-check arbitraries: `shape`, `broadcastableShapes`, `array` (dtype, range, kinks to avoid,
 * spacing against ties), `pytree`, `floatDType`, `program` (random well-typed programs),
 * `programCases` (programs with inputs, ready for any law) and `nestedProgramCases` (the same, with
 * jit, checkpoint, cond, scan and customJvp nested inside each other up to three deep).
 *
 * @example
 * import fc from "fast-check";
 * import { arb } from "fluxion/laws";
 * fc.assert(fc.property(arb.array({ shape: [3], min: 0.1, max: 2 }), (x) => np.min(np.log(x)).item() > -3));
 * const relus = arb.array({ avoid: [0] });                  // away from relu's kink
 * const maxable = arb.array({ shape: [4], distinct: 0.1 }); // no ties for np.max
 */
export const arb = { ...arbitraries, program, programCases, nestedProgramCases };

/**
 * Cases of one function over an arbitrary of its argument lists: what every law is checked on.
 *
 * @example
 * import fc from "fast-check";
 * import { arb, cases } from "fluxion/laws";
 * const logCases = cases((x: NDArray) => np.log(x), fc.tuple(arb.array({ min: 0.1, max: 3 })));
 */
export const cases = casesOf;
