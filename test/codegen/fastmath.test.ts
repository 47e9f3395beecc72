/**
 * Accuracy of the float32 fast math functions (src/codegen/fastmath.ts) against Math.*:
 * Math.fround(f(x)) must be within 2 float32 ulps of Math.fround(Math.f(x)) over
 *   (a) 200k random float32 values spread log-uniformly over the whole range, both signs,
 *   (b) dense grids at the hard spots of each function,
 * and (c) the special values must come out exactly (NaN, ±Infinity, ±0, overflow, underflow).
 * The last block checks that the checker itself fails on a function that is off by a few ulps
 * or gets a special case wrong, so none of the above can pass vacuously.
 * (An exhaustive run over all 2^32 inputs, done once offline, found at most 1 ulp everywhere.)
 */
import { describe, expect, it } from "vitest";
import { cos32, exp32, expm1_32, log1p32, log32, logistic32, sin32, tanh32 } from "../../src/codegen/fastmath.js";

type Fn = (x: number) => number;

// ---------------------------------------------------------------------------------------------
// helpers
// ---------------------------------------------------------------------------------------------

const F32 = new Float32Array(1);
const I32 = new Int32Array(F32.buffer);

/** The float32 bit pattern of v as a signed integer key, monotone in v (-0 and +0 both map to 0). */
function key(v: number): number {
  F32[0] = v;
  const b = I32[0]!;
  return b < 0 ? -(b & 0x7fffffff) : b;
}

/** Distance in float32 ulps between two float32 values; 0 for two NaNs, Infinity for one NaN. */
function ulpDistance(a: number, b: number): number {
  if (Number.isNaN(a) || Number.isNaN(b)) return Number.isNaN(a) && Number.isNaN(b) ? 0 : Infinity;
  return Math.abs(key(a) - key(b));
}

/** The float32 value with bit pattern `bits`. */
function fromBits(bits: number): number {
  I32[0] = bits;
  return F32[0]!;
}

/** The float32 `steps` ulps away from the float32 v (across zero, through the signed key). */
function stepUlps(v: number, steps: number): number {
  const k = key(Math.fround(v)) + steps;
  return fromBits(k < 0 ? -k | 0x80000000 : k);
}

/** `count` consecutive float32 values on each side of (and including) the float32 nearest v. */
function around(v: number, count: number): number[] {
  const out: number[] = [];
  for (let s = -count; s <= count; s++) out.push(stepUlps(v, s));
  return out;
}

/** `n` float32 values spread evenly over [lo, hi] (rounded to float32). */
function grid(lo: number, hi: number, n: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < n; i++) out.push(Math.fround(lo + ((hi - lo) * i) / (n - 1)));
  return out;
}

/** Deterministic xorshift32. */
function rng(seed: number): () => number {
  let s = seed | 0 || 1;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return s >>> 0;
  };
}

/**
 * `n` random finite float32 values, log-uniform over the whole float32 range and both signs:
 * uniformly random bit patterns (so every binade is equally likely), NaN/Infinity patterns redrawn.
 */
function randomFloat32(n: number, seed: number): number[] {
  const next = rng(seed);
  const out: number[] = [];
  while (out.length < n) {
    const v = fromBits(next() | 0);
    if (Number.isFinite(v)) out.push(v);
  }
  return out;
}

interface Report {
  maxUlp: number;
  worst: number;
  got: number;
  want: number;
}

/** Max ulp distance of Math.fround(f(x)) from Math.fround(ref(x)) over xs. */
function measure(f: Fn, ref: Fn, xs: Iterable<number>): Report {
  const r: Report = { maxUlp: 0, worst: NaN, got: NaN, want: NaN };
  for (const x of xs) {
    const got = Math.fround(f(x)),
      want = Math.fround(ref(x));
    const d = ulpDistance(got, want);
    if (d > r.maxUlp || (d === r.maxUlp && Number.isNaN(r.worst))) Object.assign(r, { maxUlp: d, worst: x, got, want });
  }
  return r;
}

const MAX_ULP = 2;

function expectAccurate(f: Fn, ref: Fn, xs: Iterable<number>, what: string): void {
  const r = measure(f, ref, xs);
  expect(r.maxUlp, `${what}: ${r.maxUlp} ulp at x = ${r.worst} (got ${r.got}, want ${r.want})`).toBeLessThanOrEqual(MAX_ULP);
}

/** Math.fround(f(x)) must be exactly `want` (Object.is: NaN equals NaN, -0 differs from +0). */
function expectExact(f: Fn, cases: [number, number][], what: string): void {
  for (const [x, want] of cases) {
    const got = Math.fround(f(x));
    expect(
      Object.is(got, want),
      `${what}(${Object.is(x, -0) ? "-0" : x}) = ${Object.is(got, -0) ? "-0" : got}, want ${Object.is(want, -0) ? "-0" : want}`,
    ).toBe(true);
  }
}

/** Math.fround(f(x)) must be bit-identical (Object.is) to Math.fround(ref(x)) for every x. */
function expectSameAsRef(f: Fn, ref: Fn, xs: number[], what: string): void {
  expectExact(
    f,
    xs.map((x) => [x, Math.fround(ref(x))]),
    what,
  );
}

const RANDOM = randomFloat32(200_000, 0x5eed);
const SPECIALS = [NaN, Infinity, -Infinity, 0, -0];
const TINY = [
  ...around(0, 3000),
  ...grid(-1e-6, 1e-6, 2001),
  1.401298464324817e-45,
  -1.401298464324817e-45,
  1.1754943508222875e-38,
  -1.1754943508222875e-38,
];
const FLT_MAX = 3.4028234663852886e38;

/** The float32 values nearest each multiple k π/4 for |k| <= kmax, with `count` neighbours each side. */
function nearMultiplesOfPiOver4(kmax: number, step: number, count: number): number[] {
  const out: number[] = [];
  for (let k = -kmax; k <= kmax; k += step) out.push(...around((k * Math.PI) / 4, count));
  return out;
}

const logistic = (a: number) => (a >= 0 ? 1 / (1 + Math.exp(-a)) : Math.exp(a) / (1 + Math.exp(a)));

// ---------------------------------------------------------------------------------------------
// the checker itself
// ---------------------------------------------------------------------------------------------

describe("fastmath test helpers", () => {
  it("ulpDistance counts float32 steps, across zero, with NaN handling", () => {
    expect(ulpDistance(1, 1)).toBe(0);
    expect(ulpDistance(1, 1 + 2 ** -23)).toBe(1);
    expect(ulpDistance(1, 1 - 2 ** -24)).toBe(1);
    expect(ulpDistance(1 - 2 ** -24, 1 + 2 ** -23)).toBe(2);
    expect(ulpDistance(0, -0)).toBe(0);
    expect(ulpDistance(1.401298464324817e-45, -1.401298464324817e-45)).toBe(2);
    expect(ulpDistance(FLT_MAX, Infinity)).toBe(1);
    expect(ulpDistance(NaN, NaN)).toBe(0);
    expect(ulpDistance(NaN, 1)).toBe(Infinity);
    expect(stepUlps(1, 1)).toBe(1 + 2 ** -23);
    expect(stepUlps(0, -1)).toBe(-1.401298464324817e-45);
    expect(around(1, 2)).toEqual([1 - 2 ** -23, 1 - 2 ** -24, 1, 1 + 2 ** -23, 1 + 2 ** -22]);
  });

  it("random inputs cover every binade of both signs", () => {
    const exps = new Set(RANDOM.map((x) => (x < 0 ? -1 : 1) * ((key(Math.abs(x)) >>> 23) + 1)));
    expect(exps.size).toBeGreaterThan(500); // 2 signs x 255 exponent fields (incl. denormals)
  });

  it("catches a function that is 3 ulps off, a wrong special value, and a lost -0", () => {
    const off = (x: number) => Math.exp(x) * (1 + 3 * 2 ** -23);
    expect(measure(off, Math.exp, grid(-5, 5, 1001)).maxUlp).toBeGreaterThan(MAX_ULP);
    expect(() => expectAccurate(off, Math.exp, grid(-5, 5, 1001), "off")).toThrow();
    expect(() => expectExact((x) => Math.exp(Math.min(x, 88)), [[Infinity, Infinity]], "clampedExp")).toThrow();
    expect(() => expectExact((x) => x + 0, [[-0, -0]], "plusZero")).toThrow();
    expect(() => expectExact((x) => x, [[NaN, 0]], "nan")).toThrow();
  });
});

// ---------------------------------------------------------------------------------------------
// the functions
// ---------------------------------------------------------------------------------------------

describe("sin32 / cos32", () => {
  const TRIG_MAX = 314159.25; // the fallback threshold in fastmath.ts
  for (const [name, f, ref] of [
    ["sin32", sin32, Math.sin],
    ["cos32", cos32, Math.cos],
  ] as const) {
    it(`${name}: random float32 values over the whole range`, () => expectAccurate(f, ref, RANDOM, name));
    it(`${name}: near 0 and near multiples of π/4`, () => {
      expectAccurate(f, ref, TINY, `${name} near 0`);
      expectAccurate(f, ref, nearMultiplesOfPiOver4(400, 1, 40), `${name} k π/4, |k| <= 400`);
      expectAccurate(f, ref, grid(-20, 20, 200_001), `${name} on [-20, 20]`);
    });
    it(`${name}: every multiple of π/2 up to the fallback threshold, and around the threshold`, () => {
      // The float32 nearest each k π/2 (and 2 neighbours) stresses the range reduction most.
      const xs: number[] = [];
      for (let k = 1; k * (Math.PI / 2) < TRIG_MAX + 100; k++) xs.push(...around((k * Math.PI) / 2, 2), -Math.fround((k * Math.PI) / 2));
      expectAccurate(f, ref, xs, `${name} k π/2`);
      expectAccurate(f, ref, [...around(TRIG_MAX, 3000), ...around(-TRIG_MAX, 3000)], `${name} around ${TRIG_MAX}`);
      expectAccurate(f, ref, grid(1e5, 1e6, 100_001), `${name} on [1e5, 1e6]`);
      expectAccurate(f, ref, [FLT_MAX, -FLT_MAX, 2 ** 24, 2 ** 30 + 64, 1e20, -1e30], `${name} huge`);
    });
  }
  it("special values", () => {
    expectExact(
      sin32,
      [
        [NaN, NaN],
        [Infinity, NaN],
        [-Infinity, NaN],
        [0, 0],
        [-0, -0],
        [1.401298464324817e-45, 1.401298464324817e-45],
        [-1e-30, Math.fround(-1e-30)],
      ],
      "sin32",
    );
    expectExact(
      cos32,
      [
        [NaN, NaN],
        [Infinity, NaN],
        [-Infinity, NaN],
        [0, 1],
        [-0, 1],
        [1e-30, 1],
      ],
      "cos32",
    );
    expectSameAsRef(sin32, Math.sin, SPECIALS, "sin32");
    expectSameAsRef(cos32, Math.cos, SPECIALS, "cos32");
  });
});

describe("exp32 / expm1_32", () => {
  it("exp32: random float32 values over the whole range", () => expectAccurate(exp32, Math.exp, RANDOM, "exp32"));
  it("exp32: dense grids, overflow and underflow thresholds", () => {
    expectAccurate(exp32, Math.exp, TINY, "exp32 near 0");
    expectAccurate(exp32, Math.exp, grid(-110, 95, 400_001), "exp32 on [-110, 95]");
    for (const t of [
      88.72283935546875,
      88.7228391,
      89,
      -87.33654475,
      -103.27892990343184,
      -103.97207708,
      -104.5,
      Math.log(2) / 32,
      -Math.log(2) / 32,
    ])
      expectAccurate(exp32, Math.exp, around(t, 2000), `exp32 around ${t}`);
  });
  it("exp32: special values, overflow to Infinity, underflow to 0", () => {
    expectExact(
      exp32,
      [
        [NaN, NaN],
        [Infinity, Infinity],
        [-Infinity, 0],
        [0, 1],
        [-0, 1],
        [88.72283935546875, Infinity],
        [89, Infinity],
        [1e10, Infinity],
        [FLT_MAX, Infinity],
        [-104, 0],
        [-1e10, 0],
        [-FLT_MAX, 0],
        [-103.2789306640625, 1.401298464324817e-45],
      ],
      "exp32",
    );
    expectSameAsRef(exp32, Math.exp, [...SPECIALS, 88.72283172607422, -87.3365478515625], "exp32");
  });

  it("expm1_32: random float32 values over the whole range", () => expectAccurate(expm1_32, Math.expm1, RANDOM, "expm1_32"));
  it("expm1_32: dense grids near 0, the table switch points and the saturation points", () => {
    expectAccurate(expm1_32, Math.expm1, TINY, "expm1_32 near 0");
    expectAccurate(expm1_32, Math.expm1, grid(-1, 1, 200_001), "expm1_32 on [-1, 1]");
    expectAccurate(expm1_32, Math.expm1, grid(-20, 90, 200_001), "expm1_32 on [-20, 90]");
    for (const t of [Math.log(2) / 32, -Math.log(2) / 32, (3 * Math.log(2)) / 32, -17.328679, -18, 88.72283935546875])
      expectAccurate(expm1_32, Math.expm1, around(t, 2000), `expm1_32 around ${t}`);
  });
  it("expm1_32: special values", () => {
    expectExact(
      expm1_32,
      [
        [NaN, NaN],
        [Infinity, Infinity],
        [-Infinity, -1],
        [0, 0],
        [-0, -0],
        [1e-30, Math.fround(1e-30)],
        [-1.401298464324817e-45, -1.401298464324817e-45],
        [89, Infinity],
        [-20, -1],
      ],
      "expm1_32",
    );
    expectSameAsRef(expm1_32, Math.expm1, SPECIALS, "expm1_32");
  });
});

describe("tanh32", () => {
  it("random float32 values over the whole range", () => expectAccurate(tanh32, Math.tanh, RANDOM, "tanh32"));
  it("dense grids near 0, around the saturation at ±9 and in between", () => {
    expectAccurate(tanh32, Math.tanh, TINY, "tanh32 near 0");
    expectAccurate(tanh32, Math.tanh, grid(-0.05, 0.05, 100_001), "tanh32 on [-0.05, 0.05]");
    expectAccurate(tanh32, Math.tanh, grid(-12, 12, 400_001), "tanh32 on [-12, 12]");
    for (const t of [9, -9, 9.01, -9.01, 9.5, -9.5, Math.log(2) / 64, -Math.log(2) / 64])
      expectAccurate(tanh32, Math.tanh, around(t, 3000), `tanh32 around ${t}`);
  });
  it("special values", () => {
    expectExact(
      tanh32,
      [
        [NaN, NaN],
        [Infinity, 1],
        [-Infinity, -1],
        [0, 0],
        [-0, -0],
        [1e-30, Math.fround(1e-30)],
        [-1.401298464324817e-45, -1.401298464324817e-45],
        [20, 1],
        [-FLT_MAX, -1],
      ],
      "tanh32",
    );
    expectSameAsRef(tanh32, Math.tanh, SPECIALS, "tanh32");
  });
});

describe("logistic32", () => {
  it("random float32 values over the whole range", () => expectAccurate(logistic32, logistic, RANDOM, "logistic32"));
  it("dense grids near 0, the saturation at 1 and the underflow to 0", () => {
    expectAccurate(logistic32, logistic, TINY, "logistic32 near 0");
    expectAccurate(logistic32, logistic, grid(-110, 30, 400_001), "logistic32 on [-110, 30]");
    for (const t of [17.328679, 18, -87.33654475, -103.27892990343184, -103.97207708, -105])
      expectAccurate(logistic32, logistic, around(t, 2000), `logistic32 around ${t}`);
  });
  it("special values, both tails", () => {
    expectExact(
      logistic32,
      [
        [NaN, NaN],
        [Infinity, 1],
        [-Infinity, 0],
        [0, 0.5],
        [-0, 0.5],
        [40, 1],
        [-104, 0],
        [-FLT_MAX, 0],
        [FLT_MAX, 1],
        [-103.2789306640625, 1.401298464324817e-45],
      ],
      "logistic32",
    );
    expectSameAsRef(logistic32, logistic, SPECIALS, "logistic32");
  });
});

describe("log32 / log1p32", () => {
  const positive = RANDOM.map(Math.abs);
  it("log32: random float32 values over the whole range (and negatives give NaN)", () => {
    expectAccurate(log32, Math.log, positive, "log32");
    expectAccurate(log32, Math.log, RANDOM, "log32 both signs");
  });
  it("log32: dense grids near 1, denormals, powers of 2 and the reduction boundaries", () => {
    expectAccurate(log32, Math.log, around(1, 50_000), "log32 around 1");
    expectAccurate(log32, Math.log, grid(0.5, 2, 200_001), "log32 on [0.5, 2]");
    const denormals: number[] = [];
    for (let b = 1; b < 0x00800000; b += 37) denormals.push(fromBits(b));
    expectAccurate(
      log32,
      Math.log,
      [...denormals, ...around(1.1754943508222875e-38, 1000), ...around(1.401298464324817e-45, 1000).filter((x) => x > 0)],
      "log32 denormals",
    );
    const edges: number[] = [];
    for (let e = -149; e <= 127; e++) edges.push(...around(2 ** e, 3), ...around(0.708984375 * 2 ** e, 3));
    // the 128 subinterval edges of the reduced range [0.708984375, 1.41796875), at a few scales
    const f64 = new Float64Array(1),
      w32 = new Int32Array(f64.buffer);
    for (let i = 0; i <= 128; i++) {
      w32[0] = 0;
      w32[1] = 0x3fe6b000 + i * 0x2000;
      for (const s of [2 ** -140, 2 ** -20, 1, 2 ** 20, 2 ** 100]) edges.push(...around(f64[0]! * s, 3));
    }
    expectAccurate(
      log32,
      Math.log,
      edges.filter((x) => x > 0 && Number.isFinite(x)),
      "log32 binade and subinterval edges",
    );
    expectAccurate(log32, Math.log, around(FLT_MAX, 1000).filter(Number.isFinite), "log32 near FLT_MAX");
  });
  it("log32: special values", () => {
    expectExact(
      log32,
      [
        [NaN, NaN],
        [Infinity, Infinity],
        [-Infinity, NaN],
        [0, -Infinity],
        [-0, -Infinity],
        [-1, NaN],
        [-1.401298464324817e-45, NaN],
        [1, 0],
        [1.401298464324817e-45, Math.fround(Math.log(1.401298464324817e-45))],
      ],
      "log32",
    );
    expectSameAsRef(log32, Math.log, [...SPECIALS, -FLT_MAX, FLT_MAX], "log32");
  });

  it("log1p32: random float32 values over the whole range", () => expectAccurate(log1p32, Math.log1p, RANDOM, "log1p32"));
  it("log1p32: dense grids near 0, near -1 and around the 2^-29 switch", () => {
    expectAccurate(log1p32, Math.log1p, TINY, "log1p32 near 0");
    expectAccurate(log1p32, Math.log1p, grid(-0.01, 0.01, 200_001), "log1p32 on [-0.01, 0.01]");
    expectAccurate(log1p32, Math.log1p, grid(-0.9999, 3, 200_001), "log1p32 on [-0.9999, 3]");
    expectAccurate(log1p32, Math.log1p, [...around(2 ** -29, 2000), ...around(-(2 ** -29), 2000)], "log1p32 around ±2^-29");
    expectAccurate(
      log1p32,
      Math.log1p,
      around(-1, 20_000).filter((x) => x > -1),
      "log1p32 near -1",
    );
    expectAccurate(log1p32, Math.log1p, around(FLT_MAX, 1000).filter(Number.isFinite), "log1p32 near FLT_MAX");
  });
  it("log1p32: special values", () => {
    expectExact(
      log1p32,
      [
        [NaN, NaN],
        [Infinity, Infinity],
        [-Infinity, NaN],
        [0, 0],
        [-0, -0],
        [-1, -Infinity],
        [-2, NaN],
        [1e-30, Math.fround(1e-30)],
        [-1.401298464324817e-45, -1.401298464324817e-45],
      ],
      "log1p32",
    );
    expectSameAsRef(log1p32, Math.log1p, [...SPECIALS, -1, -FLT_MAX, FLT_MAX], "log1p32");
  });
});
