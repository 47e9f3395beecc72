/**
 * Pytree types for the public signatures: mapped types that say what a transform or control-flow
 * op returns for a function's declared parameter and return types. Types only (no runtime code),
 * so every layer may import it.
 */
import type { NDArray } from "./core/ndarray.js";
import type { PathKey, TreeDef, flatten, flattenWithPath, leaves, registerNode, structure } from "./tree.js";

/** Any function a transform accepts (every function type is assignable to it). */
export type Fn = (...args: never[]) => unknown;

/** True when T is `any` (a user's untyped function): results then stay as loose as the user's types. */
type IsAny<T> = 0 extends 1 & T ? true : false;

/**
 * T with every array, number or boolean leaf an `NDArray`, mapped through tuples, arrays and plain
 * objects: the type of tangents, cotangents, batched results and derivatives of a pytree of type T.
 * `null`, `undefined` and strings (empty nodes and static values) stay as they are; a type that
 * admits an `NDArray` (such as `ArrayLike`) is taken to be one.
 *
 * @example
 * type G = ArrayTree<{ w: NDArray; b: number }>; // { w: NDArray; b: NDArray }
 */
export type ArrayTree<T> = IsAny<T> extends true ? T : unknown extends T ? unknown : [NDArray] extends [T] ? NDArray : ArrayTreeOf<T>;

/** ArrayTree for each member of a union. */
type ArrayTreeOf<T> = T extends NDArray | number | boolean
  ? NDArray
  : T extends null | undefined | string
    ? T
    : T extends readonly unknown[]
      ? { -readonly [K in keyof T]: ArrayTree<T[K]> }
      : T extends object
        ? { -readonly [K in keyof T]: ArrayTree<T[K]> }
        : T;

/**
 * The arguments a transformed function accepts for f's parameter list P: a JS number wherever f
 * takes an `NDArray` (it becomes a weakly typed scalar).
 */
export type Inputs<P extends readonly unknown[]> = IsAny<P> extends true ? P : { [K in keyof P]: Input<P[K]> };

/** One parameter of Inputs. */
type Input<T> = IsAny<T> extends true ? T : T extends NDArray ? NDArray | number : T;

/** Which arguments to differentiate: one position, or a list of them. */
export type Argnums = number | readonly number[];

/** The arguments at `A` as array trees: one tree for a number, a tuple of them for a list. */
export type ArgsAt<P extends readonly unknown[], A extends Argnums> = A extends number
  ? ArrayTree<P[A]>
  : { -readonly [K in keyof A]: ArrayTree<P[A[K] & number]> };

/** The auxiliary output of a `hasAux` function returning `[value, aux]`. */
export type AuxOf<R> = R extends readonly [unknown, infer Aux] ? Aux : unknown;

/** A tree of the leaves of `Out`, each holding the tree `In` (the layout of jacfwd/jacrev results). */
export type Jacobian<Out, In> =
  IsAny<Out> extends true
    ? Out
    : Out extends NDArray | number | boolean
      ? In
      : Out extends null | undefined | string
        ? Out
        : Out extends readonly unknown[]
          ? { -readonly [K in keyof Out]: Jacobian<Out[K], In> }
          : Out extends object
            ? { -readonly [K in keyof Out]: Jacobian<Out[K], In> }
            : Out;

/** The leaf type of a pytree T (what `tree.map` hands its function). */
export type LeafOf<T> =
  IsAny<T> extends true
    ? T
    : T extends NDArray | number | boolean | null | undefined | string
      ? T
      : T extends readonly (infer E)[]
        ? LeafOf<E>
        : T extends object
          ? LeafOf<T[keyof T]>
          : T;

/** The pytree T with each leaf replaced by R (what `tree.map` returns). */
export type MapLeaves<T, R> =
  IsAny<T> extends true
    ? T
    : unknown extends T
      ? unknown
      : T extends NDArray | number | boolean | string
        ? R
        : T extends null | undefined
          ? T
          : T extends readonly unknown[]
            ? { -readonly [K in keyof T]: MapLeaves<T[K], R> }
            : T extends object
              ? { -readonly [K in keyof T]: MapLeaves<T[K], R> }
              : R;

/** The `tree` namespace: pytree utilities. */
export interface Tree {
  /** Leaves in order (depth-first, object keys sorted) and the tree's structure. */
  flatten: typeof flatten;
  /** Rebuilds a tree of structure `def` from `leaves`. */
  unflatten(def: TreeDef, leaves: readonly unknown[]): unknown;
  /** Applies `fn` to corresponding leaves of trees with the structure of the first. */
  map<T, R>(fn: (leaf: LeafOf<T>, ...rest: LeafOf<T>[]) => R, tree: T, ...rest: unknown[]): MapLeaves<T, R>;
  /** The leaves of a tree. */
  leaves: typeof leaves;
  /** Registers a class as a pytree node (see `registerNode` in the tree module). */
  registerNode: typeof registerNode;
  /** The structure of a tree (its `TreeDef`). */
  structure: typeof structure;
  /** Whether every leaf is truthy (a one-element array by its value). */
  all(tree: unknown): boolean;
  /** Folds `fn` over the leaves in order, from `initial` (or the first leaf). */
  reduce<A>(fn: (acc: A, leaf: unknown) => A, tree: unknown, ...initial: [A] | []): A;
  /** Swaps the levels of a tree of structure `outer` holding trees of structure `inner`. */
  transpose(outer: TreeDef, inner: TreeDef, tree: unknown): unknown;
  /** Leaves with their paths (lists of keys from the root), and the structure. */
  flattenWithPath: typeof flattenWithPath;
  /** `map` whose function receives each leaf's path first. */
  mapWithPath<T, R>(fn: (path: PathKey[], leaf: LeafOf<T>, ...rest: LeafOf<T>[]) => R, tree: T, ...rest: unknown[]): MapLeaves<T, R>;
}
