/**
 * The table of primitive cases: for every `Prim`, cases that say how to build operands, the params,
 * which operands are differentiable and which are linear, and an independent float64 reference.
 * The mapped type is exhaustive: adding a primitive to the enum without a case does not compile.
 * The cases live in four files (elementwise, structural, higher-order calls, control flow); see
 * `cases_util.ts` for the case type.
 */
import type { Prim } from "../../src/index.js";
import type { PrimCase } from "./cases_util.js";
import { controlFlowCases } from "./control_flow_cases.js";
import { debugPrimCases } from "./debug_cases.js";
import { convCases } from "./conv_cases.js";
import { elementwiseCases } from "./elementwise_cases.js";
import { higherOrderCases } from "./higher_order_cases.js";
import { indexingCases } from "./indexing_cases.js";
import { randomCases } from "./random_cases.js";
import { linalgCases } from "./linalg_cases.js";
import { structuralCases } from "./structural_cases.js";

export type { CaseTol, ErrorSpec, FloatDType, Host, Mode, Operand, PrimCase } from "./cases_util.js";

export const primitiveCases: { [P in Prim]: PrimCase<P>[] } = {
  ...elementwiseCases,
  ...structuralCases,
  ...higherOrderCases,
  ...controlFlowCases,
  ...debugPrimCases,
  ...indexingCases,
  ...randomCases,
  ...linalgCases,
  ...convCases,
};
