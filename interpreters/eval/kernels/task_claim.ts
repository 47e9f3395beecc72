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
