/**
 * Building an ONNX graph: generated value names, nodes, constant tensors (initializers) and value
 * types. Every name in a model comes from `fresh` (a prefix from a fixed list plus a counter), so
 * no user text reaches the model except validated input/output names. Subgraphs (If branches,
 * Loop bodies) share the counter, so names are unique across the whole model.
 */
import { type DType } from "../core/dtype.js";
import { FluxionError } from "../core/errors.js";
import type { Aval } from "../core/ndarray.js";
import { ATTR, ELEM } from "./onnx_schema.js";

/** A program cannot be written as ONNX (a primitive or dtype ONNX cannot express, device constants). */
export class ExportError extends FluxionError {
  override name = "ExportError";
}

/** The ONNX element type of a fluxion dtype. */
export function elemType(dtype: DType | "int64"): number {
  switch (dtype) {
    case "float32":
      return ELEM.FLOAT;
    case "float64":
      return ELEM.DOUBLE;
    case "int32":
      return ELEM.INT32;
    case "bool":
      return ELEM.BOOL;
    case "int64":
      return ELEM.INT64;
  }
  if ((dtype as string) === "uint32") return ELEM.UINT32;
  throw new ExportError(`exportOnnx: dtype ${String(dtype)} has no ONNX element type`);
}

export type Attr = number | number[] | { graph: object } | { float: number } | { str: string };

/** A plain-object ValueInfoProto for a tensor of `aval`. */
export function valueInfo(name: string, aval: { shape: readonly number[]; dtype: DType | "int64" }): object {
  return { name, type: { tensorType: { elemType: elemType(aval.dtype), shape: { dim: aval.shape.map((d) => ({ dimValue: d })) } } } };
}

function encodeAttr(name: string, v: Attr): object {
  if (typeof v === "number") return { name, type: ATTR.INT, i: v };
  if (Array.isArray(v)) return { name, type: ATTR.INTS, ints: v };
  if ("graph" in v) return { name, type: ATTR.GRAPH, g: v.graph };
  if ("float" in v) return { name, type: ATTR.FLOAT, f: v.float };
  return { name, type: ATTR.STRING, s: new TextEncoder().encode(v.str) };
}

/** Little-endian bytes of `values` in `dtype` (ONNX raw_data layout; bools one byte each). */
export function rawBytes(values: ArrayLike<number>, dtype: DType | "int64"): Uint8Array {
  const n = values.length;
  switch (dtype) {
    case "float32":
      return new Uint8Array(Float32Array.from(values).buffer);
    case "float64":
      return new Uint8Array(Float64Array.from(values).buffer);
    case "int32":
      return new Uint8Array(Int32Array.from(values).buffer);
    case "int64": {
      const out = new BigInt64Array(n);
      for (let i = 0; i < n; i++) out[i] = BigInt(values[i]!);
      return new Uint8Array(out.buffer);
    }
    case "bool":
      return Uint8Array.from(values, (x) => (x ? 1 : 0));
  }
  if ((dtype as string) === "uint32") return new Uint8Array(Uint32Array.from(values).buffer);
  throw new ExportError(`exportOnnx: dtype ${String(dtype)} has no ONNX element type`);
}

/** Shared across a model and its subgraphs: the name counter and the initializers. */
export class ModelState {
  private next = 0;
  readonly initializers: object[] = [];
  /** A new value name: a fixed prefix and a number. */
  fresh(prefix: "v" | "c" | "g" = "v"): string {
    return `${prefix}${this.next++}`;
  }
  /** A constant tensor as an initializer of the main graph (visible in every subgraph). */
  constant(values: ArrayLike<number>, shape: readonly number[], dtype: DType | "int64"): string {
    const name = this.fresh("c");
    this.initializers.push({ name, dims: shape.slice(), dataType: elemType(dtype), rawData: rawBytes(values, dtype) });
    return name;
  }
}

/** One graph being built (the main graph or a subgraph): its nodes in topological order. */
export class GraphBuilder {
  readonly nodes: object[] = [];
  constructor(readonly model: ModelState) {}

  /** Emits `opType` on `inputs` ("" for an absent optional input); returns its `outputs` fresh names. */
  node(opType: string, inputs: readonly string[], attrs: Record<string, Attr> = {}, outputs = 1): string[] {
    const outs = Array.from({ length: outputs }, () => this.model.fresh());
    this.nodes.push({
      opType,
      input: inputs.slice(),
      output: outs,
      attribute: Object.entries(attrs).map(([k, v]) => encodeAttr(k, v)),
    });
    return outs;
  }
  /** A single-output node. */
  op(opType: string, inputs: readonly string[], attrs: Record<string, Attr> = {}): string {
    return this.node(opType, inputs, attrs)[0]!;
  }
  /** An int64 vector constant (shapes, axes, starts). */
  ints(values: readonly number[]): string {
    return this.model.constant(values, [values.length], "int64");
  }
  /** A scalar constant of `dtype`. */
  scalar(value: number, dtype: DType | "int64"): string {
    return this.model.constant([value], [], dtype);
  }
  cast(x: string, to: DType | "int64"): string {
    return this.op("Cast", [x], { to: elemType(to) });
  }
  reshape(x: string, shape: readonly number[]): string {
    return this.op("Reshape", [x, this.ints(shape)], { allowzero: 1 });
  }
  transpose(x: string, perm: readonly number[]): string {
    return perm.every((p, i) => p === i) ? x : this.op("Transpose", [x], { perm: perm.slice() });
  }
  /** A graph proto of this builder's nodes, with the given inputs and outputs. */
  graph(inputs: object[], outputs: object[]): object {
    return { name: this.model.fresh("g"), node: this.nodes, input: inputs, output: outputs };
  }
}

/** An aval's element count. */
export const sizeOf = (a: Pick<Aval, "shape">): number => a.shape.reduce((p, d) => p * d, 1);
