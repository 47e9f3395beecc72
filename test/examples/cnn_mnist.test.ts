/**
 * The CNN example, full run: the default training on the demo's digits must reach 98 % on the
 * 2,000 held-out test digits (never seen in training), with a falling loss and its accuracy line.
 */
import { describe, expect, it } from "vitest";
import { main } from "../../examples/cnn_mnist.js";

describe("examples/cnn_mnist", () => {
  it("the full run classifies at least 98 % of the held-out test digits", () => {
    const lines: string[] = [];
    const r = main({ log: (l) => lines.push(l) });
    expect(r.steps).toBe(10 * 125);
    expect(r.lossHistory).toHaveLength(25);
    expect(r.lossHistory[0]!).toBeLessThan(2.4); // below chance level (ln 10 = 2.30) plus warm-up noise
    expect(r.lossHistory.at(-1)!).toBeLessThan(0.2 * r.lossHistory[0]!);
    expect(r.testAccuracy).toBeGreaterThanOrEqual(0.98);
    expect(lines.at(-1)).toMatch(/^test accuracy \d+\.\d\d % after 1250 steps/);
  }, 600_000);
});
