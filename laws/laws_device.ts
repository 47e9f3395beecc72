/**
 * Device equals CPU: a function jitted onto another device (WebGPU) computes what it computes on
 * the CPU, within the dtype's tolerance. Reading a device back is asynchronous, so this law is an
 * async check: it runs the device side first, copies the results to the host, then checks them
 * with the same comparison as every other law (`equivalentUnder`).
 */
import fc from "fast-check";
import { DTypeError, NDArray, NotOnDeviceError, devices, jit, tree } from "../src/index.js";
import type { Case } from "./cases.js";
import { type LawOptions, checkSampled } from "./law.js";
import { equivalentUnder } from "./laws_autodiff.js";
import type { LawReport } from "./violation.js";

export interface DeviceLawOptions extends LawOptions {
  /** The device to compare with the CPU (default "webgpu"). */
  device?: string;
  /** Compile with `jit(f, { device })` (default), or run f eagerly on uploaded arguments. */
  jit?: boolean;
}

/**
 * Checks `jit(c.f, { device })(...c.args)` against `c.f(...c.args)` on the CPU; throws a
 * `LawViolation` naming the worst element when they differ beyond tolerance.
 *
 * @example
 * const report = await checkDeviceEqualsCpu(makeCase({ f: (x) => np.tanh(x), args: [np.ones([3])] }));
 */
export async function checkDeviceEqualsCpu(c: Case, options: DeviceLawOptions = {}, seed = 0): Promise<LawReport> {
  const device = options.device ?? "webgpu";
  const available = await devices();
  if (!available.includes(device)) throw new Error(`checkDeviceEqualsCpu: device "${device}" is not available (have ${available.join(", ")})`);
  const eager = options.jit === false;
  const args = eager ? (tree.map((l: unknown) => (l instanceof NDArray ? l.to(device) : l), c.args) as unknown[]) : c.args;
  const [leaves, def] = tree.flatten((eager ? c.f : jit(c.f, { device }))(...args));
  const host = await Promise.all(leaves.map((l) => (l as NDArray).toAsync("cpu")));
  const onDevice = tree.unflatten(def, host);
  return equivalentUnder(`deviceEqualsCpu(${device})`, { [device]: () => () => onDevice }).check(c, seed, options);
}

/**
 * Runs `checkDeviceEqualsCpu` over `numRuns` cases drawn from `cases` (e.g. `arb.programCases({
 * dtypes: ["float32"] })`), reporting the seed and the failing case's source on a violation.
 * Cases the device rejects with a DTypeError (float64 inside the program: WGSL has no f64) or a
 * NotOnDeviceError (an operation it has no kernel for, such as a matrix decomposition) do not apply;
 * returns how many cases were checked.
 *
 * @example
 * await assertDeviceEqualsCpu(arb.programCases({ dtypes: ["float32"] }), { numRuns: 100 });
 */
export async function assertDeviceEqualsCpu(
  cases: fc.Arbitrary<Case>,
  options: DeviceLawOptions & { numRuns?: number; seed?: number } = {},
): Promise<number> {
  return checkSampled(
    "deviceEqualsCpu",
    cases,
    options,
    (c, s) => checkDeviceEqualsCpu(c, options, s),
    (e) => e instanceof DTypeError || e instanceof NotOnDeviceError,
  );
}
