/** Laws of composed transforms over random programs: vmap with grad and jvp, Hessians, nesting. */
import { describe, expect, it } from "vitest";
import { LAWS } from "../../laws/index.js";
import { firstOrder, lawOverPrograms, secondOrder } from "./run_programs.js";

describe("second-order laws over random programs", () => {
  it("the two program suites together run every law", () => {
    expect(new Set([...firstOrder, ...secondOrder])).toEqual(new Set(LAWS));
  });
  for (const law of secondOrder) lawOverPrograms(law);
});
