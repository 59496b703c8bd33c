// Pure verdict logic on hand-made samples: the fake probe of the design, no processes.
import { describe, expect, it } from 'vitest';
import type { RunDocument, Sample } from '../../src/model/run-document.js';
import { judge } from '../../src/model/verdict.js';

type Input = Parameters<typeof judge>[0];

function run(pattern: 'broken' | 'correct', samples: Sample[], extra: Partial<Input> = {}): Input {
  return {
    schemaVersion: 1,
    kind: 'run',
    scenario: 'sighup-listener',
    pattern,
    channel: 'pipe',
    signal: 'SIGHUP',
    command: ['node', 'child.js'],
    ulimit: 64,
    reloadsPlanned: samples.length - 1,
    fdsAboveLimitAtStart: 0,
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
  } satisfies Omit<RunDocument, 'verdict'> & { signalHandling: string } as Input;
}

const sample = (reload: number, fds: number, listeners = 1): Sample => ({
  reload,
  elapsedMs: reload,
  fds,
  fdsByKind: { pipe: fds - 10, eventfd: 10 },
  listeners,
  roundTripMs: reload === 0 ? undefined : 0.2,
});

const leaking = (until: number) => Array.from({ length: until + 1 }, (_, k) => sample(k, 20 + 2 * Math.min(k, until - 1), k + 1));

describe('judge (broken)', () => {
  const emfile = { seq: 23, code: 'EMFILE', message: 'cannot register signal: EMFILE (Too many open files)', event: 'register-failed' as const };

  it('passes a run that grows by the channel size, fails where predicted and is dead after', () => {
    const v = judge(run('broken', leaking(23), { events: [emfile], signalHandling: 'dead', end: { reason: 'emfile', detail: '', child: null, wallMs: 1 } }), {
      fdsPerReload: 2,
      maxGrowth: 0.01,
    });
    expect(v.pass).toBe(true);
    expect(v.growthPerReload).toBe(2);
    expect(v.growthByKind).toEqual({ pipe: 2 });
    expect(v.emfileAtReload).toBe(23);
    expect(v.predictedEmfileAtReload).toBe(23);
  });

  it('fails when signal handling survived the register failure', () => {
    const v = judge(run('broken', leaking(23), { events: [emfile], signalHandling: 'alive', end: { reason: 'emfile', detail: '', child: null, wallMs: 1 } }), {
      fdsPerReload: 2,
      maxGrowth: 0.01,
    });
    expect(v.pass).toBe(false);
    expect(v.reasons[0]).toMatch(/^FAIL: signal handling after the failure: alive/);
  });

  it('fails when no register failure came', () => {
    const v = judge(run('broken', leaking(10)), { fdsPerReload: 2, maxGrowth: 0.01 });
    expect(v.pass).toBe(false);
    expect(v.reasons[0]).toMatch(/no register failure/);
  });

  it('leaves fds numbered above the limit out of the prediction', () => {
    const v = judge(run('broken', leaking(23), { events: [emfile], signalHandling: 'dead', fdsAboveLimitAtStart: 1 }), { fdsPerReload: 2, maxGrowth: 0.01 });
    expect(v.predictedEmfileAtReload).toBe(23); // floor((64 - 19) / 2) + 1
    const shifted = judge(run('broken', leaking(23), { events: [emfile], signalHandling: 'dead', fdsAboveLimitAtStart: 2 }), { fdsPerReload: 2, maxGrowth: 0.01 });
    expect(shifted.predictedEmfileAtReload).toBe(24);
  });
});

describe('judge (correct)', () => {
  const flat = Array.from({ length: 501 }, (_, k) => sample(k, 25));

  it('passes a flat run that acknowledged every reload', () => {
    const v = judge(run('correct', flat), { fdsPerReload: 2, maxGrowth: 0.01 });
    expect(v.pass).toBe(true);
    expect(v.growthPerReload).toBe(0);
    expect(v.reloadsDone).toBe(500);
    expect(v.latencyMs).toEqual({ p50: 0.2, p99: 0.2 });
  });

  it('fails a slow leak of one fd every 50 reloads', () => {
    const slow = flat.map((s) => ({ ...s, fds: 25 + Math.floor(s.reload / 50) }));
    const v = judge(run('correct', slow), { fdsPerReload: 2, maxGrowth: 0.01 });
    expect(v.pass).toBe(false);
    expect(v.growthPerReload).toBeCloseTo(0.02, 2);
  });

  it('fails when listeners grew even though fds did not', () => {
    const v = judge(run('correct', flat.map((s) => ({ ...s, listeners: s.reload + 1 }))), { fdsPerReload: 2, maxGrowth: 0.01 });
    expect(v.pass).toBe(false);
    expect(v.reasons[0]).toBe('FAIL: listeners 1 → 501');
  });

  it('fails a run that ended early and says why first', () => {
    const v = judge(run('correct', flat.slice(0, 10), { reloadsPlanned: 500, end: { reason: 'ack-timeout', detail: 'reload 10: no answer within 2000 ms', child: null, wallMs: 1 } }), {
      fdsPerReload: 2,
      maxGrowth: 0.01,
    });
    expect(v.pass).toBe(false);
    expect(v.reasons[0]).toBe('FAIL: run ended early: reload 10: no answer within 2000 ms');
  });
});
