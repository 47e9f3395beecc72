/**
 * Data movement: one strided-copy kernel (rank <= 8 after merging dims; shape, strides and offsets
 * are parameters) for transpose, broadcast, rev, slice, concatenate, pad and the permutes of
 * reductions and matmul; a fill kernel; and dynamic_slice / dynamic_update_slice, whose start
 * indices are copied on the device from the int32 scalar operands into the parameter block (no
 * readback) and clamped in the kernel like the CPU clamps them. Elements are moved as u32 bits.
 */
import { DeviceError } from "../../../src/core/device.js";
import { sizeOf, stridesOf } from "../../../src/core/shape.js";
import type { GpuArray } from "../array.js";
import { WG } from "../context.js";
import { ENTRY, LINEAR_INDEX, paramsDecl, storageDecl } from "../wgsl.js";

export const MAX_RANK = 8;

const COPY = `${storageDecl(0, "src", "u32", false)}
${storageDecl(1, "dst", "u32", true)}
${paramsDecl()}
${ENTRY} {
  let i = ${LINEAR_INDEX};
  if (i >= prm(0u)) { return; }
  var rem = i;
  var s = prmi(2u);
  var t = prmi(3u);
  for (var d = prm(1u); d > 0u; d = d - 1u) {
    let k = d - 1u;
    let q = rem % prm(4u + k);
    rem = rem / prm(4u + k);
    s = s + i32(q) * prmi(12u + k);
    t = t + i32(q) * prmi(20u + k);
  }
  dst[t] = src[s];
}`;

/** Drops size-1 dims and merges dims that are contiguous in every stride list. */
function collapse(shape: readonly number[], strides: readonly (readonly number[])[]): [number[], number[][]] {
  const sh: number[] = [];
  const st: number[][] = strides.map(() => []);
  for (let d = 0; d < shape.length; d++) {
    if (shape[d] === 1) continue;
    const last = sh.length - 1;
    if (last >= 0 && strides.every((s, j) => st[j]![last] === s[d]! * shape[d]!)) {
      sh[last]! *= shape[d]!;
      strides.forEach((s, j) => (st[j]![last] = s[d]!));
    } else {
      sh.push(shape[d]!);
      strides.forEach((s, j) => st[j]!.push(s[d]!));
    }
  }
  return [sh, st];
}

/**
 * For every multi-index m of `shape`: dst[dstOff + m . dstStrides] = src[srcOff + m . srcStrides].
 * Offsets and strides are in elements (strides may be negative or zero).
 */
export function copyStrided(
  src: GpuArray,
  srcOff: number,
  srcStrides: readonly number[],
  dst: GpuArray,
  dstOff: number,
  dstStrides: readonly number[],
  shape: readonly number[],
): void {
  const n = sizeOf(shape);
  if (n === 0) return;
  const [sh, [ss, ds]] = collapse(shape, [srcStrides, dstStrides]);
  if (sh.length > MAX_RANK) {
    // Loop over the leading dim on the host.
    for (let k = 0; k < sh[0]!; k++) {
      copyStrided(src, srcOff + k * ss![0]!, ss!.slice(1), dst, dstOff + k * ds![0]!, ds!.slice(1), sh.slice(1));
    }
    return;
  }
  const params = new Array<number>(28).fill(0);
  params[0] = n;
  params[1] = sh.length;
  params[2] = srcOff;
  params[3] = dstOff;
  sh.forEach((v, d) => {
    params[4 + d] = v;
    params[12 + d] = ss![d]!;
    params[20 + d] = ds![d]!;
  });
  dst.backend.ctx.dispatch(COPY, [src.bind("copy"), dst.bind("copy")], params, Math.ceil(n / WG));
}

/** dst (contiguous, shape `shape`) = src read from `srcOff` with `srcStrides`. */
export function gatherStrided(src: GpuArray, srcOff: number, srcStrides: readonly number[], dst: GpuArray): void {
  copyStrided(src, srcOff, srcStrides, dst, 0, stridesOf(dst.shape), dst.shape);
}

const FILL = `${storageDecl(0, "val", "u32", false)}
${storageDecl(1, "dst", "u32", true)}
${paramsDecl()}
${ENTRY} {
  let i = ${LINEAR_INDEX};
  if (i >= prm(0u)) { return; }
  dst[i] = val[0];
}`;

/** Every element of `dst` = the scalar `value` (a device array). */
export function fill(value: GpuArray, dst: GpuArray): void {
  const n = sizeOf(dst.shape);
  dst.backend.ctx.dispatch(FILL, [value.bind("pad"), dst.bind("pad")], [n], Math.ceil(n / WG));
}

// Parameter words of the dynamic kernels: 0 n, 1 rank, 4.. shape (of the block or of x),
// 12.. x strides / block sizes, 20.. start limits, 28.. raw starts (written on the device).
const DYN_SLICE = `${storageDecl(0, "src", "u32", false)}
${storageDecl(1, "dst", "u32", true)}
${paramsDecl()}
${ENTRY} {
  let i = ${LINEAR_INDEX};
  if (i >= prm(0u)) { return; }
  var rem = i;
  var s = 0i;
  for (var d = prm(1u); d > 0u; d = d - 1u) {
    let k = d - 1u;
    let q = rem % prm(4u + k);
    rem = rem / prm(4u + k);
    let start = clamp(prmi(28u + k), 0i, prmi(20u + k));
    s = s + (start + i32(q)) * prmi(12u + k);
  }
  dst[i] = src[s];
}`;

const DYN_UPDATE = `${storageDecl(0, "x", "u32", false)}
${storageDecl(1, "upd", "u32", false)}
${storageDecl(2, "dst", "u32", true)}
${paramsDecl()}
${ENTRY} {
  let i = ${LINEAR_INDEX};
  if (i >= prm(0u)) { return; }
  var rem = i;
  var u = 0i;
  var inside = true;
  var ustride = 1i;
  for (var d = prm(1u); d > 0u; d = d - 1u) {
    let k = d - 1u;
    let q = i32(rem % prm(4u + k));
    rem = rem / prm(4u + k);
    let start = clamp(prmi(28u + k), 0i, prmi(20u + k));
    let r = q - start;
    let size = prmi(12u + k);
    inside = inside && r >= 0i && r < size;
    u = u + r * ustride;
    ustride = ustride * size;
  }
  if (inside) { dst[i] = upd[u]; } else { dst[i] = x[i]; }
}`;

/** A start index: a device scalar (copied into the parameters on the device) or a host number. */
export type Start = { device: GPUBuffer } | { host: number };

function dynParams(
  fn: string,
  n: number,
  shape: readonly number[],
  second: readonly number[],
  limits: readonly number[],
  starts: readonly Start[],
): [number[], (GPUBuffer | null)[]] {
  if (shape.length > MAX_RANK)
    throw new DeviceError(`${fn}: webgpu supports rank <= ${MAX_RANK} here, got rank ${shape.length}; reshape first or run on the cpu`);
  const params = new Array<number>(36).fill(0);
  const fromDevice = new Array<GPUBuffer | null>(36).fill(null);
  params[0] = n;
  params[1] = shape.length;
  shape.forEach((v, d) => {
    params[4 + d] = v;
    params[12 + d] = second[d]!;
    params[20 + d] = limits[d]!;
    const s = starts[d]!;
    if ("device" in s) fromDevice[28 + d] = s.device;
    else params[28 + d] = s.host;
  });
  return [params, fromDevice];
}

/** out = the block of out's shape at the (clamped) starts of x. */
export function dynamicSlice(x: GpuArray, starts: readonly Start[], out: GpuArray): void {
  const n = sizeOf(out.shape);
  if (n === 0) return;
  const limits = x.shape.map((s, d) => s - out.shape[d]!);
  const [params, dev] = dynParams("dynamic_slice", n, out.shape, stridesOf(x.shape), limits, starts);
  out.backend.ctx.dispatchWithDeviceParams(DYN_SLICE, [x.bind("dynamic_slice"), out.bind("dynamic_slice")], params, dev, Math.ceil(n / WG));
}

/** out = x with the block at the (clamped) starts replaced by upd. */
export function dynamicUpdateSlice(x: GpuArray, upd: GpuArray, starts: readonly Start[], out: GpuArray): void {
  const n = sizeOf(out.shape);
  if (n === 0) return;
  const limits = x.shape.map((s, d) => s - upd.shape[d]!);
  const [params, dev] = dynParams("dynamic_update_slice", n, x.shape, upd.shape, limits, starts);
  out.backend.ctx.dispatchWithDeviceParams(
    DYN_UPDATE,
    [x.bind("dynamic_update_slice"), upd.bind("dynamic_update_slice"), out.bind("dynamic_update_slice")],
    params,
    dev,
    Math.ceil(n / WG),
  );
}
