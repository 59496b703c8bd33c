/**
 * graceful-drain, broken: exits on SIGTERM. Requests in flight are cut (the
 * kernel closes their connections), and for the rest of the routing lag every
 * new connection is refused. Readiness never says it is going.
 */
import { makeKit } from './server-kit.js';

const kit = makeKit();

function onSignal(signal: NodeJS.Signals): void {
  kit.signalAt = performance.now();
  kit.phase('exiting', { signal, inFlight: kit.inFlight(), connections: kit.connections.size });
  process.exit(0);
}

process.on('SIGTERM', onSignal);
process.on('SIGINT', onSignal);
kit.listen('exit-at-once');
