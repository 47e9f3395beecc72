/**
 * `exportOnnx`: stages a function for its example arguments' shapes (as `makeJaxpr` does) and writes
 * the program as an ONNX model (opset 18). Each equation is lowered by `onnxRules`; calls, checkpoint
 * blocks and custom-derivative calls are inlined, `cond` becomes nested `If`s, `while` and `scan`
 * become `Loop`s. Constants become initializers. Gradients are programs too, so a training step
 * (`jit(valueAndGrad(loss))`) exports like any other function.
 */
import { ArgumentError, describe } from "../core/errors.js";
import { ConcreteArray, NDArray } from "../core/ndarray.js";
import type { ClosedProgram, Var } from "../ir/ir.js";
import { makeJaxpr } from "../api/jit.js";
import { ExportError, GraphBuilder, ModelState, valueInfo } from "./onnx_graph.js";
import { onnxRules, type Lowering, type LowerProgram } from "./onnx_rules.js";
import { modelType } from "./onnx_schema.js";
import type { Fn, Inputs } from "../types.js";

type LooseFn = (...args: any[]) => unknown;

/** The ONNX opset an exported model imports. */
export const ONNX_OPSET = 18;

export interface ExportOnnxOptions {
  /** Names of the model's inputs, one per array leaf of the arguments (default input_0, input_1, ...). */
  inputNames?: string[];
  /** Names of the model's outputs, one per array leaf of the result (default output_0, ...). */
  outputNames?: string[];
}

/** Names the caller may choose: identifiers, as in most ONNX tools. */
const NAME = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;

function checkNames(fn: string, which: "inputNames" | "outputNames", names: unknown, count: number, defaults: string): string[] {
  if (names === undefined) return Array.from({ length: count }, (_, i) => `${defaults}_${i}`);
  if (!Array.isArray(names) || names.length !== count || !names.every((n) => typeof n === "string" && NAME.test(n)))
    throw new ArgumentError(
      `${fn}: options.${which} must be ${count} distinct identifiers (letters, digits, _; at most 64), one per array leaf, got ${describe(names)}`,
    );
  if (new Set(names).size !== names.length) throw new ArgumentError(`${fn}: options.${which} must be distinct, got ${describe(names)}`);
  return names as string[];
}

/** The values of a constant on the host; a device constant is a typed error. */
function hostValues(fn: string, c: NDArray): ArrayLike<number> {
  if (!(c instanceof ConcreteArray))
    throw new ExportError(`${fn}: a constant of the program (${c.dtype}[${c.shape}]) is on a device; move it to the cpu with x.to("cpu") first`);
  return c.values;
}

/** Lowers a closed program into `g`, given names for its inputs; returns the names of its outputs. */
const lowerProgram: LowerProgram = (g, cp: ClosedProgram, inputs) => {
  const p = cp.program;
  const env = new Map<Var, string>();
  p.constvars.forEach((v, i) => env.set(v, g.model.constant(hostValues("exportOnnx", cp.consts[i]!), v.aval.shape, v.aval.dtype)));
  p.invars.forEach((v, i) => env.set(v, inputs[i]!));
  for (const e of p.eqns) {
    const rule = onnxRules[e.prim] as Lowering<typeof e.prim>;
    const outs = rule(
      g,
      e.inputs.map((v) => env.get(v)!),
      e,
      lowerProgram,
    );
    e.outvars.forEach((v, i) => env.set(v, outs[i]!));
  }
  return p.outvars.map((v) => env.get(v)!);
};

/**
 * Exports `f` staged for `exampleArgs` (pytrees of arrays and numbers) as an ONNX ModelProto. The
 * model's inputs are the arguments' array leaves in `tree.flatten` order, its outputs the result's
 * leaves; shapes and dtypes are fixed by the examples (float64 is DOUBLE). For input/output names
 * use `exportOnnxWith(f, options, ...args)`. A primitive ONNX cannot express raises `ExportError`.
 *
 * @example
 * const bytes = exportOnnx((x: NDArray) => np.tanh(x).sum(), np.ones([3]));
 * const session = await ort.InferenceSession.create(bytes); // onnxruntime-node or -web
 */
export function exportOnnx<F extends Fn>(f: F, ...exampleArgs: Inputs<Parameters<F>>): Uint8Array;
export function exportOnnx(f: LooseFn, ...exampleArgs: unknown[]): Uint8Array {
  return exportWith("exportOnnx", f, {}, exampleArgs);
}

/** `exportOnnx` with options (input and output names). */
export function exportOnnxWith<F extends Fn>(f: F, options: ExportOnnxOptions, ...exampleArgs: Inputs<Parameters<F>>): Uint8Array;
export function exportOnnxWith(f: LooseFn, options: ExportOnnxOptions, ...exampleArgs: unknown[]): Uint8Array {
  return exportWith("exportOnnxWith", f, options, exampleArgs);
}

function exportWith(fn: string, f: LooseFn, options: ExportOnnxOptions, exampleArgs: unknown[]): Uint8Array {
  if (typeof f !== "function") throw new ArgumentError(`${fn}: f must be a function, got ${describe(f)}`);
  if (typeof options !== "object" || options === null)
    throw new ArgumentError(`exportOnnxWith: options must be an object { inputNames?, outputNames? }, got ${describe(options)}`);
  for (const k of Object.keys(options))
    if (k !== "inputNames" && k !== "outputNames") throw new ArgumentError(`exportOnnxWith: unknown option ${JSON.stringify(k.slice(0, 40))}`);
  const staged = makeJaxpr(f as Fn)(...(exampleArgs as []));
  const p = staged.program;
  const inNames = checkNames(fn, "inputNames", options.inputNames, p.invars.length, "input");
  const outNames = checkNames(fn, "outputNames", options.outputNames, p.outvars.length, "output");
  const model = new ModelState();
  const g = new GraphBuilder(model);
  const outs = lowerProgram(g, staged, inNames);
  // Graph outputs get their chosen names through Identity (an output may also be an input or constant).
  outs.forEach((o, i) => g.nodes.push({ opType: "Identity", input: [o], output: [outNames[i]!] }));
  const graph = {
    ...g.graph(
      p.invars.map((v, i) => valueInfo(inNames[i]!, v.aval)),
      p.outvars.map((v, i) => valueInfo(outNames[i]!, v.aval)),
    ),
    initializer: model.initializers,
  };
  const T = modelType();
  const msg = T.fromObject({ irVersion: 8, producerName: "fluxion", opsetImport: [{ domain: "", version: ONNX_OPSET }], graph });
  return T.encode(msg).finish();
}
