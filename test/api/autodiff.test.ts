import { describe, expect, it } from "vitest";
import {
  ArgumentError,
  ConcretizationError,
  DTypeError,
  EscapedTracerError,
  type NDArray,
  ShapeError,
  grad,
  hessian,
  jacfwd,
  jacrev,
  jvp,
  linearize,
  np,
  valueAndGrad,
  vjp,
  vmap,
} from "../../src/index.js";
import { arr, centralDiff, expectClose } from "../helpers.js";

const x3 = () => arr([0.3, -1.2, 2.1]);

describe("grad", () => {
  it("matches the analytic gradient", () => {
    const f = (x: NDArray) => np.sum(np.sin(x).mul(x));
    const x = x3();
    const want = np.cos(x).mul(x).add(np.sin(x));
    expectClose(grad(f)(x), want, 1e-12);
  });

  it("avoids perturbation confusion: d/dx [x * d/dy (x + y)] at 1 is 1", () => {
    const g = grad((x: NDArray) => x.mul(grad((y: NDArray) => x.add(y))(1.0)));
    expectClose(g(1.0), 1);
  });

  it("takes third derivatives of sin", () => {
    for (const x of [0.5, -1.3, 2.0]) {
      expectClose(grad(grad(grad(np.sin)))(x), -Math.cos(x), 1e-5);
      expectClose(grad(grad(grad(grad(np.sin))))(x), Math.sin(x), 1e-5);
    }
  });

  it("composes with jvp inside grad", () => {
    // d/dx of (d/dt sin(x + t) at t = 0) = -sin x
    const g = grad((x: NDArray) => jvp((y: NDArray) => np.sin(y), [x], [np.onesLike(x)])[1]);
    expectClose(g(arr(0.7 as unknown as number[])), -Math.sin(0.7), 1e-12);
  });

  it("jvp of grad equals the Hessian times v", () => {
    const f = (x: NDArray) => np.sum(np.exp(x.mul(0.5)).mul(np.sin(x))).add(np.prod(x));
    const x = x3(),
      v = arr([0.2, -0.7, 1.1]);
    const hv = jvp(grad(f), [x], [v])[1];
    const H = hessian(f)(x) as NDArray;
    expectClose(hv, np.matmul(H, v), 1e-10);
    expectClose(H, H.T, 1e-10);
  });

  it("gives zeros for an input f ignores, and supports argnums and hasAux", () => {
    const f = (a: NDArray, _b: NDArray) => np.sum(a.mul(a));
    const [ga, gb] = grad(f, { argnums: [0, 1] })(x3(), x3());
    expectClose(ga, x3().mul(2));
    expectClose(gb, [0, 0, 0]);
    const [[v, aux], g] = valueAndGrad((a: NDArray) => [np.sum(a), { n: 3 }], { hasAux: true })(x3());
    expectClose(v, 0.3 - 1.2 + 2.1, 1e-12);
    expect(aux).toEqual({ n: 3 });
    expectClose(g, [1, 1, 1]);
  });

  it("differentiates pytrees of parameters", () => {
    const loss = (p: { w: NDArray; b: NDArray }, x: NDArray) => np.sum(np.tanh(np.matmul(x, p.w).add(p.b)));
    const p = {
      w: arr([
        [0.1, 0.2],
        [0.3, -0.4],
        [0.5, 0.6],
      ]),
      b: arr([0.01, -0.02]),
    };
    const x = arr([
      [1, 2, 3],
      [-1, 0.5, 2],
    ]);
    const g = grad(loss)(p, x) as { w: NDArray; b: NDArray };
    expect(Object.keys(g).sort()).toEqual(["b", "w"]);
    const dir = {
      w: arr([
        [1, 0],
        [0, 1],
        [1, 1],
      ]),
      b: arr([1, -1]),
    };
    const fd = centralDiff((t) => loss({ w: p.w.add(dir.w.mul(t)), b: p.b.add(dir.b.mul(t)) }, x), np.zeros([], "float64"), np.ones([], "float64"));
    expectClose(np.sum(g.w.mul(dir.w)).add(np.sum(g.b.mul(dir.b))), fd, 1e-6, 1e-6);
  });

  it("handles a 100,000-op chain with the default stack", () => {
    const f = (x: NDArray) => {
      let y = x;
      for (let i = 0; i < 100_000; i++) y = y.mul(0.9999).add(0.0001);
      return y;
    };
    const g = grad(f)(arr(1 as unknown as number[]));
    expectClose(g, Math.pow(0.9999, 100_000), 1e-9, 1e-6);
  });

  it("rejects non-scalar outputs and integer inputs with typed errors", () => {
    expect(() => grad((x: NDArray) => x.mul(2))(x3())).toThrow(ShapeError);
    expect(() => grad((x: NDArray) => np.sum(x))(np.array([1, 2], { dtype: "int32" }))).toThrow(DTypeError);
    expect(() => grad((x: NDArray) => np.sum(x), { argnums: 3 })(x3())).toThrow(ArgumentError);
  });
});

describe("jvp, vjp, linearize", () => {
  const f = (x: NDArray) => np.sin(x).mul(np.exp(x));

  it("agree with each other and with finite differences", () => {
    const x = x3(),
      v = arr([1, -0.5, 0.25]),
      u = arr([0.3, 0.2, -1]);
    const [y, jv] = jvp(f, [x], [v]);
    const [y2, pull] = vjp(f, x);
    const [y3, fJvp] = linearize(f, x);
    expectClose(y2, y);
    expectClose(y3, y);
    expectClose(fJvp(v), jv, 1e-12);
    // transpose identity <u, J v> = <J^T u, v>
    expectClose(np.sum(u.mul(jv)), np.sum(pull(u)[0].mul(v)), 1e-12);
    expectClose(jv, centralDiff(f, x, v), 1e-7, 1e-6);
  });

  it("rejects mismatched tangents and cotangents", () => {
    expect(() => jvp(f, [x3()], [arr([1, 2])])).toThrow(ShapeError);
    expect(() => jvp(f, [x3()], [x3().astype("float32")])).toThrow(DTypeError);
    expect(() => jvp(f, [x3()], [[x3()]])).toThrow(ArgumentError);
    const [, pull] = vjp(f, x3());
    expect(() => pull(arr([1, 2]))).toThrow(ShapeError);
    const [, fJvp] = linearize(f, x3());
    expect(() => fJvp(arr([1]))).toThrow(ShapeError);
  });

  it("gives zero cotangents to integer inputs", () => {
    const [, pull] = vjp((x: NDArray, n: NDArray) => x.mul(n), x3(), np.array([1, 2, 3], { dtype: "int32" }));
    const [cx, cn] = pull(arr([1, 1, 1]));
    expectClose(cx, [1, 2, 3]);
    expect(cn.dtype).toBe("int32");
    expectClose(cn, [0, 0, 0]);
  });
});

describe("vmap", () => {
  const xs = arr([
    [1, 2, 3],
    [4, 5, 6],
  ]);

  it("equals stacking per-example results, with inAxes and outAxes", () => {
    const f = (x: NDArray, w: NDArray) => np.tanh(np.dot(w, x));
    const w = arr([
      [0.1, 0.2, 0.3],
      [0.4, 0.5, -0.6],
    ]);
    const batched = vmap(f, { inAxes: [0, null] })(xs, w);
    const looped = np.stack([f(xs.take(0, 0), w), f(xs.take(1, 0), w)]);
    expectClose(batched, looped, 1e-12);
    const cols = vmap(f, { inAxes: [1, null], outAxes: 1 })(xs.T, w);
    expectClose(cols, looped.T, 1e-12);
  });

  it("commutes with grad and jvp", () => {
    const f = (x: NDArray) => np.sum(np.sin(x).mul(x));
    const g = vmap(grad(f))(xs);
    const rows = [0, 1].map((i) => grad(f)(xs.take(i, 0)));
    expectClose(g, np.stack(rows), 1e-12);
    const gv = grad((x: NDArray) => np.sum(vmap(f)(x)))(xs);
    expectClose(gv, g, 1e-12);
    const jv = vmap((x: NDArray) => jvp(f, [x], [np.onesLike(x)])[1])(xs);
    expectClose(jv, np.sum(g, 1), 1e-12);
  });

  it("nests, broadcasts unmapped outputs, and passes empty trees through", () => {
    const outer = vmap(
      vmap((a: NDArray, b: NDArray) => a.mul(b), { inAxes: [0, null] }),
      { inAxes: [null, 0] },
    );
    expectClose(outer(arr([1, 2]), arr([10, 20, 30])), [
      [10, 20],
      [20, 40],
      [30, 60],
    ]);
    const c = vmap((_x: NDArray) => np.array(7, { dtype: "float64" }))(xs);
    expectClose(c, [7, 7]);
    expect(vmap((x: NDArray) => [x.sum(), [], {}])(xs)[1]).toEqual([]);
  });

  it("raises typed errors for mismatched batch sizes and JS comparisons", async () => {
    const { BatchError } = await import("../../src/index.js");
    expect(() => vmap((a: NDArray, b: NDArray) => a.add(b))(arr([1, 2]), arr([1, 2, 3]))).toThrow(BatchError);
    expect(() => vmap((a: NDArray) => ((a as unknown as number) > 0 ? a : a.neg()))(arr([1, -2]))).toThrow(ConcretizationError);
  });
});

describe("Jacobians", () => {
  it("jacfwd equals jacrev on pytrees of any shape", () => {
    const f = (p: { a: NDArray; b: NDArray }) => ({ u: np.sin(p.a).mul(np.sum(p.b)), v: np.matmul(p.b, p.b.T) });
    const p = {
      a: arr([0.1, 0.2, 0.3]),
      b: arr([
        [1, 2],
        [3, 4],
      ]),
    };
    const jf = jacfwd(f)(p),
      jr = jacrev(f)(p);
    expect(jf.v.b.shape).toEqual([2, 2, 2, 2]);
    expect(jf.u.a.shape).toEqual([3, 3]);
    for (const o of ["u", "v"] as const) for (const i of ["a", "b"] as const) expectClose(jf[o][i], jr[o][i], 1e-12);
    expectClose(jf.u.a, np.eye(3).mul(np.cos(p.a).mul(10)), 1e-12);
  });
});

describe("JS comparisons and escaped tracers", () => {
  it("a concrete scalar compares as its number, eagerly and under grad", () => {
    const relu = (x: NDArray) => ((x as unknown as number) > 0 ? x : x.mul(0));
    expectClose(relu(np.array(2)), 2);
    expectClose(grad(relu)(3), 1);
    expectClose(grad(relu)(-3), 0);
  });

  it("a tracer used after its transform returned raises EscapedTracerError", () => {
    let leaked: NDArray | null = null;
    grad((x: NDArray) => {
      leaked = x;
      return np.sum(x.mul(x));
    })(x3());
    expect(() => np.sin(leaked!)).toThrow(EscapedTracerError);
    expect(() => np.sin(leaked!)).toThrow(/outlived its transform/);
  });

  it("a failed call leaves its inputs unchanged", () => {
    const a = arr([1, 2, 3]);
    const before = Array.from(a.dataSync());
    expect(() => np.add(a, arr([1, 2]))).toThrow(ShapeError);
    expect(() => grad((x: NDArray) => x)(a)).toThrow(ShapeError);
    expect(Array.from(a.dataSync())).toEqual(before);
    expect(a.shape).toEqual([3]);
  });
});
