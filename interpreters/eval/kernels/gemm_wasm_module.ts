/**
 * The WebAssembly SIMD matrix multiply, written with the assembler in `wasm_asm.ts`. This file only
 * builds module bytes; `matmul_engine.ts` instantiates them and splits work across threads, and
 * `matmul_wasm.ts` copies operands in and out. The module imports its memory as `env.memory` and
 * exports four functions (all addresses are byte offsets into that memory, matrices row-major, sizes
 * in elements):
 *
 *   packB(b, k, n, dst)                    packs all of B (K x N) into ceil(N / NR) column panels,
 *                                          panel j = columns [j NR, j NR + NR) as K x NR contiguous
 *                                          rows (the last panel zero-padded); `packedBBytes` bytes
 *   gemm(a, bp, c, ldc, k, n, i0, i1, scratch)
 *                                          rows i0 <= i < i1 of C = A · B (A is M x K, C is M x N
 *                                          with a row stride of ldc bytes, bp is B packed by
 *                                          packB); those C rows are overwritten.
 *                                          `scratch` is a private area of `scratchBytes` bytes, so
 *                                          threads sharing one memory and one packed B each pass
 *                                          their own and may run disjoint row ranges concurrently
 *   packBT(b, k, n, dst)                   the same panels from a B stored transposed (N x K)
 *   gemmT(a, bp, c, ldc, k, n, i0, i1, scratch, lda)
 *                                          the same with A stored transposed (K x M, rows lda bytes
 *                                          apart): A is packed from that layout into the same panels
 *
 * Blocking scheme (GotoBLAS/BLIS loop nest; E = element bytes, NR = NV x lanes):
 *
 *   for jc in [0, N) step NC:                      column block of C (B block KC x NC ~ 1 MiB, L2)
 *     for pc in [0, K) step KC:                    depth block
 *       for ic in [i0, i1) step MC:                row block
 *         pack A[ic:ic+MC, pc:pc+KC] -> Ap         panels of MR rows, depth-major (KC x MR each)
 *         for jr in [0, NC) step NR:               one B panel slice (KC x NR, 16 KiB) stays in L1
 *           for ir in [0, MC) step MR:             ... while the A panels stream from L2
 *             micro-kernel: the MR x NR tile of C, held in MR x NV v128 accumulators over the
 *             whole depth block, then stored (first depth block) or added into C
 *
 * B is packed once per product (by the caller, before any thread starts), so splitting C into row
 * bands costs no repeated packing; A is packed per row block, an O(M·K·N/NC) copy.
 *
 * Micro-kernel: per depth step it loads the NV vectors of the B panel row and, for each of the MR
 * rows, one A element broadcast to all lanes (v128.load32_splat / load64_splat), then does MR x NV
 * multiply-adds (f32x4.mul + f32x4.add: relaxed-simd FMA is not enabled in Node 20, and with
 * --experimental-wasm-relaxed-simd it measured slower). Edge tiles (fewer than MR rows or NR
 * columns left) run the same kernel on zero-padded panels into a scratch tile and copy the valid
 * part out.
 *
 * Tile shape, measured (Zen 5, V8 11.3, 1024^3 float32, CPU-time GFLOP/s): 2 x 16 ~47, 4 x 8 ~39,
 * 3 x 8 / 2 x 12 ~37, 2 x 20 / 3 x 12 ~20. V8's x64 backend allocates 15 xmm registers and its
 * scheduler issues all of a step's loads before the arithmetic, so MR x NV accumulators + NV B
 * vectors + MR broadcasts + 1 product must fit in 15: 2 x 16 uses exactly 15 (8 + 4 + 2 + 1); any
 * bigger tile, or unrolling the depth loop (which hoists the next step's loads too), spills
 * accumulators to the stack and loses a third or more. The same 2 x NV = 4 shape serves float64
 * (2 x 8 doubles). Blocking sizes were flat within noise for KC 128..512 and MC 64..512.
 */
import {
  type Code,
  I32,
  type Local,
  ModuleBuilder,
  V128,
  type VectorOps,
  type ScalarOps,
  block,
  br,
  brIf,
  bits,
  call,
  f32,
  f32x4,
  f64,
  f64x2,
  forRange,
  get,
  i32,
  if_,
  inc,
  loop,
  memory,
  set,
  v128,
  wasmApi,
} from "../../../src/codegen/wasm_asm.js";

/** Shape and blocking parameters of a generated module. */
export interface GemmParams {
  /** Element type. */
  readonly dtype: "float32" | "float64";
  /** Rows of the register tile. */
  readonly mr: number;
  /** v128 vectors per tile row (NR = nv * lanes columns). */
  readonly nv: number;
  /** Depth block, row block (multiple of mr), column block (multiple of NR). */
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

const TYPES32: { s: ScalarOps; v: VectorOps } = { s: f32, v: f32x4 },
  TYPES64: { s: ScalarOps; v: VectorOps } = { s: f64, v: f64x2 };
const types = (dtype: GemmParams["dtype"]): { s: ScalarOps; v: VectorOps } => (dtype === "float32" ? TYPES32 : TYPES64);

/** Columns of the register tile. */
export const tileCols = (p: Pick<GemmParams, "nv" | "dtype">): number => p.nv * types(p.dtype).v.lanes;

/** Bytes of private scratch one `gemm` call needs: packed A block and edge tile. */
export function scratchBytes(p: GemmParams): number {
  return (p.mc * p.kc + p.mr * tileCols(p)) * types(p.dtype).s.bytes;
}

/** Bytes `packB` writes for a K x N matrix: ceil(N / NR) panels of K x NR. */
export function packedBBytes(p: Pick<GemmParams, "nv" | "dtype">, k: number, n: number): number {
  const nr = tileCols(p);
  return Math.ceil(n / nr) * nr * k * types(p.dtype).s.bytes;
}

/** Encodes the module for the given parameters. */
export function buildGemmModule(p: GemmParams): Uint8Array {
  const { s, v } = types(p.dtype);
  const E = s.bytes,
    MR = p.mr,
    NV = p.nv,
    NR = tileCols(p);
  if (p.mc % MR !== 0 || p.nc % NR !== 0 || MR % 2 !== 0) {
    throw new RangeError("gemm module: inconsistent blocking parameters");
  }
  const c32 = i32.const;
  const mod = new ModuleBuilder({ initial: 1, maximum: p.maxPages, shared: p.shared });

  // ---- micro-kernel(kc, ap, bp, cp, ldc, first): C tile (=|+=) Ap panel · Bp panel -------------
  const kernel = mod.func(null, [I32, I32, I32, I32, I32, I32]);
  {
    const [kc, ap, bp, cp, ldc, first] = [0, 1, 2, 3, 4, 5].map((i) => kernel.param(i));
    const acc = Array.from({ length: MR }, () => Array.from({ length: NV }, () => kernel.local(V128)));
    const bv = Array.from({ length: NV }, () => kernel.local(V128));
    const a = kernel.local(V128);
    const row = kernel.local(I32);
    const step: Code[] = [];
    for (let j = 0; j < NV; j++) step.push(set(bv[j]!, v128.load(get(bp), j * 16)));
    for (let r = 0; r < MR; r++) {
      step.push(set(a, v.loadSplat(get(ap), r * E)));
      for (let j = 0; j < NV; j++) {
        const x = acc[r]![j]!;
        step.push(set(x, p.fma ? v.relaxedMadd(get(a), get(bv[j]!), get(x)) : v.add(get(x), v.mul(get(a), get(bv[j]!)))));
      }
    }
    const store: Code[] = [],
      accumulate: Code[] = [];
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
      // Depth loop; kc >= 1.
      loop(step, inc(ap, c32(MR * E)), inc(bp, c32(NR * E)), set(kc, i32.sub(get(kc), c32(1))), brIf(0, get(kc))),
      set(row, get(cp)),
      if_(get(first), store, accumulate),
    ];
  }

  // ---- edge(tile, cp, ldc, mr, nr, first): copy (or add) the valid mr x nr part of a tile -------
  const edge = mod.func(null, [I32, I32, I32, I32, I32, I32]);
  {
    const [tile, cp, ldc, mr, nr, first] = [0, 1, 2, 3, 4, 5].map((i) => edge.param(i));
    const r = edge.local(I32),
      j = edge.local(I32);
    const src = i32.add(get(tile), i32.add(i32.mul(get(r), c32(NR * E)), i32.mul(get(j), c32(E))));
    const dst = i32.add(get(cp), i32.add(i32.mul(get(r), get(ldc)), i32.mul(get(j), c32(E))));
    edge.body = forRange(
      r,
      c32(0),
      get(mr),
      c32(1),
      forRange(j, c32(0), get(nr), c32(1), if_(get(first), s.store(dst, s.load(src)), s.store(dst, s.add(s.load(dst), s.load(src))))),
    );
  }

  // ---- packB(b, k, n, dst): all of B -> panels of NR columns, each K x NR contiguous -----------
  const packB = mod.func("packB", [I32, I32, I32, I32]);
  {
    const [b, k, n, dst] = [0, 1, 2, 3].map((i) => packB.param(i));
    const L = (): Local => packB.local(I32);
    const ldb = L(),
      full = L(),
      panelBytes = L(),
      q0 = L(),
      q1 = L(),
      q = L(),
      jr = L(),
      j = L(),
      w = L(),
      d = L(),
      sp = L();
    const copyFull: Code[] = [];
    for (let t = 0; t < NV; t++) copyFull.push(v128.store(get(d), v128.load(get(sp), t * 16), t * 16));
    // Full panels in bands of QB rows of B (the band stays in cache while it is scattered to the
    // panels; panel-by-panel order thrashes when the row stride is a power of two: 3x slower at
    // N = 2048), then the last, partial panel, zeroed first so its missing columns are zero.
    const QB = 8;
    packB.body = [
      set(ldb, i32.mul(get(n), c32(E))),
      set(full, i32.and(get(n), c32(-NR))),
      set(panelBytes, i32.mul(get(k), c32(NR * E))),
      forRange(
        q0,
        c32(0),
        get(k),
        c32(QB),
        set(q1, i32.minS(get(k), i32.add(get(q0), c32(QB)))),
        forRange(
          jr,
          c32(0),
          get(full),
          c32(NR),
          set(sp, i32.add(get(b), i32.add(i32.mul(get(q0), get(ldb)), i32.mul(get(jr), c32(E))))),
          set(d, i32.add(get(dst), i32.mul(i32.add(i32.mul(get(jr), get(k)), i32.mul(get(q0), c32(NR))), c32(E)))),
          forRange(q, get(q0), get(q1), c32(1), copyFull, inc(sp, get(ldb)), inc(d, c32(NR * E))),
        ),
      ),
      if_(i32.ne(get(full), get(n)), [
        set(w, i32.sub(get(n), get(full))),
        set(d, i32.add(get(dst), i32.mul(i32.mul(get(full), get(k)), c32(E)))),
        set(sp, i32.add(get(b), i32.mul(get(full), c32(E)))),
        memory.fill(get(d), c32(0), get(panelBytes)),
        forRange(
          q,
          c32(0),
          get(k),
          c32(1),
          forRange(j, c32(0), get(w), c32(1), s.store(i32.add(get(d), i32.mul(get(j), c32(E))), s.load(i32.add(get(sp), i32.mul(get(j), c32(E)))))),
          inc(d, c32(NR * E)),
          inc(sp, get(ldb)),
        ),
      ]),
    ];
  }

  // ---- packBT(b, k, n, dst): packB's panels from a B stored transposed (N x K) ------------------
  // Row q of a panel gathers NR elements K apart; the last panel is zeroed first, as in packB.
  const packBT = mod.func("packBT", [I32, I32, I32, I32]);
  {
    const [b, k, n, dst] = [0, 1, 2, 3].map((i) => packBT.param(i));
    const L = (): Local => packBT.local(I32);
    const ldt = L(),
      jr = L(),
      w = L(),
      q = L(),
      j = L(),
      d = L(),
      sp = L();
    packBT.body = [
      set(ldt, i32.mul(get(k), c32(E))),
      forRange(
        jr,
        c32(0),
        get(n),
        c32(NR),
        set(w, i32.minS(c32(NR), i32.sub(get(n), get(jr)))),
        set(d, i32.add(get(dst), i32.mul(i32.mul(get(jr), get(k)), c32(E)))),
        if_(i32.ne(get(w), c32(NR)), memory.fill(get(d), c32(0), i32.mul(get(k), c32(NR * E)))),
        forRange(
          q,
          c32(0),
          get(k),
          c32(1),
          set(sp, i32.add(get(b), i32.add(i32.mul(get(jr), get(ldt)), i32.mul(get(q), c32(E))))),
          forRange(j, c32(0), get(w), c32(1), s.store(i32.add(get(d), i32.mul(get(j), c32(E))), s.load(get(sp))), inc(sp, get(ldt))),
          inc(d, c32(NR * E)),
        ),
      ),
    ];
  }

  // ---- packA(src, lda, acs, mc, kc, dst): A block -> panels of MR rows, depth-major -----------
  // Element (i, q) of the block is at src + i·lda + q·acs bytes: acs = E for a row-major A, and
  // lda = E for one stored transposed (its rows are A's columns), which is packed as cheaply.
  const packA = mod.func(null, [I32, I32, I32, I32, I32, I32]);
  {
    const [src, lda, acs, mc, kc, dst] = [0, 1, 2, 3, 4, 5].map((i) => packA.param(i));
    const ir = packA.local(I32),
      h = packA.local(I32),
      d = packA.local(I32),
      sp = packA.local(I32);
    const q = packA.local(I32),
      r = packA.local(I32),
      rowp = packA.local(I32);
    const rows = Array.from({ length: MR }, () => packA.local(I32));
    const full: Code[] = [];
    for (let t = 0; t < MR; t++) full.push(s.store(get(d), s.load(get(rows[t]!)), t * E), inc(rows[t]!, get(acs)));
    // A row-major A (acs = E) is packed G = 16 / E depths at a time: one vector per row, rows
    // interleaved in pairs (MR is even), each pair's 2·E bytes per depth stored where they go.
    const G = 16 / E;
    const [r0, r1, lo, hi] = [0, 1, 2, 3].map(() => packA.local(V128));
    // Bytes of (row t, row t+1) interleaved: lo holds depths 0 and 1 (float32) or 0 (float64), hi the next.
    const low = E === 4 ? [0, 1, 2, 3, 16, 17, 18, 19, 4, 5, 6, 7, 20, 21, 22, 23] : [0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23];
    const vectors: Code[] = [];
    for (let t = 0; t < MR; t += 2) {
      vectors.push(
        set(r0, v128.load(get(rows[t]!))),
        set(r1, v128.load(get(rows[t + 1]!))),
        set(lo, bits.shuffle(get(r0), get(r1), low)),
        set(
          hi,
          bits.shuffle(
            get(r0),
            get(r1),
            low.map((b) => b + 8),
          ),
        ),
      );
      for (let g = 0; g < G; g++) {
        const at = (g * MR + t) * E;
        if (E === 8) vectors.push(v128.store(get(d), get(g === 0 ? lo : hi), at));
        else vectors.push(bits.store64Lane(get(d), get(g < 2 ? lo : hi), (g & 1) as 0 | 1, at));
      }
    }
    for (let t = 0; t < MR; t++) vectors.push(inc(rows[t]!, c32(16)));
    vectors.push(inc(d, c32(G * MR * E)));
    // A stored transposed (lda = E): a depth's MR elements lie together; copied 16 and 8 bytes at a time.
    const column: Code[] = [];
    for (let b = 0; b + 16 <= MR * E; b += 16) column.push(v128.store(get(d), v128.load(get(rows[0]!), b), b));
    if ((MR * E) % 16 !== 0) column.push(bits.store64Lane0(get(d), bits.load64Zero(get(rows[0]!), MR * E - 8), MR * E - 8));
    column.push(inc(rows[0]!, get(acs)), inc(d, c32(MR * E)));
    packA.body = forRange(
      ir,
      c32(0),
      get(mc),
      c32(MR),
      set(h, i32.minS(c32(MR), i32.sub(get(mc), get(ir)))),
      set(d, i32.add(get(dst), i32.mul(i32.mul(get(ir), get(kc)), c32(E)))),
      set(sp, i32.add(get(src), i32.mul(get(ir), get(lda)))),
      if_(
        i32.eq(get(h), c32(MR)),
        [
          rows.map((rp, t) => set(rp, i32.add(get(sp), i32.mul(c32(t), get(lda))))),
          if_(
            i32.eq(get(acs), c32(E)),
            [
              forRange(q, c32(0), i32.sub(get(kc), c32(G - 1)), c32(G), vectors),
              // The last kc mod G depths one by one (q continues where the vector loop stopped).
              block(loop(brIf(1, i32.geS(get(q), get(kc))), full, inc(d, c32(MR * E)), inc(q, c32(1)), br(0))),
            ],
            if_(
              i32.eq(get(lda), c32(E)),
              forRange(q, c32(0), get(kc), c32(1), column),
              forRange(q, c32(0), get(kc), c32(1), full, inc(d, c32(MR * E))),
            ),
          ),
        ],
        [
          // The last, partial panel: zero it, then copy its h rows.
          memory.fill(get(d), c32(0), i32.mul(get(kc), c32(MR * E))),
          forRange(
            r,
            c32(0),
            get(h),
            c32(1),
            set(rowp, i32.add(get(sp), i32.mul(get(r), get(lda)))),
            forRange(
              q,
              c32(0),
              get(kc),
              c32(1),
              s.store(
                i32.add(get(d), i32.mul(i32.add(i32.mul(get(q), c32(MR)), get(r)), c32(E))),
                s.load(i32.add(get(rowp), i32.mul(get(q), get(acs)))),
              ),
            ),
          ),
        ],
      ),
    );
  }

  // ---- gemm(a, bp, c, ldc, k, n, i0, i1, scratch): rows [i0, i1) of C = A · B, B packed -------
  // ---- gemmT(..., lda): the same with A stored transposed (K x M, rows lda bytes apart) --------
  for (const transposed of [false, true]) {
    const gemm = transposed
      ? mod.func("gemmT", [I32, I32, I32, I32, I32, I32, I32, I32, I32, I32])
      : mod.func("gemm", [I32, I32, I32, I32, I32, I32, I32, I32, I32]);
    const [a, bpk, c, ldc, k, n, i0, i1, scratch] = [0, 1, 2, 3, 4, 5, 6, 7, 8].map((i) => gemm.param(i));
    /** Where A[ic, pc] is, its row stride and its column stride, in bytes. */
    const aBlock = (ic: Code, pc: Code): Code[] =>
      transposed
        ? [i32.add(get(a), i32.add(i32.mul(pc, get(gemm.param(9))), i32.mul(ic, c32(E)))), c32(E), get(gemm.param(9))]
        : [i32.add(get(a), i32.mul(i32.add(i32.mul(ic, get(k)), pc), c32(E))), i32.mul(get(k), c32(E)), c32(E)];
    const L = (): Local => gemm.local(I32);
    const jc = L(),
      nc = L(),
      pc = L(),
      kc = L(),
      ic = L(),
      mc = L(),
      jr = L(),
      ir = L();
    const bufA = L(),
      tile = L(),
      first = L(),
      ap = L(),
      bp = L(),
      cp = L();
    gemm.body = [
      set(bufA, get(scratch)),
      set(tile, i32.add(get(bufA), c32(p.mc * p.kc * E))),
      forRange(
        jc,
        c32(0),
        get(n),
        c32(p.nc),
        set(nc, i32.minS(c32(p.nc), i32.sub(get(n), get(jc)))),
        forRange(
          pc,
          c32(0),
          get(k),
          c32(p.kc),
          set(kc, i32.minS(c32(p.kc), i32.sub(get(k), get(pc)))),
          set(first, i32.eqz(get(pc))),
          forRange(
            ic,
            get(i0),
            get(i1),
            c32(p.mc),
            set(mc, i32.minS(c32(p.mc), i32.sub(get(i1), get(ic)))),
            call(packA.index, ...aBlock(get(ic), get(pc)), get(mc), get(kc), get(bufA)),
            forRange(
              jr,
              c32(0),
              get(nc),
              c32(NR),
              // Panel (jc + jr) / NR starts at (jc + jr) * K elements; depth pc is pc * NR further.
              set(bp, i32.add(get(bpk), i32.mul(i32.add(i32.mul(i32.add(get(jc), get(jr)), get(k)), i32.mul(get(pc), c32(NR))), c32(E)))),
              forRange(
                ir,
                c32(0),
                get(mc),
                c32(MR),
                set(ap, i32.add(get(bufA), i32.mul(i32.mul(get(ir), get(kc)), c32(E)))),
                set(cp, i32.add(get(c), i32.add(i32.mul(i32.add(get(ic), get(ir)), get(ldc)), i32.mul(i32.add(get(jc), get(jr)), c32(E))))),
                if_(
                  i32.and(i32.geS(i32.sub(get(mc), get(ir)), c32(MR)), i32.geS(i32.sub(get(nc), get(jr)), c32(NR))),
                  call(kernel.index, get(kc), get(ap), get(bp), get(cp), get(ldc), get(first)),
                  [
                    call(kernel.index, get(kc), get(ap), get(bp), get(tile), c32(NR * E), c32(1)),
                    call(
                      edge.index,
                      get(tile),
                      get(cp),
                      get(ldc),
                      i32.minS(c32(MR), i32.sub(get(mc), get(ir))),
                      i32.minS(c32(NR), i32.sub(get(nc), get(jr))),
                      get(first),
                    ),
                  ],
                ),
              ),
            ),
          ),
        ),
      ),
    ];
  }
  return mod.encode();
}

/** Whether the engine validates a module using relaxed-simd f32x4.relaxed_madd. */
export function relaxedSimdSupported(): boolean {
  try {
    return wasmApi?.validate(buildGemmModule({ ...PROBE, fma: true })) ?? false;
  } catch {
    return false;
  }
}

const PROBE: GemmParams = {
  dtype: "float32",
  mr: 1,
  nv: 1,
  kc: 4,
  mc: 1,
  nc: 4,
  fma: false,
  shared: false,
  maxPages: 1,
};
