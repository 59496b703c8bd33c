/**
 * The correct pattern: the same reload code as the broken child — it even
 * re-subscribes on every reload — but through the process-wide hub, so one
 * registration and one channel serve every reload.
 */
import { channelFromArgv, emit, exitWhenParentGoes, RUNTIME, stayAlive } from '../../../children/child-io.js';
import { getSignalHub } from './signal-hub.js';

const hub = getSignalHub(channelFromArgv(process.argv));
let seq = 0;
let reopened = 0;
let unsubscribeReload: () => void = () => {};

function reload(): void {
  seq += 1;
  // Re-subscribing per reload is harmless here: subscribe first, then drop the old one.
  const previous = unsubscribeReload;
  unsubscribeReload = hub.subscribe('SIGHUP', reload);
  previous();
  emit({ event: 'reload', seq, listeners: process.listenerCount('SIGHUP'), subscribers: hub.subscriberCount('SIGHUP'), fannedOut: reopened });
}

function shutdown(): void {
  const release = hub.close();
  emit({ event: 'shutdown', ...release, leakedFds: hub.fdCount() });
  process.exit(0);
}

exitWhenParentGoes();
stayAlive();
// A second subscriber of the same signal, as a real service has (log reopen): fan-out, no new fd.
// Subscribed first, so it has run by the time each reload reports: fannedOut equals seq.
hub.subscribe('SIGHUP', () => {
  reopened += 1;
});
unsubscribeReload = hub.subscribe('SIGHUP', reload);
hub.subscribe('SIGTERM', shutdown);
hub.subscribe('SIGINT', shutdown);
emit({
  event: 'ready',
  pid: process.pid,
  scenario: 'sighup-listener',
  pattern: 'correct',
  runtime: RUNTIME,
  channel: hub.channelKind,
  listeners: process.listenerCount('SIGHUP'),
});
