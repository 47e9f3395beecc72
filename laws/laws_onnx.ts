/**
 * ONNX equals eager: a function exported with `exportOnnx` and run by an ONNX runtime computes
 * what fluxion computes eagerly, within the dtype's tolerance. The runtime is passed in (an
 * `OnnxRunner`), so this module needs no ONNX dependency: in Node wrap onnxruntime-node, in a
 * browser onnxruntime-web. Running a model is asynchronous, so the check is async; it runs the
 * model first, then compares with the same comparison as every other law (`equivalentUnder`).
 */
import fc from "fast-check";
import { ArgumentError, ExportError, NDArray, exportOnnx, np, tree } from "../src/index.js";
import type { Case } from "./cases.js";
import { type LawOptions, checkSampled } from "./law.js";
import { equivalentUnder } from "./laws_autodiff.js";
import type { LawReport } from "./violation.js";

/**
 * Runs ONNX model bytes on inputs (the arguments' array leaves in order); resolves to the model's
 * outputs in order, as fluxion arrays.
 */
export type OnnxRunner = (model: Uint8Array, inputs: NDArray[]) => Promise<NDArray[]>;

/**
 * Checks `run(exportOnnx(c.f, ...c.args), leaves of c.args)` against `c.f(...c.args)`; throws a
 * `LawViolation` naming the worst element when they differ beyond tolerance.
 *
 * @example
 * const run: OnnxRunner = async (model, inputs) => { ... onnxruntime-node session.run ... };
 * await checkOnnxEqualsEager(makeCase({ f: (x) => np.tanh(x), args: [np.ones([3])] }), run);
 */
export async function checkOnnxEqualsEager(c: Case, run: OnnxRunner, options: LawOptions = {}, seed = 0): Promise<LawReport> {
  if (typeof run !== "function") throw new ArgumentError(`checkOnnxEqualsEager: run must be a function (model, inputs) => Promise<NDArray[]>`);
  const [leaves] = tree.flatten(c.args);
  const inputs = leaves.map((l) => (l instanceof NDArray ? l : np.array(l as number)));
  const outs = await run(exportOnnx(c.f as (...a: unknown[]) => unknown, ...c.args), inputs);
  const [, def] = tree.flatten(c.f(...c.args));
  const onnx = tree.unflatten(def, outs);
  return equivalentUnder("onnxEqualsEager", { onnx: () => () => onnx }).check(c, seed, options);
}

/**
 * Runs `checkOnnxEqualsEager` over `numRuns` cases drawn from `cases` (e.g. `arb.programCases()`),
 * reporting the seed and the failing case's source on a violation; returns how many were checked.
 * The law is about programs ONNX can express: a case whose export raises `ExportError` (a
 * factorisation, a bitcast, a debug print...) is not checked and not counted.
 *
 * @example
 * await assertOnnxEqualsEager(arb.nestedProgramCases(), run, { numRuns: 50 });
 */
export async function assertOnnxEqualsEager(
  cases: fc.Arbitrary<Case>,
  run: OnnxRunner,
  options: LawOptions & { numRuns?: number; seed?: number } = {},
): Promise<number> {
  return checkSampled(
    "onnxEqualsEager",
    cases,
    options,
    (c, s) => checkOnnxEqualsEager(c, run, options, s),
    (e) => e instanceof ExportError,
  );
}
