// After kill(): did the signal leave the pending sets, and if not, why (each reason distinct)?
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { awaitDelivery, deliveryFrom, type ThreadSignalState } from '../../../src/harness/tree/delivery.js';
import { waitFor } from '../../support/processes.js';
import { compiled, firstLine, service, sleep, start, stopAll } from './support.js';

const { bin, cleanup } = compiled(['blocks-sighup', 'exits-leader-thread-keeps-fds', 'reloads-cleanly']);
afterEach(stopAll);
afterAll(cleanup);

const thread = (over: Partial<ThreadSignalState>): ThreadSignalState => ({ tid: 1, state: 'S', pendingPrivate: false, pendingShared: false, blocked: false, ...over });

describe('deliveryFrom (pure): one reason per case', () => {
  it.each([
    ['no thread: gone', [], 'gone'],
    ['every thread a zombie', [thread({ state: 'Z' })], 'zombie'],
    ['a zombie leader with a live thread is not a zombie', [thread({ state: 'Z' }), thread({ tid: 2 })], 'delivered'],
    ['stopped', [thread({ state: 'T', pendingShared: true })], 'stopped'],
    ['pending and blocked by every live thread', [thread({ pendingShared: true, blocked: true })], 'blocked'],
    ['pending, one thread does not block it: it will take it', [thread({ pendingShared: true, blocked: true }), thread({ tid: 2, pendingShared: true })], 'waiting'],
    ['left the pending sets', [thread({})], 'delivered'],
  ] as const)('%s', (_what, threads, outcome) => {
    expect(deliveryFrom(threads as readonly ThreadSignalState[], 'SIGHUP').outcome).toBe(outcome);
  });
});

describe('awaitDelivery on real processes', () => {
  const handlerReady = async (pid: number) => {
    const { readFileSync } = await import('node:fs');
    await waitFor('the SIGHUP handler', () => (/^SigCgt:\s+\S*[13579bdf]$/m.test(readFileSync(`/proc/${pid}/status`, 'utf8')) ? true : undefined));
  };

  it('a program with a handler: delivered', async () => {
    const child = start([bin('reloads-cleanly'), '/dev/null']);
    await handlerReady(child.pid);
    process.kill(child.pid, 'SIGHUP');
    const result = await awaitDelivery(child.pid, 'SIGHUP');
    expect(result.outcome).toBe('delivered');
  });

  it('a program that blocks SIGHUP (sigprocmask): blocked, the signal stays pending', async () => {
    const child = start([bin('blocks-sighup')]);
    await handlerReady(child.pid);
    await sleep(50);
    process.kill(child.pid, 'SIGHUP');
    const result = await awaitDelivery(child.pid, 'SIGHUP', { timeoutMs: 200 });
    expect(result.outcome).toBe('blocked');
    expect(result.detail).toMatch(/stays pending: every thread blocks it/);
  });

  it('a stopped program (SIGSTOP): stopped', async () => {
    const child = start([bin('reloads-cleanly'), '/dev/null']);
    await handlerReady(child.pid);
    process.kill(child.pid, 'SIGSTOP');
    const { readFileSync } = await import('node:fs');
    await waitFor('state T', () => (/^State:\s+T/m.test(readFileSync(`/proc/${child.pid}/status`, 'utf8')) ? true : undefined));
    process.kill(child.pid, 'SIGHUP');
    const result = await awaitDelivery(child.pid, 'SIGHUP', { timeoutMs: 200 });
    expect(result.outcome).toBe('stopped');
    expect(result.detail).toMatch(/stays pending until it is continued/);
  });

  it('a zombie (a parent that never reaps): zombie', async () => {
    const parent = start(['python3', service('leaves-a-zombie-child.py')], { stdout: 'pipe' });
    const zombie = Number(await firstLine(parent));
    const { readFileSync } = await import('node:fs');
    await waitFor('state Z', () => (/^State:\s+Z/m.test(readFileSync(`/proc/${zombie}/status`, 'utf8')) ? true : undefined));
    process.kill(zombie, 'SIGHUP');
    expect((await awaitDelivery(zombie, 'SIGHUP', { timeoutMs: 200 })).outcome).toBe('zombie');
  });

  it('a process that is gone: gone', async () => {
    const child = start([bin('reloads-cleanly'), '/dev/null']);
    const exited = new Promise((r) => child.once('exit', r));
    process.kill(child.pid, 'SIGKILL');
    await exited;
    expect((await awaitDelivery(child.pid, 'SIGHUP', { timeoutMs: 200 })).outcome).toBe('gone');
  });

  it('a leader thread that exited (state Z) while another thread takes the signal: delivered, not zombie', async () => {
    const child = start([bin('exits-leader-thread-keeps-fds')]);
    const { readFileSync, readdirSync } = await import('node:fs');
    await waitFor('the leader exited', () => (/^State:\s+Z/m.test(readFileSync(`/proc/${child.pid}/status`, 'utf8')) ? true : undefined));
    const tid = readdirSync(`/proc/${child.pid}/task`).find((t) => Number(t) !== child.pid);
    const before = readdirSync(`/proc/${child.pid}/task/${tid}/fd`).length;
    expect(readdirSync(`/proc/${child.pid}/fd`)).toEqual([]);
    process.kill(child.pid, 'SIGHUP');
    expect((await awaitDelivery(child.pid, 'SIGHUP', { timeoutMs: 500 })).outcome).toBe('delivered');
    // The reload ran in the live thread: its pipe is under /proc/PID/task/TID/fd only.
    await waitFor('the pipe', () => (readdirSync(`/proc/${child.pid}/task/${tid}/fd`).length === before + 2 ? true : undefined));
  });
});
