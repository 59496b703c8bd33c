// A reload is finished when every thread of the tree is back where it idled and the fd floor held;
// a thread stuck elsewhere is named; without syscall files the floor alone decides, and says so.
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import {
  addIdleReadings,
  awaitReloadFinished,
  type IdleBaseline,
  notFinishedSentence,
  parseSyscall,
  readThreads,
  recordIdleBaseline,
  ReloadCompletion,
  type ThreadReading,
  treePids,
} from '../../../src/harness/tree/completion.js';
import { awaitDelivery } from '../../../src/harness/tree/delivery.js';
import { countTreeFds } from '../../../src/harness/tree/tree.js';
import { compiled, readyToReload, service, start, stopAll } from './support.js';

const { bin, cleanup } = compiled(['deadlocks-in-hup-handler']);
afterEach(stopAll);
afterAll(cleanup);

const PAUSE = 34;
const FUTEX = 202;
const reading = (over: Partial<ThreadReading>): ThreadReading => ({ pid: 10, tid: 10, comm: 'svc', state: 'S', syscall: PAUSE, cpuTicks: 5, ...over });
const baseline = (): IdleBaseline => new Map([[10, { syscalls: [PAUSE], wchan: '__do_sys_pause', state: 'S' }]]);

describe('ReloadCompletion (pure)', () => {
  it('finishes one window after the thread is back idle and the count held', () => {
    const c = new ReloadCompletion(baseline(), { settleMs: 50, startMs: 0 });
    expect(c.observe(1, [reading({ syscall: 'running', state: 'R', cpuTicks: 6 })], 10).finished).toBe(false);
    expect(c.observe(10, [reading({ cpuTicks: 7 })], 12).finished).toBe(false); // back in pause, but CPU advanced
    expect(c.observe(20, [reading({ cpuTicks: 7 })], 12).finished).toBe(false);
    expect(c.observe(69, [reading({ cpuTicks: 7 })], 12).finished).toBe(false);
    expect(c.observe(71, [reading({ cpuTicks: 7 })], 12)).toEqual({ finished: true, evidence: 'threads-and-fd-floor', fds: 12, floorFds: 12 });
  });

  it('churn (the count flips every poll) cannot stop it: the floor holds', () => {
    const c = new ReloadCompletion(baseline(), { settleMs: 50, startMs: 0 });
    let status;
    for (let t = 2; t <= 200; t += 2) {
      status = c.observe(t, [reading({})], t % 4 === 0 ? 21 : 20);
      if (status.finished) break;
    }
    expect(status).toMatchObject({ finished: true, floorFds: 20 });
  });

  it('a thread stuck in futex instead of its idle pause never finishes, and is named', () => {
    const c = new ReloadCompletion(baseline(), { settleMs: 20, startMs: 0 });
    let status;
    for (let t = 2; t <= 500; t += 2) status = c.observe(t, [reading({ syscall: FUTEX, comm: 'deadlocks' })], 8);
    expect(status?.finished).toBe(false);
    if (process.arch !== 'x64') return;
    expect(notFinishedSentence(1, c.busy, 500)).toBe('reload 1 did not finish: thread 10 (deadlocks) stuck in futex since the signal (idle in pause)');
  });

  it('without readable syscall files, the fd floor alone decides and says so', () => {
    const unreadable: IdleBaseline = new Map([[10, { syscalls: [null], wchan: '0', state: 'S' }]]);
    const c = new ReloadCompletion(unreadable, { settleMs: 50, startMs: 0 });
    expect(c.usesThreads).toBe(false);
    let status;
    for (let t = 5; t <= 200 && !status?.finished; t += 5) status = c.observe(t, [reading({ syscall: null })], 9);
    expect(status).toMatchObject({ finished: true, evidence: 'fd-floor-only' });
  });

  it('parses syscall files', () => {
    expect(parseSyscall('230 0x1 0x7ffd 0x0 0x0 0x0 0x0 0x7ffd 0x7f1\n')).toBe(230);
    expect(parseSyscall('running\n')).toBe('running');
    expect(parseSyscall('-1 0x7ffd 0x7f1\n')).toBe('running');
    expect(parseSyscall(undefined)).toBeNull();
  });
});

/** Sends one reload to `pid` and waits for delivery and completion; returns the tree's fd total after it. */
async function reload(pid: number, base: IdleBaseline, k: number, settleMs: number, timeoutMs = 5000) {
  const sentAt = performance.now();
  process.kill(pid, 'SIGHUP');
  const delivered = await awaitDelivery(pid, 'SIGHUP');
  expect(delivered.outcome).toBe('delivered');
  return awaitReloadFinished({ rootPid: pid, baseline: base, reload: k, settleMs, timeoutMs, signalSentAtMs: sentAt });
}

async function baselineOf(pid: number, quietMs = 100) {
  await readyToReload(pid, 1, quietMs);
  const base = recordIdleBaseline(treePids(pid));
  for (let i = 0; i < 5; i++) {
    await new Promise((r) => setTimeout(r, 5));
    addIdleReadings(base, readThreads(treePids(pid)));
  }
  return base;
}

describe('awaitReloadFinished on real programs', () => {
  it('a deadlocked handler: "reload 1 did not finish: thread T stuck in futex since the signal"', async () => {
    const child = start([bin('deadlocks-in-hup-handler')]);
    const base = await baselineOf(child.pid);
    const result = await reload(child.pid, base, 1, 50, 600);
    expect(result.finished).toBe(false);
    if (result.finished) return;
    expect(result.reason).toBe('timeout');
    expect(result.sentence).toMatch(new RegExp(`^reload 1 did not finish: thread ${child.pid} \\(deadlocks-in-hu\\) stuck in (futex|syscall \\d+) since the signal \\(idle in (clock_nanosleep|syscall \\d+)\\)$`));
  });

  it('a reload that takes 300 ms: each one is waited for, so the growth is exact (2 fds per reload)', async () => {
    const child = start(['python3', service('reloads-in-300ms.py')]);
    const base = await baselineOf(child.pid);
    const before = countTreeFds(child.pid).totalFds;
    const totals: number[] = [];
    for (let k = 1; k <= 4; k++) {
      const result = await reload(child.pid, base, k, 50);
      expect(result.finished).toBe(true);
      if (result.finished) expect(result.waitedMs).toBeGreaterThanOrEqual(300);
      totals.push(countTreeFds(child.pid).totalFds - before);
    }
    expect(totals).toEqual([2, 4, 6, 8]);
  });

  it('a service that churns a temp file every 10 ms still finishes each reload (the floor holds)', async () => {
    const child = start(['python3', service('churns-temp-file-every-10ms.py')]);
    const base = await baselineOf(child.pid, 0);
    for (let k = 1; k <= 3; k++) {
      const result = await reload(child.pid, base, k, 50);
      expect(result.finished, result.finished ? '' : result.sentence).toBe(true);
    }
  });
});
