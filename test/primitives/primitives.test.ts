/**
 * Table-driven laws of every primitive (cases in ./table.ts), each checked against an independent
 * naive reference:
 *   1. value: bind(prim) on float64 operands == reference (~1e-12), on float32 (~1e-5)
 *   2. jvp == central differences in float64 (or exactly zero for zero-derivative primitives);
 *      vjp == central differences in float64 (<J^T u, v> against <u, finite difference along v>)
 *   3. transpose identity <u, J v> == <J^T u, v> for the linear operand groups
 *   4. vmap == stacking per-example results (all batched, and each operand unbatched in turn);
 *      vmap of jvp == stacked jvps and vjp of vmap == stacked vjps for differentiable cases
 *   5. modes a case marks as failing by design (`expectError`) throw the documented typed error;
 *      modes it turns off (`modes`) are not checked (see `Mode` in cases_util.ts)
 *   6. every Prim has a case
 * A test that fails because the library is wrong is listed in KNOWN_FAILURES with a diagnosis; it
 * then runs as `it.fails` under a name that says so, so it is reported, and flagged once fixed.
 */
import { describe, expect, it } from "vitest";
import { UndefPrimal, transposeCall } from "../../interpreters/vjp/transpose.js";
import { type DType, type NDArray, Prim, type PrimParams, bind, jvp, makeJaxpr, np, vjp, vmap } from "../../src/index.js";
import { type Mode, Rng, modeOn, seedOf, sizeOfShape } from "./cases_util.js";
import { type FloatDType, type Host, type Operand, type PrimCase, primitiveCases } from "./table.js";

interface KnownFailure {
  prim: Prim;
  /** The case name, exactly as in the table. */
  case: string;
  /** The test name, exactly as registered below. */
  test: string;
  /** What is wrong in the library (see the final report for a repro). */
  issue: string;
}

/** Library bugs found by this table, pending a fix. Each runs as an expected failure. */
export const KNOWN_FAILURES: KnownFailure[] = [];

type AnyCase = PrimCase<any>;
type Params = PrimParams[Prim];

// ---------------------------------------------------------------- conversions and checks

const isFloatDType = (d: DType): boolean => d === "float32" || d === "float64";
const toND = (o: Operand): NDArray => np.array(Float64Array.from(o.data), { shape: o.shape, dtype: o.dtype });
const toHost = (a: NDArray): Host => ({ shape: a.shape.slice(), data: Array.from(a.dataSync(), Number) });
const maxAbs = (xs: readonly number[]): number => xs.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
const randomOperand = (rng: Rng, shape: number[], dtype: DType): Operand => ({
  shape,
  dtype,
  data: Array.from({ length: sizeOfShape(shape) }, () => (isFloatDType(dtype) ? rng.uniform(-1, 1) : 0)),
});

function paramsOf(c: AnyCase, fdt: FloatDType): Params {
  return typeof c.params === "function" ? c.params(fdt) : c.params;
}

/** The reference outputs and their dtypes. */
function expected(c: AnyCase, xs: Operand[], params: Params): { refs: Host[]; dtypes: DType[] } {
  const r = c.ref(xs, params);
  const refs = Array.isArray(r) ? r : [r];
  const d = c.outDtype?.(xs, params) ?? xs[0]!.dtype;
  return { refs, dtypes: refs.map((_, i) => (Array.isArray(d) ? d[i]! : d)) };
}

/**
 * Asserts `got` matches `want` in shape and values: exactly for int/bool, else within
 * rtol * (|want| + max|want|), a relative tolerance scaled by the output's magnitude.
 */
function expectValues(what: string, got: Host, want: Host, exact: boolean, rtol: number): void {
  expect(got.shape, `${what}: shape`).toEqual(want.shape);
  expect(got.data.length, `${what}: size`).toBe(want.data.length);
  const scale = maxAbs(want.data);
  for (let i = 0; i < want.data.length; i++) {
    const g = got.data[i]!,
      w = want.data[i]!;
    const ok = exact ? g === w : Math.abs(g - w) <= rtol * (Math.abs(w) + scale) || (Number.isNaN(g) && Number.isNaN(w));
    if (!ok) expect.fail(`${what}: element ${i} is ${g}, want ${w} (${exact ? "exact" : `rtol ${rtol}`})\n got ${got.data}\nwant ${want.data}`);
  }
}

function expectNDArrays(what: string, got: NDArray[], want: NDArray[], rtol: number): void {
  expect(got.length, `${what}: number of outputs`).toBe(want.length);
  got.forEach((g, k) => {
    expect(g.dtype, `${what}: dtype of output ${k}`).toBe(want[k]!.dtype);
    expectValues(`${what}, output ${k}`, toHost(g), toHost(want[k]!), !isFloatDType(g.dtype), rtol);
  });
}

const dot = (a: Host, b: Host): number => a.data.reduce((s, v, i) => s + v * b.data[i]!, 0);
const absDot = (a: Host, b: Host): number => a.data.reduce((s, v, i) => s + Math.abs(v * b.data[i]!), 0);

/** The primitive as a function of the operands at `which`, the others fixed at `xs`. */
function partial(prim: Prim, params: Params, xs: readonly NDArray[], which: readonly number[]) {
  return (...sub: NDArray[]): NDArray[] => {
    const args = xs.slice();
    which.forEach((j, k) => (args[j] = sub[k]!));
    return bind(prim, args, params);
  };
}

/**
 * Central differences of `f` (the primitive as a function of the operands at `diff`) at `xs` along
 * `vs`, one per output.
 */
function centralDifferences(
  f: (...a: NDArray[]) => NDArray[],
  xs: readonly Operand[],
  diff: readonly number[],
  vs: readonly Operand[],
  eps: number,
): Host[] {
  const shifted = (sgn: number) =>
    f(...diff.map((j, k) => toND({ ...xs[j]!, data: xs[j]!.data.map((v, i) => v + sgn * eps * vs[k]!.data[i]!) }))).map(toHost);
  const hi = shifted(1),
    lo = shifted(-1);
  return hi.map((h, k) => ({ shape: h.shape, data: h.data.map((v, i) => (v - lo[k]!.data[i]!) / (2 * eps)) }));
}

/**
 * J^T u from the primitive's own transpose rule: a call of the primitive is staged and transposed
 * with the operands at `group` unknown (for a primitive that reverse mode cannot reach through vjp).
 */
function transposeStaged(prim: Prim, params: Params, xs: readonly NDArray[], group: readonly number[], cts: readonly NDArray[]): NDArray[] {
  const cp = makeJaxpr((...a: NDArray[]) => bind(prim, a, params))(...xs);
  const args = xs.map((x, j) => (group.includes(j) ? new UndefPrimal({ shape: x.shape.slice(), dtype: x.dtype }) : x));
  const res = transposeCall(cp, args, cts);
  return group.map((j) => res[j] ?? np.zeros(xs[j]!.shape.slice(), xs[j]!.dtype));
}

// ---------------------------------------------------------------- test registration

/** `prim|case|test` of every registered test: a known failure must name one of them. */
const registered = new Set<string>();

function register(prim: Prim, c: AnyCase, test: string, fn: () => void): void {
  registered.add(`${prim}|${c.name}|${test}`);
  const known = KNOWN_FAILURES.find((k) => k.prim === prim && k.case === c.name && k.test === test);
  if (known) it.fails(`${test} [KNOWN FAILURE: ${known.issue}]`, fn);
  else it(test, fn);
}

function caseTests(prim: Prim, c: AnyCase): void {
  const rngFor = (test: string) => new Rng(seedOf(`${prim}|${c.name}|${test}`));
  const t = (test: string, fn: (rng: Rng) => void) => register(prim, c, test, () => fn(rngFor(test)));
  const probe = c.make(new Rng(0), "float64");
  const nargs = probe.length;
  const differentiable = c.diff.length > 0 && !c.zeroDerivative;
  const eps = c.tol?.eps ?? 1e-6,
    fdTol = c.tol?.fd ?? 1e-6,
    trTol = c.tol?.transpose ?? 1e-10;

  // 1. values
  for (const [fdt, rtol] of modeOn(c, "value")
    ? ([
        ["float64", 1e-12],
        ["float32", 1e-5],
      ] as const)
    : []) {
    t(`value ${fdt} == reference`, (rng) => {
      const xs = c.make(rng, fdt),
        params = paramsOf(c, fdt);
      const { refs, dtypes } = expected(c, xs, params);
      const outs = bind(prim, xs.map(toND), params);
      expect(outs.length, "number of outputs").toBe(refs.length);
      outs.forEach((o, k) => {
        expect(o.dtype, `dtype of output ${k}`).toBe(dtypes[k]);
        expectValues(`output ${k}`, toHost(o), refs[k]!, !isFloatDType(dtypes[k]!), rtol);
      });
    });
  }

  // 2. jvp
  if (!modeOn(c, "jvp")) {
    // forward mode is off for this case
  } else if (!differentiable) {
    t("jvp tangent is exactly zero", (rng) => {
      const xs = c.make(rng, "float64"),
        params = paramsOf(c, "float64");
      const tangents = xs.map((x) => toND(randomOperand(rng, x.shape, x.dtype)));
      const [outs, touts] = jvp((...a: NDArray[]) => bind(prim, a, params), xs.map(toND), tangents) as [NDArray[], NDArray[]];
      expect(touts.length).toBe(outs.length);
      touts.forEach((tout, k) => expect(tout.shape, `tangent ${k} shape`).toEqual(outs[k]!.shape));
      for (const tout of touts)
        expect(
          toHost(tout).data.every((v) => v === 0),
          `tangent ${toHost(tout).data}`,
        ).toBe(true);
    });
  } else if (c.tangentRef) {
    t("jvp == documented tangent at a kink (float64)", (rng) => {
      const xs = c.make(rng, "float64"),
        params = paramsOf(c, "float64");
      const vs = c.diff.map((j) => randomOperand(rng, xs[j]!.shape, xs[j]!.dtype));
      const [, touts] = jvp(
        partial(prim, params, xs.map(toND), c.diff),
        c.diff.map((j) => toND(xs[j]!)),
        vs.map(toND),
      ) as [NDArray[], NDArray[]];
      const r = c.tangentRef!(xs, vs, params);
      const refs = Array.isArray(r) ? r : [r];
      expect(touts.length).toBe(refs.length);
      touts.forEach((tout, k) => expectValues(`tangent ${k}`, toHost(tout), refs[k]!, false, 1e-12));
    });
  } else {
    t("jvp == central differences (float64)", (rng) => {
      const xs = c.make(rng, "float64"),
        params = paramsOf(c, "float64");
      const vs = c.diff.map((j) => randomOperand(rng, xs[j]!.shape, xs[j]!.dtype));
      const f = partial(prim, params, xs.map(toND), c.diff);
      const [, touts] = jvp(
        f,
        c.diff.map((j) => toND(xs[j]!)),
        vs.map(toND),
      ) as [NDArray[], NDArray[]];
      const fds = centralDifferences(f, xs, c.diff, vs, eps);
      expect(touts.length, "number of tangents").toBe(fds.length);
      touts.forEach((tout, k) => {
        const fd = fds[k]!;
        const got = toHost(tout);
        expect(got.shape).toEqual(fd.shape);
        const atol = fdTol * Math.max(1, maxAbs(fd.data));
        got.data.forEach((g, i) => {
          if (!(Math.abs(g - fd.data[i]!) <= atol))
            expect.fail(`output ${k} element ${i}: jvp ${g} vs central difference ${fd.data[i]} (atol ${atol})\njvp ${got.data}\n fd ${fd.data}`);
        });
      });
    });
  }

  if (differentiable && !c.tangentRef && modeOn(c, "vjp")) {
    t("vjp == central differences (float64)", (rng) => {
      const xs = c.make(rng, "float64"),
        params = paramsOf(c, "float64");
      const f = partial(prim, params, xs.map(toND), c.diff);
      const [outs, pull] = vjp(f, ...c.diff.map((j) => toND(xs[j]!)));
      const us = (outs as NDArray[]).map((o) => randomOperand(rng, o.shape, o.dtype));
      const cts = pull(us.map(toND)) as NDArray[];
      expect(cts.length, "number of cotangents").toBe(c.diff.length);
      cts.forEach((ct, k) => expect(ct.shape, `cotangent ${k} shape`).toEqual(xs[c.diff[k]!]!.shape));
      const vs = c.diff.map((j) => randomOperand(rng, xs[j]!.shape, xs[j]!.dtype));
      const fds = centralDifferences(f, xs, c.diff, vs, eps);
      const lhs = cts.reduce((s, ct, k) => s + dot(toHost(ct), vs[k]!), 0);
      const rhs = fds.reduce((s, fd, k) => s + dot(us[k]!, fd), 0);
      const scale = cts.reduce((s, ct, k) => s + absDot(toHost(ct), vs[k]!), 0) + fds.reduce((s, fd, k) => s + absDot(us[k]!, fd), 0);
      expect(Math.abs(lhs - rhs), `<J^T u, v> = ${lhs}, <u, central difference along v> = ${rhs}`).toBeLessThanOrEqual(fdTol * Math.max(1, scale));
    });
  }

  // 3. transpose identity (J v from jvp, else from the reference; J^T u from vjp, else from the transpose rule)
  for (const group of c.linear ?? []) {
    t(`transpose identity <u, J v> == <J^T u, v> in operands [${group}]`, (rng) => {
      const xs = c.make(rng, "float64"),
        params = paramsOf(c, "float64");
      const f = partial(prim, params, xs.map(toND), group);
      const primals = group.map((j) => toND(xs[j]!));
      const vs = group.map((j) => randomOperand(rng, xs[j]!.shape, xs[j]!.dtype));
      let touts: NDArray[];
      if (modeOn(c, "jvp")) touts = (jvp(f, primals, vs.map(toND)) as [NDArray[], NDArray[]])[1];
      else {
        const xv = xs.slice();
        group.forEach((j, k) => (xv[j] = vs[k]!));
        const { refs, dtypes } = expected(c, xv, params);
        touts = refs.map((r, k) => toND({ ...r, dtype: dtypes[k]! }));
      }
      const us = touts.map((o) => randomOperand(rng, o.shape, o.dtype));
      const cts = modeOn(c, "vjp")
        ? (vjp(f, ...primals)[1](us.map(toND)) as NDArray[])
        : transposeStaged(prim, params, xs.map(toND), group, us.map(toND));
      expect(cts.length).toBe(group.length);
      const lhs = touts.reduce((s, tv, k) => s + dot(us[k]!, toHost(tv)), 0);
      const rhs = cts.reduce((s, ct, k) => s + dot(toHost(ct), vs[k]!), 0);
      const scale = touts.reduce((s, tv, k) => s + absDot(us[k]!, toHost(tv)), 0) + cts.reduce((s, ct, k) => s + absDot(toHost(ct), vs[k]!), 0);
      cts.forEach((ct, k) => expect(ct.shape, `cotangent ${k} shape`).toEqual(xs[group[k]!]!.shape));
      expect(Math.abs(lhs - rhs), `<u, Jv> = ${lhs}, <J^T u, v> = ${rhs}`).toBeLessThanOrEqual(trTol * Math.max(1, scale));
    });
  }

  // 4. batching
  const examples = (rng: Rng) => [0, 1, 2].map(() => c.make(rng, "float64"));
  const stack = (arrays: NDArray[]) => np.stack(arrays);
  const stackOutputs = (per: NDArray[][]) => per[0]!.map((_, k) => stack(per.map((o) => o[k]!)));
  const unbatchedChoices: (number | null)[] = [null, ...(nargs >= 2 ? Array.from({ length: nargs }, (_, j) => j) : [])];
  for (const skip of modeOn(c, "vmap") ? unbatchedChoices : []) {
    t(skip === null ? "vmap (all operands batched) == stacked loop" : `vmap with operand ${skip} unbatched == stacked loop`, (rng) => {
      const exs = examples(rng),
        params = paramsOf(c, "float64");
      if (skip !== null) for (const e of exs) e[skip] = exs[0]![skip]!;
      const args = Array.from({ length: nargs }, (_, j) => (j === skip ? toND(exs[0]![j]!) : stack(exs.map((e) => toND(e[j]!)))));
      const inAxes = args.map((_, j) => (j === skip ? null : 0));
      const got = vmap((...a: NDArray[]) => bind(prim, a, params), { inAxes })(...args) as NDArray[];
      const want = stackOutputs(exs.map((e) => bind(prim, e.map(toND), params)));
      expectNDArrays("vmap", got, want, 1e-12);
    });
  }

  if (differentiable && modeOn(c, "vmap") && modeOn(c, "jvp")) {
    t("vmap of jvp == stacked jvps", (rng) => {
      const exs = examples(rng),
        params = paramsOf(c, "float64");
      const tans = exs.map((e) => c.diff.map((j) => toND(randomOperand(rng, e[j]!.shape, e[j]!.dtype))));
      const jvpOf = (xs: NDArray[], ts: NDArray[]) =>
        (
          jvp(
            partial(prim, params, xs, c.diff),
            c.diff.map((j) => xs[j]!),
            ts,
          ) as [NDArray[], NDArray[]]
        )[1];
      const got = vmap((...a: NDArray[]) => jvpOf(a.slice(0, nargs), a.slice(nargs)))(
        ...Array.from({ length: nargs }, (_, j) => stack(exs.map((e) => toND(e[j]!)))),
        ...c.diff.map((_, k) => stack(tans.map((ts) => ts[k]!))),
      ) as NDArray[];
      const want = stackOutputs(exs.map((e, b) => jvpOf(e.map(toND), tans[b]!)));
      expectNDArrays("vmap of jvp", got, want, 1e-12);
    });
  }

  if (differentiable && modeOn(c, "vmap") && modeOn(c, "vjp")) {
    t("vjp of vmap == stacked vjps", (rng) => {
      const exs = examples(rng),
        params = paramsOf(c, "float64");
      const stacked = Array.from({ length: nargs }, (_, j) => stack(exs.map((e) => toND(e[j]!))));
      const vf = (...d: NDArray[]) =>
        vmap((...a: NDArray[]) => bind(prim, a, params))(...stacked.map((s, j) => (c.diff.includes(j) ? d[c.diff.indexOf(j)]! : s))) as NDArray[];
      const outs = vf(...c.diff.map((j) => stacked[j]!));
      const ctOps = outs.map((o) => randomOperand(rng, o.shape, o.dtype));
      const cts = ctOps.map(toND);
      const got = vjp(vf, ...c.diff.map((j) => stacked[j]!))[1](cts) as NDArray[];
      const per = exs.map((e, b) => {
        const xs = e.map(toND);
        const ctb = ctOps.map((ct) => {
          const n = sizeOfShape(ct.shape.slice(1));
          return toND({ shape: ct.shape.slice(1), dtype: ct.dtype, data: ct.data.slice(b * n, (b + 1) * n) });
        });
        return vjp(partial(prim, params, xs, c.diff), ...c.diff.map((j) => xs[j]!))[1](ctb) as NDArray[];
      });
      expectNDArrays("vjp of vmap", got, stackOutputs(per), 1e-12);
    });
  }

  // 5. errors by design
  for (const mode of ["value", "jvp", "vjp", "vmap"] as const satisfies readonly Mode[]) {
    const spec = c.expectError?.[mode];
    if (spec === undefined) continue;
    t(`${mode} throws ${spec.error.name} by design`, (rng) => {
      const xs = c.make(rng, "float64"),
        params = paramsOf(c, "float64");
      const nds = xs.map(toND);
      const f = partial(prim, params, nds, c.diff);
      const primals = c.diff.map((j) => nds[j]!);
      const run: Record<Mode, () => unknown> = {
        value: () => bind(prim, nds, params),
        jvp: () =>
          jvp(
            f,
            primals,
            c.diff.map((j) => toND(randomOperand(rng, xs[j]!.shape, xs[j]!.dtype))),
          ),
        vjp: () => {
          const [outs, pull] = vjp(f, ...primals);
          return pull((outs as NDArray[]).map((o) => toND(randomOperand(rng, o.shape, o.dtype))));
        },
        vmap: () => {
          const exs = examples(rng);
          return vmap((...a: NDArray[]) => bind(prim, a, params))(...Array.from({ length: nargs }, (_, j) => stack(exs.map((e) => toND(e[j]!)))));
        },
      };
      let thrown: unknown = undefined;
      try {
        run[mode]();
      } catch (e) {
        thrown = e;
      }
      expect(thrown, `${mode} did not throw`).toBeInstanceOf(spec.error);
      expect((thrown as Error).message).toMatch(spec.message);
    });
  }
}

// ---------------------------------------------------------------- the suites

for (const prim of Object.values(Prim)) {
  describe(`${prim}`, () => {
    for (const c of primitiveCases[prim] as AnyCase[]) describe(c.name, () => caseTests(prim, c));
  });
}

describe("the table", () => {
  it("has at least one case for every Prim, with distinct names", () => {
    const missing = Object.values(Prim).filter((p) => !(primitiveCases[p]?.length > 0));
    expect(missing, "primitives without a case").toEqual([]);
    for (const p of Object.values(Prim)) {
      const names = (primitiveCases[p] as AnyCase[]).map((c) => c.name);
      expect(new Set(names).size, `${p}: duplicate case names ${names}`).toBe(names.length);
    }
  });

  it("lists only known failures that name a registered test", () => {
    for (const k of KNOWN_FAILURES) expect(registered.has(`${k.prim}|${k.case}|${k.test}`), `${k.prim} / ${k.case} / ${k.test}`).toBe(true);
    if (KNOWN_FAILURES.length > 0) {
      console.warn(
        `primitives table: ${KNOWN_FAILURES.length} known library failure(s):\n${KNOWN_FAILURES.map((k) => `  ${k.prim} / ${k.case} / ${k.test}: ${k.issue}`).join("\n")}`,
      );
    }
  });
});
