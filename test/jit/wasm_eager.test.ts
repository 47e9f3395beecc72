/**
 * Eager elementwise ops on long arrays: the first call of a (primitive, dtypes, length) runs the
 * JavaScript kernel, the second the jit's WebAssembly loop (`wasm_eager.ts`); both give the same
 * bits, for every kind of float32 and float64 value, bools and selects included. Short arrays and
 * uncovered dtypes keep the JavaScript kernel.
 */
import { describe, expect, it } from "vitest";
import { wasmLoopsCompiled } from "../../interpreters/jit/wasm_loop.js";
import { type NDArray, np } from "../../src/index.js";

const N = 5003;

/** Zeros of both signs, NaN, infinities, subnormals, the fast-math clamps' edges, then a sweep. */
function values(dtype: "float32" | "float64", seed: number): NDArray {
  const special = [
    0,
    -0,
    NaN,
    Infinity,
    -Infinity,
    1e-45,
    -1e-45,
    3.4e38,
    -3.4e38,
    88.72,
    89.5,
    -104,
    -110,
    9.5,
    -9.6,
    314159.3,
    -314160,
    1e6,
    1,
    -1,
    0.5,
  ];
  const v = Array.from({ length: N }, (_, i) =>
    i < special.length ? special[(i + seed) % special.length]! : Math.sin(i * 0.37 + seed) * 10 ** ((i % 7) - 3),
  );
  return np.array(v, { dtype });
}

/** Bits as comparable numbers (NaN payloads aside: any NaN is "NaN"). */
const bits = (x: NDArray) => Array.from(x.dataSync() as ArrayLike<number>, (v) => (Number.isNaN(v) ? "NaN" : Object.is(v, -0) ? "-0" : v));

const CASES: [string, (a: NDArray, b: NDArray) => NDArray][] = [
  ["add", (a, b) => np.add(a, b)],
  ["subtract", (a, b) => np.subtract(a, b)],
  ["multiply", (a, b) => np.multiply(a, b)],
  ["divide", (a, b) => np.divide(a, b)],
  ["maximum", (a, b) => np.maximum(a, b)],
  ["minimum", (a, b) => np.minimum(a, b)],
  ["negative", (a) => np.negative(a)],
  ["abs", (a) => np.abs(a)],
  ["sign", (a) => np.sign(a)],
  ["floor", (a) => np.floor(a)],
  ["sqrt", (a) => np.sqrt(a)],
  ["exp", (a) => np.exp(a)],
  ["expm1", (a) => np.expm1(a)],
  ["log", (a) => np.log(a)],
  ["log1p", (a) => np.log1p(a)],
  ["sin", (a) => np.sin(a)],
  ["cos", (a) => np.cos(a)],
  ["tanh", (a) => np.tanh(a)],
  ["greater", (a, b) => np.greater(a, b)],
  ["less_equal", (a, b) => np.lessEqual(a, b)],
  ["equal", (a, b) => np.equal(a, b)],
  ["where", (a, b) => np.where(np.greater(a, 0), a, b)],
  ["astype bool", (a) => a.astype("bool")],
];

describe("eager elementwise ops on long arrays", () => {
  for (const dtype of ["float32", "float64"] as const)
    for (const [name, f] of CASES)
      it(`${name}, ${dtype}: the wasm loop (second call) gives the JavaScript kernel's bits (first call)`, () => {
        const a = values(dtype, 1),
          b = values(dtype, 4);
        const first = bits(f(a, b));
        const before = wasmLoopsCompiled();
        const second = bits(f(a, b));
        expect(second).toEqual(first);
        // float32 runs are covered throughout; float64 ones where the loops have the op (not the transcendentals).
        if (dtype === "float32") expect(wasmLoopsCompiled(), "compiled on the second call").toBeGreaterThan(before);
        // A third call reuses the compiled loop.
        const compiled = wasmLoopsCompiled();
        expect(bits(f(a, b))).toEqual(first);
        expect(wasmLoopsCompiled()).toBe(compiled);
      });

  it("bool logic on long arrays matches too", () => {
    const p = np.array(
      Array.from({ length: N }, (_, i) => i % 3 === 0),
      { dtype: "bool" },
    );
    const q = np.array(
      Array.from({ length: N }, (_, i) => i % 5 < 2),
      { dtype: "bool" },
    );
    for (const f of [
      (x: NDArray, y: NDArray) => np.logicalAnd(x, y),
      (x: NDArray, y: NDArray) => np.logicalXor(x, y),
      (x: NDArray) => np.logicalNot(x),
    ]) {
      const first = bits(f(p, q));
      expect(bits(f(p, q))).toEqual(first);
      expect(bits(f(p, q))).toEqual(first);
    }
  });

  it("short arrays keep the JavaScript kernel", () => {
    const a = np.array(Float32Array.from({ length: 1000 }, (_, i) => i / 7));
    np.exp(a);
    const before = wasmLoopsCompiled();
    np.exp(a);
    np.exp(a);
    expect(wasmLoopsCompiled()).toBe(before);
  });
});
