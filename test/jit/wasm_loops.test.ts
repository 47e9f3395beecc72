/**
 * The WebAssembly back end of the jit's fused loops computes, bit for bit, what the JavaScript
 * loops and the eager kernels compute: the vectorised fast-math functions on every kind of float32
 * input, the arithmetic, comparisons and selects, every way a broadcast operand is read, odd sizes
 * (the loop runs in steps of four), and random programs with the size threshold lowered so that
 * every fused run of them takes this path. FLUXION_BACKEND=js keeps the JavaScript loops.
 */
import { execFileSync } from "node:child_process";
import fc from "fast-check";
import { afterAll, describe, expect, it } from "vitest";
import { arb } from "../../laws/index.js";
import { configureWasmLoops, wasmLoopsCompiled, wasmLoopsCompiled32, wasmLoopsEnabled } from "../../interpreters/jit/wasm_loop.js";
import { localHeap, sharedHeap } from "../../interpreters/jit/wasm_heap.js";
import { wasmSumsRun } from "../../interpreters/jit/wasm_sum.js";
import { eagerWasmReduce } from "../../interpreters/jit/wasm_eager.js";
import { setReduceAccelerator } from "../../interpreters/eval/index.js";
import { type NDArray, jit, lax, np, tree } from "../../src/index.js";
import * as coreLax from "../../src/core/lax.js";

afterAll(() => configureWasmLoops({ enabled: true, minElements: 256 }));

/** jit(f) compiled with the JavaScript loops and with the wasm ones. */
function both(
  f: (...a: NDArray[]) => unknown,
  expectWasm = true,
): [(...a: NDArray[]) => unknown, (...a: NDArray[]) => unknown, (...a: NDArray[]) => unknown] {
  let compiled = false;
  // Two closures: jit caches by function, and each must compile its own program.
  const js = jit((...a: NDArray[]) => f(...a)),
    wasm = jit((...a: NDArray[]) => f(...a));
  return [
    (...a) => {
      configureWasmLoops({ enabled: false });
      try {
        return js(...a);
      } finally {
        configureWasmLoops({ enabled: true });
      }
    },
    (...a) => {
      const before = wasmLoopsCompiled();
      const out = wasm(...a);
      // The first call compiles: at least one fused run must have become wasm.
      if (expectWasm && !compiled) expect(wasmLoopsCompiled()).toBeGreaterThan(before);
      compiled = true;
      return out;
    },
    f,
  ];
}

/** Elements that differ in bits (NaNs count as equal whatever their payload). */
function differences(a: unknown, b: unknown): string[] {
  const la = tree.leaves(a) as NDArray[],
    lb = tree.leaves(b) as NDArray[];
  expect(la.length).toBe(lb.length);
  const out: string[] = [];
  la.forEach((x, k) => {
    const y = lb[k]!;
    expect(x.shape).toEqual(y.shape);
    expect(x.dtype).toBe(y.dtype);
    const xv = x.dataSync() as ArrayLike<number>,
      yv = y.dataSync() as ArrayLike<number>;
    for (let i = 0; i < xv.length && out.length < 5; i++) {
      const p = xv[i]!,
        q = yv[i]!;
      if (!Object.is(p, q) && !(Number.isNaN(p) && Number.isNaN(q))) out.push(`leaf ${k} [${i}]: ${p} vs ${q}`);
    }
  });
  return out;
}

/** Every float32 kind: zeros, subnormals, extremes, the edges of each function's clamps, and a sweep. */
function float32Inputs(n: number): Float32Array {
  const special = [0, -0, Infinity, -Infinity, NaN, 1e-45, -1e-45, 1.1754942e-38, 3.4028235e38, -3.4028235e38, 88.72, 89, 89.5, -103.9, -104.5, -110];
  special.push(9.49, 9.5, 9.6, -9.6, 17.9, -18.1, 104.9, 105.1, 1.8e-9, -1.9e-9, 1e-30, 0.70898, 1, 1 - 2 ** -24, 1 + 2 ** -23);
  special.push(314159.2, 314159.3, -314160, 1e6, 3e38, Math.PI / 2, -Math.PI, 1e5 * Math.PI, 8191.999, 8192, 8192.001, -8192, -8192.001);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const t = i / n;
    out[i] = i < special.length ? special[i]! : i % 3 === 0 ? (t - 0.5) * 240 : i % 3 === 1 ? Math.exp((t - 0.5) * 180) : -Math.exp((t - 0.3) * 150);
  }
  return out;
}

describe("the wasm fused loops", () => {
  it("are on by default where WebAssembly SIMD exists (Node has it)", () => {
    expect(wasmLoopsEnabled()).toBe(true);
  });

  it("runs on this thread alone use an unshared memory beside the threads' shared one", () => {
    if (!sharedHeap()!.shared) return; // one core, or no SharedArrayBuffer: one unshared memory
    expect(localHeap()!.shared).toBe(false);
    expect(localHeap()!.memory).not.toBe(sharedHeap()!.memory);
  });

  it("threaded runs copy their operands in while the workers start, and match bit for bit", () => {
    const pool = sharedHeap()!.pool;
    if (pool === null) return; // one core, or no SharedArrayBuffer: no threads
    const n = 300_001; // odd, past the threading threshold: a ragged last chunk
    const x = np.array(float32Inputs(n)),
      y = np.array(Float32Array.from({ length: n }, (_, i) => Math.cos(i * 0.37) * 3)),
      bias = np.array(new Float32Array([0.25]));
    const fs: ((a: NDArray, b: NDArray, c: NDArray) => unknown)[] = [
      // f32x4 lanes, two streamed operands and a broadcast one
      (a, b, c) => np.tanh(np.add(np.multiply(np.sin(a), b), c)),
      // f64x2 lanes (a float64 value in the run), and two results
      (a, b) => {
        const w = np.add(np.astype(np.exp(np.multiply(a, 0.01)), "float64"), np.astype(b, "float64"));
        return [w, np.cos(b)];
      },
    ];
    for (const f of fs) {
      const [js, wasm, eager] = both(f);
      const before = pool.fedRuns;
      const w1 = wasm(x, y, bias);
      expect(pool.fedRuns).toBeGreaterThan(before);
      expect(differences(w1, js(x, y, bias))).toEqual([]);
      expect(differences(w1, eager(x, y, bias))).toEqual([]);
      // Again on other data: nothing of the first call's operands may linger in the chunks.
      const w2 = wasm(y, x, bias);
      expect(differences(w2, js(y, x, bias))).toEqual([]);
    }
  });

  it("a run whose leading ops the lanes cannot hold (uint32 division, a bitcast) keeps its fast-math rest in wasm, bit for bit", () => {
    const n = 1001;
    const words = np.array(
      Uint32Array.from({ length: n }, (_, i) => Math.imul(i + 1, 2654435761) >>> 0),
      { dtype: "uint32" },
    );
    // Integer division has no vector lanes: it runs in JavaScript, and the float32 rest of the run
    // (random.uniform's trick, a log and a square root) as a wasm loop (`both` checks one compiled).
    const f = (u: NDArray) => {
      const q = np.floorDivide(u, np.array(3, { dtype: "uint32" }));
      const m = np.bitwiseOr(np.rightShift(q, np.array(9, { dtype: "uint32" })), np.array(0x3f800000, { dtype: "uint32" }));
      const x = np.subtract(lax.bitcastConvertType(m, "float32"), 1);
      return np.sqrt(np.negative(np.log(np.add(x, 1e-7))));
    };
    const [js, wasm, eager] = both(f);
    const w = wasm(words);
    expect(differences(w, js(words))).toEqual([]);
    expect(differences(w, eager(words))).toEqual([]);
  });

  it("int32 and uint32 run as i32x4 lanes with the JavaScript loops' bits: wrapping, shifts past 31, signedness, conversions", () => {
    const edges = [0, 1, -1, 2, -2, 7, 31, 32, 33, 255, 65536, 2 ** 31 - 1, -(2 ** 31), 123456789, -987654321];
    const n = 1030; // not a multiple of the loop's step
    const ints = Int32Array.from({ length: n }, (_, i) => (i < edges.length ? edges[i]! : Math.imul(i, 2654435761)));
    const counts = Int32Array.from({ length: n }, (_, i) => [0, 1, 5, 31, 32, 33, 63, -1, 2 ** 31 - 1][i % 9]!);
    const a = np.array(ints, { dtype: "int32" }),
      b = np.array(Int32Array.from(ints).reverse(), { dtype: "int32" }),
      s = np.array(counts, { dtype: "int32" });
    const u = (x: NDArray) => np.astype(x, "uint32");
    const k = (v: number, d: "int32" | "uint32") => np.array(v, { dtype: d });
    const programs: [string, (x: NDArray, y: NDArray, c: NDArray) => unknown][] = [
      [
        "int32 arithmetic",
        (x, y) => [np.add(x, y), np.subtract(x, y), np.multiply(x, y), np.negative(x), np.abs(x), np.sign(x), np.maximum(x, y), np.minimum(x, y)],
      ],
      [
        "uint32 arithmetic",
        (x, y) => [np.add(u(x), u(y)), np.subtract(u(x), u(y)), np.multiply(u(x), u(y)), np.negative(u(x)), np.sign(u(x)), np.maximum(u(x), u(y))],
      ],
      [
        "comparisons both ways",
        (x, y) => [np.less(x, y), np.greaterEqual(x, y), np.less(u(x), u(y)), np.greater(u(x), u(y)), np.equal(x, y), np.notEqual(u(x), u(y))],
      ],
      ["bit logic", (x, y) => [np.bitwiseAnd(x, y), np.bitwiseOr(u(x), u(y)), np.bitwiseXor(x, y), np.bitwiseNot(u(x)), np.bitwiseNot(x)]],
      [
        "shifts by one count",
        (x) => [
          np.leftShift(u(x), k(13, "uint32")),
          np.rightShift(u(x), k(7, "uint32")),
          np.leftShift(x, k(31, "int32")),
          np.leftShift(u(x), k(32, "uint32")),
          np.rightShift(u(x), k(40, "uint32")),
        ],
      ],
      ["shifts by per-element counts", (x, _y, c) => [np.leftShift(x, c), np.rightShift(u(x), u(c)), np.leftShift(u(x), u(c))]],
      [
        "conversions",
        (x) => [
          np.astype(x, "float32"),
          np.astype(u(x), "float32"),
          np.astype(x, "bool"),
          np.astype(np.astype(x, "bool"), "int32"),
          u(x),
          np.astype(u(x), "int32"),
        ],
      ],
      [
        "bitcasts and a select by an int32 index",
        (x, y) => [
          lax.bitcastConvertType(np.add(x, y), "float32"),
          lax.bitcastConvertType(np.multiply(np.astype(x, "float32"), 0.5), "uint32"),
          coreLax.selectN(
            np.clip(np.subtract(np.bitwiseAnd(x, 3), 1), -5, 7),
            np.astype(x, "float32"),
            np.astype(y, "float32"),
            np.astype(np.add(x, y), "float32"),
          ),
        ],
      ],
    ];
    for (const [name, f] of programs) {
      const [js, wasm, eager] = both(f);
      const w = wasm(a, b, s);
      expect(differences(w, js(a, b, s)), name).toEqual([]);
      expect(differences(w, eager(a, b, s)), name).toEqual([]);
    }
  });

  it("threads take a run by its work, not its length alone: cheap mid-size runs stay on this thread", () => {
    const pool = sharedHeap()!.pool;
    if (pool === null) return; // one core, or no SharedArrayBuffer: no threads
    const n = 40_000;
    const x = np.array(float32Inputs(n)),
      y = np.array(Float32Array.from({ length: n }, (_, i) => Math.cos(i * 0.37) * 3));
    const cheap = (a: NDArray, b: NDArray) => np.add(np.multiply(a, 2), b);
    const heavy = (a: NDArray, b: NDArray) => np.tanh(np.exp(np.sin(a)).mul(np.cos(b)));
    for (const [f, threaded] of [
      [cheap, false],
      [heavy, true],
    ] as const) {
      const [js, wasm, eager] = both(f);
      const before = pool.fedRuns;
      const out = wasm(x, y);
      expect(pool.fedRuns > before).toBe(threaded);
      expect(differences(out, js(x, y))).toEqual([]);
      expect(differences(out, eager(x, y))).toEqual([]);
    }
  });

  it("sums over trailing axes of values left in linear memory equal eager sums bit for bit (threads, odd lengths, rows)", () => {
    // Eager reference: a plain-JS blocked pairwise sum written here (blocks of 64, four running sums).
    const pairwise = (v: ArrayLike<number>, start: number, n: number): number => {
      if (n > 64) return pairwise(v, start, n >> 1) + pairwise(v, start + (n >> 1), n - (n >> 1));
      const s = [0, 0, 0, 0];
      for (let k = 0; k < n; k++) s[k % 4]! += v[start + k]!;
      return s[0]! + s[1]! + (s[2]! + s[3]!);
    };
    for (const [rows, n, dtype] of [
      [1, 100_003, "float32"],
      [1, 70_001, "float64"],
      [3, 5_001, "float32"],
      [1, 1_027, "float64"],
    ] as const) {
      const data = Array.from({ length: rows * n }, (_, i) => Math.sin(i * 0.37) * 10 ** ((i % 7) - 3));
      const a = np.reshape(np.array(dtype === "float32" ? new Float32Array(data) : new Float64Array(data)), [rows, n]);
      const [, wasm, eager] = both((v: NDArray) => np.sum(np.add(np.multiply(v, 2), 1), 1));
      const before = wasmSumsRun();
      const got = (wasm(np.multiply(a, 1e-3)) as NDArray).dataSync() as ArrayLike<number>;
      // The sum ran in wasm, on whichever memory the run used (large runs the shared one).
      expect(wasmSumsRun()).toBe(before + 1);
      const e = np.add(np.multiply(np.multiply(a, 1e-3), 2), 1).dataSync() as ArrayLike<number>;
      const round = dtype === "float32" ? Math.fround : (t: number) => t;
      for (let r = 0; r < rows; r++) expect(got[r]).toBe(round(pairwise(e, r * n, n)));
      expect(differences(wasm(np.multiply(a, 1e-3)), eager(np.multiply(a, 1e-3)))).toEqual([]);
    }
  }, 60_000);

  it("max and min over trailing axes run in one wasm call and give the eager kernel's bits: ±0 ties, NaNs, odd rows", () => {
    // Eager reference written here: the first element wins a tie (so -0 or +0 by position), a NaN
    // wins over everything, the last NaN over earlier ones.
    const extremum = (v: ArrayLike<number>, start: number, n: number, max: boolean): number => {
      let m = max ? -Infinity : Infinity;
      for (let k = start; k < start + n; k++) if ((max ? v[k]! > m : v[k]! < m) || v[k] !== v[k]) m = v[k]!;
      return m;
    };
    for (const dtype of ["float32", "float64"] as const)
      for (const [rows, n] of [
        [256, 8],
        [100, 13],
        [64, 64],
        [3, 1001],
        [40, 3],
      ] as const) {
        // Rows of negatives with zeros of both signs (the maximum a zero whose sign the first one
        // sets), rows with a NaN or two, rows of ±Infinity, and plain rows.
        const data = Array.from({ length: rows * n }, (_, i) => {
          const r = Math.floor(i / n),
            k = i % n;
          // The first zero in a later vector lane than zeros of the other sign after it.
          if (r % 5 === 0) return k === 2 ? -0 : k % 4 === 0 && k > 0 ? 0 : -1 - k;
          if (r % 5 === 1) return k === 2 ? 0 : k % 4 === 0 && k > 0 ? -0 : 1 + k;
          if (r % 5 === 2 && (k === n >> 1 || k === n - 1)) return NaN;
          if (r % 5 === 3) return k % 2 ? Infinity : -Infinity;
          return Math.sin(i * 0.37) * 100;
        });
        const a = np.reshape(np.array(dtype === "float32" ? new Float32Array(data) : new Float64Array(data)), [rows, n]);
        for (const [op, max] of [
          [np.max, true],
          [np.min, false],
        ] as const) {
          const programs: [string, (v: NDArray) => unknown][] = [
            // After a fused run (in place) and straight on an input (copied in).
            ["in place", (v) => op(np.multiply(v, 1), 1)],
            ["copied in", (v) => op(v, 1)],
          ];
          for (const [name, f] of programs) {
            const [, wasm, eager] = both(f, name === "in place" && rows * n >= 256);
            const before = wasmSumsRun();
            const got = (wasm(a) as NDArray).dataSync() as ArrayLike<number>;
            // From 1024 elements on in wasm; fewer stay with the eager kernel.
            expect(wasmSumsRun(), `${dtype} ${rows}x${n} ${name}`).toBe(before + (rows * n >= 1024 ? 1 : 0));
            const round = dtype === "float32" ? Math.fround : (t: number) => t;
            const vals = round === Math.fround ? Float32Array.from(data) : Float64Array.from(data);
            for (let r = 0; r < rows; r++) {
              const want = round(extremum(vals, r * n, n, max));
              const show = (t: number) => (Object.is(t, -0) ? "-0" : String(t));
              if (!Object.is(got[r], want) && !(Number.isNaN(got[r]) && Number.isNaN(want)))
                expect(`${dtype} ${rows}x${n} ${name} row ${r}: ${show(got[r]!)}`).toBe(`${dtype} ${rows}x${n} ${name} row ${r}: ${show(want)}`);
            }
            expect(differences(wasm(a), eager(a))).toEqual([]);
          }
        }
      }
  });

  it("sums of many short rows run in one wasm call, in place or copied in, and equal eager sums bit for bit", () => {
    for (const dtype of ["float32", "float64"] as const)
      for (const [rows, n] of [
        [512, 4],
        [1500, 1],
        [40, 63],
        [33, 64],
        [20, 65],
        [16, 1000],
      ] as const) {
        // Full-mantissa values of mixed magnitude, and -0 (whose sum of zeros must stay -0 where eager's does).
        const data = Array.from({ length: rows * n }, (_, i) => (i % 97 === 5 ? -0 : Math.sin(i * 0.37) * 10 ** ((i % 7) - 3)));
        const a = np.reshape(np.array(dtype === "float32" ? new Float32Array(data) : new Float64Array(data)), [rows, n]);
        const programs: [string, (v: NDArray) => unknown][] = [
          // Both values of one fused run, read only by the reductions after it: both in place, the
          // second's sums written above the first's values.
          [
            "in place",
            (v) => {
              const p = np.multiply(v, 2),
                q = np.add(v, 1);
              return [np.sum(p, 1), np.sum(q, 1)];
            },
          ],
          // The first value escapes (copied out, then copied in above the second, which is in place).
          [
            "copied in",
            (v) => {
              const e = np.multiply(v, 3),
                w = np.subtract(v, 1);
              return [e, np.sum(e, 1), np.sum(w, 1)];
            },
          ],
        ];
        for (const [name, f] of programs) {
          const [, wasm, eager] = both(f);
          const before = wasmSumsRun();
          const got = wasm(a);
          expect(wasmSumsRun() - before, `${name} ${dtype} ${rows}x${n}`).toBe(2);
          expect(differences(got, eager(a)), `${name} ${dtype} ${rows}x${n}`).toEqual([]);
        }
      }
  });

  it("sums over a middle block of axes (column sums) run in wasm, split in halves as eager splits them, bit for bit", () => {
    for (const dtype of ["float32", "float64"] as const)
      for (const [shape, axes] of [
        [[8, 64, 32], [1]],
        [[3, 200, 5], [1]],
        [[200, 7], [0]],
        [
          [2, 3, 70, 6],
          [1, 2],
        ],
        [[1, 1000, 3], [1]],
      ] as [number[], number[]][]) {
        const size = shape.reduce((p, q) => p * q, 1);
        const data = Array.from({ length: size }, (_, i) => (i % 89 === 7 ? -0 : Math.sin(i * 0.61) * 10 ** ((i % 5) - 2)));
        const a = np.reshape(np.array(dtype === "float32" ? new Float32Array(data) : new Float64Array(data)), shape);
        const programs: [string, (v: NDArray) => unknown][] = [
          ["in place", (v) => np.sum(np.multiply(v, 2), axes)],
          [
            "copied in",
            (v) => {
              const e = np.multiply(v, 3);
              return [e, np.sum(e, axes)];
            },
          ],
        ];
        for (const [name, f] of programs) {
          const [, wasm, eager] = both(f);
          const before = wasmSumsRun();
          const got = wasm(a);
          expect(wasmSumsRun() - before, `${name} ${dtype} ${JSON.stringify(shape)}`).toBe(1);
          expect(differences(got, eager(a)), `${name} ${dtype} ${JSON.stringify(shape)}`).toEqual([]);
        }
      }
  });

  it("eager sums, maxima and minima of long arrays run in wasm and give the JavaScript kernel's bits", () => {
    const cases: [number[], number[], "sum" | "max" | "min"][] = [
      [[100_003], [0], "sum"],
      [[70, 1000], [1], "sum"],
      [[500, 9], [1], "sum"], // many short rows
      [[5, 900, 3], [1], "sum"], // a middle block: column sums
      [[4, 5, 300, 2], [1, 2], "sum"],
      [[2, 5000], [0, 1], "max"],
      [[64, 65], [1], "min"],
      [[9, 8, 100], [1, 2], "max"],
      [[6, 4, 28, 28], [0, 2, 3], "sum"], // scattered axes (a conv's bias gradient): moved together first
      [[30, 7, 40], [0, 2], "max"],
    ];
    for (const dtype of ["float32", "float64"] as const)
      for (const [shape, axes, op] of cases) {
        const size = shape.reduce((p, q) => p * q, 1);
        // Mixed magnitudes, signed zeros, a NaN in one row, whole rows of -0.
        const data = Array.from({ length: size }, (_, i) =>
          i % 89 === 7 ? -0 : i === 4001 ? NaN : i < 130 ? -0 : Math.sin(i * 0.61) * 10 ** ((i % 5) - 2),
        );
        const a = np.reshape(np.array(dtype === "float32" ? new Float32Array(data) : new Float64Array(data)), shape);
        const f = { sum: np.sum, max: np.max, min: np.min }[op];
        const label = `${op} ${dtype} ${JSON.stringify(shape)} over ${JSON.stringify(axes)}`;
        setReduceAccelerator(null);
        let want: NDArray;
        try {
          want = f(a, axes);
        } finally {
          setReduceAccelerator(eagerWasmReduce);
        }
        const before = wasmSumsRun();
        const got = f(a, axes);
        expect(wasmSumsRun() - before, label).toBe(1);
        expect(differences(got, want), label).toEqual([]);
      }
    // A max over a middle block keeps the JavaScript kernel.
    const b = np.reshape(np.arange(4096, undefined, 1, "float32"), [16, 16, 16]);
    const before = wasmSumsRun();
    expect(Array.from(np.max(b, 1).dataSync().slice(0, 3))).toEqual([240, 241, 242]);
    expect(wasmSumsRun()).toBe(before);
  });

  it("a jitted sum straight over a long input copies it in and gives the eager bits", () => {
    for (const dtype of ["float32", "float64"] as const) {
      const data = Array.from({ length: 3 * 30_011 }, (_, i) => Math.cos(i * 0.29) * 10 ** ((i % 7) - 3));
      const a = np.reshape(np.array(dtype === "float32" ? new Float32Array(data) : new Float64Array(data)), [3, 30_011]);
      const [js, wasm] = both((v: NDArray) => [np.sum(v, 1), np.sum(np.reshape(v, [-1]))], false);
      const before = wasmSumsRun();
      const got = wasm(a);
      expect(wasmSumsRun() - before, dtype).toBe(2);
      expect(differences(got, js(a)), dtype).toEqual([]);
    }
  });

  const x = np.array(float32Inputs(40_003));
  const unary: [string, (a: NDArray) => NDArray][] = [
    ["exp", np.exp],
    ["expm1", np.expm1],
    ["log", np.log],
    ["log1p", np.log1p],
    ["sin", np.sin],
    ["cos", np.cos],
    ["tanh", np.tanh],
    ["sqrt", np.sqrt],
    ["abs", np.abs],
    ["floor", np.floor],
    ["sign", np.sign],
    ["negative", np.negative],
  ];
  for (const [name, f] of unary)
    it(`${name} of every kind of float32 value matches the JavaScript loop and eager, bit for bit`, () => {
      const [js, wasm, eager] = both(f);
      const w = wasm(x);
      expect(differences(w, js(x))).toEqual([]);
      expect(differences(w, eager(x))).toEqual([]);
    });

  it("logistic, rsqrt, division and chains through several fast-math calls match", () => {
    const y = np.array(float32Inputs(40_003).reverse());
    const fs: ((a: NDArray, b: NDArray) => NDArray)[] = [
      (a) => np.divide(1, np.add(1, np.exp(np.negative(a)))),
      (a, b) => np.divide(a, b),
      (a) => np.exp(np.add(np.multiply(np.sin(a), 2), 1)),
      (a, b) => np.tanh(np.add(np.log(np.abs(a)), np.cos(b))),
      (a, b) => np.where(np.greater(a, b), np.sqrt(np.abs(a)), np.maximum(np.divide(a, b), np.minimum(b, 0.5))),
      (a, b) => np.astype(np.logicalAnd(np.less(a, 1), np.greaterEqual(b, -1)), "float32"),
    ];
    for (const f of fs) {
      const [js, wasm, eager] = both(f);
      const w = wasm(x, y);
      expect(differences(w, js(x, y))).toEqual([]);
      expect(differences(w, eager(x, y))).toEqual([]);
    }
  });

  it("float32 fast math in a run that also holds float64 values (two lanes at a time) matches", () => {
    const fs: ((a: NDArray) => NDArray)[] = (["exp", "expm1", "log", "sin", "cos", "tanh"] as const).map(
      (name) => (a) => np.add(np.astype(np[name](a), "float64"), np.astype(a, "float64")),
    );
    for (const f of fs) {
      const [js, wasm, eager] = both(f);
      const w = wasm(x);
      expect(differences(w, js(x))).toEqual([]);
      expect(differences(w, eager(x))).toEqual([]);
    }
  });

  it("reductions right after a run read its values in linear memory, and match bit for bit", () => {
    const y = np.reshape(np.array(float32Inputs(40_000).map((v) => (Number.isFinite(v) ? Math.tanh(v) : 0.5))), [200, 200]);
    const f = (a: NDArray) => {
      const e = np.exp(np.sin(a));
      const t = np.multiply(e, 2);
      // e is read by two reductions, t by one reduction and by later work: only e goes in place.
      return [np.sum(e), np.max(e, 0), np.sum(t, 1), np.cos(np.add(t, 1)), np.min(np.multiply(np.cos(a), e))];
    };
    const [js, wasm, eager] = both(f);
    const w = wasm(y);
    expect(differences(w, js(y))).toEqual([]);
    expect(differences(w, eager(y))).toEqual([]);
    // A second call overwrites linear memory: the first call's results must not change.
    const snapshot = (tree.leaves(w) as NDArray[]).map((l) => Array.from(l.dataSync()));
    wasm(np.multiply(y, 0.5));
    expect((tree.leaves(w) as NDArray[]).map((l) => Array.from(l.dataSync()))).toEqual(snapshot);
  });

  it("reads broadcast operands by rows, columns, single elements and strided index arithmetic", () => {
    const fill = (shape: number[], dtype: "float32" | "float64", s: number) =>
      np.reshape(
        np.array(
          Array.from({ length: shape.reduce((p, q) => p * q, 1) }, (_, i) => Math.sin(i * s + 1) * 3),
          { dtype },
        ),
        shape,
      );
    // [odd, odd, odd] and [even, even] targets: per-lane loads, vector loads and splats all occur.
    for (const dtype of ["float32", "float64"] as const)
      for (const [target, operands] of [
        [
          [7, 9, 5],
          [[1, 9, 1], [7, 1, 5], [5], [7, 1, 1], [1]],
        ],
        [
          [6, 40, 4],
          [[1, 40, 1], [6, 1, 4], [4], [6, 1, 1], [40, 4]],
        ],
        [
          [130, 3],
          [[3], [130, 1]],
        ],
        // Dims 0 and 2 of four: a vector per row where the last dim is the operand's, else a splat.
        [
          [6, 5, 8, 4],
          [
            [6, 1, 8, 1],
            [6, 1, 1, 4],
            [1, 5, 1, 4],
          ],
        ],
      ] as [number[], number[][]][]) {
        const base = fill(target, dtype, 0.37);
        const others = operands.map((s, k) => fill(s, dtype, 0.11 * (k + 1)));
        const f = (a: NDArray, ...bs: NDArray[]) =>
          bs.reduce((acc, b, k) => (k % 2 === 0 ? np.multiply(np.add(acc, b), np.exp(b)) : np.subtract(acc, np.sin(b))), a);
        const [js, wasm, eager] = both(f);
        configureWasmLoops({ minElements: 0 });
        try {
          const w = wasm(base, ...others);
          expect(differences(w, js(base, ...others))).toEqual([]);
          expect(differences(w, eager(base, ...others))).toEqual([]);
        } finally {
          configureWasmLoops({ minElements: 256 });
        }
      }
  });

  it("bool values ride in float32 lanes: comparisons, selects, logic and conversions match bit for bit", () => {
    const n = 1000;
    const a = np.array(float32Inputs(n)),
      b = np.array(float32Inputs(n).reverse()),
      m = np.array(
        Array.from({ length: n }, (_, i) => i % 3 === 0),
        { dtype: "bool" },
      );
    const f = (a: NDArray, b: NDArray, m: NDArray) => {
      const s = np.add(a, b);
      const g = np.greater(s, 0);
      const h = np.logicalOr(np.logicalNot(m), np.lessEqual(a, b));
      return [
        np.where(g, s, 0),
        g,
        np.logicalAnd(h, m),
        np.logicalXor(np.equal(a, b), np.notEqual(a, 0)),
        np.multiply(g.astype("float32"), a),
        a.astype("bool"),
        np.where(np.greaterEqual(a, b), m, np.less(a, 1)),
        np.maximum(m, g),
      ];
    };
    const [js, wasm, eager] = both(f);
    const before = wasmLoopsCompiled32();
    const w = wasm(a, b, m);
    expect(wasmLoopsCompiled32()).toBeGreaterThan(before);
    expect(differences(w, js(a, b, m))).toEqual([]);
    expect(differences(w, eager(a, b, m))).toEqual([]);
  });

  it("random programs give the same bits with every fused run in wasm as with JavaScript loops", () => {
    configureWasmLoops({ minElements: 0 });
    try {
      for (const cases of [arb.programCases(), arb.nestedProgramCases()])
        fc.assert(
          fc.property(cases, (c) => {
            const [js, wasm] = both(c.f as (...a: NDArray[]) => unknown, false);
            const args = c.args as NDArray[];
            expect(differences(wasm(...args), js(...args))).toEqual([]);
          }),
          { numRuns: 150, seed: 7 },
        );
    } finally {
      configureWasmLoops({ minElements: 256 });
    }
  }, 120_000);

  it("FLUXION_BACKEND=js keeps the JavaScript loops and gives the same values", () => {
    const script = [
      'import { np, jit } from "./src/index.ts";',
      'import { wasmLoopsEnabled } from "./interpreters/jit/wasm_loop.ts";',
      "const x = np.linspace(-3, 3, 1000);",
      "const y = jit((a) => np.exp(np.sin(a)))(x);",
      "console.log(JSON.stringify({ on: wasmLoopsEnabled(), sum: Array.from(y.dataSync()).reduce((p, q) => p + q, 0) }));",
    ].join("\n");
    const run = (backend: string) =>
      JSON.parse(
        execFileSync(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], {
          cwd: new URL("../..", import.meta.url),
          env: { ...process.env, FLUXION_BACKEND: backend },
          encoding: "utf8",
        }).trim(),
      ) as { on: boolean; sum: number };
    const js = run("js"),
      wasm = run("wasm");
    expect(js.on).toBe(false);
    expect(wasm.on).toBe(true);
    expect(js.sum).toBe(wasm.sum);
    const eager = Array.from(np.exp(np.sin(np.linspace(-3, 3, 1000))).dataSync() as Float32Array).reduce((p, q) => p + q, 0);
    expect(js.sum).toBe(eager);
  }, 60_000);
});
