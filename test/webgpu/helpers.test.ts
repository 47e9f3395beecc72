/**
 * Shader modules carry only the WGSL helper functions their kernel calls, and the ones those call
 * (pure string work: no adapter needed; the device suites compile every kernel this way).
 */
import { describe, expect, it } from "vitest";
import { WGSL_HELPERS, withHelpersUsed } from "../../interpreters/webgpu/wgsl.js";

const fnsIn = (src: string) => [...src.matchAll(/^fn (fx_\w+)/gm)].map((m) => m[1]!);

describe("withHelpersUsed", () => {
  it("keeps what a kernel calls, with its callees, in the helpers' order, and nothing else", () => {
    const body = "@compute @workgroup_size(1) fn main() { let y = fx_exp(1.0) + fx_cos(2.0); }";
    const cut = withHelpersUsed(`enable subgroups;\n${WGSL_HELPERS}\n${body}`);
    expect(cut.startsWith("enable subgroups;\n")).toBe(true);
    expect(cut.endsWith(body)).toBe(true);
    const kept = fnsIn(cut);
    expect(kept).toEqual(
      fnsIn(WGSL_HELPERS).filter((n) => ["fx_isnan", "fx_nan", "fx_inf", "fx_ldexp", "fx_exp", "fx_sincos", "fx_cos"].includes(n)),
    );
    expect(cut.length).toBeLessThan(WGSL_HELPERS.length);
  });

  it("keeps every helper when every helper is called, and leaves a source without the helpers alone", () => {
    const all = fnsIn(WGSL_HELPERS);
    expect(all.length).toBeGreaterThan(20);
    const calls = all.map((n) => `// ${n}`).join("\n");
    expect(fnsIn(withHelpersUsed(`${WGSL_HELPERS}\n${calls}`))).toEqual(all);
    const plain = "@compute @workgroup_size(1) fn main() {}";
    expect(withHelpersUsed(plain)).toBe(plain);
  });
});
