import { describe, expect, it } from 'vitest';
import { checkBaseline } from '../../src/kinds/baseline.js';
import type { RunDocument } from '../../src/model/run-document.js';

/** Only what checkBaseline reads of a run. */
const runWith = (growthPerReload: number) => ({ kind: 'run', role: 'watch', events: [], measured: { growthPerReload } }) as unknown as RunDocument;

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

describe('checkBaseline compares like with like', () => {
  const run = (fields: Record<string, unknown>) => ({ kind: 'run', role: 'correct', scenario: 'runtime-teardown', events: [], measured: { growthPerReload: 0 }, ...fields }) as unknown as RunDocument;

  it('a saved run of another scenario is not compared: a failing check that says so', () => {
    const check = checkBaseline(run({}), run({ scenario: 'graceful-drain' }), 'gd.json', 0.05);
    expect(check?.pass).toBe(false);
    expect(check?.runs[0]).toMatchObject({ run: 'correct', regressed: true, mismatch: 'gd.json holds a graceful-drain correct run, this is runtime-teardown: nothing to compare' });
  });

  it('a watched tree is compared by its gate, the fds surviving per reload, not the slope', () => {
    const watch = (survivorsPerReload: number, growthPerReload: number) =>
      run({ scenario: 'watch', role: 'watch', survivors: { survivorsPerReload }, measured: { growthPerReload } });
    // The slope rose (a bounded cache), the survivors did not: no regression.
    expect(checkBaseline(watch(0, 0.8), watch(0, 0), 'old.json', 0.05)).toMatchObject({ pass: true, runs: [{ measure: 'survivors', before: 0, after: 0 }] });
    expect(checkBaseline(watch(2, 2), watch(0, 2), 'old.json', 0.05)).toMatchObject({ pass: false, runs: [{ measure: 'survivors', change: 2 }] });
  });

  it('a drain is compared by the requests it lost', () => {
    const drain = (lost: number) => run({ scenario: 'drain', role: 'drain', drain: { ledger: { lost } } });
    expect(checkBaseline(drain(3), drain(0), 'old.json', 0.05)).toMatchObject({ pass: false, runs: [{ measure: 'lost', before: 0, after: 3 }] });
    expect(checkBaseline(drain(0), drain(0), 'old.json', 0.05)?.pass).toBe(true);
  });
});
