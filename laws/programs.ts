/**
 * Random programs as data. fast-check draws a `ProgramSpec` — input shapes and a list of steps, each
 * a few small numbers (which op, which earlier values, a choice of params) — and `realize` turns
 * any spec into a well-typed `Program` by planning each op from the shapes alone (an op that does
 * not fit yields to another). A higher-order op (jit, checkpoint, cond, scan, customJvp) takes the
 * steps after it as its body, a sub-program that may itself hold higher-order ops (up to
 * `MAX_DEPTH` deep) and may read values of the enclosing program (closures). Shrinking a spec
 * (fewer steps, op 0 = `sin`, operand 0 = the latest value, smaller shapes) therefore always gives
 * a valid, smaller program. `runProgram` interprets a program with the public API;
 * `printProgram` writes it as code.
 */
import fc from "fast-check";
import { ArgumentError, NDArray } from "../src/index.js";
import { type Builder, Code, evalBuilder, printBuilder } from "./builder.js";
import { type Case, makeCase } from "./cases.js";
import { fromHost } from "./numeric.js";
import { needOptions, show } from "./validate.js";
import { contractionOps } from "./ops_contraction.js";
import { linalgOps } from "./ops_linalg.js";
import { convOps } from "./ops_conv.js";
import { MAX_SIZE, type OpDef, type RegionOpDef, type Shape, binaryOps, sizeOf, unaryOps } from "./ops_elementwise.js";
import { higherOrderOps, regionOps } from "./ops_higher_order.js";
import { indexingOps } from "./ops_indexing.js";
import { axisOps, reductionOps, shapeOps } from "./ops_structural.js";
import { randomOps } from "./ops_random.js";
import { numpyOps } from "./ops_numpy.js";

/**
 * Every op a random program may use (the first, `sin`, is what shrinking tends to).
 *
 * @example
 * console.log(OPS.map((o) => o.name).join(" ")); // sin cos tanh ... jit checkpoint cond customJvp scan
 */
export const OPS: readonly (OpDef | RegionOpDef)[] = [
  ...unaryOps,
  ...binaryOps,
  ...reductionOps,
  ...axisOps,
  ...shapeOps,
  ...contractionOps,
  ...indexingOps,
  ...randomOps,
  ...linalgOps,
  ...convOps,
  ...numpyOps,
  ...higherOrderOps,
  ...regionOps,
];
const byName = new Map(OPS.map((o) => [o.name, o]));
const isRegion = (o: OpDef | RegionOpDef): o is RegionOpDef => "bodyInput" in o;
/** Indices of the higher-order ops that take a body (what `nesting` draws more often). */
const REGION_OPS = OPS.flatMap((o, i) => (isRegion(o) ? [i] : []));
/** How deep higher-order ops nest. */
export const MAX_DEPTH = 3;
const gcd = (a: number, b: number): number => (b === 0 ? a : gcd(b, a % b));
/** An op that does not fit yields to the op STRIDE places on (coprime with the menu size, so all are tried). */
const STRIDE = [17, 19, 23, 29].find((k) => gcd(k, OPS.length) === 1)!;

export type FloatDType = "float32" | "float64";

export interface ProgramSpec {
  dtype: FloatDType;
  inputs: number[][];
  steps: { op: number; a: number; b: number; choice: number }[];
}

export interface OpCall {
  readonly op: string;
  /** This op's value id: inputs are 0..n-1, then one id per op and per body parameter. */
  readonly id: number;
  /** Value ids of the operands (earlier values of this body or of an enclosing one). */
  readonly args: readonly number[];
  readonly params: unknown;
  readonly shape: Shape;
  /** A higher-order op's body. */
  readonly body?: Body;
}

/** A sub-program: a function of one parameter whose result is `output`. */
export interface Body {
  readonly param: number;
  readonly ops: readonly OpCall[];
  readonly output: number;
}

export interface Program {
  readonly dtype: FloatDType;
  readonly inputs: readonly Shape[];
  readonly ops: readonly OpCall[];
  /** Value ids returned: every top-level op result no op reads. */
  readonly outputs: readonly number[];
}

/**
 * The program a spec describes (any spec gives a well-typed program).
 *
 * @example
 * const p = realize({ dtype: "float64", inputs: [[2, 3]], steps: [{ op: 0, a: 0, b: 0, choice: 0 }] });
 * printProgram(p); // (x0) => { ... const v1 = np.sin(x0); ... return v1; }
 */
export function realize(spec: ProgramSpec): Program {
  checkSpec("laws.realize", spec);
  const n = spec.inputs.length;
  const shapes = new Map<number, Shape>(spec.inputs.map((s, i) => [i, s.slice()]));
  let nextId = n,
    pos = 0;
  /** Plans steps into ops of one body, reading `visible` values, until `budget` steps are used. */
  const scope = (visible: number[], depth: number, budget: number): OpCall[] => {
    const ops: OpCall[] = [];
    const seen = visible.slice();
    for (let used = 0; used < budget && pos < spec.steps.length; used++) {
      const step = spec.steps[pos++]!;
      const pick = (k: number) => seen[seen.length - 1 - (k % seen.length)]!;
      for (let k = 0; k < OPS.length; k++) {
        const def = OPS[(step.op + k * STRIDE) % OPS.length]!;
        let call: OpCall | null;
        if (isRegion(def)) {
          const start = pos;
          call = depth < MAX_DEPTH ? planRegion(def, pick(step.a), step.choice, seen, depth) : null;
          if (call === null) pos = start;
        } else {
          const args = def.arity === 1 ? [pick(step.a)] : [pick(step.a), pick(step.b)];
          const plan = def.plan(
            args.map((i) => shapes.get(i)!),
            step.choice,
          );
          call = plan === null || sizeOf(plan.shape) > MAX_SIZE ? null : { op: def.name, id: nextId++, args, params: plan.params, shape: plan.shape };
        }
        if (call === null) continue;
        ops.push(call);
        shapes.set(call.id, call.shape);
        seen.push(call.id);
        break;
      }
    }
    return ops;
  };
  const planRegion = (def: RegionOpDef, arg: number, choice: number, visible: number[], depth: number): OpCall | null => {
    const inShape = def.bodyInput(shapes.get(arg)!);
    if (inShape === null) return null;
    const param = nextId++;
    shapes.set(param, inShape);
    // 1 to 3 of the following steps make the body (fewer if the spec runs out).
    const ops = scope(def.closes ? [...visible, param] : [param], depth + 1, 1 + ((choice >> 10) % 3));
    const output = ops.length ? ops[ops.length - 1]!.id : param;
    const plan = def.plan(shapes.get(arg)!, shapes.get(output)!, choice);
    if (plan === null || sizeOf(plan.shape) > MAX_SIZE) return null;
    return { op: def.name, id: nextId++, args: [arg], params: plan.params, shape: plan.shape, body: { param, ops, output } };
  };
  const ops = scope(range(n), 0, Infinity);
  const read = new Set<number>();
  const collect = (os: readonly OpCall[]): void =>
    os.forEach((o) => {
      o.args.forEach((a) => read.add(a));
      if (o.body) collect(o.body.ops);
    });
  collect(ops);
  const outputs = ops.map((o) => o.id).filter((id) => !read.has(id));
  const program: Program = { dtype: spec.dtype, inputs: spec.inputs.map((s) => s.slice()), ops, outputs: outputs.length ? outputs : [n - 1] };
  realized.add(program);
  return program;
}

/** Programs made by `realize`: the only ones `runProgram` and `printProgram` take. */
const realized = new WeakSet<Program>();

const isNat = (v: unknown, max = Number.MAX_SAFE_INTEGER): v is number => typeof v === "number" && Number.isInteger(v) && v >= 0 && v <= max;

/** A spec from any source (a user, a shrinker): every field in range, else an ArgumentError naming it. */
function checkSpec(fn: string, spec: unknown): asserts spec is ProgramSpec {
  const bad = (what: string, v: unknown) => new ArgumentError(`${fn}: spec.${what} ${v}`);
  if (typeof spec !== "object" || spec === null)
    throw new ArgumentError(`${fn}: spec must be a ProgramSpec object ({ dtype, inputs, steps }), got ${show(spec)}`);
  const { dtype, inputs, steps } = spec as Partial<Record<keyof ProgramSpec, unknown>>;
  if (dtype !== "float32" && dtype !== "float64") throw bad("dtype", `must be "float32" or "float64", got ${show(dtype)}`);
  if (!Array.isArray(inputs) || inputs.length === 0) throw bad("inputs", `must be a non-empty array of shapes, got ${show(inputs)}`);
  inputs.forEach((s: unknown, i) => {
    if (!Array.isArray(s) || s.length > 8 || !s.every((d) => isNat(d, 64)) || sizeOf(s) > MAX_SIZE) {
      throw bad(`inputs[${i}]`, `must be a shape of at most 8 dims, each 0 to 64, at most ${MAX_SIZE} elements, got ${show(s)}`);
    }
  });
  if (!Array.isArray(steps)) throw bad("steps", `must be an array, got ${show(steps)}`);
  steps.forEach((st: unknown, i) => {
    const r = st as Partial<Record<"op" | "a" | "b" | "choice", unknown>> | null;
    if (typeof r !== "object" || r === null || !isNat(r.op) || !isNat(r.a) || !isNat(r.b) || !isNat(r.choice)) {
      throw bad(`steps[${i}]`, `must be { op, a, b, choice } of non-negative integers, got ${show(st)}`);
    }
  });
}

function checkProgram(fn: string, p: unknown): asserts p is Program {
  if (typeof p !== "object" || p === null || !realized.has(p as Program)) {
    throw new ArgumentError(`${fn}: program must be one made by realize or drawn from arb.program / arb.programCases, got ${show(p)}`);
  }
}

const range = (n: number) => Array.from({ length: n }, (_, i) => i);

/** Runs ops on `b`, naming each result; a higher-order op's body runs when its primitive calls it. */
function interpret<T>(ops: readonly OpCall[], b: Builder<T>, env: Map<number, T>, check?: (v: T, op: OpCall) => void, top = false): void {
  for (const op of ops) {
    const def = byName.get(op.op)!;
    const xs = op.args.map((i) => env.get(i)!);
    let v: T;
    if (isRegion(def)) {
      const body = op.body!;
      v = def.build(b, xs[0]!, op.params, (a) => {
        env.set(body.param, b.name(body.param, a));
        interpret(body.ops, b, env, check);
        return env.get(body.output)!;
      });
    } else v = def.build(b, xs, op.params);
    check?.(v, op);
    env.set(op.id, b.name(op.id, v, top ? `${op.op} -> [${op.shape}]` : undefined));
  }
}

/**
 * Runs a program on arrays of its input shapes: one output, or a list of them.
 *
 * @example
 * const y = runProgram(p, np.ones([2, 3], "float64"));
 */
export function runProgram(p: Program, ...xs: NDArray[]): NDArray | NDArray[] {
  checkProgram("laws.runProgram", p);
  if (xs.length !== p.inputs.length) throw new ArgumentError(`laws.runProgram: the program takes ${p.inputs.length} inputs, got ${xs.length}`);
  xs.forEach((x, i) => {
    if (!(x instanceof NDArray) || x.shape.join() !== p.inputs[i]!.join() || (x.dtype !== "float32" && x.dtype !== "float64")) {
      throw new ArgumentError(
        `laws.runProgram: input ${i} must be a float array of shape [${p.inputs[i]}], got ${x instanceof NDArray ? `${x.dtype}[${x.shape}]` : show(x)}`,
      );
    }
  });
  const env = new Map<number, NDArray>(xs.map((x, i) => [i, x]));
  interpret(p.ops, evalBuilder(xs[0]!.dtype), env, (v, op) => {
    if (v.shape.join() !== op.shape.join()) throw new Error(`runProgram: op ${op.op} made shape [${v.shape}], its plan said [${op.shape}]`);
  });
  const outs = p.outputs.map((i) => env.get(i)!);
  return outs.length === 1 ? outs[0]! : outs;
}

const short = (d: FloatDType) => (d === "float32" ? "f32" : "f64");

/**
 * The program as a TypeScript arrow function over the public API (`np`, `nn`, `lax`, `bind1`,
 * `Prim`, `jit`, `checkpoint`, `customJvp`): paste a shrunk counterexample into a test and run it.
 *
 * @example
 * for (const p of fc.sample(arb.program(), 3)) console.log(printProgram(p));
 */
export function printProgram(p: Program): string {
  checkProgram("laws.printProgram", p);
  const n = p.inputs.length;
  const b = printBuilder();
  const env = new Map<number, Code>(p.inputs.map((_, i) => [i, new Code(`x${i}`)]));
  interpret(p.ops, b, env, undefined, true);
  const ret = p.outputs.map((id) => env.get(id)!.code);
  const sig = p.inputs.map((s, i) => `x${i}: ${short(p.dtype)}[${s}]`).join(", ");
  return [
    `(${range(n)
      .map((i) => `x${i}`)
      .join(", ")}) => { // ${sig}`,
    "  const dt = x0.dtype;",
    ...b.statements().map((st) => `  ${st}`),
    `  return ${ret.length === 1 ? ret[0] : `[${ret.join(", ")}]`};`,
    "}",
  ].join("\n");
}

export interface ProgramOptions {
  /** Inputs per program (default 1 to 3). */
  minInputs?: number;
  maxInputs?: number;
  /** Ops per program (default 1 to 8). */
  maxOps?: number;
  /** Input rank and dimension bounds (default rank 0 to 3, dims 1 to 3). */
  maxRank?: number;
  maxDim?: number;
  /** Float dtypes to draw from (default both). */
  dtypes?: readonly FloatDType[];
  /**
   * How often a step draws a higher-order op that takes a body (jit, checkpoint, cond, scan,
   * customJvp), in [0, 1]; default 0: as often as any other op of the menu.
   */
  nesting?: number;
}

/**
 * Specs of random programs: the raw draw that `realize` turns into a program (and that fast-check
 * shrinks).
 *
 * @example
 * const small = programSpec({ maxInputs: 1, maxOps: 3, dtypes: ["float64"] }).map(realize);
 */
export function programSpec(options: ProgramOptions = {}): fc.Arbitrary<ProgramSpec> {
  return specs("laws.programSpec", options);
}

/** `programSpec` for the public function `fn` (named in its errors). */
function specs(fn: string, options: ProgramOptions | undefined): fc.Arbitrary<ProgramSpec> {
  const o = needOptions(fn, options);
  const limits = { minInputs: [o.minInputs, 16], maxInputs: [o.maxInputs, 16], maxOps: [o.maxOps, 1000], maxDim: [o.maxDim, 64] } as const;
  for (const [name, [v, max]] of Object.entries(limits)) {
    if (v !== undefined && !(isNat(v, max) && v >= 1)) throw new ArgumentError(`${fn}: ${name} must be an integer from 1 to ${max}, got ${show(v)}`);
  }
  if (o.maxRank !== undefined && !isNat(o.maxRank, 8))
    throw new ArgumentError(`${fn}: maxRank must be an integer from 0 to 8, got ${show(o.maxRank)}`);
  if (o.dtypes !== undefined && (!Array.isArray(o.dtypes) || o.dtypes.length === 0 || !o.dtypes.every((d) => d === "float32" || d === "float64"))) {
    throw new ArgumentError(`${fn}: dtypes must be a non-empty list of "float32" and "float64", got ${show(o.dtypes)}`);
  }
  if (o.nesting !== undefined && !(typeof o.nesting === "number" && o.nesting >= 0 && o.nesting <= 1)) {
    throw new ArgumentError(`${fn}: nesting must be a number in [0, 1], got ${show(o.nesting)}`);
  }
  const shape = fc.array(fc.integer({ min: 1, max: o.maxDim ?? 3 }), { maxLength: o.maxRank ?? 3 });
  return fc.record({
    dtype: fc.constantFrom(...(o.dtypes ?? (["float64", "float32"] as const))),
    inputs: fc.array(shape, { minLength: o.minInputs ?? 1, maxLength: o.maxInputs ?? 3 }),
    steps: fc.array(fc.record({ op: opIndex(o.nesting ?? 0), a: fc.nat({ max: 7 }), b: fc.nat({ max: 7 }), choice: fc.nat({ max: 0xffff }) }), {
      minLength: 1,
      maxLength: o.maxOps ?? 8,
    }),
  });
}

/** Op indices: uniform over the menu, or, with weight `nesting`, one of the ops that take a body. */
function opIndex(nesting: number): fc.Arbitrary<number> {
  const any = fc.nat({ max: OPS.length - 1 });
  if (nesting === 0) return any;
  const w = Math.round(nesting * 100);
  return fc.oneof({ arbitrary: any, weight: 100 - w }, { arbitrary: fc.constantFrom(...REGION_OPS), weight: w });
}

/**
 * Random well-typed programs drawn from the whole op menu.
 *
 * @example
 * fc.assert(fc.property(arb.program(), (p) => p.ops.length >= 1));
 */
export const program = (o: ProgramOptions = {}): fc.Arbitrary<Program> => specs("laws.arb.program", o).map(realize);

const POOL = 40;

/**
 * A case whose function is a random program (kept as data, for inspection).
 *
 * @example
 * const [c] = fc.sample(arb.programCases(), 1);
 * console.log(c.program.ops.length, c.source);
 */
export interface ProgramCase extends Case {
  readonly program: Program;
}

/**
 * Cases of random programs in which higher-order ops are common, so that jit, checkpoint, cond,
 * scan and customJvp nest inside each other (up to three deep) and their bodies close over values
 * of the enclosing program.
 *
 * @example
 * for (const law of LAWS) assertLaw(law, nestedProgramCases(), { numRuns: 300 });
 */
export const nestedProgramCases = (o: ProgramOptions = {}): fc.Arbitrary<ProgramCase> =>
  cases("laws.arb.nestedProgramCases", { nesting: 0.4, maxOps: 10, ...needOptions("laws.arb.nestedProgramCases", o) });

/**
 * Cases of random programs: a program, its inputs (values in [-2.5, 2.5] from a shrinkable pool),
 * and two more examples for the vmap laws. Counterexamples print as the program's code.
 *
 * @example
 * for (const law of LAWS) assertLaw(law, programCases({ maxOps: 4 }), { numRuns: 300 });
 */
export function programCases(o: ProgramOptions = {}): fc.Arbitrary<ProgramCase> {
  return cases("laws.arb.programCases", o);
}

function cases(fn: string, o: ProgramOptions | undefined): fc.Arbitrary<ProgramCase> {
  const pool = fc.array(fc.double({ min: -2.5, max: 2.5, noNaN: true, noDefaultInfinity: true }), { minLength: POOL, maxLength: POOL });
  return fc.tuple(specs(fn, o), pool).map(([spec, values]) => {
    const p = realize(spec);
    const example = (b: number) =>
      p.inputs.map((s, i) =>
        fromHost(
          Array.from({ length: sizeOf(s) }, (_, j) => values[(b * 13 + i * 7 + j) % POOL]!),
          s,
          p.dtype,
        ),
      );
    const f = (...xs: NDArray[]) => runProgram(p, ...xs);
    return { ...makeCase({ f, args: example(0), batch: [example(1), example(2)], source: printProgram(p) }), program: p };
  });
}
