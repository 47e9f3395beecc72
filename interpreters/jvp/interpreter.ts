/**
 * The jvp interpreter: forward-mode differentiation by dual numbers. A `JvpTracer` carries a primal
 * and a tangent and belongs to one jvp application (its tag), which is what keeps nested
 * derivatives from confusing their perturbations. A symbolic `Zero` tangent is never boxed: a value
 * with a zero tangent stays a plain value, so untouched work costs nothing.
 */
import type { DType } from "../../src/core/dtype.js";
import { type Interpreter, enterInterpreter, leaveInterpreter } from "../../src/core/interpreter.js";
import { type Aval, type NDArray, Tag, Tracer } from "../../src/core/ndarray.js";
import type { Prim, PrimParams } from "../../src/core/prim.js";

/** A symbolic zero tangent of the given aval. */
export class Zero {
  readonly shape: readonly number[];
  readonly dtype: DType;
  constructor(aval: Aval) {
    this.shape = aval.shape;
    this.dtype = aval.dtype;
  }
}
export type Tangent = NDArray | Zero;
export type JvpRule<P extends Prim> = (x: NDArray[], t: Tangent[], params: PrimParams[P]) => [NDArray[], Tangent[]];
export type JvpRules = { [P in Prim]: JvpRule<P> };

let jvpRules: JvpRules;
/** Installs the rule table (done once by this folder's index, which keeps rules → interpreter acyclic). */
export function installJvpRules(rules: JvpRules): void {
  jvpRules = rules;
}

export class JvpTracer extends Tracer {
  constructor(
    readonly tag: Tag,
    readonly primal: NDArray,
    readonly tangent: NDArray,
  ) {
    super();
  }
  get shape(): number[] {
    return this.primal.shape;
  }
  get dtype() {
    return this.primal.dtype;
  }
  toConcrete(fn: string) {
    return this.primal.toConcrete(fn);
  }
}

export class JvpInterpreter implements Interpreter {
  readonly tag: Tag;
  constructor(
    readonly parent: Interpreter,
    transform = "jvp",
  ) {
    this.tag = new Tag(transform);
  }

  /** Packs a primal and tangent into a value of this interpreter (a zero tangent packs to the primal). */
  pack(primal: NDArray, tangent: Tangent): NDArray {
    return tangent instanceof Zero ? primal : new JvpTracer(this.tag, primal, tangent);
  }

  /** Whether `x` is one of this interpreter's tracers. */
  owns(x: NDArray): x is JvpTracer {
    return x instanceof JvpTracer && x.tag === this.tag;
  }

  /** Splits a value into primal and tangent as this interpreter sees it. */
  unpack(x: NDArray): [NDArray, Tangent] {
    return this.owns(x) ? [x.primal, x.tangent] : [x, new Zero(x)];
  }

  process<P extends Prim>(prim: P, args: readonly NDArray[], params: PrimParams[P]): NDArray[] {
    let mine = false;
    for (let i = 0; i < args.length && !mine; i++) mine = this.owns(args[i]!);
    if (!mine) return this.parent.process(prim, args, params);
    // `unpack` without its pair per operand: this runs for every primitive under jvp and grad.
    const primals = new Array<NDArray>(args.length),
      tangents = new Array<Tangent>(args.length);
    for (let i = 0; i < args.length; i++) {
      const a = args[i]!;
      if (this.owns(a)) {
        primals[i] = a.primal;
        tangents[i] = a.tangent;
      } else {
        primals[i] = a;
        tangents[i] = new Zero(a);
      }
    }
    const saved = enterInterpreter(this.parent);
    let outs: NDArray[], touts: Tangent[];
    try {
      [outs, touts] = (jvpRules[prim] as JvpRule<P>)(primals, tangents, params);
    } finally {
      leaveInterpreter(saved);
    }
    const packed = new Array<NDArray>(outs.length);
    for (let i = 0; i < outs.length; i++) packed[i] = this.pack(outs[i]!, touts[i]!);
    return packed;
  }
}
