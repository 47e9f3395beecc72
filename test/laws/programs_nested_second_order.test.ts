/** Laws of composed transforms over random nested programs: vmap with grad and jvp, Hessians, nesting. */
import { describe } from "vitest";
import { lawOverNestedPrograms, secondOrder } from "./run_programs.js";

describe("second-order laws over random nested programs", () => {
  for (const law of secondOrder) lawOverNestedPrograms(law);
});
