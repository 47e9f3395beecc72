/** `npm run test:laws`: the laws suites at full strength (10,000 random programs and 10,000 random nested programs per law). */
import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

export default defineConfig({
  root: fileURLToPath(new URL("../..", import.meta.url)),
  test: {
    include: ["test/laws/**/*.test.ts"],
    env: { FLUXION_LAWS: "full" },
    testTimeout: 3_600_000,
    hookTimeout: 60_000,
    pool: "forks",
    // Both cores of a 2-core machine (vitest's default leaves one idle).
    maxWorkers: 2,
  },
});
