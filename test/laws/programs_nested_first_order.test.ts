/** First-order laws over random nested programs (higher-order ops inside each other, with closures). */
import { describe } from "vitest";
import { firstOrder, lawOverNestedPrograms } from "./run_programs.js";

describe("first-order laws over random nested programs", () => {
  for (const law of firstOrder) lawOverNestedPrograms(law);
});
