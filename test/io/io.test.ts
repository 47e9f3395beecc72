/**
 * Arrays on disk: reference files written byte by byte from the specifications
 * (fixtures/make_fixtures.py: NEP 1 .npy, zip .npz, safetensors) load to the values they hold and
 * are reproduced byte for byte by the writers; byte-level layout assertions are written from the
 * specifications; every dtype round-trips; a checkpointed Adam run continues bit-identically.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ArgumentError, type NDArray, grad, io, jit, np, optim, tree } from "../../src/index.js";
import { FormatError } from "../../src/io.js";

const fixture = (name: string) => new Uint8Array(readFileSync(join(import.meta.dirname, "fixtures", name)));
const bits = (x: NDArray) => Array.from(new Uint8Array(x.dataSync().buffer));
const u32le = (b: Uint8Array, at: number) => b[at]! | (b[at + 1]! << 8) | (b[at + 2]! << 16) | (b[at + 3]! * 2 ** 24);

describe(".npy", () => {
  it("reads the reference files", () => {
    const a = io.loadNpy(fixture("f32_2x3.npy"));
    expect([a.dtype, a.shape, a.tolist()]).toEqual([
      "float32",
      [2, 3],
      [
        [0, 1, 2],
        [3, 4, 5],
      ],
    ]);
    const b = io.loadNpy(fixture("i32_4.npy"));
    expect([b.dtype, b.shape, b.tolist()]).toEqual(["int32", [4], [1, -2, 3, -4]]);
    const c = io.loadNpy(fixture("bool_scalar.npy"));
    expect([c.dtype, c.shape, c.item()]).toEqual(["bool", [], 1]);
    const d = io.loadNpy(fixture("f64_2.npy"));
    expect([d.dtype, d.shape, d.tolist()]).toEqual(["float64", [2], [0.5, -1.25]]);
  });
  it("writes the reference files byte for byte", () => {
    expect(
      io.saveNpy(
        np.array(
          [
            [0, 1, 2],
            [3, 4, 5],
          ],
          { dtype: "float32" },
        ),
      ),
    ).toEqual(fixture("f32_2x3.npy"));
    expect(io.saveNpy(np.array([1, -2, 3, -4], { dtype: "int32" }))).toEqual(fixture("i32_4.npy"));
    expect(io.saveNpy(np.array(true, { dtype: "bool" }))).toEqual(fixture("bool_scalar.npy"));
    expect(io.saveNpy(np.array([0.5, -1.25], { dtype: "float64" }))).toEqual(fixture("f64_2.npy"));
  });
  it("lays out magic, version, header length and 64-byte aligned data as NEP 1 says", () => {
    const b = io.saveNpy(np.array([[1, 2]], { dtype: "float64" }));
    expect(Array.from(b.subarray(0, 8))).toEqual([0x93, 78, 85, 77, 80, 89, 1, 0]);
    const hlen = b[8]! + 256 * b[9]!;
    expect((10 + hlen) % 64).toBe(0);
    const header = new TextDecoder().decode(b.subarray(10, 10 + hlen));
    expect(header.startsWith("{'descr': '<f8', 'fortran_order': False, 'shape': (1, 2), }")).toBe(true);
    expect(header.endsWith("\n")).toBe(true);
    expect(Array.from(b.subarray(10 + hlen))).toEqual(Array.from(new Uint8Array(new Float64Array([1, 2]).buffer)));
  });
  it("round-trips every dtype bit for bit, including empty arrays, NaN and -0", () => {
    const xs = [
      np.array([NaN, -0, Infinity, 1e-40], { dtype: "float32" }),
      np.array([Math.PI, -0, NaN], { dtype: "float64" }).reshape([3, 1]),
      np.array([2147483647, -2147483648], { dtype: "int32" }),
      np.array([true, false, true], { dtype: "bool" }),
      np.zeros([0, 3]),
    ];
    for (const x of xs) {
      const y = io.loadNpy(io.saveNpy(x));
      expect([y.dtype, y.shape]).toEqual([x.dtype, x.shape]);
      expect(bits(y)).toEqual(bits(x));
    }
  });
  it("refuses what it cannot read with FormatError", () => {
    expect(() => io.loadNpy(new Uint8Array([1, 2, 3]))).toThrow(FormatError);
    const b = io.saveNpy(np.ones([2]));
    b.set(new TextEncoder().encode("<c8"), 21); // descr '<c8' (complex64)
    expect(() => io.loadNpy(b)).toThrow(/not supported/);
    expect(() => io.loadNpy(io.saveNpy(np.ones([4])).subarray(0, 130))).toThrow(FormatError);
    expect(() => io.saveNpy([1, 2] as never)).toThrow(ArgumentError);
  });
});

describe(".npz", () => {
  for (const name of ["stored.npz", "deflated.npz"]) {
    it(`reads ${name} (written by Python's zipfile)`, () => {
      const { a, b } = io.loadNpz(fixture(name));
      expect(a!.tolist()).toEqual([
        [0, 1, 2],
        [3, 4, 5],
      ]);
      expect([b!.dtype, b!.tolist()]).toEqual(["int32", [1, -2, 3, -4]]);
    });
  }
  it("writes a stored zip whose entries are NAME.npy with correct CRC-32 and sizes", () => {
    const a = np.array(
      [
        [0, 1, 2],
        [3, 4, 5],
      ],
      { dtype: "float32" },
    );
    const bytes = io.saveNpz({ a });
    expect(u32le(bytes, 0)).toBe(0x04034b50); // local file header signature
    expect(bytes[8]! + 256 * bytes[9]!).toBe(0); // method: stored
    const crc = u32le(bytes, 14),
      size = u32le(bytes, 18);
    expect(size).toBe(fixture("f32_2x3.npy").length);
    expect(new TextDecoder().decode(bytes.subarray(30, 35))).toBe("a.npy");
    expect(bytes.subarray(35, 35 + size)).toEqual(fixture("f32_2x3.npy"));
    // CRC-32 of "123456789" is 0xCBF43926 (the check value of the zip polynomial)
    expect(io.crc32(new TextEncoder().encode("123456789"))).toBe(0xcbf43926);
    expect(crc).toBe(io.crc32(fixture("f32_2x3.npy")));
    expect(u32le(bytes, bytes.length - 22)).toBe(0x06054b50); // end of central directory
    const back = io.loadNpz(bytes);
    expect(Object.keys(back)).toEqual(["a"]);
    expect(bits(back.a!)).toEqual(bits(a));
  });
});

describe("safetensors", () => {
  it("reads the reference file", () => {
    const { tree: t, metadata } = io.loadSafetensors<{ w: NDArray; b: NDArray }>(fixture("model.safetensors"));
    expect(metadata).toEqual({ format: "pt" });
    expect([t.w.dtype, t.w.tolist()]).toEqual([
      "float32",
      [
        [1.5, -2],
        [0.25, 8],
      ],
    ]);
    expect([t.b.dtype, t.b.tolist()]).toEqual(["int32", [7, -9]]);
  });
  it("writes the reference file byte for byte", () => {
    const w = np.array(
      [
        [1.5, -2],
        [0.25, 8],
      ],
      { dtype: "float32" },
    );
    const b = np.array([7, -9], { dtype: "int32" });
    expect(io.saveSafetensors({ w, b }, { format: "pt" })).toEqual(fixture("model.safetensors"));
  });
  it("has an 8-byte little-endian header length, a JSON header padded to 8, then the data", () => {
    const bytes = io.saveSafetensors({ layer: { w: np.ones([3]) } });
    const n = Number(new DataView(bytes.buffer).getBigUint64(0, true));
    expect(n % 8).toBe(0);
    const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n)));
    expect(header["layer.w"]).toEqual({ dtype: "F32", shape: [3], data_offsets: [0, 12] });
    expect(bytes.length).toBe(8 + n + 12);
  });
  it("round-trips nested pytrees (objects and lists) of every dtype", () => {
    const t = { enc: [{ w: np.ones([2, 2], "float64") }, { w: np.array([true, false], { dtype: "bool" }) }], step: np.array(3, { dtype: "int32" }) };
    const back = io.loadSafetensors(io.saveSafetensors(t, { note: "x" }));
    expect(back.metadata).toEqual({ note: "x" });
    const [la, da] = tree.flatten(t),
      [lb, db] = tree.flatten(back.tree);
    expect(String(db)).toBe(String(da));
    lb.forEach((l, i) => expect(bits(l as NDArray)).toEqual(bits(la[i] as NDArray)));
  });
  it("refuses bad trees and bad files with typed errors", () => {
    expect(() => io.saveSafetensors({ "a.b": np.ones([1]) })).toThrow(ArgumentError);
    expect(() => io.saveSafetensors({ a: 1 })).toThrow(ArgumentError);
    const bytes = io.saveSafetensors({ a: np.ones([2]) });
    expect(() => io.loadSafetensors(bytes.subarray(0, bytes.length - 1))).toThrow(FormatError);
  });
});

describe("io.save / io.load", () => {
  it("pick the format from the extension", () => {
    const dir = mkdtempSync(join(tmpdir(), "fluxion-io-"));
    try {
      const x = np.array([1, 2, 3], { dtype: "float32" });
      io.save(join(dir, "x.npy"), x);
      expect(io.load<NDArray>(join(dir, "x.npy")).tolist()).toEqual([1, 2, 3]);
      io.save(join(dir, "x.npz"), { x });
      expect(io.load<{ x: NDArray }>(join(dir, "x.npz")).x.tolist()).toEqual([1, 2, 3]);
      io.save(join(dir, "x.safetensors"), { p: { x } });
      expect(io.load<{ p: { x: NDArray } }>(join(dir, "x.safetensors")).p.x.tolist()).toEqual([1, 2, 3]);
      expect(() => io.save(join(dir, "x.txt"), x)).toThrow(ArgumentError);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("checkpointing a training run", () => {
  it("continues bit-identically after saving and restoring params and Adam state", () => {
    const opt = optim.adam({ learningRate: 0.05 });
    const xs = np.array(
      [
        [0.5, -1],
        [1.5, 2],
        [-0.3, 0.7],
      ],
      { dtype: "float32" },
    );
    const ys = np.array([1, -1, 0.5], { dtype: "float32" });
    const loss = (p: { w: NDArray; b: NDArray }) => np.mean(np.square(np.tanh(np.matmul(xs, p.w).add(p.b)).sub(ys)));
    type P = { w: NDArray; b: NDArray };
    const step = jit((p: P, s: optim.AdamState): [P, optim.AdamState] => {
      const [u, next] = opt.update(grad(loss)(p), s);
      return [optim.applyUpdates(p, u), next];
    });
    let params = { w: np.array([0.1, -0.2], { dtype: "float32" }), b: np.array(0, { dtype: "float32" }) };
    let state = opt.init(params);
    for (let i = 0; i < 5; i++) [params, state] = step(params, state);
    const saved = io.saveSafetensors({ params, state });
    let [p1, s1] = [params, state];
    for (let i = 0; i < 5; i++) [p1, s1] = step(p1, s1);
    const { tree: restored } = io.loadSafetensors<{ params: P; state: optim.AdamState }>(saved);
    // The restored tree has the same structure, so it is a drop-in for the live state.
    expect(String(tree.flatten(restored)[1])).toBe(String(tree.flatten({ params, state })[1]));
    let [p2, s2] = [restored.params, restored.state];
    for (let i = 0; i < 5; i++) [p2, s2] = step(p2, s2);
    const [a] = tree.flatten([p1, s1]),
      [b] = tree.flatten([p2, s2]);
    a.forEach((l, i) => expect(bits(b[i] as NDArray)).toEqual(bits(l as NDArray)));
  });
});
