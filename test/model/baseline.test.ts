import { describe, expect, it } from 'vitest';
import { checkBaseline } from '../../src/model/baseline.js';
import type { RunDocument } from '../../src/model/run-document.js';

/** Only what checkBaseline reads of a run. */
const runWith = (growthPerReload: number) => ({ kind: 'run', role: 'watch', measured: { growthPerReload } }) as unknown as RunDocument;

describe('checkBaseline with growth at the ends of the number line', () => {
  it.each([
    [-1.7e308, 1.7e308],
    [1.7e308, -1.7e308],
    [0, 1.7e308],
    [0, -1.7e308],
  ])('now %d against %d: the change is finite, so JSON keeps it a number', (now, before) => {
    const check = checkBaseline(runWith(now), runWith(before), 'old.json', 0.05);
    const change = check?.runs[0]?.change as number;
    expect(Number.isFinite(change)).toBe(true);
    expect(JSON.parse(JSON.stringify(check)).runs[0].change).toBe(change);
  });

  it('an ordinary change is rounded as before', () => {
    expect(checkBaseline(runWith(2.0004), runWith(0), 'old.json', 0.05)?.runs[0]).toMatchObject({ change: 2, regressed: true });
  });
});
