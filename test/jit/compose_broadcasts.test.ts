/**
 * `composeBroadcasts`: a broadcast of a broadcast (what vmap makes of an unbatched broadcast) becomes
 * one broadcast of the first operand, chains and size-1 dims included; jit of such programs gives
 * the values of a plain loop written here, and the eager program's bits.
 */
import { describe, expect, it } from "vitest";
import { type NDArray, jit, lax, makeJaxpr, np, vmap } from "../../src/index.js";
import { composeBroadcasts, dce } from "../../src/ir/passes.js";

const x = np
  .array(
    Array.from({ length: 5 * 3 * 4 }, (_, i) => i / 7 - 2),
    { dtype: "float32" },
  )
  .reshape([5, 3, 4]);
const c = np.array([0.5, -1.25, 3, 0.125], { dtype: "float32" });
const one = np.array([2.5], { dtype: "float32" });

/** x[b, i, j] + v[j] (v of length 4, or 1 broadcast along j), in float32 as the kernels round it. */
function reference(v: NDArray): number[] {
  const xs = Array.from(x.dataSync() as Float32Array),
    vs = Array.from(v.dataSync() as Float32Array);
  return xs.map((a, t) => Math.fround(a + vs[vs.length === 1 ? 0 : t % 4]!));
}

describe("composeBroadcasts", () => {
  it("turns vmap's broadcast of a broadcast into one broadcast of the first operand", () => {
    const f = (xb: NDArray, v: NDArray) => np.add(xb, lax.broadcastInDim(v, [3, 4], [1]));
    const staged = makeJaxpr(vmap(f, { inAxes: [0, null] }))(x, c).program;
    expect(staged.eqns.filter((e) => e.prim === "broadcast_in_dim")).toHaveLength(2);
    const composed = dce(composeBroadcasts(staged));
    const broadcasts = composed.eqns.filter((e) => e.prim === "broadcast_in_dim");
    expect(broadcasts).toHaveLength(1);
    expect(broadcasts[0]!.inputs[0]).toBe(staged.invars[1]);
    expect(broadcasts[0]!.params).toEqual({ shape: [5, 3, 4], broadcastDimensions: [2] });
    const eager = vmap(f, { inAxes: [0, null] })(x, c);
    expect(Array.from(eager.dataSync() as Float32Array)).toEqual(reference(c));
    expect(Array.from(jit(vmap(f, { inAxes: [0, null] }))(x, c).dataSync() as Float32Array)).toEqual(reference(c));
  });

  it("composes chains, size-1 dims broadcast along the way", () => {
    // [1] -> [4] (the size-1 dim widened) -> [3, 4] -> under vmap [5, 3, 4].
    const f = (xb: NDArray, v: NDArray) => np.add(xb, lax.broadcastInDim(lax.broadcastInDim(v, [4], [0]), [3, 4], [1]));
    const staged = makeJaxpr(vmap(f, { inAxes: [0, null] }))(x, one).program;
    const composed = dce(composeBroadcasts(staged));
    const broadcasts = composed.eqns.filter((e) => e.prim === "broadcast_in_dim");
    expect(broadcasts).toHaveLength(1);
    expect(broadcasts[0]!.params).toEqual({ shape: [5, 3, 4], broadcastDimensions: [2] });
    expect(Array.from(jit(vmap(f, { inAxes: [0, null] }))(x, one).dataSync() as Float32Array)).toEqual(reference(one));
  });

  it("leaves a program without nested broadcasts as it is", () => {
    const staged = makeJaxpr((xb: NDArray, v: NDArray) => np.add(xb, lax.broadcastInDim(v, [5, 3, 4], [2])))(x, c).program;
    expect(composeBroadcasts(staged)).toBe(staged);
  });
});
