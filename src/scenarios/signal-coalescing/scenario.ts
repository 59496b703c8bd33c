/**
 * signal-coalescing: facts, not folklore. A standard signal (SIGHUP, SIGUSR1)
 * sent N times while pending is delivered once; a real-time one is queued
 * and delivered N times, up to RLIMIT_SIGPENDING, beyond which kill() still
 * succeeds and the signal is dropped. SIGUSR1 is a standard signal. A program
 * that counts standard signals as events loses events; one that takes a
 * signal as "something happened, go look" does not. CPython collapses even
 * real-time signals to one handler run; Node has none. A trials scenario:
 * repro holds each fresh child stopped while it sends the burst, so every
 * count is exact, not a race.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cChild } from '../../runtimes/c.js';
import { nodeChild, pythonChild } from '../../runtimes/index.js';
import { staysFlat } from '../expect.js';
import type { Role, Scenario } from '../types.js';
import { BURST_SIGNALS, coalescingTrial } from './trial.js';

const roles: readonly Role[] = [
  { name: 'broken', kind: 'broken', summary: `counts SIGHUP handler runs as events: ${BURST_SIGNALS} sent while pending, 1 handled` },
  { name: 'correct', kind: 'correct', summary: 'takes SIGHUP as "go look" and counts the work items themselves: all seen' },
  { name: 'rt-queued', kind: 'variant', summary: `counts SIGRTMIN+1 handler runs: real-time signals queue, ${BURST_SIGNALS} of ${BURST_SIGNALS}`, runtimes: ['c'] },
  { name: 'rt-overflow', kind: 'variant', summary: 'the same under RLIMIT_SIGPENDING 200: kill() succeeds, the rest are dropped silently', runtimes: ['c'] },
  { name: 'python-rt', kind: 'variant', summary: `counts SIGRTMIN+1 handler runs: CPython runs its handler once for all ${BURST_SIGNALS}`, runtimes: ['python'] },
  { name: 'node-rt', kind: 'variant', summary: "listens for 'SIGRTMIN+1': Node has no real-time signals, the first one kills it", runtimes: ['node'] },
];

/** The outcome each role shows in every trial. */
const EXPECTED: Record<string, { outcome: string; shows: string }> = {
  broken: { outcome: 'coalesced', shows: 'a burst of SIGHUP handled once: events lost' },
  correct: { outcome: 'all-seen', shows: 'every work item seen, however many signals stood for them' },
  'rt-queued': { outcome: 'queued', shows: 'every real-time signal handled' },
  'rt-overflow': { outcome: 'dropped-silently', shows: 'real-time signals beyond RLIMIT_SIGPENDING dropped, kill() succeeding' },
  'python-rt': { outcome: 'rt-collapsed', shows: 'real-time signals collapsed to one handler run by CPython' },
  'node-rt': { outcome: 'killed', shows: 'the first real-time signal kills a Node process' },
};

export const signalCoalescing: Scenario = {
  name: 'signal-coalescing',
  summary: 'a standard signal sent N times while pending arrives once, a real-time one N times: count work, not signals',
  signal: 'SIGHUP',
  roles,
  runtimes: ['c', 'python', 'node'],
  options: [],
  metrics: [],
  driver: 'trials',
  trial: coalescingTrial,
  async command(role, runtime) {
    if (runtime === 'c') return cChild('src/scenarios/signal-coalescing/c/child.c', [role.name]);
    if (runtime === 'python') return pythonChild('src/scenarios/signal-coalescing/python/child.py', [role.name]);
    return nodeChild('scenarios/signal-coalescing/node/child.js', [role.name]);
  },
  setup(role) {
    if (role.name !== 'correct') return { args: [], dispose() {} };
    const dir = mkdtempSync(join(tmpdir(), 'repro-signal-coalescing-'));
    return { args: ['--spool', join(dir, 'spool')], dispose: () => rmSync(dir, { recursive: true, force: true }) };
  },
  expect(role) {
    const expected = EXPECTED[role.name] ?? { outcome: 'all-seen', shows: 'every work item seen' };
    return staysFlat(expected.shows, 0, { allReloads: false, trials: { outcome: expected.outcome, minTrials: 1 } });
  },
};
