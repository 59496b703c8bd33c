/**
 * The drain views' words from a ledger, as pure functions: the shutdown
 * timings in time order and never after the exit, a run that never sent its
 * signal saying so, one SIGKILL time, and the timeline strip's shared-column rule.
 */
import { describe, expect, it } from 'vitest';
import { type DrainRun, drainChecks, exitSentence, type LedgerSummary, OUTCOMES, type Outcome, type Phase, PHASES } from '../../src/model/drain.js';
import type { RunDocument } from '../../src/model/run-document.js';
import { drainRunRows, ledgerTable, routingRows, textTimeline, timingLine, timingRows } from '../../src/kinds/drain/facts.js';

function ledger(over: Partial<LedgerSummary> = {}): LedgerSummary {
  const counts = Object.fromEntries(OUTCOMES.map((o) => [o, Object.fromEntries(PHASES.map((p) => [p, 0]))])) as Record<Outcome, Record<Phase, number>>;
  return {
    total: 0,
    lost: 0,
    counts,
    byKind: { fresh: { total: 0, lost: 0 }, keepalive: { total: 0, lost: 0 }, post: { total: 0, lost: 0 }, long: { total: 0, lost: 0 }, idle: { total: 0, lost: 0 } },
    causes: [],
    otherLost: 0,
    examples: [],
    idle: { held: 0, closedByServer: 0, closedAtExit: 0, openAtEnd: 0 },
    closeAnswers: { before: 0, lag: 0, drain: 0, 'after-exit': 0 },
    connectionsOpenAtKill: 0,
    timings: {},
    lagMs: 200,
    graceMs: 5000,
    ...over,
  };
}

/** Python's http.server with --lag 200: died of SIGTERM at 4.4 ms, readiness refused by the dead port at 822.1 ms, last byte before the signal. */
const pythonDied = ledger({
  total: 514,
  lost: 27,
  inFlightAtSignal: 3,
  exit: { code: null, signal: 'SIGTERM', killed: false },
  timings: { readinessFalseMs: 822.1, listenerClosedMs: 4.4, listenerClosedFrom: 'exit', lastByteMs: -1.4, exitMs: 4.4 },
});

describe('drain timings', () => {
  it('never put readiness false after the exit, say a last byte before the signal in words, and list the moments in time order', () => {
    const line = timingLine(pythonDied) as string;
    expect(line).toBe('last byte 1.4 ms before the signal → signal → listener closed 4.4 ms → exit 4.4 ms (SIGTERM); readiness not seen false before the exit');
    expect(line).not.toContain('-1.4');
    const rows = timingRows(pythonDied);
    expect(rows).toEqual([
      ['last byte sent', '1.4 ms before the signal'],
      ['signal → listener closed', '4.4 ms (from the exit)'],
      ['signal → exit', '4.4 ms (died of SIGTERM)'],
      ['signal → readiness false', '— (readiness not seen false before the exit)'],
    ]);
  });

  it('a readiness false before the exit keeps its time, in order among the others', () => {
    const l = ledger({ ...pythonDied, timings: { readinessFalseMs: 2, listenerClosedMs: 4.4, lastByteMs: 3, exitMs: 4.4 } });
    expect(timingLine(l)).toBe('signal → readiness false 2 ms → last byte 3 ms → listener closed 4.4 ms → exit 4.4 ms (SIGTERM)');
  });

  it('drains-forever: the table and the verdict give the one SIGKILL time (killMs)', () => {
    const l = ledger({ total: 3000, lost: 400, inFlightAtSignal: 20, connectionsOpenAtKill: 21, exit: { code: null, signal: 'SIGKILL', killed: true }, timings: { killMs: 2000.2, exitMs: 2008.5, listenerClosedMs: 2.1, lastByteMs: 1990 } });
    expect(exitSentence(l)).toBe('killed after the grace period with 21 connections open 2000.2 ms after the signal');
    expect(timingRows(l)).toContainEqual(['signal → SIGKILL', '2000.2 ms (killed after the grace period with 21 connections open)']);
    expect(timingLine(l)).toContain('SIGKILL 2000.2 ms');
    expect(`${timingLine(l)} ${exitSentence(l)}`).not.toContain('2008.5');
  });
});

describe('a drain run whose server never answered', () => {
  const never = ledger();
  const run = {
    signal: 'SIGTERM',
    samples: [],
    ulimit: null,
    measured: { baselineFds: 0, rssKb: { start: null } },
    drain: {
      plan: { lagMs: 0, graceMs: 5000, seed: 1, concurrency: 30, maxRequests: 20000, warmupMs: 1000, signalJitterMs: 300, url: 'http://[::1]:8000/' },
      port: 8000,
      ended: { reason: 'ready-timeout', detail: 'http://[::1]:8000/ did not answer 200 within 10000 ms' },
      ledger: never,
      timeline: { bucketMs: 50, buckets: [], marks: {} },
      events: [],
      generator: { started: 0, readinessPolls: 0, durationMs: 0, peakConnections: 0 },
    },
  } as unknown as RunDocument & { drain: NonNullable<RunDocument['drain']> };

  it('says the signal was not sent, leaves the timings row out and keeps the URL as given', () => {
    const rows = Object.fromEntries(drainRunRows(run));
    expect(rows.timings).toBeUndefined();
    expect(rows.plan).toMatch(/^SIGTERM not sent: the run stopped before it \(planned after 1000–1300 ms of load, seed 1\)/);
    expect(rows.server).toBe('— (http://[::1]:8000/ did not answer 200 within 10000 ms)');
    expect(timingRows(never)).toEqual([['signal', 'not sent (the run stopped before it)']]);
  });

  it('lists no ok-check about the requests it never sent', () => {
    const checks = drainChecks({ ended: run.drain.ended, ledger: never } as DrainRun, { losses: 'none', minRequests: 100, exit: 'any' });
    expect(checks.filter((c) => c.ok)).toEqual([]);
    expect(checks.map((c) => c.text).join('\n')).not.toContain('0 of 0');
  });
});

describe('the timeline strip', () => {
  it('where marks share a column the later in the legend wins (S, C, B and X in one column: X)', () => {
    const lines = textTimeline({ bucketMs: 100, buckets: [{ atMs: 0, counts: { ok: 5 }, lost: 0 }, { atMs: 100, counts: { ok: 5 }, lost: 0 }], marks: { signalMs: 150, listenerClosedMs: 152, lastByteMs: 149, exitMs: 154 } });
    expect(lines[2]).toBe('         └·X┘');
    expect(lines[3]).toContain('S signal, C listener closed, B last byte, X exit');
  });

  it('leaves out a readiness false seen only after the exit', () => {
    const lines = textTimeline({ bucketMs: 100, buckets: [0, 100, 200, 300].map((atMs) => ({ atMs, counts: { ok: 1 }, lost: 0 })), marks: { signalMs: 50, exitMs: 60, readinessFalseMs: 350 } });
    expect(lines[2]).toBe('         └X···┘');
    expect(lines[3]).not.toContain('R readiness false');
  });
});

describe('the ledger table', () => {
  it('marks a cell by what its loss groups lost: all (3✗), some (3 (1✗)), none (3), and by the rule when groups overflowed', () => {
    const base = ledger();
    base.counts.reset.before = 3;
    base.counts.reset.drain = 3;
    base.counts.refused.drain = 3;
    const t = ledgerTable({ ...base, causes: [{ outcome: 'reset', phase: 'before', cause: 'ECONNRESET before any response byte', server: 'running', count: 3 }, { outcome: 'reset', phase: 'drain', cause: 'x', server: 'running', count: 1 }] });
    expect(t.rows.find((r) => r[0] === 'reset')?.slice(1, 4)).toEqual(['3✗', '·', '3 (1✗)']);
    expect(t.rows.find((r) => r[0] === 'refused')?.slice(1, 4)).toEqual(['·', '·', '3']);
    // No group for a cell the rule loses, because the 32 groups overflowed into otherLost: the rule marks it.
    const overflowed = ledgerTable({ ...base, causes: [], otherLost: 6 });
    expect(overflowed.rows.find((r) => r[0] === 'reset')?.slice(1, 4)).toEqual(['3✗', '·', '3✗']);
  });
});

describe('what the shutdown means behind a load balancer', () => {
  it('a server that died of the signal gets no grace-period advice (it did not drain); one that exited by itself does', () => {
    expect(routingRows(pythonDied, 'SIGTERM').map(([k]) => k)).not.toContain('drain took');
    const exited = ledger({ ...pythonDied, exit: { code: 0, signal: null, killed: false } });
    expect(routingRows(exited, 'SIGTERM').find(([k]) => k === 'drain took')?.[1]).toMatch(/^4\.4 ms from SIGTERM to the exit: set terminationGracePeriodSeconds above 1 s/);
  });
});
