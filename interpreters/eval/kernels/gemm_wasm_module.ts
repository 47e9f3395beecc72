/**
 * The WebAssembly SIMD matrix multiply, written with the assembler in `wasm_asm.ts`. This file only
 * builds module bytes; `matmul_wasm.ts` instantiates them, copies operands in and out and splits
 * work across threads.
 *
 * The module exports `gemm(a, b, c, k, n, i0, i1, scratch)`: for rows i0 <= i < i1 of one row-major
 * product, C[i, :] = A[i, :] · B where A is M x K, B is K x N and C is M x N, all in linear memory
 * at the given byte addresses. C rows are overwritten. `scratch` is a private area of
 * `scratchBytes(params)` bytes for packed panels, so threads sharing one memory each pass their own.
 *
 * Blocking scheme (GotoBLAS/BLIS loop nest; E = element bytes, NR = NV * lanes):
 *
 *   for jc in [0, N) step NC:                      columns of C and B
 *     for pc in [0, K) step KC:                    depth block
 *       pack B[pc:pc+KC, jc:jc+NC] -> Bp           panels of NR columns, each KC x NR contiguous
 *       for ic in [i0, i1) step MC:                row block
 *         pack A[ic:ic+MC, pc:pc+KC] -> Ap         panels of MR rows, each KC x MR contiguous
 *         for jr in [0, NC) step NR:               one B panel (KC x NR, ~8 KiB) stays in L1 ...
 *           for ir in [0, MC) step MR:             ... while the A panels stream from L2
 *             micro-kernel: the MR x NR tile of C, held in MR x NV v128 accumulators over the
 *             whole depth block, then stored (first depth block) or added into C
 *
 * Micro-kernel: per depth step it loads the NV vectors of the B panel row, and for each of the MR
 * rows one A element broadcast to all lanes (v128.load32_splat), then does MR x NV multiply-adds.
 * The depth loop is unrolled U times with constant load offsets, and packing zero-pads the depth
 * to a multiple of U so there is no remainder loop. Edge tiles (fewer than MR rows or NR columns
 * left) run the same kernel on zero-padded panels into a scratch tile and copy the valid part.
 * x64 V8 has 16 xmm registers (one reserved as scratch), which bounds MR x NV accumulators plus NV
 * B vectors, one broadcast and one product: 4 x 2 or 5 x 2 for f32x4 (NR = 8).
 */
import {
  type Code, I32, type Local, ModuleBuilder, V128, type VectorOps, type ScalarOps,
  brIf, call, f32, f32x4, f64, f64x2, forRange, get, i32, if_, inc, loop, memory, set, v128,
} from "./wasm_asm.js";

/** Shape and blocking parameters of a generated module. */
export interface GemmParams {
  /** Element type. */
  readonly dtype: "float32" | "float64";
  /** Rows of the register tile. */
  readonly mr: number;
  /** v128 vectors per tile row (NR = nv * lanes columns). */
  readonly nv: number;
  /** Depth-loop unroll factor, a power of two. */
  readonly unroll: number;
  /** Depth block (multiple of unroll), row block (multiple of mr), column block (multiple of NR). */
  readonly kc: number;
  readonly mc: number;
  readonly nc: number;
  /** Use relaxed-simd fused multiply-add (only if the engine validates it). */
  readonly fma: boolean;
  /** Import a shared memory (threads) rather than an ordinary one. */
  readonly shared: boolean;
  /** Maximum memory size in 64 KiB pages. */
  readonly maxPages: number;
}

const types = (dtype: GemmParams["dtype"]): { s: ScalarOps; v: VectorOps } =>
  dtype === "float32" ? { s: f32, v: f32x4 } : { s: f64, v: f64x2 };

/** Columns of the register tile. */
export const tileCols = (p: GemmParams): number => p.nv * types(p.dtype).v.lanes;

/** Bytes of private scratch one `gemm` call needs: packed B block, packed A block, edge tile. */
export function scratchBytes(p: GemmParams): number {
  const e = types(p.dtype).s.bytes;
  return (p.kc * p.nc + p.mc * p.kc + p.mr * tileCols(p)) * e;
}

/** Encodes the module for the given parameters. */
export function buildGemmModule(p: GemmParams): Uint8Array {
  const { s, v } = types(p.dtype);
  const E = s.bytes, MR = p.mr, NV = p.nv, NR = tileCols(p), U = p.unroll;
  if ((U & (U - 1)) !== 0 || p.kc % U !== 0 || p.mc % MR !== 0 || p.nc % NR !== 0) {
    throw new RangeError("gemm module: inconsistent blocking parameters");
  }
  const c32 = i32.const;
  const mod = new ModuleBuilder({ initial: 1, maximum: p.maxPages, shared: p.shared });

  // ---- micro-kernel(kcp, ap, bp, cp, ldc, first): C tile (=|+=) Ap panel · Bp panel ------------
  const kernel = mod.func(null, [I32, I32, I32, I32, I32, I32]);
  {
    const [kcp, ap, bp, cp, ldc, first] = [0, 1, 2, 3, 4, 5].map((i) => kernel.param(i));
    const acc = Array.from({ length: MR }, () => Array.from({ length: NV }, () => kernel.local(V128)));
    const bv = Array.from({ length: NV }, () => kernel.local(V128));
    const a = kernel.local(V128);
    const av = Array.from({ length: MR }, () => kernel.local(V128));
    const row = kernel.local(I32);
    const step: Code[] = [];
    const madd = (x: Local, av: Local, b: Local): Code =>
      set(x, p.fma ? v.relaxedMadd(get(av), get(b), get(x)) : v.add(get(x), v.mul(get(av), get(b))));
    for (let u = 0; u < U; u++) {
      if ((p as any).order === "col") {
        for (let r = 0; r < MR; r++) step.push(set(av[r]!, v.loadSplat(get(ap), (u * MR + r) * E)));
        for (let j = 0; j < NV; j++) {
          step.push(set(bv[0]!, v128.load(get(bp), (u * NR + j * v.lanes) * E)));
          for (let r = 0; r < MR; r++) step.push(madd(acc[r]![j]!, av[r]!, bv[0]!));
        }
      } else {
        for (let j = 0; j < NV; j++) step.push(set(bv[j]!, v128.load(get(bp), (u * NR + j * v.lanes) * E)));
        for (let r = 0; r < MR; r++) {
          step.push(set(a, v.loadSplat(get(ap), (u * MR + r) * E)));
          for (let j = 0; j < NV; j++) step.push(madd(acc[r]![j]!, a, bv[j]!));
        }
      }
    }
    const store: Code[] = [], accumulate: Code[] = [];
    for (let r = 0; r < MR; r++) {
      for (let j = 0; j < NV; j++) {
        store.push(v128.store(get(row), get(acc[r]![j]!), j * 16));
        accumulate.push(v128.store(get(row), v.add(v128.load(get(row), j * 16), get(acc[r]![j]!)), j * 16));
      }
      store.push(inc(row, get(ldc)));
      accumulate.push(inc(row, get(ldc)));
    }
    kernel.body = [
      acc.flat().map((x) => set(x, v128.zero())),
      // Depth loop (kcp is a positive multiple of U).
      loop(
        step,
        inc(ap, c32(U * MR * E)),
        inc(bp, c32(U * NR * E)),
        set(kcp, i32.sub(get(kcp), c32(U))),
        brIf(0, get(kcp)),
      ),
      set(row, get(cp)),
      if_(get(first), store, accumulate),
    ];
  }

  // ---- edge(tile, cp, ldc, mr, nr, first): copy (or add) the valid mr x nr part of a tile -------
  const edge = mod.func(null, [I32, I32, I32, I32, I32, I32]);
  {
    const [tile, cp, ldc, mr, nr, first] = [0, 1, 2, 3, 4, 5].map((i) => edge.param(i));
    const r = edge.local(I32), j = edge.local(I32);
    const src = i32.add(get(tile), i32.add(i32.mul(get(r), c32(NR * E)), i32.mul(get(j), c32(E))));
    const dst = i32.add(get(cp), i32.add(i32.mul(get(r), get(ldc)), i32.mul(get(j), c32(E))));
    edge.body = forRange(r, c32(0), get(mr), c32(1),
      forRange(j, c32(0), get(nr), c32(1),
        if_(get(first), s.store(dst, s.load(src)), s.store(dst, s.add(s.load(dst), s.load(src))))));
  }

  // ---- packB(src, ldb, kc, kcp, nc, dst): B block -> panels of NR columns, depth zero-padded ----
  const packB = mod.func(null, [I32, I32, I32, I32, I32, I32]);
  {
    const [src, ldb, kc, kcp, nc, dst] = [0, 1, 2, 3, 4, 5].map((i) => packB.param(i));
    const jr = packB.local(I32), w = packB.local(I32), d = packB.local(I32), sp = packB.local(I32);
    const q = packB.local(I32), j = packB.local(I32);
    const copyFull: Code[] = [];
    for (let t = 0; t < NV; t++) copyFull.push(v128.store(get(d), v128.load(get(sp), t * 16), t * 16));
    packB.body = forRange(jr, c32(0), get(nc), c32(NR),
      set(w, i32.minS(c32(NR), i32.sub(get(nc), get(jr)))),
      set(d, i32.add(get(dst), i32.mul(i32.mul(get(jr), get(kcp)), c32(E)))),
      set(sp, i32.add(get(src), i32.mul(get(jr), c32(E)))),
      // A partial panel is zeroed first so its missing columns are zero.
      if_(i32.ne(get(w), c32(NR)), memory.fill(get(d), c32(0), i32.mul(get(kcp), c32(NR * E)))),
      forRange(q, c32(0), get(kc), c32(1),
        if_(i32.eq(get(w), c32(NR)),
          copyFull,
          forRange(j, c32(0), get(w), c32(1),
            s.store(i32.add(get(d), i32.mul(get(j), c32(E))), s.load(i32.add(get(sp), i32.mul(get(j), c32(E))))))),
        inc(d, c32(NR * E)),
        inc(sp, get(ldb))),
      memory.fill(get(d), c32(0), i32.mul(i32.sub(get(kcp), get(kc)), c32(NR * E))));
  }

  // ---- packA(src, lda, mc, kc, kcp, dst): A block -> panels of MR rows, depth-major ------------
  const packA = mod.func(null, [I32, I32, I32, I32, I32, I32]);
  {
    const [src, lda, mc, kc, kcp, dst] = [0, 1, 2, 3, 4, 5].map((i) => packA.param(i));
    const ir = packA.local(I32), h = packA.local(I32), d = packA.local(I32), sp = packA.local(I32);
    const q = packA.local(I32), r = packA.local(I32), rowp = packA.local(I32);
    const rows = Array.from({ length: MR }, () => packA.local(I32));
    const full: Code[] = [];
    for (let t = 0; t < MR; t++) full.push(s.store(get(d), s.load(get(rows[t]!)), t * E), inc(rows[t]!, c32(E)));
    packA.body = forRange(ir, c32(0), get(mc), c32(MR),
      set(h, i32.minS(c32(MR), i32.sub(get(mc), get(ir)))),
      set(d, i32.add(get(dst), i32.mul(i32.mul(get(ir), get(kcp)), c32(E)))),
      set(sp, i32.add(get(src), i32.mul(get(ir), get(lda)))),
      if_(i32.eq(get(h), c32(MR)),
        [
          rows.map((rp, t) => set(rp, i32.add(get(sp), i32.mul(c32(t), get(lda))))),
          forRange(q, c32(0), get(kc), c32(1), full, inc(d, c32(MR * E))),
          memory.fill(get(d), c32(0), i32.mul(i32.sub(get(kcp), get(kc)), c32(MR * E))),
        ],
        [
          memory.fill(get(d), c32(0), i32.mul(get(kcp), c32(MR * E))),
          forRange(r, c32(0), get(h), c32(1),
            set(rowp, i32.add(get(sp), i32.mul(get(r), get(lda)))),
            forRange(q, c32(0), get(kc), c32(1),
              s.store(i32.add(get(d), i32.mul(i32.add(i32.mul(get(q), c32(MR)), get(r)), c32(E))),
                s.load(i32.add(get(rowp), i32.mul(get(q), c32(E))))))),
        ]));
  }

  // ---- gemm(a, b, c, k, n, i0, i1, scratch) --------------------------------------------------
  const gemm = mod.func("gemm", [I32, I32, I32, I32, I32, I32, I32, I32]);
  {
    const [a, b, c, k, n, i0, i1, scratch] = [0, 1, 2, 3, 4, 5, 6, 7].map((i) => gemm.param(i));
    const L = (): ReturnType<typeof gemm.local> => gemm.local(I32);
    const jc = L(), nc = L(), pc = L(), kc = L(), kcp = L(), ic = L(), mc = L(), jr = L(), ir = L();
    const bufB = L(), bufA = L(), tile = L(), first = L(), ldc = L(), ap = L(), bp = L(), cp = L();
    gemm.body = [
      set(bufB, get(scratch)),
      set(bufA, i32.add(get(scratch), c32(p.kc * p.nc * E))),
      set(tile, i32.add(get(bufA), c32(p.mc * p.kc * E))),
      set(ldc, i32.mul(get(n), c32(E))),
      forRange(jc, c32(0), get(n), c32(p.nc),
        set(nc, i32.minS(c32(p.nc), i32.sub(get(n), get(jc)))),
        forRange(pc, c32(0), get(k), c32(p.kc),
          set(kc, i32.minS(c32(p.kc), i32.sub(get(k), get(pc)))),
          set(kcp, i32.and(i32.add(get(kc), c32(U - 1)), c32(-U))),
          set(first, i32.eqz(get(pc))),
          call(packB.index,
            i32.add(get(b), i32.mul(i32.add(i32.mul(get(pc), get(n)), get(jc)), c32(E))),
            get(ldc), get(kc), get(kcp), get(nc), get(bufB)),
          forRange(ic, get(i0), get(i1), c32(p.mc),
            set(mc, i32.minS(c32(p.mc), i32.sub(get(i1), get(ic)))),
            call(packA.index,
              i32.add(get(a), i32.mul(i32.add(i32.mul(get(ic), get(k)), get(pc)), c32(E))),
              i32.mul(get(k), c32(E)), get(mc), get(kc), get(kcp), get(bufA)),
            forRange(jr, c32(0), get(nc), c32(NR),
              set(bp, i32.add(get(bufB), i32.mul(i32.mul(get(jr), get(kcp)), c32(E)))),
              forRange(ir, c32(0), get(mc), c32(MR),
                set(ap, i32.add(get(bufA), i32.mul(i32.mul(get(ir), get(kcp)), c32(E)))),
                set(cp, i32.add(get(c), i32.mul(
                  i32.add(i32.mul(i32.add(get(ic), get(ir)), get(n)), i32.add(get(jc), get(jr))), c32(E)))),
                if_(i32.and(i32.geS(i32.sub(get(mc), get(ir)), c32(MR)), i32.geS(i32.sub(get(nc), get(jr)), c32(NR))),
                  call(kernel.index, get(kcp), get(ap), get(bp), get(cp), get(ldc), get(first)),
                  [
                    call(kernel.index, get(kcp), get(ap), get(bp), get(tile), c32(NR * E), c32(1)),
                    call(edge.index, get(tile), get(cp), get(ldc),
                      i32.minS(c32(MR), i32.sub(get(mc), get(ir))),
                      i32.minS(c32(NR), i32.sub(get(nc), get(jr))),
                      get(first)),
                  ])))))),
    ];
  }
  return mod.encode();
}

/** Whether the engine validates a module using relaxed-simd f32x4.relaxed_madd. */
export function relaxedSimdSupported(): boolean {
  try {
    return WebAssembly.validate(buildGemmModule({ ...PROBE, fma: true }));
  } catch {
    return false;
  }
}

const PROBE: GemmParams = {
  dtype: "float32", mr: 1, nv: 1, unroll: 1, kc: 4, mc: 1, nc: 4, fma: false, shared: false, maxPages: 1,
};
