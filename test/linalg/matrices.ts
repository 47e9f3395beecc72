/** Deterministic test matrices shared by the linear-algebra tests (plain JavaScript, independent of the kernels). */

/** Deterministic entries in [-1, 1). */
export function rand(count: number, seed: number): Float64Array {
  let s = seed >>> 0;
  return Float64Array.from({ length: count }, () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32) * 2 - 1);
}

/**
 * An orthogonal n×n matrix: a product of `reflections` Householder reflections, the r-th along
 * rand(n, seed + seedStep·r).
 */
export function orthogonal(n: number, seed: number, reflections: number, seedStep: number): Float64Array {
  const q = new Float64Array(n * n);
  for (let i = 0; i < n; i++) q[i * n + i] = 1;
  for (let r = 0; r < reflections; r++) {
    const v = rand(n, seed + seedStep * r),
      vv = v.reduce((s, x) => s + x * x, 0);
    for (let i = 0; i < n; i++) {
      let d = 0;
      for (let j = 0; j < n; j++) d += q[i * n + j]! * v[j]!;
      for (let j = 0; j < n; j++) q[i * n + j] -= (2 * d * v[j]!) / vv;
    }
  }
  return q;
}
