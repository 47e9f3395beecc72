/**
 * The op menu of random programs, conv part: a 1-d channels-last convolution (nn.conv, with a
 * constant kernel scaled by the mean of a second operand so both get derivatives), a strided one
 * with window dilation, and average and max pooling (nn.avgPool, nn.maxPool). Each applies to a
 * rank-3 value read as (batch, length, features).
 */
import type { Builder } from "./builder.js";
import { rng } from "./numeric.js";
import { type OpDef, MAX_SIZE, type Shape, defineOp, sizeOf } from "./ops_elementwise.js";

/** A constant in [-1, 1] of the given shape. */
const weights = (shape: Shape, choice: number) => {
  const next = rng(choice * 7 + 3);
  return Array.from({ length: sizeOf(shape) }, () => Math.round((2 * next() - 1) * 8) / 8);
};

interface ConvP {
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
      if (sx!.length !== 3 || sx![1]! < 1) return null;
      const [n, len, c] = sx as [number, number, number];
      const k = 1 + (choice % 3),
        m = 1 + ((choice >> 2) % 3);
      const stride = strided ? 1 + ((choice >> 4) % 2) : 1,
        dilation = strided ? 1 + ((choice >> 5) % 2) : 1;
      const shape = [n, Math.ceil(len / stride), m];
      if (sizeOf(shape) > MAX_SIZE) return null;
      return { params: { kernel: weights([k, c, m], choice), k, c, m, stride, dilation, scale: 1 / (k * c), choice }, shape };
    },
    build: <T>(b: Builder<T>, [x, y]: T[], p: ConvP) => {
      const kernel = b.call("np.multiply", b.constant(p.kernel, [p.k, p.c, p.m]), b.call("np.mean", y!));
      const out = b.call("nn.conv", x!, kernel, { strides: p.stride, dilation: p.dilation, padding: "SAME" });
      return b.call("np.multiply", out, p.scale);
    },
  });

interface PoolP {
  w: number;
  s: number;
}

const pool = (name: string, fn: "nn.avgPool" | "nn.maxPool") =>
  defineOp<PoolP>({
    name,
    arity: 1,
    plan: ([sx], choice) => {
      if (sx!.length !== 3 || sx![1]! < 2) return null;
      const [n, len, c] = sx as [number, number, number];
      const w = 2,
        s = 1 + (choice % 2);
      return { params: { w, s }, shape: [n, Math.floor((len - w) / s) + 1, c] };
    },
    build: <T>(b: Builder<T>, [x]: T[], p: PoolP) => b.call(fn, x!, [p.w], { strides: [p.s] }),
  });

export const convOps: OpDef[] = [
  conv("conv1d", false),
  conv("conv1dStrided", true),
  pool("avgPool1d", "nn.avgPool"),
  pool("maxPool1d", "nn.maxPool"),
];
