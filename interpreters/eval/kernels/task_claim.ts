/**
 * The claim protocol shared by the thread pools (the matmul's workers, the fused loops' workers):
 * the caller publishes a task set of some generation, and every thread, the caller included, claims
 * tasks from one counter until none are left.
 *
 *   ctl[CLAIM] = (generation << 16) | next task     claimed by compare-and-swap; a stale generation claims nothing
 *   ctl[DONE]  = tasks finished in this generation   the caller waits on it
 *   ctl[FAIL]  = 1 if a task threw                   the caller then throws
 */
import { int } from "../../../src/codegen/tokens.js";

export const CLAIM = 0,
  DONE = 1,
  FAIL = 2;

/**
 * Plain JavaScript source (workers evaluate it too; they cannot import TS modules) of
 * `function name(...params)`: runs `setup` once, then claims tasks of generation `set.generation`
 * up to `set.total` (`set` names the task set's parameter) and runs `task` for each, with the task's
 * index in `i`; returns how many tasks it ran. The texts given are fixed source written by the
 * callers, never user input.
 */
export function claimLoopSource(name: string, params: readonly string[], set: string, setup: string, task: string): string {
  return `function ${name}(${params.join(", ")}) {
  ${setup}
  let ran = 0;
  for (;;) {
    const w = Atomics.load(ctl, ${int(CLAIM)});
    if ((w >>> 16) !== ${set}.generation || (w & 0xffff) >= ${set}.total) return ran;
    if (Atomics.compareExchange(ctl, ${int(CLAIM)}, w, w + 1) !== w) continue;
    const i = w & 0xffff;
    try {
      ${task}
    } catch (err) {
      Atomics.store(ctl, ${int(FAIL)}, 1);
    }
    ran++;
    Atomics.add(ctl, ${int(DONE)}, 1);
    Atomics.notify(ctl, ${int(DONE)});
  }
}`;
}

/**
 * How long a worker keeps watching for the next task set after finishing one, and how long a caller
 * watches for the last task's report, before sleeping in `Atomics.wait`. A thread woken from
 * `Atomics.wait` took 20–36 µs to run (measured on a shared 2-core host), longer than a whole small
 * product; a watching one sees the change within a microsecond. A program's threaded steps come
 * tens of microseconds apart, so the workers stay awake through a step and sleep soon after it.
 */
export const WORKER_WATCH_US = 500;
export const CALLER_WATCH_US = 1000;

/**
 * Plain JavaScript source (for workers) of `function name(ctl, word, seen)`: waits until ctl[word]
 * differs from `seen`, watching it for WORKER_WATCH_US before sleeping; returns the new value.
 */
export function awaitChangeSource(name: string): string {
  return `function ${name}(ctl, word, seen) {
  const until = performance.now() + ${int(WORKER_WATCH_US)} / 1000;
  for (let i = 0; ; i++) {
    const now = Atomics.load(ctl, word);
    if (now !== seen) return now;
    if ((i & 255) === 255 && performance.now() > until) break;
  }
  Atomics.wait(ctl, word, seen);
  return Atomics.load(ctl, word);
}`;
}

/** On the calling thread: returns once ctl[DONE] reaches `total`, watching it for CALLER_WATCH_US before sleeping. */
export function awaitDone(ctl: Int32Array, total: number): void {
  const until = performance.now() + CALLER_WATCH_US / 1000;
  for (let i = 0; Atomics.load(ctl, DONE) < total; i++) if ((i & 255) === 255 && performance.now() > until) break;
  for (let done = Atomics.load(ctl, DONE); done < total; done = Atomics.load(ctl, DONE)) Atomics.wait(ctl, DONE, done);
}
