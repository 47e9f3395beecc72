/**
 * The op menu of random programs, conv part: a 1-d channels-last convolution (nn.conv, with a
 * constant kernel scaled by the mean of a second operand so both get derivatives), a strided one
 * with window dilation, and average and max pooling (nn.avgPool, nn.maxPool). Each applies to a
 * rank-3 value read as (batch, length, features), or a rank-2 one as (batch, length) with one feature.
 */
import type { Builder } from "./builder.js";
import { rng } from "./numeric.js";
import { type OpDef, MAX_SIZE, type Shape, defineOp, sizeOf, spread } from "./ops_elementwise.js";

/** A constant in [-1, 1] of the given shape. */
const weights = (shape: Shape, choice: number) => {
  const next = rng(choice * 7 + 3);
  return Array.from({ length: sizeOf(shape) }, () => Math.round((2 * next() - 1) * 8) / 8);
};

/** A rank-2 value [n, len] is read as [n, len, 1] (one feature). */
const asRank3 = (s: Shape): [number, number, number] | null =>
  s.length === 3 ? (s as [number, number, number]) : s.length === 2 ? [s[0]!, s[1]!, 1] : null;

interface ConvP {
  rank3: [number, number, number];
  kernel: number[];
  k: number;
  c: number;
  m: number;
  stride: number;
  dilation: number;
  scale: number;
  choice: number;
}

const conv = (name: string, strided: boolean) =>
  defineOp<ConvP>({
    name,
    arity: 2,
    plan: ([sx], choice) => {
      const r3 = asRank3(sx!);
      if (r3 === null || r3[1] < 1) return null;
      const [n, len, c] = r3;
      const k = 1 + (choice % 3),
        m = 1 + ((choice >> 2) % 3);
      const stride = strided ? 1 + ((choice >> 4) % 2) : 1,
        dilation = strided ? 1 + ((choice >> 5) % 2) : 1;
      const shape = [n, Math.ceil(len / stride), m];
      if (sizeOf(shape) > MAX_SIZE) return null;
      return { params: { rank3: r3, kernel: weights([k, c, m], choice), k, c, m, stride, dilation, scale: 1 / (k * c), choice }, shape };
    },
    build: <T>(b: Builder<T>, [x, y]: T[], p: ConvP) => {
      const kernel = b.call("np.multiply", b.constant(p.kernel, [p.k, p.c, p.m]), b.call("np.mean", y!));
      const out = b.call("nn.conv", b.call("np.reshape", x!, p.rank3), kernel, { strides: p.stride, dilation: p.dilation, padding: "SAME" });
      return b.call("np.multiply", out, p.scale);
    },
  });

interface PoolP {
  inShape: number[];
  choice: number;
  rank3: [number, number, number];
  out: number[];
  w: number;
  s: number;
}

const pool = (name: string, fn: "nn.avgPool" | "nn.maxPool") =>
  defineOp<PoolP>({
    name,
    arity: 1,
    plan: ([sx], choice) => {
      const r3 = asRank3(sx!);
      if (r3 === null || r3[1] < 2) return null;
      const [n, len, c] = r3;
      const w = 2,
        s = 1 + (choice % 2);
      const out = [n, Math.floor((len - w) / s) + 1, ...(sx!.length === 3 ? [c] : [])];
      return { params: { inShape: [...sx!], choice, rank3: r3, out, w, s }, shape: out };
    },
    // max pooling sees spread values (distinct offsets): no ties, where its derivative has a kink.
    build: <T>(b: Builder<T>, [x]: T[], p: PoolP) => {
      const v = fn === "nn.maxPool" ? spread(b, x!, p.inShape, p.choice) : x!;
      return b.call("np.reshape", b.call(fn, b.call("np.reshape", v, p.rank3), [p.w], { strides: [p.s] }), p.out);
    },
  });

export const convOps: OpDef[] = [
  conv("conv1d", false),
  conv("conv1dStrided", true),
  pool("avgPool1d", "nn.avgPool"),
  pool("maxPool1d", "nn.maxPool"),
];
