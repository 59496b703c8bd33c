// Real children under a real lowered ulimit, real SIGHUPs, real /proc.
import { describe, expect, it } from 'vitest';
import { runCompare, runPattern, SCENARIO_DEFAULTS, type ScenarioOptions } from '../../src/cli/commands/scenario.js';
import type { RunDocument } from '../../src/model/run-document.js';

// Generous timeouts: a loaded machine must not turn a slow ack into a failed run.
const defaults: ScenarioOptions = { ...SCENARIO_DEFAULTS, ackTimeout: 5000, readyTimeout: 15_000 };

describe('repro broken', () => {
  it('grows by 2 fds (one self-pipe) per reload and hits EMFILE exactly where (ulimit − baseline) / 2 predicts', async () => {
    const run = await runPattern('broken', defaults);
    const v = run.measured;
    expect(v.growthPerReload).toBe(2);
    expect(v.growthByKind).toEqual({ pipe: 2 });
    expect(v.registerFailure).toBe('EMFILE');
    const slots = v.baselineFds - run.fdsAboveLimitAtStart;
    expect(v.emfileAtReload).toBe(Math.floor((64 - slots) / 2) + 1);
    expect(run.end.reason).toBe('emfile');
    expect(run.verdict.pass).toBe(true);
  });

  it('each acknowledged reload adds exactly one listener and two fds, sample by sample', async () => {
    const run = await runPattern('broken', defaults);
    const ok = run.samples.filter((s) => s.reload < (run.measured.emfileAtReload as number));
    for (const s of ok) {
      expect(s.fds - run.samples[0]!.fds).toBe(2 * s.reload);
      expect(s.metrics?.listeners).toBe(s.reload + 1);
    }
  });

  it('reports signal handling dead after EMFILE: one more SIGHUP, the child alive, no reload', async () => {
    const run = await runPattern('broken', defaults);
    expect(run.measured.signalHandling).toBe('dead');
    expect(run.events).toContainEqual(expect.objectContaining({ event: 'register-failed', code: 'EMFILE', message: 'cannot register signal: EMFILE (Too many open files)' }));
    // The child stayed up until teardown asked it to go.
    expect(run.end.child).toMatchObject({ exitCode: 0, forced: false });
  });

  it('keeps the child stderr as evidence (Node warns about the 11th listener)', async () => {
    const run = await runPattern('broken', defaults);
    expect(run.stderr.text).toContain('MaxListenersExceededWarning');
  });

  it('moves the EMFILE point when --ulimit moves: twice the headroom, twice the reloads', async () => {
    const low = await runPattern('broken', { ...defaults, ulimit: 64 });
    const high = await runPattern('broken', { ...defaults, ulimit: 128 });
    const slots = (r: typeof low) => r.measured.baselineFds - r.fdsAboveLimitAtStart;
    expect(high.measured.emfileAtReload).toBe(Math.floor((128 - slots(high)) / 2) + 1);
    expect((high.measured.emfileAtReload as number) - (low.measured.emfileAtReload as number)).toBe(32 + (slots(low) - slots(high)) / 2);
  });

  it('leaks 1 fd per reload with --channel signalfd', async () => {
    const run = await runPattern('broken', { ...defaults, channel: 'signalfd' });
    expect(run.measured.growthPerReload).toBe(1);
    expect(run.measured.growthByKind).toEqual({ signalfd: 1 });
    expect(run.measured.emfileAtReload).toBe(64 - (run.measured.baselineFds - run.fdsAboveLimitAtStart) + 1);
    expect(run.verdict.pass).toBe(true);
  });
});

describe('repro correct', () => {
  it('holds fds and listeners flat over 500 reloads', async () => {
    const run = await runPattern('correct', defaults);
    expect(run.samples).toHaveLength(501);
    const fds = new Set(run.samples.map((s) => s.fds));
    expect(fds.size).toBe(1);
    expect(new Set(run.samples.map((s) => s.metrics?.listeners))).toEqual(new Set([1]));
    expect(run.verdict.pass).toBe(true);
    expect(run.measured).toMatchObject({ growthPerReload: 0, reloadsDone: 500, registerFailure: null });
  });

  it('with signalfd too', async () => {
    const run = await runPattern('correct', { ...defaults, channel: 'signalfd', reloads: 200 });
    expect(run.measured.growthPerReload).toBe(0);
    expect(run.verdict.pass).toBe(true);
  });

  it('closes its hub on SIGTERM and reports what it released', async () => {
    const run = await runPattern('correct', { ...defaults, reloads: 5 });
    // SIGHUP, SIGTERM and SIGINT: three registrations, three self-pipes.
    expect(run.events).toContainEqual({ event: 'shutdown', closedFds: 6, removedListeners: 3, leakedFds: 0 });
    expect(run.end.child).toMatchObject({ exitCode: 0, signal: null, forced: false });
  });
});

describe('repro compare', () => {
  it('passes when broken reaches EMFILE and correct stays flat, and carries both runs', async () => {
    const doc = await runCompare(defaults);
    expect(doc.verdict.pass).toBe(true);
    expect(doc.runs[0]!.samples.length).toBeGreaterThan(20);
    expect(doc.runs[1]!.samples).toHaveLength(501);
    expect(doc.runs[0]!.measured.registerFailure).toBe('EMFILE');
    expect(doc.runs[1]!.measured.growthPerReload).toBe(0);
  });

  it('refuses, before the run, reloads too few for the broken child to reach EMFILE', async () => {
    await expect(runCompare({ ...defaults, reloads: 5 })).rejects.toThrow(/^--reloads 5 is too few for the broken child to reach EMFILE: .*; use --reloads \d+ or more/);
  });
});

describe('repro compare when one side is killed mid-run', () => {
  it('keeps that side’s samples with the signal name and still reports the other side in full', async () => {
    // A high limit keeps the broken child reloading long enough to be killed mid-run (reloads enough to reach it).
    const doc = await runCompare(
      { ...defaults, ulimit: 8000, reloads: 4100 },
      {
        onChild: (child) => {
          child.output.onEvent(({ event }) => {
            if (event.event === 'ready' && event.pattern === 'broken') setTimeout(() => process.kill(child.pid, 'SIGKILL'), 150);
          });
        },
      },
    );
    const [broken, correct] = doc.runs as [RunDocument, RunDocument];
    expect(broken.end.reason).toBe('child-exited');
    expect(broken.end.child?.signal).toBe('SIGKILL');
    expect(broken.end.detail).toContain('signal SIGKILL');
    expect(broken.samples.length).toBeGreaterThan(5);
    expect(correct.verdict.pass).toBe(true);
    expect(correct.samples).toHaveLength(4101);
    expect(doc.verdict.pass).toBe(false);
    expect(doc.verdict.checks[0]).toMatchObject({ id: 'run:broken', ok: false });
    expect(doc.verdict.checks[0]?.text).toMatch(/^broken: expected .*, but run ended early: child killed by SIGKILL/);
  });
});
