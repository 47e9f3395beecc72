/**
 * The waits of the thread pools' protocol (`task_claim.ts`): a worker watches a control word for a
 * while and then sleeps on it, the caller watches DONE and then sleeps on it. Both must return on
 * a change made inside the watch window and on one made long after it (from the sleeping branch).
 */
import { Worker } from "node:worker_threads";
import { describe, expect, it } from "vitest";
import { CALLER_WATCH_US, DONE, WORKER_WATCH_US, awaitChangeSource, awaitDone } from "../../interpreters/eval/kernels/task_claim.js";

const WORD = 3;

/** A worker that waits (awaitChange) for ctl[WORD] to leave 0 and reports the value it saw in ctl[4]. */
function watcher(ctl: Int32Array): Worker {
  const source = `const { workerData } = require("node:worker_threads");
${awaitChangeSource("awaitChange")}
const ctl = new Int32Array(workerData.sab);
Atomics.store(ctl, 5, 1);
const seen = awaitChange(ctl, ${WORD}, 0);
Atomics.store(ctl, 4, seen);
Atomics.add(ctl, ${DONE}, 1);
Atomics.notify(ctl, ${DONE});`;
  return new Worker(source, { eval: true, workerData: { sab: ctl.buffer } });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function started(ctl: Int32Array): Promise<void> {
  for (let i = 0; i < 500 && Atomics.load(ctl, 5) === 0; i++) await sleep(10);
  expect(Atomics.load(ctl, 5)).toBe(1);
}

describe("task_claim waits", () => {
  it.each([
    ["while it watches", 0],
    ["after it has gone to sleep", WORKER_WATCH_US / 1000 + 30],
  ])("a worker sees a change made %s", async (_, delay) => {
    const ctl = new Int32Array(new SharedArrayBuffer(64));
    const worker = watcher(ctl);
    try {
      await started(ctl);
      if (delay > 0) await sleep(delay);
      Atomics.store(ctl, WORD, 7);
      Atomics.notify(ctl, WORD);
      awaitDone(ctl, 1);
      expect(Atomics.load(ctl, 4)).toBe(7);
    } finally {
      await worker.terminate();
    }
  });

  it("the caller returns once DONE reaches the total, also when that takes longer than its watch", async () => {
    const ctl = new Int32Array(new SharedArrayBuffer(64));
    const late = CALLER_WATCH_US / 1000 + 30;
    const worker = new Worker(
      `const { workerData } = require("node:worker_threads");
const ctl = new Int32Array(workerData.sab);
Atomics.store(ctl, 5, 1);
Atomics.wait(ctl, 6, 0);
const until = Date.now() + workerData.late;
while (Date.now() < until) {}
for (let i = 0; i < 3; i++) { Atomics.add(ctl, ${DONE}, 1); Atomics.notify(ctl, ${DONE}); }`,
      { eval: true, workerData: { sab: ctl.buffer, late } },
    );
    try {
      await started(ctl);
      const t0 = Date.now();
      Atomics.store(ctl, 6, 1);
      Atomics.notify(ctl, 6);
      awaitDone(ctl, 3);
      expect(Atomics.load(ctl, DONE)).toBe(3);
      expect(Date.now() - t0).toBeGreaterThanOrEqual(late - 5);
    } finally {
      await worker.terminate();
    }
  });
});
