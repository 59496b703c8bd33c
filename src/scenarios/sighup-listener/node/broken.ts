/**
 * The broken pattern: every SIGHUP reload creates a new listener — a
 * process.on('SIGHUP') registration with its own native channel — and abandons
 * the previous one without closing it. Abandoned listeners stay registered and
 * keep getting a byte per signal that nobody reads. When the fd limit is hit,
 * the new listener cannot be created and nothing listens any more: later
 * SIGHUPs reload nothing.
 */
import { channelFromArgv, emit, exitWhenParentGoes, RUNTIME, stayAlive } from '../../../children/child-io.js';
import { type ChannelKind, openChannel, type WakeChannel } from '../../../native/channel.js';
import { NativeError } from '../../../native/libc.js';

interface Listener {
  channel: WakeChannel;
  handler: () => void;
}

const channelKind: ChannelKind = channelFromArgv(process.argv);
const abandoned: Listener[] = [];
let current: Listener | undefined;
let seq = 0;

function createListener(): Listener {
  // The channel first: if it fails, nothing is registered for it.
  const channel = openChannel(channelKind, 'SIGHUP');
  const listener: Listener = {
    channel,
    handler: () => {
      channel.notify();
      if (listener === current) setImmediate(reload);
    },
  };
  process.on('SIGHUP', listener.handler);
  return listener;
}

function reload(): void {
  if (!current) return;
  current.channel.drain();
  seq += 1;
  // The bug: the old listener is dropped on the floor, still registered, fds still open.
  abandoned.push(current);
  current = undefined;
  try {
    current = createListener();
  } catch (error) {
    if (!(error instanceof NativeError)) throw error;
    emit({ event: 'register-failed', seq, code: error.code, message: `cannot register signal: ${error.code} (${error.reason})` });
    return;
  }
  emit({ event: 'reload', seq, listeners: process.listenerCount('SIGHUP') });
}

function shutdown(): void {
  const held = abandoned.length + (current ? 1 : 0);
  const fdsHeld = [...abandoned, ...(current ? [current] : [])].reduce((n, l) => n + l.channel.fds.length, 0);
  emit({ event: 'shutdown', closedFds: 0, removedListeners: 0, leakedFds: fdsHeld });
  const first = current && abandoned.length === 0 ? current : abandoned[0];
  const fromReloads = fdsHeld - (first ? first.channel.fds.length : 0);
  // The first listener (made at start-up, before `ready`) is part of the baseline; the rest came from reloads.
  process.stderr.write(`exiting with ${held} listeners and ${fdsHeld} channel fds never closed (${fromReloads} of them opened by reloads; the first listener's were there at start)\n`);
  process.exit(0);
}

exitWhenParentGoes();
stayAlive();
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);
current = createListener();
emit({
  event: 'ready',
  pid: process.pid,
  scenario: 'sighup-listener',
  pattern: 'broken',
  runtime: RUNTIME,
  channel: channelKind,
  listeners: process.listenerCount('SIGHUP'),
});
