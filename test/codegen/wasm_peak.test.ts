/**
 * The bench's WebAssembly ceiling (bench/wasm_peak.ts) counts 8 flops per accumulator per round:
 * its kernel must really do those multiplies and adds, in float32, and not fold them away.
 */
import { describe, expect, it } from "vitest";
import { CHAINS, peakModule } from "../../bench/wasm_peak.js";
import { wasmApi } from "../../src/codegen/wasm_asm.js";

const fr = Math.fround;

/** The kernel's result for n rounds, in float32 arithmetic: lane 0 of the accumulators' sum, as bits. */
function expected(n: number): number {
  const start = (k: number) => fr(1 + k * 1e-7);
  const factors = [0, 1, 2, 3].map(start);
  const acc = Array.from({ length: CHAINS }, (_, k) => start(4 + k));
  for (let r = 0; r < n; r++) for (let k = 0; k < CHAINS; k++) acc[k] = fr(acc[k]! + fr(factors[k % 4]! * factors[(k + 1) % 4]!));
  let sum = acc[0]!;
  for (let k = 1; k < CHAINS; k++) sum = fr(sum + acc[k]!);
  return new Int32Array(new Float32Array([sum]).buffer)[0]!;
}

describe("the wasm multiply-add ceiling's kernel", () => {
  it("does every round's multiplies and adds in float32", () => {
    const memory = new wasmApi!.Memory({ initial: 1, maximum: 1 });
    const run = new wasmApi!.Instance(new wasmApi!.Module(peakModule()), { env: { memory } }).exports.run as (n: number) => number;
    for (const n of [0, 1, 7, 1000, 123_457]) expect(run(n)).toBe(expected(n));
  });
});
