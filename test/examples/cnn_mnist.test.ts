/**
 * The CNN example, short: 100 steps of the real training loop on the demo's digits. The loss must
 * fall and the network must already beat chance by far; a full run (npx tsx examples/cnn_mnist.ts)
 * is what reaches 98 %.
 */
import { describe, expect, it } from "vitest";
import { main } from "../../examples/cnn_mnist.js";

describe("examples/cnn_mnist", () => {
  it("a short run lowers the loss and classifies most test digits", () => {
    const lines: string[] = [];
    const r = main({ steps: 100, log: (l) => lines.push(l) });
    expect(r.steps).toBe(100);
    expect(r.lossHistory).toHaveLength(2);
    expect(r.lossHistory[0]!).toBeLessThan(2.4); // below chance level (ln 10 = 2.30) plus warm-up noise
    expect(r.lossHistory[1]!).toBeLessThan(0.8 * r.lossHistory[0]!);
    expect(r.testAccuracy).toBeGreaterThan(0.8);
    expect(lines.at(-1)).toMatch(/^test accuracy \d+\.\d\d % after 100 steps/);
  }, 300_000);
});
