/**
 * fast-check arbitraries for fluxion values: shapes, pairs of shapes that broadcast, arrays of a
 * dtype whose values stay inside a smooth domain (bounded, away from given kinks, optionally spaced
 * apart so max/sort never tie), and pytrees of arrays. All shrink toward small shapes and simple
 * values. Options are validated and errors name the arbitrary, as fast-check's own factories do.
 */
import fc from "fast-check";
import { ArgumentError, type DType, type NDArray } from "../src/index.js";
import { fromHost } from "./numeric.js";
import { needArbitrary, needOptions } from "./validate.js";

export interface ShapeOptions {
  minRank?: number;
  maxRank?: number;
  minDim?: number;
  maxDim?: number;
  /** Largest number of elements (default: no bound beyond maxDim^maxRank). */
  maxSize?: number;
}

function check(fn: string, cond: boolean, msg: string): void {
  if (!cond) throw new ArgumentError(`laws.${fn}: ${msg}`);
}

/**
 * Shapes: lists of dims; shrinks toward rank `minRank` and dims of `minDim`.
 *
 * @example
 * fc.sample(shape({ minRank: 1, maxRank: 2, maxDim: 3 }), 3); // e.g. [[2], [3, 1], [1, 1]]
 */
export function shape(o: ShapeOptions = {}): fc.Arbitrary<number[]> {
  o = needOptions("laws.shape", o);
  const { minRank = 0, maxRank = 3, minDim = 1, maxDim = 4, maxSize = Infinity } = o;
  check(
    "shape",
    Number.isInteger(minRank) && Number.isInteger(maxRank) && 0 <= minRank && minRank <= maxRank,
    `needs integers 0 <= minRank <= maxRank, got ${minRank}, ${maxRank}`,
  );
  check(
    "shape",
    Number.isInteger(minDim) && Number.isInteger(maxDim) && 0 <= minDim && minDim <= maxDim,
    `needs integers 0 <= minDim <= maxDim, got ${minDim}, ${maxDim}`,
  );
  const arb = fc.array(fc.integer({ min: minDim, max: maxDim }), { minLength: minRank, maxLength: maxRank });
  return maxSize === Infinity ? arb : arb.filter((s) => s.reduce((a, b) => a * b, 1) <= maxSize);
}

/**
 * Two shapes that broadcast together (NumPy rules): drawn from one result shape by dropping
 * leading dims and setting dims to 1 in each.
 *
 * @example
 * fc.assert(fc.property(broadcastableShapes(), ([a, b]) => np.add(np.zeros(a), np.zeros(b)).ndim >= 0));
 */
export function broadcastableShapes(o: ShapeOptions = {}): fc.Arbitrary<[number[], number[]]> {
  o = needOptions("laws.broadcastableShapes", o);
  return shape(o).chain((s) => {
    const side = fc
      .tuple(fc.nat({ max: s.length }), fc.array(fc.boolean(), { minLength: s.length, maxLength: s.length }))
      .map(([drop, ones]) => s.slice(drop).map((n, d) => (ones[d + drop] ? 1 : n)));
    return fc.tuple(side, side);
  });
}

export interface ArrayOptions {
  /** A shape, or an arbitrary of shapes (default `shape()`). */
  shape?: readonly number[] | fc.Arbitrary<number[]>;
  /** Default float64; int32 and bool arrays are drawn without the float options. */
  dtype?: DType;
  /** Value range (default [-2, 2]). */
  min?: number;
  max?: number;
  /** Points to keep away from (kinks, poles), by `margin` (default 0.05): e.g. `avoid: [0]` for abs. */
  avoid?: readonly number[];
  margin?: number;
  /**
   * Elements at least this far apart (so max, min, sort and argmax never tie); values lie on a
   * grid of this spacing. Needs enough room in [min, max] for every element.
   */
  distinct?: number;
}

/**
 * Arrays of one dtype with values inside a domain; finite, no NaN.
 *
 * @example
 * array({ shape: [3], min: 0.1, max: 2 });           // inside log's domain
 * array({ dtype: "float32", avoid: [0] });            // away from abs/relu's kink
 * array({ shape: [4], distinct: 0.1 });               // no ties for np.max / np.argmax
 * array({ shape: [2], dtype: "int32", min: 0, max: 4 });
 */
export function array(o: ArrayOptions = {}): fc.Arbitrary<NDArray> {
  o = needOptions("laws.array", o);
  const { dtype = "float64", min = -2, max = 2, avoid = [], margin = 0.05, distinct } = o;
  check("array", Number.isFinite(min) && Number.isFinite(max) && min <= max, `min and max must be finite with min <= max, got ${min}, ${max}`);
  check("array", distinct === undefined || distinct > 0, `distinct must be a positive spacing, got ${distinct}`);
  const shapes = o.shape === undefined ? shape() : Array.isArray(o.shape) ? fc.constant(o.shape.slice()) : (o.shape as fc.Arbitrary<number[]>);
  return shapes.chain((s) => {
    const n = s.reduce((a, b) => a * b, 1);
    return elements(dtype, n, { min, max, avoid, margin, distinct }).map((v) => fromHost(v, s, dtype));
  });
}

function elements(
  dtype: DType,
  n: number,
  o: { min: number; max: number; avoid: readonly number[]; margin: number; distinct: number | undefined },
): fc.Arbitrary<number[]> {
  const len = { minLength: n, maxLength: n };
  if (dtype === "bool") return fc.array(fc.boolean().map(Number), len);
  if (dtype === "int32") return fc.array(fc.integer({ min: Math.ceil(o.min), max: Math.floor(o.max) }), len);
  if (o.distinct !== undefined) {
    const lo = Math.ceil(o.min / o.distinct),
      hi = Math.floor(o.max / o.distinct);
    check(
      "array",
      hi - lo + 1 >= n,
      `distinct spacing ${o.distinct} leaves room for ${hi - lo + 1} values in [${o.min}, ${o.max}], but the shape has ${n} elements`,
    );
    const far = (k: number) => o.avoid.every((a) => Math.abs(k * o.distinct! - a) >= o.margin);
    return fc.uniqueArray(fc.integer({ min: lo, max: hi }).filter(far), len).map((ks) => ks.map((k) => k * o.distinct!));
  }
  const value = fc
    .double({ min: o.min, max: o.max, noNaN: true, noDefaultInfinity: true })
    .filter((v) => o.avoid.every((a) => Math.abs(v - a) >= o.margin));
  return fc.array(value, len);
}

export interface PytreeOptions {
  /** Nesting depth of lists and objects (default 2). */
  maxDepth?: number;
  /** Children per node (default 3). */
  maxChildren?: number;
}

/**
 * Pytrees (nested lists and objects with keys a-d) whose leaves come from `leaf`.
 *
 * @example
 * const params = pytree(array({ shape: [2] }), { maxDepth: 2 }); // e.g. { a: [x, y], c: z }
 */
export function pytree<T>(leaf: fc.Arbitrary<T>, o: PytreeOptions = {}): fc.Arbitrary<unknown> {
  needArbitrary("laws.pytree", "leaf", leaf);
  o = needOptions("laws.pytree", o);
  const { maxDepth = 2, maxChildren = 3 } = o;
  const { node } = fc.letrec<{ node: unknown }>((tie) => ({
    node: fc.oneof(
      { maxDepth, depthIdentifier: "pytree" },
      leaf,
      fc.array(tie("node"), { maxLength: maxChildren, depthIdentifier: "pytree" }),
      fc.dictionary(fc.constantFrom("a", "b", "c", "d"), tie("node"), { maxKeys: maxChildren, depthIdentifier: "pytree", noNullPrototype: true }),
    ),
  }));
  return node;
}

/**
 * A float dtype.
 *
 * @example
 * floatDType().chain((dtype) => array({ dtype, shape: [3] }));
 */
export const floatDType = (): fc.Arbitrary<"float32" | "float64"> => fc.constantFrom("float64", "float32");
