/**
 * graceful-drain: SIGTERM with requests in flight. An HTTP server on
 * 127.0.0.1 under the load generator's load gets SIGTERM at a seeded moment;
 * the load keeps coming through the routing lag (--lag), the harness SIGKILLs
 * after the grace period (--grace), and every request ends up in the ledger.
 * - exit-at-once: exits on SIGTERM (in-flight requests reset, the lag refused);
 * - keeps-accepting: stops answering but leaves the listener open (the kernel
 *   accepts for it; those requests are reset at the exit);
 * - drains-forever: closes the listener at once and waits for every
 *   connection with no deadline (an idle keep-alive client holds it until
 *   the SIGKILL);
 * - correct: readiness 503, serves through the lag, closes the listener,
 *   finishes in-flight within the grace, closes idle connections, cleans up in
 *   reverse, exit 0.
 * Children in Node (http), Rust (hyper 0.14 + tokio from Debian's crates,
 * built on first use: src/runtimes/cargo.ts) and Python (a threaded
 * http.server daemon with the essay's `while alive:` loop).
 * Run by the load-and-signal driver; judged by the ledger (Expectation.drain).
 */
import { nodeChild, pythonChild } from '../../runtimes/index.js';
import type { Expectation } from '../../model/run-document.js';
import type { Role, Scenario } from '../types.js';

/**
 * The correct child keeps its listener open this much longer than the load
 * balancer keeps routing (as a preStop sleep must exceed endpoint
 * propagation): with no margin, 3 of 20 runs on a loaded machine lost 1–21
 * connections made in the last milliseconds of the lag (README in this folder).
 */
export const LISTENER_MARGIN_MS = 100;

/** Fewest requests a run must carry to count (the bench runs at least 4 000 per run; see README). */
export const MIN_REQUESTS = 300;

const roles: readonly Role[] = [
  { name: 'exit-at-once', kind: 'broken', summary: 'exits on SIGTERM: requests in flight are reset, connections during the routing lag refused' },
  { name: 'keeps-accepting', kind: 'broken', summary: 'stops answering but leaves the listener open: the kernel accepts connections nobody answers, reset at the exit' },
  { name: 'drains-forever', kind: 'broken', summary: 'closes the listener at once and waits for every connection with no deadline: an idle keep-alive client holds it until SIGKILL' },
  { name: 'correct', kind: 'correct', summary: 'readiness 503, serves through the lag, closes the listener, drains within the grace period, closes idle connections, exit 0' },
];

const SHOWS: Record<string, string> = {
  'exit-at-once': 'requests lost at the exit, each with its cause',
  'keeps-accepting': 'requests let in and never answered, each with its cause',
  'drains-forever': 'requests lost and a SIGKILL after the grace period',
  correct: 'not one request lost, exit 0',
};

export const gracefulDrain: Scenario = {
  name: 'graceful-drain',
  summary: 'SIGTERM with requests in flight: exiting at once, accepting after it or draining forever loses requests; readiness off, serve through the lag, drain within the grace period loses none',
  signal: 'SIGTERM',
  roles,
  runtimes: ['node', 'rust', 'python'],
  options: [],
  metrics: [],
  driver: 'load-and-signal',
  async command(role, runtime, _options, abort) {
    if (runtime === 'rust') {
      const { ensureRustBinaries, GRACEFUL_DRAIN_PROJECT } = await import('../../runtimes/cargo.js');
      const built = await ensureRustBinaries(GRACEFUL_DRAIN_PROJECT, { abort, onBuild: (message) => process.stderr.write(`repro: ${message}\n`) });
      const binary = built[role.name.replaceAll('-', '_')];
      if (!binary) throw new Error(`no rust child for ${role.name}`);
      return [binary];
    }
    if (runtime === 'python') return pythonChild('src/scenarios/graceful-drain/python/server.py', [role.name]);
    if (runtime !== 'node') throw new Error(`no ${runtime} child for ${role.name}`);
    return nodeChild(`scenarios/graceful-drain/node/${role.name}.js`);
  },
  drainArgs({ lagMs, graceMs }) {
    // The child's own deadline ends before the orchestrator's SIGKILL, so a correct drain that runs long still exits by itself.
    const childGrace = graceMs >= 1000 ? graceMs - 500 : Math.floor(graceMs / 2);
    return ['--lag', String(lagMs + LISTENER_MARGIN_MS), '--grace', String(childGrace)];
  },
  expect(role, _options, { maxGrowth }): Expectation {
    const base = { shows: SHOWS[role.name] ?? role.summary, fdsPerReload: 0, maxGrowth, registerFailure: 'forbidden' as const, flatMetrics: [], growingMetrics: [], allReloads: false, earlyIsInconclusive: false };
    if (role.kind === 'correct') return { ...base, drain: { losses: 'none', minRequests: MIN_REQUESTS, exit: 'clean' } };
    return { ...base, drain: { losses: 'some', minRequests: MIN_REQUESTS, exit: role.name === 'drains-forever' ? 'killed' : 'clean' } };
  },
};
