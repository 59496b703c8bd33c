/**
 * The ledger's rules (what is lost, which phase a request belongs to) and its
 * bounds: 100 000 recorded requests keep a bounded set of causes, examples
 * and timeline buckets.
 */
import { describe, expect, it } from 'vitest';
import type { Exchange, Outcome } from '../../../src/harness/load/http-exchange.js';
import { isLoss, Ledger, phaseAt } from '../../../src/harness/load/ledger.js';
import { Timeline } from '../../../src/harness/load/timeline.js';
import { drainExpectation } from '../../../src/kinds/drain/expectation.js';
import { judgeDrain } from '../../../src/kinds/drain/judge.js';
import { killedSentence } from '../../../src/model/drain.js';
import { checkLine } from '../../../src/report/facts.js';

const exchange = (outcome: Outcome, cause: string = outcome, at = 0): Exchange => ({ outcome, bytes: 0, serverClose: false, reused: false, cause, endedAt: at });

describe('what counts as lost', () => {
  it.each([
    ['reset', 'before', true],
    ['reset', 'drain', true],
    ['truncated', 'after-exit', true],
    ['timeout', 'lag', true],
    ['refused', 'before', true],
    ['refused', 'lag', true],
    ['refused', 'drain', false],
    ['refused', 'after-exit', false],
    ['unavailable', 'lag', false],
    ['ok', 'drain', false],
  ] as const)('%s during %s → lost: %s', (outcome, phase, lost) => {
    expect(isLoss(outcome, phase)).toBe(lost);
  });

  it('a request started inside the lag window stays in it even when the server exited before it (it should have been served)', () => {
    const marks = { signalAt: 1000, lagMs: 500, exitAt: 1100 };
    expect(phaseAt(999, marks)).toBe('before');
    expect(phaseAt(1200, marks)).toBe('lag');
    expect(phaseAt(1600, marks)).toBe('after-exit');
    expect(phaseAt(1600, { signalAt: 1000, lagMs: 500, exitAt: 3000 })).toBe('drain');
    expect(phaseAt(5, { lagMs: 500 })).toBe('before');
  });
});

describe('the ledger stays bounded', () => {
  it('100 000 requests with ever-new causes: 32 cause groups, 20 examples, at most 240 timeline buckets, every loss counted', () => {
    const ledger = new Ledger(0, 300, 3000, new Timeline(1, 240));
    ledger.signalAt = 50_000;
    for (let i = 0; i < 100_000; i++) {
      const outcome: Outcome = i % 10 === 0 ? 'reset' : 'ok';
      ledger.record({ kind: 'fresh', method: 'GET', path: '/work', startedAt: i }, exchange(outcome, `cause ${i}`, i + 1), 'running');
    }
    const summary = ledger.summary();
    expect(summary.total).toBe(100_000);
    expect(summary.lost).toBe(10_000);
    expect(summary.causes).toHaveLength(32);
    expect(summary.otherLost).toBe(10_000 - 32);
    expect(summary.examples).toHaveLength(20);
    const timeline = ledger.timelineData();
    expect(timeline.buckets.length).toBeLessThanOrEqual(240);
    expect(timeline.buckets.reduce((n, b) => n + (b.counts.ok ?? 0) + (b.counts.reset ?? 0), 0)).toBe(100_000);
    expect(timeline.buckets.reduce((n, b) => n + b.lost, 0)).toBe(10_000);
    expect(timeline.marks.signalMs).toBe(50_000);
    // The same byte size whatever the count: only aggregates are kept.
    expect(JSON.stringify({ summary, timeline }).length).toBeLessThan(40_000);
  });

  it('the timeline doubles its bucket width rather than grow, keeping counts', () => {
    const timeline = new Timeline(10, 4);
    for (const at of [0, 15, 25, 35]) timeline.add(at, 'ok', false);
    expect(timeline.bucketMs).toBe(10);
    timeline.add(45, 'refused', true);
    expect(timeline.bucketMs).toBe(20);
    expect(timeline.toJSON().buckets).toEqual([
      { atMs: 0, counts: { ok: 2 }, lost: 0 },
      { atMs: 20, counts: { ok: 2 }, lost: 0 },
      { atMs: 40, counts: { refused: 1 }, lost: 1 },
    ]);
  });
});

describe('the drain verdict', () => {
  const base = () => {
    const ledger = new Ledger(0, 300, 3000);
    ledger.signalAt = 100;
    return ledger;
  };

  it('a killed server is reported with the connections it held', () => {
    const ledger = base();
    ledger.exit = { code: null, signal: 'SIGKILL', killed: true };
    ledger.connectionsOpenAtKill = 3;
    ledger.record({ kind: 'long', method: 'GET', path: '/stream', startedAt: 500 }, exchange('truncated', 'body cut short, then ECONNRESET'), 'killed');
    const summary = ledger.summary();
    expect(killedSentence(summary)).toBe('killed after the grace period with 3 connections open');
    const verdict = judgeDrain({ drain: { ended: { reason: 'done', detail: '' }, ledger: summary }, end: { detail: '' } }, drainExpectation('x', { losses: 'some', minRequests: 1, exit: 'killed' }));
    expect(verdict.pass).toBe(true);
    expect(verdict.checks.find((c) => c.id === 'drain:causes')?.text).toContain('1 × truncated (drain, server killed): body cut short, then ECONNRESET');
  });

  it('correct fails on a single loss, naming it', () => {
    const ledger = base();
    ledger.exit = { code: 0, signal: null, killed: false };
    ledger.record({ kind: 'post', method: 'POST', path: '/work', startedAt: 200 }, exchange('reset', 'ECONNRESET before any response byte'), 'running');
    const verdict = judgeDrain({ drain: { ended: { reason: 'done', detail: '' }, ledger: ledger.summary() }, end: { detail: '' } }, drainExpectation('x', { losses: 'none', minRequests: 1, exit: 'clean' }));
    expect(verdict.pass).toBe(false);
    // Failed checks come first: the verdict's first line names the loss.
    expect(checkLine(verdict.checks[0] as (typeof verdict.checks)[number])).toBe('FAIL: lost 1 of 1 requests: 1 × reset (lag window, server running): ECONNRESET before any response byte');
  });
});
