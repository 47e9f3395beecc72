/**
 * debug.print and debug.callback: what the callback sees eagerly, under jit (at run time, every
 * call, constants included), grad/jvp (primal values, once), vmap (the batched value), inside scan
 * (every step) and cond, and that it never changes results or derivatives. Placeholders follow
 * JAX's format strings; bad ones are typed errors at the call site.
 */
import { afterEach, describe, expect, it } from "vitest";
import { ArgumentError, type NDArray, debug, grad, jit, jvp, lax, makeJaxpr, np, vmap } from "../../src/index.js";

const lines: string[] = [];
const restore = debug.setSink((l) => lines.push(l));
afterEach(() => {
  lines.length = 0;
});
process.on("exit", () => debug.setSink(restore));

describe("debug.print", () => {
  it("fills {} {0} {name} and literal braces, eagerly", () => {
    debug.print("a={} b={1} c={c} {{x}}", np.array([1, 2]), 3, { c: np.array(2.5) });
    expect(lines).toEqual(["a=[1,2] b=3 c=2.5 {x}"]);
  });

  it("under jit prints when the program runs, each call, also for constant operands", () => {
    const f = jit((x: NDArray) => {
      debug.print("x={}", x);
      debug.print("const={}", np.array(7));
      return x.mul(2);
    });
    expect(Array.from(f(np.array([1, 2])).dataSync())).toEqual([2, 4]);
    f(np.array([3, 4]));
    expect(lines).toEqual(["x=[1,2]", "const=7", "x=[3,4]", "const=7"]);
    expect(makeJaxpr(f)(np.array([1, 2])).toString()).toContain("debug_callback");
  });

  it("under grad sees primal values once and leaves the gradient alone", () => {
    const f = (x: NDArray) => {
      debug.print("x={}", x);
      return np.sum(np.sin(x));
    };
    const g = grad(f)(np.array([0.5, 1]));
    const want = [Math.cos(0.5), Math.cos(1)];
    Array.from(g.dataSync()).forEach((v, i) => expect(v).toBeCloseTo(want[i]!, 6));
    expect(lines).toEqual(["x=[0.5,1]"]);
    lines.length = 0;
    grad(jit(f))(np.array([0.5, 1]));
    expect(lines).toEqual(["x=[0.5,1]"]);
    lines.length = 0;
    const [y, t] = jvp((x: NDArray) => (debug.print("p={}", x), x.mul(x)), [np.array(3)], [np.array(1)]);
    expect([y.item(), t.item()]).toEqual([9, 6]);
    expect(lines).toEqual(["p=3"]);
  });

  it("under vmap sees the batched value, unbatched operands broadcast", () => {
    vmap((x: NDArray, y: NDArray) => (debug.print("{} {}", x, y), x.add(y)), { inAxes: [0, null] })(np.array([1, 2]), np.array(5));
    expect(lines).toEqual(["[1,2] [5,5]"]);
  });

  it("inside scan runs every step (also under jit), and inside the branch cond takes", () => {
    const f = (xs: NDArray) =>
      lax.scan(
        (c: NDArray, x: NDArray) => {
          debug.print("c={}", c);
          return [c.add(x), c];
        },
        np.array(0),
        xs,
      )[0];
    f(np.array([1, 2, 3]));
    expect(lines).toEqual(["c=0", "c=1", "c=3"]);
    lines.length = 0;
    jit(f)(np.array([1, 2, 3]));
    expect(lines).toEqual(["c=0", "c=1", "c=3"]);
    lines.length = 0;
    lax.cond(
      np.array(true),
      (x: NDArray) => (debug.print("true {}", x), x),
      (x: NDArray) => (debug.print("false {}", x), x),
      np.array(1),
    );
    expect(lines).toEqual(["true 1"]);
  });

  it("debug.callback passes pytrees and plain values through", () => {
    const seen: unknown[] = [];
    jit((x: NDArray) => {
      debug.callback((t: { a: NDArray; k: number }) => seen.push([t.a.tolist(), t.k]), { a: x, k: 4 });
      return x;
    })(np.array([1, 2]));
    expect(seen).toEqual([[[1, 2], 4]]);
  });

  it("rejects bad formats and sinks with typed errors", () => {
    expect(() => debug.print("{}")).toThrow(ArgumentError);
    expect(() => debug.print("{missing}", np.array(1))).toThrow(/names no field/);
    expect(() => debug.print(3 as unknown as string)).toThrow(ArgumentError);
    expect(() => debug.setSink(null as unknown as (l: string) => void)).toThrow(ArgumentError);
  });
});
