import { describe, it } from "vitest";
import { allChains, deeperChains, outers, runCell } from "./matrix.js";

const chains = [...allChains(3), ...deeperChains()];

describe(`composition matrix, inner depth 3 (all) and 4: ${outers.length} outer transforms × ${chains.length} inner chains = ${outers.length * chains.length} cells`, () => {
  for (const outer of outers) {
    for (const chain of chains) {
      it(`${outer.name}(${chain.map((c) => c.name).join("(")}${")".repeat(chain.length)}`, () => runCell(outer, chain));
    }
  }
});
