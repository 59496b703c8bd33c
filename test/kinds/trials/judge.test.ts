/** The trials judge over made-up trials (pure logic): every trial the expected outcome passes; another named outcome fails; what repro could not read is inconclusive. */
import { describe, expect, it } from 'vitest';
import { judgeTrials } from '../../../src/kinds/trials/judge.js';
import type { TrialResult } from '../../../src/kinds/trials/record.js';
import type { Expectation } from '../../../src/model/run-document.js';
import { staysFlat } from '../../../src/scenarios/expect.js';

const expectation: Expectation = staysFlat('zombies left after every burst', 0, { trials: { outcome: 'zombies-left', minTrials: 3 } });

function run(outcomes: string[]) {
  const results: TrialResult[] = outcomes.map((outcome, i) => ({ trial: i + 1, outcome, counts: {}, detail: `trial said ${outcome}`, elapsedMs: 1 }));
  const tally: Record<string, number> = {};
  for (const o of outcomes) tally[o] = (tally[o] ?? 0) + 1;
  return { trials: { results, tally }, end: { detail: 'aborted after 1 trial' } };
}

describe('judgeTrials', () => {
  it('passes when every trial shows the expected outcome', () => {
    const v = judgeTrials(run(['zombies-left', 'zombies-left', 'zombies-left']), expectation);
    expect(v.pass).toBe(true);
    expect(v.inconclusive).toBeUndefined();
    expect(v.checks.find((c) => c.id === 'trials:outcome')?.text).toBe('3 of 3 trials zombies-left (3 zombies-left)');
  });

  it('fails, not inconclusive, on one trial with another named outcome, and names that trial', () => {
    const v = judgeTrials(run(['zombies-left', 'all-reaped', 'unknown']), expectation);
    expect(v.pass).toBe(false);
    expect(v.inconclusive).toBeUndefined();
    expect(v.checks[0]?.text).toContain('trial 2: trial said all-reaped');
  });

  it('is inconclusive when a trial could not be read and none contradicts', () => {
    const v = judgeTrials(run(['zombies-left', 'unknown', 'zombies-left']), expectation);
    expect(v).toMatchObject({ pass: false, inconclusive: true });
    expect(v.checks[0]?.text).toContain('trial 2 could not be read');
  });

  it('is inconclusive with fewer trials than needed, and with none at all', () => {
    expect(judgeTrials(run(['zombies-left']), expectation)).toMatchObject({ pass: false, inconclusive: true });
    const none = judgeTrials({ end: { detail: 'trial 1: child no answer within 100 ms' } }, expectation);
    expect(none).toMatchObject({ pass: false, inconclusive: true });
    expect(none.checks[0]?.text).toBe('no trial ran: trial 1: child no answer within 100 ms');
  });
});
