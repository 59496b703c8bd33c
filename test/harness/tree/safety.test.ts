// watch --pid is safe by construction: refuse, before sending, any signal that would end or stop
// a target without a handler, and never signal a zombie, a kernel thread or repro's ancestors.
import { readFileSync } from 'node:fs';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { refusalFor, refuseSignal, selfAndAncestors, synchronousWait, type TargetFacts } from '../../../src/harness/tree/safety.js';
import { childrenOf, isAlive, waitFor } from '../../support/processes.js';
import { compiled, firstLine, service, start, stopAll } from './support.js';

const { bin, cleanup } = compiled(['reloads-cleanly', 'exits-leader-thread-keeps-fds', 'takes-hup-from-signalfd-and-leaks-pipe', 'blocks-sighup']);
afterEach(stopAll);
afterAll(cleanup);

const facts = (over: Partial<TargetFacts>): TargetFacts => ({ pid: 4242, exists: true, zombie: false, kernelThread: false, caught: false, ignored: false, protectedPids: [1, 100], ...over });

describe('refusalFor (pure)', () => {
  it.each([
    ['KILL is refused even with a handler… there is none to have', 'SIGKILL', facts({ caught: true }), /SIGKILL cannot be caught/],
    ['STOP is refused', 'SIGSTOP', facts({}), /SIGSTOP cannot be caught: it would stop/],
    ['no process', 'SIGHUP', facts({ exists: false }), /^no process 4242$/],
    ['one of repro’s ancestors', 'SIGHUP', facts({ pid: 100, caught: true }), /repro itself or one of its ancestors/],
    ['a kernel thread', 'SIGHUP', facts({ kernelThread: true }), /kernel thread/],
    ['a zombie', 'SIGHUP', facts({ zombie: true, caught: true }), /zombie/],
    ['no handler for HUP: default action kills', 'SIGHUP', facts({}), /has no handler for SIGHUP, whose default action kills it/],
    ['no handler for QUIT: kills and dumps core', 'SIGQUIT', facts({}), /dumps core/],
    ['no handler for TSTP: stops it', 'SIGTSTP', facts({}), /default action stops it/],
  ] as const)('%s', (_what, signal, f, reason) => {
    expect(refusalFor(signal, f)).toMatch(reason);
  });

  it.each([
    ['caught', 'SIGHUP', facts({ caught: true })],
    ['ignored (harmless; the driver reports it as not taken)', 'SIGHUP', facts({ ignored: true })],
    ['default action ignore (WINCH) without a handler', 'SIGWINCH', facts({})],
    ['no handler, but taken synchronously (rt_sigtimedwait, signalfd)', 'SIGHUP', facts({ waited: true })],
  ] as const)('sends when %s', (_what, signal, f) => {
    expect(refusalFor(signal, f)).toBeNull();
  });
});

describe('refuseSignal reads the facts from /proc', () => {
  it('a program with a SIGHUP handler: null (send it)', async () => {
    const child = start([bin('reloads-cleanly'), '/dev/null']);
    await waitFor('the handler', () => (/^SigCgt:\s+\S*[13579bdf]$/m.test(readFileSync(`/proc/${child.pid}/status`, 'utf8')) ? true : undefined));
    expect(refuseSignal(child.pid, 'SIGHUP')).toBeNull();
    expect(refuseSignal(child.pid, 'SIGKILL')).toMatch(/cannot be caught/);
  });

  it('a program without a handler (sleep): refused, and it is still alive because nothing was sent', () => {
    const child = start(['sleep', '30']);
    expect(refuseSignal(child.pid, 'SIGHUP')).toBe(`process ${child.pid} has no handler for SIGHUP, whose default action kills it: refusing to send it (pick the signal its reload handler catches with --signal)`);
    expect(isAlive(child.pid)).toBe(true);
  });

  it('a zombie pid: refused', async () => {
    const parent = start(['python3', service('leaves-a-zombie-child.py')], { stdout: 'pipe' });
    const zombie = Number(await firstLine(parent));
    await waitFor('state Z', () => (/^State:\s+Z/m.test(readFileSync(`/proc/${zombie}/status`, 'utf8')) ? true : undefined));
    expect(refuseSignal(zombie, 'SIGHUP')).toMatch(/is a zombie/);
  });

  it('a leader thread that exited while its threads run is not a zombie: its handler counts', async () => {
    const child = start([bin('exits-leader-thread-keeps-fds')]);
    await waitFor('the leader exited', () => (/^State:\s+Z/m.test(readFileSync(`/proc/${child.pid}/status`, 'utf8')) ? true : undefined));
    expect(refuseSignal(child.pid, 'SIGHUP')).toBeNull();
  });

  it('a kernel thread (kthreadd, pid 2): refused', () => {
    expect(readFileSync('/proc/2/stat', 'utf8')).toMatch(/\(kthreadd\)/);
    expect(refuseSignal(2, 'SIGHUP')).toMatch(/kernel thread/);
  });

  it('this process and its parent (the shell or tool that started repro): refused', () => {
    const ancestors = selfAndAncestors();
    expect(ancestors[0]).toBe(process.pid);
    expect(ancestors.length).toBeGreaterThan(1);
    expect(refuseSignal(process.pid, 'SIGHUP')).toMatch(/repro itself or one of its ancestors/);
    expect(refuseSignal(process.ppid, 'SIGTERM')).toMatch(/repro itself or one of its ancestors/);
  });

  it('a pid that does not exist: refused', () => {
    expect(refuseSignal(2 ** 22 + 7, 'SIGHUP')).toBe(`no process ${2 ** 22 + 7}`);
  });
});

describe('a process that blocks the signal and takes it synchronously has no handler, yet takes it', () => {
  /** Waits until some thread of `pid` sleeps in a syscall (the program reached its wait). */
  const asleep = (pid: number) => waitFor('its wait', () => (/^State:\s+S/m.test(readFileSync(`/proc/${pid}/status`, 'utf8')) ? true : undefined));

  it('the real tini -s (rt_sigtimedwait with SIGHUP in its set, SigCgt and SigBlk both "default"): sent', async () => {
    const tini = start(['tini', '-s', '--', 'python3', service('leaks-pipe-per-hup.py')]);
    // tini puts its child in a process group of its own: kill it by pid.
    const leaky = await waitFor('its child', () => childrenOf(tini.pid)[0]);
    try {
      await waitFor('tini in rt_sigtimedwait', () => (synchronousWait(tini.pid, 1) ? true : undefined));
      const status = readFileSync(`/proc/${tini.pid}/status`, 'utf8');
      expect(status).toMatch(/^SigCgt:\s+0+$/m);
      expect(synchronousWait(tini.pid, 1)).toMatchObject({ how: 'sigtimedwait' });
      expect(refuseSignal(tini.pid, 'SIGHUP')).toBeNull();
    } finally {
      process.kill(leaky, 'SIGKILL');
    }
  });

  it('a C service reading SIGHUP from a signalfd: sent', async () => {
    const child = start([bin('takes-hup-from-signalfd-and-leaks-pipe')]);
    await waitFor('its signalfd', () => (synchronousWait(child.pid, 1) ? true : undefined));
    expect(synchronousWait(child.pid, 1)).toEqual({ how: 'signalfd', fd: 3 });
    expect(refuseSignal(child.pid, 'SIGHUP')).toBeNull();
    // Its signalfd takes only SIGHUP: USR1 would kill it.
    expect(refuseSignal(child.pid, 'SIGUSR1')).toMatch(/has no handler for SIGUSR1/);
  });

  it('a thread in sigwait for USR1 only, SIGHUP not blocked: HUP refused (the default action would end it)', async () => {
    const child = start(['python3', '-c', 'import signal\nsignal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGUSR1})\nwhile True: signal.sigwait({signal.SIGUSR1})']);
    await waitFor('sigwait', () => (synchronousWait(child.pid, 10) ? true : undefined));
    expect(synchronousWait(child.pid, 1)).toBeNull();
    expect(refuseSignal(child.pid, 'SIGHUP')).toMatch(/has no handler for SIGHUP/);
    expect(refuseSignal(child.pid, 'SIGUSR1')).toBeNull();
  });

  it('blocked and never waited for (no sigwait, no signalfd): not taken synchronously', async () => {
    const child = start([bin('blocks-sighup')]);
    await asleep(child.pid);
    await waitFor('SIGHUP blocked', () => (/^SigBlk:\s+\S*[13579bdf]$/m.test(readFileSync(`/proc/${child.pid}/status`, 'utf8')) ? true : undefined));
    expect(synchronousWait(child.pid, 1)).toBeNull();
  });
});
