/**
 * Arrays on disk, in the formats other frameworks read: NumPy's `.npy` (one array, NEP 1) and
 * `.npz` (a zip of `.npy` entries), and safetensors (a pytree of named arrays with string
 * metadata). The `*Npy/*Npz/*Safetensors` functions work on bytes (`Uint8Array`) anywhere; `save`
 * and `load` pick the format from a path's extension and need Node's file system. Every format
 * stores little-endian values; bools one byte each.
 */
import { type DType, DTYPES } from "./core/dtype.js";
import { ArgumentError, FluxionError, describe } from "./core/errors.js";
import { ConcreteArray, NDArray } from "./core/ndarray.js";

/** A file or byte string that is not a valid (or supported) .npy, .npz or safetensors encoding. */
export class FormatError extends FluxionError {
  override name = "FormatError";
}

interface DTypeInfo {
  npy: string;
  st: string;
  bytes: number;
  make: (buf: ArrayBuffer, n: number) => ArrayLike<number> & { buffer: ArrayBufferLike };
}

/** Each dtype's NumPy descr, safetensors name, width and typed array (uint32 where fluxion has it). */
const INFO: Record<string, DTypeInfo> = {
  bool: { npy: "|b1", st: "BOOL", bytes: 1, make: (b, n) => new Uint8Array(b, 0, n) },
  int32: { npy: "<i4", st: "I32", bytes: 4, make: (b, n) => new Int32Array(b, 0, n) },
  float32: { npy: "<f4", st: "F32", bytes: 4, make: (b, n) => new Float32Array(b, 0, n) },
  float64: { npy: "<f8", st: "F64", bytes: 8, make: (b, n) => new Float64Array(b, 0, n) },
  uint32: { npy: "<u4", st: "U32", bytes: 4, make: (b, n) => new Uint32Array(b, 0, n) },
};
const known = (d: string): boolean => (DTYPES as readonly string[]).includes(d);
const byKey = (key: "npy" | "st", v: string): string | undefined => Object.keys(INFO).find((d) => known(d) && INFO[d]![key] === v);

function needArray(fn: string, what: string, x: unknown): NDArray {
  if (!(x instanceof NDArray)) throw new ArgumentError(`${fn}: ${what} must be an NDArray, got ${describe(x)}`);
  return x;
}

/** The array's values as little-endian bytes (the host is little-endian, as every JS engine in use). */
function bytesOf(fn: string, x: NDArray): Uint8Array {
  const data = x.dataSync();
  if (!known(x.dtype)) throw new ArgumentError(`${fn}: dtype ${x.dtype} cannot be saved`);
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength).slice();
}

/** An array of `dtype` and `shape` from `n` elements' bytes (copied, so the result owns them). */
function arrayOf(dtype: string, shape: number[], bytes: Uint8Array): NDArray {
  const n = shape.reduce((p, d) => p * d, 1);
  const copy = bytes.slice(0, n * INFO[dtype]!.bytes);
  return new ConcreteArray(INFO[dtype]!.make(copy.buffer, n) as never, shape, dtype as DType);
}

// ---------------------------------------------------------------- .npy

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY

/**
 * `x` as a .npy file (format version 1.0): magic, version, a little-endian uint16 header length,
 * a Python-literal header dict padded with spaces and ended by "\n" so the data starts at a
 * multiple of 64 bytes, then the C-order data.
 *
 * @example
 * const bytes = io.saveNpy(np.array([1, 2, 3], { dtype: "int32" }));
 */
export function saveNpy(x: NDArray): Uint8Array {
  needArray("io.saveNpy", "x", x);
  const shape = x.shape.length === 1 ? `(${x.shape[0]},)` : `(${x.shape.join(", ")})`;
  let header = `{'descr': '${INFO[x.dtype]!.npy}', 'fortran_order': False, 'shape': ${shape}, }`;
  const pad = 64 - ((10 + header.length + 1) % 64);
  header += " ".repeat(pad % 64) + "\n";
  const data = bytesOf("io.saveNpy", x);
  const out = new Uint8Array(10 + header.length + data.length);
  out.set(MAGIC, 0);
  out[6] = 1;
  out[7] = 0;
  out[8] = header.length & 0xff;
  out[9] = header.length >> 8;
  for (let i = 0; i < header.length; i++) out[10 + i] = header.charCodeAt(i);
  out.set(data, 10 + header.length);
  return out;
}

/**
 * Reads a .npy file (versions 1.0, 2.0 and 3.0; C order; the dtypes fluxion has).
 *
 * @example
 * const x = io.loadNpy(bytes);
 */
export function loadNpy(bytes: Uint8Array): NDArray {
  if (!(bytes instanceof Uint8Array)) throw new ArgumentError(`io.loadNpy: bytes must be a Uint8Array, got ${describe(bytes)}`);
  if (bytes.length < 10 || MAGIC.some((b, i) => bytes[i] !== b))
    throw new FormatError("io.loadNpy: not a .npy file (the magic string \\x93NUMPY is missing)");
  const major = bytes[6]!;
  if (major < 1 || major > 3) throw new FormatError(`io.loadNpy: unsupported .npy format version ${major}.${bytes[7]}`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const hlen = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  const start = major === 1 ? 10 : 12;
  if (start + hlen > bytes.length) throw new FormatError("io.loadNpy: the header is longer than the file");
  const header = new TextDecoder().decode(bytes.subarray(start, start + hlen));
  const descr = /'descr'\s*:\s*'([^']*)'/.exec(header)?.[1];
  const fortran = /'fortran_order'\s*:\s*(True|False)/.exec(header)?.[1];
  const shapeText = /'shape'\s*:\s*\(([^)]*)\)/.exec(header)?.[1];
  if (descr === undefined || fortran === undefined || shapeText === undefined)
    throw new FormatError(`io.loadNpy: malformed header ${JSON.stringify(header.slice(0, 120))}`);
  const dtype = byKey("npy", descr === "<b1" || descr === "b1" ? "|b1" : descr);
  if (dtype === undefined)
    throw new FormatError(
      `io.loadNpy: dtype ${JSON.stringify(descr.slice(0, 20))} is not supported; use bool, int32, float32 or float64 (little-endian)`,
    );
  if (fortran === "True") throw new FormatError("io.loadNpy: Fortran-order arrays are not supported; save with np.ascontiguousarray");
  const shape = shapeText
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "")
    .map(Number);
  if (!shape.every((d) => Number.isSafeInteger(d) && d >= 0)) throw new FormatError(`io.loadNpy: bad shape (${shapeText})`);
  const n = shape.reduce((p, d) => p * d, 1);
  const data = bytes.subarray(start + hlen);
  if (data.length < n * INFO[dtype]!.bytes)
    throw new FormatError(`io.loadNpy: the file holds ${data.length} data bytes, the shape [${shape}] needs ${n * INFO[dtype]!.bytes}`);
  return arrayOf(dtype, shape, data);
}

// ---------------------------------------------------------------- .npz (zip)

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

/** CRC-32 (the zip polynomial 0xEDB88320). */
export function crc32(bytes: Uint8Array): number {
  if (!(bytes instanceof Uint8Array)) throw new ArgumentError(`io.crc32: bytes must be a Uint8Array, got ${describe(bytes)}`);
  let c = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) c = CRC_TABLE[(c ^ bytes[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function checkFlat(fn: string, arrays: unknown): [string, NDArray][] {
  if (typeof arrays !== "object" || arrays === null || Array.isArray(arrays) || arrays instanceof NDArray)
    throw new ArgumentError(`${fn}: arrays must be a flat object of named arrays { name: NDArray }, got ${describe(arrays)}`);
  return Object.entries(arrays).map(([k, v]) => {
    if (k.length === 0 || k.length > 200)
      throw new ArgumentError(`${fn}: array names must have 1 to 200 characters, got ${JSON.stringify(k.slice(0, 40))}`);
    return [k, needArray(fn, `arrays[${JSON.stringify(k.slice(0, 40))}]`, v)];
  });
}

/**
 * A flat object of arrays as a .npz file: a zip (stored, not compressed) holding `name.npy` per array.
 *
 * @example
 * const bytes = io.saveNpz({ w: np.ones([2, 2]), b: np.zeros([2]) });
 */
export function saveNpz(arrays: Record<string, NDArray>): Uint8Array {
  const entries = checkFlat("io.saveNpz", arrays).map(([k, v]) => ({ name: new TextEncoder().encode(`${k}.npy`), data: saveNpy(v) }));
  const parts: Uint8Array[] = [];
  const central: Uint8Array[] = [];
  let offset = 0;
  for (const e of entries) {
    const crc = crc32(e.data);
    const local = new DataView(new ArrayBuffer(30));
    local.setUint32(0, 0x04034b50, true);
    local.setUint16(4, 20, true); // version needed 2.0
    local.setUint16(6, 0x0800, true); // UTF-8 names
    local.setUint16(8, 0, true); // stored
    local.setUint32(14, crc, true);
    local.setUint32(18, e.data.length, true);
    local.setUint32(22, e.data.length, true);
    local.setUint16(26, e.name.length, true);
    parts.push(new Uint8Array(local.buffer), e.name, e.data);
    const cd = new DataView(new ArrayBuffer(46));
    cd.setUint32(0, 0x02014b50, true);
    cd.setUint16(4, 20, true);
    cd.setUint16(6, 20, true);
    cd.setUint16(8, 0x0800, true);
    cd.setUint32(16, crc, true);
    cd.setUint32(20, e.data.length, true);
    cd.setUint32(24, e.data.length, true);
    cd.setUint16(28, e.name.length, true);
    cd.setUint32(42, offset, true);
    central.push(new Uint8Array(cd.buffer), e.name);
    offset += 30 + e.name.length + e.data.length;
  }
  const cdSize = central.reduce((n, p) => n + p.length, 0);
  const end = new DataView(new ArrayBuffer(22));
  end.setUint32(0, 0x06054b50, true);
  end.setUint16(8, entries.length, true);
  end.setUint16(10, entries.length, true);
  end.setUint32(12, cdSize, true);
  end.setUint32(16, offset, true);
  return concat([...parts, ...central, new Uint8Array(end.buffer)]);
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Node's built-in module, without a static import (so bundles for the browser still load). */
function nodeModule<T>(fn: string, name: "node:zlib" | "node:fs"): T {
  const get = (globalThis as { process?: { getBuiltinModule?: (n: string) => unknown } }).process?.getBuiltinModule;
  if (typeof get !== "function")
    throw new FormatError(`${fn}: needs Node.js ${name} (Node 20.16 or later); in a browser use the byte functions io.saveNpz/loadNpz etc.`);
  return get(name) as T;
}

/**
 * Reads a .npz file: stored entries directly, deflated ones (what `np.savez_compressed` writes)
 * through node:zlib. Returns a flat object of arrays named without the `.npy` suffix.
 *
 * @example
 * const { w, b } = io.loadNpz(bytes);
 */
export function loadNpz(bytes: Uint8Array): Record<string, NDArray> {
  if (!(bytes instanceof Uint8Array)) throw new ArgumentError(`io.loadNpz: bytes must be a Uint8Array, got ${describe(bytes)}`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let eocd = -1;
  for (let i = bytes.length - 22; i >= Math.max(0, bytes.length - 22 - 65535); i--)
    if (view.getUint32(i, true) === 0x06054b50) {
      eocd = i;
      break;
    }
  if (eocd < 0) throw new FormatError("io.loadNpz: not a zip file (no end-of-central-directory record)");
  const count = view.getUint16(eocd + 10, true);
  let p = view.getUint32(eocd + 16, true);
  const out: Record<string, NDArray> = {};
  for (let k = 0; k < count; k++) {
    if (p + 46 > bytes.length || view.getUint32(p, true) !== 0x02014b50) throw new FormatError("io.loadNpz: corrupt central directory");
    const method = view.getUint16(p + 10, true);
    const csize = view.getUint32(p + 20, true);
    const nlen = view.getUint16(p + 28, true),
      xlen = view.getUint16(p + 30, true),
      clen = view.getUint16(p + 32, true);
    const local = view.getUint32(p + 42, true);
    const name = new TextDecoder().decode(bytes.subarray(p + 46, p + 46 + nlen));
    p += 46 + nlen + xlen + clen;
    if (local + 30 > bytes.length || view.getUint32(local, true) !== 0x04034b50)
      throw new FormatError(`io.loadNpz: corrupt local header of ${JSON.stringify(name.slice(0, 60))}`);
    const dataAt = local + 30 + view.getUint16(local + 26, true) + view.getUint16(local + 28, true);
    const raw = bytes.subarray(dataAt, dataAt + csize);
    let data: Uint8Array;
    if (method === 0) data = raw;
    else if (method === 8)
      data = new Uint8Array(nodeModule<{ inflateRawSync: (b: Uint8Array) => Uint8Array }>("io.loadNpz", "node:zlib").inflateRawSync(raw));
    else
      throw new FormatError(
        `io.loadNpz: entry ${JSON.stringify(name.slice(0, 60))} uses zip method ${method}; only stored (0) and deflate (8) are supported`,
      );
    out[name.endsWith(".npy") ? name.slice(0, -4) : name] = loadNpy(data);
  }
  return out;
}

// ---------------------------------------------------------------- safetensors

/** Flattens a pytree of arrays (plain objects and lists) to dotted names: { a: { b: x } } → "a.b". */
function flatNames(fn: string, t: unknown, prefix: string, out: [string, NDArray][], depth = 0): void {
  if (depth > 64) throw new ArgumentError(`${fn}: the tree is nested deeper than 64 levels`);
  if (t instanceof NDArray) {
    if (prefix === "") throw new ArgumentError(`${fn}: tree is a single array, which needs a name; pass { name: x }`);
    out.push([prefix, t]);
    return;
  }
  const entries = Array.isArray(t) ? t.map((v, i) => [String(i), v] as const) : typeof t === "object" && t !== null ? Object.entries(t) : null;
  if (entries === null)
    throw new ArgumentError(
      `${fn}: the tree's leaves must be NDArrays (in plain objects and lists), got ${describe(t)} at ${JSON.stringify(prefix || "the root")}`,
    );
  for (const [k, v] of entries) {
    if (k.includes(".") || k === "" || k === "__metadata__")
      throw new ArgumentError(
        `${fn}: key ${JSON.stringify(k.slice(0, 40))} cannot be a safetensors name part (no ".", not empty, not "__metadata__")`,
      );
    flatNames(fn, v, prefix === "" ? k : `${prefix}.${k}`, out, depth + 1);
  }
}

/**
 * A pytree of arrays as safetensors: an 8-byte little-endian header length, a JSON header
 * (name → dtype, shape, data_offsets; and `__metadata__`, string → string), padded with spaces to
 * a multiple of 8, then the arrays' bytes in order. Nested names are joined with ".".
 *
 * @example
 * const bytes = io.saveSafetensors({ layer1: { w, b } }, { epoch: "3" }); // names layer1.w, layer1.b
 */
export function saveSafetensors(tree: unknown, metadata: Record<string, string> = {}): Uint8Array {
  const named: [string, NDArray][] = [];
  flatNames("io.saveSafetensors", tree, "", named);
  if (typeof metadata !== "object" || metadata === null || !Object.values(metadata).every((v) => typeof v === "string"))
    throw new ArgumentError(`io.saveSafetensors: metadata must be an object of strings, got ${describe(metadata)}`);
  const header: Record<string, unknown> = {};
  if (Object.keys(metadata).length > 0) header.__metadata__ = { ...metadata };
  const datas: Uint8Array[] = [];
  let offset = 0;
  for (const [name, x] of named) {
    const data = bytesOf("io.saveSafetensors", x);
    header[name] = { dtype: INFO[x.dtype]!.st, shape: x.shape.slice(), data_offsets: [offset, offset + data.length] };
    datas.push(data);
    offset += data.length;
  }
  let json = JSON.stringify(header);
  const enc = new TextEncoder();
  json += " ".repeat((8 - (enc.encode(json).length % 8)) % 8);
  const hb = enc.encode(json);
  const len = new DataView(new ArrayBuffer(8));
  len.setBigUint64(0, BigInt(hb.length), true);
  return concat([new Uint8Array(len.buffer), hb, ...datas]);
}

/** Rebuilds the nested tree from dotted names; a level whose keys are 0..n-1 becomes a list. */
function nest(named: [string, NDArray][]): unknown {
  const root: Record<string, unknown> = {};
  for (const [name, x] of named) {
    const parts = name.split(".");
    let node = root;
    parts.slice(0, -1).forEach((p) => {
      const next = node[p];
      if (next instanceof NDArray) throw new FormatError(`io.loadSafetensors: ${JSON.stringify(name.slice(0, 60))} is nested under an array name`);
      node = (node[p] ??= {}) as Record<string, unknown>;
    });
    node[parts[parts.length - 1]!] = x;
  }
  const listify = (t: unknown): unknown => {
    if (t instanceof NDArray) return t;
    const o = t as Record<string, unknown>;
    const keys = Object.keys(o);
    const isList = keys.length > 0 && keys.every((k) => /^(0|[1-9][0-9]*)$/.test(k) && Number(k) < keys.length);
    if (isList) return keys.map((_, i) => listify(o[String(i)]));
    return Object.fromEntries(keys.map((k) => [k, listify(o[k])]));
  };
  return listify(root);
}

/**
 * Reads safetensors bytes: the tree of arrays (names split at ".") and the `__metadata__` strings.
 *
 * @example
 * const { tree: params, metadata } = io.loadSafetensors<{ w: NDArray }>(bytes);
 */
export function loadSafetensors<T = unknown>(bytes: Uint8Array): { tree: T; metadata: Record<string, string> } {
  if (!(bytes instanceof Uint8Array)) throw new ArgumentError(`io.loadSafetensors: bytes must be a Uint8Array, got ${describe(bytes)}`);
  if (bytes.length < 8) throw new FormatError("io.loadSafetensors: shorter than the 8-byte header length");
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n = view.getBigUint64(0, true);
  if (n > BigInt(bytes.length - 8)) throw new FormatError(`io.loadSafetensors: header length ${n} exceeds the file`);
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + Number(n))));
  } catch (e) {
    throw new FormatError(`io.loadSafetensors: the header is not JSON (${(e as Error).message})`);
  }
  if (typeof header !== "object" || header === null || Array.isArray(header))
    throw new FormatError("io.loadSafetensors: the header is not a JSON object");
  const data = bytes.subarray(8 + Number(n));
  const metadata = (header.__metadata__ ?? {}) as Record<string, string>;
  const named: [string, NDArray][] = [];
  for (const [name, info] of Object.entries(header)) {
    if (name === "__metadata__") continue;
    const { dtype: st, shape, data_offsets: off } = (info ?? {}) as { dtype?: string; shape?: number[]; data_offsets?: number[] };
    const dtype = typeof st === "string" ? byKey("st", st) : undefined;
    if (dtype === undefined)
      throw new FormatError(`io.loadSafetensors: ${JSON.stringify(name.slice(0, 60))} has dtype ${describe(st)}; supported: BOOL, I32, F32, F64`);
    if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0) || !Array.isArray(off) || off.length !== 2)
      throw new FormatError(`io.loadSafetensors: ${JSON.stringify(name.slice(0, 60))} has a bad shape or data_offsets`);
    const [b, e] = off as [number, number];
    const size = shape.reduce((p, d) => p * d, 1) * INFO[dtype]!.bytes;
    if (!(Number.isSafeInteger(b) && e - b === size && b >= 0 && e <= data.length))
      throw new FormatError(
        `io.loadSafetensors: ${JSON.stringify(name.slice(0, 60))}: data_offsets [${b}, ${e}] do not hold ${size} bytes within the ${data.length}-byte buffer`,
      );
    named.push([name, arrayOf(dtype, shape, data.subarray(b, e))]);
  }
  return { tree: nest(named) as T, metadata };
}

// ---------------------------------------------------------------- files

type Fs = { writeFileSync: (p: string, d: Uint8Array) => void; readFileSync: (p: string) => Uint8Array };

function formatOf(fn: string, path: unknown): "npy" | "npz" | "safetensors" {
  if (typeof path !== "string") throw new ArgumentError(`${fn}: path must be a string, got ${describe(path)}`);
  const m = /\.(npy|npz|safetensors)$/i.exec(path);
  if (m === null)
    throw new ArgumentError(`${fn}: cannot tell the format of path ${JSON.stringify(path.slice(-60))}; use a .npy, .npz or .safetensors extension`);
  return m[1]!.toLowerCase() as "npy" | "npz" | "safetensors";
}

/**
 * Writes `tree` to `path` in the format its extension names: `.npy` one array, `.npz` a flat
 * object of arrays, `.safetensors` a pytree of arrays (Node.js only).
 *
 * @example
 * io.save("params.safetensors", params);
 */
export function save(path: string, tree: unknown): void {
  const fmt = formatOf("io.save", path);
  const bytes =
    fmt === "npy"
      ? saveNpy(needArray("io.save", "a .npy file's tree", tree))
      : fmt === "npz"
        ? saveNpz(tree as Record<string, NDArray>)
        : saveSafetensors(tree);
  nodeModule<Fs>("io.save", "node:fs").writeFileSync(path, bytes);
}

/**
 * Reads `path` in the format its extension names: an array (.npy), a flat object of arrays
 * (.npz) or a pytree of arrays (.safetensors; its metadata via `loadSafetensors` on the bytes).
 *
 * @example
 * const params = io.load<{ w: NDArray; b: NDArray }>("params.safetensors");
 */
export function load<T = unknown>(path: string): T {
  const fmt = formatOf("io.load", path);
  const bytes = new Uint8Array(nodeModule<Fs>("io.load", "node:fs").readFileSync(path));
  return (fmt === "npy" ? loadNpy(bytes) : fmt === "npz" ? loadNpz(bytes) : loadSafetensors(bytes).tree) as T;
}
