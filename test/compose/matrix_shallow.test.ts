import { describe, it } from "vitest";
import { allChains, outers, runCell } from "./matrix.js";

const chains = [...allChains(1), ...allChains(2)];

describe(`composition matrix, inner depth 1 and 2: ${outers.length} outer transforms × ${chains.length} inner chains = ${outers.length * chains.length} cells`, () => {
  for (const outer of outers) {
    for (const chain of chains) {
      it(`${outer.name}(${chain.map((c) => c.name).join("(")}${")".repeat(chain.length)}`, () => runCell(outer, chain));
    }
  }
});
