import { describe, expect, it } from 'vitest';
import type { Sample } from '../../src/model/run-document.js';
import { SampleBuffer } from '../../src/model/sample-buffer.js';
import { slope } from '../../src/model/stats.js';

const sample = (reload: number): Sample => ({ reload, elapsedMs: reload, fds: 20 + 2 * reload, fdsByKind: {} });

describe('SampleBuffer', () => {
  it('keeps every sample while under capacity', () => {
    const buffer = new SampleBuffer(100);
    for (let k = 0; k < 50; k++) buffer.add(sample(k));
    expect(buffer.toArray().map((s) => s.reload)).toEqual(Array.from({ length: 50 }, (_, k) => k));
    expect(buffer.stride).toBe(1);
  });

  it('never holds more than its capacity over 100 000 samples, keeping the baseline and the last', () => {
    const buffer = new SampleBuffer(1000);
    for (let k = 0; k <= 100_000; k++) {
      buffer.add(sample(k));
      expect(buffer.length).toBeLessThan(1000);
    }
    const kept = buffer.toArray();
    expect(kept[0]?.reload).toBe(0);
    expect(kept.at(-1)?.reload).toBe(100_000);
    expect(buffer.stride).toBe(128);
    // Uniform spacing: every kept reload but the appended last one is a multiple of the stride.
    expect(kept.slice(0, -1).every((s) => s.reload % buffer.stride === 0)).toBe(true);
  });

  it('thinning keeps the least-squares slope', () => {
    const buffer = new SampleBuffer(64);
    for (let k = 0; k <= 10_000; k++) buffer.add(sample(k));
    const kept = buffer.toArray();
    expect(slope(kept.map((s) => s.reload), kept.map((s) => s.fds))).toBeCloseTo(2, 10);
  });
});
