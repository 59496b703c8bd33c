import { describe, expect, it } from 'vitest';
import { finiteDifference, maxOf, percentile, round, slope } from '../../src/model/stats.js';

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

describe('maxOf', () => {
  it('takes 150 000 values, where Math.max(...values) overflows the stack', () => {
    const values = Array.from({ length: 150_000 }, (_, i) => i % 1000);
    expect(() => Math.max(...values)).toThrow(RangeError);
    expect(maxOf(values)).toBe(999);
  });
  it('starts from the floor it is given', () => {
    expect(maxOf([], 1)).toBe(1);
    expect(maxOf([3, 7, 5], 1)).toBe(7);
  });
});

describe('round and finiteDifference never make a finite number infinite', () => {
  it('round leaves numbers too large to scale as they are', () => {
    expect(round(1.7e308)).toBe(1.7e308);
    expect(round(-1.7e308)).toBe(-1.7e308);
    expect(round(2.00049)).toBe(2);
  });
  it('a − b past the largest number is held at it', () => {
    expect(finiteDifference(-1.7e308, 1.7e308)).toBe(-Number.MAX_VALUE);
    expect(finiteDifference(1.7e308, -1.7e308)).toBe(Number.MAX_VALUE);
    expect(finiteDifference(5, 3)).toBe(2);
  });
});
