/**
 * The op menu of random programs, part one: what an op is, the helpers that keep ops inside smooth
 * domains, and the elementwise ops. Every op is written so that, for any inputs, it stays away from
 * kinks, poles and ties (log and sqrt see `x² + 0.5`; abs, sign, relu, max and masks see
 * `tanh(x) ± 1.5`) and keeps magnitudes bounded (tanh, sigmoid and averaging squash), so float64
 * central differences are meaningful on every program.
 */
import { Prim } from "../src/index.js";
import { type Builder, DT } from "./builder.js";
import { rng } from "./numeric.js";

export type Shape = readonly number[];

/** Largest array a program makes. */
export const MAX_SIZE = 36;

export interface Plan<P> {
  readonly params: P;
  readonly shape: Shape;
}

export interface OpDef<P = unknown> {
  readonly name: string;
  readonly arity: 1 | 2;
  /** Params and output shape for operands of these shapes (`choice` picks among valid ones), or null when the op does not apply. */
  plan(shapes: readonly Shape[], choice: number): Plan<P> | null;
  /** The op, written once for evaluation and printing. */
  build<T>(b: Builder<T>, xs: readonly T[], params: P): T;
}

export const defineOp = <P>(op: OpDef<P>): OpDef<P> => op;

/**
 * A higher-order op that takes a body: a random sub-program of one parameter, planned by
 * `realize` from the steps that follow the op, and called by the op's primitive as a function.
 */
export interface RegionOpDef<P = unknown> {
  readonly name: string;
  readonly arity: 1;
  /** Whether the body may read values of the enclosing program (a custom rule's body may not). */
  readonly closes: boolean;
  /** The body's parameter shape for this operand shape, or null when the op does not apply. */
  bodyInput(operand: Shape): Shape | null;
  /** Params and output shape, given the operand's and the body result's shapes (null: does not apply). */
  plan(operand: Shape, bodyOut: Shape, choice: number): Plan<P> | null;
  /** The op, given its body as a function (written once for evaluation and printing). */
  build<T>(b: Builder<T>, x: T, params: P, body: (a: T) => T): T;
}

export const defineRegionOp = <P>(op: RegionOpDef<P>): RegionOpDef<P> => op;

export const sizeOf = (s: Shape): number => s.reduce((a, b) => a * b, 1);

/** NumPy broadcasting of two shapes, or null when they do not broadcast. */
export function broadcast(a: Shape, b: Shape): number[] | null {
  const n = Math.max(a.length, b.length),
    out: number[] = [];
  for (let i = 0; i < n; i++) {
    const x = a[a.length - n + i] ?? 1,
      y = b[b.length - n + i] ?? 1;
    if (x !== y && x !== 1 && y !== 1) return null;
    out.push(Math.max(x, y));
  }
  return out;
}

/** A fixed pattern of ±1.5 per element, from `choice`. */
export function pattern(shape: Shape, choice: number): number[] {
  const next = rng(choice * 7919 + 1);
  return Array.from({ length: sizeOf(shape) }, () => (next() < 0.5 ? 1.5 : -1.5));
}

/** Distinct offsets 0.5 apart, centred on 0, in an order fixed by `choice` (ties cannot happen). */
export function offsets(n: number, choice: number): number[] {
  const next = rng(choice * 104729 + 3);
  const keys = Array.from({ length: n }, (_, i) => [next(), i] as const).sort((p, q) => p[0] - q[0]);
  const out = new Array<number>(n);
  keys.forEach(([, i], rank) => (out[i] = (rank - (n - 1) / 2) * 0.5));
  return out;
}

/** `tanh(x) * 0.2 + offsets`: elements at least 0.1 apart, so max/min/argmax never tie. */
export function spread<T>(b: Builder<T>, x: T, shape: Shape, choice: number): T {
  return b.call("np.add", b.call("np.multiply", b.call("np.tanh", x), 0.2), b.constant(offsets(sizeOf(shape), choice), shape));
}

/** `tanh(x) ± 1.5` elementwise: never within 0.5 of 0. */
export function awayFromZero<T>(b: Builder<T>, x: T, shape: Shape, choice: number): T {
  return b.call("np.add", b.call("np.tanh", x), b.constant(pattern(shape, choice), shape));
}

interface Same {
  shape: Shape;
  choice: number;
}

/** An elementwise op of one operand. */
const unary = (name: string, build: <T>(b: Builder<T>, x: T, p: Same) => T): OpDef<Same> =>
  defineOp({ name, arity: 1, plan: ([s], choice) => ({ params: { shape: s!, choice }, shape: s! }), build: (b, [x], p) => build(b, x!, p) });

const sq = <T>(b: Builder<T>, x: T) => b.call("np.add", b.call("np.square", x), 0.5);

export const unaryOps: OpDef[] = [
  unary("sin", (b, x) => b.call("np.sin", x)),
  unary("cos", (b, x) => b.call("np.cos", x)),
  unary("tanh", (b, x) => b.call("np.tanh", x)),
  unary("sigmoid", (b, x) => b.call("nn.sigmoid", x)),
  unary("arctan", (b, x) => b.call("np.arctan", x)),
  unary("exp", (b, x) => b.call("np.exp", b.call("np.tanh", x))),
  unary("expm1", (b, x) => b.call("np.expm1", b.call("np.tanh", x))),
  unary("log", (b, x) => b.call("np.log", sq(b, x))),
  unary("log1p", (b, x) => b.call("np.log1p", b.call("np.square", x))),
  unary("sqrt", (b, x) => b.call("np.sqrt", sq(b, x))),
  unary("rsqrt", (b, x) => b.bind(Prim.Rsqrt, [sq(b, x)], {})),
  unary("negative", (b, x) => b.call("np.negative", x)),
  unary("square", (b, x) => b.call("np.square", b.call("np.tanh", x))),
  unary("tan", (b, x) => b.call("np.tan", b.call("np.tanh", x))),
  unary("sinh", (b, x) => b.call("np.sinh", b.call("np.tanh", x))),
  unary("cosh", (b, x) => b.call("np.cosh", b.call("np.tanh", x))),
  unary("abs", (b, x, p) => b.call("np.abs", awayFromZero(b, x, p.shape, p.choice))),
  unary("sign", (b, x, p) => b.call("np.multiply", x, b.call("np.sign", awayFromZero(b, x, p.shape, p.choice)))),
  // floor(0.4 tanh(x) + 1.5) is always 1: a zero-derivative op that FD sees as constant.
  unary("floor", (b, x) => b.call("np.multiply", x, b.call("np.floor", b.call("np.add", b.call("np.multiply", b.call("np.tanh", x), 0.4), 1.5)))),
  unary("relu", (b, x, p) => b.call("nn.relu", awayFromZero(b, x, p.shape, p.choice))),
  unary("softplus", (b, x, p) => b.call("nn.softplus", awayFromZero(b, x, p.shape, p.choice))),
  unary("gelu", (b, x) => b.call("nn.gelu", x)),
  // float64 and back: convert_element_type both ways in a float32 program (a no-op in float64).
  unary("astype", (b, x) => b.call("np.astype", b.call("np.sin", b.call("np.astype", x, "float64")), DT)),
  // exp(t - sg(t)) exp(sg(t)) = exp(t) with the same derivative whatever sg does to values.
  unary("stopGradientShift", (b, x) => {
    const t = b.call("np.tanh", x);
    return b.call(
      "np.multiply",
      b.call("np.exp", b.call("np.subtract", t, b.call("np.stopGradient", t))),
      b.call("np.exp", b.call("np.stopGradient", t)),
    );
  }),
];

interface Pair {
  shape: Shape;
  adapt: boolean;
  choice: number;
  xShape: Shape;
  yShape: Shape;
}

/**
 * An elementwise op of two operands that broadcast; when their shapes do not broadcast (or the
 * result is too big), the second operand is its mean, a scalar.
 */
const binary = (name: string, build: <T>(b: Builder<T>, x: T, y: T, p: Pair) => T): OpDef<Pair> =>
  defineOp({
    name,
    arity: 2,
    plan: ([sx, sy], choice) => {
      const out = broadcast(sx!, sy!);
      const adapt = out === null || sizeOf(out) > MAX_SIZE;
      const shape = adapt ? sx! : out;
      return { params: { shape, adapt, choice, xShape: sx!, yShape: adapt ? [] : sy! }, shape };
    },
    build: (b, [x, y], p) => build(b, x!, p.adapt ? b.call("np.mean", y!) : y!, p),
  });

/** A bool mask of `kind` that depends on x (and y) but is fixed by the ±1.5 patterns: never near a flip. */
function mask<T>(b: Builder<T>, x: T, y: T, p: Pair): T {
  const base = (z: T, s: Shape, c: number) => b.call("np.add", b.call("np.multiply", b.call("np.tanh", z), 0.4), b.constant(pattern(s, c), s));
  const bx = () => base(x, p.xShape, p.choice),
    by = () => base(y, p.yShape, p.choice + 1);
  switch (p.choice % 10) {
    case 0:
      return b.call("np.greater", bx(), 0);
    case 1:
      return b.call("np.less", bx(), 0);
    case 2:
      return b.call("np.greaterEqual", bx(), 0);
    case 3:
      return b.call("np.lessEqual", bx(), 0);
    case 4:
      return b.call("np.equal", b.call("np.floor", bx()), 1);
    case 5:
      return b.call("np.notEqual", b.call("np.floor", bx()), 1);
    case 6:
      return b.call("np.logicalAnd", b.call("np.greater", bx(), 0), b.call("np.less", by(), 0));
    case 7:
      return b.call("np.logicalOr", b.call("np.greater", bx(), 0), b.call("np.less", by(), 0));
    case 8:
      return b.call("np.logicalNot", b.call("np.greater", bx(), 0));
    default:
      return b.constant(
        pattern(p.shape, p.choice).map((v) => (v > 0 ? 1 : 0)),
        p.shape,
        "bool",
      );
  }
}

const tanhPlus = <T>(b: Builder<T>, x: T, p: Pair) => b.call("np.add", b.call("np.tanh", x), b.constant(pattern(p.shape, p.choice), p.shape));

export const binaryOps: OpDef[] = [
  binary("add", (b, x, y) => b.call("np.multiply", b.call("np.add", x, y), 0.5)),
  binary("subtract", (b, x, y) => b.call("np.multiply", b.call("np.subtract", x, y), 0.5)),
  binary("multiply", (b, x, y) => b.call("np.multiply", x, b.call("np.tanh", y))),
  binary("divide", (b, x, y) => b.call("np.divide", x, b.call("np.add", b.call("np.square", y), 1))),
  // Base in (0.5, 1.5), exponent in (0.5, 1.5): never at pow's select points (base 0, exponent 0).
  binary("power", (b, x, y) =>
    b.call("np.power", b.call("np.add", b.call("nn.sigmoid", x), 0.5), b.call("np.add", b.call("np.multiply", b.call("np.tanh", y), 0.5), 1)),
  ),
  // tanh(x) ± 1.5 against tanh(y): each element has a clear winner.
  binary("maximum", (b, x, y, p) => b.call("np.maximum", tanhPlus(b, x, p), b.call("np.tanh", y))),
  binary("minimum", (b, x, y, p) => b.call("np.minimum", tanhPlus(b, x, p), b.call("np.tanh", y))),
  binary("where", (b, x, y, p) => b.call("np.where", mask(b, x, y, p), x, y)),
];
