import { describe, expect, it } from "vitest";
import { ConcretizationError, type NDArray, grad, jit, jvp, makeJaxpr, nn, np, random, valueAndGrad, vmap } from "../../src/index.js";
import { expectClose } from "../helpers.js";

const key = random.key(7);
const [k1, k2, k3] = random.split(key, 3);
const x = random.normal(k1!, [4, 5]);
const w = random.normal(k2!, [5, 3]);
const b = random.normal(k3!, [3]);

/** Functions that exercise fusion, broadcasts, fused and unfused reductions, matmul, ints and selects. */
const programs: Record<string, (...a: NDArray[]) => unknown> = {
  elementwise: (x) => np.exp(np.sin(x).mul(2).add(1)).sub(np.tanh(x)),
  broadcasts: (x, _w, b) => x.mul(b.reshape([1, 3]).sum().add(np.arange(5).astype("float32"))),
  fusedReductions: (x) => [np.sum(np.square(x)), np.max(np.cos(x), 1), np.min(x.mul(3), 0), np.mean(x, { axis: 1, keepdims: true })],
  mlp: (x, w, b) => nn.logSoftmax(nn.relu(np.matmul(x, w).add(b))),
  indexing: (x) => [np.argmax(x, 1), np.take(x, np.array([3, 0, 1], { dtype: "int32" }), 1), np.cumsum(x, 0)],
  selects: (x) => np.where(x.greater(0), np.sqrt(np.abs(x)), x.mul(x)).add(np.clip(x, -0.5, 0.5)),
  ints: (x) => {
    const i = x.mul(10).astype("int32");
    return [i.mul(i).add(3), np.maximum(i, 2), np.equal(i, 0), np.sum(i)];
  },
  shapes: (x) =>
    np
      .concatenate([x.T, np.flip(x, 0).T], 1)
      .reshape([-1])
      .take(np.arange(0, 40, 3)),
};

describe("jit equals eager", () => {
  for (const [name, f] of Object.entries(programs)) {
    it(name, () => {
      const eager = f(x, w, b),
        compiled = jit(f)(x, w, b);
      const flat = (t: unknown) => (Array.isArray(t) ? t : [t]) as NDArray[];
      flat(eager).forEach((e, i) => {
        const c = flat(compiled)[i]!;
        expect(c.shape).toEqual(e.shape);
        expect(c.dtype).toBe(e.dtype);
        // Eager kernels and fused loops share their scalar expressions: results agree exactly.
        expect(Array.from(c.dataSync())).toEqual(Array.from(e.dataSync()));
      });
    });
  }
});

describe("jit cache", () => {
  it("traces once per signature and retraces on a shape, dtype or static change", () => {
    let traces = 0;
    const f = jit(
      (a: NDArray, scale: number) => {
        traces++;
        return a.mul(scale);
      },
      { staticArgnums: 1 },
    );
    f(np.ones([3]), 2);
    f(np.zeros([3]), 2);
    expect(traces).toBe(1);
    f(np.ones([4]), 2);
    expect(traces).toBe(2);
    f(np.ones([4], "float64"), 2);
    expect(traces).toBe(3);
    const out = f(np.ones([4]), 5);
    expect(traces).toBe(4);
    expectClose(out, [5, 5, 5, 5]);
  });

  it("a cached call matches its arguments to a recent signature: containers, keys, dtypes, shapes and JS numbers", () => {
    let traces = 0;
    const f = jit((p: { a: NDArray; b: NDArray; n: number | NDArray }, xs: (NDArray | null | undefined)[]) => {
      traces++;
      return p.a.mul(2).add(p.b).add(p.n).add(xs[0]!.sum());
    });
    const a = np.array([1, 2]),
      b = np.array([10, 20]);
    expectClose(f({ a, b, n: 1 }, [np.ones([3]), null]), [16, 28]);
    expectClose(f({ a: b, b: a, n: 2 }, [np.zeros([3]), null]), [23, 44]);
    expect(traces).toBe(1);
    // The same keys inserted in another order: the same program, each leaf to its key.
    expectClose(f({ n: 0, b: a, a: b }, [np.zeros([3]), null]), [21, 42]);
    expect(traces).toBe(1);
    // Each change of signature retraces once, and alternating between recent ones does not.
    f({ a, b, n: np.array(1) }, [np.ones([3]), null]);
    f({ a, b, n: 1 }, [np.ones([4]), null]);
    f({ a, b, n: 1 }, [np.ones([3], "float64"), null]);
    f({ a, b, n: 1 }, [np.ones([3]), undefined]);
    f({ a, b, n: 1, c: 0 } as never, [np.ones([3]), null]);
    expect(traces).toBe(6);
    for (let i = 0; i < 3; i++) {
      expectClose(f({ a, b, n: np.array(1) }, [np.ones([3]), null]), [16, 28]);
      expectClose(f({ a, b, n: 1 }, [np.ones([4]), null]), [17, 29]);
      expectClose(f({ a, b, n: 1 }, [np.ones([3]), null]), [16, 28]);
    }
    expect(traces).toBe(6);
  });

  it("a signature evicted from a small cache is traced again, not run from a stale plan", () => {
    let traces = 0;
    const f = jit(
      (a: NDArray) => {
        traces++;
        return a.sum();
      },
      { cacheSize: 1 },
    );
    for (let i = 0; i < 3; i++) {
      expect(f(np.ones([2])).item()).toBe(2);
      expect(f(np.ones([5])).item()).toBe(5);
    }
    expect(traces).toBe(6);
  });

  it("stays traced once under grad, vmap and nesting", () => {
    let traces = 0;
    const f = jit((a: NDArray) => {
      traces++;
      return np.sum(np.sin(a).mul(a));
    });
    const g = grad(f);
    g(x);
    g(x.add(1));
    vmap(f)(x);
    vmap(f)(x.mul(2));
    const outer = jit((a: NDArray) => f(a).mul(2));
    outer(x);
    outer(x);
    // One trace for [4,5] (shared by grad and outer), one for the per-row [5] signature under vmap.
    expect(traces).toBe(2);
  });

  it("agrees with eager under grad, vmap, jvp and their compositions", () => {
    const f = (a: NDArray) => np.sum(np.tanh(np.matmul(a, w).add(b)));
    const jf = jit(f);
    expectClose(grad(jf)(x), grad(f)(x), 1e-6);
    expectClose(jit(grad(f))(x), grad(f)(x), 1e-6);
    expectClose(vmap(jf)(x.reshape([2, 2, 5])), vmap(f)(x.reshape([2, 2, 5])), 1e-6);
    expectClose(jit(vmap(grad(f)))(x.reshape([2, 2, 5])), vmap(grad(f))(x.reshape([2, 2, 5])), 1e-6);
    expectClose(jvp(jf, [x], [np.onesLike(x)])[1], jvp(f, [x], [np.onesLike(x)])[1], 1e-5);
    expectClose(grad(grad(jit((s: NDArray) => np.sin(s).mul(s))))(1.5), -1.5 * Math.sin(1.5) + 2 * Math.cos(1.5), 1e-5);
    const [v, g] = valueAndGrad(jit((p: { w: NDArray }) => np.sum(np.matmul(x, p.w))))({ w });
    expectClose(v, np.sum(np.matmul(x, w)), 1e-4);
    expectClose(g.w, np.matmul(x.T, np.ones([4, 3])), 1e-5);
  });

  it("lifts closed-over tracers of an enclosing transform into operands", () => {
    const g = (a: NDArray, c: NDArray) => jit((z: NDArray) => z.mul(c))(a).sum();
    expectClose(grad(g, { argnums: 1 })(np.array([1, 2, 3]), np.array(2)), 6);
  });
});

describe("staged programs", () => {
  it("prints readably", () => {
    const p = makeJaxpr((a: NDArray, c: NDArray) => np.sum(np.sin(a).mul(c)))(np.ones([3]), np.ones([3]));
    expect(String(p)).toMatchInlineSnapshot(`
      "{ lambda ; a:f32[3] b:f32[3] . let
          c:f32[3] = sin a
          d:f32[3] = mul c b
          e:f32[] = reduce_sum[axes=[0]] d
        in ( e ) }"
    `);
  });

  it("prints the linear program of a gradient", () => {
    const p = makeJaxpr(grad((a: NDArray) => np.sum(np.exp(a))))(np.ones([2]));
    expect(String(p)).toMatchInlineSnapshot(`
      "{ lambda ; a:f32[2] . let
          b:f32[2] = exp a
          c:f32[] = reduce_sum[axes=[0]] b
          d:f32[2] = broadcast_in_dim[shape=[2] broadcastDimensions=[]] 1.0:f32[]
          e:f32[2] = mul d b
        in ( e ) }"
    `);
  });

  it("traces, compiles and runs a 100,000-equation program", () => {
    const f = (a: NDArray) => {
      let y = a;
      for (let i = 0; i < 100_000; i++) y = i % 2 ? y.mul(0.99999) : y.add(0.00001);
      return y;
    };
    expect(makeJaxpr(f)(np.array(1)).program.eqns.length).toBeGreaterThanOrEqual(100_000);
    expectClose(jit(f)(np.array(1)), f(np.array(1)), 1e-6);
  });

  it("rejects a JS comparison on a traced value with a pointer to lax.cond / np.where", () => {
    const f = jit((a: NDArray) => ((a as unknown as number) > 0 ? a : a.neg()));
    expect(() => f(np.array(1))).toThrow(ConcretizationError);
    expect(() => f(np.array(1))).toThrow(/np\.where|lax\.cond/);
  });
});
