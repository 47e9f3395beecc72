import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { availableParallelism } from "node:os";
import { configureMatmul, lastMatmulPath, matmul, type MatmulConfig } from "../../interpreters/eval/kernels/matmul.js";
import { buildGemmModule, relaxedSimdSupported } from "../../interpreters/eval/kernels/gemm_wasm_module.js";
import { matmulWasmOffsets } from "../../interpreters/eval/kernels/matmul_wasm.js";
import { sleb, uleb, wasmApi } from "../../src/codegen/wasm_asm.js";
import { rng } from "../../laws/numeric.js";

/**
 * The WebAssembly kernel (register tile 2 x 16 for float32, 2 x 8 for float64; blocks KC = 256,
 * MC = 128, NC = 1024) and its threaded split, against a float64 reference. Shapes straddle every
 * block edge: M around MR and MC, K around KC, N around NR and NC.
 */
const SHAPES: [number, number, number, number][] = [
  [1, 2, 1, 8],
  [1, 2, 2, 16],
  [1, 3, 5, 17],
  [1, 5, 3, 31], // one tile, edge tiles in M and N
  [1, 64, 64, 64],
  [1, 37, 29, 45],
  [1, 129, 70, 40],
  [1, 257, 31, 19], // M crosses MC = 128 (and 256)
  [1, 20, 255, 33],
  [1, 20, 256, 33],
  [1, 21, 257, 33],
  [1, 9, 513, 18], // K around KC = 256
  [1, 7, 40, 1023],
  [1, 6, 33, 1024],
  [1, 5, 20, 1025],
  [1, 3, 9, 2061], // N around NC = 1024
  [1, 9, 17, 512],
  [2, 5, 8, 2048], // power-of-two row lengths
  [1, 131, 260, 1030], // all three at once
  [1, 40, 1, 33], // K = 1 (outer product)
  [3, 5, 7, 16],
  [4, 33, 20, 17],
  [2, 130, 258, 20], // batch > 1
];

type Ctor = Float32ArrayConstructor | Float64ArrayConstructor;

/** Max over C of |got - want| / (1 + sum_p |a_ip b_pj|) against a float64 reference. */
function scaledError(a: ArrayLike<number>, b: ArrayLike<number>, c: ArrayLike<number>, batch: number, m: number, k: number, n: number): number {
  let worst = 0;
  const row = new Float64Array(n),
    scale = new Float64Array(n);
  for (let bi = 0; bi < batch; bi++) {
    for (let i = 0; i < m; i++) {
      row.fill(0);
      scale.fill(1);
      for (let p = 0; p < k; p++) {
        const x = a[bi * m * k + i * k + p]!,
          bo = bi * k * n + p * n;
        for (let j = 0; j < n; j++) {
          const t = x * b[bo + j]!;
          row[j] += t;
          scale[j] += Math.abs(t);
        }
      }
      for (let j = 0; j < n; j++) {
        const got = c[bi * m * n + i * n + j]!;
        if (!Number.isFinite(got)) return Number.POSITIVE_INFINITY;
        worst = Math.max(worst, Math.abs(got - row[j]!) / scale[j]!);
      }
    }
  }
  return worst;
}

function product(Ctor: Ctor, [batch, m, k, n]: [number, number, number, number], seed: number) {
  const r = rng(seed);
  const a = new Ctor(batch * m * k).map(() => r() * 2 - 1);
  const b = new Ctor(batch * k * n).map(() => r() * 2 - 1);
  const c = new Ctor(batch * m * n).fill(Number.NaN); // must be fully overwritten
  matmul(a, b, c, batch, m, k, n);
  return { a, b, c, error: scaledError(a, b, c, batch, m, k, n), path: lastMatmulPath() };
}

const TOL = { Float32Array: 2e-6, Float64Array: 1e-14 } as const;
const canThread = availableParallelism() >= 2 && typeof SharedArrayBuffer !== "undefined";

let saved: MatmulConfig;
beforeAll(() => {
  saved = configureMatmul();
});
afterEach(() => {
  configureMatmul(saved);
});

describe("wasm assembler", () => {
  it("encodes LEB128", () => {
    expect(uleb(0)).toEqual([0]);
    expect(uleb(127)).toEqual([127]);
    expect(uleb(128)).toEqual([0x80, 1]);
    expect(uleb(624485)).toEqual([0xe5, 0x8e, 0x26]);
    expect(sleb(-1)).toEqual([0x7f]);
    expect(sleb(63)).toEqual([63]);
    expect(sleb(64)).toEqual([0xc0, 0]);
    expect(sleb(-64)).toEqual([0x40]);
    expect(sleb(-65)).toEqual([0xbf, 0x7f]);
    expect(sleb(-(2 ** 31))).toEqual([0x80, 0x80, 0x80, 0x80, 0x78]);
  });

  it("emits modules the engine validates, for both element types and both memory kinds", () => {
    for (const dtype of ["float32", "float64"] as const) {
      for (const shared of [false, true]) {
        const bytes = buildGemmModule({ dtype, mr: 2, nv: 4, kc: 256, mc: 128, nc: 1024, fma: false, shared, maxPages: 32768 });
        expect(wasmApi?.validate(bytes)).toBe(true);
      }
    }
    expect(typeof relaxedSimdSupported()).toBe("boolean");
  });
});

for (const Ctor of [Float32Array, Float64Array]) {
  const tol = TOL[Ctor.name as keyof typeof TOL];

  describe(`wasm kernel, ${Ctor.name}`, () => {
    SHAPES.forEach((shape, idx) => {
      it(`matches the float64 reference for [batch, M, K, N] = [${shape.join(", ")}]`, () => {
        configureMatmul({ wasm: true, threads: 1, wasmMinWork: 0 });
        const { error, path } = product(Ctor, shape, 3000 + idx);
        expect(path.path).toBe("wasm");
        expect(path.threads).toBe(1);
        expect(error).toBeLessThanOrEqual(tol);
      });
    });

    it("computes exact small-integer products and overwrites C on repeated calls", () => {
      configureMatmul({ wasm: true, threads: 1, wasmMinWork: 0 });
      const [m, k, n] = [37, 600, 45];
      const a = new Ctor(m * k).map((_, i) => (i % 7) - 3);
      const b = new Ctor(k * n).map((_, i) => (i % 5) - 2);
      const c = new Ctor(m * n).fill(123);
      const want = new Float64Array(m * n);
      for (let i = 0; i < m; i++) for (let p = 0; p < k; p++) for (let j = 0; j < n; j++) want[i * n + j] += a[i * k + p]! * b[p * n + j]!;
      matmul(a, b, c, 1, m, k, n);
      matmul(a, b, c, 1, m, k, n);
      expect(lastMatmulPath().path).toBe("wasm");
      expect(Array.from(c)).toEqual(Array.from(want));
    });

    it("propagates NaN and infinity like the reference", () => {
      configureMatmul({ wasm: true, threads: 1, wasmMinWork: 0 });
      const [m, k, n] = [4, 3, 16];
      const a = new Ctor(m * k).fill(1),
        b = new Ctor(k * n).fill(1),
        c = new Ctor(m * n);
      a[0] = Number.NaN; // row 0 all NaN
      b[5] = Number.POSITIVE_INFINITY; // column 5 infinite in rows 1..3
      matmul(a, b, c, 1, m, k, n);
      expect(lastMatmulPath().path).toBe("wasm");
      expect(Array.from(c.subarray(0, n)).every(Number.isNaN)).toBe(true);
      expect(c[n + 5]).toBe(Number.POSITIVE_INFINITY);
      expect(c[n + 4]).toBe(3);
    });
  });

  describe(`threaded wasm kernel, ${Ctor.name}`, () => {
    const shapes: [number, number, number, number][] = [
      [1, 200, 300, 1030],
      [1, 67, 257, 33],
      [1, 2, 5, 16],
      [5, 70, 40, 24],
      [2, 300, 20, 40],
      [9, 3, 4, 17],
      [2, 70, 30, 1024],
    ];
    shapes.forEach((shape, idx) => {
      it(`matches the float64 reference for [batch, M, K, N] = [${shape.join(", ")}]`, () => {
        configureMatmul({ wasm: true, threads: 2, wasmMinWork: 0, threadMinWork: 0 });
        const { error, path } = product(Ctor, shape, 4000 + idx);
        expect(path.path).toBe("wasm");
        expect(path.threads).toBe(canThread ? 2 : 1);
        expect(error).toBeLessThanOrEqual(tol);
      });
    });
  });
}

describe("threads", () => {
  it.runIf(canThread)("workers take part in large products", async () => {
    configureMatmul({ wasm: true, threads: 2, wasmMinWork: 0, threadMinWork: 0 });
    // Whether a worker claims a task depends on scheduling; give it a few chances and event-loop turns.
    let helped = false;
    for (let attempt = 0; attempt < 40 && !helped; attempt++) {
      const { error, path } = product(Float32Array, [1, 256, 256, 256], 5000 + attempt);
      expect(error).toBeLessThanOrEqual(TOL.Float32Array);
      helped = path.workerTasks > 0;
      if (!helped) await new Promise((r) => setTimeout(r, 50));
    }
    expect(helped).toBe(true);
  });

  it("gives identical results with and without threads (the same kernel on the same rows)", () => {
    const shape: [number, number, number, number] = [2, 150, 270, 50];
    configureMatmul({ wasm: true, threads: 1, wasmMinWork: 0 });
    const single = product(Float32Array, shape, 6000);
    configureMatmul({ wasm: true, threads: 2, wasmMinWork: 0, threadMinWork: 0 });
    const threaded = product(Float32Array, shape, 6000);
    expect(Array.from(threaded.c)).toEqual(Array.from(single.c));
  });
});

describe("path selection and fallbacks", () => {
  it("keeps small and narrow products in JavaScript by default", () => {
    const { wasmMinWork } = configureMatmul();
    // Just below and at the crossover.
    const k = 32,
      n = 32,
      m = Math.ceil(wasmMinWork / (k * n));
    expect(product(Float32Array, [1, m - 1, k, n], 7000).path.path).toBe("js");
    expect(product(Float32Array, [1, m, k, n], 7001).path.path).toBe("wasm");
    // Matrix-vector products take the matrix-vector kernel (matvec_wasm.ts, the JavaScript kernel's
    // arithmetic); vector-matrix products stay in JavaScript whatever their size.
    expect(product(Float32Array, [1, 1000, 1000, 1], 7002).path).toMatchObject({ path: "wasm", threads: 1 });
    expect(product(Float32Array, [1, 1, 1000, 1000], 7003).path.path).toBe("js");
  });

  it("uses the JavaScript kernel when wasm is switched off", () => {
    configureMatmul({ wasm: false });
    const { error, path } = product(Float32Array, [2, 131, 260, 40], 7100);
    expect(path.path).toBe("js");
    expect(error).toBeLessThanOrEqual(1e-6);
  });

  it("runs on one thread when threads are switched off", () => {
    configureMatmul({ wasm: true, threads: 1, wasmMinWork: 0, threadMinWork: 0 });
    const { error, path } = product(Float32Array, [1, 300, 300, 300], 7200);
    expect(path).toMatchObject({ path: "wasm", threads: 1, workerTasks: 0 });
    expect(error).toBeLessThanOrEqual(TOL.Float32Array);
  });

  it("always runs int32 products in JavaScript", () => {
    configureMatmul({ wasm: true, wasmMinWork: 0 });
    const a = new Int32Array(64 * 64).fill(3),
      b = new Int32Array(64 * 64).fill(5),
      c = new Int32Array(64 * 64);
    matmul(a, b, c, 1, 64, 64, 64);
    expect(c.every((x) => x === 64 * 15)).toBe(true);
  });

  describe("environment variables", () => {
    afterAll(() => {
      vi.unstubAllEnvs();
      vi.resetModules();
    });
    it("FLUXION_MATMUL_WASM=0 and FLUXION_MATMUL_THREADS=1 are read on first use", async () => {
      vi.resetModules();
      vi.stubEnv("FLUXION_MATMUL_WASM", "0");
      vi.stubEnv("FLUXION_MATMUL_THREADS", "1");
      const fresh = await import("../../interpreters/eval/kernels/matmul.js");
      expect(fresh.configureMatmul()).toMatchObject({ wasm: false, threads: 1 });
      const a = new Float32Array(128 * 128).fill(1),
        c = new Float32Array(128 * 128);
      fresh.matmul(a, a, c, 1, 128, 128, 128);
      expect(fresh.lastMatmulPath().path).toBe("js");
      expect(c[0]).toBe(128);
    });
  });
});

describe("packing A", () => {
  // packA copies a row-major A a vector of depths at a time and a transposed A a depth's rows at a
  // time, each with scalar tails; exact small-integer products pin every element's place.
  it("packs row-major and transposed A into both register tiles, whatever K mod 4 and M mod MR", () => {
    configureMatmul({ wasm: true, threads: 1, wasmMinWork: 0 });
    for (const Ctor of [Float32Array, Float64Array]) {
      for (const narrow of [false, true]) {
        for (const transposedA of [false, true]) {
          for (const [m, k, n] of [
            [2, 1, 16],
            [7, 4, 5],
            [13, 5, 20],
            [6, 6, 4],
            [12, 7, 9],
            [25, 259, 17],
          ] as const) {
            const lda = m + 3;
            const a = new Ctor(transposedA ? k * lda : m * k).map((_, i) => (i % 7) - 3);
            const b = new Ctor(k * n).map((_, i) => (i % 5) - 2);
            const at = (i: number, p: number) => (transposedA ? a[p * lda + i]! : a[i * k + p]!);
            const want = new Float64Array(m * n);
            for (let i = 0; i < m; i++) for (let p = 0; p < k; p++) for (let j = 0; j < n; j++) want[i * n + j] += at(i, p) * b[p * n + j]!;
            const c = new Ctor(m * n).fill(99);
            const product = { batch: 1, m, k, n, narrow, a, aOff: [0], transposedA, lda, b, bOff: [0], transposedB: false };
            expect(matmulWasmOffsets(Ctor === Float32Array ? "float32" : "float64", product, c)).toBe(true);
            expect(Array.from(c), `${Ctor.name} narrow=${narrow} transposedA=${transposedA} [${m}, ${k}, ${n}]`).toEqual(Array.from(want));
          }
        }
      }
    }
  });
});
