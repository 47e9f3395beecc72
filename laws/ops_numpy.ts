/**
 * The op menu of random programs, numpy part: the composed jax.numpy functions (inverse
 * hyperbolic and two-argument trigonometry, logaddexp, sinc, cumulative product and maximum,
 * sort, roll, unique with a static size, median), so they are drawn inside jit, scan, cond, checkpoint and customJvp bodies
 * under every transform. Inputs stay in smooth domains: arctan2's x operand is positive (no branch
 * cut), and sort/cummax/median see `spread` values, which never tie.
 */
import type { Builder } from "./builder.js";
import { type OpDef, type Shape, defineOp, spread } from "./ops_elementwise.js";

interface Same {
  shape: Shape;
  choice: number;
}
interface Axis {
  shape: Shape;
  axis: number;
  choice: number;
}

const same = (name: string, arity: 1 | 2, build: <T>(b: Builder<T>, xs: readonly T[], p: Same) => T): OpDef<Same> =>
  defineOp({
    name,
    arity,
    // A second operand of another shape is reduced to its mean, a scalar that broadcasts.
    plan: ([s], choice) => ({ params: { shape: s!, choice }, shape: s! }),
    build: (b, xs, p) => build(b, xs.length === 2 ? [xs[0]!, b.call("np.mean", xs[1]!)] : xs, p),
  });

/** An op along one axis (chosen by `choice`) that keeps the shape; not for scalars. */
const alongAxis = (name: string, build: <T>(b: Builder<T>, x: T, p: Axis) => T): OpDef<Axis> =>
  defineOp({
    name,
    arity: 1,
    plan: ([s], choice) => (s!.length === 0 ? null : { params: { shape: s!, axis: choice % s!.length, choice }, shape: s! }),
    build: (b, [x], p) => build(b, x!, p),
  });

export const numpyOps: OpDef[] = [
  same("arcsinh", 1, (b, [x]) => b.call("np.arcsinh", x!)),
  same("sinc", 1, (b, [x]) => b.call("np.sinc", x!)),
  same("arctan2", 2, (b, [x, y]) => b.call("np.arctan2", x!, b.call("np.add", b.call("nn.sigmoid", y!), 0.5))),
  same("logaddexp", 2, (b, [x, y]) => b.call("np.logaddexp", x!, y!)),
  alongAxis("cumprod", (b, x, p) => b.call("np.cumprod", b.call("np.add", b.call("np.multiply", b.call("np.tanh", x), 0.5), 1), { axis: p.axis })),
  alongAxis("cummax", (b, x, p) => b.call("np.cummax", spread(b, x, p.shape, p.choice), { axis: p.axis })),
  alongAxis("sort", (b, x, p) => b.call("np.sort", spread(b, x, p.shape, p.choice), { axis: p.axis })),
  alongAxis("roll", (b, x, p) => b.call("np.roll", x, 1 + (p.choice % 3), { axis: p.axis })),
  // unique with a static size (traceable); spread values are distinct, so it is the flattened sort.
  alongAxis("unique", (b, x, p) =>
    b.call("np.reshape", b.call("np.unique", spread(b, x, p.shape, p.choice), { size: p.shape.reduce((n, d) => n * d, 1) }), [...p.shape]),
  ),
];
