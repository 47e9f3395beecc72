/**
 * fluxion: composable function transformations for TypeScript. This module names every public
 * export; see API.md for the contract.
 */
import "./np/methods.js";
import "./np/iterate.js";
import "./api/devices.js";

import * as np from "./np/index.js";
import * as nn from "./nn.js";
import * as random from "./random.js";
import * as linalg from "./linalg.js";
import * as lax from "./lax.js";
import { special, stats } from "./scipy.js";
import {
  flatten,
  flattenWithPath,
  leaves,
  map,
  mapWithPath,
  all,
  reduce,
  registerNode,
  structure,
  transpose,
  unflatten,
  TreeDef,
  type PathKey,
} from "./tree.js";
import type { ArgsAt, Argnums, ArrayTree, AuxOf, Fn, Inputs, Jacobian, LeafOf, MapLeaves, Tree } from "./types.js";

/** Pytree utilities. */
const tree: Tree = { flatten, unflatten, map, leaves, registerNode, structure, all, reduce, transpose, flattenWithPath, mapWithPath };

/** JAX's jax.scipy: `scipy.special` and `scipy.stats`. */
const scipy = { special, stats };

export { np, nn, random, lax, tree, scipy, TreeDef, linalg };
export type { ArgsAt, Argnums, ArrayTree, AuxOf, Fn, Inputs, Jacobian, LeafOf, MapLeaves, PathKey, Tree };
export * as optim from "./optim.js";
export * as debug from "./debug.js";
export * as io from "./io.js";
export { stopGradient } from "./np/math.js";
export { NDArray, Tracer, Tag, type Aval } from "./core/ndarray.js";
export type { DType } from "./core/dtype.js";
export {
  FluxionError,
  ShapeError,
  DTypeError,
  ArgumentError,
  EscapedTracerError,
  ConcretizationError,
  BatchError,
  LinearityError,
} from "./core/errors.js";
export { type Interpreter, bind, bind1, withInterpreter, currentInterpreter } from "./core/interpreter.js";
export { Prim, type PrimParams } from "./core/prim.js";
export { checkedAbstractEval as abstractEval } from "./core/abstract_eval.js";
export { jvp, vjp, linearize, grad, valueAndGrad, type GradOptions } from "./api/autodiff.js";
export { vmap, type VmapOptions } from "./api/vmap.js";
export { jacfwd, jacrev, hessian, type JacOptions } from "./api/jacobians.js";
export { jit, makeJaxpr, StagedProgram, type JitOptions } from "./api/jit.js";
export { devices } from "./api/devices.js";
export { evalShape, linearTranspose, ShapeDtypeStruct } from "./api/shapes_and_transpose.js";
export { DeviceArray, DeviceError, NotOnDeviceError, type Backend, registerBackend } from "./core/device.js";
export { customJvp, customVjp, checkpoint, checkpointChain, type CheckpointOptions } from "./api/custom.js";
export { Program, type ClosedProgram } from "./ir/ir.js";
export { exportOnnx, exportOnnxWith, ONNX_OPSET, type ExportOnnxOptions } from "./export/onnx.js";
export { ExportError } from "./export/onnx_graph.js";
