/**
 * No `any` in the public API's types: every export of "fluxion" and "fluxion/laws" (following
 * re-exports into classes' public members, signatures, type aliases and interfaces) must be typed
 * without `any`. The checker itself is tested on small in-memory modules first.
 */
import { fileURLToPath } from "node:url";
import ts from "typescript";
import { describe, expect, expectTypeOf, it } from "vitest";
import { type NDArray, grad, hessian, jacrev, jit, jvp, np, tree, valueAndGrad, vjp, vmap } from "../../src/index.js";
import { findAnyInExports } from "./public_types.js";

const root = fileURLToPath(new URL("../../", import.meta.url));

/** A program of in-memory files (`/m/…`) over the real standard library. */
function memoryProgram(files: Record<string, string>): ts.Program {
  const options: ts.CompilerOptions = {
    strict: true,
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.ESNext,
    moduleResolution: ts.ModuleResolutionKind.Bundler,
    noEmit: true,
  };
  const host = ts.createCompilerHost(options);
  const { getSourceFile, fileExists, readFile } = host;
  host.getSourceFile = (name, version, ...rest) =>
    name in files ? ts.createSourceFile(name, files[name]!, version) : getSourceFile.call(host, name, version, ...rest);
  host.fileExists = (name) => name in files || fileExists.call(host, name);
  host.readFile = (name) => files[name] ?? readFile.call(host, name);
  host.directoryExists = (dir) => dir === "/m" || ts.sys.directoryExists(dir);
  return ts.createProgram({ rootNames: Object.keys(files), options, host });
}

const findingsIn = (files: Record<string, string>, entry = "/m/index.ts") =>
  findAnyInExports(memoryProgram(files), entry)
    .map((f) => f.exportName)
    .sort();

describe("the any-checker", () => {
  it("finds any in values, signatures, classes, aliases and interfaces, also through re-exports", () => {
    const found = findingsIn({
      "/m/index.ts": `
        export const x: any = 1;
        export const fine: number = 1;
        export function f(a: number): any { return a; }
        export function g(a: number): number { return a; }
        export function h(cb: (...args: any[]) => number): number { return cb(); }
        export class C { private hidden: any; m(v: any[]): void {} }
        export class D { private hidden: any; ok(): string { return ""; } }
        export type Alias = { a: Array<{ deep: any }> };
        export interface I { method(): Promise<any> }
        export interface J { method(): Promise<number> }
        export { fromOther, okOther } from "./other.js";
        export const ns = { inner: (a: any) => a };
        export type Returns<F extends (...args: never[]) => unknown> = ReturnType<F>;
      `,
      "/m/other.ts": `export let fromOther: Record<string, any> = {}; export const okOther = (n: number) => [n];`,
    });
    expect(found).toEqual(["Alias", "C", "I", "f", "fromOther", "h", "ns", "x"]);
  });

  it("names a planted any among the real exports", () => {
    const real = ts.sys.readFile(`${root}src/index.ts`)!;
    const program = projectProgram({ [`${root}src/index.ts`]: `${real}\nexport const planted: any = 0;\n` });
    expect(findAnyInExports(program, `${root}src/index.ts`).map((f) => f.exportName)).toEqual(["planted"]);
  });
});

/** The project as tsconfig.json compiles it, with some files' text replaced. */
function projectProgram(overrides: Record<string, string> = {}): ts.Program {
  const config = ts.getParsedCommandLineOfConfigFile(
    `${root}tsconfig.json`,
    {},
    {
      ...ts.sys,
      onUnRecoverableConfigFileDiagnostic: (d) => {
        throw new Error(String(d.messageText));
      },
    },
  )!;
  const host = ts.createCompilerHost(config.options);
  const { getSourceFile, readFile } = host;
  host.getSourceFile = (name, version, ...rest) =>
    name in overrides ? ts.createSourceFile(name, overrides[name]!, version) : getSourceFile.call(host, name, version, ...rest);
  host.readFile = (name) => overrides[name] ?? readFile.call(host, name);
  return ts.createProgram({ rootNames: [`${root}src/index.ts`, `${root}laws/index.ts`], options: config.options, host });
}

describe("the public API", () => {
  const program = projectProgram();
  it.each(["src/index.ts", "laws/index.ts"])("%s exports nothing whose type mentions any", (entry) => {
    const findings = findAnyInExports(program, `${root}${entry}`).map((f) => `${f.exportName} (at ${f.path})`);
    expect(findings).toEqual([]);
  });
});

describe("the transforms' types follow the function they transform", () => {
  // Checked by `tsc --noEmit` (the expectations are types); the calls run too.
  const x = np.array([0.5, -1, 2]);
  const f = (p: { w: NDArray; b: number }, v: NDArray) => np.sum(np.sin(p.w.mul(v)).add(p.b));
  const p = { w: np.array([1, 2, 3]), b: 0.5 };

  it("grad and valueAndGrad: one tree per argnum, aux passed through", () => {
    expect(grad((y: NDArray) => np.sum(np.sin(y)))(x).shape).toEqual([3]);
    expectTypeOf(grad(f)(p, x)).toEqualTypeOf<{ w: NDArray; b: NDArray }>();
    const [gp, gv] = grad(f, { argnums: [0, 1] })(p, x);
    expectTypeOf(gv).toEqualTypeOf<NDArray>();
    expect(gp.b.shape).toEqual([]);
    const [[value, aux], g] = valueAndGrad((y: NDArray) => [np.sum(y), { n: 3 }] as const, { hasAux: true })(x);
    expectTypeOf(value).toEqualTypeOf<NDArray>();
    expectTypeOf(aux).toEqualTypeOf<{ readonly n: 3 }>();
    expectTypeOf(g).toEqualTypeOf<NDArray>();
    expectTypeOf(grad(np.sin)).parameter(0).toEqualTypeOf<Parameters<typeof np.sin>[0]>();
  });

  it("jvp, vjp, vmap, jit and the Jacobians", () => {
    const out = (y: NDArray, k: number) => ({ s: np.sum(y), k });
    const [primalOut, tangentOut] = jvp(out, [x, 2], [x, 1]);
    expectTypeOf(primalOut.k).toEqualTypeOf<NDArray>();
    expectTypeOf(tangentOut).toHaveProperty("s").toEqualTypeOf<NDArray>();
    const [, back] = vjp(f, p, x);
    expectTypeOf(back(np.array(1))).toEqualTypeOf<[{ w: NDArray; b: NDArray }, NDArray]>();
    expectTypeOf(vmap(out, { inAxes: [0, null] })(np.ones([2, 3]), 2)).toEqualTypeOf<{ s: NDArray; k: NDArray }>();
    expectTypeOf(jit(out)).toEqualTypeOf<typeof out>();
    expectTypeOf(jacrev((y: NDArray) => ({ a: y, b: [y] }))(x)).toEqualTypeOf<{ a: NDArray; b: NDArray[] }>();
    expect(hessian((y: NDArray) => np.sum(y.mul(y)))(x).shape).toEqual([3, 3]);
    expectTypeOf(tree.map((l) => String(l), p)).toEqualTypeOf<{ w: string; b: string }>();
  });
});
