/**
 * The part of ONNX's protobuf schema (onnx/onnx.proto, IR version 8) that an exported model uses,
 * as a protobufjs reflection descriptor: models, graphs, nodes, attributes, tensors and value
 * types. Field numbers are those of the ONNX specification; messages and fields an exporter never
 * writes (sparse tensors, training info, functions) are left out, which protobuf allows.
 * Encoding is protobufjs's; this module only describes the messages.
 */
import protobuf from "protobufjs/light.js";

type Fields = Record<string, { type: string; id: number; rule?: "repeated" }>;

const one = (type: string, id: number) => ({ type, id });
const many = (type: string, id: number) => ({ type, id, rule: "repeated" as const });

const MESSAGES: Record<string, Fields> = {
  ModelProto: {
    irVersion: one("int64", 1),
    producerName: one("string", 2),
    producerVersion: one("string", 3),
    domain: one("string", 4),
    modelVersion: one("int64", 5),
    docString: one("string", 6),
    graph: one("GraphProto", 7),
    opsetImport: many("OperatorSetIdProto", 8),
    metadataProps: many("StringStringEntryProto", 14),
  },
  OperatorSetIdProto: { domain: one("string", 1), version: one("int64", 2) },
  StringStringEntryProto: { key: one("string", 1), value: one("string", 2) },
  GraphProto: {
    node: many("NodeProto", 1),
    name: one("string", 2),
    initializer: many("TensorProto", 5),
    docString: one("string", 10),
    input: many("ValueInfoProto", 11),
    output: many("ValueInfoProto", 12),
    valueInfo: many("ValueInfoProto", 13),
  },
  NodeProto: {
    input: many("string", 1),
    output: many("string", 2),
    name: one("string", 3),
    opType: one("string", 4),
    attribute: many("AttributeProto", 5),
    docString: one("string", 6),
    domain: one("string", 7),
  },
  AttributeProto: {
    name: one("string", 1),
    f: one("float", 2),
    i: one("int64", 3),
    s: one("bytes", 4),
    t: one("TensorProto", 5),
    g: one("GraphProto", 6),
    floats: many("float", 7),
    ints: many("int64", 8),
    strings: many("bytes", 9),
    type: one("int32", 20),
  },
  TensorProto: {
    dims: many("int64", 1),
    dataType: one("int32", 2),
    name: one("string", 8),
    rawData: one("bytes", 9),
  },
  ValueInfoProto: { name: one("string", 1), type: one("TypeProto", 2) },
  TypeProto: { tensorType: one("TypeProtoTensor", 1) },
  TypeProtoTensor: { elemType: one("int32", 1), shape: one("TensorShapeProto", 2) },
  TensorShapeProto: { dim: many("TensorShapeProtoDimension", 1) },
  TensorShapeProtoDimension: { dimValue: one("int64", 1) },
};

/** AttributeProto.AttributeType values used by the exporter. */
export const ATTR = { FLOAT: 1, INT: 2, STRING: 3, TENSOR: 4, GRAPH: 5, FLOATS: 6, INTS: 7 } as const;

/** TensorProto.DataType values of fluxion's dtypes (and INT64 for shapes and indices). */
export const ELEM = { FLOAT: 1, UINT8: 2, INT32: 6, INT64: 7, BOOL: 9, DOUBLE: 11, UINT32: 12 } as const;

let root: protobuf.Root | null = null;

/** The ModelProto message type (built once). */
export function modelType(): protobuf.Type {
  if (root === null) {
    const nested: Record<string, { fields: Fields }> = {};
    for (const [name, fields] of Object.entries(MESSAGES)) nested[name] = { fields };
    root = protobuf.Root.fromJSON({ nested: { onnx: { nested } } });
  }
  return root.lookupType("onnx.ModelProto");
}
