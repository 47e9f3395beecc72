/**
 * Every primitive, bound through the public `bind` with hostile params (strings made to break out of
 * generated source, prototype keys, fractional/huge/NaN numbers, objects whose coercion has a side
 * effect), eagerly, under jit and under the WebGPU lowering: each call raises a FluxionError and
 * nothing runs that touches `globalThis`. Also the reported injection through `astype`.
 */
import { afterEach, describe, expect, it } from "vitest";
import { DTypeError, FluxionError, type NDArray, Prim, type PrimParams, bind, devices, jit, makeJaxpr, np } from "../../src/index.js";

const g = globalThis as { PWNED?: unknown };
const pwn = () => {
  g.PWNED = 1;
  return 0;
};

const INJECT = [
  `x"); }, globalThis.PWNED = 1, function(){ ("`,
  'float32"; globalThis.PWNED = 1; "',
  "`${globalThis.PWNED = 1}`",
  "}); globalThis.PWNED = 1; ({",
  "0u; } fn evil() { ",
  "1; globalThis.PWNED = 1",
];
/** Values that are wrong for every static param (none is a boolean, an integer >= 0 or a program). */
const HOSTILE: unknown[] = [
  ...INJECT,
  "__proto__",
  "constructor",
  "toString",
  "0",
  "float16",
  "",
  -1,
  1.5,
  NaN,
  Infinity,
  -Infinity,
  2 ** 53,
  1e300,
  -0.5,
  ["0"],
  [1.5],
  [NaN],
  [-1],
  [INJECT[0]],
  [[INJECT[0]]],
  [2 ** 53, 2 ** 53],
  null,
  undefined,
  Symbol("s"),
  {},
  Object.create(null),
  new Map(),
  [{}],
  { valueOf: pwn },
  { toString: () => String(pwn()) },
  [{ valueOf: pwn }],
  { [Symbol.toPrimitive]: pwn },
  { program: { eqns: INJECT }, consts: [] },
];

const x = np.ones([2, 3]);
const idx = np.array([0, 1], { dtype: "int32" });
const i0 = np.array(0, { dtype: "int32" });
const cp = (f: (...a: NDArray[]) => unknown, ...a: NDArray[]) => makeJaxpr(f)(...a);
const id = cp((a) => a, x);

/** Valid operands and params per primitive; each test swaps one param for a hostile value. */
type Case<P extends Prim> = { ops: (a: NDArray) => NDArray[]; params: PrimParams[P] };
const un = <P extends Prim>(): Case<P> => ({ ops: (a) => [a], params: {} as PrimParams[P] });
const bin = <P extends Prim>(): Case<P> => ({ ops: (a) => [a, a], params: {} as PrimParams[P] });
const bools = <P extends Prim>(n: number): Case<P> => ({
  ops: (a) => Array.from({ length: n }, () => np.greater(a, 0)),
  params: {} as PrimParams[P],
});
const CASES: { [P in Prim]: Case<P> } = {
  [Prim.Add]: bin(),
  [Prim.Sub]: bin(),
  [Prim.Mul]: bin(),
  [Prim.Div]: bin(),
  [Prim.Pow]: bin(),
  [Prim.Max]: bin(),
  [Prim.Min]: bin(),
  [Prim.Eq]: bin(),
  [Prim.Ne]: bin(),
  [Prim.Lt]: bin(),
  [Prim.Le]: bin(),
  [Prim.Gt]: bin(),
  [Prim.Ge]: bin(),
  [Prim.And]: bools(2),
  [Prim.Or]: bools(2),
  [Prim.Not]: bools(1),
  [Prim.Xor]: bools(2),
  [Prim.ShiftLeft]: { ops: (a) => [a.astype("uint32"), a.astype("uint32")], params: {} },
  [Prim.ShiftRightLogical]: { ops: (a) => [a.astype("uint32"), a.astype("uint32")], params: {} },
  [Prim.BitcastConvertType]: { ops: (a) => [a], params: { dtype: "uint32" } },
  [Prim.Neg]: un(),
  [Prim.Exp]: un(),
  [Prim.Log]: un(),
  [Prim.Log1p]: un(),
  [Prim.Expm1]: un(),
  [Prim.Sin]: un(),
  [Prim.Cos]: un(),
  [Prim.Tanh]: un(),
  [Prim.Atan]: un(),
  [Prim.Logistic]: un(),
  [Prim.Sqrt]: un(),
  [Prim.Rsqrt]: un(),
  [Prim.Abs]: un(),
  [Prim.Sign]: un(),
  [Prim.Floor]: un(),
  [Prim.StopGradient]: un(),
  [Prim.ConvertElementType]: { ops: (a) => [a], params: { dtype: "int32" } },
  [Prim.SelectN]: { ops: (a) => [np.greater(a, 0), a, a], params: {} },
  [Prim.ReduceSum]: { ops: (a) => [a], params: { axes: [0] } },
  [Prim.ReduceMax]: { ops: (a) => [a], params: { axes: [1] } },
  [Prim.ReduceMin]: { ops: (a) => [a], params: { axes: [0, 1] } },
  [Prim.ArgMax]: { ops: (a) => [a], params: { axis: 0 } },
  [Prim.ArgMin]: { ops: (a) => [a], params: { axis: 1 } },
  [Prim.Cumsum]: { ops: (a) => [a], params: { axis: 1, reverse: false } },
  [Prim.Argsort]: { ops: (a) => [a], params: { axis: 1 } },
  [Prim.ConvGeneralDilated]: {
    ops: (a) => [a.reshape([1, 2, 3]), a.reshape([1, 2, 3])],
    params: { strides: [1], padding: [[0, 0]], lhsDilation: [1], rhsDilation: [1], featureGroupCount: 1, batchGroupCount: 1 },
  },
  [Prim.BroadcastInDim]: { ops: (a) => [a], params: { shape: [4, 2, 3], broadcastDimensions: [1, 2] } },
  [Prim.Reshape]: { ops: (a) => [a], params: { shape: [3, 2] } },
  [Prim.Transpose]: { ops: (a) => [a], params: { perm: [1, 0] } },
  [Prim.Rev]: { ops: (a) => [a], params: { axes: [0] } },
  [Prim.Slice]: { ops: (a) => [a], params: { start: [0, 1], limit: [2, 3], step: [1, 1] } },
  [Prim.Pad]: {
    ops: (a) => [a, np.array(0, { dtype: "float32" })],
    params: {
      config: [
        [1, 0, 0],
        [0, 1, 1],
      ],
    },
  },
  [Prim.Concatenate]: { ops: (a) => [a, a], params: { axis: 0 } },
  [Prim.Gather]: { ops: (a) => [a, idx], params: { axis: 0, batchDims: 0 } },
  [Prim.ScatterAdd]: { ops: (a) => [a, idx, a], params: { axis: 0, batchDims: 0 } },
  [Prim.Scatter]: { ops: (a) => [a, idx, a], params: { axis: 0, batchDims: 0, op: "set" } },
  [Prim.DynamicSlice]: { ops: (a) => [a, i0, i0], params: { sizes: [1, 2] } },
  [Prim.DynamicUpdateSlice]: { ops: (a) => [a, a, i0, i0], params: {} },
  [Prim.DotGeneral]: { ops: (a) => [a, a], params: { contract: [[1], [1]], batch: [[], []] } },
  [Prim.Cholesky]: { ops: () => [np.eye(2)], params: {} },
  [Prim.TriangularSolve]: { ops: (a) => [np.eye(2), a], params: { leftSide: true, lower: true, transposeA: false, unitDiagonal: false } },
  [Prim.Lu]: { ops: () => [np.eye(2)], params: {} },
  [Prim.Qr]: { ops: (a) => [a], params: { fullMatrices: false } },
  [Prim.Eigh]: { ops: () => [np.eye(2)], params: {} },
  [Prim.Svd]: { ops: (a) => [a], params: { fullMatrices: false } },
  [Prim.JitCall]: { ops: (a) => [a], params: { program: id, name: "f" } },
  [Prim.Cond]: { ops: (a) => [i0, a], params: { branches: [id, id] } },
  [Prim.While]: {
    ops: (a) => [a],
    params: { cond: cp((a) => np.less(np.sum(a), -1), x), body: id, condConsts: 0, bodyConsts: 0 },
  },
  [Prim.Scan]: {
    ops: (a) => [a, a],
    params: { body: cp((c, r) => [c, r], x, np.ones([3])), length: 2, reverse: false, numConsts: 0, numCarry: 1 },
  },
  [Prim.CustomJvpCall]: { ops: (a) => [a], params: { fun: id, rule: (p, t) => [p, t], numLifted: 0, name: "f" } },
  [Prim.CustomVjpCall]: { ops: (a) => [a], params: { fun: id, fwd: (p) => [p, []], bwd: (_r, c) => c, numLifted: 0, name: "f" } },
  [Prim.CustomLin]: { ops: (a) => [a], params: { bwd: (_r, c) => c, numRes: 0, outAvals: [{ shape: [2, 3], dtype: "float32" }], name: "f" } },
  [Prim.DebugCallback]: { ops: (a) => [a], params: { callback: () => {}, name: "f" } },
  [Prim.Remat]: { ops: (a) => [a], params: { body: id, policy: "nothing", name: "f" } },
};

const HOST_ONLY = new Set<Prim>([Prim.Cholesky, Prim.TriangularSolve, Prim.Lu, Prim.Qr, Prim.Eigh, Prim.Svd]);
const gpu = (await devices()).includes("webgpu");
type Mode = "eager" | "jit" | "webgpu";
const MODES: Mode[] = gpu ? ["eager", "jit", "webgpu"] : ["eager", "jit"];

/** Runs one bind in a mode; returns what was thrown (undefined if nothing). */
function attempt(mode: Mode, prim: Prim, ops: (a: NDArray) => NDArray[], params: unknown): unknown {
  const call = (a: NDArray) => bind(prim, ops(a), params as never);
  try {
    if (mode === "eager") call(x);
    else jit(call, mode === "webgpu" ? { device: "webgpu" } : {})(x);
    return undefined;
  } catch (e) {
    return e;
  }
}

afterEach(() => {
  expect(g.PWNED).toBeUndefined();
  delete g.PWNED;
});

let calls = 0;
describe("hostile params at bind", () => {
  for (const mode of MODES) {
    for (const prim of Object.values(Prim)) {
      const c = CASES[prim] as Case<Prim>;
      it(`${mode}: ${prim} with valid params runs, with any hostile param raises a FluxionError`, () => {
        // custom_lin is only ever transposed; webgpu runs no while loop (its predicate must reach the host).
        // The matrix decompositions are a DeviceError on webgpu (tested in test/linalg).
        const runs = prim !== Prim.CustomLin && !(mode === "webgpu" && (prim === Prim.While || HOST_ONLY.has(prim)));
        if (runs) expect(attempt(mode, prim, c.ops, c.params)).toBeUndefined();
        const fields = Object.keys(c.params);
        const variants: unknown[] = [...HOSTILE, ...fields.flatMap((f) => HOSTILE.map((h) => ({ ...c.params, [f]: h })))];
        variants.push({ ...c.params, extra: 1 }, { ...c.params, __proto__: { evil: INJECT[0] } });
        for (const params of variants) {
          // A name param may be any string: the name is only printed, never compiled.
          if (
            typeof params === "object" &&
            params !== null &&
            "name" in params &&
            typeof params.name === "string" &&
            Object.keys(params).length === fields.length
          ) {
            const same = fields.every((f) => f === "name" || (params as Record<string, unknown>)[f] === (c.params as Record<string, unknown>)[f]);
            if (same) continue;
          }
          // An empty plain object is the valid params of a primitive that takes none.
          const plain = typeof params === "object" && params !== null && [Object.prototype, null].includes(Object.getPrototypeOf(params));
          if (fields.length === 0 && plain && Object.keys(params).length === 0) continue;
          calls++;
          const err = attempt(mode, prim, c.ops, params);
          if (!(err instanceof FluxionError)) {
            expect.fail(`${mode} ${prim}: params variant ${variants.indexOf(params)} gave ${err === undefined ? "no error" : String(err)}`);
          }
          expect(g.PWNED).toBeUndefined();
        }
      });
    }
  }
  it("hostile primitive names and operands are refused", () => {
    for (const prim of [...INJECT, "__proto__", "toString", 3, null, undefined]) {
      expect(() => bind(prim as Prim, [x], {} as never)).toThrow(FluxionError);
    }
    for (const ops of [[1], [null], [x, "x"], "xx", [{ shape: [2], dtype: "float32" }], [], [x, x, x]]) {
      expect(() => bind(Prim.Add, ops as never, {} as never)).toThrow(FluxionError);
    }
  });
  it(`made ${MODES.length} modes x ${Object.values(Prim).length} primitives of hostile calls`, () => {
    // Runs after the per-primitive tests (vitest keeps file order).
    expect(calls).toBeGreaterThan(MODES.length * Object.values(Prim).length * HOSTILE.length);
  });
});

describe("astype injection", () => {
  const d = `x"); }, globalThis.PWNED = 1, function(){ ("`;
  it("astype refuses a dtype outside the closed set, eagerly and under jit", () => {
    expect(() => jit((a: NDArray) => a.astype(d as never))(np.ones([4]))).toThrow(DTypeError);
    expect(() => np.ones([4]).astype(d as never)).toThrow(DTypeError);
    for (const bad of ["float16", "__proto__", "toString", "constructor", 32, null]) {
      expect(() => np.ones([4]).astype(bad as never)).toThrow(/astype: unknown dtype/);
    }
  });
  it("a string in a shape never reaches the generated index arithmetic", () => {
    const f = jit((a: NDArray) =>
      bind(Prim.BroadcastInDim, [a], { shape: ["4; globalThis.PWNED = 1; 4" as never, 4], broadcastDimensions: [1] })[0]!.add(1),
    );
    expect(() => f(np.ones([4]))).toThrow(FluxionError);
  });
});
