/**
 * queue-drain: SIGTERM to a worker with a job in flight. repro is the broker
 * (a unix socket) and keeps the ledger: every job handed out is acknowledged
 * or lost. The signal is sent right after a seeded job is handed out, so a job
 * is always in flight (deterministic).
 * - default-sigterm: no handler; the job taken is lost (killed by SIGTERM);
 * - exit-in-handler: `sys.exit(0)` in the handler: exit 0 and the job still
 *   lost (sync); with threads the process hangs, its workers taking jobs,
 *   until SIGKILL;
 * - correct: stop taking, finish what was taken, acknowledge, exit 0.
 * Python workers, sync (one) or threaded (four): --workers.
 * Run by the ledger driver; judged by the ledger (Expectation.ledger), never by the exit code.
 */
import type { LedgerFailure } from '../../kinds/ledger/judge.js';
import type { Expectation } from '../../model/run-document.js';
import { pythonChild } from '../../runtimes/index.js';
import type { Role, Scenario } from '../types.js';

const roles: readonly Role[] = [
  { name: 'default-sigterm', kind: 'broken', summary: 'no SIGTERM handler: the default action kills the worker with a job taken and never acknowledged' },
  { name: 'exit-in-handler', kind: 'broken', summary: 'sys.exit(0) in the handler: exit 0 and the job still lost; with threads, a hang until SIGKILL while its workers keep taking jobs' },
  { name: 'correct', kind: 'correct', summary: 'the handler sets a flag: each worker finishes and acknowledges what it took, takes no more, exit 0' },
];

/** Each broken role's own named cause, by --workers. */
const FAILURE: Record<string, Record<string, LedgerFailure>> = {
  'default-sigterm': { sync: 'killed-by-signal', threads: 'killed-by-signal' },
  'exit-in-handler': { sync: 'exit-0-but-lost', threads: 'hung-until-sigkill' },
};

const SHOWS: Record<string, Record<string, string>> = {
  'default-sigterm': { sync: 'the job in flight lost, killed by SIGTERM', threads: 'the jobs in flight lost, killed by SIGTERM' },
  'exit-in-handler': { sync: 'exit 0 and the job in flight still lost', threads: 'a hang until SIGKILL, jobs taken after SIGTERM and lost' },
};

const BASE = { fdsPerReload: 0, maxGrowth: 0, registerFailure: 'forbidden' as const, flatMetrics: [], growingMetrics: [], allReloads: false, earlyIsInconclusive: false };

export const queueDrain: Scenario = {
  name: 'queue-drain',
  summary: 'SIGTERM to a queue worker with a job in flight: the default action or sys.exit(0) in the handler loses the job (exit 0 or a hang with threads); stop taking, finish, acknowledge, exit 0 loses none',
  signal: 'SIGTERM',
  roles,
  runtimes: ['python'],
  options: [{ key: 'workers', flag: '--workers <kind>', help: 'queue workers: sync (one) or threads (four)', choices: ['sync', 'threads'], default: 'sync' }],
  metrics: [],
  driver: 'ledger',
  ledger: { exercise: 'queue' },
  async command(role, runtime, options) {
    if (runtime !== 'python') throw new Error(`no ${runtime} child for ${role.name}`);
    return pythonChild('src/scenarios/queue-drain/python/worker.py', [role.name, '--workers', options.workers ?? 'sync']);
  },
  expect(role, options): Expectation {
    const workers = options.workers ?? 'sync';
    if (role.kind === 'correct') return { ...BASE, shows: 'every job acknowledged, exit 0', ledger: { losses: 'none', minOutAtSignal: 1 } };
    return { ...BASE, shows: SHOWS[role.name]?.[workers] ?? role.summary, ledger: { losses: 'some', minOutAtSignal: 1, ...(FAILURE[role.name]?.[workers] ? { failure: FAILURE[role.name]?.[workers] } : {}) } };
  },
};
