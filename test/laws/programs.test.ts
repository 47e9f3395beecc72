/**
 * Random programs as data: every spec realizes to a program that runs; the printed code computes
 * what the interpreter computes; the menu reaches every primitive (or says why not); and shrinking
 * turns a failure into a small program.
 */
import fc from "fast-check";
import { afterEach, describe, expect, it } from "vitest";
import { batchRules } from "../../interpreters/batch/index.js";
import { Zero, jvpRules } from "../../interpreters/jvp/index.js";
import * as fluxion from "../../src/index.js";
import { type Interpreter, type NDArray, Prim, type PrimParams, bind1, currentInterpreter, np, withInterpreter } from "../../src/index.js";
import {
  MAX_DEPTH,
  OPS,
  type OpCall,
  type Program,
  type ProgramCase,
  arb,
  lawProperty,
  laws,
  printProgram,
  programSpec,
  realize,
  runProgram,
} from "../../laws/index.js";

const restores: (() => void)[] = [];
afterEach(() => {
  while (restores.length) restores.pop()!();
});

/** The program's printed code, compiled against the public API. */
function compile(p: Program): (...xs: NDArray[]) => NDArray | NDArray[] {
  const names = ["np", "nn", "lax", "linalg", "debug", "bind1", "Prim", "jit", "jvp", "checkpoint", "customJvp"] as const;
  // The printed program is code by design: compiling it is what this test checks.
  // eslint-disable-next-line no-new-func, @typescript-eslint/no-implied-eval
  return new Function(...names, `return ${printProgram(p)};`)(...names.map((n) => (fluxion as Record<string, unknown>)[n]));
}

const inputsFor = (p: Program, seed: number) =>
  p.inputs.map((s, i) =>
    np.array(
      Float64Array.from({ length: s.reduce((a, b) => a * b, 1) }, (_, j) => Math.sin(seed + 3 * i + 1.7 * j)),
      { shape: s.slice(), dtype: p.dtype },
    ),
  );

describe("random programs", () => {
  it("prints as code that computes what the interpreter computes", () => {
    fc.assert(
      fc.property(programSpec(), (spec) => {
        const p = realize(spec);
        const xs = inputsFor(p, 1);
        const a = [runProgram(p, ...xs)].flat(),
          b = [compile(p)(...xs)].flat();
        expect(b.map((x) => x.shape)).toEqual(a.map((x) => x.shape));
        b.forEach((x, i) => expect(Array.from(x.dataSync())).toEqual(Array.from(a[i]!.dataSync())));
      }),
      { numRuns: 150, seed: 5 },
    );
  });

  it("nest: nested program cases hold higher-order ops inside each other, three deep, with closures", () => {
    const samples = fc.sample(arb.nestedProgramCases(), { numRuns: 500, seed: 9 });
    const depth = (ops: readonly OpCall[]): number => Math.max(0, ...ops.map((o) => (o.body ? 1 + depth(o.body.ops) : 0)));
    /** Whether a body reads a value defined outside it. */
    const closes = (ops: readonly OpCall[], own: Set<number>): boolean =>
      ops.some((o) => {
        if (o.args.some((a) => !own.has(a))) return true;
        if (!o.body) return false;
        const inner = new Set([o.body.param, ...o.body.ops.map((b) => b.id)]);
        return closes(o.body.ops, inner);
      });
    const closure = (ops: readonly OpCall[]): boolean =>
      ops.some((o) => o.body !== undefined && (closes(o.body.ops, new Set([o.body.param, ...o.body.ops.map((b) => b.id)])) || closure(o.body.ops)));
    const d = samples.map((c) => depth(c.program.ops));
    const share = (k: number) => d.filter((x) => x >= k).length / samples.length;
    const withClosure = samples.filter((c) => closure(c.program.ops)).length / samples.length;
    console.log(
      `nested programs: ${(share(1) * 100).toFixed(0)}% hold a higher-order op, ${(share(2) * 100).toFixed(0)}% two deep, ${(share(3) * 100).toFixed(0)}% three deep, ${(withClosure * 100).toFixed(0)}% close over an outer value`,
    );
    expect(share(2)).toBeGreaterThan(0.2);
    expect(share(3)).toBeGreaterThan(0.05);
    expect(Math.max(...d)).toBe(MAX_DEPTH);
    expect(withClosure).toBeGreaterThan(0.1);
  });

  it("prints readably", () => {
    const spec = {
      dtype: "float32" as const,
      inputs: [[2, 3], [3]],
      steps: [
        { op: 0, a: 0, b: 0, choice: 0 },
        { op: OPS.findIndex((o) => o.name === "add"), a: 0, b: 1, choice: 0 },
        { op: OPS.findIndex((o) => o.name === "max"), a: 0, b: 0, choice: 1 },
      ],
    };
    expect(printProgram(realize(spec))).toMatchInlineSnapshot(`
      "(x0, x1) => { // x0: f32[2,3], x1: f32[3]
        const dt = x0.dtype;
        const v2 = np.sin(x1); // sin -> [3]
        const v3 = np.multiply(np.add(v2, x1), 0.5); // add -> [3]
        const v4 = np.max(np.add(np.multiply(np.tanh(v3), 0.2), np.array([0, -0.5, 0.5], { dtype: dt })), { axis: [0], keepdims: false }); // max -> []
        return v4;
      }"
    `);
  });

  it("reach every primitive through the op menu, except those no law-abiding program can hold", () => {
    const outside: Partial<Record<Prim, string>> = {
      [Prim.While]: "no reverse mode (as in JAX); the coverage table checks it with the forward laws",
      [Prim.CustomVjpCall]: "no forward mode (a documented typed error); checked by the coverage table",
      [Prim.CustomLin]: "appears only inside reverse mode's linear program of a customVjp function",
    };
    const seen = new Set<Prim>();
    const recorder: Interpreter = {
      parent: currentInterpreter(),
      process<P extends Prim>(prim: P, args: readonly NDArray[], params: PrimParams[P]) {
        seen.add(prim);
        return withInterpreter(this.parent!, () => this.parent!.process(prim, args, params));
      },
    };
    const shapes = [
      [
        [2, 3],
        [2, 3],
      ],
      [[3], [2, 3]],
      [
        [2, 1, 3],
        [3, 2],
      ],
      [[1, 3]],
      [[]],
    ];
    OPS.forEach((op, k) => {
      const runs = shapes.filter(
        (inputs) => realize({ dtype: "float32", inputs, steps: [{ op: k, a: 0, b: inputs.length - 1, choice: 6 }] }).ops[0]?.op === op.name,
      );
      expect(runs.length, `op ${op.name} applies to none of the test shapes`).toBeGreaterThan(0);
      for (const inputs of runs) {
        for (let choice = 0; choice < 20; choice++) {
          const p = realize({ dtype: "float32", inputs, steps: [{ op: k, a: 0, b: inputs.length - 1, choice }] });
          withInterpreter(recorder, () => runProgram(p, ...inputsFor(p, 2)));
        }
      }
    });
    const missing = (Object.values(Prim) as Prim[]).filter((p) => !seen.has(p) && outside[p] === undefined);
    expect(missing, `random programs never bind ${missing.join(", ")}: add an op for each to the menu in laws/ops_*.ts`).toEqual([]);
  });

  it("shrink a failure to a one-op program on a scalar", () => {
    // Planted: sin's derivative is +sin. The smallest failing program is np.sin of a scalar.
    plant(jvpRules, Prim.Sin, ([x], [t]) => [
      [bind1(Prim.Sin, [x!], {})],
      [t instanceof Zero ? t : np.multiply(t as NDArray, bind1(Prim.Sin, [x!], {}))],
    ]);
    const c = shrunk(laws.jvpMatchesFiniteDifferences);
    expect(c.program.ops.map((o) => o.op)).toEqual(["sin"]);
    expect(c.program.inputs).toEqual([[]]);
    expect(c.source).toContain("const v1 = np.sin(x0);");
  });

  it("shrink a vmap failure to a small program over small shapes", () => {
    plant(batchRules, Prim.ReduceSum, ([x], _b, { axes }) => [[bind1(Prim.ReduceSum, [x!], { axes })], [true]]);
    const c = shrunk(laws.vmapEqualsMap);
    expect(c.program.ops.length).toBeLessThanOrEqual(2);
    expect(c.program.inputs.flat().reduce((a, b) => a * b, 1)).toBeLessThanOrEqual(6);
    expect(fc.stringify([c])).toContain("np.array(");
  });
});

function plant<T extends object, K extends keyof T>(table: T, key: K, value: T[K]): void {
  const saved = table[key];
  table[key] = value;
  restores.push(() => (table[key] = saved));
}

/** The shrunk counterexample of a law over random programs (which must fail). */
function shrunk(law: (typeof laws)[keyof typeof laws]): ProgramCase {
  const details = fc.check(lawProperty(law, arb.programCases()), { numRuns: 300, seed: 3 });
  expect(details.failed, `${law.name} found no counterexample`).toBe(true);
  return details.counterexample![0] as ProgramCase;
}
