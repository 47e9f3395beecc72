/**
 * conv_general_dilated on the device, in the canonical layout: lhs [N, C, ...S], rhs [O, C/G, ...K],
 * out [N/B, O, ...Q], 1 to 3 spatial dims (padded to 3 with leading 1s). A direct kernel without
 * workgroup memory (software adapters run barriers slowly): each invocation computes 4 output
 * channels of one group at 4 positions along the last dim, locating lhs elements by the CPU's index
 * arithmetic (lhs dilation, signed padding, window dilation), so 8 loads feed 16 products. On a
 * GPU, with at least 32 channels per group and 32 positions, a tiled kernel (an implicit matrix
 * product staged in workgroup memory, like the tiled matmul) computes the same partial sums.
 *
 * The reduction runs over r = (input channel, window offset), R = C/G * prod(K) terms. Longer than
 * `CONV_CHUNK`, or long over few outputs, it is cut into chunks computed side by side into a
 * scratch buffer (so a long reduction, such as the kernel gradient's sum over batch and image,
 * still fills the device), then the chunks are summed in order: no invocation loops more than
 * CONV_CHUNK times (some drivers stop shaders after 65,535 loop iterations; see self_check.ts).
 */
import type { ConvGeometry } from "../../../src/core/conv_geometry.js";
import type { GpuArray } from "../array.js";
import { empty } from "../array.js";
import { WG } from "../context.js";
import { ENTRY, LINEAR_INDEX, paramsDecl, storageDecl, wgslType } from "../wgsl.js";

export type { ConvGeometry };

/** The longest stretch of the reduction one invocation walks. */
export const CONV_CHUNK = 4096;
/** Invocations that keep a GPU busy: a reduction over few outputs is split until it has about this many. */
const FILL = 1 << 15;
/** The shortest chunk such a split makes. */
const MIN_CHUNK = 256;
/** Output channels one invocation computes. */
const OB = 4;
/** Output positions along the last spatial dim one invocation computes. */
const B = 4;
/** Elements of the chunk scratch buffer (16 MiB), so long reductions take bounded memory. */
const SCRATCH = 1 << 22;

const memo = new Map<string, string>();
const cached = (key: string, make: () => string): string => {
  let s = memo.get(key);
  if (s === undefined) memo.set(key, (s = make()));
  return s;
};

/**
 * One invocation per (chunk c, batch n, group, channel block, q0, q1, block of 4 along q2): the
 * partial sums over chunk c's reduction terms, stored at dst[c * outSize + out index] (dst is the
 * output itself when there is one chunk). The terms are walked row by row (a row: one input
 * channel and window offset along dims 0 and 1), so the row's bounds are checked once; each term
 * loads 4 lhs values and 4 weights for 16 products.
 */
const convSource = (t: string) =>
  cached(
    `conv:${t}`,
    () => `${storageDecl(0, "lhs", t, false)}
${storageDecl(1, "rhs", t, false)}
${storageDecl(2, "dst", t, true)}
${paramsDecl()}
${ENTRY} {
  let gid = ${LINEAR_INDEX};
  if (gid >= prm(0u)) { return; }
  let work = prm(1u); let outSize = prm(2u); let L = prm(3u); let R = prm(4u);
  let c = gid / work; let w = gid % work;
  let r0 = (prm(5u) + c) * L; let r1 = min(r0 + L, R);
  let O = prm(6u); let I = prm(7u); let C = prm(8u); let oPer = prm(9u); let outN = prm(10u);
  let nblk = prm(11u); let ngrp = prm(12u);
  let Q0 = prm(13u); let Q1 = prm(14u); let Q2 = prm(15u);
  let S0 = prm(16u); let S1 = prm(17u); let S2 = prm(18u);
  let K0 = prm(19u); let K1 = prm(20u); let K2 = prm(21u);
  let ld0 = prm(28u); let ld1 = prm(29u); let ld2 = prm(30u);
  let rd0 = i32(prm(31u)); let rd1 = i32(prm(32u)); let rd2 = i32(prm(33u));
  let qb = (Q2 + ${B}u - 1u) / ${B}u;
  let q2b = (w % qb) * ${B}u;
  let q1 = (w / qb) % Q1;
  let q0 = (w / (qb * Q1)) % Q0;
  let blk = (w / (qb * Q1 * Q0)) % nblk;
  let grp = (w / (qb * Q1 * Q0 * nblk)) % ngrp;
  let n = w / (qb * Q1 * Q0 * nblk * ngrp);
  // Window origins in the dilated, padded lhs (4 along dim 2).
  let o0 = i32(q0 * prm(22u)) - prmi(25u);
  let o1 = i32(q1 * prm(23u)) - prmi(26u);
  let st2 = i32(prm(24u));
  let o2 = vec4<i32>(i32(q2b)) * st2 + vec4<i32>(0i, st2, 2i * st2, 3i * st2) - vec4<i32>(prmi(27u));
  // Batch groups read all channels of batch grp * outN + n; feature groups read channels grp * I...
  var batch = n;
  var chan0 = 0u;
  if (prm(34u) > 1u) { batch = grp * outN + n; } else { chan0 = grp * I; }
  let oc0 = grp * oPer + blk * ${OB}u;
  let last = grp * oPer + oPer - 1u;
  let kp = K0 * K1 * K2;
  var wb: array<u32, ${OB}>;
  for (var k = 0u; k < ${OB}u; k = k + 1u) { wb[k] = min(oc0 + k, last) * I * kp; }
  var ch = r0 / kp;
  let a = r0 % kp;
  var a0 = a / (K1 * K2); var a1 = (a / K2) % K1; var a2 = a % K2;
  var acc: array<vec4<${t}>, ${OB}>;
  var r = r0;
  loop {
    if (r >= r1) { break; }
    let span = min(K2 - a2, r1 - r);
    let p0 = o0 + i32(a0) * rd0; let p1 = o1 + i32(a1) * rd1;
    if (p0 >= 0i && p1 >= 0i) {
      let u0 = u32(p0); let u1 = u32(p1);
      let s0 = u0 / ld0; let s1 = u1 / ld1;
      if (u0 % ld0 == 0u && u1 % ld1 == 0u && s0 < S0 && s1 < S1) {
        let row = ((batch * C + chan0 + ch) * S0 + s0) * S1 * S2 + s1 * S2;
        for (var e = 0u; e < span; e = e + 1u) {
          // Branch-free taps: out-of-bounds ones read element row and are zeroed.
          let p2 = o2 + vec4<i32>((i32(a2 + e)) * rd2);
          let u = vec4<u32>(max(p2, vec4<i32>(0i)));
          let s2 = u / vec4<u32>(ld2);
          let ok = (p2 >= vec4<i32>(0i)) & (u % vec4<u32>(ld2) == vec4<u32>(0u)) & (s2 < vec4<u32>(S2));
          let at = select(vec4<u32>(row), vec4<u32>(row) + s2, ok);
          let v = select(vec4<${t}>(${t}(0)), vec4<${t}>(lhs[at.x], lhs[at.y], lhs[at.z], lhs[at.w]), ok);
          let re = r + e;
          acc[0] = acc[0] + rhs[wb[0] + re] * v;
          acc[1] = acc[1] + rhs[wb[1] + re] * v;
          acc[2] = acc[2] + rhs[wb[2] + re] * v;
          acc[3] = acc[3] + rhs[wb[3] + re] * v;
        }
      }
    }
    r = r + span;
    a2 = a2 + span;
    if (a2 == K2) {
      a2 = 0u; a1 = a1 + 1u;
      if (a1 == K1) { a1 = 0u; a0 = a0 + 1u; if (a0 == K0) { a0 = 0u; ch = ch + 1u; } }
    }
  }
  let ob = c * outSize + ((n * O + oc0) * Q0 + q0) * Q1 * Q2 + q1 * Q2 + q2b;
  let qp = Q0 * Q1 * Q2;
  for (var k = 0u; k < ${OB}u; k = k + 1u) {
    if (oc0 + k > last) { break; }
    for (var j = 0u; j < ${B}u; j = j + 1u) {
      if (q2b + j < Q2) { dst[ob + k * qp + j] = acc[k][j]; }
    }
  }
}`,
  );

/**
 * The same partial sums as an implicit matrix product, for GPUs: per (chunk, batch, group) the
 * [oPer, R] weights times the [R, positions] lhs taps (gathered on the fly, never stored). A 16x16
 * workgroup computes a 64x64 tile (channels x positions), each thread a 4x4 block, stepping the
 * terms in 16-wide tiles staged in workgroup memory, like the tiled matmul.
 */
const tiledSource = (t: string) =>
  cached(
    `convtiled:${t}`,
    () => `${storageDecl(0, "lhs", t, false)}
${storageDecl(1, "rhs", t, false)}
${storageDecl(2, "dst", t, true)}
${paramsDecl()}
var<workgroup> As: array<${t}, 1024>;
var<workgroup> Bs: array<${t}, 1024>;
@compute @workgroup_size(16, 16) fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let outSize = prm(2u); let L = prm(3u); let R = prm(4u);
  let O = prm(6u); let I = prm(7u); let C = prm(8u); let oPer = prm(9u); let outN = prm(10u); let ngrp = prm(12u);
  let Q0 = prm(13u); let Q1 = prm(14u); let Q2 = prm(15u);
  let S0 = prm(16u); let S1 = prm(17u); let S2 = prm(18u);
  let K0 = prm(19u); let K1 = prm(20u); let K2 = prm(21u);
  let ld0 = prm(28u); let ld1 = prm(29u); let ld2 = prm(30u);
  let rd0 = i32(prm(31u)); let rd1 = i32(prm(32u)); let rd2 = i32(prm(33u));
  let z = wid.z + prm(35u);
  let c = z / (outN * ngrp); let n = (z / ngrp) % outN; let grp = z % ngrp;
  let r0 = (prm(5u) + c) * L; let r1 = min(r0 + L, R);
  var batch = n;
  var chan0 = 0u;
  if (prm(34u) > 1u) { batch = grp * outN + n; } else { chan0 = grp * I; }
  let qp = Q0 * Q1 * Q2;
  let row0 = wid.y * 64u; let col0 = wid.x * 64u;
  let tx = lid.x; let ty = lid.y;
  let tid = ty * 16u + tx;
  // The one position this thread loads lhs taps for (column tid % 64 of the tile).
  let nb = tid % 64u;
  let col = col0 + nb;
  let cq = min(col, qp - 1u);
  let o0 = i32((cq / (Q2 * Q1)) * prm(22u)) - prmi(25u);
  let o1 = i32(((cq / Q2) % Q1) * prm(23u)) - prmi(26u);
  let o2 = i32((cq % Q2) * prm(24u)) - prmi(27u);
  let kp = K0 * K1 * K2;
  let wBase = grp * oPer * R;
  let lBase = (batch * C + chan0) * S0 * S1 * S2;
  var acc: array<${t}, 16>;
  for (var k0 = r0; k0 < r1; k0 = k0 + 16u) {
    for (var l = 0u; l < 4u; l = l + 1u) {
      let e = tid + l * 256u;
      let m = e / 16u; let kk = e % 16u;
      var va = ${t}(0);
      if (row0 + m < oPer && k0 + kk < r1) { va = rhs[wBase + (row0 + m) * R + k0 + kk]; }
      As[kk * 64u + m] = va;
      let kb = e / 64u; let r = k0 + kb;
      var vb = ${t}(0);
      if (col < qp && r < r1) {
        let ch = r / kp; let a = r % kp;
        let p0 = o0 + i32(a / (K1 * K2)) * rd0; let p1 = o1 + i32((a / K2) % K1) * rd1; let p2 = o2 + i32(a % K2) * rd2;
        if (p0 >= 0i && p1 >= 0i && p2 >= 0i) {
          let u0 = u32(p0); let u1 = u32(p1); let u2 = u32(p2);
          let s0 = u0 / ld0; let s1 = u1 / ld1; let s2 = u2 / ld2;
          if (u0 % ld0 == 0u && u1 % ld1 == 0u && u2 % ld2 == 0u && s0 < S0 && s1 < S1 && s2 < S2) {
            vb = lhs[lBase + ((ch * S0 + s0) * S1 + s1) * S2 + s2];
          }
        }
      }
      Bs[kb * 64u + nb] = vb;
    }
    workgroupBarrier();
    for (var kk = 0u; kk < 16u; kk = kk + 1u) {
      var av: array<${t}, 4>;
      var bv: array<${t}, 4>;
      for (var i = 0u; i < 4u; i = i + 1u) { av[i] = As[kk * 64u + ty + 16u * i]; bv[i] = Bs[kk * 64u + tx + 16u * i]; }
      for (var i = 0u; i < 4u; i = i + 1u) {
        for (var j = 0u; j < 4u; j = j + 1u) { acc[i * 4u + j] = acc[i * 4u + j] + av[i] * bv[j]; }
      }
    }
    workgroupBarrier();
  }
  let ob = c * outSize + (n * O + grp * oPer) * qp;
  for (var i = 0u; i < 4u; i = i + 1u) {
    let gm = row0 + ty + 16u * i;
    if (gm >= oPer) { continue; }
    for (var j = 0u; j < 4u; j = j + 1u) {
      let gc = col0 + tx + 16u * j;
      if (gc < qp) { dst[ob + gm * qp + gc] = acc[i * 4u + j]; }
    }
  }
}`,
  );

/** out[i] = the m chunks' partial sums part[c * size + i] in chunk order, added to out[i] after the first round. */
const sumSource = (t: string) =>
  cached(
    `convsum:${t}`,
    () => `${storageDecl(0, "part", t, false)}
${storageDecl(1, "out", t, true)}
${paramsDecl()}
${ENTRY} {
  let i = ${LINEAR_INDEX};
  let size = prm(0u);
  if (i >= size) { return; }
  var acc = ${t}(0);
  if (prm(2u) > 0u) { acc = out[i]; }
  for (var c = 0u; c < prm(1u); c = c + 1u) { acc = acc + part[c * size + i]; }
  out[i] = acc;
}`,
  );

/** Test hooks: the chunk buffer's size in elements, and the kernel (by default the adapter's). */
export interface ConvOptions {
  scratch?: number;
  tiled?: boolean;
}

/** out = conv(lhs, rhs) for geometry g (all contiguous device arrays of one dtype). */
export function conv(lhs: GpuArray, rhs: GpuArray, out: GpuArray, g: ConvGeometry, options: ConvOptions = {}): void {
  const outSize = out.size;
  if (outSize === 0) return;
  const t = wgslType(out.dtype, "conv_general_dilated");
  const ctx = out.backend.ctx;
  const ngrp = g.groups * g.batchGroups;
  const oPer = g.o / ngrp;
  const nblk = Math.ceil(oPer / OB);
  const work = (g.n / g.batchGroups) * ngrp * nblk * g.q[0]! * g.q[1]! * Math.ceil(g.q[2]! / B);
  const R = g.i * g.k[0]! * g.k[1]! * g.k[2]!;
  // Balanced chunks of at most CONV_CHUNK terms, more (down to MIN_CHUNK terms) when there are too
  // few outputs to fill the device; R = 0 still takes one pass, which writes zeros.
  const chunks = Math.max(1, Math.ceil(R / CONV_CHUNK), Math.min(Math.ceil(R / MIN_CHUNK), Math.ceil(FILL / work)));
  const L = Math.max(1, Math.ceil(R / chunks));
  const geometry = [
    ...[g.o, g.i, g.c, oPer, g.n / g.batchGroups, nblk, ngrp],
    ...[...g.q, ...g.s, ...g.k, ...g.strides, ...g.lo, ...g.lhsDilation, ...g.rhsDilation],
    g.batchGroups,
  ];
  const fn = "conv_general_dilated";
  const qp = g.q[0]! * g.q[1]! * g.q[2]!;
  // GPUs take the tiled kernel when the 64x64 tiles are at least half used (and their grid fits).
  const fits = Math.ceil(qp / 64) <= 65535 && Math.ceil(oPer / 64) <= 65535;
  const tiled = fits && (options.tiled ?? (!ctx.software && oPer >= 32 && qp >= 32));
  const binds = [lhs.bind(fn), rhs.bind(fn)];
  /** Chunks first .. first + m - 1, side by side, into dst. */
  const launch = (dst: GpuArray, m: number, first: number) => {
    const params = [work * m, work, outSize, L, R, first, ...geometry, 0];
    if (!tiled) {
      ctx.dispatch(convSource(t), [...binds, dst.bind(fn)], params, Math.ceil((work * m) / WG));
      return;
    }
    const zs = m * (g.n / g.batchGroups) * ngrp;
    for (let z0 = 0; z0 < zs; z0 += 65535) {
      params[35] = z0;
      ctx.dispatch(tiledSource(t), [...binds, dst.bind(fn)], params, [Math.ceil(qp / 64), Math.ceil(oPer / 64), Math.min(65535, zs - z0)]);
    }
  };
  if (chunks === 1) return launch(out, 1, 0);
  // Chunks go through a scratch buffer of at most SCRATCH elements, at most CONV_CHUNK at a time.
  const per = Math.max(1, Math.min(chunks, CONV_CHUNK, Math.floor((options.scratch ?? SCRATCH) / outSize)));
  const part = empty(out.backend, { shape: [per, outSize], dtype: out.dtype });
  for (let first = 0; first < chunks; first += per) {
    const m = Math.min(per, chunks - first);
    launch(part, m, first);
    ctx.dispatch(sumSource(t), [part.bind(fn), out.bind(fn)], [outSize, m, first], Math.ceil(outSize / WG));
  }
  part.dispose();
}
