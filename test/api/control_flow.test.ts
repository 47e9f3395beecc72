import { describe, expect, it } from "vitest";
import {
  ArgumentError,
  type NDArray,
  ShapeError,
  checkpoint,
  checkpointChain,
  customJvp,
  customVjp,
  grad,
  jacfwd,
  jacrev,
  jit,
  jvp,
  lax,
  linearize,
  makeJaxpr,
  np,
  vjp,
  vmap,
} from "../../src/index.js";
import { arr, centralDiff, expectClose } from "../helpers.js";

const f64 = (x: number) => np.array(x, { dtype: "float64" });

/** Checks forward and reverse derivatives of a scalar function of a vector against central differences. */
function checkDerivatives(f: (x: NDArray) => NDArray, x: NDArray): void {
  const v = arr(x.dataSync().length === 3 ? [0.3, -0.7, 0.5] : Array.from(x.dataSync(), (_, i) => ((i % 3) - 1) * 0.4 + 0.1));
  const fd = centralDiff(f, x, v);
  expectClose(jvp(f, [x], [v])[1], fd, 1e-7, 1e-6);
  expectClose(np.sum(grad(f)(x).mul(v)), fd, 1e-7, 1e-6);
  expectClose(np.sum(jit(grad(f))(x).mul(v)), fd, 1e-7, 1e-6);
}

describe("lax.cond", () => {
  const f = (x: NDArray) =>
    lax.cond(
      np.sum(x).greater(0),
      (y: NDArray) => np.sum(np.sin(y).mul(y)),
      (y: NDArray) => np.sum(y.mul(y).mul(y)),
      x,
    );

  it("differentiates the taken branch in both modes, under jit and vmap", () => {
    checkDerivatives(f, arr([0.4, 0.9, -0.2]));
    checkDerivatives(f, arr([-0.4, 0.1, -0.5]));
    const xs = arr([
      [0.4, 0.9, -0.2],
      [-0.4, 0.1, -0.5],
    ]);
    const g = vmap(grad(f))(xs);
    expectClose(g, np.stack([grad(f)(xs.take(0, 0)), grad(f)(xs.take(1, 0))]), 1e-12);
    expectClose(jit(vmap(grad(f)))(xs), g, 1e-12);
  });

  it("with a batched predicate, keeps NaN from the untaken branch out of gradients", () => {
    const safeSqrt = (x: NDArray) =>
      lax.cond(
        x.greater(0),
        (y: NDArray) => np.sqrt(y),
        (y: NDArray) => y.mul(0),
        x,
      );
    const g = vmap(grad(safeSqrt))(arr([4, -1, 0.25]));
    expectClose(g, [0.25, 0, 1]);
    const gSum = grad((x: NDArray) => np.sum(vmap(safeSqrt)(x)))(arr([4, -1, 0.25]));
    expectClose(gSum, [0.25, 0, 1]);
  });

  it("closes over outer tracers and rejects mismatched branches", () => {
    const h = (x: NDArray, c: NDArray) =>
      lax.cond(
        x.greater(0),
        () => x.mul(c),
        () => c,
        x,
      );
    expectClose(grad(h, { argnums: 1 })(f64(2), f64(3)), 2);
    expect(() =>
      lax.cond(
        np.array(true),
        (y: NDArray) => y,
        (y: NDArray) => y.sum(),
        np.ones([2]),
      ),
    ).toThrow(ShapeError);
  });
});

describe("lax.whileLoop", () => {
  // Newton's method for sqrt(a): d/da sqrt(a) = 1 / (2 sqrt(a)).
  const newton = (a: NDArray) =>
    lax.whileLoop(
      (c: NDArray) => np.abs(c.mul(c).sub(a)).greater(1e-12),
      (c: NDArray) => c.add(a.div(c)).mul(0.5),
      a,
    );

  it("is differentiable in forward mode and batches lane by lane", () => {
    expectClose(newton(f64(2)), Math.SQRT2, 1e-12);
    expectClose(jvp(newton, [f64(2)], [f64(1)])[1], 0.5 / Math.SQRT2, 1e-9);
    expectClose(jacfwd(newton)(f64(9)), 1 / 6, 1e-9);
    expectClose(vmap(newton)(arr([2, 9, 0.25])), [Math.SQRT2, 3, 0.5], 1e-9);
    expectClose(jit(vmap(newton))(arr([2, 9, 0.25])), [Math.SQRT2, 3, 0.5], 1e-9);
  });

  it("raises a typed error in reverse mode that points to scan and fori", () => {
    expect(() => grad(newton)(f64(2))).toThrow(ArgumentError);
    // As in JAX, vjp's forward half runs; transposing the loop is what is refused.
    const [y, pullback] = vjp(newton, f64(2));
    expectClose(y, Math.sqrt(2), 1e-12);
    expect(() => pullback(f64(1))).toThrow(/lax\.scan|lax\.fori/);
  });

  it("linearizes (forward mode through partial evaluation): the linear map is the jvp", () => {
    const [y, lin] = linearize(newton, f64(2));
    expectClose(y, Math.sqrt(2), 1e-12);
    expectClose(lin(f64(1)), 0.5 / Math.sqrt(2), 1e-9);
    expectClose(lin(f64(3)), 1.5 / Math.sqrt(2), 1e-9);
  });
});

describe("lax.fori and lax.scan", () => {
  it("fori with static bounds is reverse-differentiable and its counter is an int32 index", () => {
    const powers = (x: NDArray) => lax.fori(0, 4, (i: NDArray, acc: NDArray) => acc.add(np.power(x, i.astype("float64"))), f64(0));
    expectClose(grad(powers)(f64(2)), 1 + 2 * 2 + 3 * 4, 1e-12);
    const table = arr([10, 20, 30, 40]);
    const picked = lax.fori(1, 3, (i: NDArray, acc: NDArray) => acc.add(np.take(table, i)), f64(0));
    expectClose(picked, 50);
    const dynamic = lax.fori(np.array(0, { dtype: "int32" }), np.array(3, { dtype: "int32" }), (_i: NDArray, c: NDArray) => c.mul(2), f64(1));
    expectClose(dynamic, 8);
  });

  it("scan matches finite differences in both modes, under jit and vmap, forwards and reversed", () => {
    for (const reverse of [false, true]) {
      const f = (xs: NDArray) => {
        const [c, ys] = lax.scan((c: NDArray, x: NDArray) => [np.tanh(c.mul(x).add(x)), c.mul(np.sin(x))], f64(0.5), xs, { reverse });
        return c.add(np.sum(np.square(ys)));
      };
      checkDerivatives(f, arr([0.3, -0.4, 0.8, 0.1]));
      const xs = arr([
        [0.3, -0.4, 0.8],
        [0.2, 0.5, -0.6],
      ]);
      expectClose(vmap(grad(f))(xs), np.stack([grad(f)(xs.take(0, 0)), grad(f)(xs.take(1, 0))]), 1e-12);
      expectClose(jacrev(f)(xs.take(0, 0)), jacfwd(f)(xs.take(0, 0)), 1e-12);
    }
  });

  it("scans with no xs given a length, with pytree carries", () => {
    const [out, ys] = lax.scan(
      (c: { a: NDArray; n: NDArray }) => [{ a: c.a.mul(2), n: c.n.add(1) }, c.a],
      { a: f64(1), n: np.array(0, { dtype: "int32" }) },
      null,
      { length: 4 },
    );
    expectClose(out.a, 16);
    expectClose(out.n, 4);
    expectClose(ys, [1, 2, 4, 8]);
    expect(() => lax.scan((c: NDArray) => [c, null], f64(0), null)).toThrow(ArgumentError);
    expect(() => lax.scan((c: NDArray) => [c.sum(), null], arr([1, 2]), null, { length: 2 })).toThrow(ShapeError);
  });

  it("reverse mode passes a weight every step reads once, not stacked per step", () => {
    // h <- tanh(W h + x): the backward loop needs W at each step; W is the same at each step.
    const w = arr([
      [0.5, -0.2, 0.1],
      [0.3, 0.4, -0.6],
      [-0.1, 0.2, 0.7],
    ]);
    const xs = arr([
      [0.1, -0.3, 0.2],
      [0.4, 0.5, -0.6],
      [0.2, 0.1, -0.2],
      [0.3, 0.3, 0.8],
      [-0.5, 0.6, 0.4],
    ]);
    const loss = (w: NDArray) =>
      np.sum(np.square(lax.scan((h: NDArray, x: NDArray) => [np.tanh(np.matmul(w, h).add(x)), null], np.zeros([3], "float64"), xs)[0]));
    const text = makeJaxpr(grad(loss))(w).toString();
    expect(text).toContain("scan");
    expect(text).not.toContain("f64[5,3,3]");
    const v = arr([
      [1, 0, -1],
      [0.5, 2, 0],
      [0, -1, 1],
    ]);
    expectClose(np.sum(grad(loss)(w).mul(v)), centralDiff(loss, w, v), 1e-8, 1e-6);
  });
});

describe("custom rules", () => {
  it("customJvp's rule is used by jvp, grad (transposed) and vmap", () => {
    // A clipped gradient: value tanh(x), derivative replaced by 1.
    const straight = customJvp(
      (x: NDArray) => np.tanh(x),
      ([x]: NDArray[], [t]: NDArray[]) => [np.tanh(x), t],
    );
    expectClose(jvp(straight, [f64(3)], [f64(2)])[1], 2);
    expectClose(grad((x: NDArray) => np.sum(straight(x)))(arr([1, 5])), [1, 1]);
    expectClose(vmap(grad(straight))(arr([1, 5])), [1, 1]);
    expectClose(jit(grad(straight))(f64(7)), 1);
  });

  it("customVjp's bwd is used by grad and vmap; jvp and malformed bwd are typed errors", () => {
    const scaled = customVjp(
      (x: NDArray) => np.sin(x),
      (x: NDArray) => [np.sin(x), np.cos(x)],
      (c: NDArray, ct: NDArray) => [ct.mul(c).mul(10)],
    );
    expectClose(grad(scaled)(f64(0.3)), 10 * Math.cos(0.3), 1e-12);
    expectClose(vmap(grad(scaled))(arr([0.1, 0.2])), [10 * Math.cos(0.1), 10 * Math.cos(0.2)], 1e-12);
    expect(() => jvp(scaled, [f64(0.3)], [f64(1)])).toThrow(ArgumentError);
    const bad = customVjp(
      (x: NDArray) => np.sin(x),
      (x: NDArray) => [np.sin(x), x],
      (_r: NDArray, ct: NDArray) => [ct, ct],
    );
    expect(() => grad(bad)(f64(0.3))).toThrow(ArgumentError);
    const badShape = customVjp(
      (x: NDArray) => np.sum(x),
      (x: NDArray) => [np.sum(x), x],
      (_r: NDArray, ct: NDArray) => [ct],
    );
    expect(() => grad(badShape)(arr([1, 2]))).toThrow(ShapeError);
  });
});

describe("checkpoint", () => {
  const layer = (x: NDArray) =>
    np.tanh(
      np
        .matmul(
          x,
          arr([
            [0.5, -0.3],
            [0.2, 0.8],
          ]),
        )
        .add(0.1),
    );

  it("gives identical values and gradients, with either policy and in chains", () => {
    const plain = (x: NDArray) => np.sum(layer(layer(layer(x))));
    const x = arr([0.3, -0.6]);
    for (const policy of ["nothing", "dots"] as const) {
      const ck = (y: NDArray) => np.sum(checkpoint((z: NDArray) => layer(layer(layer(z))), { policy })(y));
      expectClose(ck(x), plain(x), 1e-12);
      expectClose(grad(ck)(x), grad(plain)(x), 1e-12);
      expectClose(jit(grad(ck))(x), grad(plain)(x), 1e-12);
      expectClose(vmap(grad(ck))(np.stack([x, x.mul(2)])), vmap(grad(plain))(np.stack([x, x.mul(2)])), 1e-12);
    }
    const chain = checkpointChain([layer, layer, layer, layer, layer]);
    const deep = (y: NDArray) => layer(layer(layer(layer(layer(y)))));
    expectClose(grad((y: NDArray) => np.sum(chain(y)))(x), grad((y: NDArray) => np.sum(deep(y)))(x), 1e-12);
  });

  it("recomputes instead of saving: the backward program holds the block's recomputation", () => {
    const ck = checkpoint((z: NDArray) => np.sin(np.sin(z)));
    const text = String(makeJaxpr(grad((x: NDArray) => np.sum(ck(x))))(arr([0.1, 0.2])));
    // The transposed block recomputes sin(sin z) from its input instead of reading stored values.
    expect(text).toMatch(/transpose\(checkpoint/);
    expect((text.match(/= sin /g) ?? []).length).toBeGreaterThanOrEqual(3);
  });
});
