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
    // Issue 19: nothing sent after the server was gone is the server's loss; any 5xx is one.
    ['truncated', 'after-exit', false],
    ['reset', 'after-exit', false],
    ['timeout', 'lag', true],
    ['refused', 'before', true],
    ['refused', 'lag', true],
    ['refused', 'drain', false],
    ['refused', 'after-exit', false],
    ['unavailable', 'lag', true],
    ['unavailable', 'before', true],
    ['unavailable', 'drain', true],
    ['other-status', 'drain', false],
    ['ok', 'drain', false],
  ] as const)('%s during %s → lost: %s', (outcome, phase, lost) => {
    expect(isLoss(outcome, phase)).toBe(lost);
  });

  it.each([
    ['before', true],
    ['lag', true],
    ['drain', false],
    ['after-exit', false],
  ] as const)('a reset before any byte of a new connection (unanswered) during %s → lost: %s, as a refusal then', (phase, lost) => {
    expect(isLoss('reset', phase, true)).toBe(lost);
    expect(isLoss('refused', phase)).toBe(lost);
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
      // Reset after some bytes of the answer: lost in every phase before the exit (one reset before any byte of a new connection after the lag would not be).
      ledger.record({ kind: 'fresh', method: 'GET', path: '/work', startedAt: i }, { ...exchange(outcome, `cause ${i}`, i + 1), bytes: 10 }, 'running');
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
    expect(verdict.checks.find((c) => c.id === 'drain:causes')?.text).toContain('1 × truncated (started during the drain, server SIGKILLed): body cut short, then ECONNRESET');
  });

  it('correct fails on a single loss, naming it', () => {
    const ledger = base();
    ledger.exit = { code: 0, signal: null, killed: false };
    ledger.record({ kind: 'post', method: 'POST', path: '/work', startedAt: 200 }, exchange('reset', 'ECONNRESET before any response byte'), 'running');
    const verdict = judgeDrain({ drain: { ended: { reason: 'done', detail: '' }, ledger: ledger.summary() }, end: { detail: '' } }, drainExpectation('x', { losses: 'none', minRequests: 1, exit: 'clean' }));
    expect(verdict.pass).toBe(false);
    // Failed checks come first: the verdict's first line names the loss.
    expect(checkLine(verdict.checks[0] as (typeof verdict.checks)[number])).toBe('FAIL: lost 1 of 1 requests: 1 × reset (started in the lag window, server still running): ECONNRESET before any response byte');
  });
});

describe('issue 19: graceful means it exits by itself, and a signal must reach the shutdown', () => {
  const judged = (ledger: Ledger) => judgeDrain({ drain: { ended: { reason: 'done', detail: '' }, ledger: ledger.summary() }, end: { detail: '' } }, drainExpectation('x', { losses: 'none', minRequests: 1, exit: 'self' }, true));
  const killedAfter = (ledger: Ledger) => {
    ledger.killAt = 1100;
    ledger.exitAt = 1110;
    ledger.exit = { code: null, signal: 'SIGKILL', killed: true };
  };

  it('a server SIGKILLed at the grace period fails ("did not exit within the grace period") even with nothing lost and the load over: not inconclusive', () => {
    const ledger = new Ledger(0, 0, 1000);
    ledger.signalAt = 100;
    ledger.record({ kind: 'fresh', method: 'GET', path: '/', startedAt: 50 }, exchange('ok', 'HTTP 200', 60), 'running');
    ledger.listenerClosedAt = 150; // it began a shutdown: the listener closed
    ledger.listenerClosedFrom = 'refused-connect';
    killedAfter(ledger);
    const verdict = judged(ledger);
    expect(verdict.pass).toBe(false);
    expect(verdict.inconclusive).toBeUndefined();
    expect(verdict.checks.find((c) => c.id === 'drain:exit')).toMatchObject({ ok: false, text: expect.stringMatching(/^did not exit within the grace period \(1000 ms\)/) });
  });

  it('killed with no sign of a shutdown (readiness answered, listener open, no Connection: close): the signal never reached it, inconclusive with the fix', () => {
    const ledger = new Ledger(0, 0, 1000);
    ledger.signalAt = 100;
    ledger.record({ kind: 'fresh', method: 'GET', path: '/', startedAt: 50 }, exchange('ok', 'HTTP 200', 160), 'running');
    killedAfter(ledger);
    const verdict = judged(ledger);
    expect(verdict.pass).toBe(false);
    expect(verdict.inconclusive).toBe(true);
    expect(verdict.checks[0]).toMatchObject({ id: 'drain:signal', ok: false, text: expect.stringContaining('never reached a shutdown') });
  });

  it('a GET retried after the keep-alive close race is recorded once, as its retry, and counted in `retried`', () => {
    const ledger = new Ledger(0, 0, 1000);
    ledger.signalAt = 100;
    ledger.exitAt = 300;
    ledger.record({ kind: 'keepalive', method: 'GET', path: '/', startedAt: 200, retry: true }, exchange('refused', 'ECONNREFUSED: nothing listening', 201), 'running');
    ledger.record({ kind: 'keepalive', method: 'GET', path: '/', startedAt: 50, retry: true }, exchange('reset', 'ECONNRESET before any response byte', 60), 'running');
    const summary = ledger.summary();
    expect(summary.total).toBe(2);
    expect(summary.retried).toEqual({ total: 2, outcomes: { refused: 1, reset: 1 } });
    // Refused after the lag: not lost; reset on the retry too: lost, and the cause says it was a retry.
    expect(summary.lost).toBe(1);
    expect(summary.causes[0]?.cause).toBe('retried after the keep-alive close race, then ECONNRESET before any response byte');
  });
});
