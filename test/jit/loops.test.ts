/**
 * Loops under jit run as compiled steps (interpreters/jit/loops.ts). Each case runs the same
 * function eagerly (the eval kernels' scan and while) and under jit, and requires the same bits;
 * most also check a plain JavaScript loop written here.
 */
import { describe, expect, it } from "vitest";
import { type NDArray, debug, grad, jit, lax, np, vmap } from "../../src/index.js";
import { expectClose } from "../helpers.js";

type Fn = (...args: NDArray[]) => unknown;

const leaves = (out: unknown): NDArray[] => (Array.isArray(out) ? out.flatMap(leaves) : out === null ? [] : [out as NDArray]);

/** Runs f eagerly and under jit (twice: the cached executable too) and requires equal dtypes, shapes and bits. */
function sameBits(f: Fn, ...args: NDArray[]): NDArray[] {
  const eager = leaves(f(...args));
  const g = jit(f);
  for (let run = 0; run < 2; run++) {
    const compiled = leaves(g(...args));
    expect(compiled.length).toBe(eager.length);
    compiled.forEach((c, i) => {
      const e = eager[i]!;
      expect([c.dtype, c.shape]).toEqual([e.dtype, e.shape]);
      const a = Array.from(c.dataSync(), Number),
        b = Array.from(e.dataSync(), Number);
      a.forEach((x, j) => {
        if (!Object.is(x, b[j])) expect.fail(`output ${i}, element ${j}: jit ${x}, eager ${b[j]}`);
      });
    });
  }
  return eager;
}

const f32 = (values: number[], shape?: number[]) => np.array(values, { shape, dtype: "float32" });
const i32 = (values: number[], shape?: number[]) => np.array(values, { shape, dtype: "int32" });

/** Several carries of several dtypes, two ys (one float vector, one bool), a closed-over constant. */
function mixed(reverse: boolean) {
  return (xs: NDArray, w: NDArray) =>
    lax.scan(
      ([h, n, seen]: NDArray[], x: NDArray) => {
        const hn = np.tanh(h.mul(w).add(x));
        const pos = np.sum(x).greater(0);
        return [
          [hn, n.add(pos.astype("int32")), np.logicalOr(seen, pos)],
          [hn.mul(2), pos],
        ];
      },
      [np.zeros([3]), i32([0]).reshape([]), np.array(false)],
      xs,
      { reverse },
    );
}

/** The same recurrence as `mixed`, in float32 JavaScript (Math.fround after each float32 op). */
function mixedReference(xs: number[][], w: number[], reverse: boolean) {
  const fr = Math.fround;
  let h = [0, 0, 0],
    n = 0,
    seen = false;
  const ys: number[][] = [],
    flags: boolean[] = [];
  const order = xs.map((_, t) => t);
  if (reverse) order.reverse();
  for (const t of order) {
    h = h.map((v, j) => fr(Math.tanh(fr(fr(v * w[j]!) + xs[t]![j]!))));
    const s = xs[t]!.reduce((a, b) => fr(a + b), 0);
    n += s > 0 ? 1 : 0;
    seen ||= s > 0;
    ys[t] = h.map((v) => fr(v * 2));
    flags[t] = s > 0;
  }
  return { h, n, seen, ys, flags };
}

describe("scan under jit", () => {
  const rows = [
    [0.5, -1, 0.25],
    [-2, -0.5, 0.125],
    [1, 1, 1],
    [0.3, -0.9, 0.1],
  ];
  const w = f32([0.9, -0.4, 1.1]);

  for (const reverse of [false, true]) {
    for (const length of [0, 1, 4]) {
      it(`several carries and ys of mixed dtypes, length ${length}${reverse ? ", reversed" : ""}`, () => {
        const xs = length === 0 ? np.zeros([0, 3]) : f32(rows.slice(0, length).flat(), [length, 3]);
        const out = sameBits(mixed(reverse), xs, w);
        const ref = mixedReference(rows.slice(0, length), [0.9, -0.4, 1.1], reverse);
        // float32 tanh is within an ulp of the rounded exact value (src/codegen/fastmath.ts)
        expectClose(out[0]!, ref.h, 1e-6, 1e-6);
        expect(out[1]!.item()).toBe(ref.n);
        expect(Boolean(out[2]!.item())).toBe(ref.seen);
        expect(out[3]!.shape).toEqual([length, 3]);
        expectClose(out[3]!.reshape([-1]), ref.ys.flat(), 1e-6, 1e-6);
        expect(Array.from(out[4]!.dataSync(), Boolean)).toEqual(ref.flags);
      });
    }
  }

  it("swapped carries, a carry taken from xs and one taken from a constant", () => {
    const f = (xs: NDArray, c: NDArray) =>
      lax.scan(([a, b]: NDArray[], x: NDArray) => [[b, a.add(1), x, c], a], [f32([1]), f32([10]), f32([0, 0]), f32([0])], xs);
    const out = sameBits(f, f32([1, 2, 3, 4, 5, 6], [3, 2]), f32([7]));
    // a, b: (1, 10) -> (10, 2) -> (2, 11) -> (11, 3); ys are the a's before each step.
    expect(out.map((o) => Array.from(o.dataSync()))).toEqual([[11], [3], [5, 6], [7], [1, 10, 2]]);
  });

  it("no carry, no xs (length only), and scalar ys", () => {
    const f = (c: NDArray) => lax.scan((_c: null, _x: null) => [null, [c.mul(c), c.add(1)]], null, null, { length: 3 })[1];
    const out = sameBits(f, np.array(1.5, { dtype: "float64" }));
    expect(out.map((o) => Array.from(o.dataSync()))).toEqual([
      [2.25, 2.25, 2.25],
      [2.5, 2.5, 2.5],
    ]);
  });

  it("scan in scan: inner running sums of each row, outer running maximum of their totals", () => {
    const m = [
      [3, -1, 4],
      [1, -5, 9],
      [2, 6, -5],
    ];
    const f = (x: NDArray) =>
      lax.scan(
        (best: NDArray, row: NDArray) => {
          const [total, partial] = lax.scan((s: NDArray, v: NDArray) => [s.add(v), s.add(v)], i32([0]).reshape([]), row);
          return [np.maximum(best, total), partial];
        },
        i32([-100]).reshape([]),
        x,
      );
    const [best, partials] = sameBits(f, i32(m.flat(), [3, 3]));
    const sums = m.map((r) => r.map((_, j) => r.slice(0, j + 1).reduce((a, b) => a + b, 0)));
    expect(best!.item()).toBe(Math.max(...sums.map((r) => r[2]!)));
    expect(Array.from(partials!.dataSync())).toEqual(sums.flat());
  });

  it("fori with static bounds (a scan) and traced bounds (a while)", () => {
    const step = (i: NDArray, c: NDArray) => c.mul(0.5).add(i.astype("float32"));
    let ref = Math.fround(1);
    for (let i = 2; i < 9; i++) ref = Math.fround(Math.fround(ref * 0.5) + i);
    const stat = sameBits((x: NDArray) => lax.fori(2, 9, step, x), f32([1]).reshape([]));
    const traced = sameBits((x: NDArray, hi: NDArray) => lax.fori(i32([2]).reshape([]), hi, step, x), f32([1]).reshape([]), i32([9]).reshape([]));
    expect(stat[0]!.item()).toBe(ref);
    expect(traced[0]!.item()).toBe(ref);
  });

  it("gradient of a scanned recurrence: jit(grad) equals grad, and a central difference", () => {
    const loss = (w: NDArray, xs: NDArray) =>
      np.sum(np.square(lax.scan((h: NDArray, x: NDArray) => [np.tanh(h.mul(w).add(x)), h], np.zeros([2], "float64"), xs)[0]));
    const w = np.array([0.7, -1.2], { dtype: "float64" }),
      xs = np.array([0.1, 0.2, -0.3, 0.4, 0.5, -0.6, 0.7, 0.8], { shape: [4, 2], dtype: "float64" });
    const [g] = sameBits((a: NDArray, b: NDArray) => grad(loss)(a, b), w, xs);
    const eps = 1e-6;
    const fd = [0, 1].map((j) => {
      const dw = np.array(j === 0 ? [eps, 0] : [0, eps], { dtype: "float64" });
      return (loss(w.add(dw), xs).item() - loss(w.sub(dw), xs).item()) / (2 * eps);
    });
    expectClose(g!, fd, 1e-7, 1e-6);
  });

  it("vmap of a scan: jit(vmap) equals vmap and each row's own scan", () => {
    const cumprod = (x: NDArray) => lax.scan((p: NDArray, v: NDArray) => [p.mul(v), p.mul(v)], f32([1]).reshape([]), x)[1];
    const xs = f32([1, 2, 3, 4, 0.5, 0.5, -1, 3], [2, 4]);
    const [out] = sameBits((x: NDArray) => vmap(cumprod)(x) as NDArray, xs);
    expect(Array.from(out!.dataSync())).toEqual([1, 2, 6, 24, 0.5, 0.25, -0.25, -0.75]);
  });
});

describe("effects in compiled loop bodies", () => {
  it("a callback runs once per step, may keep what it is given, and may call the same jitted function again", () => {
    const seen: number[][] = [],
      kept: NDArray[] = [],
      inner: number[] = [];
    const f: (xs: NDArray) => NDArray = jit(
      (xs: NDArray) =>
        lax.scan(
          (c: NDArray, x: NDArray) => {
            const next = c.add(x);
            debug.callback((v: NDArray) => {
              seen.push(Array.from(v.dataSync()));
              kept.push(v);
              // Re-entered while the outer loop is running (only from the outer, 3-step call).
              if (v.shape[0] === 2 && seen.length === 1) inner.push(...f(f32([10, 20, 30, 40, 50, 60], [3, 2])).dataSync());
            }, next);
            return [next, null];
          },
          np.zeros([2]),
          xs,
        )[0],
    );
    const out = f(f32([1, 2, 3, 4, 5, 6], [3, 2]));
    expect(Array.from(out.dataSync())).toEqual([9, 12]);
    expect(inner).toEqual([90, 120]);
    // The outer call's three steps, with the nested call's three steps after its first.
    expect(seen).toEqual([
      [1, 2],
      [10, 20],
      [40, 60],
      [90, 120],
      [4, 6],
      [9, 12],
    ]);
    expect(kept.map((k) => Array.from(k.dataSync()))).toEqual(seen);
  });
});

describe("while under jit", () => {
  /** Collatz steps of n: the trip count depends on the data. */
  const collatz = (n: NDArray) =>
    lax.whileLoop(
      ([m]: NDArray[]) => m.greater(1),
      ([m, k]: NDArray[]) => [np.where(np.equal(np.remainder(m, 2), 0), np.floorDivide(m, 2), m.mul(3).add(1)), k.add(1)],
      [n, np.zerosLike(n)],
    );
  const steps = (n: number) => {
    let k = 0;
    for (; n > 1; k++) n = n % 2 === 0 ? n / 2 : 3 * n + 1;
    return k;
  };

  for (const n of [1, 6, 27]) {
    it(`data-dependent trip count (Collatz from ${n})`, () => {
      const [m, k] = sameBits(collatz, i32([n]).reshape([]));
      expect(m!.item()).toBe(1);
      expect(k!.item()).toBe(steps(n));
    });
  }

  it("a closed-over constant in both cond and body, carries swapped each step", () => {
    const f = (limit: NDArray, a0: NDArray) =>
      lax.whileLoop(
        ([a, , i]: NDArray[]) => np.logicalAnd(a.less(limit), i.less(50)),
        ([a, b, i]: NDArray[]) => [b.add(limit.mul(0.01)), a.mul(2), i.add(1)],
        [a0, a0.add(1), i32([0]).reshape([])],
      );
    const [a, b, i] = sameBits(f, f32([40]).reshape([]), f32([1]).reshape([]));
    const fr = Math.fround;
    let x = 1,
      y = 2,
      n = 0;
    while (x < 40 && n < 50) [x, y, n] = [fr(y + fr(40 * fr(0.01))), fr(x * 2), n + 1];
    expect([a!.item(), b!.item(), i!.item()]).toEqual([x, y, n]);
  });

  it("batched while (vmap): each row runs until its own condition fails", () => {
    const [m, k] = sameBits((n: NDArray) => vmap(collatz)(n) as NDArray[], i32([1, 6, 27, 7]));
    expect(Array.from(m!.dataSync())).toEqual([1, 1, 1, 1]);
    expect(Array.from(k!.dataSync())).toEqual([1, 6, 27, 7].map(steps));
  });
});
