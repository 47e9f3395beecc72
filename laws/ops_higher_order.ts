/**
 * The op menu of random programs, part four: higher-order primitives through their public APIs.
 * `jit`, `checkpoint`, `lax.cond`, `lax.scan` and `customJvp` each take a *body*: a random
 * sub-program (planned by `realize` from the steps that follow) that may hold further higher-order
 * ops and, except in a custom rule, read values of the enclosing program. `customJvpHand` gives a
 * function a hand-written derivative. (`lax.whileLoop` has no reverse mode and `customVjp` no
 * forward mode, so they are checked by the coverage table and the composition matrix, not mixed
 * into programs every law runs on.)
 */
import type { Builder } from "./builder.js";
import { type OpDef, type RegionOpDef, type Shape, defineOp, defineRegionOp, unaryOps } from "./ops_elementwise.js";

const unaryByName = new Map(unaryOps.map((o) => [o.name, o]));

/** An op of the unary menu, applied to `a` (its plan is shape-preserving). */
function unary<T>(b: Builder<T>, name: string, a: T, shape: Shape, choice: number): T {
  const op = unaryByName.get(name)!;
  return op.build(b, [a], op.plan([shape], choice)!.params);
}

const sameShape = (a: Shape, b: Shape) => a.length === b.length && a.every((d, i) => d === b[i]);

/** A body that maps its parameter to a value of the body's own shape: the call's result is the body's. */
const call = (name: string, build: <T>(b: Builder<T>, x: T, body: (a: T) => T) => T, closes = true): RegionOpDef<Record<string, never>> =>
  defineRegionOp({
    name,
    arity: 1,
    closes,
    bodyInput: (s) => s,
    plan: (_s, out) => ({ params: {}, shape: out }),
    build: (b, x, _p, body) => build(b, x, body),
  });

interface CondP {
  pred: number;
  parity: number;
  other: string;
  out: Shape;
  choice: number;
}

/** A predicate that depends on x but is fixed: tanh(mean x) ± 1.5 > 0; or a constant. */
function predicate<T>(b: Builder<T>, x: T, p: CondP): T {
  if (p.pred === 2) return b.constant([p.parity], [], "bool");
  return b.call("np.greater", b.call("np.add", b.call("np.tanh", b.call("np.mean", x)), p.pred === 0 ? 1.5 : -1.5), 0);
}

interface ScanP {
  reverse: boolean;
  carryOut: boolean;
  /** The carry is the step's x row itself: the loop hands a row of xs on (aliasing through carries). */
  passRow: boolean;
  fit: boolean;
}

export const regionOps: RegionOpDef[] = [
  call("jit", (b, x, body) => b.wrap("jit", [b.fn(1, (a) => body(a))], [x])),
  call("checkpoint", (b, x, body) => b.wrap("checkpoint", [b.fn(1, (a) => body(a))], [x])),
  // The rule is jvp of the body itself, so derivatives stay right whatever the body is; the body
  // may not close over the enclosing program (a custom rule sees only its declared arguments).
  call(
    "customJvp",
    (b, x, body) => {
      const f = b.fn(1, (a) => body(a));
      return b.wrap("customJvp", [f, b.fn(2, (ps, ts) => b.call("jvp", f, ps, ts))], [x]);
    },
    false,
  ),
  // Both branches run the body; the second also applies a unary op to its result.
  defineRegionOp<CondP>({
    name: "cond",
    arity: 1,
    closes: true,
    bodyInput: (s) => s,
    plan: (_s, out, choice) => ({
      params: { pred: choice % 3, parity: (choice >> 2) & 1, other: unaryOps[(choice >> 3) % unaryOps.length]!.name, out, choice },
      shape: out,
    }),
    build: (b, x, p, body) =>
      b.call(
        "lax.cond",
        predicate(b, x, p),
        b.fn(1, (a) => body(a)),
        b.fn(1, (a) => unary(b, p.other, body(a), p.out, p.choice)),
        x,
      ),
  }),
  // A bounded recurrence over the leading axis: carry h in (-1, 1), the body runs every step on
  // tanh(h / 2 + x_t), and its result (averaged to a scalar when its shape differs) feeds both the
  // next carry and the step's output. Or the next carry is x_t itself, so the final carry is a row
  // of xs (what a loop must not leave looking into storage that is reused).
  defineRegionOp<ScanP>({
    name: "scan",
    arity: 1,
    closes: true,
    bodyInput: (s) => (s.length === 0 ? null : s.slice(1)),
    plan: (s, out, choice) => {
      const carryOut = (choice & 1) === 1;
      const params = { reverse: ((choice >> 1) & 1) === 1, carryOut, passRow: ((choice >> 2) & 1) === 1, fit: !sameShape(out, s.slice(1)) };
      return { params, shape: carryOut ? s.slice(1) : s };
    },
    build: (b, x, p, body) => {
      const step = b.fn(2, (h, xt) => {
        const raw = body(b.call("np.tanh", b.call("np.add", b.call("np.multiply", h, 0.5), xt)));
        const u = b.call("np.tanh", p.fit ? b.call("np.mean", raw) : raw);
        const next = p.passRow
          ? xt
          : b.call("np.tanh", b.call("np.add", b.call("np.add", b.call("np.multiply", h, 0.5), xt), b.call("np.multiply", u, 0.5)));
        return [next, b.call("np.add", b.call("np.sin", b.call("np.multiply", h, xt)), u)];
      });
      const out = b.call("lax.scan", step, b.call("np.mean", x, { axis: 0 }), x, { reverse: p.reverse });
      return b.at(out, p.carryOut ? 0 : 1);
    },
  }),
];

/** Hand-written derivatives for customJvp: (name, f, f'). */
const customs: [string, <T>(b: Builder<T>, a: T) => T, <T>(b: Builder<T>, a: T) => T][] = [
  ["sin", (b, a) => b.call("np.sin", a), (b, a) => b.call("np.cos", a)],
  ["tanh", (b, a) => b.call("np.tanh", a), (b, a) => b.call("np.subtract", 1, b.call("np.square", b.call("np.tanh", a)))],
];

export const higherOrderOps: OpDef[] = [
  // An effect in the middle of the program: debug.callback sees x's value (primal, batched or
  // per step, depending on the transform around it) and must change nothing.
  defineOp<null>({
    name: "debugCallback",
    arity: 1,
    plan: ([s]) => ({ params: null, shape: s! }),
    build: (b, [x]) => {
      b.call(
        "debug.callback",
        b.fn(1, (a) => a),
        x!,
      );
      return x!;
    },
  }),
  defineOp<{ choice: number }>({
    name: "customJvpHand",
    arity: 1,
    plan: ([s], choice) => ({ params: { choice }, shape: s! }),
    build: (b, [x], p) => {
      const [, f, df] = customs[p.choice % customs.length]!;
      const rule = b.fn(2, (ps, ts) => [f(b, b.at(ps, 0)), b.call("np.multiply", df(b, b.at(ps, 0)), b.at(ts, 0))]);
      return b.wrap("customJvp", [b.fn(1, (a) => f(b, a)), rule], [x!]);
    },
  }),
];
