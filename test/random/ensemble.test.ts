/**
 * The ensemble: jit(vmap(init)) over split keys gives the same parameters as calling init per key,
 * and the jitted vmapped train step gives the same parameters as 8 separate jitted steps.
 */
import { describe, expect, it } from "vitest";
import { type NDArray, random, tree, vmap } from "../../src/index.js";
import { ENSEMBLE, ensembleData, ensembleStep, init, initEnsemble, member, singleStep, step } from "../../bench/ensemble.js";

const flat = (p: unknown) => tree.leaves(p).flatMap((l) => Array.from((l as NDArray).dataSync(), Number));

describe("ensemble of 8 models", () => {
  it("jit(vmap(init))(random.split(key, 8)) equals init per key", () => {
    const keys = random.split(random.key(0), ENSEMBLE.models);
    const stacked = initEnsemble(keys);
    expect(stacked.w1.shape).toEqual([8, ENSEMBLE.input, ENSEMBLE.hidden]);
    [...keys].forEach((k, i) => expect(flat(member(stacked, i))).toEqual(flat(init(k))));
    // the members differ
    expect(flat(member(stacked, 0))).not.toEqual(flat(member(stacked, 1)));
  });

  it("the jitted vmapped train step equals the eager vmapped step bit for bit", () => {
    const { x, y } = ensembleData();
    const stacked = initEnsemble(random.split(random.key(0), ENSEMBLE.models));
    expect(flat(ensembleStep(stacked, x, y))).toEqual(flat(vmap(step, { inAxes: [0, null, null] })(stacked, x, y)));
  });

  it("three jitted vmapped train steps equal three separate jitted steps per model", () => {
    const { x, y } = ensembleData();
    let stacked = initEnsemble(random.split(random.key(0), ENSEMBLE.models));
    let singles = Array.from({ length: ENSEMBLE.models }, (_, i) => member(stacked, i));
    for (let s = 0; s < 3; s++) {
      stacked = ensembleStep(stacked, x, y);
      singles = singles.map((p) => singleStep(p, x, y));
    }
    singles.forEach((p, i) => {
      const got = flat(member(stacked, i)),
        want = flat(p);
      got.forEach((v, j) => expect(v).toBeCloseTo(want[j]!, 5));
    });
  });
});
