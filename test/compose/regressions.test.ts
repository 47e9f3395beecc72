/** Derivative bugs of the nested-transform family, each pinned by the case that found it. */
import { describe, expect, it } from "vitest";
import { FluxionError, LinearityError, type NDArray, grad, jacfwd, jit, lax, makeJaxpr, np, vmap } from "../../src/index.js";
import { transposeProgram } from "../../interpreters/vjp/index.js";
import { Program, Var } from "../../src/ir/ir.js";
import { expectClose } from "../helpers.js";

const f64 = (x: number | number[] | number[][]) => np.array(x, { dtype: "float64" });

describe("nested transforms", () => {
  it("grad of a jitted loss that calls a jitted layer", () => {
    const layer = jit((w: NDArray, x: NDArray) => np.tanh(np.matmul(x, w)));
    const loss = jit((w: NDArray, x: NDArray) => np.sum(np.square(layer(w, x))));
    const w = f64([
        [0.1, -0.2],
        [0.3, 0.05],
        [-0.4, 0.2],
      ]),
      x = f64([
        [1, 2, 3],
        [0.5, -1, 0.25],
        [2, 0, -1],
        [-0.3, 0.7, 1.1],
      ]);
    // d/dw sum(tanh(xw)^2) = x^T (2 tanh(xw) (1 - tanh(xw)^2)), written out with plain ops.
    const t = np.tanh(np.matmul(x, w));
    const want = np.matmul(x.T, t.mul(2).mul(np.subtract(1, t.mul(t))));
    expectClose(grad(loss)(w, x), want, 1e-12, 1e-12);
    expectClose(grad(loss)(np.ones([3, 2]), np.ones([4, 3])).shape.length, 2);
  });

  it("grad(jit(z => cos(jit(sin)(z))))", () => {
    const f = jit((z: NDArray) => np.cos(jit(np.sin)(z)));
    expectClose(grad(f)(f64(0.5)), -Math.sin(Math.sin(0.5)) * Math.cos(0.5), 1e-14, 1e-14);
  });

  it("a transposition error is typed, names the primitive and says it is a bug", () => {
    // Partial evaluation never produces x * x with x linear; transpose such a program by hand.
    const square = makeJaxpr((x: NDArray) => x.mul(x))(f64(3));
    let err: unknown;
    try {
      transposeProgram(square, [f64(1)]);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(FluxionError);
    expect(err).toBeInstanceOf(LinearityError);
    expect((err as Error).message).toMatch(/transpose of mul.*bug in fluxion/);
    const sine = makeJaxpr((x: NDArray) => np.sin(x))(f64(3));
    expect(() => transposeProgram(sine, [f64(1)])).toThrow(LinearityError);
    expect(() => transposeProgram(sine, [f64(1)])).toThrow(/transpose of sin.*bug in fluxion/);
  });

  it("transposes alike whether a program's variable ids are dense or spread out", () => {
    // x -> (3x + x·c) · 2 with c = 0.5 closed over: linear in x, cotangent 1 gives 7. (Scalars, so
    // that every constant is a constvar rather than a broadcast equation.)
    const c = f64(0.5);
    const linear = makeJaxpr((x: NDArray) => np.multiply(np.add(np.multiply(x, 3), np.multiply(x, c)), 2))(f64(1));
    const dense = transposeProgram(linear, [f64(1)])[0]!;
    // The same program over fresh variables with thousands of unrelated ids between each of them
    // (as a program assembled from parts staged at different times has): the table keeps maps.
    const fresh = new Map<Var, Var>();
    const copy = (v: Var) => {
      let w = fresh.get(v);
      if (w === undefined) {
        for (let i = 0; i < 2000; i++) new Var(v.aval);
        fresh.set(v, (w = new Var(v.aval)));
      }
      return w;
    };
    const p = linear.program;
    const spread = new Program(
      p.constvars.map(copy),
      p.invars.map(copy),
      p.eqns.map((e) => ({ ...e, inputs: e.inputs.map(copy), outvars: e.outvars.map(copy) })),
      p.outvars.map(copy),
    );
    const out = transposeProgram({ program: spread, consts: linear.consts }, [f64(1)])[0]!;
    expect(dense.item()).toBe(7);
    expect(out.item()).toBe(7);
  });
});

describe("batched cond under reverse mode (JAX testCondGradVmapNan)", () => {
  const eps = 1e-8;
  const f = (x: NDArray) =>
    lax.cond(
      np.less(x, eps),
      () => f64(eps),
      (y: NDArray) => np.sqrt(y),
      x,
    );

  it("the untaken branch's NaN stays out of the gradient", () => {
    const g = grad((x: NDArray) => np.sum(vmap(f)(x)));
    const at0 = g(np.zeros([2], "float64"));
    expect(Array.from(at0.dataSync())).toEqual([0, 0]);
    expectClose(g(f64([0, 4])), [0, 0.25], 1e-15, 0);
  });
});

describe("pow's derivative at y = 0 (JAX issue 12033)", () => {
  const pow = (x: NDArray, y: NDArray) => np.power(x, y);
  const h = jacfwd(jacfwd(pow, { argnums: [0, 1] }), { argnums: [0, 1] });
  const at = (x: number, y: number) => (h(f64(x), f64(y)) as NDArray[][]).map((row) => row.map((e) => e.item()));

  it("the mixed second derivative at (4, 0) is 1/4 both ways", () => {
    const [[dxx, dxy], [dyx, dyy]] = at(4, 0) as [[number, number], [number, number]];
    expect(dxx).toBe(0);
    expectClose(dxy, 0.25, 1e-15, 0);
    expectClose(dyx, 0.25, 1e-15, 0);
    expectClose(dyy, Math.log(4) ** 2, 1e-14, 0);
  });

  it("stays finite at 0^0 and 0^y", () => {
    for (const [x, y] of [
      [0, 0],
      [0, 2],
      [0, 3],
    ] as const) {
      for (const e of at(x, y).flat()) expect(Number.isFinite(e)).toBe(true);
    }
    // d/dx x^2 at 0 is 0, d2/dx2 is 2.
    expectClose(at(0, 2)[0]![0]!, 2, 1e-15, 0);
  });
});
