/**
 * The trailing options object of a public function: a plain object (or undefined) naming only
 * options the function knows. Shared by `np`, `nn`, `lax` and the transforms.
 */
import { ArgumentError, describe } from "./errors.js";

export function checkOptionsObject<T extends object>(fn: string, options: T | undefined, known: readonly string[]): T {
  if (options === undefined) return {} as T;
  const proto = typeof options === "object" && options !== null ? Object.getPrototypeOf(options) : undefined;
  if (proto !== Object.prototype && proto !== null) {
    throw new ArgumentError(`${fn}: options must be an object { ${known.join(", ")} }, got ${describe(options)}`);
  }
  for (const k of Object.keys(options)) {
    if (!known.includes(k))
      throw new ArgumentError(`${fn}: unknown option ${describe(k)}; it takes ${known.map((o) => JSON.stringify(o)).join(", ")}`);
  }
  return options;
}
