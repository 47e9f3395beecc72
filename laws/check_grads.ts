/**
 * `checkGrads`, with JAX's semantics: derivatives from `jvp` (mode `"fwd"`) are compared with
 * central differences in float64 along random directions; derivatives from `vjp` (mode `"rev"`)
 * are compared through the transpose identity `<Jᵀu, v> = <u, (f(x + εv) - f(x - εv)) / 2ε>`.
 * Higher orders recurse: order 2 checks jvp and vjp of `x ↦ jvp(f, x, v)` and of `x ↦ vjp(f, x)(u)`.
 */
import * as E from "fp-ts/lib/Either.js";
import { ArgumentError, type NDArray, jvp, tree, vjp } from "../src/index.js";
import {
  castLike,
  combine,
  defaultTolerance,
  floatSize,
  fromHost,
  host,
  isFloat,
  leavesOf,
  randomLike,
  rng,
  toFloat64,
  toleranceDType,
  vdot,
  worstElement,
} from "./numeric.js";
import { type LawReport, LawViolation, Recorder } from "./violation.js";
import { renamed } from "./validate.js";

export type Mode = "fwd" | "rev";

export interface CheckGradsOptions {
  /** Highest derivative order to check (1 to 4; default 1). */
  order?: number;
  /** Which modes to check (default both): `"fwd"` is jvp, `"rev"` is vjp. */
  modes?: readonly Mode[];
  /** Central-difference step (default 1e-4 when an input is float32, 1e-6 for float64 inputs). */
  eps?: number;
  /** Absolute tolerance, scaled by the square root of the number of elements summed (default by dtype). */
  atol?: number;
  /** Relative tolerance (default by dtype: 2e-3 for float32, 1e-5 for float64). */
  rtol?: number;
  /** Seed of the random directions (default 0). */
  seed?: number;
}

type Flat = (...xs: NDArray[]) => unknown;

/**
 * (f(x + εv) - f(x - εv)) / 2ε per output leaf, evaluated in float64.
 *
 * @example
 * const [d] = centralDifference(np.sin, [x], [v], 1e-6); // ≈ cos(x) v
 */
export function centralDifference(g: Flat, xs: readonly NDArray[], v: readonly NDArray[], eps: number): NDArray[] {
  const x64 = toFloat64(xs),
    v64 = toFloat64(v);
  const hi = leavesOf(g(...combine(1, x64, eps, v64))),
    lo = leavesOf(g(...combine(1, x64, -eps, v64)));
  return hi.map((h, i) => {
    const a = host(h),
      b = host(lo[i]!);
    return fromHost(isFloat(h.dtype) ? a.map((ai, k) => (ai - b[k]!) / (2 * eps)) : new Float64Array(a.length), h.shape, "float64");
  });
}

function validate(options: CheckGradsOptions): Required<Omit<CheckGradsOptions, "eps" | "atol" | "rtol">> & CheckGradsOptions {
  const { order = 1, modes = ["fwd", "rev"], seed = 0 } = options;
  if (!Number.isInteger(order) || order < 1 || order > 4) throw new ArgumentError(`checkGrads: order must be an integer from 1 to 4, got ${order}`);
  if (!Array.isArray(modes) || modes.length === 0 || modes.some((m) => m !== "fwd" && m !== "rev")) {
    throw new ArgumentError(`checkGrads: modes must be a non-empty list of "fwd" and "rev", got ${JSON.stringify(modes)}`);
  }
  for (const k of ["eps", "atol", "rtol"] as const) {
    const v = options[k];
    if (v !== undefined && !(Number.isFinite(v) && v >= 0 && (k !== "eps" || v > 0))) {
      throw new ArgumentError(`checkGrads: ${k} must be a ${k === "eps" ? "positive" : "non-negative"} finite number, got ${v}`);
    }
  }
  if (!Number.isInteger(seed)) throw new ArgumentError(`checkGrads: seed must be an integer, got ${seed}`);
  return { ...options, order, modes, seed };
}

/** Checks derivatives of a function of flat float leaves, recording into `rec`. */
export function checkFlat(rec: Recorder, g: Flat, xs: readonly NDArray[], options: CheckGradsOptions): void {
  const o = validate(options);
  const dtype = toleranceDType(xs);
  const def = defaultTolerance("fd", dtype);
  const tol = { atol: o.atol ?? def.atol, rtol: o.rtol ?? def.rtol };
  const eps = o.eps ?? (dtype === "float32" ? 1e-4 : 1e-6);
  const next = rng(o.seed);
  let index = 0;
  const inSize = floatSize(xs);

  const visit = (h: Flat, order: number, path: Mode[]): void => {
    const base = { order: path.length + 1, path, dtype, inSize };
    if (o.modes.includes("fwd")) {
      const direction = { seed: o.seed, index: index++ };
      const v = randomLike(next, xs);
      const jv = leavesOf(jvp(h, xs.slice(), v)[1]);
      const fd = centralDifference(h, xs, v, eps);
      const w = worstElement(jv, fd, tol, Math.sqrt(Math.max(1, inSize)));
      if (typeof w === "string") rec.fail(`jvp and central differences disagree in structure: ${w}`);
      rec.record({ ...base, what: "jvp vs central differences", mode: "fwd", direction, outSize: floatSize(fd), ...w });
      if (order > 1) visit((...ys) => jvp(h, ys, castLike(v, ys))[1], order - 1, [...path, "fwd"]);
    }
    if (o.modes.includes("rev")) {
      const direction = { seed: o.seed, index: index++ };
      const [out, pull] = vjp(h, ...xs);
      const [outLeaves, outDef] = tree.flatten(out);
      const u = randomLike(
        next,
        outLeaves.map((l) => leavesOf(l)[0]!),
      );
      const v = randomLike(next, xs);
      const ct = leavesOf(pull(tree.unflatten(outDef, u)));
      const fd = centralDifference(h, xs, v, eps);
      const lhs = vdot(ct, v),
        rhs = vdot(u, fd);
      const outSize = floatSize(u);
      rec.record({
        ...base,
        what: "<vjp(u), v> vs <u, central differences along v>",
        mode: "rev",
        direction,
        outSize,
        actual: lhs.value,
        expected: rhs.value,
        error: Math.abs(lhs.value - rhs.value),
        tolerance: tol.atol * Math.sqrt(Math.max(1, inSize + outSize)) + tol.rtol * Math.max(lhs.absSum, rhs.absSum),
      });
      if (order > 1) {
        visit(
          (...ys) => {
            const [o2, p2] = vjp(h, ...ys);
            const [l2, d2] = tree.flatten(o2);
            return p2(
              tree.unflatten(
                d2,
                castLike(
                  u,
                  l2.map((l) => leavesOf(l)[0]!),
                ),
              ),
            );
          },
          order - 1,
          [...path, "rev"],
        );
      }
    }
  };
  visit(g, o.order, []);
}

/**
 * A function of the float leaves of `args` (other leaves held fixed), and those leaves.
 *
 * @example
 * const { g, xs } = overFloatLeaves((p, i) => np.take(p.w, i), [{ w }, idx]); // g(w) with idx fixed
 */
export function overFloatLeaves(f: (...args: any[]) => unknown, args: readonly unknown[]): { g: Flat; xs: NDArray[] } {
  const [raw, def] = renamed("argument args", () => tree.flatten(args.slice()));
  const leaves = raw.map((l) => leavesOf(l)[0]!);
  const at = leaves.map((l, i) => (isFloat(l.dtype) ? i : -1)).filter((i) => i >= 0);
  const g: Flat = (...xs) => {
    const all: unknown[] = leaves.slice();
    at.forEach((i, k) => (all[i] = xs[k]));
    return f(...(tree.unflatten(def, all) as unknown[]));
  };
  return { g, xs: at.map((i) => leaves[i]!) };
}

/**
 * Checks `f`'s derivatives at `args` (a list of pytrees of arrays) against float64 central
 * differences, in forward mode (jvp) and reverse mode (vjp), up to `order`. Only float leaves are
 * perturbed. Returns the report of every comparison; throws a `LawViolation` naming the mode,
 * order and direction that failed, and by how much.
 *
 * @example
 * const loss = (p: { w: NDArray }, x: NDArray) => np.sum(np.tanh(np.matmul(x, p.w)));
 * checkGrads(loss, [{ w: np.ones([3, 2], "float64") }, np.ones([4, 3], "float64")], { order: 2 });
 */
export function checkGrads(f: (...args: never[]) => unknown, args: readonly unknown[], options?: CheckGradsOptions): LawReport;
export function checkGrads(f: (...args: any[]) => unknown, args: readonly unknown[], options: CheckGradsOptions = {}): LawReport {
  if (typeof f !== "function") throw new ArgumentError(`checkGrads: f must be a function, got ${typeof f}`);
  if (!Array.isArray(args)) throw new ArgumentError("checkGrads: args must be an array with one entry per argument of f");
  const rec = new Recorder("checkGrads");
  const { g, xs } = overFloatLeaves(f, args);
  checkFlat(rec, g, xs, options);
  return rec.report();
}

/**
 * `checkGrads` without throwing on a violated law: `left(LawViolation)` or `right(report)`.
 * Errors that are not law violations (a shape error inside `f`) still throw.
 *
 * @example
 * import * as E from "fp-ts/Either";
 * const r = checkGradsEither(np.sin, [np.array([0.3], { dtype: "float64" })], { order: 3 });
 * if (E.isLeft(r)) console.log(r.left.message);
 */
export function checkGradsEither(
  f: (...args: never[]) => unknown,
  args: readonly unknown[],
  options?: CheckGradsOptions,
): E.Either<LawViolation, LawReport>;
export function checkGradsEither(
  f: (...args: any[]) => unknown,
  args: readonly unknown[],
  options: CheckGradsOptions = {},
): E.Either<LawViolation, LawReport> {
  try {
    return E.right(renamed("checkGradsEither", () => checkGrads(f, args, options)));
  } catch (e) {
    if (e instanceof LawViolation) return E.left(e);
    throw e;
  }
}
