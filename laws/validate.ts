/**
 * Argument checks for the public functions of `fluxion/laws`: typed errors (ArgumentError) that
 * name the function and the argument, built only on the public API.
 */
import { ArgumentError, FluxionError } from "../src/index.js";

/** A short description of a value for a message, calling no user code. */
export function show(v: unknown): string {
  if (typeof v === "string") return JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}...` : v);
  if (typeof v === "number" || typeof v === "boolean" || v === undefined) return String(v);
  if (v === null) return "null";
  if (typeof v === "function") return "a function";
  if (typeof v !== "object") return `a ${typeof v}`;
  if (Array.isArray(v)) return `an array of length ${v.length}`;
  return "an object";
}

export function needFunction(fn: string, what: string, v: unknown): void {
  if (typeof v !== "function") throw new ArgumentError(`${fn}: ${what} must be a function, got ${show(v)}`);
}

export function needArray(fn: string, what: string, v: unknown): void {
  if (!Array.isArray(v)) throw new ArgumentError(`${fn}: ${what} must be an array, got ${show(v)}`);
}

/** An options argument: undefined (meaning {}) or a plain object. */
export function needOptions<T extends object>(fn: string, v: T | undefined): T {
  if (v === undefined) return {} as T;
  const proto = typeof v === "object" && v !== null ? Object.getPrototypeOf(v) : undefined;
  if (proto !== Object.prototype && proto !== null) throw new ArgumentError(`${fn}: options must be an object, got ${show(v)}`);
  return v;
}

/** A Law: an object with a name and a check function. */
export function needLaw(fn: string, v: unknown): void {
  if (typeof v !== "object" || v === null || typeof (v as { check?: unknown }).check !== "function") {
    throw new ArgumentError(`${fn}: law must be a Law (such as laws.transposeIdentity), got ${show(v)}`);
  }
}

/** A fast-check arbitrary. */
export function needArbitrary(fn: string, what: string, v: unknown): void {
  if (typeof v !== "object" || v === null || typeof (v as { generate?: unknown }).generate !== "function") {
    throw new ArgumentError(`${fn}: ${what} must be a fast-check arbitrary, got ${show(v)}`);
  }
}

/** Runs `body`; a FluxionError from a helper (not a law's verdict) gets `fn: ` in front unless it already names `fn`. */
export function renamed<T>(fn: string, body: () => T): T {
  try {
    return body();
  } catch (e) {
    if (e instanceof FluxionError && e.name !== "LawViolation" && !e.message.startsWith(fn)) e.message = `${fn}: ${e.message}`;
    throw e;
  }
}
