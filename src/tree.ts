/**
 * Pytrees: nested arrays/tuples, plain objects (keys sorted) and registered node types, with
 * `NDArray`s, numbers and any other value as leaves; `null`/`undefined` are empty nodes.
 * `flatten` gives the leaves and a `TreeDef` whose string form is canonical (equal structures
 * print equally), so it can key caches. Everything here is iterative-free of user recursion limits
 * only in depth of nesting, which user trees keep small.
 */
import { ArgumentError, describe, naming } from "./core/errors.js";
import { NDArray } from "./core/ndarray.js";

/** How a custom node type is taken apart and put back together. */
export interface NodeType<T> {
  /** Children (themselves trees) and static auxiliary data that must match for equal structure. */
  flatten(x: T): [children: unknown[], aux: unknown];
  unflatten(aux: unknown, children: unknown[]): T;
}

/** A class, by its constructor. */
type Constructor = abstract new (...args: never[]) => unknown;

const registry = new Map<Constructor, { name: string; type: NodeType<unknown> }>();

/** Registers a class as a pytree node, so transforms see through its instances. */
export function registerNode<T>(cls: new (...args: never[]) => T, name: string, type: NodeType<T>): void {
  if (typeof cls !== "function") throw new ArgumentError(`tree.registerNode: cls must be a class, got ${describe(cls)}`);
  if (typeof name !== "string" || name === "") throw new ArgumentError(`tree.registerNode: name must be a non-empty string, got ${describe(name)}`);
  if (typeof type !== "object" || type === null || typeof type.flatten !== "function" || typeof type.unflatten !== "function") {
    throw new ArgumentError(`tree.registerNode: type must be an object with flatten and unflatten functions, got ${describe(type)}`);
  }
  for (const [other, entry] of registry) {
    if (entry.name === name && other !== cls) {
      throw new ArgumentError(
        `tree.registerNode: the name ${JSON.stringify(name)} is already registered for class ${other.name || "(anonymous)"}; names key the tree structure, so pick a distinct one`,
      );
    }
  }
  if (registry.has(cls))
    throw new ArgumentError(
      `tree.registerNode: class ${cls.name || "(anonymous)"} is already registered as ${JSON.stringify(registry.get(cls)!.name)}`,
    );
  registry.set(cls, { name, type: type as NodeType<unknown> });
}

type Kind = "leaf" | "null" | "undefined" | "array" | "object" | "custom";

/** The structure of a pytree, without its leaves. */
export class TreeDef {
  constructor(
    readonly kind: Kind,
    readonly children: readonly TreeDef[] = [],
    /** Object keys, or a custom node's name and aux data. */
    readonly meta: unknown = undefined,
    readonly numLeaves: number = kind === "leaf" ? 1 : children.reduce((n, c) => n + c.numLeaves, 0),
  ) {}

  toString(): string {
    switch (this.kind) {
      case "leaf":
        return "*";
      case "null":
        return "null";
      case "undefined":
        return "undefined";
      case "array":
        return `[${this.children.join(",")}]`;
      case "object": {
        const keys = this.meta as string[];
        return `{${keys.map((k, i) => `${JSON.stringify(k)}:${this.children[i]}`).join(",")}}`;
      }
      case "custom": {
        const [name, aux] = this.meta as [string, unknown];
        let shown: string;
        try {
          shown = JSON.stringify(aux) ?? String(aux);
        } catch {
          throw new ArgumentError(
            `tree: the aux data of node type ${JSON.stringify(name)} cannot be written as JSON (it keys the structure); use numbers, strings and plain lists/objects`,
          );
        }
        return `${name}(${shown})[${this.children.join(",")}]`;
      }
    }
  }

  /** The number of nodes, leaves and empty nodes included (JAX's `num_nodes`). */
  get numNodes(): number {
    return 1 + this.children.reduce((n, c) => n + c.numNodes, 0);
  }

  /** The structures of this node's children (JAX's `treedef_children`). */
  childDefs(): TreeDef[] {
    return this.children.slice();
  }

  /** Whether this is the structure of a single leaf. */
  get isLeaf(): boolean {
    return this.kind === "leaf";
  }

  equals(other: TreeDef): boolean {
    if (!(other instanceof TreeDef)) throw new ArgumentError(`TreeDef.equals: other must be a TreeDef from tree.flatten, got ${describe(other)}`);
    return this.toString() === other.toString();
  }
}

const isPlainObject = (x: unknown): x is Record<string, unknown> => {
  if (typeof x !== "object" || x === null) return false;
  const proto = Object.getPrototypeOf(x);
  return proto === Object.prototype || proto === null;
};

/** Leaves in order (depth-first, object keys sorted) and the tree's structure. */
export function flatten(tree: unknown): [unknown[], TreeDef] {
  const leaves: unknown[] = [];
  /** Nodes on the path from the root: meeting one again means the tree contains itself. */
  const path = new Set<unknown>();
  const enter = (x: object, make: () => TreeDef): TreeDef => {
    if (path.has(x)) throw new ArgumentError("tree.flatten: the tree contains itself (a cyclic reference); pytrees must be finite trees");
    if (path.size >= 256) throw new ArgumentError("tree.flatten: the tree is nested deeper than 256 levels");
    path.add(x);
    try {
      return make();
    } finally {
      path.delete(x);
    }
  };
  const walk = (x: unknown): TreeDef => {
    if (x === null) return new TreeDef("null");
    if (x === undefined) return new TreeDef("undefined");
    if (Array.isArray(x)) return enter(x, () => new TreeDef("array", Array.from(x, walk)));
    if (x instanceof NDArray || typeof x !== "object") {
      leaves.push(x);
      return new TreeDef("leaf");
    }
    const custom = registry.get((x as object).constructor as Constructor);
    if (custom !== undefined) {
      return enter(x, () => {
        const flat = custom.type.flatten(x);
        if (!Array.isArray(flat) || !Array.isArray(flat[0])) {
          throw new ArgumentError(
            `tree.flatten: the flatten of node type ${JSON.stringify(custom.name)} must return [children array, aux], got ${describe(flat)}`,
          );
        }
        return new TreeDef("custom", flat[0].map(walk), [custom.name, flat[1]]);
      });
    }
    if (isPlainObject(x)) {
      const keys = Object.keys(x).sort();
      return enter(
        x,
        () =>
          new TreeDef(
            "object",
            keys.map((k) => walk(x[k])),
            keys,
          ),
      );
    }
    leaves.push(x);
    return new TreeDef("leaf");
  };
  const def = walk(tree);
  return [leaves, def];
}

/** Rebuilds a tree of structure `def` from `leaves`. */
export function unflatten(def: TreeDef, leaves: readonly unknown[]): any {
  if (!(def instanceof TreeDef)) throw new ArgumentError(`tree.unflatten: def must be a TreeDef from tree.flatten, got ${describe(def)}`);
  if (!Array.isArray(leaves)) throw new ArgumentError(`tree.unflatten: leaves must be an array, got ${describe(leaves)}`);
  if (leaves.length !== def.numLeaves) {
    throw new ArgumentError(`tree.unflatten: the structure ${def} has ${def.numLeaves} leaves but ${leaves.length} were given`);
  }
  return build(def, leaves, { pos: 0 });
}

/**
 * The tree of structure `d` over `leaves` from `at.pos` on (advanced past the leaves used). A
 * module-level function, not a closure per call: a jitted call unflattens its outputs every time.
 */
function build(d: TreeDef, leaves: readonly unknown[], at: { pos: number }): unknown {
  switch (d.kind) {
    case "leaf":
      return leaves[at.pos++];
    case "null":
      return null;
    case "undefined":
      return undefined;
    case "array": {
      const out = new Array<unknown>(d.children.length);
      for (let i = 0; i < out.length; i++) out[i] = build(d.children[i]!, leaves, at);
      return out;
    }
    case "object": {
      const keys = d.meta as string[];
      const out: Record<string, unknown> = {};
      for (let i = 0; i < keys.length; i++) out[keys[i]!] = build(d.children[i]!, leaves, at);
      return out;
    }
    case "custom": {
      const [name, aux] = d.meta as [string, unknown];
      const entry = [...registry.values()].find((e) => e.name === name)!;
      const children = new Array<unknown>(d.children.length);
      for (let i = 0; i < children.length; i++) children[i] = build(d.children[i]!, leaves, at);
      return entry.type.unflatten(aux, children);
    }
  }
}

/** Applies `fn` to corresponding leaves of trees with the structure of the first. */
export function map(fn: (...leaves: any[]) => unknown, tree: unknown, ...rest: unknown[]): any {
  if (typeof fn !== "function") throw new ArgumentError(`tree.map: fn must be a function, got ${describe(fn)}`);
  const [leaves, def] = naming("tree.map", () => flatten(tree));
  const others = rest.map((t, i) => {
    const [ls, d] = flatten(t);
    if (!d.equals(def)) throw new ArgumentError(`tree.map: tree ${i + 1} has structure ${d} but the first has ${def}`);
    return ls;
  });
  return unflatten(
    def,
    leaves.map((l, i) => fn(l, ...others.map((o) => o[i]))),
  );
}

/** The leaves of a tree. */
export function leaves(tree: unknown): unknown[] {
  return naming("tree.leaves", () => flatten(tree)[0]);
}

/** The structure of a tree (its `TreeDef`), without the leaves. */
export function structure(tree: unknown): TreeDef {
  return naming("tree.structure", () => flatten(tree)[1]);
}

/**
 * Folds `fn` over the leaves in order: `fn(fn(initial, l0), l1)…`; without `initial` the first
 * leaf starts (an empty tree is then an error), as JAX's `tree_reduce`.
 */
export function reduce<A>(fn: (acc: A, leaf: any) => A, tree: unknown, ...initial: [A] | []): A {
  if (typeof fn !== "function") throw new ArgumentError(`tree.reduce: fn must be a function, got ${describe(fn)}`);
  const ls = leaves(tree);
  if (initial.length === 0) {
    if (ls.length === 0) throw new ArgumentError("tree.reduce: the tree has no leaves and no initial value was given; pass one");
    return ls.slice(1).reduce((a: A, l) => fn(a, l), ls[0] as A);
  }
  return ls.reduce((a: A, l) => fn(a, l), initial[0]);
}

/**
 * Whether every leaf is truthy, as JAX's `tree_all`: a one-element array counts by its value
 * (nonzero); a larger array is ambiguous, as in NumPy (reduce it with np.all first).
 */
export function all(tree: unknown): boolean {
  return naming("tree.all", () =>
    leaves(tree).every((l) => {
      if (!(l instanceof NDArray)) return Boolean(l);
      if (l.size !== 1)
        throw new ArgumentError(`tree.all: the truth of a leaf of shape [${l.shape}] is ambiguous; reduce it first (tree.map(np.all, tree))`);
      return Number(l.item()) !== 0;
    }),
  );
}

/** A key on the path to a leaf: an array index, an object key, or a custom node's child index. */
export type PathKey = number | string;

/** The paths of `def`'s leaves, in leaf order. */
function pathsOf(def: TreeDef): PathKey[][] {
  const out: PathKey[][] = [];
  const walk = (d: TreeDef, path: PathKey[]): void => {
    if (d.kind === "leaf") out.push(path);
    const keys = d.kind === "object" ? (d.meta as string[]) : null;
    d.children.forEach((c, i) => walk(c, [...path, keys === null ? i : keys[i]!]));
  };
  walk(def, []);
  return out;
}

/**
 * Leaves with their paths (lists of keys from the root: indices for arrays and custom nodes,
 * keys for objects), and the structure, as JAX's `tree_flatten_with_path`.
 */
export function flattenWithPath(tree: unknown): [[PathKey[], unknown][], TreeDef] {
  const [ls, def] = naming("tree.flattenWithPath", () => flatten(tree));
  const paths = pathsOf(def);
  return [ls.map((l, i) => [paths[i]!, l]), def];
}

/** `map` whose function also receives each leaf's path first: `fn(path, leaf, ...others)`. */
export function mapWithPath(fn: (path: PathKey[], ...leaves: any[]) => unknown, tree: unknown, ...rest: unknown[]): any {
  if (typeof fn !== "function") throw new ArgumentError(`tree.mapWithPath: fn must be a function, got ${describe(fn)}`);
  const paths = pathsOf(naming("tree.mapWithPath", () => flatten(tree))[1]);
  let i = 0;
  return naming("tree.mapWithPath", () => map((...ls: unknown[]) => fn(paths[i++]!, ...ls), tree, ...rest));
}

/**
 * Swaps the two levels of a tree whose structure is `outer` with a tree of structure `inner` at
 * each leaf: the result has structure `inner` with an `outer` tree at each leaf (JAX's
 * `tree_transpose`), e.g. a list of `{ w, b }` becomes `{ w: list, b: list }`.
 */
export function transpose(outer: TreeDef, inner: TreeDef, tree: unknown): any {
  const fn = "tree.transpose";
  if (!(outer instanceof TreeDef) || !(inner instanceof TreeDef)) {
    throw new ArgumentError(`${fn}: outer and inner must be TreeDefs (from tree.structure), got ${describe(outer)}, ${describe(inner)}`);
  }
  const [ls, def] = naming(fn, () => flatten(tree));
  const no = outer.numLeaves,
    ni = inner.numLeaves;
  const groups = Array.from({ length: no }, (_, k) => ls.slice(k * ni, (k + 1) * ni));
  const expected =
    ls.length === no * ni
      ? flatten(
          unflatten(
            outer,
            groups.map((g) => unflatten(inner, g)),
          ),
        )[1]
      : null;
  if (expected === null || !expected.equals(def)) {
    throw new ArgumentError(`${fn}: the tree has structure ${def}, not ${outer} with ${inner} at each leaf`);
  }
  return unflatten(
    inner,
    Array.from({ length: ni }, (_, j) =>
      unflatten(
        outer,
        groups.map((g) => g[j]),
      ),
    ),
  );
}

/**
 * Expands a prefix tree `prefix` of `full`'s structure to one value per leaf of `full`: a prefix
 * leaf applies to the whole subtree under it. Used for vmap's inAxes/outAxes.
 */
export function broadcastPrefix(fn: string, what: string, prefix: unknown, full: unknown): unknown[] {
  const out: unknown[] = [];
  const walk = (p: unknown, f: unknown): void => {
    const [fl, fdef] = flatten(f);
    if (p === null || typeof p !== "object" || fdef.kind === "leaf") {
      for (let i = 0; i < fl.length; i++) out.push(p);
      return;
    }
    if (Array.isArray(p) && Array.isArray(f) && p.length === f.length) {
      p.forEach((pc, i) => walk(pc, f[i]));
      return;
    }
    if (isPlainObject(p) && isPlainObject(f) && Object.keys(p).sort().join() === Object.keys(f).sort().join()) {
      for (const k of Object.keys(f).sort()) walk(p[k], f[k]);
      return;
    }
    throw new ArgumentError(`${fn}: ${what} ${describe(p)} is not a tree prefix of the value's structure ${fdef}`);
  };
  walk(prefix, full);
  return out;
}
