/**
 * A compare's verdict from its runs' verdicts (pure logic on made-up runs):
 * a compare whose only failing runs could not tell is inconclusive; a finding
 * in any run, a role that never ran or a baseline regression makes it a FAIL.
 */
import { describe, expect, it } from 'vitest';
import { judgeCompare } from '../../src/kinds/index.js';
import { withBaseline } from '../../src/model/baseline.js';
import type { BaselineCheck, CompareDocument, RunDocument, Verdict } from '../../src/model/run-document.js';
import { headline } from '../../src/report/facts.js';

const expectation = { shows: 'what it should' } as Verdict['expectation'];

function run(role: string, verdict: 'pass' | 'fail' | 'untold'): RunDocument {
  const failed = { id: 'ledger:bound', ok: false, text: `${role}'s bound is too high to tell` };
  const v: Verdict = verdict === 'pass' ? { pass: true, checks: [], expectation } : { pass: false, ...(verdict === 'untold' ? { inconclusive: true } : {}), checks: [failed], expectation };
  return { kind: 'run', measurement: 'ledger', role, verdict: v, end: { reason: 'finished', detail: 'finished' } } as unknown as RunDocument;
}

const compare = (runs: RunDocument[], roles = runs.map((r) => r.role)): CompareDocument =>
  ({ kind: 'compare', scenario: 's', runtime: 'python', runs, roles, verdict: judgeCompare(runs, roles), wallMs: 1 }) as unknown as CompareDocument;

describe('judgeCompare: could not tell against a finding', () => {
  it('a compare whose only failing role could not tell is inconclusive, and its headline names the role and why', () => {
    const doc = compare([run('broken', 'pass'), run('correct', 'untold')]);
    expect(doc.verdict).toMatchObject({ pass: false, inconclusive: true });
    expect(headline(doc)).toEqual({ status: 'inconclusive', text: "correct could not tell: correct's bound is too high to tell" });
  });

  it('a finding in one role beats could not tell in another: FAIL', () => {
    const doc = compare([run('broken', 'fail'), run('correct', 'untold')]);
    expect(doc.verdict.pass).toBe(false);
    expect(doc.verdict.inconclusive).toBeUndefined();
    expect(headline(doc).status).toBe('fail');
  });

  it('a planned role that never ran is a FAIL, not could not tell', () => {
    const doc = compare([run('correct', 'untold')], ['broken', 'correct']);
    expect(doc.verdict.inconclusive).toBeUndefined();
  });

  it('a baseline regression beats a compare that could not tell', () => {
    const doc = compare([run('broken', 'pass'), run('correct', 'untold')]);
    const regressed: BaselineCheck = { file: 'old.json', tolerance: 0, runs: [{ run: 'broken', measure: 'lost', before: 1, after: 0, change: -1, regressed: true }], pass: false };
    expect(withBaseline(doc, regressed).verdict.inconclusive).toBeUndefined();
    expect(withBaseline(doc, { ...regressed, runs: [], pass: true }).verdict.inconclusive).toBe(true);
  });
});
