/**
 * NumPy indexing (`x.index(...)`) and JAX's functional updates (`x.at(...).set(v)` and friends).
 *
 * An index is a list of specs, one per consumed dim: a JS integer (negative counts from the end),
 * a slice (`np.s(start, stop, step)` or the string `"1:5:2"`, parsed into numbers here — no text
 * reaches generated code), `null` for a new axis, `"..."` for as many full slices as needed, and
 * advanced indices: int32 arrays (broadcast together) and concrete bool masks (their nonzero
 * positions). Basic specs lower to `rev`/`slice`/`reshape`. Advanced ones follow NumPy's placement
 * rule (the broadcast index dims replace the indexed dims where those are adjacent, else go
 * first) and lower to ONE `gather`: the indexed dims are moved to the front and flattened, and the
 * index arrays are linearised into one flat index (each clamped into its own dim first, as JAX
 * clamps out-of-range gathers). So the gradient is one `scatter_add`, and batching is gather's.
 *
 * Updates index an iota of x's positions with the same specs, then scatter into the flat x; an
 * out-of-range array index is dropped there (as JAX drops out-of-bounds updates).
 */
import { ArgumentError, ConcretizationError, DTypeError, ShapeError, describe, naming } from "../core/errors.js";
import * as lax from "../core/lax.js";
import { ConcreteArray, NDArray } from "../core/ndarray.js";
import type { ScatterOp } from "../core/prim.js";
import { broadcastShapes, fmtShape, range, sizeOf } from "../core/shape.js";
import { type ArrayLike, type Nested, array, asArray } from "./base.js";

/** A slice `start:stop:step` with NumPy's defaults and negative values; build it with `np.s`. */
export class Slice {
  constructor(
    readonly start: number | null = null,
    readonly stop: number | null = null,
    readonly step: number | null = null,
  ) {}
  toString(): string {
    const f = (v: number | null) => (v === null ? "" : String(v));
    return `${f(this.start)}:${f(this.stop)}${this.step === null ? "" : `:${this.step}`}`;
  }
}

/**
 * A slice spec, NumPy's `start:stop:step` (JAX's `x[1:5:2]`): `x.index(np.s(1, 5, 2))`.
 * Omitted or `null` bounds take NumPy's defaults; steps may be negative.
 * @example x.index(np.s(null, null, -1)) // x[::-1]
 */
export function s(start: number | null = null, stop: number | null = null, step: number | null = null): Slice {
  for (const [name, v] of [
    ["start", start],
    ["stop", stop],
    ["step", step],
  ] as const)
    if (v !== null && !Number.isSafeInteger(v)) throw new ArgumentError(`np.s: ${name} must be an integer or null, got ${describe(v)}`);
  if (step === 0) throw new ArgumentError("np.s: step must not be 0");
  return new Slice(start, stop, step);
}

/** The ellipsis marker (NumPy's `...`): `x.index(np.ellipsis, 0)` is `x[..., 0]`. */
export const ellipsis = "...";

/** One index spec of `x.index` / `x.at`. */
export type IndexSpec = number | Slice | string | null | NDArray | Nested[];

type Entry =
  | { k: "int"; i: number; dim: number }
  | { k: "slice"; start: number; len: number; step: number; dim: number }
  | { k: "new" }
  | { k: "arr"; a: NDArray; dim: number };

const SLICE_TEXT = /^\s*(-?\d+)?\s*:\s*(-?\d+)?\s*(?::\s*(-?\d+)?\s*)?$/;

function parseSlice(fn: string, text: string): Slice {
  const m = SLICE_TEXT.exec(text);
  if (m === null)
    throw new ArgumentError(
      `${fn}: cannot read the index string ${describe(text)}; write a slice as "start:stop:step" (each part optional) or "..."`,
    );
  const num = (v: string | undefined) => (v === undefined ? null : Number(v));
  return s(num(m[1]), num(m[2]), num(m[3]));
}

/** A slice's first index, length and step on a dim of size n (Python's slice.indices). */
function sliceOf(sl: Slice, n: number): { start: number; len: number; step: number } {
  const step = sl.step ?? 1;
  const norm = (v: number, lo: number, hi: number) => Math.min(Math.max(v < 0 ? v + n : v, lo), hi);
  if (step > 0) {
    const start = sl.start === null ? 0 : norm(sl.start, 0, n);
    const stop = sl.stop === null ? n : norm(sl.stop, 0, n);
    return { start, len: Math.max(0, Math.ceil((stop - start) / step)), step };
  }
  const start = sl.start === null ? n - 1 : norm(sl.start, -1, n - 1);
  const stop = sl.stop === null ? -1 : norm(sl.stop, -1, n - 1);
  return { start, len: Math.max(0, Math.ceil((start - stop) / -step)), step };
}

/** A JS list index as an array; a bool array as the int32 arrays of its nonzero positions. */
function advanced(fn: string, spec: NDArray | Nested[]): NDArray[] {
  const isBool = (v: Nested): boolean => (Array.isArray(v) ? v.length > 0 && isBool(v[0]!) : typeof v === "boolean");
  const a = spec instanceof NDArray ? spec : array(spec as Nested, { dtype: isBool(spec as Nested) ? "bool" : "int32" });
  if (a.dtype === "int32") return [a];
  if (a.dtype !== "bool")
    throw new DTypeError(`${fn}: index arrays must be int32 or bool, got ${a.dtype}${fmtShape(a.shape)}; convert with .astype("int32")`);
  if (a.ndim === 0) throw new ArgumentError(`${fn}: a 0-d bool index is not supported; use np.where(cond, x, y)`);
  if (!(a instanceof ConcreteArray))
    throw new ConcretizationError(
      `${fn}: a boolean mask that is a traced value (bool${fmtShape(a.shape)}) gives a result whose shape depends on its values; ` +
        `use np.where(mask, x, other) to select, or pass a concrete mask`,
    );
  const hits: number[][] = a.shape.map(() => []);
  const strides = a.shape.map((_, d) => sizeOf(a.shape.slice(d + 1)));
  a.values.forEach((v, flat) => {
    if (v) strides.forEach((st, d) => hits[d]!.push(Math.floor(flat / st) % a.shape[d]!));
  });
  return hits.map((h) => new ConcreteArray(Int32Array.from(h), [h.length], "int32"));
}

/** Specs resolved against `shape`: one entry per spec, ellipsis expanded, static ints checked. */
function entries(fn: string, shape: readonly number[], specs: readonly IndexSpec[]): Entry[] {
  type Raw = { k: "int"; i: number } | { k: "slice"; sl: Slice } | { k: "new" } | { k: "arr"; a: NDArray } | { k: "ell" };
  const raw: Raw[] = [];
  for (const sp of specs) {
    if (sp === null) raw.push({ k: "new" });
    else if (sp === ellipsis) raw.push({ k: "ell" });
    else if (typeof sp === "number") {
      if (!Number.isSafeInteger(sp)) throw new ArgumentError(`${fn}: an integer index must be a whole number, got ${sp}`);
      raw.push({ k: "int", i: sp });
    } else if (typeof sp === "string") raw.push({ k: "slice", sl: parseSlice(fn, sp) });
    else if (sp instanceof Slice) raw.push({ k: "slice", sl: sp });
    else if (sp instanceof NDArray || Array.isArray(sp)) for (const a of advanced(fn, sp)) raw.push({ k: "arr", a });
    else
      throw new ArgumentError(
        `${fn}: cannot index with ${describe(sp)}; use integers, np.s(...) slices, "a:b:c" strings, null, "..." or int32/bool arrays`,
      );
  }
  const used = raw.filter((r) => r.k !== "new" && r.k !== "ell").length;
  const ells = raw.filter((r) => r.k === "ell").length;
  if (ells > 1) throw new ArgumentError(`${fn}: an index can have only one ellipsis ("..."), got ${ells}`);
  if (used > shape.length)
    throw new ShapeError(`${fn}: too many indices for an array of shape ${fmtShape(shape)}: ${used} dims indexed, ${shape.length} present`);
  const full = (): Raw => ({ k: "slice", sl: new Slice() });
  const at = raw.findIndex((r) => r.k === "ell");
  const fill = Array.from({ length: shape.length - used }, full);
  const expanded = at < 0 ? [...raw, ...fill] : [...raw.slice(0, at), ...fill, ...raw.slice(at + 1)];
  let dim = 0;
  return expanded.map((r): Entry => {
    if (r.k === "new") return { k: "new" };
    const d = dim++;
    const n = shape[d]!;
    if (r.k === "int") {
      if (r.i < -n || r.i >= n) throw new ShapeError(`${fn}: index ${r.i} is out of bounds for axis ${d} with size ${n} (shape ${fmtShape(shape)})`);
      return { k: "int", i: r.i < 0 ? r.i + n : r.i, dim: d };
    }
    if (r.k === "slice") return { k: "slice", ...sliceOf(r.sl, n), dim: d };
    return { k: "arr", a: (r as { a: NDArray }).a, dim: d };
  });
}

/** The result of an index: the array, and (for advanced indices) where the index dims sit and which index points are in range. */
interface Indexed {
  out: NDArray;
  valid: NDArray | null;
  at: number;
}

function apply(fn: string, x: NDArray, es: Entry[]): Indexed {
  const hasArr = es.some((e) => e.k === "arr");
  // Basic part: rev negative-step dims, then one strided slice (ints keep one element unless advanced).
  const revAxes = es.flatMap((e) => (e.k === "slice" && e.step < 0 && e.len > 0 ? [e.dim] : []));
  const start = x.shape.map(() => 0),
    limit = x.shape.slice(),
    step = x.shape.map(() => 1);
  for (const e of es) {
    if (e.k === "slice") {
      const n = x.shape[e.dim]!;
      const from = e.step < 0 && e.len > 0 ? n - 1 - e.start : e.len > 0 ? e.start : 0;
      start[e.dim] = from;
      limit[e.dim] = e.len > 0 ? from + (e.len - 1) * Math.abs(e.step) + 1 : 0;
      step[e.dim] = Math.abs(e.step);
    } else if (e.k === "int" && !hasArr) {
      start[e.dim] = e.i;
      limit[e.dim] = e.i + 1;
    }
  }
  let y = lax.slice(lax.rev(x, revAxes), start, limit, step);
  const nonAdv = es.filter((e) => e.k === "slice" || e.k === "new");
  if (!hasArr) {
    const shape = es.flatMap((e) => (e.k === "slice" ? [e.len] : e.k === "new" ? [1] : []));
    return { out: lax.reshape(y, shape), valid: null, at: 0 };
  }
  // Advanced part: ints are 0-d index arrays; all index arrays broadcast to one shape B.
  const adv = es.filter((e): e is Extract<Entry, { dim: number }> => e.k === "arr" || e.k === "int");
  const arrs = adv.map((e) => (e.k === "int" ? lax.scalar(e.i, "int32") : (e as { a: NDArray }).a));
  const B = arrs.reduce<number[]>((acc, a) => broadcastShapes(`${fn} (index arrays)`, acc, a.shape), []);
  let flat: NDArray = lax.full(B, 0, "int32");
  let valid: NDArray = lax.full(B, 1, "bool");
  let stride = 1;
  for (let k = adv.length - 1; k >= 0; k--) {
    const n = y.shape[adv[k]!.dim]!;
    const a = lax.broadcastTo(arrs[k]!, B);
    const c = (v: number) => lax.fill(a, v);
    valid = lax.and(valid, lax.and(lax.ge(a, c(-n)), lax.lt(a, c(n))));
    const wrapped = lax.selectN(lax.lt(a, c(0)), a, lax.add(a, c(n)));
    const clamped = lax.min(lax.max(wrapped, c(0)), c(Math.max(n - 1, 0)));
    flat = lax.add(flat, stride === 1 ? clamped : lax.mul(clamped, c(stride)));
    stride *= n;
  }
  const advDims = adv.map((e) => e.dim);
  const rest = range(y.ndim).filter((d) => !advDims.includes(d));
  y = lax.transpose(y, [...advDims, ...rest]);
  y = lax.reshape(y, [stride, ...y.shape.slice(advDims.length)]);
  let g = lax.gather(y, flat, 0);
  // NumPy's placement: adjacent advanced entries put B where they stand, otherwise first.
  const positions = es.flatMap((e, i) => (e.k === "arr" || e.k === "int" ? [i] : []));
  const adjacent = positions.every((p, i) => i === 0 || p === positions[i - 1]! + 1);
  const p = adjacent ? es.slice(0, positions[0]).filter((e) => e.k === "slice" || e.k === "new").length : 0;
  const ps = nonAdv.slice(0, p).filter((e) => e.k === "slice").length;
  const nb = B.length,
    nr = rest.length;
  g = lax.transpose(g, [...range(ps).map((i) => nb + i), ...range(nb), ...range(nr - ps).map((i) => nb + ps + i)]);
  const dims = nonAdv.map((e) => (e.k === "slice" ? e.len : 1));
  return { out: lax.reshape(g, [...dims.slice(0, p), ...B, ...dims.slice(p)]), valid, at: p };
}

/**
 * NumPy indexing, `x[specs]`: integers, slices, `null`, `"..."`, int32 arrays and concrete bool
 * masks (see the module header). Works under every transform; traced int32 index arrays are fine.
 * @example x.index(0, np.s(1, null), null) // x[0, 1:, None]
 */
export function index(x: ArrayLike, ...specs: IndexSpec[]): NDArray {
  const a = asArray("index", x, undefined, "x");
  return naming("index", () => apply("index", a, entries("index", a.shape, specs)).out);
}

/** Whether NumPy broadcasting takes `from` to exactly `to`. */
function broadcastsTo(from: readonly number[], to: readonly number[]): boolean {
  const lead = to.length - from.length;
  return lead >= 0 && from.every((n, d) => n === 1 || n === to[d + lead]);
}

function iota(shape: readonly number[]): NDArray {
  const v = new Int32Array(sizeOf(shape));
  for (let i = 0; i < v.length; i++) v[i] = i;
  return new ConcreteArray(v, shape.slice(), "int32");
}

/**
 * JAX's `x.at[idx]`: functional updates at the positions `x.index(...specs)` selects. Each method
 * returns a new array. Repeated positions: `add` and `mul` accumulate every update; `set` keeps one
 * of them (the last in row-major order of the index, on every backend); `min`/`max` fold all of
 * them, and their derivative at a tie is split evenly among the tied values (operand included).
 * Updates are cast to x's dtype and broadcast to the indexed shape. An out-of-range array index
 * is dropped (an out-of-range JS integer is a ShapeError).
 */
export class AtIndexer {
  constructor(
    private readonly x: NDArray,
    private readonly specs: readonly IndexSpec[],
  ) {}

  /** `x.at[idx].get()`: the same as `x.index(...idx)`. */
  get(): NDArray {
    return index(this.x, ...this.specs);
  }
  /** Replaces the selected elements by `v`. */
  set(v: ArrayLike): NDArray {
    return this.update("set", v);
  }
  /** Adds `v` at the selected elements (repeated positions accumulate). */
  add(v: ArrayLike): NDArray {
    return this.update("add", v);
  }
  /** Multiplies the selected elements by `v` (repeated positions multiply every update in). */
  mul(v: ArrayLike): NDArray {
    return this.update("mul", v);
  }
  /** The elementwise minimum of the selected elements and `v`. */
  min(v: ArrayLike): NDArray {
    return this.update("min", v);
  }
  /** The elementwise maximum of the selected elements and `v`. */
  max(v: ArrayLike): NDArray {
    return this.update("max", v);
  }

  private update(op: ScatterOp | "add", v: ArrayLike): NDArray {
    const fn = `at().${op}`;
    return naming(fn, () => this.run(fn, op, v));
  }

  private run(fn: string, op: ScatterOp | "add", v: ArrayLike): NDArray {
    const x = this.x;
    const { out: pos, valid, at } = apply(fn, iota(x.shape), entries(fn, x.shape, this.specs));
    let u = lax.convert(asArray(fn, v, x.dtype, "v"), x.dtype);
    if (!broadcastsTo(u.shape, pos.shape))
      throw new ShapeError(
        `${fn}: updates of shape ${fmtShape(u.shape)} do not broadcast to the indexed shape ${fmtShape(pos.shape)} of x ${fmtShape(x.shape)}`,
      );
    u = lax.broadcastTo(u, pos.shape.slice());
    let idx = pos;
    const ok =
      valid === null
        ? null
        : lax.broadcastInDim(
            valid,
            pos.shape.slice(),
            range(valid.ndim).map((d) => d + at),
          );
    const flatX = lax.reshape(x, [x.size]);
    const flatN = (a: NDArray) => lax.reshape(a, [a.size]);
    let out: NDArray;
    if (op === "add") {
      if (ok !== null) u = lax.selectN(ok, lax.fill(u, 0), u);
      out = lax.scatterAdd(flatX, flatN(idx), flatN(u), 0);
    } else {
      if (ok !== null) idx = lax.selectN(ok, lax.fill(idx, -1), idx);
      out = lax.scatter(flatX, flatN(idx), flatN(u), 0, op);
    }
    return lax.reshape(out, x.shape.slice());
  }
}

/** `x.at(...specs)`: an `AtIndexer` for functional updates. */
export function at(x: NDArray, ...specs: IndexSpec[]): AtIndexer {
  return new AtIndexer(x, specs);
}
