/**
 * A law that cannot fail is a defect. Each law here is shown to catch a planted bug: a deliberately
 * wrong rule swapped into an interpreter's table for one test (restored in `finally`). For each,
 * the law fails on a small function that uses the rule, passes on it again once the rule is back,
 * and where the bug is specific, a neighbouring law that should not see it still passes.
 */
import fc from "fast-check";
import { afterEach, describe, expect, it } from "vitest";
import { batchRules } from "../../interpreters/batch/index.js";
import { JvpInterpreter, JvpTracer, type Tangent, Zero, jvpRules } from "../../interpreters/jvp/index.js";
import { transposeRules } from "../../interpreters/vjp/index.js";
import { type NDArray, Prim, type PrimParams, bind1, jvp, np, withInterpreter } from "../../src/index.js";
import { type Case, type Law, LawViolation, arb, assertLaw, cases, checkGrads, laws } from "../../laws/index.js";
import { setProgramCompiler } from "../../src/ir/executable.js";
import { compileProgram } from "../../interpreters/jit/compile.js";
import { ConcreteArray } from "../../src/core/ndarray.js";
import { partialRules } from "../../src/ir/partial_eval.js";
import type { PartialContext } from "../../src/ir/trace.js";

const restores: (() => void)[] = [];
afterEach(() => {
  while (restores.length) restores.pop()!();
});

/** Replaces `table[key]` until the end of the test. */
function plant<T extends object, K extends keyof T>(table: T, key: K, value: T[K]): void {
  const saved = table[key];
  table[key] = value;
  restores.push(() => (table[key] = saved));
}

/** Runs the law with fast-check and returns the LawViolation behind its counterexample. */
function expectCaught(law: Law, subject: fc.Arbitrary<Case>, numRuns = 100): LawViolation {
  let err: unknown;
  try {
    assertLaw(law, subject, { numRuns, seed: 42 });
  } catch (e) {
    err = e;
  }
  expect(err, `${law.name} did not catch the planted bug`).toBeInstanceOf(Error);
  const cause = (err as Error).cause;
  expect(cause, String(err)).toBeInstanceOf(LawViolation);
  return cause as LawViolation;
}

const holds = (law: Law, subject: fc.Arbitrary<Case>) => assertLaw(law, subject, { numRuns: 30, seed: 7 });

/** x with every slice along axis 0 replaced by the last one. */
const lastStepEverywhere = (x: NDArray) => np.broadcastTo(np.take(x, [x.shape[0]! - 1], 0), x.shape);

const vec = (n = 3) => arb.array({ shape: [n] });
const one = <A>(a: fc.Arbitrary<A>) => fc.tuple(a);
const lax = {
  sin: (x: NDArray) => bind1(Prim.Sin, [x], {}),
  cos: (x: NDArray) => bind1(Prim.Cos, [x], {}),
  exp: (x: NDArray) => bind1(Prim.Exp, [x], {}),
  mul: (x: NDArray, y: NDArray) => bind1(Prim.Mul, [x, y], {}),
  rev: (x: NDArray) => bind1(Prim.Rev, [x], { axes: [0] }),
};

describe("each law catches a planted bug", () => {
  it("jvpMatchesFiniteDifferences: sin's jvp uses +sin instead of cos", () => {
    const subject = cases(np.sin, one(vec()));
    plant(jvpRules, Prim.Sin, ([x], [t]) => [[lax.sin(x!)], [t instanceof Zero ? t : lax.mul(t as NDArray, lax.sin(x!))]]);
    const v = expectCaught(laws.jvpMatchesFiniteDifferences, subject);
    expect(v.report.failed).toMatchObject({ mode: "fwd", order: 1 });
    expect(v.message).toMatch(/fwd-mode check at order 1 failed.*random direction #0/);
    restores.pop()!();
    holds(laws.jvpMatchesFiniteDifferences, subject);
  });

  it("jvpIsLinear: mul's jvp adds a second-order term tx·ty", () => {
    const subject = cases((x: NDArray, y: NDArray) => np.multiply(x, y), fc.tuple(vec(), vec()));
    const right = jvpRules[Prim.Mul];
    plant(jvpRules, Prim.Mul, (xs, ts, p) => {
      const [out, [t]] = right(xs, ts, p);
      const [tx, ty] = ts;
      const extra = tx instanceof Zero || ty instanceof Zero ? null : lax.mul(tx as NDArray, ty as NDArray);
      return [out, [extra && !(t instanceof Zero) ? np.add(t as NDArray, extra) : t!]];
    });
    expectCaught(laws.jvpIsLinear, subject);
    restores.pop()!();
    holds(laws.jvpIsLinear, subject);
  });

  it("transposeIdentity: the transpose of slice shifts its padding by one", () => {
    const subject = cases((x: NDArray) => bind1(Prim.Slice, [x], { start: [1], limit: [4], step: [1] }), one(vec(4)));
    const right = transposeRules[Prim.Slice];
    plant(transposeRules, Prim.Slice, (ct, args, p) => {
      const shifted = { ...p, start: p.start.map((s) => s - 1) };
      return right(ct, args, shifted);
    });
    const v = expectCaught(laws.transposeIdentity, subject);
    expect(v.report.failed).toMatchObject({ mode: "rev", order: 1 });
    holds(laws.jvpMatchesFiniteDifferences, subject); // forward mode never transposes
    restores.pop()!();
    holds(laws.transposeIdentity, subject);
  });

  it("vmapEqualsMap: reduce_sum's batch rule reduces over unshifted axes", () => {
    const subject = cases((x: NDArray) => np.sum(x, 1), one(arb.array({ shape: [2, 3] })));
    plant(batchRules, Prim.ReduceSum, ([x], _b, { axes }) => [[bind1(Prim.ReduceSum, [x!], { axes })], [true]]);
    expectCaught(laws.vmapEqualsMap, subject);
    restores.pop()!();
    holds(laws.vmapEqualsMap, subject);
  });

  it("vmapCommutesWithGrad: cumsum's batch rule drops `reverse` (only the transpose uses reverse)", () => {
    const subject = cases((x: NDArray) => np.sin(np.cumsum(x)), one(vec(4)));
    plant(batchRules, Prim.Cumsum, ([x], _b, { axis }) => [[bind1(Prim.Cumsum, [x!], { axis: axis + 1, reverse: false })], [true]]);
    expectCaught(laws.vmapCommutesWithGrad, subject);
    holds(laws.vmapEqualsMap, subject); // the primal never scans in reverse
    restores.pop()!();
    holds(laws.vmapCommutesWithGrad, subject);
  });

  it("vmapCommutesWithJvp: cos's batch rule mixes up the batch lanes (only sin's jvp uses cos)", () => {
    const subject = cases(np.sin, one(vec()));
    plant(batchRules, Prim.Cos, ([x]) => [[lax.rev(lax.cos(x!))], [true]]);
    expectCaught(laws.vmapCommutesWithJvp, subject);
    holds(laws.vmapEqualsMap, subject);
    restores.pop()!();
    holds(laws.vmapCommutesWithJvp, subject);
  });

  it("hessianIsSymmetric: mul's transpose halves the cotangent of its second operand (a gradient of no function)", () => {
    const subject = cases((x: NDArray, y: NDArray) => np.multiply(np.sin(x), y), fc.tuple(vec(), vec()));
    const right = transposeRules[Prim.Mul];
    plant(transposeRules, Prim.Mul, (ct, args, p) => {
      const [a, b] = right(ct, args, p);
      return [a ?? null, b ? np.multiply(b, 0.5) : null];
    });
    expectCaught(laws.hessianIsSymmetric, subject);
    restores.pop()!();
    holds(laws.hessianIsSymmetric, subject);
  });

  it("jvpOfGradIsHessianVector: the transpose of pad reverses its cotangent (only reverse-over-reverse transposes pad)", () => {
    const subject = cases((x: NDArray) => np.sin(bind1(Prim.Slice, [x], { start: [1], limit: [4], step: [1] })), one(vec(4)));
    const right = transposeRules[Prim.Pad];
    plant(transposeRules, Prim.Pad, (ct, args, p) => right(ct, args, p).map((c) => (c && c.ndim > 0 ? lax.rev(c) : c)));
    const v = expectCaught(laws.jvpOfGradIsHessianVector, subject);
    expect(v.report.failed).toMatchObject({ mode: "rev", order: 2 });
    holds(laws.hessianIsSymmetric, subject); // forward-over-reverse never transposes pad
    restores.pop()!();
    holds(laws.jvpOfGradIsHessianVector, subject);
  });

  it("noPerturbationConfusion: jvp tracers of other transforms are taken as one's own (no tag check)", () => {
    const subject = cases((x: NDArray) => np.multiply(np.sin(x), x), one(vec()));
    const proto = JvpInterpreter.prototype;
    const confused = {
      unpack(x: NDArray): [NDArray, Tangent] {
        return x instanceof JvpTracer ? [x.primal, x.tangent] : [x, new Zero(x)];
      },
      process<P extends Prim>(this: JvpInterpreter, prim: P, args: readonly NDArray[], params: PrimParams[P]): NDArray[] {
        if (!args.some((a) => a instanceof JvpTracer)) return this.parent.process(prim, args, params);
        const pt = args.map((a) => this.unpack(a));
        const rule = jvpRules[prim] as (x: NDArray[], t: Tangent[], p: PrimParams[P]) => [NDArray[], Tangent[]];
        const [outs, touts] = withInterpreter(this.parent, () =>
          rule(
            pt.map(([p]) => p),
            pt.map(([, t]) => t),
            params,
          ),
        );
        return outs.map((o, i) => this.pack(o, touts[i]!));
      },
    };
    plant(proto, "unpack", confused.unpack);
    plant(proto, "process", confused.process as typeof proto.process);
    // The classic symptom, forward over forward: d/dx [x · d/dy (x + y)] at 1 comes out 2, not 1.
    const unit = np.array(1, { dtype: "float64" });
    const inner = (x: NDArray) => jvp((y: NDArray) => x.add(y), [unit], [unit])[1] as NDArray;
    expect((jvp((x: NDArray) => x.mul(inner(x)), [unit], [unit])[1] as NDArray).item()).toBe(2);
    expectCaught(laws.noPerturbationConfusion, subject);
    restores.pop()!();
    restores.pop()!();
    holds(laws.noPerturbationConfusion, subject);
  });

  it("primalsAgree: exp's jvp computes the primal as expm1", () => {
    const subject = cases(np.exp, one(vec()));
    plant(jvpRules, Prim.Exp, ([x], [t]) => {
      const y = bind1(Prim.Expm1, [x!], {});
      return [[y], [t instanceof Zero ? t : lax.mul(t as NDArray, lax.exp(x!))]];
    });
    expectCaught(laws.primalsAgree, subject);
    restores.pop()!();
    holds(laws.primalsAgree, subject);
  });

  it("jitEqualsEager: a compiler whose fused loops are off by one part in a thousand", () => {
    const subject = cases((x: NDArray) => np.tanh(np.sin(x).mul(2)), one(vec()));
    setProgramCompiler((cp) => {
      const exe = compileProgram(cp);
      return (args) => exe(args).map((o) => new ConcreteArray(o.values.map((v) => v * 1.001) as typeof o.values, o.shape, o.dtype));
    });
    try {
      expectCaught(laws.jitEqualsEager, subject);
    } finally {
      setProgramCompiler(compileProgram);
    }
    holds(laws.jitEqualsEager, subject);
  });

  it("the nested laws catch a broken partial-evaluation rule: scan's per-step residuals taken as loop-invariant", () => {
    // The planted rule runs the real split, but the recorded (linear) scan reads the last step's
    // residuals at every step, as if they were known once rather than stacked per step.
    const right = partialRules[Prim.Scan];
    plant(partialRules, Prim.Scan, (st, args, unknown, params) => {
      let knownOuts: NDArray[] = [];
      const broken: PartialContext = {
        remat: st.remat,
        known: (prim, a, p) => (knownOuts = st.known(prim, a, p)),
        unknown: (prim, a, p) =>
          st.unknown(
            prim,
            a.map((x) => (knownOuts.includes(x) ? lastStepEverywhere(x) : x)),
            p,
          ),
      };
      return right(broken, args, unknown, params);
    });
    let err: unknown;
    try {
      assertLaw(laws.transposeIdentity, arb.nestedProgramCases({ dtypes: ["float64"] }), { numRuns: 300, seed: 42 });
    } catch (e) {
      err = e;
    }
    expect(err, "the nested transposeIdentity law did not catch the planted rule").toBeInstanceOf(Error);
    expect((err as Error).cause).toBeInstanceOf(LawViolation);
    // The shrunk counterexample is a program with a scan in it.
    expect(String(err)).toMatch(/lax\.scan/);
    restores.pop()!();
    holds(laws.transposeIdentity, arb.nestedProgramCases({ dtypes: ["float64"] }));
  });

  it("covers every law", () => {
    const titles = [
      "jvpMatchesFiniteDifferences",
      "jvpIsLinear",
      "transposeIdentity",
      "vmapEqualsMap",
      "vmapCommutesWithGrad",
      "vmapCommutesWithJvp",
      "hessianIsSymmetric",
      "jvpOfGradIsHessianVector",
      "noPerturbationConfusion",
      "primalsAgree",
      "jitEqualsEager",
    ];
    expect(new Set(titles)).toEqual(new Set(Object.keys(laws)));
  });
});

describe("checkGrads catches planted bugs", () => {
  const d = (xs: number[]) => np.array(xs, { dtype: "float64" });

  it("a wrong first derivative, in forward mode, at order 1", () => {
    plant(jvpRules, Prim.Sin, ([x], [t]) => [[lax.sin(x!)], [t instanceof Zero ? t : lax.mul(t as NDArray, lax.sin(x!))]]);
    expect(() => checkGrads(np.sin, [d([0.3, -1.2])], { modes: ["fwd"] })).toThrow(/checkGrads: fwd-mode check at order 1 failed/);
  });

  it("a wrong transpose, in reverse mode only", () => {
    const f = (x: NDArray) => bind1(Prim.Slice, [x], { start: [1], limit: [3], step: [1] });
    const right = transposeRules[Prim.Slice];
    plant(transposeRules, Prim.Slice, (ct, args, p) => right(ct, args, { ...p, start: p.start.map((s) => s - 1) }));
    expect(() => checkGrads(f, [d([0.3, -1.2, 2])], { modes: ["fwd"] })).not.toThrow();
    expect(() => checkGrads(f, [d([0.3, -1.2, 2])], { modes: ["rev"] })).toThrow(/rev-mode check at order 1 failed/);
  });

  it("a wrong second derivative, only at order 2", () => {
    // cos's jvp is used only by the derivative of sin: sin' is right, sin'' is wrong.
    plant(jvpRules, Prim.Cos, ([x], [t]) => [[lax.cos(x!)], [t instanceof Zero ? t : lax.mul(t as NDArray, lax.sin(x!))]]);
    const x = d([0.3, -1.2]);
    expect(checkGrads(np.sin, [x], { order: 1 }).comparisons.every((c) => c.ok)).toBe(true);
    expect(() => checkGrads(np.sin, [x], { order: 2 })).toThrow(/order 2 of fwd\(f\)/);
  });
});
