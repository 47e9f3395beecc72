/**
 * Worker threads for large fused loops. The loops' linear memory is shared; a call cuts its
 * element range into chunks, writes the chunk plan into shared control words, wakes the workers
 * watching or sleeping on them, and claims chunks itself from the same counter (compare-and-swap),
 * so a worker that is slow to wake (or not yet started: they take tens of milliseconds to boot)
 * simply takes fewer, and if none helps the calling thread runs them all. The caller then waits
 * (`awaitDone`) until every chunk is done, so the jitted call stays synchronous. Each worker
 * instantiates a kernel's module the first time it is sent one.
 *
 *   ctl[CLAIM], ctl[DONE], ctl[FAIL]   the claim protocol of `task_claim.ts` (shared with the matmul)
 *   ctl[GO]    bumped to wake the workers; ctl[GEN], ID, TOTAL, CHUNK, END, PAGES: the plan
 *   ctl[READY] elements whose operands are in memory: a caller that copies operands in chunk by
 *              chunk (`feed`) raises it as it goes, and a worker runs a chunk only once it covers it
 */
import type { Worker as NodeWorker } from "node:worker_threads";
import type { WasmMemory } from "../../src/codegen/wasm_asm.js";
import { CLAIM, DONE, FAIL, awaitChangeSource, awaitDone, claimLoopSource } from "../eval/kernels/task_claim.js";

export const CTL_BYTES = 64;
const GO = 3,
  GEN = 4,
  ID = 5,
  TOTAL = 6,
  CHUNK = 7,
  END = 8,
  PAGES = 9,
  READY = 10;
/** Kernels a worker keeps instantiated (oldest dropped first, on both sides alike). */
const KEPT = 256;

type Run = (e0: number, e1: number) => void;
interface Plan {
  generation: number;
  total: number;
  chunk: number;
  end: number;
}
type RunChunks = (run: Run, ctl: Int32Array, plan: Plan) => number;

/** Plain JavaScript (workers evaluate it too): claims chunks of the plan's generation until none are left. */
const RUN_CHUNKS_SOURCE = claimLoopSource(
  "runChunks",
  ["run", "ctl", "plan"],
  "plan",
  "",
  "const e0 = i * plan.chunk;\n      run(e0, Math.min(plan.end, e0 + plan.chunk));",
);

/**
 * A worker watches ctl[GO] (`awaitChange`: for a while after each run, then asleep); bumped, it
 * takes any kernels sent on its port (synchronously: its event loop is never free), reads the plan
 * (generation first: the caller writes it after the rest, and a plan read across two generations
 * claims nothing) and helps.
 */
const WORKER_SOURCE = `"use strict";
const { workerData, receiveMessageOnPort } = require("node:worker_threads");
${RUN_CHUNKS_SOURCE}
${awaitChangeSource("awaitChange")}
const { memory, ctlOffset, port } = workerData;
const ctl = new Int32Array(memory.buffer, ctlOffset, ${CTL_BYTES / 4});
const kernels = new Map();
for (let seen = Atomics.load(ctl, ${GO}); ; ) {
  seen = awaitChange(ctl, ${GO}, seen);
  // The caller may have grown the memory for this run: see its new size (V8 may refresh another
  // thread's view of a shared memory lazily).
  if (memory.buffer.byteLength < Atomics.load(ctl, ${PAGES}) * 65536) memory.grow(0);
  for (let m = receiveMessageOnPort(port); m !== undefined; m = receiveMessageOnPort(port)) {
    kernels.set(m.message.id, new WebAssembly.Instance(m.message.module, { env: { memory, sin: Math.sin, cos: Math.cos } }).exports.run);
    if (kernels.size > ${KEPT}) kernels.delete(kernels.keys().next().value);
  }
  const generation = Atomics.load(ctl, ${GEN});
  const kernel = kernels.get(Atomics.load(ctl, ${ID}));
  const plan = { generation, total: Atomics.load(ctl, ${TOTAL}), chunk: Atomics.load(ctl, ${CHUNK}), end: Atomics.load(ctl, ${END}) };
  if (kernel !== undefined) runChunks(whenReady(kernel), ctl, plan);
}
/** The kernel, run on a chunk once the caller has copied its operands in (ctl[READY]). */
function whenReady(kernel) {
  return (e0, e1) => {
    for (let r = Atomics.load(ctl, ${READY}); r < e1; r = Atomics.load(ctl, ${READY})) Atomics.wait(ctl, ${READY}, r);
    kernel(e0, e1);
  };
}
`;

interface Helper {
  readonly worker: NodeWorker;
  /** Where kernels' modules are sent. */
  readonly port: { postMessage(m: unknown): void };
  /** Kernel ids this worker holds, in the order it received them. */
  readonly sent: Set<number>;
}

/** The threads of one shared memory. */
export class LoopPool {
  private helpers: Helper[] | null = [];
  private generation = 0;
  /** Runs whose operands were copied in chunk by chunk beside the workers (tests check the path). */
  fedRuns = 0;
  private runChunks: RunChunks | null = null;
  private readonly ctl: Int32Array;

  constructor(
    private readonly memory: WasmMemory,
    private readonly ctlOffset: number,
    readonly threads: number,
  ) {
    this.ctl = new Int32Array(memory.buffer, ctlOffset, CTL_BYTES / 4);
  }

  /**
   * Runs `run` over [0, end) in chunks of `chunk` elements on this thread and the workers. With
   * `feed`, this thread first copies the operands of each chunk in turn (`feed(e0, e1)`) while the
   * workers start on the chunks already there, then claims chunks itself: the copy, which only this
   * thread can make, overlaps the workers' arithmetic.
   */
  run(id: number, module: object, run: Run, end: number, chunk: number, feed: Run | null = null): void {
    const helpers = this.start();
    if (helpers.length === 0 || this.runChunks === null) {
      feed?.(0, end);
      run(0, end);
      return;
    }
    const ctl = this.ctl;
    this.generation = (this.generation % 0x7fff) + 1;
    const plan: Plan = { generation: this.generation, total: Math.ceil(end / chunk), chunk, end };
    for (const h of helpers)
      if (!h.sent.has(id)) {
        h.port.postMessage({ id, module });
        h.sent.add(id);
        if (h.sent.size > KEPT) h.sent.delete(h.sent.values().next().value!);
      }
    Atomics.store(ctl, DONE, 0);
    Atomics.store(ctl, FAIL, 0);
    Atomics.store(ctl, ID, id);
    Atomics.store(ctl, TOTAL, plan.total);
    Atomics.store(ctl, CHUNK, chunk);
    Atomics.store(ctl, END, end);
    Atomics.store(ctl, PAGES, this.memory.buffer.byteLength / 65536);
    Atomics.store(ctl, READY, feed === null ? end : 0);
    Atomics.store(ctl, GEN, plan.generation);
    Atomics.store(ctl, CLAIM, plan.generation << 16);
    Atomics.add(ctl, GO, 1);
    Atomics.notify(ctl, GO);
    let failure: { error: unknown } | null = null;
    if (feed !== null)
      try {
        this.fedRuns++;
        for (let e0 = 0; e0 < end; e0 += chunk) {
          const e1 = Math.min(end, e0 + chunk);
          feed(e0, e1);
          Atomics.store(ctl, READY, e1);
          Atomics.notify(ctl, READY);
        }
      } catch (error) {
        failure = { error };
      } finally {
        // Never leave a worker waiting: after a failed copy the chunks run on whatever is there,
        // and the error is raised once every chunk is done (the next run may reuse the memory).
        Atomics.store(ctl, READY, end);
        Atomics.notify(ctl, READY);
      }
    this.runChunks(run, ctl, plan);
    awaitDone(ctl, plan.total);
    if (failure !== null) throw failure.error;
    if (Atomics.load(ctl, FAIL) !== 0) throw new Error("fused loop: the WebAssembly kernel failed in a worker thread");
  }

  /** The workers, created on first use; none if they cannot be (no worker_threads, no code generation). */
  private start(): Helper[] {
    if (this.helpers === null) return [];
    try {
      this.runChunks ??= new Function(`${RUN_CHUNKS_SOURCE}\nreturn runChunks;`)() as RunChunks;
      const wt = globalThis.process?.getBuiltinModule?.("node:worker_threads");
      if (wt === undefined) throw new Error("worker_threads unavailable");
      while (this.helpers.length < this.threads - 1) {
        const { port1, port2 } = new wt.MessageChannel();
        const worker = new wt.Worker(WORKER_SOURCE, {
          eval: true,
          workerData: { memory: this.memory, ctlOffset: this.ctlOffset, port: port2 },
          transferList: [port2],
        });
        worker.unref();
        port1.unref();
        const helper: Helper = { worker, port: port1, sent: new Set() };
        // A worker that fails later only stops helping: chunks it never claimed run here.
        worker.on("error", () => {
          if (this.helpers !== null) this.helpers = this.helpers.filter((h) => h !== helper);
        });
        this.helpers.push(helper);
      }
    } catch {
      if (this.helpers.length === 0) this.helpers = null;
    }
    return this.helpers ?? [];
  }
}
