/**
 * The public convolution and window API against independent float64 references: the naive
 * convolution of reference.ts over many configurations (layouts, padding modes, strides,
 * dilations, groups, ranks 1 to 3), naive window reductions, derivatives by central differences
 * in both modes and at second order, vmap against a loop, jit against eager, and typed errors.
 */
import { describe, expect, it } from "vitest";
import { ArgumentError, DTypeError, type NDArray, ShapeError, grad, jit, lax, nn, np, vmap } from "../../src/index.js";
import { checkGrads } from "../../laws/index.js";
import { type Host, Rng, build, at } from "../primitives/cases_util.js";
import { type Config, convRef, opts, refParams } from "./reference.js";

const rand = (rng: Rng, shape: number[]): Host => build(shape, () => rng.uniform(-1, 1));
const arr = (h: Host, dtype: "float32" | "float64" = "float64") => np.array(h.data, { dtype }).reshape(h.shape);
const transposeHost = (h: Host, perm: number[]): Host =>
  build(
    perm.map((p) => h.shape[p]!),
    (idx) =>
      at(
        h,
        perm.map((_, i) => idx[perm.indexOf(i)]!),
      ),
  );

function close(got: NDArray, want: Host, tol = 1e-9): void {
  expect(got.shape).toEqual(want.shape);
  const g = Array.from(got.tolist() as unknown as number[]).flat(Infinity as 1) as number[];
  g.forEach((v, i) => expect(Math.abs(v - want.data[i]!)).toBeLessThanOrEqual(tol * (1 + Math.abs(want.data[i]!))));
}

const CONFIGS: Config[] = [
  { name: "1d valid", x: [2, 3, 8], w: [4, 3, 3], strides: [1], padding: "VALID" },
  { name: "1d same stride 2", x: [2, 2, 9], w: [3, 2, 4], strides: [2], padding: "SAME" },
  { name: "2d same", x: [2, 3, 6, 5], w: [4, 3, 3, 3], strides: [1, 1], padding: "SAME" },
  { name: "2d valid strided", x: [1, 2, 7, 7], w: [3, 2, 3, 2], strides: [2, 3], padding: "VALID" },
  {
    name: "2d explicit padding, rhs dilation",
    x: [1, 2, 6, 6],
    w: [2, 2, 2, 3],
    strides: [1, 1],
    padding: [
      [2, 1],
      [0, 3],
    ],
    rhsDilation: [2, 1],
  },
  {
    name: "2d lhs dilation (transposed conv)",
    x: [1, 2, 4, 3],
    w: [2, 2, 3, 3],
    strides: [1, 1],
    padding: [
      [2, 2],
      [1, 2],
    ],
    lhsDilation: [2, 3],
  },
  { name: "2d feature groups", x: [2, 4, 5, 5], w: [6, 2, 3, 3], strides: [1, 2], padding: "SAME", featureGroupCount: 2 },
  { name: "2d batch groups", x: [4, 3, 5, 4], w: [4, 3, 2, 2], strides: [1, 1], padding: "VALID", batchGroupCount: 2 },
  { name: "3d", x: [1, 2, 4, 5, 3], w: [2, 2, 2, 3, 2], strides: [1, 2, 1], padding: "SAME", rhsDilation: [1, 1, 2] },
];

describe("lax.convGeneralDilated values", () => {
  for (const c of CONFIGS) {
    it(`${c.name}: NC../OI.. matches the naive float64 convolution (float64 and float32)`, () => {
      const rng = new Rng(c.name.length * 7919);
      const x = rand(rng, c.x),
        w = rand(rng, c.w);
      const want = convRef(x, w, refParams(c));
      close(lax.convGeneralDilated(arr(x), arr(w), c.strides, c.padding, opts(c)), want);
      close(lax.convGeneralDilated(arr(x, "float32"), arr(w, "float32"), c.strides, c.padding, opts(c)), want, 1e-5);
    });
  }
  it("channels-last layouts (NHWC / HWIO) match NCHW / OIHW after transposing", () => {
    const rng = new Rng(5);
    const x = rand(rng, [2, 3, 6, 5]),
      w = rand(rng, [4, 3, 3, 2]);
    const want = convRef(x, w, refParams({ name: "", x: [2, 3, 6, 5], w: [4, 3, 3, 2], strides: [2, 1], padding: "SAME" }));
    const got = lax.convGeneralDilated(arr(transposeHost(x, [0, 2, 3, 1])), arr(transposeHost(w, [2, 3, 1, 0])), [2, 1], "SAME", {
      dimensionNumbers: ["NHWC", "HWIO", "NHWC"],
    });
    close(got, transposeHost(want, [0, 2, 3, 1]));
    const mixed = lax.convGeneralDilated(arr(transposeHost(x, [0, 2, 3, 1])), arr(w), [2, 1], "SAME", { dimensionNumbers: ["NHWC", "OIHW", "NCHW"] });
    close(mixed, want);
  });
  it("int32 operands convolve exactly", () => {
    const x = build([1, 1, 3, 3], ([, , i, j]) => i! * 3 + j!),
      w = build([1, 1, 2, 2], ([, , i, j]) => (i === j ? 1 : -1));
    const got = lax.convGeneralDilated(
      np.array(x.data, { dtype: "int32" }).reshape(x.shape),
      np.array(w.data, { dtype: "int32" }).reshape(w.shape),
      [1, 1],
      "VALID",
    );
    expect(got.dtype).toBe("int32");
    close(got, convRef(x, w, refParams({ name: "", x: x.shape, w: w.shape, strides: [1, 1], padding: "VALID" })), 0);
  });
  it("uint32 operands convolve exactly, and uint32 with int32 promotes to int32", () => {
    const x = build([1, 2, 3, 3], ([, c, i, j]) => c! * 9 + i! * 3 + j!),
      w = build([2, 2, 2, 2], ([o, c, i, j]) => o! + c! + i! * j!);
    const want = convRef(x, w, refParams({ name: "", x: x.shape, w: w.shape, strides: [1, 1], padding: "VALID" }));
    const u = (h: Host) => np.array(h.data, { dtype: "uint32" }).reshape(h.shape);
    const got = lax.convGeneralDilated(u(x), u(w), [1, 1], "VALID");
    expect(got.dtype).toBe("uint32");
    close(got, want, 0);
    const mixed = lax.convGeneralDilated(u(x), np.array(w.data, { dtype: "int32" }).reshape(w.shape), [1, 1], "VALID");
    expect(mixed.dtype).toBe("int32");
    close(mixed, want, 0);
  });
});

describe("lax.convGeneralDilated derivatives, vmap and jit", () => {
  for (const c of CONFIGS) {
    it(`${c.name}: first and second order, forward and reverse, match central differences`, () => {
      const rng = new Rng(c.name.length * 31);
      const x = arr(rand(rng, c.x)),
        w = arr(rand(rng, c.w));
      const f = (a: NDArray, b: NDArray) => np.tanh(lax.convGeneralDilated(a, b, c.strides, c.padding, opts(c)));
      expect(checkGrads(f, [x, w], { order: 2 }).failed).toBeUndefined();
    });
  }
  it("vmap over lhs, rhs or both equals a loop; jit equals eager", () => {
    const rng = new Rng(11);
    for (const c of [CONFIGS[2]!, CONFIGS[6]!, CONFIGS[7]!]) {
      const xs = arr(rand(rng, [3, ...c.x])),
        ws = arr(rand(rng, [3, ...c.w]));
      const f = (a: NDArray, b: NDArray) => lax.convGeneralDilated(a, b, c.strides, c.padding, opts(c));
      const pick = (a: NDArray, i: number) => np.take(a, np.array([i], { dtype: "int32" }), 0).reshape(a.shape.slice(1));
      for (const inAxes of [
        [0, 0],
        [0, null],
        [null, 0],
      ] as const) {
        const got = vmap(f, { inAxes: [...inAxes] })(inAxes[0] === null ? pick(xs, 0) : xs, inAxes[1] === null ? pick(ws, 0) : ws);
        for (let i = 0; i < 3; i++) {
          const want = f(inAxes[0] === null ? pick(xs, 0) : pick(xs, i), inAxes[1] === null ? pick(ws, 0) : pick(ws, i));
          expect(Array.from(pick(got, i).dataSync())).toEqual(Array.from(want.dataSync()).map((v) => expect.closeTo(v, 12)));
        }
      }
      const x = pick(xs, 1),
        w = pick(ws, 2);
      const loss = (a: NDArray, b: NDArray) => np.sum(np.sin(f(a, b)));
      const [gx, gw] = jit(grad(loss, { argnums: [0, 1] }))(x, w) as NDArray[];
      const [ex, ew] = grad(loss, { argnums: [0, 1] })(x, w) as NDArray[];
      expect(Array.from(gx!.dataSync())).toEqual(Array.from(ex!.dataSync()).map((v) => expect.closeTo(v, 12)));
      expect(Array.from(gw!.dataSync())).toEqual(Array.from(ew!.dataSync()).map((v) => expect.closeTo(v, 12)));
    }
  });
});

describe("lax.convGeneralDilated errors", () => {
  const x = np.ones([1, 3, 5, 5]);
  it("mismatched channels name the function, the shapes and the fix", () => {
    expect(() => lax.convGeneralDilated(x, np.ones([2, 4, 3, 3]), [1, 1], "SAME")).toThrow(ShapeError);
    expect(() => lax.convGeneralDilated(x, np.ones([2, 4, 3, 3]), [1, 1], "SAME")).toThrow(/lax.convGeneralDilated: lhs has 3 feature/);
  });
  it("bad layouts, padding, strides, ranks and dtypes are typed errors", () => {
    expect(() => lax.convGeneralDilated(x, np.ones([2, 3, 3, 3]), [1, 1], "SAME", { dimensionNumbers: ["NCHW", "OIXY", "NCHW"] })).toThrow(
      ArgumentError,
    );
    expect(() => lax.convGeneralDilated(x, np.ones([2, 3, 3, 3]), [1, 1], "FULL" as "SAME")).toThrow(ArgumentError);
    expect(() => lax.convGeneralDilated(x, np.ones([2, 3, 3, 3]), [0, 1], "SAME")).toThrow(ArgumentError);
    expect(() => lax.convGeneralDilated(x, np.ones([2, 3, 3]), [1, 1], "SAME")).toThrow(ShapeError);
    expect(() => lax.convGeneralDilated(x.astype("bool"), np.ones([2, 3, 3, 3]), [1, 1], "SAME")).toThrow(DTypeError);
    expect(() => lax.convGeneralDilated(x, np.ones([2, 3, 3, 3]), [1, 1], "SAME", { featureGroupCount: 2, batchGroupCount: 2 })).toThrow(
      ArgumentError,
    );
  });
});

/** Naive reduce-window over all dims (window and stride per dim, explicit padding with `init`). */
function windowRef(x: Host, init: number, op: (a: number, b: number) => number, win: number[], st: number[], pad: [number, number][]): Host {
  const out = x.shape.map((n, d) => Math.floor((n + pad[d]![0] + pad[d]![1] - win[d]!) / st[d]!) + 1);
  return build(out, (o) => {
    let acc = init;
    const walk = (d: number, idx: number[]): void => {
      if (d === x.shape.length) {
        acc = op(acc, idx.every((v, e) => v >= 0 && v < x.shape[e]!) ? at(x, idx) : init);
        return;
      }
      for (let k = 0; k < win[d]!; k++) walk(d + 1, [...idx, o[d]! * st[d]! + k - pad[d]![0]]);
    };
    walk(0, []);
    return acc;
  });
}

describe("lax.reduceWindow and pooling", () => {
  const rng = new Rng(3);
  const xh = rand(rng, [2, 5, 6, 3]);
  const x = arr(xh);
  it("sum, max and min windows match a naive reference (strides, SAME and explicit padding, nonzero init)", () => {
    const pad: [number, number][] = [
      [0, 0],
      [1, 1],
      [0, 1],
      [0, 0],
    ];
    close(
      lax.reduceWindow(x, 0, np.add, [1, 3, 2, 1], [1, 2, 2, 1], pad),
      windowRef(xh, 0, (a, b) => a + b, [1, 3, 2, 1], [1, 2, 2, 1], pad),
    );
    close(
      lax.reduceWindow(x, -Infinity, np.maximum, [1, 2, 2, 1], [1, 1, 2, 1], "VALID"),
      windowRef(
        xh,
        -Infinity,
        Math.max,
        [1, 2, 2, 1],
        [1, 1, 2, 1],
        [
          [0, 0],
          [0, 0],
          [0, 0],
          [0, 0],
        ],
      ),
    );
    close(lax.reduceWindow(x, 0.25, np.minimum, [1, 2, 3, 1], [1, 2, 1, 1], pad), windowRef(xh, 0.25, Math.min, [1, 2, 3, 1], [1, 2, 1, 1], pad));
    const samePads: [number, number][] = [
      [0, 0],
      [1, 1],
      [1, 1],
      [0, 0],
    ];
    close(
      lax.reduceWindow(x, 1.5, np.add, [1, 3, 3, 1], [1, 1, 1, 1], "SAME"),
      windowRef(xh, 1.5, (a, b) => a + b, [1, 3, 3, 1], [1, 1, 1, 1], samePads),
    );
  });
  it("an unsupported computation is a typed error naming the supported ones", () => {
    expect(() => lax.reduceWindow(x, 0, np.multiply, [1, 2, 2, 1], [1, 1, 1, 1], "VALID")).toThrow(/np.add, np.maximum or np.minimum/);
  });
  it("nn.maxPool and nn.avgPool (channels last) match the reference; gradients match central differences", () => {
    close(
      nn.maxPool(x, [2, 2], { strides: [2, 2] }),
      windowRef(
        xh,
        -Infinity,
        Math.max,
        [1, 2, 2, 1],
        [1, 2, 2, 1],
        [
          [0, 0],
          [0, 0],
          [0, 0],
          [0, 0],
        ],
      ),
    );
    const avg = windowRef(
      xh,
      0,
      (a, b) => a + b,
      [1, 3, 3, 1],
      [1, 1, 1, 1],
      [
        [0, 0],
        [0, 0],
        [0, 0],
        [0, 0],
      ],
    );
    close(nn.avgPool(x, [3, 3]), { shape: avg.shape, data: avg.data.map((v) => v / 9) });
    expect(checkGrads((a: NDArray) => np.tanh(nn.maxPool(a, [2, 2], { strides: [2, 2] })), [x], { order: 2 }).failed).toBeUndefined();
    expect(
      checkGrads((a: NDArray) => np.tanh(nn.avgPool(a, [2, 3], { strides: [1, 2], padding: "SAME", countIncludePad: false })), [x], { order: 2 })
        .failed,
    ).toBeUndefined();
  });
  it("avgPool without the padding counts the real elements, whatever their values (an infinite one too)", () => {
    const x = np.array([[Infinity], [1], [2], [-Infinity]], { dtype: "float64" }); // 4 positions, 1 feature
    expect(Array.from(nn.avgPool(x, [2], { padding: "SAME", countIncludePad: false }).dataSync())).toEqual([Infinity, 1.5, -Infinity, -Infinity]);
    expect(Array.from(nn.avgPool(x, [3], { padding: "SAME", countIncludePad: false }).dataSync())).toEqual([
      Infinity,
      Infinity,
      -Infinity,
      -Infinity,
    ]);
  });
  it("windows that tile the operand (window = stride, no padding; reshaped, not gathered) match the reference", () => {
    const zero = (nd: number) => Array.from({ length: nd }, (): [number, number] => [0, 0]);
    const y3h = rand(rng, [2, 7, 4, 9, 2]);
    const y3 = arr(y3h);
    for (const [win, init] of [
      [[1, 2, 2, 1], 0],
      [[1, 5, 3, 1], 0.5],
      [[2, 1, 6, 3], -1],
    ] as [number[], number][]) {
      close(
        lax.reduceWindow(x, init, np.add, win, win, "VALID"),
        windowRef(xh, init, (a, b) => a + b, win, win, zero(4)),
      );
      close(lax.reduceWindow(x, init, np.maximum, win, win, "VALID"), windowRef(xh, init, Math.max, win, win, zero(4)));
      close(lax.reduceWindow(x, init, np.minimum, win, win, "VALID"), windowRef(xh, init, Math.min, win, win, zero(4)));
    }
    // 3 windowed dims of 5, sizes not multiples of the window (the remainder is dropped).
    close(
      lax.reduceWindow(y3, -Infinity, np.maximum, [1, 3, 2, 4, 1], [1, 3, 2, 4, 1], "VALID"),
      windowRef(y3h, -Infinity, Math.max, [1, 3, 2, 4, 1], [1, 3, 2, 4, 1], zero(5)),
    );
    expect(
      checkGrads((a: NDArray) => np.tanh(lax.reduceWindow(a, 0, np.add, [1, 2, 3, 1], [1, 2, 3, 1], "VALID")), [x], { order: 2 }).failed,
    ).toBeUndefined();
    const pooled = jit((a: NDArray) => vmap((b: NDArray) => nn.maxPool(b, [2, 3], { strides: [2, 3] }))(a));
    close(pooled(x.reshape([2, 1, 5, 6, 3])).reshape([2, 2, 2, 3]), windowRef(xh, -Infinity, Math.max, [1, 2, 3, 1], [1, 2, 3, 1], zero(4)));
  });
  it("a tie within a tiling 2d window shares maxPool's gradient equally, as a gathered window does", () => {
    const a = np.array([1, 1, 4, 0, 9, 1, 0, 4, 4, 9], { dtype: "float64" }).reshape([1, 2, 5, 1]);
    const t = 1 / 3;
    // 2x2 windows tile the first 4 columns (the 5th is dropped): three-way ties in both.
    const tiled = grad((v: NDArray) => np.sum(nn.maxPool(v, [2, 2], { strides: [2, 2] })))(a);
    expect(Array.from(tiled.dataSync())).toEqual([t, t, t, 0, 0, t, 0, t, t, 0]);
    // Padding the 5th column into a third window takes the gather path.
    const pad: [number, number][] = [
      [0, 0],
      [0, 0],
      [0, 1],
      [0, 0],
    ];
    const gathered = grad((v: NDArray) => np.sum(lax.reduceWindow(v, -Infinity, np.maximum, [1, 2, 2, 1], [1, 2, 2, 1], pad)))(a);
    expect(Array.from(gathered.dataSync())).toEqual([t, t, t, 0, 0.5, t, 0, t, t, 0.5]);
  });
  it("maxPool's gradient goes to each window's maximum", () => {
    const a = np.array([1, 5, 2, 0, 3, 4, 9, 8], { dtype: "float64" }).reshape([1, 8, 1]);
    const g = grad((v: NDArray) => np.sum(nn.maxPool(v, [2], { strides: [2] })))(a);
    expect(Array.from(g.dataSync())).toEqual([0, 1, 1, 0, 0, 1, 1, 0]);
  });
});

describe("nn.conv and nn.convTranspose", () => {
  const rng = new Rng(9);
  it("nn.conv is the NHWC / HWIO convolution with SAME padding by default", () => {
    const x = rand(rng, [2, 5, 5, 3]),
      k = rand(rng, [3, 3, 3, 4]);
    const want = convRef(
      transposeHost(x, [0, 3, 1, 2]),
      transposeHost(k, [3, 2, 0, 1]),
      refParams({ name: "", x: [2, 3, 5, 5], w: [4, 3, 3, 3], strides: [1, 1], padding: "SAME" }),
    );
    close(nn.conv(arr(x), arr(k)), transposeHost(want, [0, 2, 3, 1]));
  });
  it("nn.convTranspose output sizes follow JAX (SAME: in*s; VALID: in*s + max(k - s, 0)) and it is the adjoint of a strided conv", () => {
    const x = arr(rand(rng, [1, 4, 4, 2])),
      k = arr(rand(rng, [3, 3, 2, 2]));
    expect(nn.convTranspose(x, k, { strides: 2 }).shape).toEqual([1, 8, 8, 2]);
    expect(nn.convTranspose(x, k, { strides: 2, padding: "VALID" }).shape).toEqual([1, 9, 9, 2]);
    // <convT(y, k), z> = <y, conv(z, flip(k) with in/out swapped)> for VALID, stride 2.
    const y = arr(rand(rng, [1, 4, 4, 2])),
      z = arr(rand(rng, [1, 9, 9, 2]));
    const lhs = np.sum(nn.convTranspose(y, k, { strides: 2, padding: "VALID" }).mul(z));
    const kf = np.flip(np.flip(k, 0), 1).transpose([0, 1, 3, 2]);
    const rhs = np.sum(y.mul(nn.conv(z, kf, { strides: 2, padding: "VALID" })));
    expect(lhs.item()).toBeCloseTo(rhs.item() as number, 10);
  });
});
