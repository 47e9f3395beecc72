/**
 * The op menu of random programs, part three: ops of two operands whose shapes must fit together
 * (matmul, einsum, outer, concatenate, stack, pad with a traced padding value, dynamic update
 * slice). When the second operand does not fit, the op builds one that does from it (its mean
 * times a constant, or a function of the first operand), so every op applies to every program.
 */
import { Prim } from "../src/index.js";
import type { Builder } from "./builder.js";
import { rng } from "./numeric.js";
import { type OpDef, MAX_SIZE, type Shape, broadcast, defineOp, sizeOf } from "./ops_elementwise.js";

const range = (n: number) => Array.from({ length: n }, (_, i) => i);
const same = (a: Shape, b: Shape) => a.length === b.length && a.every((n, d) => n === b[d]);

/** A constant in [-1, 1] of the given shape. */
const weights = (shape: Shape, choice: number) => {
  const next = rng(choice * 13 + 5);
  return Array.from({ length: sizeOf(shape) }, () => Math.round((2 * next() - 1) * 8) / 8);
};

/** `tanh(x) * mean(y)`: a stand-in for y with x's shape. */
const likeX = <T>(b: Builder<T>, x: T, y: T) => b.call("np.multiply", b.call("np.tanh", x), b.call("np.mean", y));

/** np.matmul's output shape, or null when the shapes do not multiply. */
function matmulShape(sx: Shape, sy: Shape): number[] | null {
  if (sx.length === 0 || sy.length === 0) return null;
  const a = sx.length === 1 ? [1, sx[0]!] : sx,
    b = sy.length === 1 ? [sy[0]!, 1] : sy;
  if (a[a.length - 1] !== b[b.length - 2]) return null;
  const batch = broadcast(a.slice(0, -2), b.slice(0, -2));
  if (batch === null) return null;
  return [...batch, ...(sx.length === 1 ? [] : [a[a.length - 2]!]), ...(sy.length === 1 ? [] : [b[b.length - 1]!])];
}

interface MatmulP {
  k: number;
  w: number[] | null;
  m: number;
  choice: number;
}

const matmul = defineOp<MatmulP>({
  name: "matmul",
  arity: 2,
  plan: ([sx, sy], choice) => {
    if (sx!.length === 0) return null;
    const k = sx![sx!.length - 1]!;
    const direct = matmulShape(sx!, sy!);
    if (direct && sizeOf(direct) <= MAX_SIZE) return { params: { k, w: null, m: 0, choice }, shape: direct };
    const m = 1 + (choice % 3);
    const shape = [...sx!.slice(0, -1), m];
    return sizeOf(shape) <= MAX_SIZE ? { params: { k, w: weights([k, m], choice), m, choice }, shape } : null;
  },
  build: (b, [x, y], p) => {
    const rhs = p.w === null ? y! : b.call("np.multiply", b.constant(p.w, [p.k, p.m]), b.call("np.mean", y!));
    return b.call("np.multiply", b.call("np.matmul", x!, rhs), 1 / p.k);
  },
});

interface EinsumP {
  spec: string;
  same: boolean;
  n: number;
}

const einsum = defineOp<EinsumP>({
  name: "einsum",
  arity: 2,
  plan: ([sx, sy], choice) => {
    const r = sx!.length;
    if (r === 0 || r > 4) return null;
    const labels = "abcd".slice(0, r).split("");
    const kept = labels.filter((_, d) => (choice >> d) & 1);
    const rot = kept.length ? (choice >> 4) % kept.length : 0;
    const out = [...kept.slice(rot), ...kept.slice(0, rot)];
    const n = sizeOf(labels.map((l, d) => (out.includes(l) ? 1 : sx![d]!)));
    const spec = `${labels.join("")},${labels.join("")}->${out.join("")}`;
    return { params: { spec, same: same(sx!, sy!), n }, shape: out.map((l) => sx![labels.indexOf(l)]!) };
  },
  build: (b, [x, y], p) => b.call("np.multiply", b.call("np.einsum", p.spec, x!, p.same ? y! : b.call("np.cos", x!)), 1 / p.n),
});

const outer = defineOp<Record<string, never>>({
  name: "outer",
  arity: 2,
  plan: ([sx, sy]) => (sizeOf(sx!) * sizeOf(sy!) <= MAX_SIZE ? { params: {}, shape: [sizeOf(sx!), sizeOf(sy!)] } : null),
  build: (b, [x, y]) => b.call("np.multiply", b.call("np.outer", x!, y!), 0.5),
});

interface JoinP {
  axis: number;
  fit: boolean;
}

const concatenate = defineOp<JoinP>({
  name: "concatenate",
  arity: 2,
  plan: ([sx, sy], choice) => {
    const r = sx!.length;
    if (r === 0) return null;
    const ok = range(r).filter((a) => sy!.length === r && sy!.every((n, d) => d === a || n === sx![d]));
    const fit = ok.length > 0;
    const axis = fit ? ok[choice % ok.length]! : choice % r;
    const shape = sx!.map((n, d) => (d === axis ? n + (fit ? sy![d]! : n) : n));
    return sizeOf(shape) <= MAX_SIZE ? { params: { axis, fit }, shape } : null;
  },
  build: (b, [x, y], p) => b.call("np.concatenate", [x!, p.fit ? y! : likeX(b, x!, y!)], p.axis),
});

const stack = defineOp<JoinP>({
  name: "stack",
  arity: 2,
  plan: ([sx, sy], choice) => {
    if (sx!.length > 3 || 2 * sizeOf(sx!) > MAX_SIZE) return null;
    const axis = choice % (sx!.length + 1);
    return { params: { axis, fit: same(sx!, sy!) }, shape: [...sx!.slice(0, axis), 2, ...sx!.slice(axis)] };
  },
  build: (b, [x, y], p) => b.call("np.stack", [x!, p.fit ? y! : likeX(b, x!, y!)], p.axis),
});

/** lax pad with low/high/interior widths and a traced padding value tanh(mean(y)). */
const padWithValue = defineOp<{ config: [number, number, number][] }>({
  name: "padWithValue",
  arity: 2,
  plan: ([sx], choice) => {
    if (sx!.length === 0) return null;
    const config = sx!.map((_, d): [number, number, number] => [(choice >> (3 * d)) & 1, (choice >> (3 * d + 1)) & 1, (choice >> (3 * d + 2)) & 1]);
    const shape = sx!.map((n, d) => n + config[d]![0] + config[d]![1] + Math.max(0, n - 1) * config[d]![2]);
    return sizeOf(shape) <= MAX_SIZE ? { params: { config }, shape } : null;
  },
  build: (b, [x, y], p) => b.bind(Prim.Pad, [x!, b.call("np.tanh", b.call("np.mean", y!))], { config: p.config }),
});

interface DusP {
  starts: number[];
  sizes: number[] | null;
  from: number[];
}

/** dynamic_update_slice of x with y (when it fits) or sin of another block of x, at constant starts. */
const dynamicUpdateSlice = defineOp<DusP>({
  name: "dynamicUpdateSlice",
  arity: 2,
  plan: ([sx, sy], choice) => {
    if (sx!.length === 0) return null;
    const next = rng(choice);
    const fit = sy!.length === sx!.length && sy!.every((n, d) => n <= sx![d]!);
    const sizes = fit ? null : sx!.map((n) => 1 + Math.floor(next() * n));
    const starts = sx!.map((n) => Math.floor(next() * (n + 1)));
    return { params: { starts, sizes, from: sx!.map((n) => Math.floor(next() * n)) }, shape: sx! };
  },
  build: (b, [x, y], p) => {
    const int = (v: number) => b.constant([v], [], "int32");
    const upd = p.sizes === null ? y! : b.call("np.sin", b.bind(Prim.DynamicSlice, [x!, ...p.from.map(int)], { sizes: p.sizes }));
    return b.bind(Prim.DynamicUpdateSlice, [x!, upd, ...p.starts.map(int)], {});
  },
});

export const contractionOps: OpDef[] = [matmul, einsum, outer, concatenate, stack, padWithValue, dynamicUpdateSlice];
