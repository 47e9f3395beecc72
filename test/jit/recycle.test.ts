/**
 * A jitted program hands the storage of its dead large intermediates back for reuse. Nothing a
 * caller can still see may be reused: earlier results, values given to debug callbacks, inputs,
 * and arrays that share storage with a live one (reshapes); reused storage handed to eager kernels
 * starts zeroed. Small arrays share slabs, which are never reused.
 */
import { afterEach, describe, expect, it } from "vitest";
import { recycle, releaseRecycled, takeRecycled } from "../../src/core/buffers.js";
import { type DType, type TypedArray, allocate, allocateFull, isSlab } from "../../src/core/dtype.js";
import { type NDArray, checkpoint, debug, jit, lax, np } from "../../src/index.js";

const N = 1 << 15; // 128 KiB of float32: large enough to be recycled
const ramp = (scale: number) => np.array(Float32Array.from({ length: N }, (_, i) => Math.sin(i * scale)));

afterEach(() => releaseRecycled());

describe("recycled storage of jit intermediates", () => {
  it("is taken back once an intermediate is dead, and reused by the next call", () => {
    // exp(sin(x)) is copied out of the fused loop for cumsum, and dies after it.
    const f = jit((x: NDArray) => np.sum(np.cumsum(np.exp(np.sin(x)))));
    const x = ramp(0.01);
    releaseRecycled();
    f(x);
    const held = takeRecycled("float32", N);
    expect(held).toBeDefined();
    expect(held!.length).toBe(N);
  });

  it("never reuses what earlier calls returned, even when an output shares storage with a dead value", () => {
    const f = jit((x: NDArray) => {
      const a = np.exp(np.sin(x));
      const b = np.reshape(a, [N / 2, 2]); // shares a's storage
      const c = np.cos(np.multiply(a, 2)); // a dies here, but b is an output
      return [b, np.sum(c), np.add(c, 1)];
    });
    const x1 = ramp(0.01),
      x2 = ramp(0.02);
    const first = f(x1) as NDArray[];
    const snapshot = first.map((r) => Array.from(r.dataSync()));
    for (let k = 0; k < 3; k++) f(x2);
    first.forEach((r, i) => expect(Array.from(r.dataSync())).toEqual(snapshot[i]));
    // And the values are right: b is exp(sin(x1)), laid out in pairs.
    const expB = np.reshape(np.exp(np.sin(x1)), [N / 2, 2]).dataSync();
    expect(Array.from(first[0]!.dataSync())).toEqual(Array.from(expB));
  });

  it("never reuses values a debug callback received", () => {
    const seen: NDArray[] = [];
    const f = jit((x: NDArray) => {
      const a = np.exp(np.sin(x));
      debug.callback((v: NDArray) => seen.push(v), a);
      return np.sum(np.cos(a));
    });
    f(ramp(0.01));
    const kept = Array.from(seen[0]!.dataSync());
    for (let k = 0; k < 3; k++) f(ramp(0.03 + k));
    expect(Array.from(seen[0]!.dataSync())).toEqual(kept);
  });

  it("never reuses the inputs, and eager kernels given reused storage start from zeros", () => {
    const x = ramp(0.01);
    const before = Array.from(x.dataSync());
    const f = jit((a: NDArray) => np.sum(np.tanh(np.multiply(a, 3))));
    for (let k = 0; k < 3; k++) f(x);
    expect(Array.from(x.dataSync())).toEqual(before);
    // Storage is held now; a scatter-add accumulates into freshly allocated (here: reused) storage.
    const idx = np.array(Int32Array.from({ length: 8 }, (_, i) => i * 3));
    const out = np
      .zeros([N])
      .at(idx)
      .add(np.ones([8]));
    const values = out.dataSync();
    let total = 0;
    for (let i = 0; i < N; i++) total += values[i]!;
    expect(total).toBe(8);
  });
});

describe("a scan whose carry is a slice of what it scans", () => {
  // The body passes its x on as the carry, so the loop's final carry is a row of xs, an
  // intermediate the program may recycle once the scan is done; `later` then takes storage of
  // xs's size. Rows of 4 and 16 float32 (at most 64 bytes, which the executor does not count),
  // and of 100 (counted): each carry must keep the last row it was given.
  for (const [rows, width] of [
    [100, 4],
    [25, 16],
    [4, 100],
  ] as const) {
    for (const reverse of [false, true]) {
      it(`keeps its last row: ${rows} rows of ${width}${reverse ? ", scanned in reverse" : ""}`, () => {
        const a = np.array(Float32Array.from({ length: rows * width }, (_, i) => i)).reshape([rows, width]);
        const f = jit((a: NDArray) => {
          const xs = np.multiply(a, 2);
          const [c] = lax.scan((c: NDArray, x: NDArray) => [np.reshape(x, [width]), null], np.zeros([width]), xs, { reverse });
          const later = np.add(np.multiply(a, 0), np.sum(c as NDArray));
          return [c, later];
        });
        const last = reverse ? 0 : rows - 1;
        const want = Array.from({ length: width }, (_, j) => 2 * (last * width + j));
        for (let k = 0; k < 3; k++) {
          const [c, later] = f(a) as NDArray[];
          expect(Array.from(c!.dataSync())).toEqual(want);
          expect(later!.dataSync()[0]).toBe(want.reduce((p, q) => p + q, 0));
        }
      });
    }
  }
});

describe("a scan inside checkpoint and cond whose carry is a slice of what it scans", () => {
  it("keeps its last row", () => {
    const a = np.array(Float32Array.from({ length: 400 }, (_, i) => i)).reshape([100, 4]);
    const lastRow = (xs: NDArray) => lax.scan((c: NDArray, x: NDArray) => [x, null], np.zeros([4]), xs)[0] as NDArray;
    const f = jit((a: NDArray) => {
      const xs = np.multiply(a, 2);
      const c1 = checkpoint(lastRow)(xs);
      const c2 = lax.cond(np.greater(np.sum(a), 0), lastRow, lastRow, xs) as NDArray;
      return [c1, c2, np.add(np.multiply(a, 0), np.add(np.sum(c1), np.sum(c2)))];
    });
    for (let k = 0; k < 3; k++) {
      const [c1, c2, later] = f(a) as NDArray[];
      expect(Array.from(c1!.dataSync())).toEqual([792, 794, 796, 798]);
      expect(Array.from(c2!.dataSync())).toEqual([792, 794, 796, 798]);
      expect(later!.dataSync()[0]).toBe(2 * (792 + 794 + 796 + 798));
    }
  });
});

describe("small arrays carved from shared slabs", () => {
  it("start zeroed, aligned and independent, whatever dtypes and lengths come in turn", () => {
    const made: TypedArray[] = [];
    // Odd byte lengths between float64 arrays: each view must still start on its element size.
    const kinds: [DType, number][] = [
      ["bool", 67],
      ["float64", 9],
      ["float32", 17],
      ["int32", 101],
      ["uint32", 33],
      ["float64", 120],
    ];
    for (let round = 0; round < 40; round++)
      for (const [dtype, n] of kinds) {
        const a = allocate(dtype, n);
        expect(a.length).toBe(n);
        expect(a.byteOffset % a.BYTES_PER_ELEMENT).toBe(0);
        expect(a.every((v) => v === 0)).toBe(true);
        a.fill(round + 1);
        made.push(a);
      }
    // Some of them share a slab, and no write reached a neighbour.
    expect(made.some((a) => isSlab(a.buffer) && a.byteOffset > 0)).toBe(true);
    made.forEach((a, i) => expect(a.every((v) => v === Math.floor(i / kinds.length) + 1)).toBe(true));
  });

  it("leave arrays of 64 bytes or less, and of a kilobyte or more, with buffers of their own", () => {
    for (const [dtype, n] of [
      ["float32", 16],
      ["float64", 8],
      ["float32", 256],
      ["bool", 4096],
    ] as [DType, number][]) {
      const a = allocate(dtype, n);
      expect(isSlab(a.buffer)).toBe(false);
      expect(a.byteLength).toBe(a.buffer.byteLength);
    }
  });

  it("are never recycled by a jitted program, so earlier small results stay as they were", () => {
    // A program with one large intermediate (so the executor tracks storage) and small outputs.
    const f = jit((x: NDArray, s: NDArray) => {
      const big = np.exp(np.sin(x));
      const small = np.add(np.multiply(s, np.sum(big)), 1);
      return [small, np.tanh(small)];
    });
    const x = ramp(0.01);
    const results = [0.5, 1.5, 2.5, 3.5].map((k) => f(x, np.full([40], k)) as NDArray[]);
    const sum = np.sum(np.exp(np.sin(x))).item();
    results.forEach((pair, r) => {
      expect(isSlab(pair[0]!.dataSync().buffer)).toBe(false); // dataSync hands out a copy
      const want = Math.fround(Math.fround((0.5 + r) * sum) + 1);
      pair[0]!.dataSync().forEach((v) => expect(v).toBeCloseTo(want, 2));
    });
  });
});

describe("storage for results written in full", () => {
  it("takes recycled storage first, else a buffer of its own of the right type and length", () => {
    const held = new Float64Array(3000).fill(7);
    recycle("float64", held);
    expect(allocateFull("float64", 3000)).toBe(held);
    for (const [dtype, n, kind] of [
      ["float32", 5000, Float32Array],
      ["float64", 1234, Float64Array],
      ["int32", 777, Int32Array],
      ["uint32", 4096, Uint32Array],
      ["bool", 2048, Uint8Array],
    ] as const) {
      const a = allocateFull(dtype, n);
      expect(a).toBeInstanceOf(kind);
      expect(a.length).toBe(n);
      expect(a.byteLength).toBe(a.buffer.byteLength); // whole buffer: recyclable later
      expect(isSlab(a.buffer)).toBe(false);
    }
  });

  it("dataSync hands out a copy on a buffer of its own, small or large, whatever the dtype", () => {
    for (const [dtype, n] of [
      ["float32", 10],
      ["float32", 100],
      ["float64", 5000],
      ["int32", 3000],
      ["bool", 2000],
    ] as const) {
      const x = np.astype(np.arange(n), dtype);
      const values = (x as unknown as { values: TypedArray }).values;
      const copy = x.dataSync();
      expect(copy).not.toBe(values);
      expect(copy.constructor).toBe(values.constructor);
      expect(copy.byteOffset).toBe(0);
      expect(copy.byteLength).toBe(copy.buffer.byteLength);
      expect(Array.from(copy)).toEqual(Array.from(values));
      copy[0] = 1; // the array itself is unchanged
      expect(values[0]).toBe(0);
    }
  });

  it("hands small arrays out of slabs, zeroed as allocate's", () => {
    const a = allocateFull("float32", 100);
    expect(isSlab(a.buffer)).toBe(true);
    expect(a.every((v) => v === 0)).toBe(true);
  });

  it("gives fused loops, transposes and products every element of their results", () => {
    // Fresh outputs of each writer that takes this storage; a skipped element would show whatever
    // the memory held (previously written values are planted by filling and dropping arrays).
    for (let k = 0; k < 20; k++) allocateFull("float32", 1 << 12).fill(12345);
    const x = np.reshape(np.arange(4096, undefined, undefined, "float32"), [64, 64]);
    const f = jit((a: NDArray) => [np.add(np.multiply(a, 2), 1), np.transpose(a), np.matmul(a, np.transpose(a))]);
    const [y, t, p] = f(x) as NDArray[];
    const xs = x.dataSync();
    y!.dataSync().forEach((v, i) => expect(v).toBe(2 * xs[i]! + 1));
    t!.dataSync().forEach((v, i) => expect(v).toBe(xs[(i % 64) * 64 + Math.floor(i / 64)]!));
    const pv = p!.dataSync();
    for (const [i, j] of [
      [0, 0],
      [5, 63],
      [63, 7],
    ] as const) {
      let want = 0;
      for (let q = 0; q < 64; q++) want += xs[i * 64 + q]! * xs[j * 64 + q]!;
      expect(Math.abs(pv[i * 64 + j]! - want)).toBeLessThanOrEqual(1e-6 * want);
    }
  });
});

describe("a jitted scan's carries", () => {
  const M = 512; // 2 KiB of float32: recycled
  const vec = (scale: number) => np.array(Float32Array.from({ length: M }, (_, i) => Math.cos(i * scale) * 0.5));
  type Body = (c: NDArray[], x: NDArray) => NDArray[];
  /** Runs `body` over 9 steps with two carries, under jit and eagerly; returns both results' values. */
  const both = (body: Body) => {
    const f = (a: NDArray, b: NDArray, xs: NDArray) => {
      const [carry, ys] = lax.scan(
        (c: NDArray[], x: NDArray) => {
          const next = body(c, x);
          return [next, np.sum(next[0]!)];
        },
        [a, b],
        xs,
      );
      return [...(carry as NDArray[]), ys as NDArray];
    };
    const args = [vec(0.01), vec(0.02), np.array(Float32Array.from({ length: 9 * M }, (_, i) => Math.sin(i) * 0.1)).reshape([9, M])] as const;
    const read = (rs: NDArray[]) => rs.map((r) => Array.from(r.dataSync()));
    return { jitted: read(jit(f)(...args)), eager: read(f(...args)) };
  };
  const konst = vec(0.05);
  const bodies: Record<string, Body> = {
    "new values each step": ([a, b], x) => [np.tanh(a!.add(x)), np.sin(b!).mul(a!)],
    "one carry passed through unchanged": ([a, b], x) => [np.exp(np.sin(a!)).add(x), b!],
    "a carry returned as a reshaped view": ([a, b], x) => [np.cos(a!).add(x), np.reshape(np.reshape(b!, [M / 2, 2]), [M])],
    "carries swapped": ([a, b], x) => [b!.add(x), a!],
    "a constant as a carry": ([a], x) => [np.tanh(a!).add(x), konst],
    "one array for both carries": ([a], x) => {
      const n = np.sin(a!).add(x);
      return [n, n];
    },
  };
  for (const [name, body] of Object.entries(bodies))
    it(`give their storage back without changing any result: ${name}`, () => {
      const { jitted, eager } = both(body);
      expect(jitted).toEqual(eager);
      // Twice more, now that recycled storage is about.
      expect(both(body).jitted).toEqual(eager);
      expect(Array.from(konst.dataSync())).toEqual(Array.from(vec(0.05).dataSync()));
    });

  it("are reused by the next step's results", () => {
    const f = jit((a: NDArray, xs: NDArray) => lax.scan((c: NDArray, x: NDArray) => [np.tanh(c.add(x)), null], a, xs)[0]);
    const xs = np.zeros([4, M]);
    f(vec(0.01), xs);
    releaseRecycled();
    f(vec(0.01), xs);
    // Four steps: the carries of steps 1 and 2 went back, and step 3's results took one of them.
    expect(takeRecycled("float32", M)).toBeDefined();
  });

  it("of a while loop go back too, with the results eager gives", () => {
    type C = [NDArray, NDArray, NDArray];
    const bodies: ((c: C) => C)[] = [
      ([i, a, b]) => [i.add(1), np.tanh(a.add(b)), np.sin(b)],
      ([i, a, b]) => [i.add(1), b, np.cos(a)], // swapped
      ([i, a, b]) => [i.add(1), np.exp(np.sin(a)), b], // one passed through
    ];
    for (const body of bodies) {
      const f = (a: NDArray, b: NDArray) => lax.whileLoop((c: C) => c[0].less(7), body, [np.array(0), a, b] as C);
      const read = (r: C) => r.map((x) => Array.from(x.dataSync()));
      const want = read(f(vec(0.01), vec(0.02)));
      for (let k = 0; k < 3; k++) expect(read(jit(f)(vec(0.01), vec(0.02)))).toEqual(want);
    }
  });

  it("are never reused while a debug callback in the body may hold them", () => {
    const seen: NDArray[] = [];
    const f = jit(
      (a: NDArray, xs: NDArray) =>
        lax.scan(
          (c: NDArray, x: NDArray) => {
            debug.callback((v: NDArray) => seen.push(v), c);
            return [np.tanh(c.add(x)), null];
          },
          a,
          xs,
        )[0],
    );
    const xs = np.array(Float32Array.from({ length: 6 * M }, (_, i) => Math.sin(i) * 0.1)).reshape([6, M]);
    f(vec(0.01), xs);
    const snapshot = seen.map((v) => Array.from(v.dataSync()));
    f(vec(0.3), xs);
    expect(seen.slice(0, snapshot.length).map((v) => Array.from(v.dataSync()))).toEqual(snapshot);
  });
});
