/**
 * Run counts of the laws suites. `npm test` runs a quick pass; `npm run test:laws` (the config in
 * vitest.laws.config.ts sets FLUXION_LAWS=full) runs 10,000 random programs per law. Either count
 * can be set directly with FLUXION_LAWS_RUNS (programs per law), FLUXION_LAWS_NESTED_RUNS (nested
 * programs per law) and FLUXION_LAWS_PRIM_RUNS (cases per law and primitive). fast-check prints the seed and path of any failure; pass
 * FLUXION_LAWS_SEED to replay a run.
 */
const full = process.env.FLUXION_LAWS === "full";
const int = (name: string, fallback: number) => {
  const v = process.env[name];
  return v === undefined || v === "" ? fallback : Number.parseInt(v, 10);
};

/** Random programs per law. */
export const PROGRAM_RUNS = int("FLUXION_LAWS_RUNS", full ? 10_000 : 200);
/** Random nested programs per law (higher-order ops inside each other). */
export const NESTED_RUNS = int("FLUXION_LAWS_NESTED_RUNS", full ? 10_000 : 100);
/** Cases per law for each primitive of the coverage table. */
export const PRIM_RUNS = int("FLUXION_LAWS_PRIM_RUNS", full ? 50 : 3);
/** A fixed fast-check seed, when replaying. */
export const SEED = process.env.FLUXION_LAWS_SEED === undefined ? undefined : int("FLUXION_LAWS_SEED", 0);
/** Per-test timeout. */
export const TIMEOUT = full ? 3_600_000 : 120_000;

/** fast-check parameters for a run of `numRuns`. */
export const params = (numRuns: number) => ({ numRuns, ...(SEED === undefined ? {} : { seed: SEED }) });
