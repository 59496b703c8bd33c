// A per-reload metric (what each round left) is shown by its median and range: its first and last samples are the
// baseline and, often, the round that failed with EMFILE, so `start → end` read `0 → 0` for a run that left 8 per round.
import { describe, expect, it } from 'vitest';
import { metricSpan } from '../../src/kinds/shared/fd-facts.js';
import type { RunDocument } from '../../src/model/run-document.js';

function run(values: number[], perReload: boolean): RunDocument {
  return {
    metrics: [{ id: 'leftFds', label: 'fds left by the round', unit: '', description: 'left', ...(perReload ? { perReload } : {}) }],
    samples: values.map((v, reload) => ({ reload, fds: 5, metrics: { leftFds: v } })),
    measured: { metrics: { leftFds: { start: values[0], end: values.at(-1) } } },
  } as unknown as RunDocument;
}

describe('a metric about each reload on its own', () => {
  it('a broken run that left 8 per round and 0 at the EMFILE round: 8 per reload, with the range', () => {
    expect(metricSpan(run([0, 8, 8, 8, 8, 8, 8, 8, 0], true), 'leftFds')).toBe('8 per reload (0–8, 8 reloads)');
  });
  it('a correct run: 0 in all of them', () => {
    expect(metricSpan(run([0, 0, 0, 0], true), 'leftFds')).toBe('0 in all 3 reloads');
  });
  it('a running total keeps start → end', () => {
    expect(metricSpan(run([0, 8, 16, 24], false), 'leftFds')).toBe('0 → 24');
  });
});
