/**
 * runtime-teardown: an async runtime closes files asynchronously, so dropping
 * a handle queues a close the runtime performs later. Stop the runtime first
 * and the queued closes never run: the fds stay open for the life of the
 * process. Each SIGHUP is one round (start a runtime, open N handles, drop
 * them, stop the runtime), driven by the rounds driver, which snapshots the
 * fds at each of the child's phase markers.
 * - C (io_uring): close SQEs published and never submitted before
 *   io_uring_queue_exit (MonoIO 0.2.1, monoio#229) against submitted and
 *   awaited; repro reads the pending SQEs from /proc/PID/fdinfo/<ring fd>.
 * - Node: a worker_threads Worker terminated with fs.close requests in flight
 *   against awaited FileHandle.close().
 * - Python: loop.close() without writer.wait_closed() against with it.
 */
import { cChild } from '../../runtimes/c.js';
import { nodeChild, pythonChild } from '../../runtimes/index.js';
import { leaksToEmfile, staysFlat } from '../expect.js';
import type { Role, Scenario } from '../types.js';

/** Handles each round opens and drops: 8 keeps EMFILE within 20 rounds under the default ulimit of 64. */
export const HANDLES_PER_ROUND = 8;

const roles: readonly Role[] = [
  { name: 'broken', kind: 'broken', summary: 'stops the runtime with the closes still queued (C: SQEs never submitted; Node: Worker terminated; Python: no wait_closed())' },
  { name: 'correct', kind: 'correct', summary: 'waits for every queued close to complete before stopping the runtime' },
];

export const runtimeTeardown: Scenario = {
  name: 'runtime-teardown',
  summary: 'a runtime stopped with closes still queued: the fds stay open for the life of the process, N per round, until EMFILE',
  signal: 'SIGHUP',
  roles,
  runtimes: ['c', 'node', 'python'],
  options: [],
  driver: 'rounds',
  // Measured with `repro correct|broken --ulimit N`: the lowest N a round completes under, minus the fds
  // held when ready. C: the ring and 8 files; Python: the loop's epoll and self-pipe and 8 socketpairs
  // opened one end at a time; Node: the Worker's own event loop and 8 files (it also needs them to start).
  peakFdsPerReload: { c: 9, node: 12, python: 12 },
  metrics: [
    { id: 'leftFds', label: 'fds left by the round', unit: '', description: 'fds open after the round (settled) that were not open before it, by identity (fd, kind, inode)', fromEvent: 'leftFds', perReload: true },
    { id: 'leakedFds', label: 'fds left so far', unit: '', description: 'fds open after the round (settled) that were not open at the baseline, by identity', fromEvent: 'leakedFds' },
    { id: 'pendingSqes', label: 'SQEs pending at teardown', unit: '', description: 'SQEs: line of /proc/PID/fdinfo/<ring fd> at the last phase marker before the ring was torn down (io_uring children)', fromEvent: 'pendingSqes', perReload: true },
  ],
  async command(role, runtime) {
    const args = [role.name, '--handles', String(HANDLES_PER_ROUND)];
    if (runtime === 'c') return cChild('src/scenarios/runtime-teardown/c/child.c', args, ['-luring']);
    if (runtime === 'python') return pythonChild('src/scenarios/runtime-teardown/python/child.py', args);
    return nodeChild('scenarios/runtime-teardown/node/child.js', args);
  },
  expect(role, _options, { maxGrowth }) {
    if (role.kind === 'broken') return leaksToEmfile(`the leak: ${HANDLES_PER_ROUND} fds left per round, until EMFILE`, HANDLES_PER_ROUND, maxGrowth, { growingMetrics: ['leakedFds'] });
    return staysFlat('no fd left by any round', maxGrowth, { flatMetrics: ['leakedFds'] });
  },
};
