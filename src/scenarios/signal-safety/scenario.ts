/**
 * signal-safety: a handler that calls a function the main loop also calls,
 * which is not async-signal-safe, under a storm of signals. crypt() returns
 * a static buffer: the main loop's result is overwritten (corruption).
 * localtime() takes glibc's tz lock: a signal landing while the main loop
 * holds it makes the handler wait for it forever (deadlock). The fix: the
 * handler only write()s to a self-pipe; the main loop does the work. A trials
 * scenario: each trial is one storm on a fresh child; a deadlock is told
 * apart from idle from outside (src/kinds/trials/deadlock.ts).
 */
import { cChild } from '../../runtimes/c.js';
import { pythonChild } from '../../runtimes/index.js';
import { staysFlat } from '../expect.js';
import type { Role, Scenario } from '../types.js';
import { safetyTrial } from './trial.js';

const roles: readonly Role[] = [
  { name: 'broken', kind: 'broken', summary: "the handler calls crypt(), which shares its static result with the main loop's: the main loop's check fails", runtimes: ['c'] },
  { name: 'correct', kind: 'correct', summary: "self-pipe: the handler only write()s a byte; the main loop does the handler's crypt() itself", runtimes: ['c'] },
  { name: 'localtime', kind: 'variant', summary: "the handler calls localtime(), as the main loop does: it waits forever for glibc's tz lock", runtimes: ['c'] },
  { name: 'malloc', kind: 'variant', summary: "the handler malloc()s and keeps a block while a second thread lives: it waits forever for the arena lock the main loop's malloc() holds", runtimes: ['c'] },
  { name: 'ctypes-localtime', kind: 'variant', summary: "a C-called handler in Python (ctypes CFUNCTYPE installed with libc's signal()) calls localtime(), as the main loop does: it waits forever for glibc's tz lock", runtimes: ['python'] },
  { name: 'python-handler', kind: 'variant', summary: 'the same crypt() in a pure-Python handler survives: CPython runs it between bytecodes, never inside crypt()', runtimes: ['python'] },
];

/** The outcome each role shows in every trial. */
const EXPECTED: Record<string, { outcome: string; shows: string }> = {
  broken: { outcome: 'corruption', shows: "the main loop's result corrupted by the handler" },
  correct: { outcome: 'survived', shows: 'the storm survived, every check passed' },
  localtime: { outcome: 'deadlock', shows: 'deadlocked inside the handler' },
  malloc: { outcome: 'deadlock', shows: "deadlocked inside the handler on malloc's arena lock" },
  'ctypes-localtime': { outcome: 'deadlock', shows: "deadlocked inside the ctypes-installed C handler on glibc's tz lock" },
  'python-handler': { outcome: 'survived', shows: 'the storm survived: a Python handler never runs inside crypt()' },
};

export const signalSafety: Scenario = {
  name: 'signal-safety',
  summary: 'a handler calling non-reentrant functions under a signal storm: corruption or deadlock; self-pipe: only write() in the handler',
  signal: 'SIGUSR1',
  roles,
  runtimes: ['c', 'python'],
  options: [],
  metrics: [],
  driver: 'trials',
  trial: safetyTrial,
  async command(role, runtime) {
    if (runtime === 'python') return pythonChild('src/scenarios/signal-safety/python/child.py', [role.name]);
    return cChild('src/scenarios/signal-safety/c/child.c', [role.name], ['-lcrypt']);
  },
  expect(role) {
    const expected = EXPECTED[role.name] ?? { outcome: 'survived', shows: 'the storm survived' };
    return staysFlat(expected.shows, 0, { allReloads: false, trials: { outcome: expected.outcome, minTrials: 1 } });
  },
};
