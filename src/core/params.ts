/**
 * The one door for primitive calls: every `bind` checks the primitive's name, its operands and its
 * static params against a typed schema before any interpreter sees them. Params are the only
 * values that reach generated code (JavaScript, WGSL, WebAssembly), so after this check a dtype is
 * one of the four names, every size/axis/stride is a safe non-negative integer, and a program is
 * made of checked equations. Code generators can then interpolate them without quoting.
 * Rank-dependent checks (axis < ndim, permutations) stay in the abstract rules.
 */
import { DTYPES } from "./dtype.js";
import { ArgumentError, DTypeError, ShapeError, describe } from "./errors.js";
import { NDArray } from "./ndarray.js";
import { PRIMS, Prim, type PrimParams } from "./prim.js";
import { MAX_ELEMENTS } from "./shape.js";

type Field = (where: string, v: unknown) => void;

const show = (v: unknown): string => {
  if (Array.isArray(v)) return `[${v.slice(0, 8).map(describe).join(",")}${v.length > 8 ? ",..." : ""}]`;
  return describe(v);
};

const bad = (where: string, v: unknown, want: string): never => {
  throw new ArgumentError(`${where} must be ${want}, got ${show(v)}`);
};

const isPlain = (v: unknown): boolean => {
  if (typeof v !== "object" || v === null) return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
};

const isIndex = (v: unknown): v is number => typeof v === "number" && Number.isSafeInteger(v) && v >= 0;
const isDim = (v: unknown): boolean => isIndex(v) && v <= MAX_ELEMENTS;

const int: Field = (w, v) => {
  if (!isIndex(v)) bad(w, v, "a non-negative integer");
};
const bool: Field = (w, v) => {
  if (typeof v !== "boolean") bad(w, v, "a boolean");
};
const str: Field = (w, v) => {
  if (typeof v !== "string") bad(w, v, "a string");
};
const fn: Field = (w, v) => {
  if (typeof v !== "function") bad(w, v, "a function");
};
const dtype: Field = (w, v) => {
  if (typeof v !== "string" || !(DTYPES as readonly string[]).includes(v)) {
    throw new DTypeError(`${w} must be one of "float32", "float64", "int32", "uint32", "bool", got ${show(v)}`);
  }
};
const ints: Field = (w, v) => {
  if (!Array.isArray(v)) bad(w, v, "an array of non-negative integers");
  for (const d of v as unknown[]) if (!isIndex(d)) bad(w, v, "an array of non-negative integers");
};
const shape: Field = (w, v) => {
  if (!Array.isArray(v) || !v.every(isDim)) bad(w, v, `a list of sizes, each an integer in [0, ${MAX_ELEMENTS}]`);
  let n = 1;
  for (const d of v as number[]) n *= d;
  if (n > MAX_ELEMENTS) throw new ShapeError(`${w} ${show(v)} has ${n} elements, more than the ${MAX_ELEMENTS} one array may hold`);
};
const pair =
  (f: Field): Field =>
  (w, v) => {
    if (!Array.isArray(v) || v.length !== 2) bad(w, v, "a pair");
    f(`${w}[0]`, (v as unknown[])[0]);
    f(`${w}[1]`, (v as unknown[])[1]);
  };
const padConfig: Field = (w, v) => {
  if (!Array.isArray(v)) bad(w, v, "an array of [low, high, interior] triples");
  for (const t of v as unknown[]) {
    if (!Array.isArray(t) || t.length !== 3 || !t.every(isIndex)) bad(w, v, "an array of [low, high, interior] non-negative integer triples");
  }
};
const positives: Field = (w, v) => {
  if (!Array.isArray(v) || !v.every((d) => isIndex(d) && d >= 1 && d <= MAX_ELEMENTS)) bad(w, v, "an array of positive integers");
};
const positive: Field = (w, v) => {
  if (!isIndex(v) || v < 1 || v > MAX_ELEMENTS) bad(w, v, "a positive integer");
};
/** [lo, hi] pairs of integers (negative widths crop), each within the largest array size. */
const signedPairs: Field = (w, v) => {
  const ok = (d: unknown) => typeof d === "number" && Number.isSafeInteger(d) && Math.abs(d) <= MAX_ELEMENTS;
  if (!Array.isArray(v) || !v.every((p) => Array.isArray(p) && p.length === 2 && p.every(ok))) bad(w, v, "an array of [lo, hi] integer pairs");
};
const policy: Field = (w, v) => {
  if (v !== "nothing" && v !== "dots") bad(w, v, `"nothing" or "dots"`);
};
const scatterOp: Field = (w, v) => {
  if (v !== "set" && v !== "mul" && v !== "min" && v !== "max") bad(w, v, 'one of "set", "mul", "min", "max"');
};
const aval: Field = (w, v) => {
  if (typeof v !== "object" || v === null) bad(w, v, "an aval { shape, dtype }");
  shape(`${w}.shape`, (v as { shape: unknown }).shape);
  dtype(`${w}.dtype`, (v as { dtype: unknown }).dtype);
};
const avals: Field = (w, v) => {
  if (!Array.isArray(v)) bad(w, v, "an array of avals");
  (v as unknown[]).forEach((a, i) => aval(`${w}[${i}]`, a));
};
const program: Field = (w, v) => checkClosedProgram(w, v);
const programs: Field = (w, v) => {
  if (!Array.isArray(v) || v.length === 0) bad(w, v, "a non-empty array of programs");
  (v as unknown[]).forEach((p, i) => checkClosedProgram(`${w}[${i}]`, p));
};

interface Schema {
  /** Least and most operands (Infinity: any number). */
  arity: [number, number];
  fields: Record<string, Field>;
}

const ANY = Infinity;
const none = (n: number): Schema => ({ arity: [n, n], fields: {} });
const reduce: Schema = { arity: [1, 1], fields: { axes: ints } };
const arg: Schema = { arity: [1, 1], fields: { axis: int } };
const gather = (n: number): Schema => ({ arity: [n, n], fields: { axis: int, batchDims: int } });

const SCHEMAS: { [P in Prim]: Schema } = {
  [Prim.Add]: none(2),
  [Prim.Sub]: none(2),
  [Prim.Mul]: none(2),
  [Prim.Div]: none(2),
  [Prim.Pow]: none(2),
  [Prim.Max]: none(2),
  [Prim.Min]: none(2),
  [Prim.Eq]: none(2),
  [Prim.Ne]: none(2),
  [Prim.Lt]: none(2),
  [Prim.Le]: none(2),
  [Prim.Gt]: none(2),
  [Prim.Ge]: none(2),
  [Prim.And]: none(2),
  [Prim.Or]: none(2),
  [Prim.Neg]: none(1),
  [Prim.Exp]: none(1),
  [Prim.Log]: none(1),
  [Prim.Log1p]: none(1),
  [Prim.Expm1]: none(1),
  [Prim.Sin]: none(1),
  [Prim.Cos]: none(1),
  [Prim.Tanh]: none(1),
  [Prim.Atan]: none(1),
  [Prim.Logistic]: none(1),
  [Prim.Sqrt]: none(1),
  [Prim.Rsqrt]: none(1),
  [Prim.Abs]: none(1),
  [Prim.Sign]: none(1),
  [Prim.Floor]: none(1),
  [Prim.Not]: none(1),
  [Prim.Xor]: none(2),
  [Prim.ShiftLeft]: none(2),
  [Prim.ShiftRightLogical]: none(2),
  [Prim.BitcastConvertType]: { arity: [1, 1], fields: { dtype } },
  [Prim.StopGradient]: none(1),
  [Prim.ConvertElementType]: { arity: [1, 1], fields: { dtype } },
  [Prim.SelectN]: { arity: [2, ANY], fields: {} },
  [Prim.ReduceSum]: reduce,
  [Prim.ReduceMax]: reduce,
  [Prim.ReduceMin]: reduce,
  [Prim.ArgMax]: arg,
  [Prim.ArgMin]: arg,
  [Prim.Cumsum]: { arity: [1, 1], fields: { axis: int, reverse: bool } },
  [Prim.Argsort]: arg,
  [Prim.ConvGeneralDilated]: {
    arity: [2, 2],
    fields: {
      strides: positives,
      padding: signedPairs,
      lhsDilation: positives,
      rhsDilation: positives,
      featureGroupCount: positive,
      batchGroupCount: positive,
    },
  },
  [Prim.BroadcastInDim]: { arity: [1, 1], fields: { shape, broadcastDimensions: ints } },
  [Prim.Reshape]: { arity: [1, 1], fields: { shape } },
  [Prim.Transpose]: { arity: [1, 1], fields: { perm: ints } },
  [Prim.Rev]: { arity: [1, 1], fields: { axes: ints } },
  [Prim.Slice]: { arity: [1, 1], fields: { start: ints, limit: ints, step: ints } },
  [Prim.Pad]: { arity: [2, 2], fields: { config: padConfig } },
  [Prim.Concatenate]: { arity: [1, ANY], fields: { axis: int } },
  [Prim.Gather]: gather(2),
  [Prim.ScatterAdd]: gather(3),
  [Prim.Scatter]: { arity: [3, 3], fields: { axis: int, batchDims: int, op: scatterOp } },
  [Prim.DynamicSlice]: { arity: [1, ANY], fields: { sizes: shape } },
  [Prim.DynamicUpdateSlice]: { arity: [2, ANY], fields: {} },
  [Prim.DotGeneral]: { arity: [2, 2], fields: { contract: pair(ints), batch: pair(ints) } },
  [Prim.Cholesky]: none(1),
  [Prim.TriangularSolve]: { arity: [2, 2], fields: { leftSide: bool, lower: bool, transposeA: bool, unitDiagonal: bool } },
  [Prim.Lu]: none(1),
  [Prim.Qr]: { arity: [1, 1], fields: { fullMatrices: bool } },
  [Prim.Eigh]: none(1),
  [Prim.Svd]: { arity: [1, 1], fields: { fullMatrices: bool } },
  [Prim.JitCall]: { arity: [0, ANY], fields: { program, name: str } },
  [Prim.Cond]: { arity: [1, ANY], fields: { branches: programs } },
  [Prim.While]: { arity: [0, ANY], fields: { cond: program, body: program, condConsts: int, bodyConsts: int } },
  [Prim.Scan]: { arity: [0, ANY], fields: { body: program, length: int, reverse: bool, numConsts: int, numCarry: int } },
  [Prim.CustomJvpCall]: { arity: [0, ANY], fields: { fun: program, rule: fn, numLifted: int, name: str } },
  [Prim.CustomVjpCall]: { arity: [0, ANY], fields: { fun: program, fwd: fn, bwd: fn, numLifted: int, name: str } },
  [Prim.CustomLin]: { arity: [0, ANY], fields: { bwd: fn, numRes: int, outAvals: avals, name: str } },
  [Prim.DebugCallback]: { arity: [0, ANY], fields: { callback: fn, name: str } },
  [Prim.Remat]: { arity: [0, ANY], fields: { body: program, policy, name: str } },
};

/**
 * Each primitive's schema compiled for `bind`, which is hot: one map lookup gives the field checks
 * in a list, their error labels ("prim: param key", made once) and the operand counts, so the
 * success path allocates nothing.
 */
interface Spec {
  readonly fields: Record<string, Field>;
  readonly keys: readonly string[];
  readonly checks: readonly Field[];
  readonly labels: readonly string[];
  readonly lo: number;
  readonly hi: number;
}
const SPECS = new Map<unknown, Spec>(
  PRIMS.map((p) => {
    const { fields, arity } = SCHEMAS[p];
    const keys = Object.keys(fields);
    return [p, { fields, keys, checks: keys.map((k) => fields[k]!), labels: keys.map((k) => `${p}: param ${k}`), lo: arity[0], hi: arity[1] }];
  }),
);

function specOf(prim: unknown, fn: string): Spec {
  const spec = SPECS.get(prim);
  if (spec === undefined) throw new ArgumentError(`${fn}: ${show(prim)} is not a primitive; use a member of Prim`);
  return spec;
}

function checkFields(prim: Prim, spec: Spec, params: unknown): void {
  if (!isPlain(params)) bad(`${prim}: params`, params, "a plain object");
  for (const key in params as object) {
    if (!Object.hasOwn(spec.fields, key))
      throw new ArgumentError(`${prim}: unknown param ${show(key)}; it takes ${spec.keys.map((k) => JSON.stringify(k)).join(", ") || "no params"}`);
  }
  const { keys, checks, labels } = spec;
  for (let i = 0; i < keys.length; i++) checks[i]!(labels[i]!, (params as Record<string, unknown>)[keys[i]!]);
}

function checkCount(prim: Prim, spec: Spec, args: readonly unknown[]): void {
  if (!Array.isArray(args)) bad(`${prim}: operands`, args, "an array");
  const { lo, hi } = spec;
  if (args.length < lo || args.length > hi) {
    throw new ArgumentError(`${prim}: takes ${lo === hi ? lo : hi === ANY ? `at least ${lo}` : `${lo} to ${hi}`} operand(s), got ${args.length}`);
  }
}

/** Checks a primitive name and its static params; throws a typed error naming the bad field. */
export function checkParams<P extends Prim>(prim: P, params: PrimParams[P], fn = "bind"): void {
  checkFields(prim, specOf(prim, fn), params);
}

/** Checks that `prim` gets as many operands as it takes. */
export function checkArity(prim: Prim, args: readonly unknown[]): void {
  checkCount(prim, specOf(prim, "bind"), args);
}

/** Checks a bind: the primitive, its params, and its operands (NDArrays, as many as it takes). */
export function checkBind<P extends Prim>(prim: P, params: PrimParams[P], args: readonly unknown[]): void {
  const spec = specOf(prim, "bind");
  checkFields(prim, spec, params);
  checkCount(prim, spec, args);
  for (let i = 0; i < args.length; i++) if (!(args[i] instanceof NDArray)) bad(`${prim}: operand ${i}`, args[i], "an NDArray");
}

/** Programs already checked (the staging interpreter builds them from checked binds, but a user may construct one). */
const checked = new WeakSet<object>();

interface LooseVar {
  aval?: unknown;
}
interface LooseEqn {
  prim?: unknown;
  inputs?: unknown;
  params?: unknown;
  outvars?: unknown;
}
interface LooseProgram {
  constvars?: unknown;
  invars?: unknown;
  eqns?: unknown;
  outvars?: unknown;
}

/**
 * Checks a closed program param: its structure, every variable's aval, and every equation's
 * primitive and params (recursively), once per program object.
 */
function checkClosedProgram(where: string, cp: unknown): void {
  if (typeof cp !== "object" || cp === null) bad(where, cp, "a closed program { program, consts }");
  const { program: p, consts } = cp as { program?: unknown; consts?: unknown };
  if (!Array.isArray(consts) || !consts.every((c) => c instanceof NDArray)) bad(`${where}.consts`, consts, "an array of NDArrays");
  if (typeof p !== "object" || p === null) bad(`${where}.program`, p, "a Program");
  if (checked.has(p as object)) return;
  const prog = p as LooseProgram;
  const vars = (what: string, vs: unknown): void => {
    if (!Array.isArray(vs)) bad(`${where}: ${what}`, vs, "an array of variables");
    (vs as LooseVar[]).forEach((v, i) => {
      if (typeof v !== "object" || v === null) bad(`${where}: ${what}[${i}]`, v, "a variable");
      aval(`${where}: ${what}[${i}].aval`, v.aval);
    });
  };
  vars("constvars", prog.constvars);
  vars("invars", prog.invars);
  vars("outvars", prog.outvars);
  if ((prog.constvars as unknown[]).length !== (consts as unknown[]).length) {
    throw new ArgumentError(`${where}: ${(prog.constvars as unknown[]).length} constvars but ${(consts as unknown[]).length} consts`);
  }
  if (!Array.isArray(prog.eqns)) bad(`${where}: eqns`, prog.eqns, "an array of equations");
  (prog.eqns as LooseEqn[]).forEach((e, k) => {
    if (typeof e !== "object" || e === null) bad(`${where}: eqns[${k}]`, e, "an equation");
    checkParams(e.prim as Prim, e.params as never);
    vars(`eqns[${k}].inputs`, e.inputs);
    vars(`eqns[${k}].outvars`, e.outvars);
  });
  checked.add(p as object);
}
