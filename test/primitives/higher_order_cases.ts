/**
 * Table cases of the higher-order primitives that call one program: `jit_call`, `remat`,
 * `custom_jvp_call` and `custom_vjp_call`, and of `custom_lin` (the control-flow primitives are in
 * control_flow_cases.ts). `jit_call` cases stage a small program written directly with `bind` (so
 * it holds exactly the primitives named); the others stage theirs with np ops. Programs are staged
 * with `makeJaxpr` on operands of the run's float dtype, and checked against a naive reference of
 * the whole program. The references do not call the library.
 *
 * The user rules of the custom-derivative cases are true derivatives, so central differences check
 * them; where the function's own derivative is made wrong on purpose (stop_gradient inside), only
 * the rule can pass. By design, forward mode through custom_vjp_call and every evaluation of
 * custom_lin (which only exists to be transposed) throw the typed error `customVjpForwardError`.
 */
import { ArgumentError, type ClosedProgram, type DType, type NDArray, Prim, bind, bind1, makeJaxpr, np, stopGradient } from "../../src/index.js";
import {
  type ErrorSpec,
  type FloatDType,
  type Host,
  type Operand,
  type PrimCase,
  Rng,
  at,
  build,
  distinct,
  ints,
  uni,
  zipMap,
} from "./cases_util.js";

export type HigherOrderPrim = Prim.JitCall | Prim.Remat | Prim.CustomJvpCall | Prim.CustomVjpCall | Prim.CustomLin;

/** The shape and dtype of a staged program's input. */
export interface Spec {
  shape: number[];
  dtype: DType;
}

/** `fn` staged with `makeJaxpr` on inputs of `specs` (their values do not matter). */
export function staged(fn: (...xs: NDArray[]) => NDArray[], specs: readonly Spec[]): ClosedProgram {
  return makeJaxpr(fn)(...specs.map((s) => np.zeros(s.shape.slice(), s.dtype)));
}

type JC = PrimCase<Prim.JitCall>;
const E = {} as Record<string, never>;

const nd = (o: Operand): NDArray => np.array(Float64Array.from(o.data), { shape: o.shape, dtype: o.dtype });

/** A jit_call case: `fn` is staged on operands shaped like `make`'s. */
function jitCase(
  name: string,
  make: (rng: Rng, fdt: FloatDType) => Operand[],
  fn: (fdt: FloatDType) => (...xs: NDArray[]) => NDArray[],
  rest: Omit<JC, "name" | "make" | "params">,
): JC {
  return {
    name,
    make,
    params: (fdt) => {
      const program = makeJaxpr(fn(fdt))(...make(new Rng(1), fdt).map(nd));
      return { program, name: name.split(":")[0]! };
    },
    ...rest,
  };
}

/** A staged constant of the program in case "x * c": exactly representable in float32. */
const C = [0.5, -1.5, 2];

const jitCases: PrimCase<Prim.JitCall>[] = [
  jitCase(
    "nonlinear: sin(x) * y + x, [2,3]",
    (rng, fdt) => [uni(rng, [2, 3], fdt, -2, 2), uni(rng, [2, 3], fdt, -2, 2)],
    () => (x, y) => [bind1(Prim.Add, [bind1(Prim.Mul, [bind1(Prim.Sin, [x], E), y], E), x], E)],
    { ref: ([x, y]) => zipMap([x!, y!], (a, b) => Math.sin(a) * b + a), diff: [0, 1] },
  ),
  jitCase(
    "two outputs: [reduce_sum(x, [1]), x - y]",
    (rng, fdt) => [uni(rng, [2, 3], fdt), uni(rng, [2, 3], fdt)],
    () => (x, y) => bind(Prim.ReduceSum, [x], { axes: [1] }).concat(bind(Prim.Sub, [x, y], E)),
    {
      ref: ([x, y]): Host[] => [build([2], ([i]) => at(x!, [i!, 0]) + at(x!, [i!, 1]) + at(x!, [i!, 2])), zipMap([x!, y!], (a, b) => a - b)],
      diff: [0, 1],
      linear: [[0, 1], [1]],
    },
  ),
  jitCase(
    "closes over a constant: x * c, [2,3]",
    (rng, fdt) => [uni(rng, [2, 3], fdt)],
    (fdt) => (x) => [bind1(Prim.Mul, [x, bind1(Prim.BroadcastInDim, [np.array(C, { dtype: fdt })], { shape: [2, 3], broadcastDimensions: [1] })], E)],
    { ref: ([x]) => build([2, 3], ([i, j]) => at(x!, [i!, j!]) * C[j!]!), diff: [0], linear: [[0]] },
  ),
  jitCase(
    "int operand, mixed outputs: [gather(x, idx, axis 1), argmax(x, 1)]",
    (rng, fdt) => [distinct(rng, [2, 4], fdt), ints(rng, [3], 0, 3)],
    () => (x, idx) => [bind1(Prim.Gather, [x, idx], { axis: 1, batchDims: 0 }), bind1(Prim.ArgMax, [x], { axis: 1 })],
    {
      ref: ([x, idx]) => [
        build([2, 3], ([i, k]) => at(x!, [i!, idx!.data[k!]!])),
        build([2], ([i]) => [0, 1, 2, 3].reduce((best, j) => (at(x!, [i!, j]) > at(x!, [i!, best]) ? j : best), 0)),
      ],
      outDtype: ([x]) => [x!.dtype, "int32"],
      diff: [0],
    },
  ),
];

// ---------------------------------------------------------------- remat

const sumHost = (x: Host): number => x.data.reduce((a, b) => a + b, 0);
const scalar = (v: number): Host => ({ shape: [], data: [v] });

/** W [2,3] times x [3]. */
const matvec = (w: Host, x: Host): Host => build([2], ([i]) => [0, 1, 2].reduce((s, k) => s + at(w, [i!, k]) * at(x, [k]), 0));

const rematCases: PrimCase<Prim.Remat>[] = [
  {
    name: "policy nothing: [sin(x) * y, sum(exp(x * y))]",
    make: (rng, fdt) => [uni(rng, [2, 3], fdt), uni(rng, [2, 3], fdt)],
    params: (fdt) => ({
      body: staged(
        (x, y) => [x.sin().mul(y), x.mul(y).exp().sum()],
        [
          { shape: [2, 3], dtype: fdt },
          { shape: [2, 3], dtype: fdt },
        ],
      ),
      policy: "nothing",
      name: "remat_nothing",
    }),
    ref: ([x, y]) => [zipMap([x!, y!], (a, b) => Math.sin(a) * b), scalar(sumHost(zipMap([x!, y!], (a, b) => Math.exp(a * b))))],
    diff: [0, 1],
  },
  {
    name: "policy dots: [tanh(W x), sum(sin(W x) * x0)]",
    // operands: W [2,3], x [3]; the matrix product is what the "dots" policy saves
    make: (rng, fdt) => [uni(rng, [2, 3], fdt), uni(rng, [3], fdt, -2, 2)],
    params: (fdt) => ({
      body: staged(
        (w, x) => {
          const wx = np.matmul(w, x);
          return [wx.tanh(), wx.sin().mul(x.take(0)).sum()];
        },
        [
          { shape: [2, 3], dtype: fdt },
          { shape: [3], dtype: fdt },
        ],
      ),
      policy: "dots",
      name: "remat_dots",
    }),
    ref: ([w, x]) => {
      const wx = matvec(w!, x!);
      return [{ shape: [2], data: wx.data.map(Math.tanh) }, scalar(wx.data.reduce((s, v) => s + Math.sin(v) * x!.data[0]!, 0))];
    },
    diff: [0, 1],
  },
  {
    name: "policy dots, linear in x: [W x - 2 * x0]",
    make: (rng, fdt) => [uni(rng, [2, 3], fdt), uni(rng, [3], fdt)],
    params: (fdt) => ({
      body: staged(
        (w, x) => [np.matmul(w, x).sub(x.take(0).mul(2))],
        [
          { shape: [2, 3], dtype: fdt },
          { shape: [3], dtype: fdt },
        ],
      ),
      policy: "dots",
      name: "remat_linear",
    }),
    ref: ([w, x]) => [{ shape: [2], data: matvec(w!, x!).data.map((v) => v - 2 * x!.data[0]!) }],
    diff: [0, 1],
    linear: [[1]],
  },
];

// ---------------------------------------------------------------- custom_jvp_call

const f32or64 =
  (fdt: FloatDType) =>
  (shape: number[]): Spec => ({ shape, dtype: fdt });

const customJvpCases: PrimCase<Prim.CustomJvpCall>[] = [
  {
    name: "sin(x), rule [sin x, t cos x]",
    make: (rng, fdt) => [uni(rng, [2, 3], fdt, -3, 3)],
    params: (fdt) => ({
      fun: staged((x) => [x.sin()], [f32or64(fdt)([2, 3])]),
      rule: ([x], [t]) => [[x!.sin()], [t!.mul(x!.cos())]],
      numLifted: 0,
      name: "custom_sin",
    }),
    ref: ([x]) => ({ shape: x!.shape.slice(), data: x!.data.map(Math.sin) }),
    diff: [0],
  },
  {
    name: "two inputs, two outputs: [x * y, exp(x) + y], rule is the product and exp rules",
    make: (rng, fdt) => [uni(rng, [3], fdt), uni(rng, [3], fdt)],
    params: (fdt) => ({
      fun: staged((x, y) => [x.mul(y), x.exp().add(y)], [f32or64(fdt)([3]), f32or64(fdt)([3])]),
      rule: ([x, y], [tx, ty]) => [
        [x!.mul(y!), x!.exp().add(y!)],
        [tx!.mul(y!).add(x!.mul(ty!)), x!.exp().mul(tx!).add(ty!)],
      ],
      numLifted: 0,
      name: "custom_pair",
    }),
    ref: ([x, y]) => [zipMap([x!, y!], (a, b) => a * b), zipMap([x!, y!], (a, b) => Math.exp(a) + b)],
    diff: [0, 1],
  },
  {
    name: "the function's own derivative is zero (stop_gradient inside): x^3, rule 3 x^2 t",
    make: (rng, fdt) => [uni(rng, [4], fdt, -1.5, 1.5)],
    params: (fdt) => ({
      fun: staged(
        (x) => {
          const s = stopGradient(x);
          return [s.mul(s).mul(s)];
        },
        [f32or64(fdt)([4])],
      ),
      rule: ([x], [t]) => [[x!.mul(x!).mul(x!)], [t!.mul(x!.mul(x!).mul(3))]],
      numLifted: 0,
      name: "custom_cube",
    }),
    ref: ([x]) => ({ shape: [4], data: x!.data.map((v) => v * v * v) }),
    diff: [0],
  },
];

// ---------------------------------------------------------------- custom_vjp_call and custom_lin

/** Forward mode through a customVjp function (or evaluating its custom_lin) is an error by design. */
const NO_FORWARD: ErrorSpec = { error: ArgumentError, message: /customVjp function has no forward-mode derivative/ };

const customVjpCases: PrimCase<Prim.CustomVjpCall>[] = [
  {
    name: "sin(x) * y, residuals [cos x, sin x, y]",
    make: (rng, fdt) => [uni(rng, [2, 3], fdt, -3, 3), uni(rng, [2, 3], fdt)],
    params: (fdt) => ({
      fun: staged((x, y) => [x.sin().mul(y)], [f32or64(fdt)([2, 3]), f32or64(fdt)([2, 3])]),
      fwd: ([x, y]) => [[x!.sin().mul(y!)], [x!.cos(), x!.sin(), y!]],
      bwd: ([c, s, y], [g]) => [g!.mul(y!).mul(c!), g!.mul(s!)],
      numLifted: 0,
      name: "custom_sin_mul",
    }),
    ref: ([x, y]) => zipMap([x!, y!], (a, b) => Math.sin(a) * b),
    diff: [0, 1],
    expectError: { jvp: NO_FORWARD },
  },
  {
    name: "the function's own derivative is zero (stop_gradient inside), two outputs: [x^3, sum(x)], bwd [3 x^2 g1 + g2]",
    make: (rng, fdt) => [uni(rng, [3], fdt, -1.5, 1.5)],
    params: (fdt) => ({
      fun: staged(
        (x) => {
          const s = stopGradient(x);
          return [s.mul(s).mul(s), s.sum()];
        },
        [f32or64(fdt)([3])],
      ),
      fwd: ([x]) => [[x!.mul(x!).mul(x!), x!.sum()], [x!]],
      bwd: ([x], [g1, g2]) => [g1!.mul(x!.mul(x!).mul(3)).add(g2!)],
      numLifted: 0,
      name: "custom_cube_sum",
    }),
    ref: ([x]) => [{ shape: [3], data: x!.data.map((v) => v * v * v) }, scalar(sumHost(x!))],
    diff: [0],
    expectError: { jvp: NO_FORWARD },
  },
];

const customLinCases: PrimCase<Prim.CustomLin>[] = [
  {
    name: "one residual: t -> t * cos(r), bwd ct * cos(r)",
    // operands: r (residual [2,3]), t (linear [2,3]); the reference is the linear map itself
    make: (rng, fdt) => [uni(rng, [2, 3], fdt, -3, 3), uni(rng, [2, 3], fdt)],
    params: (fdt) => ({
      bwd: ([r], [ct]) => [ct!.mul(r!.cos())],
      numRes: 1,
      outAvals: [{ shape: [2, 3], dtype: fdt }],
      name: "custom_lin_cos",
    }),
    ref: ([r, t]) => zipMap([r!, t!], (a, b) => b * Math.cos(a)),
    outDtype: ([, t]) => t!.dtype,
    diff: [1],
    linear: [[1]],
    expectError: { value: NO_FORWARD, jvp: NO_FORWARD, vjp: NO_FORWARD, vmap: NO_FORWARD },
  },
  {
    name: "two residuals, two linear inputs, two outputs: (t1, t2) -> (t1 * a, sum(t1) + t2 * b)",
    // operands: a, b (residuals [3]), t1, t2 (linear [3])
    make: (rng, fdt) => [uni(rng, [3], fdt), uni(rng, [3], fdt), uni(rng, [3], fdt), uni(rng, [3], fdt)],
    params: (fdt) => ({
      bwd: ([a, b], [g1, g2]) => [g1!.mul(a!).add(g2!.sum()), g2!.mul(b!)],
      numRes: 2,
      outAvals: [
        { shape: [3], dtype: fdt },
        { shape: [3], dtype: fdt },
      ],
      name: "custom_lin_pair",
    }),
    ref: ([a, b, t1, t2]) => [zipMap([t1!, a!], (u, v) => u * v), zipMap([t2!, b!], (u, v) => sumHost(t1!) + u * v)],
    diff: [2, 3],
    // jointly linear; either one alone is affine (the other adds a fixed offset)
    linear: [[2, 3]],
    expectError: { value: NO_FORWARD, jvp: NO_FORWARD, vjp: NO_FORWARD, vmap: NO_FORWARD },
  },
];

export const higherOrderCases: { [P in HigherOrderPrim]: PrimCase<P>[] } = {
  [Prim.JitCall]: jitCases,
  [Prim.Remat]: rematCases,
  [Prim.CustomJvpCall]: customJvpCases,
  [Prim.CustomVjpCall]: customVjpCases,
  [Prim.CustomLin]: customLinCases,
};
