/**
 * argsort on the device: a bitonic sorting network over (key, position) pairs of each row, one
 * dispatch per compare-exchange stage, so no invocation loops at all. Keys become order-preserving
 * u32 words: a float by its bits with the sign folded (-0 as +0, every NaN as the largest word), an
 * int32 with its sign bit flipped, a uint32 or bool as it is. Rows are padded to a power of two
 * with the largest word at positions past the end, which the position tie-break puts after any
 * NaN. Comparing positions on ties makes the order stable, as on the CPU.
 */
import type { DType } from "../../../src/core/dtype.js";
import { type GpuArray, empty } from "../array.js";
import { WG } from "../context.js";
import { ENTRY, LINEAR_INDEX, paramsDecl, storageDecl, wgslType } from "../wgsl.js";

type T = "f32" | "i32" | "u32";

const ENCODE: Record<T, string> = {
  f32: `fn enc(v: f32) -> u32 {
  let b = bitcast<u32>(v);
  let m = b & 0x7fffffffu;
  if (m > 0x7f800000u) { return 0xffffffffu; }
  if (m == 0u) { return 0x80000000u; }
  if ((b >> 31u) == 1u) { return ~b; }
  return b | 0x80000000u;
}`,
  i32: "fn enc(v: i32) -> u32 { return bitcast<u32>(v) ^ 0x80000000u; }",
  u32: "fn enc(v: u32) -> u32 { return v; }",
};

/** The entry and the first lines every kernel here shares: the invocation's index g, bounded by param 0, and p (param 1). */
const HEAD = `${ENTRY} {
  let g = ${LINEAR_INDEX};
  if (g >= prm(0u)) { return; }
  let p = prm(1u);`;
/** HEAD, and the [outer, n, inner] view's n and inner (params 2 and 3). */
const ROW_HEAD = `${HEAD}
  let n = prm(2u);
  let inner = prm(3u);`;

const memo = new Map<string, string>();
const cached = (key: string, make: () => string): string => {
  let s = memo.get(key);
  if (s === undefined) memo.set(key, (s = make()));
  return s;
};

/** Params: [rows·p, p, n, inner]. Row r of the padded pairs reads the operand's row r of the [outer, n, inner] view. */
const initSource = (t: T) =>
  cached(
    `init:${t}`,
    () => `${storageDecl(0, "x", t, false)}
${storageDecl(1, "keys", "u32", true)}
${storageDecl(2, "pos", "u32", true)}
${paramsDecl()}
${ENCODE[t]}
${ROW_HEAD}
  let r = g / p;
  let q = g % p;
  if (q < n) {
    keys[g] = enc(x[(r / inner) * n * inner + r % inner + q * inner]);
  } else {
    keys[g] = 0xffffffffu;
  }
  pos[g] = q;
}`,
  );

/** Params: [rows·p/2, p, k, j]: one compare-exchange of stage (k, j) per invocation. */
const STAGE = `${storageDecl(0, "keys", "u32", true)}
${storageDecl(1, "pos", "u32", true)}
${paramsDecl()}
${HEAD}
  let k = prm(2u);
  let j = prm(3u);
  let half = p / 2u;
  let u = g % half;
  let i = (u / j) * 2u * j + u % j;
  let a = (g / half) * p + i;
  let b = a + j;
  let ka = keys[a];
  let kb = keys[b];
  let pa = pos[a];
  let pb = pos[b];
  let after = ka > kb || (ka == kb && pa > pb);
  if (after == ((i & k) == 0u)) {
    keys[a] = kb;
    keys[b] = ka;
    pos[a] = pb;
    pos[b] = pa;
  }
}`;

/** Params: [rows·n, p, n, inner]: the first n positions of each padded row, as int32 indices. */
const OUTPUT = `${storageDecl(0, "pos", "u32", false)}
${storageDecl(1, "out", "i32", true)}
${paramsDecl()}
${ROW_HEAD}
  let r = g / n;
  let q = g % n;
  out[(r / inner) * n * inner + r % inner + q * inner] = i32(pos[r * p + q]);
}`;

/** Writes into `out` (int32, x's shape) the stable ascending order of each row of x's [outer, n, inner] view. */
export function argsort(x: GpuArray, out: GpuArray, outer: number, n: number, inner: number, dtype: DType): void {
  const rows = outer * inner;
  if (rows === 0 || n === 0) return;
  const ctx = out.backend.ctx;
  let p = 1;
  while (p < n) p *= 2;
  const keys = empty(out.backend, { shape: [rows * p], dtype: "uint32" }),
    pos = empty(out.backend, { shape: [rows * p], dtype: "uint32" });
  ctx.dispatch(
    initSource(wgslType(dtype, "argsort")),
    [x.bind("argsort"), keys.bind("argsort"), pos.bind("argsort")],
    [rows * p, p, n, inner],
    Math.ceil((rows * p) / WG),
  );
  const pairs = (rows * p) / 2;
  for (let k = 2; k <= p; k *= 2) {
    for (let j = k / 2; j >= 1; j /= 2) ctx.dispatch(STAGE, [keys.bind("argsort"), pos.bind("argsort")], [pairs, p, k, j], Math.ceil(pairs / WG));
  }
  ctx.dispatch(OUTPUT, [pos.bind("argsort"), out.bind("argsort")], [rows * n, p, n, inner], Math.ceil((rows * n) / WG));
  keys.dispose();
  pos.dispose();
}
