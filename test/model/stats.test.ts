import { describe, expect, it } from 'vitest';
import { percentile, slope } from '../../src/model/stats.js';

describe('slope', () => {
  it('is the least-squares fit of a straight line', () => {
    expect(slope([0, 1, 2, 3], [20, 22, 24, 26])).toBe(2);
  });
  it('is zero for a flat series and for too few points', () => {
    expect(slope([0, 1, 2], [5, 5, 5])).toBe(0);
    expect(slope([0], [5])).toBe(0);
  });
  it('spreads a one-time step over the whole run instead of calling it growth per reload', () => {
    const xs = Array.from({ length: 500 }, (_, i) => i);
    const ys = xs.map((x) => (x < 250 ? 24 : 26));
    expect(slope(xs, ys)).toBeLessThan(0.013);
  });
});

describe('percentile', () => {
  it('uses the nearest rank', () => {
    const v = Array.from({ length: 100 }, (_, i) => i + 1);
    expect(percentile(v, 50)).toBe(50);
    expect(percentile(v, 99)).toBe(99);
    expect(percentile([3, 1, 2], 50)).toBe(2);
  });
  it('is null for no values', () => {
    expect(percentile([], 50)).toBeNull();
  });
});
