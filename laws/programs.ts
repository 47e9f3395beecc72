/**
 * Random programs as data. fast-check draws a `ProgramSpec` — input shapes and a list of steps, each
 * a few small numbers (which op, which earlier values, a choice of params) — and `realize` turns
 * any spec into a well-typed `Program` by planning each op from the shapes alone (an op that does
 * not fit yields to another). Shrinking a spec (fewer steps, op 0 = `sin`, operand 0
 * = the latest value, smaller shapes) therefore always gives a valid, smaller program.
 * `runProgram` interprets a program with the public API; `printProgram` writes it as code.
 */
import fc from "fast-check";
import { ArgumentError, type NDArray } from "../src/index.js";
import { type Builder, Code, evalBuilder, printBuilder } from "./builder.js";
import { type Case, makeCase } from "./cases.js";
import { fromHost } from "./numeric.js";
import { contractionOps } from "./ops_contraction.js";
import { MAX_SIZE, type OpDef, type Shape, binaryOps, sizeOf, unaryOps } from "./ops_elementwise.js";
import { higherOrderOps } from "./ops_higher_order.js";
import { axisOps, reductionOps, shapeOps } from "./ops_structural.js";

/**
 * Every op a random program may use (the first, `sin`, is what shrinking tends to).
 *
 * @example
 * console.log(OPS.map((o) => o.name).join(" ")); // sin cos tanh ... jit checkpoint cond customJvp scan
 */
export const OPS: readonly OpDef[] = [...unaryOps, ...binaryOps, ...reductionOps, ...axisOps, ...shapeOps, ...contractionOps, ...higherOrderOps];
const byName = new Map(OPS.map((o) => [o.name, o]));
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
  /** Value ids of the operands: inputs are 0..n-1, then one id per op. */
  readonly args: readonly number[];
  readonly params: unknown;
  readonly shape: Shape;
}

export interface Program {
  readonly dtype: FloatDType;
  readonly inputs: readonly Shape[];
  readonly ops: readonly OpCall[];
  /** Value ids returned: every op result no later op reads. */
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
  if (spec.inputs.length === 0) throw new ArgumentError("laws.realize: a program needs at least one input");
  const shapes: Shape[] = spec.inputs.map((s) => s.slice());
  const ops: OpCall[] = [];
  for (const step of spec.steps) {
    const pick = (k: number) => shapes.length - 1 - (k % shapes.length);
    for (let k = 0; k < OPS.length; k++) {
      const def = OPS[(step.op + k * STRIDE) % OPS.length]!;
      const args = def.arity === 1 ? [pick(step.a)] : [pick(step.a), pick(step.b)];
      const plan = def.plan(args.map((i) => shapes[i]!), step.choice);
      if (plan === null || sizeOf(plan.shape) > MAX_SIZE) continue;
      ops.push({ op: def.name, args, params: plan.params, shape: plan.shape });
      shapes.push(plan.shape);
      break;
    }
  }
  const n = spec.inputs.length;
  const used = new Set(ops.flatMap((o) => o.args));
  const outputs = ops.map((_, i) => n + i).filter((id) => !used.has(id));
  return { dtype: spec.dtype, inputs: shapes.slice(0, n), ops, outputs: outputs.length ? outputs : [n - 1] };
}

function interpret<T>(p: Program, b: Builder<T>, xs: readonly T[], check?: (v: T, op: OpCall) => void): T[] {
  const values = xs.slice();
  for (const op of p.ops) {
    const v = byName.get(op.op)!.build(b, op.args.map((i) => values[i]!), op.params);
    check?.(v, op);
    values.push(v);
  }
  return p.outputs.map((i) => values[i]!);
}

/**
 * Runs a program on arrays of its input shapes: one output, or a list of them.
 *
 * @example
 * const y = runProgram(p, np.ones([2, 3], "float64"));
 */
export function runProgram(p: Program, ...xs: NDArray[]): NDArray | NDArray[] {
  if (xs.length !== p.inputs.length) throw new Error(`runProgram: the program takes ${p.inputs.length} inputs, got ${xs.length}`);
  const outs = interpret(p, evalBuilder(xs[0]!.dtype), xs, (v, op) => {
    if (v.shape.join() !== op.shape.join()) throw new Error(`runProgram: op ${op.op} made shape [${v.shape}], its plan said [${op.shape}]`);
  });
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
  const n = p.inputs.length;
  const name = (id: number) => new Code(id < n ? `x${id}` : `v${id}`);
  const b = printBuilder();
  const body = p.ops.map((op, i) =>
    `  const v${n + i} = ${byName.get(op.op)!.build(b, op.args.map(name), op.params).code}; // ${op.op} -> [${op.shape}]`);
  const ret = p.outputs.map((id) => name(id).code);
  const sig = p.inputs.map((s, i) => `x${i}: ${short(p.dtype)}[${s}]`).join(", ");
  return [`(${p.inputs.map((_, i) => `x${i}`).join(", ")}) => { // ${sig}`, "  const dt = x0.dtype;", ...body,
    `  return ${ret.length === 1 ? ret[0] : `[${ret.join(", ")}]`};`, "}"].join("\n");
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
}

/**
 * Specs of random programs: the raw draw that `realize` turns into a program (and that fast-check
 * shrinks).
 *
 * @example
 * const small = programSpec({ maxInputs: 1, maxOps: 3, dtypes: ["float64"] }).map(realize);
 */
export function programSpec(o: ProgramOptions = {}): fc.Arbitrary<ProgramSpec> {
  const bad = Object.entries({ minInputs: o.minInputs, maxInputs: o.maxInputs, maxOps: o.maxOps, maxDim: o.maxDim })
    .find(([, v]) => v !== undefined && !(Number.isInteger(v) && v >= 1));
  if (bad) throw new ArgumentError(`laws.programSpec: ${bad[0]} must be an integer >= 1, got ${bad[1]}`);
  const shape = fc.array(fc.integer({ min: 1, max: o.maxDim ?? 3 }), { maxLength: o.maxRank ?? 3 });
  return fc.record({
    dtype: fc.constantFrom(...(o.dtypes ?? (["float64", "float32"] as const))),
    inputs: fc.array(shape, { minLength: o.minInputs ?? 1, maxLength: o.maxInputs ?? 3 }),
    steps: fc.array(fc.record({ op: fc.nat({ max: OPS.length - 1 }), a: fc.nat({ max: 7 }), b: fc.nat({ max: 7 }), choice: fc.nat({ max: 0xffff }) }),
      { minLength: 1, maxLength: o.maxOps ?? 8 }),
  });
}

/**
 * Random well-typed programs drawn from the whole op menu.
 *
 * @example
 * fc.assert(fc.property(arb.program(), (p) => p.ops.length >= 1));
 */
export const program = (o: ProgramOptions = {}): fc.Arbitrary<Program> => programSpec(o).map(realize);

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
 * Cases of random programs: a program, its inputs (values in [-2.5, 2.5] from a shrinkable pool),
 * and two more examples for the vmap laws. Counterexamples print as the program's code.
 *
 * @example
 * for (const law of LAWS) assertLaw(law, programCases({ maxOps: 4 }), { numRuns: 300 });
 */
export function programCases(o: ProgramOptions = {}): fc.Arbitrary<ProgramCase> {
  const pool = fc.array(fc.double({ min: -2.5, max: 2.5, noNaN: true, noDefaultInfinity: true }), { minLength: POOL, maxLength: POOL });
  return fc.tuple(programSpec(o), pool).map(([spec, values]) => {
    const p = realize(spec);
    const example = (b: number) => p.inputs.map((s, i) => fromHost(Array.from({ length: sizeOf(s) }, (_, j) => values[(b * 13 + i * 7 + j) % POOL]!), s, p.dtype));
    const f = (...xs: NDArray[]) => runProgram(p, ...xs);
    return { ...makeCase({ f, args: example(0), batch: [example(1), example(2)], source: printProgram(p) }), program: p };
  });
}
