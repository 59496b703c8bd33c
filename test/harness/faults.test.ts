// Children that misbehave on purpose: the harness must end every run with a reason, keep its
// samples, and leave nothing behind.
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { defaultProbe } from '../../src/fdprobe/index.js';
import { type ReloadLoopPlan, runReloadLoop } from '../../src/harness/drivers/reload-loop.js';
import { judgeRun } from '../../src/kinds/index.js';
import type { RunDocument } from '../../src/model/run-document.js';
import { formatRun } from '../../src/report/summary.js';
import { goneWithin, isAlive } from '../support/processes.js';

const fixture = (name: string) => fileURLToPath(new URL(`../fixtures/children/${name}`, import.meta.url));

function plan(name: string, args: string[] = [], over: Partial<ReloadLoopPlan> = {}): ReloadLoopPlan {
  return {
    scenario: 'fixture',
    role: 'correct',
    roleKind: 'correct',
    runtime: 'node',
    options: {},
    metrics: [],
    command: [process.execPath, fixture(name), ...args],
    signal: 'SIGHUP',
    ulimit: 256,
    reloadsPlanned: 10,
    readyTimeoutMs: 5000,
    ackTimeoutMs: 2000,
    deadCheckMs: 300,
    graceMs: 500,
    ...over,
  };
}

/** A run judged as a correct child should be: flat, every reload taken. */
const run = async (p: ReloadLoopPlan, abort?: AbortSignal, onSample?: () => void): Promise<RunDocument> => {
  const measured = await runReloadLoop(p, { probe: defaultProbe(), abort, onSample });
  return judgeRun(measured, { shows: 'flat', fdsPerReload: 0, maxGrowth: 0.01, registerFailure: 'forbidden', flatMetrics: [], growingMetrics: [], allReloads: true, earlyIsInconclusive: false }, 'reloads');
};

describe('a child that ignores SIGTERM', () => {
  it('is SIGKILLed after the grace period and the report says so', async () => {
    const doc = await run(plan('ignores-sigterm.mjs', [], { reloadsPlanned: 3, graceMs: 400 }));
    expect(doc.end.child).toMatchObject({ signal: 'SIGKILL', forced: true });
    expect(doc.end.child?.teardownMs).toBeGreaterThanOrEqual(400);
    expect(doc.end.child?.teardownMs).toBeLessThan(2000);
    expect(formatRun(doc, { color: false, width: 80, chart: false })).toMatch(/killed by SIGKILL: SIGKILLed, still running when the grace period after SIGTERM ran out \(teardown \d+ ms\)/);
    expect(isAlive(doc.pid as number)).toBe(false);
  });
});

describe('a child that is stopped (state T) at teardown', () => {
  it('is sent SIGCONT with the SIGTERM, so it acts on the SIGTERM: not SIGKILLed, and never said to ignore SIGTERM', async () => {
    const doc = await run(plan('stops-itself.mjs', ['3'], { reloadsPlanned: 10, ackTimeoutMs: 300, graceMs: 1500 }));
    expect(doc.end.detail).toBe('reload 3: no answer within 300 ms');
    expect(doc.end.child).toMatchObject({ signal: 'SIGTERM', forced: false });
    expect(doc.end.child?.teardownMs).toBeLessThan(1500);
    const text = formatRun(doc, { color: false, width: 80, chart: false });
    expect(text).toMatch(/child +killed by SIGTERM \(teardown \d+ ms\)/);
    expect(text).not.toContain('ignore');
    expect(isAlive(doc.pid as number)).toBe(false);
  });
});

describe('a child that hangs', () => {
  it('that never says ready: the run ends at the ready timeout, naming the phase', async () => {
    const t0 = performance.now();
    const doc = await run(plan('never-ready.mjs', [], { readyTimeoutMs: 400 }));
    expect(doc.end.reason).toBe('ready-timeout');
    expect(doc.end.detail).toBe('ready: no answer within 400 ms');
    expect(performance.now() - t0).toBeLessThan(400 + 500 + 1500);
    expect(isAlive(doc.pid as number)).toBe(false);
  });

  it('that stops acknowledging: the run ends at the ack timeout of that reload, samples kept', async () => {
    const doc = await run(plan('stops-acking.mjs', ['3'], { ackTimeoutMs: 300 }));
    expect(doc.end.reason).toBe('ack-timeout');
    expect(doc.end.detail).toBe('reload 4: no answer within 300 ms');
    expect(doc.samples.map((s) => s.reload)).toEqual([0, 1, 2, 3]);
    expect(doc.verdict.pass).toBe(false);
    expect(doc.verdict.checks[0]).toEqual({ id: 'ended', ok: false, text: 'run ended early: reload 4: no answer within 300 ms' });
  });
});

describe('a child that crashes mid-run', () => {
  it.each([
    ['exit', 'exit code 3', { exitCode: 3, signal: null }],
    ['abort', 'signal SIGABRT', { signal: 'SIGABRT' }],
    ['segv', 'signal SIGSEGV', { signal: 'SIGSEGV' }],
  ])('%s: ends with %s and keeps every sample before it', async (how, said, exit) => {
    const doc = await run(plan('crashes.mjs', [how, '3']));
    expect(doc.end.reason).toBe('child-exited');
    expect(doc.end.detail).toContain(said);
    expect(doc.end.child).toMatchObject({ ...exit, forced: false });
    expect(doc.samples.map((s) => s.reload)).toEqual([0, 1, 2, 3]);
  });
});

describe('a child that forks a grandchild which ignores SIGTERM', () => {
  const grandchildOf = (stderr: string) => Number(/grandchild (\d+)/.exec(stderr)?.[1]);

  it('leaves nothing of its process group after the run', async () => {
    const doc = await run(plan('forks-grandchild.mjs', [], { reloadsPlanned: 3 }));
    const grandchild = grandchildOf(doc.stderr.text);
    expect(grandchild).toBeGreaterThan(0);
    expect(await goneWithin(grandchild, 1000)).toBe(true);
    expect(isAlive(doc.pid as number)).toBe(false);
  });

  it('leaves nothing of its process group after an abort', async () => {
    const controller = new AbortController();
    // Aborted mid-run once a few samples were taken, as above.
    let samples = 0;
    const doc = await run(plan('forks-grandchild.mjs', [], { reloadsPlanned: 10_000_000 }), controller.signal, () => {
      if (++samples === 3) controller.abort();
    });
    expect(doc.end.reason).toBe('aborted');
    expect(doc.samples.length).toBeGreaterThan(1);
    expect(await goneWithin(grandchildOf(doc.stderr.text), 1000)).toBe(true);
  });
});

describe('a child that floods its output', () => {
  it('is tolerated: the run passes, kept output is bounded and marked truncated', async () => {
    const doc = await run(plan('floods-output.mjs', [], { reloadsPlanned: 8 }));
    expect(doc.end.reason).toBe('reloads-done');
    expect(doc.measured.reloadsDone).toBe(8);
    // A child's own pipe writes can still be queued inside it when teardown ends it, so count what arrived.
    expect(doc.stderr.bytes).toBeGreaterThan(16 * 64 * 1024);
    // Both ends kept (64 KiB in all) and one line where the middle was dropped.
    const gap = /\n… (\d+) bytes not kept …\n/;
    expect(doc.stderr.text.replace(gap, '').length).toBeLessThanOrEqual(64 * 1024);
    expect(Number(gap.exec(doc.stderr.text)?.[1])).toBe(doc.stderr.notKeptBytes);
    expect(doc.stderr.truncated).toBe(true);
    expect(doc.stdout.truncated).toBe(true);
    expect(doc.stdout.text.replace(gap, '').length).toBeLessThanOrEqual(64 * 1024);
    expect(doc.stdout.text).toContain('not json at all');
  });
});

describe('an abort mid-run', () => {
  it('stops the child, keeps the samples and marks the run aborted', async () => {
    const controller = new AbortController();
    // Aborted mid-run once 12 samples were taken (not at a fixed time: a loaded machine may not start the child within it).
    let samples = 0;
    const doc = await run(plan('stops-acking.mjs', ['1000000000'], { reloadsPlanned: 10_000_000 }), controller.signal, () => {
      if (++samples === 12) controller.abort();
    });
    expect(doc.end.reason).toBe('aborted');
    expect(doc.samples.length).toBeGreaterThan(10);
    expect(doc.verdict.pass).toBe(false);
    expect(isAlive(doc.pid as number)).toBe(false);
  });
});
