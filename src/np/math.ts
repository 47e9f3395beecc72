/**
 * Elementwise `np` operations: arithmetic, transcendental functions, comparisons and logic, all
 * composed from primitives with NumPy broadcasting and JAX's promotion rules.
 */
import { checkDType, isFloat } from "../core/dtype.js";
import { DTypeError, naming } from "../core/errors.js";
import * as lax from "../core/lax.js";
import type { NDArray } from "../core/ndarray.js";
import { broadcastShapes } from "../core/shape.js";
import { type ArrayLike, asArray, binary, floatUnary, promoteAndBroadcast, rejectBool, toFloat } from "./base.js";

export const add = binary("add", lax.add);
/** NumPy refuses `-` between bools (it is not a ring operation on them); so do we. */
export const subtract = (x: ArrayLike, y: ArrayLike): NDArray => {
  const [a, b] = promoteAndBroadcast("np.subtract", [x, y]);
  if (a!.dtype === "bool")
    throw new DTypeError(
      'np.subtract: not defined for two bool operands (as in NumPy); use np.notEqual for an exclusive or, or convert with .astype("int32")',
    );
  return lax.sub(a!, b!);
};
export const multiply = binary("multiply", lax.mul);
/** True division: integer operands are promoted to float32. */
export const divide = binary("divide", lax.div, "float32");
export const power = binary("power", lax.pow);
export const maximum = binary("maximum", lax.max);
export const minimum = binary("minimum", lax.min);

export const less = binary("less", lax.lt);
export const lessEqual = binary("lessEqual", lax.le);
export const greater = binary("greater", lax.gt);
export const greaterEqual = binary("greaterEqual", lax.ge);
export const equal = binary("equal", lax.eq);
export const notEqual = binary("notEqual", lax.ne);

const truthy = (x: NDArray): NDArray => (x.dtype === "bool" ? x : lax.ne(x, lax.fill(x, 0)));
export const logicalAnd = (x: ArrayLike, y: ArrayLike): NDArray => {
  const [a, b] = promoteAndBroadcast("logicalAnd", [x, y]);
  return lax.and(truthy(a!), truthy(b!));
};
export const logicalOr = (x: ArrayLike, y: ArrayLike): NDArray => {
  const [a, b] = promoteAndBroadcast("logicalOr", [x, y]);
  return lax.or(truthy(a!), truthy(b!));
};
export const logicalNot = (x: ArrayLike): NDArray => lax.not(truthy(asArray("logicalNot", x, undefined, "x")));

export function negative(x: ArrayLike): NDArray {
  const a = asArray("negative", x, undefined, "x");
  rejectBool("negative", a);
  return lax.neg(a);
}

export const square = (x: ArrayLike): NDArray => {
  const a = asArray("square", x, undefined, "x");
  return lax.mul(a, a);
};

export const sqrt = floatUnary("sqrt", lax.sqrt);
export const exp = floatUnary("exp", lax.exp);
export const log = floatUnary("log", lax.log);
export const log1p = floatUnary("log1p", lax.log1p);
export const expm1 = floatUnary("expm1", lax.expm1);
export const sin = floatUnary("sin", lax.sin);
export const cos = floatUnary("cos", lax.cos);
export const tanh = floatUnary("tanh", lax.tanh);
export const arctan = floatUnary("arctan", lax.atan);
export const tan = floatUnary("tan", (x) => lax.div(lax.sin(x), lax.cos(x)));
/** sinh x = (expm1(x) - expm1(-x)) / 2, accurate near 0. */
export const sinh = floatUnary("sinh", (x) => lax.mul(lax.sub(lax.expm1(x), lax.expm1(lax.neg(x))), lax.fill(x, 0.5)));
export const cosh = floatUnary("cosh", (x) => lax.mul(lax.add(lax.exp(x), lax.exp(lax.neg(x))), lax.fill(x, 0.5)));
export const floor = floatUnary("floor", lax.floor);

export function abs(x: ArrayLike): NDArray {
  const a = asArray("abs", x, undefined, "x");
  return a.dtype === "bool" ? a : lax.abs(a);
}

export function sign(x: ArrayLike): NDArray {
  const a = asArray("sign", x, undefined, "x");
  rejectBool("sign", a);
  return lax.sign(a);
}

/** Elementwise `cond ? a : b`, broadcasting all three. */
export function where(cond: ArrayLike, a: ArrayLike, b: ArrayLike): NDArray {
  const pred = truthy(asArray("where", cond, undefined, "cond"));
  const [x, y] = promoteAndBroadcast("where", [a, b], undefined, ["a", "b"]);
  const shape = broadcastShapes("where", pred.shape, x!.shape);
  return lax.selectN(lax.broadcastTo(pred, shape), lax.broadcastTo(y!, shape), lax.broadcastTo(x!, shape));
}

/** Limits `x` to [lo, hi]; either bound may be null. Differentiable in the bounds too. */
export function clip(x: ArrayLike, lo: ArrayLike | null, hi: ArrayLike | null): NDArray {
  return naming("np.clip", () => {
    let out = asArray("np.clip", x, undefined, "x");
    if (lo !== null && lo !== undefined) out = maximum(out, lo);
    if (hi !== null && hi !== undefined) out = minimum(out, hi);
    return out;
  });
}

export function astype(x: ArrayLike, dtype: NDArray["dtype"]): NDArray {
  return lax.convert(asArray("np.astype", x, undefined, "x"), checkDType("np.astype", dtype));
}

/** Stops derivatives flowing through `x`: its value, with a zero derivative. */
export function stopGradient<T extends ArrayLike>(x: T): NDArray {
  const a = asArray("stopGradient", x, undefined, "x");
  return isFloat(a.dtype) ? lax.stopGradient(a) : a;
}

export function reciprocal(x: ArrayLike): NDArray {
  const a = toFloat(asArray("reciprocal", x, undefined, "x"));
  return lax.div(lax.fill(a, 1), a);
}

/** The operands of a bitwise op, promoted and broadcast; floats are a DTypeError naming `fn`. */
function bitOperands(fn: string, xs: readonly ArrayLike[], bools: boolean): NDArray[] {
  const ops = promoteAndBroadcast(fn, xs);
  const d = ops[0]!.dtype;
  if (!(d === "int32" || d === "uint32" || (bools && d === "bool"))) {
    throw new DTypeError(
      `${fn}: needs ${bools ? "bool, " : ""}int32 or uint32 operands, got ${d}; convert with .astype("int32") or .astype("uint32")`,
    );
  }
  return ops;
}

/** Bitwise and (logical and for bools), as np.bitwise_and. */
export const bitwiseAnd = (x: ArrayLike, y: ArrayLike): NDArray => lax.and(...(bitOperands("np.bitwiseAnd", [x, y], true) as [NDArray, NDArray]));
/** Bitwise or, as np.bitwise_or. */
export const bitwiseOr = (x: ArrayLike, y: ArrayLike): NDArray => lax.or(...(bitOperands("np.bitwiseOr", [x, y], true) as [NDArray, NDArray]));
/** Bitwise exclusive or, as np.bitwise_xor. */
export const bitwiseXor = (x: ArrayLike, y: ArrayLike): NDArray => lax.xor(...(bitOperands("np.bitwiseXor", [x, y], true) as [NDArray, NDArray]));
/** Bitwise not (~x; logical not for bools), as np.bitwise_not / np.invert. */
export const bitwiseNot = (x: ArrayLike): NDArray => lax.not(bitOperands("np.bitwiseNot", [x], true)[0]!);
/** x << s on int32/uint32 (0 once s >= 32), as np.left_shift. */
export const leftShift = (x: ArrayLike, s: ArrayLike): NDArray =>
  lax.shiftLeft(...(bitOperands("np.leftShift", [x, s], false) as [NDArray, NDArray]));
/**
 * x >> s as np.right_shift: logical (zeros in) for uint32, arithmetic (sign bits in) for int32,
 * which is ~((~x) >>> s) for negative x. Shifts of 32 or more give 0, or -1 for negative int32.
 */
export function rightShift(x: ArrayLike, s: ArrayLike): NDArray {
  const [a, b] = bitOperands("np.rightShift", [x, s], false) as [NDArray, NDArray];
  const logical = lax.shiftRightLogical(a, b);
  if (a.dtype === "uint32") return logical;
  return lax.selectN(lax.lt(a, lax.fill(a, 0)), logical, lax.not(lax.shiftRightLogical(lax.not(a), b)));
}
