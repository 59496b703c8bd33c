/**
 * state-on-shutdown: persist state, then exit. repro's clients send
 * increments over a unix socket and count acknowledgements; SIGTERM comes
 * right after a seeded number of increments; after the exit repro reads the
 * state file: every acknowledged increment must be in it.
 * - no-persistence: no handler, nothing written (killed by SIGTERM);
 * - racy-snapshot: a snapshot, then a 50 ms write while acknowledgements go
 *   on: exit 0, and the increments acknowledged during the write are in no file;
 * - correct: close the gate (acknowledge nothing more), then write tmp, fsync,
 *   rename over the state file, exit 0.
 * A Node service, and a Rust one (tokio on one thread, built offline from
 * Debian's crates on first use: src/runtimes/cargo.ts). Run by the ledger driver; judged by the ledger (Expectation.ledger).
 */
import type { LedgerFailure } from '../../kinds/ledger/judge.js';
import type { Expectation } from '../../model/run-document.js';
import { nodeChild } from '../../runtimes/index.js';
import type { Role, Scenario } from '../types.js';

const roles: readonly Role[] = [
  { name: 'no-persistence', kind: 'broken', summary: 'no SIGTERM handler: the state lives in memory only and every acknowledged increment is lost' },
  { name: 'racy-snapshot', kind: 'broken', summary: 'snapshots, then writes for 50 ms while still acknowledging: exit 0, and the increments acknowledged during the write are in no file' },
  { name: 'correct', kind: 'correct', summary: 'closes the gate first, then writes tmp + fsync + rename: every acknowledged increment is in the state file, exit 0' },
];

const FAILURE: Record<string, LedgerFailure> = { 'no-persistence': 'killed-by-signal', 'racy-snapshot': 'exit-0-but-lost' };

const SHOWS: Record<string, string> = {
  'no-persistence': 'every acknowledged increment lost, killed by SIGTERM',
  'racy-snapshot': 'exit 0 and acknowledged increments missing from the state file',
  correct: 'every acknowledged increment in the state file, exit 0',
};

const BASE = { fdsPerReload: 0, maxGrowth: 0, registerFailure: 'forbidden' as const, flatMetrics: [], growingMetrics: [], allReloads: false, earlyIsInconclusive: false };

export const stateOnShutdown: Scenario = {
  name: 'state-on-shutdown',
  summary: 'SIGTERM to a service that acknowledges increments: no persistence, or a snapshot written while acknowledgements go on, loses acknowledged ones; close the gate, then tmp + fsync + rename loses none',
  signal: 'SIGTERM',
  roles,
  runtimes: ['node', 'rust'],
  options: [],
  metrics: [],
  driver: 'ledger',
  ledger: { exercise: 'increments' },
  async command(role, runtime, _options, abort) {
    if (runtime === 'rust') {
      const { ensureRustBinaries, STATE_ON_SHUTDOWN_PROJECT } = await import('../../runtimes/cargo.js');
      const built = await ensureRustBinaries(STATE_ON_SHUTDOWN_PROJECT, { abort, onBuild: (message) => process.stderr.write(`repro: ${message}\n`) });
      if (!built.service) throw new Error(`no rust child for ${role.name}`);
      return [built.service, role.name];
    }
    if (runtime !== 'node') throw new Error(`no ${runtime} child for ${role.name}`);
    return nodeChild('scenarios/state-on-shutdown/node/service.js', [role.name]);
  },
  expect(role): Expectation {
    const shows = SHOWS[role.name] ?? role.summary;
    if (role.kind === 'correct') return { ...BASE, shows, ledger: { losses: 'none', minOutAtSignal: 1 } };
    const failure = FAILURE[role.name];
    return { ...BASE, shows, ledger: { losses: 'some', minOutAtSignal: 1, ...(failure ? { failure } : {}) } };
  },
};
