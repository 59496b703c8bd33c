/** Axis scales for the drawn charts (SVG, Markdown). Pure. */

/** A "nice" step (1, 2, 2.5 or 5 × 10^k) that splits 0..max into about `count` parts. */
function niceStep(max: number, count: number): number {
  const raw = Math.max(max, 1e-9) / Math.max(1, count);
  const power = 10 ** Math.floor(Math.log10(raw));
  const fraction = raw / power;
  const nice = fraction <= 1 ? 1 : fraction <= 2 ? 2 : fraction <= 2.5 ? 2.5 : fraction <= 5 ? 5 : 10;
  return nice * power;
}

/** Ticks from 0 to the first multiple of the step at or above `max`. Whole numbers only when `integer`. */
export function niceTicks(max: number, count: number, integer = true): number[] {
  let step = niceStep(max, count);
  if (integer) step = Math.max(1, Math.ceil(step));
  const top = Math.max(step, Math.ceil(max / step - 1e-9) * step);
  const ticks: number[] = [];
  for (let v = 0; v <= top + step / 1e6; v += step) ticks.push(Math.round(v * 1e6) / 1e6);
  return ticks;
}

export interface Point {
  x: number;
  y: number;
}

/**
 * Keeps at most about 2 × `buckets` points: in each bucket of x the lowest and
 * the highest (in x order), so spikes survive and a flat line stays flat.
 */
export function decimate(points: readonly Point[], buckets: number): Point[] {
  if (points.length <= 2 * buckets) return [...points];
  const first = points[0] as Point;
  const last = points.at(-1) as Point;
  const span = last.x - first.x || 1;
  const out: Point[] = [];
  let bucket = -1;
  let lo: Point | undefined;
  let hi: Point | undefined;
  const flush = () => {
    if (!lo || !hi) return;
    if (lo === hi) out.push(lo);
    else out.push(...(lo.x <= hi.x ? [lo, hi] : [hi, lo]));
  };
  for (const p of points) {
    const b = Math.min(buckets - 1, Math.floor(((p.x - first.x) / span) * buckets));
    if (b !== bucket) {
      flush();
      bucket = b;
      lo = p;
      hi = p;
    } else {
      if (p.y < (lo as Point).y) lo = p;
      if (p.y > (hi as Point).y) hi = p;
    }
  }
  flush();
  if (out.at(-1) !== last) out.push(last);
  return out;
}
