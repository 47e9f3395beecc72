/**
 * WGSL scalar expressions for the elementwise primitives, mirroring src/codegen/js_expr.ts: float32
 * math, wrapping int32 arithmetic, NaN-propagating max/min, a stable logistic, sign keeping ±0.
 * On the device a bool is a u32 holding 0 or 1 (4 bytes), both in buffers and in expressions; a
 * uint32 is a u32 too, so the builders get the dtype's kind ("bool" vs "u32"), not the WGSL type.
 *
 * GPUs and their shader compilers may assume that floats are never NaN (lavapipe folds `x != x`
 * to false), so NaN tests look at the bits, and the functions whose builtin accuracy WGSL leaves
 * loose (atan, tanh, log1p, expm1, pow) are written out here. Generated code holds only names and
 * numbers made by fluxion.
 */
import type { DType } from "../../src/core/dtype.js";
import { DTypeError } from "../../src/core/errors.js";
import { Prim } from "../../src/core/prim.js";
import { int } from "../../src/codegen/tokens.js";

/** The WGSL scalar type of a dtype on the device. */
export function wgslType(dtype: DType, fn = "webgpu"): "f32" | "i32" | "u32" {
  switch (dtype) {
    case "float32":
      return "f32";
    case "int32":
      return "i32";
    case "uint32":
    case "bool":
      return "u32";
    case "float64":
      throw new DTypeError(`${fn}: webgpu has no float64 (WGSL has no f64); convert the operands with .astype("float32"), or run this on the cpu`);
  }
  // Unreachable for checked params; refuse rather than emit an unknown type name.
  throw new DTypeError(`${fn}: unknown dtype ${typeof dtype === "string" ? JSON.stringify((dtype as string).slice(0, 40)) : typeof dtype}`);
}

/** Helper functions referenced by the expressions; every generated kernel includes them. */
export const WGSL_HELPERS = /* wgsl */ `
fn fx_isnan(x: f32) -> bool { return (bitcast<u32>(x) & 0x7fffffffu) > 0x7f800000u; }
fn fx_nan() -> f32 { var u = 0x7fc00000u; return bitcast<f32>(u); }
fn fx_inf() -> f32 { var u = 0x7f800000u; return bitcast<f32>(u); }
fn fx_max(a: f32, b: f32) -> f32 {
  if (a > b || fx_isnan(a)) { return a; }
  if (a == b && a == 0.0) { return select(b, a, (bitcast<u32>(a) >> 31u) == 0u); }
  return b;
}
fn fx_min(a: f32, b: f32) -> f32 {
  if (a < b || fx_isnan(a)) { return a; }
  if (a == b && a == 0.0) { return select(b, a, (bitcast<u32>(a) >> 31u) == 1u); }
  return b;
}
fn fx_sqrt(x: f32) -> f32 {
  if (fx_isnan(x) || x < 0.0) { return fx_nan(); }
  if (x == 0.0) { return x; }
  return sqrt(x);
}
// exp, log and their relatives are written out (Cephes' single-precision algorithms, about 1 ulp)
// because drivers' builtins are loose: lavapipe's log is off by hundreds of ulp near 1.
// z * 2^n for n in [-150, 128], without a branch (a software adapter runs both sides of a divergent
// one; the branches made exp cost twice as much on lavapipe): 2^n's exponent clamped to the normal
// range, times the power of two that is left over (1 unless the result is subnormal or n is 128).
fn fx_ldexp(z: f32, n: i32) -> f32 {
  let m = clamp(n, -126, 127);
  return z * bitcast<f32>(u32(m + 127) << 23u) * bitcast<f32>(u32(n - m + 127) << 23u);
}
fn fx_exp(x0: f32) -> f32 {
  if (fx_isnan(x0)) { return x0; }
  if (x0 > 88.72283905206835) { return fx_inf(); }
  if (x0 < -103.97207708) { return 0.0; }
  let n = floor(1.44269504088896341 * x0 + 0.5);
  var x = x0 - n * 0.693359375;
  x = x - n * -2.12194440e-4;
  let z = x * x;
  let p = ((((( 1.9875691500e-4 * x + 1.3981999507e-3) * x + 8.3334519073e-3) * x + 4.1665795894e-2) * x + 1.6666665459e-1) * x + 5.0000001201e-1) * z + x + 1.0;
  return fx_ldexp(p, i32(n));
}
/** log(1 + f) for f in [sqrt(1/2) - 1, sqrt(2) - 1], plus e ln 2. */
fn fx_logcore(f: f32, e: f32) -> f32 {
  let z = f * f;
  var y = ((((((((7.0376836292e-2 * f - 1.1514610310e-1) * f + 1.1676998740e-1) * f - 1.2420140846e-1) * f + 1.4249322787e-1) * f - 1.6668057665e-1) * f + 2.0000714765e-1) * f - 2.4999993993e-1) * f + 3.3333331174e-1) * f * z;
  y = y + -2.12194440e-4 * e;
  y = y - 0.5 * z;
  return (f + y) + 0.693359375 * e;
}
fn fx_log(x0: f32) -> f32 {
  if (fx_isnan(x0) || x0 < 0.0) { return fx_nan(); }
  if (x0 == 0.0) { return -fx_inf(); }
  if (x0 == fx_inf()) { return x0; }
  var x = x0;
  var e = 0i;
  if (x < 1.17549435e-38) { x = x * 8388608.0; e = -23i; }
  let bits = bitcast<u32>(x);
  e = e + i32((bits >> 23u) & 0xffu) - 126i;
  var m = bitcast<f32>((bits & 0x807fffffu) | 0x3f000000u);
  if (m < 0.70710678118654752) { e = e - 1i; m = m + m - 1.0; } else { m = m - 1.0; }
  return fx_logcore(m, f32(e));
}
fn fx_log1p(x: f32) -> f32 {
  if (fx_isnan(x) || x < -1.0) { return fx_nan(); }
  if (x > -0.29289321881 && x < 0.41421356237) {
    if (x == 0.0) { return x; }
    return fx_logcore(x, 0.0);
  }
  return fx_log(1.0 + x);
}
fn fx_expm1(x: f32) -> f32 {
  if (fx_isnan(x)) { return x; }
  if (abs(x) < 0.35) {
    if (x == 0.0) { return x; }
    return x + x * x * (0.5 + x * (1.6666666666666666e-1 + x * (4.1666666666666664e-2 + x * (8.3333333333333332e-3 + x * (1.3888888888888889e-3 + x * (1.9841269841269841e-4 + x * 2.4801587301587302e-5))))));
  }
  if (x < -17.5) { return -1.0; }
  return fx_exp(x) - 1.0;
}
fn fx_tanh(x: f32) -> f32 {
  if (fx_isnan(x)) { return x; }
  let ax = abs(x);
  if (ax < 0.625) {
    let z = x * x;
    return ((((-5.70498872745e-3 * z + 2.06390887954e-2) * z - 5.37397155531e-2) * z + 1.33314422036e-1) * z - 3.33332819422e-1) * z * x + x;
  }
  if (ax > 9.1) { return select(1.0, -1.0, x < 0.0); }
  let y = 1.0 - 2.0 / (fx_exp(ax + ax) + 1.0);
  return select(y, -y, x < 0.0);
}
fn fx_logistic(x: f32) -> f32 {
  if (fx_isnan(x)) { return x; }
  if (x >= 0.0) { return 1.0 / (1.0 + fx_exp(-x)); }
  let e = fx_exp(x);
  return e / (1.0 + e);
}
fn fx_atan(x0: f32) -> f32 {
  if (fx_isnan(x0)) { return x0; }
  var x = abs(x0);
  var y = 0.0;
  if (x > 2.414213562373095) { y = 1.5707963267948966; x = -1.0 / x; }
  else if (x > 0.4142135623730950) { y = 0.7853981633974483; x = (x - 1.0) / (x + 1.0); }
  let z = x * x;
  y = y + ((((8.05374449538e-2 * z - 1.38776856032e-1) * z + 1.99777106478e-1) * z - 3.33329491539e-1) * z * x + x);
  return select(y, -y, x0 < 0.0);
}
// sin and cos: Cephes' reduction by pi/4 in three parts and minimax polynomials (about 1 ulp for
// |x| < 8192, slowly degrading to 1e5); GPUs' builtins are only specified on [-pi, pi]. Written
// with selects and one late branch (NaN, infinities and |x| > 1e5): a software adapter runs every
// side of a divergent branch, and early returns made sin a third dearer on lavapipe.
fn fx_sincos(x0: f32, cosine: bool) -> f32 {
  let ax = abs(x0);
  let j0 = u32(ax * 1.2732395447351628);
  let odd = j0 & 1u;
  let y = f32(j0 + odd);
  let j8 = (j0 + odd) & 7u;
  let hi = j8 > 3u;
  let j = select(j8, j8 - 4u, hi);
  let neg = ((!cosine && x0 < 0.0) != hi) != (cosine && j > 1u);
  let r = ((ax - y * 0.78515625) - y * 2.4187564849853515625e-4) - y * 3.77489497744594108e-8;
  let z = r * r;
  let s = ((-1.9515295891e-4 * z + 8.3321608736e-3) * z - 1.6666654611e-1) * z * r + r;
  let c = ((2.443315711809948e-5 * z - 1.388731625493765e-3) * z + 4.166664568298827e-2) * z * z - 0.5 * z + 1.0;
  let useSin = (j == 1u || j == 2u) == cosine;
  let v = select(c, s, useSin);
  if (ax > 1.0e5 || fx_isnan(x0)) { return select(select(sin(x0), cos(x0), cosine), fx_nan(), fx_isnan(x0) || ax == fx_inf()); }
  return select(v, -v, neg);
}
fn fx_sin(x: f32) -> f32 { return select(fx_sincos(x, false), x, x == 0.0); }
fn fx_cos(x: f32) -> f32 { return fx_sincos(x, true); }
fn fx_pow(x: f32, y: f32) -> f32 {
  if (y == 0.0) { return 1.0; }
  if (fx_isnan(x) || fx_isnan(y)) { return fx_nan(); }
  if (y == 1.0) { return x; }
  if (y == 2.0) { return x * x; }
  let yint = floor(y) == y;
  let yodd = yint && abs(y) < 16777216.0 && (i32(abs(y)) & 1) == 1;
  if (x == 0.0) {
    let neg = (bitcast<u32>(x) >> 31u) == 1u && yodd;
    let m = select(0.0, fx_inf(), y < 0.0);
    return select(m, -m, neg);
  }
  if (x < 0.0 && !yint) { return fx_nan(); }
  let m = fx_exp(y * fx_log(abs(x)));
  return select(m, -m, x < 0.0 && yodd);
}
fn fx_sign(x: f32) -> f32 { return select(select(x, -1.0, x < 0.0), 1.0, x > 0.0); }
fn fx_ipow(a: i32, b: i32) -> i32 {
  if (b < 0) { return select(select(0, select(1, -1, (b & 1) == 1), a == -1), 1, a == 1); }
  var r = 1; var base = a; var e = u32(b);
  loop { if (e == 0u) { break; } if ((e & 1u) == 1u) { r = r * base; } base = base * base; e = e >> 1u; }
  return r;
}
fn fx_f2i(x: f32) -> i32 {
  if (fx_isnan(x) || abs(x) == fx_inf()) { return 0; }
  let t = trunc(x);
  if (abs(t) < 2147483648.0) { return i32(t); }
  let r = t - floor(t / 4294967296.0) * 4294967296.0;
  return bitcast<i32>(u32(r));
}
`;

/** What an operand is: f32, i32, a bool (u32 0/1) or a uint32 word (u32, wrapping arithmetic). */
type Kind = "f32" | "i32" | "bool" | "u32";
type Build = (a: string[], t: Kind) => string;
const b = (e: string) => `u32(${e})`;

/** Per-dtype builders: float, int32, bool (u32 0/1) and uint32 operands (uint32 defaults to the int32 text: WGSL u32 arithmetic wraps). */
const per =
  (f: (a: string[]) => string, i: (a: string[]) => string, u: (a: string[]) => string, w: (a: string[]) => string = i): Build =>
  (a, t) =>
    t === "f32" ? f(a) : t === "i32" ? i(a) : t === "u32" ? w(a) : u(a);
/** A shift by a u32 count; WGSL takes the count mod 32, XLA gives 0 for 32 or more. */
const shiftBy = (x: string, s: string, op: string, zero: string) => `select(${x} ${op} bitcast<u32>(${s}), ${zero}, bitcast<u32>(${s}) >= 32u)`;
const floatOnly =
  (f: (a: string[]) => string): Build =>
  (a) =>
    f(a);

const EXPR: Partial<Record<Prim, Build>> = {
  [Prim.Add]: per(
    (a) => `(${a[0]} + ${a[1]})`,
    (a) => `(${a[0]} + ${a[1]})`,
    (a) => b(`(${a[0]} + ${a[1]}) != 0u`),
  ),
  [Prim.Sub]: per(
    (a) => `(${a[0]} - ${a[1]})`,
    (a) => `(${a[0]} - ${a[1]})`,
    (a) => b(`${a[0]} != ${a[1]}`),
  ),
  [Prim.Mul]: per(
    (a) => `(${a[0]} * ${a[1]})`,
    (a) => `(${a[0]} * ${a[1]})`,
    (a) => b(`(${a[0]} * ${a[1]}) != 0u`),
  ),
  [Prim.Div]: per(
    (a) => `(${a[0]} / ${a[1]})`,
    (a) => `select(${a[0]} / ${a[1]}, 0i, ${a[1]} == 0i)`,
    (a) => b(`${a[0]} != 0u`),
    (a) => `select(${a[0]} / ${a[1]}, 0u, ${a[1]} == 0u)`,
  ),
  [Prim.Neg]: per(
    (a) => `(-${a[0]})`,
    (a) => `(-${a[0]})`,
    (a) => b(`${a[0]} != 0u`),
    (a) => `(0u - ${a[0]})`,
  ),
  [Prim.Pow]: per(
    (a) => `fx_pow(${a[0]}, ${a[1]})`,
    (a) => `fx_ipow(${a[0]}, ${a[1]})`,
    (a) => b(`${a[0]} != 0u || ${a[1]} == 0u`),
    (a) => `bitcast<u32>(fx_ipow(bitcast<i32>(${a[0]}), bitcast<i32>(${a[1]})))`,
  ),
  [Prim.Max]: per(
    (a) => `fx_max(${a[0]}, ${a[1]})`,
    (a) => `max(${a[0]}, ${a[1]})`,
    (a) => `max(${a[0]}, ${a[1]})`,
  ),
  [Prim.Min]: per(
    (a) => `fx_min(${a[0]}, ${a[1]})`,
    (a) => `min(${a[0]}, ${a[1]})`,
    (a) => `min(${a[0]}, ${a[1]})`,
  ),
  [Prim.Eq]: (a) => b(`${a[0]} == ${a[1]}`),
  // `!(a == b)`: true for NaN operands even where the compiler assumes no NaN.
  [Prim.Ne]: (a) => b(`!(${a[0]} == ${a[1]})`),
  [Prim.Lt]: (a) => b(`${a[0]} < ${a[1]}`),
  [Prim.Le]: (a) => b(`${a[0]} <= ${a[1]}`),
  [Prim.Gt]: (a) => b(`${a[0]} > ${a[1]}`),
  [Prim.Ge]: (a) => b(`${a[0]} >= ${a[1]}`),
  [Prim.And]: (a) => `(${a[0]} & ${a[1]})`,
  [Prim.Or]: (a) => `(${a[0]} | ${a[1]})`,
  [Prim.Xor]: (a) => `(${a[0]} ^ ${a[1]})`,
  [Prim.Not]: per(
    (a) => a[0]!,
    (a) => `(~${a[0]})`,
    (a) => b(`${a[0]} == 0u`),
    (a) => `(~${a[0]})`,
  ),
  [Prim.ShiftLeft]: per(
    (a) => a[0]!,
    (a) => shiftBy(a[0]!, a[1]!, "<<", "0i"),
    (a) => a[0]!,
    (a) => shiftBy(a[0]!, a[1]!, "<<", "0u"),
  ),
  [Prim.ShiftRightLogical]: per(
    (a) => a[0]!,
    (a) => `bitcast<i32>(${shiftBy(`bitcast<u32>(${a[0]})`, a[1]!, ">>", "0u")})`,
    (a) => a[0]!,
    (a) => shiftBy(a[0]!, a[1]!, ">>", "0u"),
  ),
  [Prim.Exp]: floatOnly((a) => `fx_exp(${a[0]})`),
  [Prim.Log]: floatOnly((a) => `fx_log(${a[0]})`),
  [Prim.Log1p]: floatOnly((a) => `fx_log1p(${a[0]})`),
  [Prim.Expm1]: floatOnly((a) => `fx_expm1(${a[0]})`),
  [Prim.Sin]: floatOnly((a) => `fx_sin(${a[0]})`),
  [Prim.Cos]: floatOnly((a) => `fx_cos(${a[0]})`),
  [Prim.Tanh]: floatOnly((a) => `fx_tanh(${a[0]})`),
  [Prim.Atan]: floatOnly((a) => `fx_atan(${a[0]})`),
  [Prim.Sqrt]: floatOnly((a) => `fx_sqrt(${a[0]})`),
  [Prim.Floor]: floatOnly((a) => `floor(${a[0]})`),
  [Prim.Rsqrt]: floatOnly((a) => `(1.0 / fx_sqrt(${a[0]}))`),
  [Prim.Logistic]: floatOnly((a) => `fx_logistic(${a[0]})`),
  [Prim.Abs]: per(
    (a) => `abs(${a[0]})`,
    (a) => `abs(${a[0]})`,
    (a) => a[0]!,
    (a) => a[0]!,
  ),
  [Prim.Sign]: per(
    (a) => `fx_sign(${a[0]})`,
    (a) => `sign(${a[0]})`,
    (a) => a[0]!,
    (a) => b(`${a[0]} != 0u`),
  ),
  [Prim.StopGradient]: (a) => a[0]!,
};

/** The conversion of a value of kind `from` to `to` (JS semantics: NaN -> 0, wrap to int32 / uint32). */
function convert(a: string, from: Kind, to: Kind): string {
  if (from === to) return a;
  if (to === "bool") return from === "f32" ? `u32(${a} != 0.0 && !fx_isnan(${a}))` : from === "i32" ? `u32(${a} != 0i)` : `u32(${a} != 0u)`;
  if (to === "i32") return from === "f32" ? `fx_f2i(${a})` : from === "u32" ? `bitcast<i32>(${a})` : `i32(${a})`;
  // ToUint32 is ToInt32's bits read unsigned.
  if (to === "u32") return from === "f32" ? `bitcast<u32>(fx_f2i(${a}))` : from === "i32" ? `bitcast<u32>(${a})` : a;
  return `f32(${a})`;
}

/** The kind of a dtype's values inside an expression. */
function kindOf(dtype: DType, fn: string): Kind {
  const t = wgslType(dtype, fn);
  return dtype === "bool" ? "bool" : t;
}

/**
 * The WGSL expression computing `prim` on operand expressions `args` of dtype `inDtype` (the last
 * operand's, as on the CPU), giving `outDtype`; null if `prim` is not elementwise.
 */
export function wgslExpr(prim: Prim, args: string[], inDtype: DType, outDtype: DType): string | null {
  const t = kindOf(inDtype, prim);
  if (prim === Prim.ConvertElementType) return convert(args[0]!, t, kindOf(outDtype, prim));
  if (prim === Prim.BitcastConvertType) return t === kindOf(outDtype, prim) ? args[0]! : `bitcast<${wgslType(outDtype, prim)}>(${args[0]})`;
  if (prim === Prim.SelectN) {
    // A bool selector is 0/1; an int32 one is clamped to the cases (<= i picks case i).
    const [w, ...cases] = args;
    let e = cases[cases.length - 1]!;
    for (let i = cases.length - 2; i >= 0; i--) e = `select(${e}, ${cases[i]}, ${w} <= ${i})`;
    return e;
  }
  const build = EXPR[prim];
  return build === undefined ? null : build(args, t);
}

/** WGSL_HELPERS cut into its functions, each with the helpers its body calls. */
const HELPER_FNS: readonly { name: string; text: string; calls: readonly string[] }[] = (() => {
  const fns: { name: string; text: string; calls: string[] }[] = [];
  let current: string[] | null = null;
  const close = () => {
    if (current === null) return;
    const text = current.join("\n") + "\n";
    const name = /^fn (fx_\w+)/.exec(text)![1]!;
    fns.push({ name, text, calls: [...new Set(text.match(/\bfx_\w+/g))].filter((c) => c !== name) });
    current = null;
  };
  for (const line of WGSL_HELPERS.split("\n")) {
    if (line.startsWith("fn ")) {
      close();
      current = [line];
    } else if (line.startsWith("//") || line.startsWith("/*")) close();
    else if (current !== null) current.push(line);
  }
  close();
  return fns;
})();
const HELPER_BY_NAME = new Map(HELPER_FNS.map((h) => [h.name, h]));

/**
 * `wgsl` with its copy of WGSL_HELPERS cut down to the helpers it calls (and theirs): shader
 * compilers parse and check every function, and on lavapipe a kernel with all the helpers took
 * 7.9 ms to become a pipeline, against 1.0 ms without them. Sources keep the full text, which is
 * what their caches key on; only the compiled module is cut.
 */
export function withHelpersUsed(wgsl: string): string {
  const at = wgsl.indexOf(WGSL_HELPERS);
  if (at < 0) return wgsl;
  const before = wgsl.slice(0, at),
    after = wgsl.slice(at + WGSL_HELPERS.length);
  const need = new Set<string>();
  const todo = [...`${before}\n${after}`.matchAll(/\bfx_\w+/g)].map((m) => m[0]);
  while (todo.length > 0) {
    const n = todo.pop()!;
    if (need.has(n) || !HELPER_BY_NAME.has(n)) continue;
    need.add(n);
    todo.push(...HELPER_BY_NAME.get(n)!.calls);
  }
  return `${before}\n${HELPER_FNS.filter((h) => need.has(h.name))
    .map((h) => h.text)
    .join("")}${after}`;
}

export function isElementwiseGpu(prim: Prim): boolean {
  return prim === Prim.ConvertElementType || prim === Prim.BitcastConvertType || prim === Prim.SelectN || EXPR[prim] !== undefined;
}

/** The index of the invocation in a 1-D launch of 256-wide workgroups split over x and y. */
export const LINEAR_INDEX = "(wid.y * nwg.x + wid.x) * 256u + lid.x";

/**
 * An elementwise kernel's body over n elements (`n`, WGSL u32), `body` run for each element index
 * `i`: one element per invocation, or `perThread` of them, 256 apart (so neighbouring invocations
 * still touch neighbouring elements). Workgroups needed: ceil(n / (256 · perThread)).
 */
export function elementLoop(perThread: number, n: string, body: string): string {
  if (perThread === 1) return `let i = ${LINEAR_INDEX};\n  if (i >= ${n}) { return; }\n  ${body}`;
  return `let first = (wid.y * nwg.x + wid.x) * ${int(256 * perThread)}u + lid.x;
  for (var e = 0u; e < ${int(perThread)}u; e = e + 1u) {
    let i = first + e * 256u;
    if (i < ${n}) {
      ${body}
    }
  }`;
}
export const ENTRY =
  "@compute @workgroup_size(256) fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_id) lid: vec3u)";
/**
 * ENTRY with the subgroup builtins: `sli`, the invocation's index in its subgroup; `sid`, its
 * subgroup's index in the workgroup; `nsg`, the workgroup's subgroup count. The source must start
 * with `enable subgroups;`, and only a device with subgroups (GpuContext.subgroups) runs it.
 */
export const ENTRY_SUBGROUPS =
  "@compute @workgroup_size(256) fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_id) lid: vec3u, @builtin(subgroup_invocation_id) sli: u32, @builtin(subgroup_id) sid: u32, @builtin(num_subgroups) nsg: u32)";

/**
 * The declaration of the parameter block and its accessors prm(k) / prmi(k). It is group 1 (one
 * slot of the context's uniform ring), so group 0 holds only storage buffers and is reused.
 */
export function paramsDecl(): string {
  return `struct Params { v: array<vec4<u32>, 16> }
@group(1) @binding(0) var<uniform> P: Params;
fn prm(k: u32) -> u32 { return P.v[k >> 2u][k & 3u]; }
fn prmi(k: u32) -> i32 { return bitcast<i32>(P.v[k >> 2u][k & 3u]); }`;
}

/** A storage buffer declaration of element type `t`. */
export function storageDecl(binding: number, name: string, t: string, write: boolean): string {
  return `@group(0) @binding(${binding}) var<storage, ${write ? "read_write" : "read"}> ${name}: array<${t}>;`;
}
