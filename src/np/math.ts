/**
 * Elementwise `np` operations: arithmetic, transcendental functions, comparisons and logic, all
 * composed from primitives with NumPy broadcasting and JAX's promotion rules.
 */
import { checkDType, isFloat } from "../core/dtype.js";
import { ArgumentError, DTypeError, describe, naming } from "../core/errors.js";
import { checkOptionsObject } from "../core/options.js";
import * as lax from "../core/lax.js";
import type { NDArray } from "../core/ndarray.js";
import { broadcastShapes, sizeOf } from "../core/shape.js";
import {
  type ArrayLike,
  STAGED_BROADCAST_MIN,
  asArray,
  binary,
  broadcastOp,
  floatUnary,
  promoteAndBroadcast,
  promoteTogether,
  rejectBool,
  stagedOnDevice,
  stagedOnRepeat,
  toFloat,
} from "./base.js";
import { numberKey, staged } from "../core/staged.js";

/**
 * A float function of many primitives: called eagerly it runs as one cached program (`staged`;
 * the key is its name, everything else is the operand's signature), as JAX jits its own.
 */
const stagedUnary =
  (fn: string, op: (x: NDArray) => NDArray) =>
  (x: ArrayLike): NDArray =>
    staged(`np.${fn}`, [toFloat(asArray(fn, x, undefined, "x"))], op);

export const add = binary("add", lax.add);
/** NumPy refuses `-` between bools (it is not a ring operation on them); so do we. */
export const subtract = (x: ArrayLike, y: ArrayLike): NDArray => {
  const [a, b] = promoteTogether("np.subtract", [x, y]);
  if (a!.dtype === "bool")
    throw new DTypeError(
      'np.subtract: not defined for two bool operands (as in NumPy); use np.notEqual for an exclusive or, or convert with .astype("int32")',
    );
  return broadcastOp("subtract", lax.sub, a!, b!, broadcastShapes("np.subtract", a!.shape, b!.shape));
};
export const multiply = binary("multiply", lax.mul);
/** True division: integer operands are promoted to float32. */
export const divide = binary("divide", lax.div, "float32");
const powerOf = binary("power", lax.pow);
/**
 * x ** y. An integer JS number y multiplies, as JAX's `integer_pow` does (binary exponentiation, a
 * negative y then 1 / that): x ** 2 is exactly x · x, and integer x wraps as its products do.
 * Integer x with a negative y, bool x and array exponents take `pow`.
 */
export function power(x: ArrayLike, y: ArrayLike): NDArray {
  if (typeof y !== "number" || !Number.isSafeInteger(y)) return powerOf(x, y);
  const [a] = promoteAndBroadcast("np.power", [x, y]);
  if (a!.dtype === "bool" || (y < 0 && !isFloat(a!.dtype))) return powerOf(x, y);
  if (y === 1) return a!;
  if (y === 2) return lax.mul(a!, a!);
  return staged(`np.power ${y}`, [a!], (v) => integerPower(v, y));
}

/** x^n by binary exponentiation, JAX's order of products; n < 0 gives 1 / x^|n|, n = 0 ones. */
function integerPower(x: NDArray, n: number): NDArray {
  let base = x,
    acc: NDArray | null = null;
  for (let e = Math.abs(n); e > 0; e = Math.floor(e / 2)) {
    if (e % 2 === 1) acc = acc === null ? base : lax.mul(acc, base);
    if (e > 1) base = lax.mul(base, base);
  }
  if (acc === null) return lax.fill(x, 1);
  return n < 0 ? lax.div(lax.fill(acc, 1), acc) : acc;
}
export const maximum = binary("maximum", lax.max);
export const minimum = binary("minimum", lax.min);

export const less = binary("less", lax.lt);
export const lessEqual = binary("lessEqual", lax.le);
export const greater = binary("greater", lax.gt);
export const greaterEqual = binary("greaterEqual", lax.ge);
export const equal = binary("equal", lax.eq);
export const notEqual = binary("notEqual", lax.ne);

const truthy = (x: NDArray): NDArray => (x.dtype === "bool" ? x : lax.ne(x, lax.fill(x, 0)));
/** A logical op of two operands: bools go to `op` as they are, other dtypes as x != 0 (staged). */
const logical =
  (fn: string, op: (x: NDArray, y: NDArray) => NDArray) =>
  (x: ArrayLike, y: ArrayLike): NDArray => {
    const [a, b] = promoteAndBroadcast(fn, [x, y]);
    return a!.dtype === "bool" ? op(a!, b!) : staged(`np.${fn}`, [a!, b!], (u, v) => op(truthy(u), truthy(v)));
  };
export const logicalAnd = logical("logicalAnd", lax.and);
export const logicalOr = logical("logicalOr", lax.or);
export const logicalNot = (x: ArrayLike): NDArray => {
  const a = asArray("logicalNot", x, undefined, "x");
  return a.dtype === "bool" ? lax.not(a) : staged("np.logicalNot", [a], (v) => lax.not(truthy(v)));
};

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
export const tan = stagedUnary("tan", (x) => lax.div(lax.sin(x), lax.cos(x)));
/** sinh x = (expm1(x) - expm1(-x)) / 2, accurate near 0. */
export const sinh = stagedUnary("sinh", (x) => lax.mul(lax.sub(lax.expm1(x), lax.expm1(lax.neg(x))), lax.fill(x, 0.5)));
export const cosh = stagedUnary("cosh", (x) => lax.mul(lax.add(lax.exp(x), lax.exp(lax.neg(x))), lax.fill(x, 0.5)));
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
  const c = asArray("where", cond, undefined, "cond");
  const [x, y] = promoteTogether("where", [a, b], undefined, ["a", "b"]);
  const shape = broadcastShapes("where", c.shape, broadcastShapes("where", x!.shape, y!.shape));
  const staged =
    stagedOnDevice("np.where", [c, x!, y!], whereOf) ??
    (sizeOf(shape) >= STAGED_BROADCAST_MIN ? stagedOnRepeat("np.where", [c, x!, y!], whereOf) : null);
  return staged ?? whereOf(c, x!, y!);
}
/** cond ? x : y, all three broadcast together. */
function whereOf(c: NDArray, x: NDArray, y: NDArray): NDArray {
  const shape = broadcastShapes("where", c.shape, broadcastShapes("where", x.shape, y.shape));
  return lax.selectN(lax.broadcastTo(truthy(c), shape), lax.broadcastTo(y, shape), lax.broadcastTo(x, shape));
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
  if (a.dtype === "uint32") return lax.shiftRightLogical(a, b);
  return staged("np.rightShift", [a, b], (u, v) =>
    lax.selectN(lax.lt(u, lax.fill(u, 0)), lax.shiftRightLogical(u, v), lax.not(lax.shiftRightLogical(lax.not(u), v))),
  );
}

// ---------------------------------------------------------------------------------------------
// Everyday elementwise functions composed from primitives. Where a formula has a branch, each
// branch is fed inputs that are safe for it (the "double where"), so the branch not taken cannot
// leak NaN or infinity into derivatives.

/** `cond ? a : b` on arrays that already share a shape and dtype. */
const sel = (cond: NDArray, a: NDArray, b: NDArray): NDArray => lax.selectN(cond, b, a);
const k = (like: NDArray, v: number): NDArray => lax.fill(like, v);
const isIntLike = (x: NDArray): boolean => x.dtype === "int32" || x.dtype === "uint32" || x.dtype === "bool";

/** Elementwise NaN test (false for integers). */
export const isnan = (x: ArrayLike): NDArray => {
  const a = asArray("isnan", x, undefined, "x");
  return isIntLike(a) ? lax.fill({ shape: a.shape, dtype: "bool" }, 0) : lax.ne(a, a);
};
/** Elementwise ±infinity test. */
export const isinf = (x: ArrayLike): NDArray => {
  const a = asArray("isinf", x, undefined, "x");
  return isIntLike(a) ? lax.fill({ shape: a.shape, dtype: "bool" }, 0) : staged("np.isinf", [a], (v) => lax.eq(lax.abs(v), k(v, Infinity)));
};
/** Elementwise finiteness test: x - x is 0 exactly for finite x and NaN otherwise. */
export const isfinite = (x: ArrayLike): NDArray => {
  const a = asArray("isfinite", x, undefined, "x");
  return isIntLike(a) ? lax.fill({ shape: a.shape, dtype: "bool" }, 1) : staged("np.isfinite", [a], (v) => lax.eq(lax.sub(v, v), k(v, 0)));
};

/** -floor(-x). */
export const ceil = stagedUnary("ceil", (x) => lax.neg(lax.floor(lax.neg(x))));
/** Rounds towards zero. */
export const trunc = stagedUnary("trunc", (x) => sel(lax.lt(x, k(x, 0)), lax.neg(lax.floor(lax.neg(x))), lax.floor(x)));

/**
 * Rounds half to even (as NumPy and JAX), to `decimals` places. r = floor(x), d = x - r is exact;
 * add 1 when d > 1/2 or d = 1/2 and r is odd. Integer inputs are returned as they are.
 */
export function round(x: ArrayLike, decimals = 0): NDArray {
  const a = asArray("np.round", x, undefined, "x");
  if (!Number.isSafeInteger(decimals)) throw new ArgumentError(`np.round: decimals must be an integer, got ${describe(decimals)}`);
  if (isIntLike(a)) return a;
  return staged(`np.round ${decimals}`, [a], (v) => roundOf(v, decimals));
}
/** `round` of a float array. */
function roundOf(a: NDArray, decimals: number): NDArray {
  const scale = 10 ** decimals;
  const v = decimals === 0 ? a : lax.mul(a, k(a, scale));
  const r = lax.floor(v);
  const d = lax.sub(v, r);
  const odd = lax.eq(lax.sub(r, lax.mul(lax.floor(lax.mul(r, k(r, 0.5))), k(r, 2))), k(r, 1));
  const up = lax.or(lax.gt(d, k(d, 0.5)), lax.and(lax.eq(d, k(d, 0.5)), odd));
  const out = lax.add(r, sel(up, k(r, 1), k(r, 0)));
  return decimals === 0 ? out : lax.div(out, k(out, scale));
}
/** Same as np.round. */
export const around = (x: ArrayLike, decimals = 0): NDArray => naming("np.around", () => round(x, decimals));
/** Rounds to the nearest integer, half to even. */
export const rint = (x: ArrayLike): NDArray => naming("np.rint", () => round(x));

/** C-style remainder (sign of x): x - trunc(x / y) * y; d/dx = 1, d/dy = -trunc(x / y). */
export const fmod = (x: ArrayLike, y: ArrayLike): NDArray => staged("np.fmod", fmodOperands(x, y), fmodOf);

/** The operands of fmod, promoted and broadcast; bools are a DTypeError. */
function fmodOperands(x: ArrayLike, y: ArrayLike): [NDArray, NDArray] {
  const [a, b] = promoteAndBroadcast("np.fmod", [x, y]);
  if (a!.dtype === "bool") throw new DTypeError('np.fmod: not defined for bool operands; convert with .astype("int32")');
  return [a!, b!];
}
/** `fmod` of two arrays of one shape and dtype. */
function fmodOf(a: NDArray, b: NDArray): NDArray {
  // Integer division truncates already (and is floor for uint32, whose values are never negative).
  if (a.dtype === "int32" || a.dtype === "uint32") return lax.sub(a, lax.mul(lax.div(a, b), b));
  return lax.sub(a, lax.mul(lax.stopGradient(trunc(lax.div(a, b))), b));
}

/** Python-style remainder (sign of y): fmod, then + y where the signs differ. */
export function mod(x: ArrayLike, y: ArrayLike): NDArray {
  return naming("np.mod", () => {
    const [a, b] = promoteAndBroadcast("np.mod", [x, y]);
    return staged("np.mod", fmodOperands(a!, b!), modOf);
  });
}
/** `mod` of two arrays of one shape and dtype. */
function modOf(a: NDArray, b: NDArray): NDArray {
  const r = fmodOf(a, b);
  const zero = k(r, 0);
  const fix = lax.and(lax.ne(r, zero), lax.ne(lax.lt(r, zero), lax.lt(b, k(b, 0))));
  return sel(fix, lax.add(r, b), r);
}
/** Same as np.mod. */
export const remainder = (x: ArrayLike, y: ArrayLike): NDArray => naming("np.remainder", () => mod(x, y));

/** floor(x / y); for integers, truncated division corrected towards -infinity. */
export function floorDivide(x: ArrayLike, y: ArrayLike): NDArray {
  const [a, b] = floorDivideOperands(x, y);
  return a.dtype === "uint32" ? floorDivideOf(a, b) : staged("np.floorDivide", [a, b], floorDivideOf);
}
/** The operands of floorDivide, promoted and broadcast; bools are a DTypeError. */
function floorDivideOperands(x: ArrayLike, y: ArrayLike): [NDArray, NDArray] {
  const [a, b] = promoteAndBroadcast("np.floorDivide", [x, y]);
  if (a!.dtype === "bool") throw new DTypeError('np.floorDivide: not defined for bool operands; convert with .astype("int32")');
  return [a!, b!];
}
/** `floorDivide` of two arrays of one shape and dtype. */
function floorDivideOf(a: NDArray, b: NDArray): NDArray {
  if (a.dtype === "uint32") return lax.div(a, b); // never negative: truncation is floor
  if (a.dtype !== "int32") return lax.floor(lax.div(a, b));
  const q = lax.div(a, b);
  const r = lax.sub(a, lax.mul(q, b));
  const fix = lax.and(lax.ne(r, k(r, 0)), lax.ne(lax.lt(r, k(r, 0)), lax.lt(b, k(b, 0))));
  return sel(fix, lax.sub(q, k(q, 1)), q);
}
/** [floorDivide(x, y), mod(x, y)], as one staged program. */
export const divmod = (x: ArrayLike, y: ArrayLike): [NDArray, NDArray] =>
  naming("np.divmod", () => staged("np.divmod", floorDivideOperands(x, y), (a, b): [NDArray, NDArray] => [floorDivideOf(a, b), modOf(a, b)]));
/** Same as np.divide. */
export const trueDivide = (x: ArrayLike, y: ArrayLike): NDArray => naming("np.trueDivide", () => divide(x, y));
/** Power computed in floating point. */
export const floatPower = (x: ArrayLike, y: ArrayLike): NDArray => binary("floatPower", lax.pow, "float32")(x, y);
export const positive = (x: ArrayLike): NDArray => asArray("positive", x, undefined, "x");

/**
 * atan2(y, x): atan(y / x) corrected by ±π for x < 0 (the sign of y, -0 included, picks which),
 * ±π/2 on x = 0. Derivative (x dy - y dx) / (x² + y²) away from x = 0.
 */
export function arctan2(y: ArrayLike, x: ArrayLike): NDArray {
  const [b0, a0] = promoteAndBroadcast("np.arctan2", [y, x], "float32", ["y", "x"]);
  return staged("np.arctan2", [b0!, a0!], arctan2Of);
}
/** `arctan2` of two float arrays of one shape. */
function arctan2Of(yy: NDArray, xx: NDArray): NDArray {
  const zero = k(xx, 0);
  const xZero = lax.eq(xx, zero);
  const base = lax.atan(lax.div(yy, sel(xZero, k(xx, 1), xx)));
  const yNeg = lax.lt(lax.div(k(yy, 1), lax.stopGradient(yy)), zero); // true for y < 0 and y = -0
  const shift = sel(lax.lt(xx, zero), sel(yNeg, k(xx, -Math.PI), k(xx, Math.PI)), zero);
  const onAxis = lax.mul(lax.sign(lax.stopGradient(yy)), k(yy, Math.PI / 2));
  return sel(xZero, onAxis, lax.add(base, shift));
}

/** asin x = 2 atan(x / (1 + sqrt(1 - x²))). */
export const arcsin = floatUnary("arcsin", (x) =>
  lax.mul(k(x, 2), lax.atan(lax.div(x, lax.add(k(x, 1), lax.sqrt(lax.sub(k(x, 1), lax.mul(x, x))))))),
);
/** acos x = 2 atan2(sqrt(1 - x²), 1 + x). */
export const arccos = stagedUnary("arccos", (x) => lax.mul(k(x, 2), arctan2Of(lax.sqrt(lax.sub(k(x, 1), lax.mul(x, x))), lax.add(k(x, 1), x))));
/** asinh, odd: log1p(t + t² / (1 + sqrt(1 + t²))) for t = |x| >= 0, each sign on its own safe input. */
export const arcsinh = stagedUnary("arcsinh", (x) => {
  const f = (t: NDArray) => lax.log1p(lax.add(t, lax.div(lax.mul(t, t), lax.add(k(t, 1), lax.sqrt(lax.add(k(t, 1), lax.mul(t, t)))))));
  const pos = lax.ge(x, k(x, 0));
  return sel(pos, f(sel(pos, x, k(x, 0))), lax.neg(f(lax.neg(sel(pos, k(x, 0), x)))));
});
/** acosh x = log1p((x - 1) + sqrt((x - 1)(x + 1))). */
export const arccosh = stagedUnary("arccosh", (x) => {
  const m = lax.sub(x, k(x, 1));
  return lax.log1p(lax.add(m, lax.sqrt(lax.mul(m, lax.add(x, k(x, 1))))));
});
/** atanh x = log1p(2x / (1 - x)) / 2. */
export const arctanh = stagedUnary("arctanh", (x) => lax.mul(k(x, 0.5), lax.log1p(lax.div(lax.mul(k(x, 2), x), lax.sub(k(x, 1), x)))));

export const log2 = stagedUnary("log2", (x) => lax.mul(lax.log(x), k(x, 1 / Math.LN2)));
export const log10 = stagedUnary("log10", (x) => lax.mul(lax.log(x), k(x, 1 / Math.LN10)));
export const exp2 = stagedUnary("exp2", (x) => lax.exp(lax.mul(x, k(x, Math.LN2))));
/** Real cube root: sign(x) |x|^(1/3). */
export const cbrt = stagedUnary("cbrt", (x) => lax.mul(lax.sign(x), lax.pow(lax.abs(x), k(x, 1 / 3))));
export const deg2rad = floatUnary("deg2rad", (x) => lax.mul(x, k(x, Math.PI / 180)));
export const rad2deg = floatUnary("rad2deg", (x) => lax.mul(x, k(x, 180 / Math.PI)));
export const radians = floatUnary("radians", (x) => lax.mul(x, k(x, Math.PI / 180)));
export const degrees = floatUnary("degrees", (x) => lax.mul(x, k(x, 180 / Math.PI)));

/** sin(πx) / (πx), with its Taylor series 1 - (πx)²/6 + (πx)⁴/120 near 0 so every derivative is right there. */
// Below |x| = 0.1 a Taylor series (to p¹⁰; the next term is below 1e-15 and its second derivative
// below 1e-11): the quotient's derivatives cancel
// there (the second loses 3 % in float32 at x = 1e-3), the series' do not.
export const sinc = stagedUnary("sinc", (x) => {
  const small = lax.lt(lax.abs(x), k(x, 0.1));
  const px = lax.mul(sel(small, k(x, 1), x), k(x, Math.PI));
  const ps = lax.mul(sel(small, x, k(x, 0)), k(x, Math.PI));
  const p2 = lax.mul(ps, ps);
  let series = k(x, -1 / 39916800);
  for (const c of [1 / 362880, -1 / 5040, 1 / 120, -1 / 6, 1]) series = lax.add(k(x, c), lax.mul(p2, series));
  return sel(small, series, lax.div(lax.sin(px), px));
});

/**
 * log(exp x + exp y) without overflow: x + log1p(exp(y - x)) where x >= y, else the same with x
 * and y swapped; each branch is smooth where it is taken (its exponent is <= 0, and the other
 * branch gets 0), so derivatives of every order are right, ties included. x + y where both are
 * the same infinity.
 */
export function logaddexp(x: ArrayLike, y: ArrayLike): NDArray {
  const [a, b] = promoteAndBroadcast("np.logaddexp", [x, y], "float32");
  return staged("np.logaddexp", [a!, b!], logaddexpOf);
}
/** `logaddexp` of two float arrays of one shape. */
function logaddexpOf(a: NDArray, b: NDArray): NDArray {
  const d = lax.sub(a, b);
  const bad = lax.ne(d, d);
  const first = lax.ge(a, b);
  const zero = k(d, 0);
  const viaA = lax.add(a, lax.log1p(lax.exp(sel(first, lax.neg(d), zero))));
  const viaB = lax.add(b, lax.log1p(lax.exp(sel(first, zero, d))));
  return sel(bad, lax.add(a, b), sel(first, viaA, viaB));
}
/** log2(2^x + 2^y). */
export function logaddexp2(x: ArrayLike, y: ArrayLike): NDArray {
  const [a, b] = promoteAndBroadcast("np.logaddexp2", [x, y], "float32");
  return staged("np.logaddexp2", [a!, b!], (u, v) => {
    const out = logaddexpOf(lax.mul(u, k(u, Math.LN2)), lax.mul(v, k(v, Math.LN2)));
    return lax.mul(out, k(out, 1 / Math.LN2));
  });
}

/** sqrt(x² + y²). */
export const hypot = (x: ArrayLike, y: ArrayLike): NDArray => {
  const [a, b] = promoteAndBroadcast("np.hypot", [x, y], "float32");
  return staged("np.hypot", [a!, b!], (u, v) => lax.sqrt(lax.add(lax.mul(u, u), lax.mul(v, v))));
};
/** |x| with the sign of y (-0 counts as negative). */
export function copysign(x: ArrayLike, y: ArrayLike): NDArray {
  const [a, b] = promoteAndBroadcast("np.copysign", [x, y], "float32");
  return staged("np.copysign", [a!, b!], (u, v) => {
    const neg = lax.lt(lax.div(k(v, 1), lax.stopGradient(v)), k(v, 0));
    const m = lax.abs(u);
    return sel(neg, lax.neg(m), m);
  });
}
/** 0 for x < 0, 1 for x > 0, h0 at 0. */
export function heaviside(x: ArrayLike, h0: ArrayLike): NDArray {
  const [a, h] = promoteAndBroadcast("np.heaviside", [x, h0], "float32", ["x", "h0"]);
  return staged("np.heaviside", [a!, h!], (u, v) => sel(lax.lt(u, k(u, 0)), k(u, 0), sel(lax.gt(u, k(u, 0)), k(u, 1), v)));
}
/** Maximum that ignores NaN (NaN only where both are NaN). */
export function fmax(x: ArrayLike, y: ArrayLike): NDArray {
  const [a, b] = promoteAndBroadcast("np.fmax", [x, y]);
  return staged("np.fmax", [a!, b!], (u, v) => sel(lax.ne(v, v), u, sel(lax.ne(u, u), v, lax.max(u, v))));
}
/** Minimum that ignores NaN. */
export function fmin(x: ArrayLike, y: ArrayLike): NDArray {
  const [a, b] = promoteAndBroadcast("np.fmin", [x, y]);
  return staged("np.fmin", [a!, b!], (u, v) => sel(lax.ne(v, v), u, sel(lax.ne(u, u), v, lax.min(u, v))));
}
export const logicalXor = logical("logicalXor", lax.ne);

/** NaN to `nan` (0), ±infinity to `posinf`/`neginf` (the dtype's largest finite values by default). */
export function nanToNum(x: ArrayLike, options: { nan?: number; posinf?: number; neginf?: number } = {}): NDArray {
  const a = asArray("np.nanToNum", x, undefined, "x");
  const o = checkOptionsObject("np.nanToNum", options, ["nan", "posinf", "neginf"]);
  if (isIntLike(a)) return a;
  const { nan, posinf, neginf } = o;
  return staged(`np.nanToNum ${optionKey(nan)} ${optionKey(posinf)} ${optionKey(neginf)}`, [a], (v) => {
    const big = v.dtype === "float32" ? 3.4028234663852886e38 : Number.MAX_VALUE;
    const inf = k(v, Infinity);
    let out = sel(lax.ne(v, v), k(v, nan ?? 0), v);
    out = sel(lax.eq(v, inf), k(v, posinf ?? big), out);
    return sel(lax.eq(v, lax.neg(inf)), k(v, neginf ?? -big), out);
  });
}
/** An optional number as cache-key text ("-" when not given). */
const optionKey = (v: number | undefined): string => (v === undefined ? "-" : numberKey(v));

/** |a - b| <= atol + rtol |b|, elementwise; equal infinities are close; NaNs only with `equalNan`. */
export function isclose(a: ArrayLike, b: ArrayLike, options: { rtol?: number; atol?: number; equalNan?: boolean } = {}): NDArray {
  const o = checkOptionsObject("np.isclose", options, ["rtol", "atol", "equalNan"]);
  const [x, y] = promoteAndBroadcast("np.isclose", [a, b], "float32", ["a", "b"]);
  const rtol = o.rtol ?? 1e-5,
    atol = o.atol ?? 1e-8,
    equalNan = Boolean(o.equalNan);
  return staged(`np.isclose ${numberKey(rtol)} ${numberKey(atol)} ${equalNan}`, [x!, y!], (u, v) => {
    const tol = lax.add(k(v, atol), lax.mul(k(v, rtol), lax.abs(v)));
    const out = lax.or(lax.le(lax.abs(lax.sub(u, v)), tol), lax.eq(u, v));
    return equalNan ? lax.or(out, lax.and(lax.ne(u, u), lax.ne(v, v))) : out;
  });
}

/** `np.select(condlist, choicelist, default)`: the first choice whose condition holds, per element. */
export function select(condlist: ArrayLike[], choicelist: ArrayLike[], defaultValue: ArrayLike = 0): NDArray {
  if (!Array.isArray(condlist) || !Array.isArray(choicelist) || condlist.length !== choicelist.length)
    throw new ArgumentError(
      `np.select: condlist and choicelist must be lists of the same length, got ${describe(condlist)} and ${describe(choicelist)}`,
    );
  let out = asArray("np.select", defaultValue, undefined, "default");
  for (let i = condlist.length - 1; i >= 0; i--) out = where(condlist[i]!, choicelist[i]!, out);
  return out;
}
