/**
 * NDArray, the one array type users see, in two kinds: `ConcreteArray` (values in a typed array on
 * the CPU) and `Tracer` (a stand-in that an interpreter unpacks). Tags mark which transform a tracer
 * belongs to. The `np`-style methods (`x.add(y)`, `x.sum()`) are attached in `src/np/methods.ts`;
 * this module knows no operation and no interpreter.
 */
import { type DType, type TypedArray, SHORT, allocateUnfilled, dtypeOfTyped } from "./dtype.js";
import { ArgumentError, ConcretizationError } from "./errors.js";
import { type Shape, sizeOf } from "./shape.js";

/** Shape and dtype: what every interpreter knows of an array, even when its values are unknown. */
export interface Aval {
  readonly shape: Shape;
  readonly dtype: DType;
}

export function fmtAval(a: Aval): string {
  return `${SHORT[a.dtype]}[${a.shape.join(",")}]`;
}

/** Nested JS arrays of numbers, as returned by `tolist()`. */
export type NestedNumbers = number | NestedNumbers[];

export abstract class NDArray implements Aval {
  abstract readonly shape: number[];
  abstract readonly dtype: DType;

  get ndim(): number {
    return this.shape.length;
  }

  get size(): number {
    return sizeOf(this.shape);
  }

  /** Where the values live: "cpu", or a registered backend such as "webgpu". */
  get device(): string {
    return "cpu";
  }

  /** The concrete array behind this value; a tracer without one throws a ConcretizationError naming `fn`. */
  abstract toConcrete(fn: string): ConcreteArray;

  /** A copy of the values as a typed array (bool as Uint8Array), on a buffer of its own. */
  dataSync(): TypedArray {
    const values = this.toConcrete("dataSync").values;
    // An unfilled buffer and a copy beat slice(), which V8 zero-fills first.
    const copy = allocateUnfilled(dtypeOfTyped(values)!, values.length);
    copy.set(values as never);
    return copy;
  }

  /** The values as a typed array; works on every backend. */
  async data(): Promise<TypedArray> {
    return this.dataSync();
  }

  /** The values as nested JS arrays (a number for a scalar). */
  tolist(): NestedNumbers {
    const c = this.toConcrete("tolist");
    const vals = c.values;
    const shape = c.shape;
    if (shape.length === 0) return Number(vals[0]);
    let pos = 0;
    const build = (d: number): NestedNumbers[] => {
      const out: NestedNumbers[] = [];
      for (let i = 0; i < shape[d]!; i++) out.push(d === shape.length - 1 ? Number(vals[pos++]) : build(d + 1));
      return out;
    };
    return build(0);
  }

  /** The single element as a number. */
  item(): number {
    const c = this.toConcrete("item");
    if (c.size !== 1) {
      throw new ArgumentError(`item: array has shape [${c.shape.join(",")}] (${c.size} elements); item() needs exactly one`);
    }
    return Number(c.values[0]);
  }

  /** A scalar array in a JS comparison or arithmetic acts as its number (concrete values only). */
  [Symbol.toPrimitive](hint: string): number | string {
    if (hint === "string") return this.toString();
    return this.item();
  }

  toString(): string {
    return `NDArray(${fmtAval(this)})`;
  }
}

/** An array whose values live in a typed array on the CPU. Never mutated after construction. */
export class ConcreteArray extends NDArray {
  constructor(
    /**
     * Row-major values; never written after construction. Internal storage: its buffer may be shared
     * with other arrays (reshapes, scan slices, and the slabs small arrays are carved from), so
     * never transfer or detach it; `dataSync()` gives a copy of one's own.
     */
    readonly values: TypedArray,
    readonly shape: number[],
    readonly dtype: DType,
  ) {
    super();
  }

  toConcrete(): ConcreteArray {
    return this;
  }

  override toString(): string {
    return `array(${JSON.stringify(this.tolist())}, ${this.dtype})`;
  }
}

/** Identifies one application of a transform; dies when that transform returns. */
export class Tag {
  alive = true;
  constructor(readonly transform: string) {}
}

/** A value an interpreter stands in for. `tag` says which transform application owns it. */
export abstract class Tracer extends NDArray {
  abstract readonly tag: Tag;

  override toString(): string {
    return `Tracer<${this.tag.transform}>(${fmtAval(this)})`;
  }
}

/** The error for a JS comparison, `if` or `.item()` on a value that has no concrete number. */
export function concretizationError(fn: string, t: Tracer): ConcretizationError {
  return new ConcretizationError(
    `${fn}: a ${t.tag.transform} tracer (${fmtAval(t)}) has no concrete value here, so it cannot ` +
      `be used in a JS comparison, an if, or .item(); use np.where(cond, a, b) or lax.cond for ` +
      `value-dependent choices`,
  );
}
