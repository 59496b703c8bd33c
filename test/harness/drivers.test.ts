// The reload-loop driver and the recorder with a fake child and a fake probe: the loop's logic, no processes.
import { describe, expect, it } from 'vitest';
import { runReloadLoop, type ReloadLoopPlan } from '../../src/harness/drivers/reload-loop.js';
import { KINDS } from '../../src/kinds/index.js';

const judge = KINDS.reloads.judge;
import type { Expectation } from '../../src/model/run-document.js';
import { leaksToEmfile } from '../../src/scenarios/expect.js';
import { fakeLauncher, fakeProbe } from '../support/fakes.js';

const plan = (over: Partial<ReloadLoopPlan> = {}): ReloadLoopPlan => ({
  scenario: 'fake',
  role: 'broken',
  roleKind: 'broken',
  runtime: 'node',
  options: {},
  signal: 'SIGHUP',
  command: ['fake-child'],
  reloadsPlanned: 10,
  metrics: [{ id: 'listeners', label: 'listeners', unit: '', description: 'from acks', fromEvent: 'listeners' }],
  ulimit: 64,
  readyTimeoutMs: 1000,
  ackTimeoutMs: 200,
  deadCheckMs: 50,
  graceMs: 10,
  ...over,
});

const ready = '{"event":"ready","pid":4000000,"scenario":"fake","pattern":"broken","runtime":"fake","listeners":1}';
const ack = (seq: number, listeners: number) => `{"event":"reload","seq":${seq},"listeners":${listeners}}`;
const leakExpectation: Expectation = leaksToEmfile('the leak', 2, 0.01, { afterFailure: 'dead', growingMetrics: ['listeners'] });

describe('reload-loop driver (fake child, fake probe)', () => {
  it('samples once per acknowledged reload, reads metrics from each acknowledgement, and keeps events it has no rules for', async () => {
    let reloads = 0;
    const fake = fakeLauncher({
      start: [ready, '{"event":"phase","name":"warm"}'],
      onSignal: (n) => {
        reloads = n;
        return [ack(n, n + 1)];
      },
    });
    const run = await runReloadLoop(plan({ reloadsPlanned: 5 }), { probe: fakeProbe(() => 20 + 2 * reloads), launch: fake.launch });
    expect(run.samples.map((s) => s.fds)).toEqual([20, 22, 24, 26, 28, 30]);
    expect(run.samples.map((s) => s.metrics?.listeners)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(run.events).toContainEqual({ event: 'phase', name: 'warm' });
    expect(run.end.reason).toBe('reloads-done');
    expect(run.measured.growthPerReload).toBe(2);
    expect(run.measured.metrics.listeners).toEqual({ start: 1, end: 6, growthPerReload: 1 });
  });

  it('stops at a register failure and calls signal handling dead when one more signal brings nothing', async () => {
    let reloads = 0;
    const fake = fakeLauncher({
      start: [ready],
      onSignal: (n) => {
        reloads = Math.min(n, 3);
        if (n < 3) return [ack(n, n + 1)];
        if (n === 3) return ['{"event":"register-failed","seq":3,"code":"EMFILE","message":"cannot register signal: EMFILE"}'];
        return [];
      },
    });
    const run = await runReloadLoop(plan(), { probe: fakeProbe(() => 20 + 2 * reloads), launch: fake.launch });
    expect(run.end.reason).toBe('emfile');
    expect(run.measured.emfileAtReload).toBe(3);
    expect(run.measured.signalHandling).toBe('dead');
    expect(fake.signals).toBe(4);
    // The failed acknowledgement carries no listener count: the metric keeps its last value.
    expect(run.samples.at(-1)?.metrics?.listeners).toBe(3);
  });

  it('calls signal handling alive when the reload after the failure is still answered (log-reopen)', async () => {
    const fake = fakeLauncher({
      start: [ready],
      onSignal: (n) => (n >= 2 ? [`{"event":"register-failed","seq":${n},"code":"EMFILE","message":"cannot reopen log"}`] : [ack(n, 2)]),
    });
    const rotations: number[] = [];
    const run = await runReloadLoop(plan({ beforeSignal: (k) => rotations.push(k) }), { probe: fakeProbe(() => 20), launch: fake.launch });
    expect(run.measured.signalHandling).toBe('alive');
    // Work before each signal runs before the dead-listener check's signal too.
    expect(rotations).toEqual([1, 2, 3]);
  });

  it('ends with ack-timeout naming the reload when the child stops answering', async () => {
    const fake = fakeLauncher({ start: [ready], onSignal: (n) => (n < 2 ? [ack(n, 1)] : []) });
    const run = await runReloadLoop(plan(), { probe: fakeProbe(() => 20), launch: fake.launch });
    expect(run.end).toMatchObject({ reason: 'ack-timeout', detail: 'reload 2: no answer within 200 ms' });
  });

  it('is judged after the run: the same measured run passes or fails by the expectation alone', async () => {
    let reloads = 0;
    const fake = fakeLauncher({
      start: [ready],
      onSignal: (n) => {
        reloads = n;
        return [ack(n, n + 1)];
      },
    });
    const run = await runReloadLoop(plan({ reloadsPlanned: 4 }), { probe: fakeProbe(() => 20 + 2 * reloads), launch: fake.launch });
    const asLeak = judge(run, leakExpectation);
    // Growth and listeners are as the leak expects; no EMFILE came, so the leak was not fully shown.
    expect(asLeak.checks.filter((c) => !c.ok).map((c) => c.id)).toEqual(['register-failure']);
    const asFlat = judge(run, { ...leakExpectation, fdsPerReload: 0, registerFailure: 'forbidden', growingMetrics: [], flatMetrics: ['listeners'], allReloads: true });
    expect(asFlat.pass).toBe(false);
    expect(asFlat.checks.filter((c) => !c.ok).map((c) => c.id)).toEqual(['growth', 'metric:listeners']);
  });
});
