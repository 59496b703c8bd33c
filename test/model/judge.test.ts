// Pure measuring and judging on hand-made samples: no processes. Expectations are data.
import { describe, expect, it } from 'vitest';
import { judgeRun, KINDS, rejudge } from '../../src/kinds/index.js';
import { measure, type RecordedRun } from '../../src/model/measure.js';
import type { Expectation, MeasuredRun, RunDocument, Sample } from '../../src/model/run-document.js';
import { leaksToEmfile } from '../../src/scenarios/expect.js';

/** The judge the CLI uses for a protocol reload run. */
const judge = KINDS.reloads.judge;

function run(role: 'broken' | 'correct', samples: Sample[], extra: Partial<RecordedRun> = {}): MeasuredRun {
  const recorded: RecordedRun = {
    schemaVersion: 2,
    kind: 'run',
    scenario: 'sighup-listener',
    role,
    roleKind: role,
    runtime: 'node',
    options: { channel: 'pipe' },
    signal: 'SIGHUP',
    command: ['node', 'child.js'],
    ulimit: 64,
    reloadsPlanned: samples.length - 1,
    fdsAboveLimitAtStart: 0,
    metrics: [{ id: 'listeners', label: 'listeners', unit: '', description: 'from acks' }],
    sampleStride: 1,
    harnessPeakRssKb: 0,
    platform: { os: 'linux', arch: 'x64', release: '6', node: 'v20', probe: 'procfs' },
    startedAt: '2026-01-01T00:00:00.000Z',
    pid: 1,
    samples,
    events: [],
    end: { reason: 'reloads-done', detail: 'done', child: null, wallMs: 1 },
    stderr: { text: '', truncated: false, bytes: 0 },
    stdout: { text: '', truncated: false, bytes: 0 },
    signalHandling: 'not-checked',
    ...extra,
  };
  const { signalHandling: _s, ...rest } = recorded;
  return { ...rest, measured: measure(recorded) };
}

const sample = (reload: number, fds: number, listeners = 1): Sample => ({
  reload,
  elapsedMs: reload,
  fds,
  fdsByKind: { pipe: fds - 10, eventfd: 10 },
  metrics: { listeners },
  ...(reload === 0 ? {} : { roundTripMs: 0.2 }),
});

const leaking = (until: number) => Array.from({ length: until + 1 }, (_, k) => sample(k, 20 + 2 * Math.min(k, until - 1), k + 1));

const LEAK: Expectation = leaksToEmfile('the leak', 2, 0.01, { afterFailure: 'dead', growingMetrics: ['listeners'] });
const FLAT: Expectation = { ...LEAK, shows: 'flat', fdsPerReload: 0, registerFailure: 'forbidden', afterFailure: undefined, flatMetrics: ['listeners'], growingMetrics: [], allReloads: true };
const failed = (v: { checks: { ok: boolean; id: string; text: string }[] }) => v.checks.filter((c) => !c.ok);

describe('judge (broken)', () => {
  const emfile = { seq: 23, code: 'EMFILE', message: 'cannot register signal: EMFILE (Too many open files)', event: 'register-failed' as const };

  it('passes a run that grows by the channel size, fails where predicted and is dead after', () => {
    const r = run('broken', leaking(23), { events: [emfile], signalHandling: 'dead', end: { reason: 'emfile', detail: '', child: null, wallMs: 1 } });
    const v = judge(r, LEAK);
    expect(v.pass).toBe(true);
    expect(v.checks.map((c) => c.id)).toEqual(['growth', 'register-failure', 'emfile-prediction', 'signal-handling', 'metric:listeners']);
    expect(r.measured.growthPerReload).toBe(2);
    expect(r.measured.growthByKind).toEqual({ pipe: 2 });
    expect(r.measured.emfileAtReload).toBe(23);
    expect(r.measured.predictedEmfileAtReload).toBe(23);
  });

  it('fails when signal handling survived the register failure', () => {
    const v = judge(run('broken', leaking(23), { events: [emfile], signalHandling: 'alive', end: { reason: 'emfile', detail: '', child: null, wallMs: 1 } }), LEAK);
    expect(v.pass).toBe(false);
    expect(failed(v)).toEqual([{ id: 'signal-handling', ok: false, text: 'signal handling after the failure: alive (expected dead)' }]);
    // The same run is what log-reopen's broken role expects: signal handling stays alive there.
    expect(judge(run('broken', leaking(23), { events: [emfile], signalHandling: 'alive', end: { reason: 'emfile', detail: '', child: null, wallMs: 1 } }), { ...LEAK, afterFailure: 'alive' }).pass).toBe(true);
  });

  it('fails when no register failure came', () => {
    const v = judge(run('broken', leaking(10)), LEAK);
    expect(v.pass).toBe(false);
    expect(failed(v)[0]?.text).toMatch(/^no register failure/);
  });

  it('leaves fds numbered above the limit out of the prediction', () => {
    const v = run('broken', leaking(23), { events: [emfile], signalHandling: 'dead', fdsAboveLimitAtStart: 1 });
    expect(v.measured.predictedEmfileAtReload).toBe(23); // floor((64 - 19) / 2) + 1
    const shifted = run('broken', leaking(23), { events: [emfile], signalHandling: 'dead', fdsAboveLimitAtStart: 2 });
    expect(shifted.measured.predictedEmfileAtReload).toBe(24);
  });
});

describe('judge (correct)', () => {
  const flat = Array.from({ length: 501 }, (_, k) => sample(k, 25));

  it('passes a flat run that acknowledged every reload', () => {
    const r = run('correct', flat);
    expect(judge(r, FLAT).pass).toBe(true);
    expect(r.measured.growthPerReload).toBe(0);
    expect(r.measured.reloadsDone).toBe(500);
    expect(r.measured.latencyMs).toEqual({ p50: 0.2, p99: 0.2 });
  });

  it('fails a slow leak of one fd every 50 reloads', () => {
    const slow = flat.map((s) => ({ ...s, fds: 25 + Math.floor(s.reload / 50) }));
    const r = run('correct', slow);
    expect(judge(r, FLAT).pass).toBe(false);
    expect(r.measured.growthPerReload).toBeCloseTo(0.02, 2);
  });

  it('fails when listeners grew even though fds did not', () => {
    const v = judge(run('correct', flat.map((s) => ({ ...s, metrics: { listeners: s.reload + 1 } }))), FLAT);
    expect(v.pass).toBe(false);
    expect(failed(v)).toEqual([{ id: 'metric:listeners', ok: false, text: 'listeners 1 → 501' }]);
  });

  it('fails a run that ended early and says why first', () => {
    const v = judge(run('correct', flat.slice(0, 10), { reloadsPlanned: 500, end: { reason: 'ack-timeout', detail: 'reload 10: no answer within 2000 ms', child: null, wallMs: 1 } }), FLAT);
    expect(v.pass).toBe(false);
    expect(v.checks[0]).toEqual({ id: 'ended', ok: false, text: 'run ended early: reload 10: no answer within 2000 ms' });
  });
});

describe('rejudge (repro report --max-growth)', () => {
  it('judges a saved run again with another gate, and nothing else changes', () => {
    const slow = Array.from({ length: 501 }, (_, k) => sample(k, 25 + Math.floor(k / 50)));
    const measured = run('correct', slow);
    const saved: RunDocument = judgeRun(measured, FLAT, 'reloads');
    expect(saved.verdict.pass).toBe(false);
    const again = rejudge(saved, { maxGrowth: 0.05 });
    expect(again.verdict.pass).toBe(true);
    expect(again.verdict.expectation.maxGrowth).toBe(0.05);
    expect(again.measured).toEqual(saved.measured);
    expect(again.samples).toBe(saved.samples);
  });
});
