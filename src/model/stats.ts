/** Least-squares slope of y over x; 0 for fewer than two points or no spread in x. */
export function slope(xs: readonly number[], ys: readonly number[]): number {
  const n = Math.min(xs.length, ys.length);
  if (n < 2) return 0;
  let sx = 0;
  let sy = 0;
  for (let i = 0; i < n; i++) {
    sx += xs[i] as number;
    sy += ys[i] as number;
  }
  const mx = sx / n;
  const my = sy / n;
  let num = 0;
  let den = 0;
  for (let i = 0; i < n; i++) {
    const dx = (xs[i] as number) - mx;
    num += dx * ((ys[i] as number) - my);
    den += dx * dx;
  }
  return den === 0 ? 0 : num / den;
}

/** Nearest-rank percentile (p in 0..100); null for no values. */
export function percentile(values: readonly number[], p: number): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1] as number;
}

/** Rounds for display and JSON: keeps documents readable without losing what matters. */
export function round(value: number, digits = 3): number {
  const f = 10 ** digits;
  const scaled = value * f;
  // Past about 1.8e305 the scaled value is Infinity: such a number has no digits after the point to round anyway.
  return Number.isFinite(scaled) ? Math.round(scaled) / f : value;
}

/** a − b, held to the largest finite number: a document must never hold ±Infinity (JSON writes it as null). */
export function finiteDifference(a: number, b: number): number {
  const d = a - b;
  return Number.isFinite(d) || Number.isNaN(d) ? d : Math.sign(d) * Number.MAX_VALUE;
}

/** The largest of `floor` and `values`, in a loop: `Math.max(...values)` overflows the stack past about 100 000 values. */
export function maxOf(values: Iterable<number>, floor = -Infinity): number {
  let max = floor;
  for (const v of values) if (v > max || Number.isNaN(v)) max = v;
  return max;
}
