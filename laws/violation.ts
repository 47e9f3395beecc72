/**
 * `LawViolation`, the one error the laws raise, and the report it carries. A report names the law,
 * the mode and order of the derivative that failed, the random direction (by seed and index), the
 * sizes involved and how far the two sides were apart, so a failure reads as a diagnosis.
 * This module knows nothing of how the checks are made.
 */
import { ArgumentError, FluxionError } from "../src/index.js";
import { show } from "./validate.js";

/** One comparison a law made: two numbers (or the worst element of two arrays) and the tolerance. */
export interface Comparison {
  /** The law or check, e.g. `"checkGrads"` or `"transposeIdentity"`. */
  readonly law: string;
  /** What was compared, e.g. `"jvp vs central differences"`. */
  readonly what: string;
  /** `"fwd"` (jvp), `"rev"` (vjp), `"vmap"`, ...; the transform under test. */
  readonly mode: string;
  /** Derivative order (1 = first derivatives; 0 for laws about values). */
  readonly order: number;
  /** The derivatives taken before this check, outermost first (e.g. `["fwd"]` at order 2). */
  readonly path: readonly string[];
  /** How the random direction was drawn: its seed and index among the directions of this check. */
  readonly direction: { readonly seed: number; readonly index: number };
  /** Total elements of the float inputs and outputs. */
  readonly inSize: number;
  readonly outSize: number;
  /** Dtype that set the tolerance. */
  readonly dtype: string;
  /** Worst |actual - expected| and the tolerance it was held to there. */
  readonly error: number;
  readonly tolerance: number;
  readonly actual: number;
  readonly expected: number;
  /** Where the worst element sits (output leaf and flat index), when arrays were compared. */
  readonly at?: { readonly leaf: number; readonly index: number };
  readonly ok: boolean;
}

/** Everything a law or `checkGrads` compared, in order; `failed` is the first failing comparison. */
export interface LawReport {
  readonly law: string;
  readonly comparisons: readonly Comparison[];
  readonly failed?: Comparison;
}

const num = (x: number) => (Number.isFinite(x) ? x.toExponential(3) : String(x));

/**
 * A one-paragraph description of a failed comparison (the message of a `LawViolation`).
 *
 * @example
 * const r = checkGradsEither(f, [x]);
 * if (E.isLeft(r)) console.log(describeComparison(r.left.report.failed!));
 */
export function describeComparison(c: Comparison): string {
  if (typeof c !== "object" || c === null || !Array.isArray(c.path) || typeof c.direction !== "object" || c.direction === null) {
    throw new ArgumentError(`describeComparison: c must be a Comparison from a LawReport, got ${show(c)}`);
  }
  const path = c.path.length ? ` of ${c.path.map((p) => `${p}(`).join("")}f${")".repeat(c.path.length)}` : "";
  const where = c.at ? ` at output leaf ${c.at.leaf}, element ${c.at.index}` : "";
  return (
    `${c.law}: ${c.mode}-mode check at order ${c.order}${path} failed (${c.what}) along random direction ` +
    `#${c.direction.index} (seed ${c.direction.seed})${where}: got ${num(c.actual)}, expected ${num(c.expected)}, ` +
    `|error| ${num(c.error)} > tolerance ${num(c.tolerance)} (${c.dtype}; ${c.inSize} input and ${c.outSize} output elements)`
  );
}

/**
 * A law that does not hold: `report.failed` says which mode, order and direction failed and by how
 * much. Raised by `checkGrads` and by every law's `check`.
 *
 * @example
 * try {
 *   checkGrads(myFn, [x], { order: 2 });
 * } catch (e) {
 *   if (e instanceof LawViolation) console.log(e.report.failed?.mode, e.report.failed?.order, e.report.failed?.error);
 * }
 */
export class LawViolation extends FluxionError {
  override name = "LawViolation";
  constructor(
    readonly report: LawReport,
    message = report.failed ? describeComparison(report.failed) : `${report.law} failed`,
  ) {
    super(message);
  }
}

/** Collects comparisons for one law and throws on the first failure. */
export class Recorder {
  readonly comparisons: Comparison[] = [];
  constructor(readonly law: string) {}

  record(c: Omit<Comparison, "law" | "ok">): Comparison {
    const ok = c.error <= c.tolerance;
    const full: Comparison = { ...c, law: this.law, ok };
    this.comparisons.push(full);
    if (!ok) throw new LawViolation({ law: this.law, comparisons: this.comparisons, failed: full });
    return full;
  }

  /** Fails outright, for a law whose two sides differ in structure or shape rather than value. */
  fail(message: string): never {
    throw new LawViolation({ law: this.law, comparisons: this.comparisons }, `${this.law}: ${message}`);
  }

  report(): LawReport {
    return { law: this.law, comparisons: this.comparisons };
  }
}
