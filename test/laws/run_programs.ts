/** Shared by the random-program suites: which laws each file runs, and one law over PROGRAM_RUNS random programs, reporting the count and time. */
import { it } from "vitest";
import { type Law, arb, assertLaw, laws } from "../../laws/index.js";
import { NESTED_RUNS, PROGRAM_RUNS, TIMEOUT, params } from "./config.js";

/** Split in two files so vitest runs them in parallel. */
export const firstOrder: readonly Law[] = [
  laws.jvpMatchesFiniteDifferences,
  laws.jvpIsLinear,
  laws.transposeIdentity,
  laws.vmapEqualsMap,
  laws.primalsAgree,
  laws.jitEqualsEager,
];
export const secondOrder: readonly Law[] = [
  laws.vmapCommutesWithGrad,
  laws.vmapCommutesWithJvp,
  laws.hessianIsSymmetric,
  laws.jvpOfGradIsHessianVector,
  laws.noPerturbationConfusion,
];

export function lawOverPrograms(law: Law): void {
  it(
    `${law.name} holds on ${PROGRAM_RUNS} random programs`,
    () => {
      const t0 = performance.now();
      assertLaw(law, arb.programCases(), params(PROGRAM_RUNS));
      const s = (performance.now() - t0) / 1000;
      console.log(`laws: ${law.name}: ${PROGRAM_RUNS} random programs passed in ${s.toFixed(1)} s`);
    },
    TIMEOUT,
  );
}

/** The law over programs whose higher-order ops nest (jit, checkpoint, cond, scan, customJvp, up to 3 deep). */
export function lawOverNestedPrograms(law: Law): void {
  it(
    `${law.name} holds on ${NESTED_RUNS} random nested programs`,
    () => {
      const t0 = performance.now();
      assertLaw(law, arb.nestedProgramCases(), params(NESTED_RUNS));
      const s = (performance.now() - t0) / 1000;
      console.log(`laws: ${law.name}: ${NESTED_RUNS} random nested programs passed in ${s.toFixed(1)} s`);
    },
    TIMEOUT,
  );
}
