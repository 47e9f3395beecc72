/**
 * The op menu of random programs, part four: higher-order primitives through their public APIs.
 * `jit`, `checkpoint` and `lax.cond` wrap other (shape-preserving) ops of the menu, so their bodies
 * are random too; `lax.scan` runs a bounded recurrence over the leading axis; `customJvp` gives a
 * function its correct derivative by hand. (`lax.whileLoop` has no reverse mode and `customVjp` no
 * forward mode, so they are checked by the coverage table, not mixed into programs every law runs on.)
 */
import type { Builder } from "./builder.js";
import { type OpDef, type Shape, defineOp, unaryOps } from "./ops_elementwise.js";

interface Wrapped { shape: Shape; choice: number; inner: string; other: string; pred: number }

const unaryByName = new Map(unaryOps.map((o) => [o.name, o]));

/** An op of the unary menu, applied to `a` (its plan is shape-preserving). */
function inner<T>(b: Builder<T>, name: string, a: T, shape: Shape, choice: number): T {
  const op = unaryByName.get(name)!;
  return op.build(b, [a], op.plan([shape], choice)!.params);
}

/** Params for an op that wraps one or two unary ops chosen by `choice`. */
const wrapping = (name: string, build: <T>(b: Builder<T>, x: T, p: Wrapped) => T): OpDef<Wrapped> => defineOp({
  name,
  arity: 1,
  plan: ([s], choice) => ({
    params: { shape: s!, choice: choice >> 6, inner: unaryOps[choice % unaryOps.length]!.name, other: unaryOps[(choice >> 3) % unaryOps.length]!.name, pred: choice % 3 },
    shape: s!,
  }),
  build: (b, [x], p) => build(b, x!, p),
});

/** A predicate that depends on x but is fixed: tanh(mean x) ± 1.5 > 0; or a constant. */
function predicate<T>(b: Builder<T>, x: T, p: Wrapped): T {
  if (p.pred === 2) return b.constant([p.choice % 2], [], "bool");
  return b.call("np.greater", b.call("np.add", b.call("np.tanh", b.call("np.mean", x)), p.pred === 0 ? 1.5 : -1.5), 0);
}

/** Hand-written derivatives for customJvp: (name, f, f'). */
const customs: [string, <T>(b: Builder<T>, a: T) => T, <T>(b: Builder<T>, a: T) => T][] = [
  ["sin", (b, a) => b.call("np.sin", a), (b, a) => b.call("np.cos", a)],
  ["tanh", (b, a) => b.call("np.tanh", a), (b, a) => b.call("np.subtract", 1, b.call("np.square", b.call("np.tanh", a)))],
];

interface ScanP { reverse: boolean; carryOut: boolean; shape: Shape }

export const higherOrderOps: OpDef[] = [
  wrapping("jit", (b, x, p) => b.wrap("jit", [b.fn(1, (a) => inner(b, p.inner, a, p.shape, p.choice))], [x])),
  wrapping("checkpoint", (b, x, p) => b.wrap("checkpoint", [b.fn(1, (a) => inner(b, p.inner, a, p.shape, p.choice))], [x])),
  wrapping("cond", (b, x, p) => b.call("lax.cond", predicate(b, x, p),
    b.fn(1, (a) => inner(b, p.inner, a, p.shape, p.choice)), b.fn(1, (a) => inner(b, p.other, a, p.shape, p.choice + 1)), x)),
  wrapping("customJvp", (b, x, p) => {
    const [, f, df] = customs[p.choice % customs.length]!;
    const rule = b.fn(2, (ps, ts) => [f(b, b.at(ps, 0)), b.call("np.multiply", df(b, b.at(ps, 0)), b.at(ts, 0))]);
    return b.wrap("customJvp", [b.fn(1, (a) => f(b, a)), rule], [x]);
  }),
  defineOp<ScanP>({
    name: "scan",
    arity: 1,
    plan: ([s], choice) => {
      if (s!.length === 0) return null;
      const carryOut = (choice & 1) === 1;
      return { params: { reverse: ((choice >> 1) & 1) === 1, carryOut, shape: s! }, shape: carryOut ? s!.slice(1) : s! };
    },
    build: (b, [x], p) => {
      // carry h in (-1, 1); ys = sin(h * x_t): bounded whatever the length.
      const body = b.fn(2, (h, xt) => [b.call("np.tanh", b.call("np.add", b.call("np.multiply", h, 0.5), xt)), b.call("np.sin", b.call("np.multiply", h, xt))]);
      const out = b.call("lax.scan", body, b.call("np.mean", x!, { axis: 0 }), x!, { reverse: p.reverse });
      return b.at(out, p.carryOut ? 0 : 1);
    },
  }),
];
