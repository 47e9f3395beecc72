/**
 * Signature plans: the cached call of a jitted function checks its arguments against the plan of
 * a recent call (same containers, object keys, dtypes and shapes) in one walk that allocates only
 * the list of leaves, instead of flattening them into a TreeDef and building a string key. A plan
 * covers plain arrays, plain objects, null, undefined, arrays and JS number/boolean leaves; other
 * trees (custom nodes) always take the key path.
 */
import { NDArray } from "../core/ndarray.js";

export type Plan =
  | { readonly kind: "null" | "undefined" }
  | { readonly kind: "array"; readonly children: readonly Plan[] }
  | { readonly kind: "object"; readonly order: readonly string[]; readonly sorted: readonly string[]; readonly children: readonly Plan[] }
  | { readonly kind: "array-leaf"; readonly dtype: string; readonly shape: readonly number[] }
  | { readonly kind: "number" | "boolean" };

const isPlain = (x: object): boolean => {
  const proto = Object.getPrototypeOf(x);
  return proto === Object.prototype || proto === null;
};

/** The plan of `tree`, or null when the tree holds something a plan does not cover (or nests past 64 levels). */
export function makePlan(tree: unknown, depth = 0): Plan | null {
  if (tree === null) return { kind: "null" };
  if (tree === undefined) return { kind: "undefined" };
  if (depth > 64) return null;
  if (tree instanceof NDArray) return { kind: "array-leaf", dtype: tree.dtype, shape: tree.shape.slice() };
  if (typeof tree === "number") return { kind: "number" };
  if (typeof tree === "boolean") return { kind: "boolean" };
  if (Array.isArray(tree)) {
    const children: Plan[] = [];
    for (const c of tree) {
      const p = makePlan(c, depth + 1);
      if (p === null) return null;
      children.push(p);
    }
    return { kind: "array", children };
  }
  if (typeof tree !== "object" || !isPlain(tree)) return null;
  const order = Object.keys(tree);
  const sorted = order.slice().sort();
  const children: Plan[] = [];
  for (const k of sorted) {
    const p = makePlan((tree as Record<string, unknown>)[k], depth + 1);
    if (p === null) return null;
    children.push(p);
  }
  return { kind: "object", order, sorted, children };
}

/**
 * Whether `tree` fits `plan`; on a fit its leaves are pushed onto `leaves` in flatten's order
 * (object keys sorted). A tree with the same keys in another insertion order does not fit (it
 * takes the key path, which sorts).
 */
export function fits(plan: Plan, tree: unknown, leaves: unknown[]): boolean {
  switch (plan.kind) {
    case "null":
      return tree === null;
    case "undefined":
      return tree === undefined;
    case "number":
    case "boolean":
      if (typeof tree !== plan.kind) return false;
      leaves.push(tree);
      return true;
    case "array-leaf": {
      if (!(tree instanceof NDArray) || tree.dtype !== plan.dtype) return false;
      const s = tree.shape,
        w = plan.shape;
      if (s.length !== w.length) return false;
      for (let d = 0; d < s.length; d++) if (s[d] !== w[d]) return false;
      leaves.push(tree);
      return true;
    }
    case "array": {
      if (!Array.isArray(tree) || tree.length !== plan.children.length) return false;
      for (let i = 0; i < tree.length; i++) if (!fits(plan.children[i]!, tree[i], leaves)) return false;
      return true;
    }
    case "object": {
      if (typeof tree !== "object" || tree === null || Array.isArray(tree) || tree instanceof NDArray || !isPlain(tree)) return false;
      const keys = Object.keys(tree);
      const order = plan.order;
      if (keys.length !== order.length) return false;
      for (let i = 0; i < keys.length; i++) if (keys[i] !== order[i]) return false;
      const obj = tree as Record<string, unknown>;
      for (let i = 0; i < plan.sorted.length; i++) if (!fits(plan.children[i]!, obj[plan.sorted[i]!], leaves)) return false;
      return true;
    }
  }
}
