/**
 * Test helpers: closeness checks with messages that show both sides, a float64 finite difference,
 * and evaluation primitive by primitive with exact comparison of the bits.
 */
import { expect } from "vitest";
import { type Interpreter, type NDArray, type Prim, type PrimParams, np, withInterpreter } from "../src/index.js";
import { currentInterpreter } from "../src/core/interpreter.js";

export function toNums(x: NDArray | number): number[] {
  return typeof x === "number" ? [x] : Array.from(x.dataSync(), Number);
}

/** Asserts |a - b| <= atol + rtol |b| elementwise, and equal shapes. */
export function expectClose(a: NDArray | number, b: NDArray | number | unknown[], atol = 1e-5, rtol = 1e-5): void {
  if (typeof a !== "number" && typeof b !== "number" && !Array.isArray(b)) expect(a.shape).toEqual(b.shape);
  const x = toNums(a),
    y = Array.isArray(b) ? (b.flat(Infinity as 1) as number[]) : toNums(b);
  expect(x.length).toBe(y.length);
  for (let i = 0; i < x.length; i++) {
    const ok = Math.abs(x[i]! - y[i]!) <= atol + rtol * Math.abs(y[i]!) || (Number.isNaN(x[i]) && Number.isNaN(y[i]));
    if (!ok) expect.fail(`element ${i}: ${x[i]} vs ${y[i]} (atol ${atol}, rtol ${rtol})\n got ${x}\nwant ${y}`);
  }
}

/** Central difference of a scalar-valued f along direction v, in float64. */
export function centralDiff(f: (x: NDArray) => NDArray, x: NDArray, v: NDArray, eps = 1e-6): NDArray {
  const x64 = x.astype("float64"),
    v64 = v.astype("float64");
  const hi = f(x64.add(v64.mul(eps))),
    lo = f(x64.sub(v64.mul(eps)));
  return hi.sub(lo).div(2 * eps);
}

export const arr = (data: number[] | number[][] | number[][][], dtype: "float32" | "float64" = "float64") => np.array(data, { dtype });

/** Forwards every primitive to the interpreter below: programs run unchanged, but nothing counts as eager. */
class PassThrough implements Interpreter {
  constructor(readonly parent: Interpreter) {}
  process<P extends Prim>(prim: P, args: readonly NDArray[], params: PrimParams[P]): NDArray[] {
    return withInterpreter(this.parent, () => this.parent.process(prim, args, params));
  }
}

/**
 * `f()` evaluated primitive by primitive: under a pass-through interpreter library functions that
 * run eagerly as cached programs (src/core/staged.ts) trace inline instead.
 */
export const primitiveByPrimitive = <T>(f: () => T): T => withInterpreter(new PassThrough(currentInterpreter()), f);

/** The raw bits of every leaf of a result, for exact comparison (NaN payloads and -0 included). */
export const rawBits = (x: NDArray | NDArray[]): number[][] =>
  (Array.isArray(x) ? x : [x]).map((a) => {
    const v = a.dataSync();
    if (v instanceof Float64Array) return Array.from(new Uint32Array(v.buffer, v.byteOffset, v.length * 2));
    if (v instanceof Float32Array) return Array.from(new Uint32Array(v.buffer, v.byteOffset, v.length));
    return Array.from(v);
  });
