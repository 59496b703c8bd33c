/**
 * signal-during-request: a slow signal handler mid-request. An http.server
 * on 127.0.0.1 under four clients (a new connection per request, 5 ms of
 * work) gets SIGUSR1 every ~0.5 s after a second with none; each SIGUSR1
 * costs 200 ms of work (the essay's REPL attached on a signal).
 * - inline-handler: the work runs in the handler, on the serving thread;
 * - masked-during-request: SIGUSR1 is blocked while a request is served: the
 *   stall moves to after the request, it does not go away (the essay's second attempt);
 * - correct: the handler only wakes a worker thread.
 * Judged by the ledger: each signal reads the requests in flight just after
 * it (their lower median) against the same reading at quiet instants of the
 * same run (their median + 100 ms is the bound); a signal over it stalled them.
 * A stall at half the signals or more is shown; at fewer, or none under a
 * bound at or above the handler's 200 ms, the run could not tell.
 */
import type { Expectation } from '../../model/run-document.js';
import { pythonChild } from '../../runtimes/index.js';
import type { Role, Scenario } from '../types.js';

/** The handler's work per signal, ms: a bound at or above it could not tell a stall from a slow machine. */
const HANDLER_WORK_MS = 200;

const roles: readonly Role[] = [
  { name: 'inline-handler', kind: 'broken', summary: '200 ms of work in the SIGUSR1 handler, on the thread that serves: the requests in flight and waiting stall' },
  { name: 'masked-during-request', kind: 'broken', summary: 'SIGUSR1 blocked while a request is served: the work runs right after it, and the requests waiting stall instead' },
  { name: 'correct', kind: 'correct', summary: 'the handler only wakes a worker thread, which does the work off the serving thread' },
];

const SHOWS: Record<string, string> = {
  'inline-handler': 'signals stalling the requests in flight past the latency bound',
  'masked-during-request': 'signals still stalling the requests in flight past the bound: the stall moved, it did not go away',
  correct: 'no signal stalling the requests in flight past the latency bound',
};

// A run whose bound could not tell a stall (a machine too loaded) is inconclusive, never a pass or a finding.
const BASE = { fdsPerReload: 0, maxGrowth: 0, registerFailure: 'forbidden' as const, flatMetrics: [], growingMetrics: [], allReloads: false, earlyIsInconclusive: true };

export const signalDuringRequest: Scenario = {
  name: 'signal-during-request',
  summary: 'SIGUSR1 with 200 ms of work while requests are served: work in the handler stalls requests, masking the signal during a request only moves the stall; waking a worker keeps every request within the bound',
  signal: 'SIGUSR1',
  roles,
  runtimes: ['python'],
  options: [],
  metrics: [],
  driver: 'ledger',
  ledger: { exercise: 'request-latency' },
  async command(role, runtime) {
    if (runtime !== 'python') throw new Error(`no ${runtime} child for ${role.name}`);
    return pythonChild('src/scenarios/signal-during-request/python/server.py', [role.name]);
  },
  expect(role): Expectation {
    const shows = SHOWS[role.name] ?? role.summary;
    const rules = { minOutAtSignal: 1, maxBoundMs: HANDLER_WORK_MS };
    if (role.kind === 'correct') return { ...BASE, shows, ledger: { ...rules, losses: 'none' } };
    return { ...BASE, shows, ledger: { ...rules, losses: 'some', failure: 'over-latency-bound' } };
  },
};
