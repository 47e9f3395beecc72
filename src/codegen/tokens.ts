/**
 * The only values code generators (generated JavaScript, WGSL, WebAssembly) interpolate besides
 * names they make themselves: integers they format here and dtype tokens from a closed table.
 * Params are checked at `bind`; these guards make a generator refuse, rather than emit, anything
 * else, so no input can reach generated source as text.
 */
import type { DType } from "../core/dtype.js";
import { ArgumentError } from "../core/errors.js";

/** A non-negative safe integer as source text. */
export function int(n: number): string {
  if (typeof n !== "number" || !Number.isSafeInteger(n) || n < 0) {
    throw new ArgumentError(`code generator: refusing to emit ${typeof n === "number" ? n : typeof n} as an integer literal`);
  }
  return String(n);
}

const DTYPE_TOKENS: Readonly<Record<DType, string>> = { float32: "float32", float64: "float64", int32: "int32", uint32: "uint32", bool: "bool" };

/** A dtype name as source text, from the closed table. */
export function dtypeToken(d: DType): string {
  if (typeof d !== "string" || !Object.hasOwn(DTYPE_TOKENS, d)) {
    throw new ArgumentError(`code generator: refusing to emit unknown dtype ${typeof d === "string" ? JSON.stringify(d.slice(0, 40)) : typeof d}`);
  }
  return DTYPE_TOKENS[d];
}

/** An entry of a closed table keyed by dtype (a typed-array constructor's name, a WGSL type). */
export function byDType<T>(table: Readonly<Record<DType, T>>, d: DType): T {
  dtypeToken(d);
  return table[d];
}
