/**
 * Runs every `@example` of src/optim.ts: types are stripped with TypeScript's transpiler, imports
 * from "fluxion" are bound to the library, and a line `expr; // [..]` or `expr; // close to [..]`
 * becomes an assertion that `expr` has that value (exactly, or within 1e-2).
 */
import { readFileSync } from "node:fs";
import ts from "typescript";
import { describe, expect, it } from "vitest";
import * as fluxion from "../../src/index.js";

const SOURCE = new URL("../../src/optim.ts", import.meta.url);

/** The @example blocks of a file's TSDoc comments, each with the name of the export it documents. */
function examples(text: string): [string, string][] {
  const out: [string, string][] = [];
  for (const m of text.matchAll(/\/\*\*([\s\S]*?)\*\/\s*export\s+(?:function|interface|type|const)\s+(\w+)/g)) {
    const doc = m[1]!.split("\n").map((l) => l.replace(/^\s*\* ?/, ""));
    const at = doc.findIndex((l) => l.startsWith("@example"));
    if (at < 0) continue;
    const end = doc.findIndex((l, i) => i > at && l.startsWith("@"));
    out.push([
      m[2]!,
      doc
        .slice(at + 1, end < 0 ? undefined : end)
        .join("\n")
        .trim(),
    ]);
  }
  return out;
}

/** Turns value comments into checks, strips types and binds the imports. */
function compile(code: string): (lib: unknown, check: (got: unknown, want: number[], approx: boolean) => void) => void {
  const checked = code.replace(
    /^(.*?);\s*\/\/\s*(close to )?(\[[-\d., ]*\]).*$/gm,
    (_, expr: string, approx: string | undefined, want: string) => `__check(${expr}, ${want}, ${approx !== undefined});`,
  );
  const js = ts.transpileModule(checked, { compilerOptions: { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.ESNext } }).outputText;
  const body = js.replace(/^import\s*\{([^}]*)\}\s*from\s*"fluxion";?$/gm, "const {$1} = __lib;");
  // The README's and examples' code blocks are run as written.
  // eslint-disable-next-line no-new-func, @typescript-eslint/no-implied-eval
  return new Function("__lib", "__check", body) as never;
}

function check(got: unknown, want: number[], approx: boolean): void {
  const values = ([got] as unknown[]).flat(Infinity) as number[];
  expect(values.length).toBe(want.length);
  values.forEach((v, i) => (approx ? expect(Math.abs(v - want[i]!)).toBeLessThan(1e-2) : expect(v).toBeCloseTo(want[i]!, 6)));
}

describe("the @example of every optim export runs and shows true values", () => {
  const found = examples(readFileSync(SOURCE, "utf8"));
  it("every export is documented with an example", () => {
    const exported = [...readFileSync(SOURCE, "utf8").matchAll(/^export\s+(?:function|interface|type|const)\s+(\w+)/gm)].map((m) => m[1]!).sort();
    expect(exported).toEqual(expect.arrayContaining(Object.keys(fluxion.optim)));
    expect(found.map(([name]) => name).sort()).toEqual(exported);
  });
  it.each(found)("%s", (_, code) => {
    let checks = 0;
    compile(code)(fluxion, (got, want, approx) => {
      checks++;
      check(got, want, approx);
    });
    expect(checks).toBe(code.match(/;\s*\/\/\s*(close to )?\[/g)?.length ?? 0);
  });
});
