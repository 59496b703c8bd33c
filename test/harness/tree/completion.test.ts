// A reload is finished when every thread of the tree is back where it idled and the fd floor held;
// a thread stuck elsewhere is named; without syscall files the floor alone decides, and says so.
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import {
  addIdleReadings,
  awaitReloadFinished,
  calibrationWindowMs,
  type IdleBaseline,
  idleBaselineOf,
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

const { bin, cleanup } = compiled(['deadlocks-in-hup-handler', 'leaks-eventfd-after-300ms-idle-sleep']);
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
    expect(c.observe(71, [reading({ cpuTicks: 7 })], 12)).toEqual({ finished: true, evidence: 'threads-and-fd-floor', rule: 'settle-window', fds: 12, floorFds: 12 });
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

  // Issue 18 item 2: futex is a wait any thread may park in; stuck there means inside the handler (the signal newly in SigBlk).
  it('a thread in futex inside the SIGHUP handler (SIGHUP newly blocked) never finishes, and is named', () => {
    const base: IdleBaseline = new Map([[10, { syscalls: [PAUSE], wchan: '__do_sys_pause', state: 'S', sigBlk: '0000000000000000' }]]);
    const c = new ReloadCompletion(base, { settleMs: 20, startMs: 0, confirmMs: 15, signo: 1, blockedOf: () => 1n });
    let status;
    for (let t = 2; t <= 500; t += 2) status = c.observe(t, [reading({ syscall: FUTEX, comm: 'deadlocks' })], 8);
    expect(status?.finished).toBe(false);
    expect(c.busy[0]?.inHandler).toBe(true);
    if (process.arch !== 'x64') return;
    expect(notFinishedSentence(1, c.busy, 500)).toBe('reload 1 did not finish: thread 10 (deadlocks) stuck in futex inside the signal handler since the signal (idle in pause)');
  });

  it('a thread that blocked SIGHUP already at the baseline (it takes it in sigwait) is not read as inside the handler', () => {
    const base: IdleBaseline = new Map([[10, { syscalls: [PAUSE], wchan: '0', state: 'S', sigBlk: '0000000000000001' }]]);
    const c = new ReloadCompletion(base, { settleMs: 1000, startMs: 0, confirmMs: 15, signo: 1, blockedOf: () => 1n });
    let status;
    for (let t = 2; t <= 40 && !status?.finished; t += 2) status = c.observe(t, [reading({ syscall: FUTEX })], 8);
    expect(status).toMatchObject({ finished: true, rule: 'confirmed' });
  });

  it('Tokio workers that trade idle roles (futex <-> epoll_wait) with their CPU time still are idle: the reload finishes', () => {
    const EPOLL_WAIT = 232;
    const workers: IdleBaseline = new Map([
      [10, { syscalls: [EPOLL_WAIT], wchan: 'do_epoll_wait', state: 'S', sigBlk: '0' }],
      [11, { syscalls: [FUTEX], wchan: 'futex_do_wait', state: 'S', sigBlk: '0' }],
    ]);
    const c = new ReloadCompletion(workers, { settleMs: 1000, startMs: 0, confirmMs: 15, signo: 1, blockedOf: () => 0n });
    const swapped = [reading({ tid: 10, syscall: FUTEX, comm: 'tokio-runtime-w' }), reading({ tid: 11, syscall: EPOLL_WAIT, comm: 'tokio-runtime-w' })];
    let status;
    let t = 0;
    for (t = 2; t <= 100 && !status?.finished; t += 2) status = c.observe(t, swapped, 30);
    expect(status).toMatchObject({ finished: true, rule: 'confirmed' });
    expect(t).toBeLessThan(30);
  });

  it('a thread in a wait that is not a parking one (clock_nanosleep, where it idled in pause) is still busy: a reload sleeps there', () => {
    const c = new ReloadCompletion(baseline(), { settleMs: 50, startMs: 0, confirmMs: 15 });
    let status;
    for (let t = 2; t <= 300; t += 2) status = c.observe(t, [reading({ syscall: 230 })], 8);
    expect(status?.finished).toBe(false);
  });

  it('minMs: not finished before the calibrated floor, however idle the threads look', () => {
    const c = new ReloadCompletion(baseline(), { settleMs: 1000, startMs: 0, confirmMs: 15, minMs: 300 });
    let status;
    let t = 0;
    for (t = 2; t <= 400 && !status?.finished; t += 2) status = c.observe(t, [reading({})], 8);
    expect(status).toMatchObject({ finished: true, rule: 'confirmed' });
    expect(t).toBeGreaterThan(300);
  });

  it('reloadMs: an fd that arrives 300 ms after the signal, with the threads idle all along, dates the reload at 300 ms', () => {
    const c = new ReloadCompletion(baseline(), { settleMs: 100, startMs: 0, confirmMs: 15 });
    let first: number | undefined;
    for (let t = 2; t <= 600; t += 2) {
      const status = c.observe(t, [reading({})], t < 300 ? 8 : 9);
      if (status.finished) first ??= t;
    }
    expect(first).toBeLessThan(30);
    expect(c.reloadMs).toBe(300);
  });

  it('calibrationWindowMs: at least 1 s, 10x what the reload took, at most 10 s', () => {
    expect([calibrationWindowMs(5), calibrationWindowMs(300), calibrationWindowMs(5000)]).toEqual([1000, 3000, 10_000]);
  });

  it('without readable syscall files, the fd floor alone decides and says so', () => {
    const unreadable: IdleBaseline = new Map([[10, { syscalls: [null], wchan: '0', state: 'S' }]]);
    const c = new ReloadCompletion(unreadable, { settleMs: 50, startMs: 0 });
    expect(c.usesThreads).toBe(false);
    let status;
    for (let t = 5; t <= 200 && !status?.finished; t += 5) status = c.observe(t, [reading({ syscall: null })], 9);
    expect(status).toMatchObject({ finished: true, evidence: 'fd-floor-only' });
  });

  it('with confirmMs: finishes 3 polls and the confirmation window after every thread is back idle, long before the settle window', () => {
    const c = new ReloadCompletion(baseline(), { settleMs: 1000, startMs: 0, confirmMs: 15 });
    expect(c.observe(1, [reading({ syscall: 'running', state: 'R', cpuTicks: 6 })], 10).finished).toBe(false);
    expect(c.observe(3, [reading({ cpuTicks: 6 })], 12).finished).toBe(false); // back idle: the confirmation starts
    expect(c.observe(10, [reading({ cpuTicks: 6 })], 12).finished).toBe(false); // 2 polls
    expect(c.observe(17, [reading({ cpuTicks: 6 })], 12).finished).toBe(false); // 3 polls, 14 ms
    expect(c.observe(19, [reading({ cpuTicks: 6 })], 12)).toEqual({ finished: true, evidence: 'threads-and-fd-floor', rule: 'confirmed', fds: 12, floorFds: 10 });
  });

  it('with confirmMs: a poll with a thread not back idle (or CPU advancing) restarts the confirmation', () => {
    const c = new ReloadCompletion(baseline(), { settleMs: 1000, startMs: 0, confirmMs: 15 });
    for (const t of [2, 6, 10]) expect(c.observe(t, [reading({})], 12).finished).toBe(false);
    expect(c.observe(14, [reading({ syscall: FUTEX })], 12).finished).toBe(false);
    expect(c.observe(18, [reading({ cpuTicks: 9 })], 12).finished).toBe(false); // back in pause, but it ran
    for (const t of [22, 26, 30]) expect(c.observe(t, [reading({ cpuTicks: 9 })], 12).finished).toBe(false);
    expect(c.observe(37, [reading({ cpuTicks: 9 })], 12)).toMatchObject({ finished: true, rule: 'confirmed' });
  });

  it('with confirmMs: the fd count must hold for the confirmation window too', () => {
    const c = new ReloadCompletion(baseline(), { settleMs: 1000, startMs: 0, confirmMs: 15 });
    for (const t of [2, 6, 10, 14]) expect(c.observe(t, [reading({})], 12).finished).toBe(false); // idle for 12 ms
    expect(c.observe(16, [reading({})], 9).finished).toBe(false); // threads idle 14 ms; a process left: the count and floor moved
    expect(c.observe(20, [reading({})], 9).finished).toBe(false); // threads idle 18 ms, the count held 4
    expect(c.observe(30, [reading({})], 9).finished).toBe(false);
    expect(c.observe(31, [reading({})], 9)).toMatchObject({ finished: true, rule: 'confirmed', fds: 9 });
  });

  it('with confirmMs: a thread that cannot be judged (on a CPU at the baseline) makes the whole settle window apply', () => {
    const busyLoop: IdleBaseline = new Map([...baseline(), [11, { syscalls: ['running'], wchan: '0', state: 'R' }]]);
    const c = new ReloadCompletion(busyLoop, { settleMs: 100, startMs: 0, confirmMs: 15 });
    let status;
    let t = 0;
    for (t = 2; t <= 300 && !status?.finished; t += 2) status = c.observe(t, [reading({}), reading({ tid: 11, syscall: 'running', state: 'R', cpuTicks: t })], 12);
    expect(status).toMatchObject({ finished: true, rule: 'settle-window' });
    expect(t).toBeGreaterThan(100);
  });

  it('without readable syscall files the confirmation rule never applies: the fd floor and the settle window decide', () => {
    const unreadable: IdleBaseline = new Map([[10, { syscalls: [null], wchan: '0', state: 'S' }]]);
    const c = new ReloadCompletion(unreadable, { settleMs: 100, startMs: 0, confirmMs: 15 });
    let status;
    let t = 0;
    for (t = 5; t <= 300 && !status?.finished; t += 5) status = c.observe(t, [reading({ syscall: null })], 9);
    expect(status).toMatchObject({ finished: true, evidence: 'fd-floor-only', rule: 'settle-window' });
    expect(t).toBeGreaterThan(100);
  });

  it('the idle baseline from start-up polls: every syscall each thread slept in', () => {
    const base = idleBaselineOf([[reading({})], [reading({ syscall: FUTEX }), reading({ tid: 11, syscall: PAUSE })], [reading({})]], '/nonexistent');
    expect([...base]).toEqual([
      [10, { syscalls: [PAUSE, FUTEX], wchan: '0', state: 'S' }],
      [11, { syscalls: [PAUSE], wchan: '0', state: 'S' }],
    ]);
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
  return awaitReloadFinished({ rootPid: pid, baseline: base, reload: k, settleMs, timeoutMs, signalSentAtMs: sentAt, signo: 1 });
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
  it('a deadlocked handler: "reload 1 did not finish: thread T stuck in futex inside the signal handler since the signal"', async () => {
    const child = start([bin('deadlocks-in-hup-handler')]);
    const base = await baselineOf(child.pid);
    const result = await reload(child.pid, base, 1, 50, 600);
    expect(result.finished).toBe(false);
    if (result.finished) return;
    expect(result.reason).toBe('timeout');
    expect(result.sentence).toMatch(new RegExp(`^reload 1 did not finish: thread ${child.pid} \\(deadlocks-in-hu\\) stuck in (futex|syscall \\d+) inside the signal handler since the signal \\(idle in (clock_nanosleep|syscall \\d+)\\)$`));
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

  it('a reload that takes under 1 ms ends by the confirmation rule, not the settle window, and its fds are all there', async () => {
    const child = start(['python3', service('leaks-pipe-per-hup.py')]);
    const base = await baselineOf(child.pid);
    const before = countTreeFds(child.pid).totalFds;
    for (let k = 1; k <= 5; k++) {
      const sentAt = performance.now();
      process.kill(child.pid, 'SIGHUP');
      expect((await awaitDelivery(child.pid, 'SIGHUP')).outcome).toBe('delivered');
      const result = await awaitReloadFinished({ rootPid: child.pid, baseline: base, reload: k, settleMs: 5000, confirmMs: 15, timeoutMs: 10_000, signalSentAtMs: sentAt });
      expect(result).toMatchObject({ finished: true, rule: 'confirmed', evidence: 'threads-and-fd-floor' });
      expect(countTreeFds(child.pid).totalFds - before).toBe(2 * k);
    }
  });

  it('a reload that takes 300 ms with the confirmation rule: still waited for (the thread sleeps elsewhere than its idle pause)', async () => {
    const child = start(['python3', service('reloads-in-300ms.py')]);
    const base = await baselineOf(child.pid);
    const before = countTreeFds(child.pid).totalFds;
    for (let k = 1; k <= 2; k++) {
      const sentAt = performance.now();
      process.kill(child.pid, 'SIGHUP');
      const result = await awaitReloadFinished({ rootPid: child.pid, baseline: base, reload: k, settleMs: 50, confirmMs: 15, timeoutMs: 5000, signalSentAtMs: sentAt });
      expect(result).toMatchObject({ finished: true, rule: 'confirmed' });
      expect(result.waitedMs).toBeGreaterThanOrEqual(300);
      expect(countTreeFds(child.pid).totalFds - before).toBe(2 * k);
    }
  });

  // Issue 18 item 1: the slow part of the reload is a sleep in the very syscall the thread idles in.
  it('a reload that sleeps 300 ms where it idles, then opens an eventfd: calibrated on reload 1, each later one is waited for', async () => {
    const child = start([bin('leaks-eventfd-after-300ms-idle-sleep')]);
    const base = await baselineOf(child.pid);
    const before = countTreeFds(child.pid).totalFds;
    const run = (k: number, extra: { calibrate?: boolean; minMs?: number }) => {
      const sentAt = performance.now();
      process.kill(child.pid, 'SIGHUP');
      return awaitReloadFinished({ rootPid: child.pid, baseline: base, reload: k, settleMs: 100, confirmMs: 15, timeoutMs: 5000, signalSentAtMs: sentAt, signo: 1, ...extra });
    };
    const first = await run(1, { calibrate: true });
    expect(first.finished).toBe(true);
    if (!first.finished) return;
    // Dated by the start of the poll that saw the eventfd: a few ms before it under load.
    expect(first.calibration?.reloadMs).toBeGreaterThanOrEqual(250);
    expect(first.calibration?.heldMs).toBeGreaterThanOrEqual(10 * (first.calibration?.reloadMs ?? 0));
    expect(countTreeFds(child.pid).totalFds - before).toBe(1);
    for (let k = 2; k <= 3; k++) {
      const result = await run(k, { minMs: 2 * first.reloadMs });
      expect(result).toMatchObject({ finished: true, rule: 'confirmed' });
      expect(countTreeFds(child.pid).totalFds - before).toBe(k);
    }
    // Without the floor, the thread back in its idle clock_nanosleep reads as finished before the eventfd comes.
    const unfloored = await run(4, {});
    expect(unfloored).toMatchObject({ finished: true });
    expect(countTreeFds(child.pid).totalFds - before).toBe(3);
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
