/**
 * Values a fused wasm run hands on in place (views of linear memory) to the reductions and fused
 * runs after it: the later runs read them where they lie, lay themselves out above them, and give
 * eager evaluation's bits; where a later run's memory must grow while such a value is still to be
 * read, the value is copied out first. Each program here is checked against its eager evaluation.
 */
import { describe, expect, it } from "vitest";
import { wasmLoopsEnabled, wasmResidentReads } from "../../interpreters/jit/wasm_loop.js";
import { DATA, localHeap } from "../../interpreters/jit/wasm_heap.js";
import { type NDArray, jit, nn, np } from "../../src/index.js";

const bitsOf = (a: NDArray): string[] => Array.from(a.dataSync() as ArrayLike<number>, (v) => (Object.is(v, -0) ? "-0" : String(v)));

function check(name: string, f: (...a: NDArray[]) => NDArray | NDArray[], args: NDArray[], resident: boolean) {
  const before = wasmResidentReads();
  const got = jit(f)(...args);
  const read = wasmResidentReads() - before;
  const want = f(...args);
  const list = (r: NDArray | NDArray[]) => (Array.isArray(r) ? r : [r]);
  list(got).forEach((g, k) => expect(bitsOf(g), `${name}: output ${k}`).toEqual(bitsOf(list(want)[k]!)));
  if (wasmLoopsEnabled()) expect(read > 0, `${name}: an operand read in place`).toBe(resident);
}

describe("values handed on in place to later fused runs", () => {
  // First, while the unshared memory is at its initial size.
  it("a later run that must grow an unshared memory copies the values it still reads out first", () => {
    const h = localHeap();
    if (h === null || !wasmLoopsEnabled()) return;
    // Float32 runs under the thread threshold (32768 elements) stay in the unshared memory. The
    // first run (x in, e out) fits in it; the second (e, then eight operands and its result above
    // it) does not.
    const n = 32000;
    const grown = h.memory.buffer.byteLength;
    expect(2 * 4 * n + 4096, "the first run fits").toBeLessThan(grown - DATA);
    expect(10 * 4 * n, "the second does not").toBeGreaterThan(grown - DATA);
    const vals = (k: number) => np.array(Float32Array.from({ length: n }, (_, i) => Math.sin(i * 0.1 + k)));
    const args = Array.from({ length: 9 }, (_, k) => vals(k));
    check(
      "grow",
      (v, ...w) => {
        // The sum right after the exponentials' run, then a run of its own reading them.
        const e = np.exp(v);
        const t = np.sum(e);
        return [w.reduce((acc, u, k) => (k % 2 === 0 ? acc.add(u.mul(e)) : acc.sub(u)), e).div(t), np.sum(e.mul(e))];
      },
      args,
      false, // copied out before the memory grew, then copied back in
    );
    expect(h.memory.buffer.byteLength, "the memory grew during the call").toBeGreaterThan(grown);
  });

  // Large enough for wasm runs and, at [512, 512], for the loop threads and their shared memory.
  for (const [rows, n] of [
    [16, 64],
    [512, 512],
  ] as const) {
    const x = np.reshape(np.array(Float32Array.from({ length: rows * n }, (_, i) => Math.sin(i * 0.7) * 4)), [rows, n]);
    const y = np.reshape(np.array(Float32Array.from({ length: rows * n }, (_, i) => Math.cos(i * 0.3))), [rows, n]);

    it(`softmax's exponentials read by its sum and its divide, in place [${rows}, ${n}]`, () => {
      check("softmax", (v) => nn.softmax(v), [x], true);
      check(
        "by hand",
        (v) => {
          const e = np.exp(v.sub(np.max(v, { axis: -1, keepdims: true })));
          return e.div(np.sum(e, { axis: -1, keepdims: true }));
        },
        [x],
        true,
      );
    });

    it(`two values live across runs of other shapes, a reshape and reductions [${rows}, ${n}]`, () => {
      check(
        "chain",
        (v, w) => {
          const a = np.exp(v.mul(0.5)),
            b = w.mul(v).add(1);
          const s = np.sum(a, { axis: -1, keepdims: true });
          const t = np.reshape(np.max(b, 0), [1, n]);
          const c = a.div(s).add(t.mul(2)); // reads a in place, and t broadcast
          const d = np.tanh(b).mul(c); // reads b in place, c written by the run before
          return [d, np.sum(c.mul(c), -1)];
        },
        [x, y],
        true,
      );
    });

    it(`a value read by a later run and also returned is copied out, never a view [${rows}, ${n}]`, () => {
      const f = jit((v: NDArray) => {
        const e = np.exp(v);
        return [e, e.div(np.sum(e, { axis: -1, keepdims: true }))];
      });
      const [e] = f(x) as NDArray[];
      const kept = bitsOf(e!);
      f(y); // overwrites the fused runs' memory
      expect(bitsOf(e!)).toEqual(kept);
      expect(kept).toEqual(bitsOf(np.exp(x)));
    });

    it(`a step of another kind ends the chain: values read after it are copied [${rows}, ${n}]`, () => {
      check(
        "through a matmul",
        (v) => {
          const e = np.exp(v);
          const m = np.matmul(e, np.transpose(e));
          return e.mul(np.sum(m)).add(1);
        },
        [x],
        false,
      );
    });
  }
});
