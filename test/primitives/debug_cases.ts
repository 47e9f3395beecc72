/**
 * The case of `debug_callback`: no outputs, so the table's checks are that binding it works in
 * every mode (value, jvp, vjp, vmap) and yields nothing. What the callback sees under each
 * transform is tested in test/debug/debug.test.ts.
 */
import { Prim } from "../../src/index.js";
import { type PrimCase, uni } from "./cases_util.js";

const debugCases: PrimCase<Prim.DebugCallback>[] = [
  {
    name: "a callback of two operands (no outputs)",
    make: (rng, fdt) => [uni(rng, [2, 3], fdt), uni(rng, [3], fdt)],
    params: { callback: () => {}, name: "noop" },
    ref: () => [],
    diff: [0, 1],
    zeroDerivative: true,
  },
];

export const debugPrimCases: { [Prim.DebugCallback]: PrimCase<Prim.DebugCallback>[] } = { [Prim.DebugCallback]: debugCases };
