/**
 * Every law over every primitive: the coverage table must have an entry for each member of `Prim`
 * (a new primitive fails here, by name, until it gets one), each entry must really bind its
 * primitive, and each law holds on each entry, or is refused with a typed error for a stated reason.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { FluxionError, type Interpreter, Prim, type PrimParams, currentInterpreter, withInterpreter } from "../../src/index.js";
import { LAWS, LawViolation, assertLaw } from "../../laws/index.js";
import { PRIM_RUNS, TIMEOUT, params } from "./config.js";
import { table } from "./coverage.js";

/** Notes every primitive bound while it is current, then passes it on. */
class PrimRecorder implements Interpreter {
  readonly seen = new Set<Prim>();
  constructor(readonly parent: Interpreter) {}
  process<P extends Prim>(prim: P, args: readonly never[], p: PrimParams[P]) {
    this.seen.add(prim);
    return withInterpreter(this.parent, () => this.parent.process(prim, args, p));
  }
}

const prims = Object.values(Prim) as Prim[];

describe("the coverage table", () => {
  it("has an entry for every primitive", () => {
    const missing = prims.filter((p) => table[p] === undefined);
    if (missing.length) {
      expect.fail(
        `test/laws/coverage.ts has no entry for primitive(s) ${missing.map((p) => `"${p}" (Prim.${Object.entries(Prim).find(([, v]) => v === p)![0]})`).join(", ")}: ` +
          "add cases that exercise each through the public API, inside its smooth domain",
      );
    }
  });

  it.each(prims.filter((p) => table[p] && !table[p]!.hidden))("entry %s binds its primitive", (prim) => {
    for (const c of fc.sample(table[prim]!.cases, { numRuns: 3, seed: 1 })) {
      const rec = new PrimRecorder(currentInterpreter());
      withInterpreter(rec, () => c.f(...c.args));
      expect([...rec.seen], `the entry for ${prim} never binds it`).toContain(prim);
    }
  });
});

describe.each(prims.filter((p) => table[p] !== undefined))("primitive %s", (prim) => {
  const entry = table[prim]!;
  for (const law of LAWS) {
    const reason = entry.skip?.[law.name];
    if (reason !== undefined) {
      it(`${law.name} is refused with a typed error (${reason})`, () => {
        const [c] = fc.sample(entry.cases, { numRuns: 1, seed: 3 });
        let err: unknown;
        try {
          law.check(c!, 0);
        } catch (e) {
          err = e;
        }
        expect(err).toBeInstanceOf(FluxionError);
        expect(err).not.toBeInstanceOf(LawViolation);
      });
    } else {
      it(law.name, () => assertLaw(law, entry.cases, params(PRIM_RUNS)), TIMEOUT);
    }
  }
});
