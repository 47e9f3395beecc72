/**
 * optim: each optimizer against a reference written in plain JS numbers (independent of fluxion),
 * convergence on a quadratic, global-norm clipping, states through jit, and option errors.
 */
import { describe, expect, it } from "vitest";
import { ArgumentError, DTypeError, NDArray, grad, jit, np, optim, tree } from "../../src/index.js";
import { expectClose, toNums } from "../helpers.js";

// ---------------------------------------------------------------------------------------------
// Reference optimizers over flat lists of leaves (number[][]), plain JS only
// ---------------------------------------------------------------------------------------------

type Leaves = number[][];
const zerosOf = (xs: Leaves): Leaves => xs.map((x) => x.map(() => 0));
const mapL = (f: (...v: number[]) => number, ...ls: Leaves[]): Leaves => ls[0]!.map((x, i) => x.map((_, j) => f(...ls.map((l) => l[i]![j]!))));

interface RefStep {
  updates: Leaves;
  params: Leaves;
}

function refSgd(params: Leaves, gradSeq: Leaves[], lr: number, momentum: number, nesterov: boolean): RefStep[] {
  let trace = zerosOf(params),
    p = params;
  return gradSeq.map((g) => {
    trace = mapL((gi, ti) => gi + momentum * ti, g, trace);
    const dir = nesterov ? mapL((gi, ti) => gi + momentum * ti, g, trace) : trace;
    const updates = mapL((d) => -lr * d, dir);
    p = mapL((a, b) => a + b, p, updates);
    return { updates, params: p };
  });
}

function refAdam(params: Leaves, gradSeq: Leaves[], lr: number, b1: number, b2: number, eps: number, wd: number): RefStep[] {
  let m = zerosOf(params),
    v = zerosOf(params),
    p = params;
  return gradSeq.map((g, k) => {
    const t = k + 1;
    m = mapL((mi, gi) => b1 * mi + (1 - b1) * gi, m, g);
    v = mapL((vi, gi) => b2 * vi + (1 - b2) * gi * gi, v, g);
    const updates = mapL(
      (mi, vi, pi) => {
        const mHat = mi / (1 - b1 ** t),
          vHat = vi / (1 - b2 ** t);
        return -lr * (mHat / (Math.sqrt(vHat) + eps) + wd * pi);
      },
      m,
      v,
      p,
    );
    p = mapL((a, b) => a + b, p, updates);
    return { updates, params: p };
  });
}

function refClip(g: Leaves, maxNorm: number): Leaves {
  const norm = Math.sqrt(g.flat().reduce((s, x) => s + x * x, 0));
  return norm <= maxNorm ? g : mapL((x) => (x * maxNorm) / norm, g);
}

// ---------------------------------------------------------------------------------------------
// A small pytree and a fixed sequence of gradients
// ---------------------------------------------------------------------------------------------

interface Params {
  w: NDArray;
  b: NDArray;
  extra: [NDArray];
}

// Leaf order of tree.flatten: object keys sorted (b, extra, w).
const P0: Leaves = [[0.1, -0.3], [2], [1, -2, 0.5, 3]];
const G: Leaves[] = [
  [[0.5, -1], [0.25], [1, 2, -3, 0.5]],
  [[-0.2, 0.4], [-1.5], [0.3, -0.1, 2, 1]],
  [[1, 1], [0.01], [-0.5, 0.5, 0.5, -2]],
];

function toTree(l: Leaves, dtype: "float32" | "float64" = "float64"): Params {
  return {
    b: np.array(l[0]!, { dtype }),
    extra: [np.array(l[1]![0]!, { dtype })],
    w: np.array([l[2]!.slice(0, 2), l[2]!.slice(2)], { dtype }),
  };
}
const fromTree = (t: unknown): Leaves => (tree.leaves(t) as NDArray[]).map((x) => toNums(x));

function expectTreeClose(got: unknown, want: Leaves, atol: number): void {
  const g = fromTree(got);
  expect(g.length).toBe(want.length);
  g.forEach((leaf, i) => expectClose(np.array(leaf, { dtype: "float64" }), want[i]!, atol, atol));
}

/** Runs `opt` for the fixed gradients, checking updates and parameters against `ref` each step. */
function checkAgainstReference(opt: optim.GradientTransformation<any>, ref: RefStep[], dtype: "float32" | "float64", atol: number): void {
  let params = toTree(P0, dtype);
  let state = opt.init(params);
  G.forEach((g, k) => {
    const [updates, next] = opt.update(toTree(g, dtype), state, params);
    params = optim.applyUpdates(params, updates);
    state = next;
    expectTreeClose(updates, ref[k]!.updates, atol);
    expectTreeClose(params, ref[k]!.params, atol);
    expect(params.w.shape).toEqual([2, 2]);
    expect(params.w.dtype).toBe(dtype);
  });
}

describe("optimizers against a plain-JS reference (3 steps, small pytree)", () => {
  const cases: [string, () => optim.GradientTransformation<any>, RefStep[]][] = [
    ["sgd", () => optim.sgd({ learningRate: 0.1 }), refSgd(P0, G, 0.1, 0, false)],
    ["sgd momentum", () => optim.sgd({ learningRate: 0.1, momentum: 0.9 }), refSgd(P0, G, 0.1, 0.9, false)],
    ["sgd nesterov", () => optim.sgd({ learningRate: 0.05, momentum: 0.8, nesterov: true }), refSgd(P0, G, 0.05, 0.8, true)],
    ["adam defaults", () => optim.adam({ learningRate: 0.01 }), refAdam(P0, G, 0.01, 0.9, 0.999, 1e-8, 0)],
    ["adam custom", () => optim.adam({ learningRate: 0.1, b1: 0.5, b2: 0.7, eps: 0.1 }), refAdam(P0, G, 0.1, 0.5, 0.7, 0.1, 0)],
    ["adamw", () => optim.adamw({ learningRate: 0.1, weightDecay: 0.3 }), refAdam(P0, G, 0.1, 0.9, 0.999, 1e-8, 0.3)],
    ["adamw default decay", () => optim.adamw({ learningRate: 0.1 }), refAdam(P0, G, 0.1, 0.9, 0.999, 1e-8, 1e-4)],
  ];
  for (const [name, make, ref] of cases) {
    it(`${name} (float64)`, () => checkAgainstReference(make(), ref, "float64", 1e-12));
    it(`${name} (float32)`, () => checkAgainstReference(make(), ref, "float32", 1e-5));
  }

  it("chain(clipByGlobalNorm, sgd momentum) clips then applies momentum", () => {
    const clipped = G.map((g) => refClip(g, 1.5));
    const ref = refSgd(P0, clipped, 0.1, 0.9, false);
    checkAgainstReference(optim.chain(optim.clipByGlobalNorm(1.5), optim.sgd({ learningRate: 0.1, momentum: 0.9 })), ref, "float64", 1e-12);
  });

  it("chain() is the identity and chain of one is that one", () => {
    const id = optim.chain();
    const [u] = id.update(toTree(G[0]!), id.init(toTree(P0)));
    expectTreeClose(u, G[0]!, 0);
    const ref = refAdam(P0, G, 0.01, 0.9, 0.999, 1e-8, 0);
    checkAgainstReference(optim.chain(optim.adam({ learningRate: 0.01 })), ref, "float64", 1e-12);
  });
});

describe("convergence on a quadratic", () => {
  // f(p) = Σ a_i (x_i - c_i)^2 + (y - 2)^2 with a badly scaled diagonal; minimum at x = c, y = 2.
  const a = np.array([1, 10, 0.1]),
    c = np.array([1, -2, 3]);
  const f = (p: { x: NDArray; y: NDArray }) => np.sum(a.mul(np.square(p.x.sub(c)))).add(np.square(p.y.sub(2)));
  const df = grad(f);
  const cases: [string, optim.GradientTransformation<any>, number][] = [
    ["sgd momentum", optim.sgd({ learningRate: 0.04, momentum: 0.9 }), 400],
    ["sgd nesterov", optim.sgd({ learningRate: 0.04, momentum: 0.9, nesterov: true }), 400],
    ["adam", optim.adam({ learningRate: 0.05 }), 1500],
    ["clip + adam", optim.chain(optim.clipByGlobalNorm(1), optim.adam({ learningRate: 0.05 })), 1500],
  ];
  for (const [name, opt, steps] of cases) {
    it(name, () => {
      const step = jit((p: { x: NDArray; y: NDArray }, s: unknown) => {
        const [u, next] = opt.update(df(p), s, p);
        return [optim.applyUpdates(p, u), next] as const;
      });
      let params = { x: np.zeros([3]), y: np.array(-1) };
      let state = opt.init(params);
      const start = f(params).item();
      for (let i = 0; i < steps; i++) [params, state] = step(params, state);
      expect(f(params).item()).toBeLessThan(1e-3 * start);
      expectClose(params.x, [1, -2, 3], 0.05, 0);
      expectClose(params.y, 2, 0.05, 0);
    });
  }

  it("adamw with zero gradients decays the parameters geometrically", () => {
    // m = v = 0, so the adam direction is 0 and each step multiplies p by (1 - lr * weightDecay).
    const opt = optim.adamw({ learningRate: 0.1, weightDecay: 0.5 });
    const step = jit((p: { x: NDArray }, s: optim.AdamState) => {
      const [u, next] = opt.update({ x: np.zerosLike(p.x) }, s, p);
      return [optim.applyUpdates(p, u), next] as const;
    });
    let p = { x: np.array([4, -1], { dtype: "float64" }) };
    let s = opt.init(p);
    for (let i = 0; i < 50; i++) [p, s] = step(p, s);
    expectClose(p.x, [4 * 0.95 ** 50, -(0.95 ** 50)], 1e-12);
  });
});

describe("clipByGlobalNorm", () => {
  const globalNorm = (t: unknown): number =>
    Math.sqrt(
      fromTree(t)
        .flat()
        .reduce((s, x) => s + x * x, 0),
    );

  it.each([0.01, 0.5, 1, 3, 100])("bounds the global norm by %f and keeps the direction", (maxNorm) => {
    const g = toTree(G[0]!);
    const clip = optim.clipByGlobalNorm(maxNorm);
    const [u, s] = clip.update(g, clip.init(g));
    expect(s).toEqual({});
    const before = globalNorm(g),
      after = globalNorm(u);
    expect(after).toBeLessThanOrEqual(maxNorm * (1 + 1e-12));
    expect(after).toBeCloseTo(Math.min(before, maxNorm), 10);
    expectTreeClose(u, refClip(G[0]!, maxNorm), 1e-12);
  });

  it("passes gradients within the bound through exactly", () => {
    const g = toTree(G[2]!, "float32");
    const [u] = optim.clipByGlobalNorm(100).update(g, {});
    expect(fromTree(u)).toEqual(fromTree(g));
  });

  it("bounds under jit, with mixed float32/float64 leaves", () => {
    const g = { a: np.array([30, 40], { dtype: "float32" }), b: np.array([[0, 120]], { dtype: "float64" }) };
    const clip = optim.clipByGlobalNorm(2);
    const [u] = jit((x: typeof g) => clip.update(x, {}))(g);
    expect(u.a.dtype).toBe("float32");
    expect(u.b.dtype).toBe("float64");
    expect(globalNorm(u)).toBeCloseTo(2, 5);
    expectClose(u.a, [30 / 65, 40 / 65], 1e-6);
  });
});

describe("states are pytrees of arrays that pass through jit", () => {
  const makers: [string, () => optim.GradientTransformation<any>][] = [
    ["sgd", () => optim.sgd({ learningRate: 0.1 })],
    ["sgd momentum", () => optim.sgd({ learningRate: 0.1, momentum: 0.9, nesterov: true })],
    ["adam", () => optim.adam({ learningRate: 0.1 })],
    ["adamw", () => optim.adamw({ learningRate: 0.1, weightDecay: 0.1 })],
    ["chain", () => optim.chain(optim.clipByGlobalNorm(1), optim.adamw({ learningRate: 0.1 }))],
  ];
  for (const [name, make] of makers) {
    it(`${name}: jit(update) equals eager for 3 steps and traces once`, () => {
      const opt = make();
      let traces = 0;
      const jitted = jit((g: Params, s: unknown, p: Params) => {
        traces++;
        return opt.update(g, s, p);
      });
      let pe = toTree(P0, "float32"),
        pj = pe;
      let se = opt.init(pe),
        sj = opt.init(pj);
      for (const g of G) {
        const [ue, ne] = opt.update(toTree(g, "float32"), se, pe);
        const [uj, nj] = jitted(toTree(g, "float32"), sj, pj);
        expectTreeClose(uj, fromTree(ue), 1e-6);
        expectTreeClose(nj, fromTree(ne), 1e-6);
        expect(String(tree.flatten(nj)[1])).toBe(String(tree.flatten(ne)[1]));
        [pe, se, pj, sj] = [optim.applyUpdates(pe, ue), ne, optim.applyUpdates(pj, uj), nj];
      }
      expect(traces).toBe(1);
      for (const leaf of tree.leaves(sj)) expect(leaf).toBeInstanceOf(NDArray);
    });
  }

  it("adam's count is an int32 scalar that counts steps", () => {
    const opt = optim.adam({ learningRate: 0.1 });
    const p = toTree(P0);
    let s = opt.init(p);
    expect(s.count.dtype).toBe("int32");
    for (const g of G) s = opt.update(toTree(g), s)[1];
    expect(s.count.item()).toBe(3);
  });

  it("a whole jitted training step with grad gives the eager result", () => {
    const opt = optim.adam({ learningRate: 0.1 });
    const loss = (p: Params) => np.sum(np.square(p.w)).add(np.sum(p.b.mul(p.extra[0])));
    const eager = (p: Params, s: optim.AdamState): [Params, optim.AdamState] => {
      const [u, next] = opt.update(grad(loss)(p), s);
      return [optim.applyUpdates(p, u), next];
    };
    const step = jit(eager);
    let [pe, se] = [toTree(P0, "float32"), opt.init(toTree(P0, "float32"))];
    let [pj, sj] = [pe, se];
    for (let i = 0; i < 3; i++) {
      [pe, se] = eager(pe, se);
      [pj, sj] = step(pj, sj);
    }
    expectTreeClose(pj, fromTree(pe), 1e-6);
  });
});

describe("inputs and options are validated with typed errors", () => {
  const bad: [string, () => unknown, RegExp][] = [
    ["sgd without learningRate", () => optim.sgd({} as never), /optim\.sgd: option learningRate is required/],
    ["sgd negative learningRate", () => optim.sgd({ learningRate: -1 }), /optim\.sgd: option learningRate must be a finite number >= 0, got -1/],
    ["sgd NaN learningRate", () => optim.sgd({ learningRate: NaN }), /optim\.sgd: option learningRate .* got NaN/],
    ["sgd string learningRate", () => optim.sgd({ learningRate: "0.1" as never }), /optim\.sgd: option learningRate .* got "0\.1"/],
    ["sgd momentum 1", () => optim.sgd({ learningRate: 0.1, momentum: 1 }), /optim\.sgd: option momentum must be a number in \[0, 1\), got 1/],
    ["sgd nesterov not boolean", () => optim.sgd({ learningRate: 0.1, nesterov: 1 as never }), /optim\.sgd: option nesterov must be a boolean/],
    ["sgd nesterov without momentum", () => optim.sgd({ learningRate: 0.1, nesterov: true }), /optim\.sgd: option nesterov needs a momentum > 0/],
    [
      "sgd unknown option (typo)",
      () => optim.sgd({ lr: 0.1 } as never),
      /optim\.sgd: unknown option "lr"; the options are learningRate, momentum, nesterov/,
    ],
    ["sgd options not an object", () => optim.sgd(0.1 as never), /optim\.sgd: expected an options object/],
    ["adam b1 out of range", () => optim.adam({ learningRate: 0.1, b1: 1.5 }), /optim\.adam: option b1 must be a number in \[0, 1\), got 1\.5/],
    ["adam b2 negative", () => optim.adam({ learningRate: 0.1, b2: -0.1 }), /optim\.adam: option b2/],
    ["adam negative eps", () => optim.adam({ learningRate: 0.1, eps: -1e-8 }), /optim\.adam: option eps must be a finite number >= 0/],
    ["adam weightDecay is adamw's", () => optim.adam({ learningRate: 0.1, weightDecay: 0.1 } as never), /optim\.adam: unknown option "weightDecay"/],
    [
      "adamw negative weightDecay",
      () => optim.adamw({ learningRate: 0.1, weightDecay: -1 }),
      /optim\.adamw: option weightDecay must be a finite number >= 0, got -1/,
    ],
    ["adamw infinite learningRate", () => optim.adamw({ learningRate: Infinity }), /optim\.adamw: option learningRate .* got Infinity/],
    ["clipByGlobalNorm 0", () => optim.clipByGlobalNorm(0), /optim\.clipByGlobalNorm: maxNorm must be a finite number > 0, got 0/],
    ["clipByGlobalNorm undefined", () => optim.clipByGlobalNorm(undefined as never), /optim\.clipByGlobalNorm: maxNorm .* got undefined/],
    [
      "chain of a non-transformation",
      () => optim.chain(optim.sgd({ learningRate: 1 }), 3 as never),
      /optim\.chain: argument 1 is 3, not a GradientTransformation/,
    ],
  ];
  it.each(bad)("%s", (_, call, message) => {
    expect(call).toThrow(ArgumentError);
    expect(call).toThrow(message);
  });

  it("adamw.update without params names the fix", () => {
    const opt = optim.adamw({ learningRate: 0.1 });
    const p = toTree(P0);
    expect(() => opt.update(p, opt.init(p))).toThrow(/optim\.adamw\.update: weight decay needs the parameters; call update\(grads, state, params\)/);
  });

  it("grads shaped unlike the state are an ArgumentError naming the structures", () => {
    const opt = optim.adam({ learningRate: 0.1 });
    const s = opt.init({ w: np.zeros([2]) });
    expect(() => opt.update({ v: np.zeros([2]) }, s)).toThrow(ArgumentError);
    expect(() => opt.update({ v: np.zeros([2]) }, s)).toThrow(
      /optim\.adam\.update: grads has structure \{"v":\*\} but the state \(from init\) has \{"w":\*\}/,
    );
    expect(() => optim.applyUpdates({ w: np.zeros([2]) }, [np.zeros([2])])).toThrow(/optim\.applyUpdates: updates has structure/);
  });

  it("integer parameters and non-array leaves are rejected at init", () => {
    expect(() => optim.adam({ learningRate: 0.1 }).init({ w: np.array([1, 2], { dtype: "int32" }) })).toThrow(DTypeError);
    expect(() => optim.sgd({ learningRate: 0.1, momentum: 0.5 }).init({ w: np.array([1, 2], { dtype: "int32" }) })).toThrow(
      /optim\.sgd\.init: leaf 0 of params .* has dtype int32; optimizers work on float arrays only/,
    );
    expect(() => optim.sgd({ learningRate: 0.1 }).init({ w: 3 })).toThrow(/optim\.sgd\.init: leaf 0 of params .* is 3, not an NDArray/);
  });

  it("a failed update leaves its inputs unchanged", () => {
    const opt = optim.adam({ learningRate: 0.1 });
    const p = { w: np.array([1, 2]) };
    const s = opt.init(p);
    expect(() => opt.update({ w: np.array([1, 2]), x: np.array(1) }, s)).toThrow(ArgumentError);
    expect(p.w.tolist()).toEqual([1, 2]);
    expect(s.count.item()).toBe(0);
  });
});
