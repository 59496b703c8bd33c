/**
 * sighup-listener: the original case. A service creates a new signal
 * listener, each with its own self-pipe or signalfd, on every SIGHUP reload
 * and never closes the old one: fds grow per reload until EMFILE, and then
 * reloads silently stop. The fix: one process-wide hub, registered once, fanned out.
 */
import { CHANNEL_KINDS, FDS_PER_CHANNEL, type ChannelKind } from '../../native/channel-kinds.js';
import { nodeChild } from '../../runtimes/index.js';
import { leaksToEmfile, staysFlat } from '../expect.js';
import type { Role, Scenario } from '../types.js';

const NODE_ENTRIES: Record<string, string> = {
  broken: 'scenarios/sighup-listener/node/broken.js',
  correct: 'scenarios/sighup-listener/node/correct.js',
};

/** Threads of the process, from its /proc/PID/status text (a runtime that spawns a task per reload shows here). */
function threads(status: string | undefined): number | undefined {
  const match = status === undefined ? null : /^Threads:\s+(\d+)$/m.exec(status);
  return match ? Number(match[1]) : undefined;
}

const roles: readonly Role[] = [
  { name: 'broken', kind: 'broken', summary: 'a new listener with its own self-pipe/signalfd per SIGHUP, the old one never closed (Rust: a signal_hook Signals per reload, kept)' },
  { name: 'correct', kind: 'correct', summary: 'one process-wide hub: registered once, fanned out to every subscriber (Rust: one signal(), tokio broadcast)' },
  {
    name: 'tokio-per-reload',
    kind: 'variant',
    summary: "the write-up's literal code: tokio::signal::unix::signal() per reload, held by a task forever",
    runtimes: ['rust'],
  },
];

const RUST_BINARIES = { broken: 'broken', correct: 'correct', 'tokio-per-reload': 'tokioPerReload' } as const;

export const sighupListener: Scenario = {
  name: 'sighup-listener',
  summary: 'a signal listener (own self-pipe or signalfd) re-registered on every SIGHUP and never closed: fds grow to EMFILE, then reloads stop',
  signal: 'SIGHUP',
  roles,
  runtimes: ['node', 'rust'],
  options: [{ key: 'channel', flag: '--channel <kind>', help: `native wake-up channel (Node children): ${CHANNEL_KINDS.join(' or ')}`, choices: CHANNEL_KINDS, default: 'pipe', runtimes: ['node'] }],
  metrics: [
    { id: 'listeners', label: 'listeners', unit: '', description: 'signal listeners the child has registered for SIGHUP (its own count, from each acknowledgement)', fromEvent: 'listeners' },
    { id: 'threads', label: 'threads', unit: '', description: 'threads of the child process (/proc/PID/status)', fromProcess: (_pid, _fds, status) => threads(status) },
  ],
  async command(role, runtime, options, abort) {
    if (runtime === 'rust') {
      const { ensureRustChildren } = await import('../../runtimes/cargo.js');
      const built = await ensureRustChildren({ abort, onBuild: (message) => process.stderr.write(`repro: ${message}\n`) });
      return [built[RUST_BINARIES[role.name as keyof typeof RUST_BINARIES]]];
    }
    const entry = NODE_ENTRIES[role.name];
    if (runtime !== 'node' || !entry) throw new Error(`no ${runtime} child for ${role.name}`);
    return nodeChild(entry, ['--channel', options.channel ?? 'pipe']);
  },
  expect(role, options, { maxGrowth }) {
    // Measured with Tokio 1.24: one process-wide socketpair whatever the number of signal() calls.
    if (role.kind === 'variant') {
      return staysFlat('no fd leak: Tokio shares one process-wide socketpair; what grows instead is listeners (tasks holding a receiver) and RSS', maxGrowth, { growingMetrics: ['listeners'] });
    }
    if (role.kind === 'broken') {
      // Node: the channel's fds; Rust: signal_hook's Signals owns a UnixStream pair.
      const fdsPerReload = options.channel === undefined ? 2 : FDS_PER_CHANNEL[options.channel as ChannelKind];
      return leaksToEmfile('the broken pattern leaks until EMFILE and then stops reloading', fdsPerReload, maxGrowth, { afterFailure: 'dead', growingMetrics: ['listeners'] });
    }
    return staysFlat('the correct pattern stays flat', maxGrowth, { flatMetrics: ['listeners'] });
  },
};
