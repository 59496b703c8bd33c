/**
 * graceful-drain, broken: on SIGTERM it stops serving new work but leaves the
 * listener open, finishes the requests already running, and exits. The kernel
 * keeps accepting connections all along; they are never answered and are
 * reset or closed at the exit. The WSGI lesson of the essay on Linux signals: a
 * server that stops calling accept() leaves clients queued in the backlog.
 *
 * Node cannot stop accept() without closing the listener, so this child
 * accepts and parks each new request (never reads or answers it), which is
 * what a connection waiting in the backlog gets. The Python child stops
 * calling accept() for real.
 */
import { makeKit } from './server-kit.js';

const kit = makeKit();

function onSignal(signal: NodeJS.Signals): void {
  if (kit.signalAt !== undefined) return;
  kit.signalAt = performance.now();
  kit.park = true;
  kit.phase('draining', { signal, inFlight: kit.inFlight(), connections: kit.connections.size });
  const wait = setInterval(() => {
    if (kit.inFlight() > 0) return;
    clearInterval(wait);
    kit.phase('drained', { parked: kit.connections.size });
    process.exit(0);
  }, 5);
}

process.on('SIGTERM', onSignal);
process.on('SIGINT', onSignal);
kit.listen('keeps-accepting');
