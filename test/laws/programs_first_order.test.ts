/** First-order laws over random programs: jvp against finite differences, linearity, transpose identity, vmap, primals. */
import { describe } from "vitest";
import { firstOrder, lawOverPrograms } from "./run_programs.js";

describe("first-order laws over random programs", () => {
  for (const law of firstOrder) lawOverPrograms(law);
});
