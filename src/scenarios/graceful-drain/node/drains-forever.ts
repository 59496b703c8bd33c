/**
 * graceful-drain, broken: on SIGTERM it closes the listener at once (no
 * routing lag: new connections are refused while the load balancer still
 * sends them) and waits for every connection to end, with no timeout and
 * without closing idle keep-alive connections. An idle pooled client holds it
 * open until the orchestrator's SIGKILL after the grace period. That is Node's
 * `server.close()` before v19 (net.Server's close), and Go's `Shutdown`
 * without a context deadline.
 */
import { Server as NetServer } from 'node:net';
import { makeKit } from './server-kit.js';

const kit = makeKit();

function onSignal(signal: NodeJS.Signals): void {
  if (kit.signalAt !== undefined) return;
  kit.signalAt = performance.now();
  kit.phase('draining', { signal, inFlight: kit.inFlight(), connections: kit.connections.size });
  NetServer.prototype.close.call(kit.server, () => {
    kit.phase('drained');
    process.exit(0);
  });
  kit.phase('listener-closed', { inFlight: kit.inFlight(), connections: kit.connections.size });
}

process.on('SIGTERM', onSignal);
process.on('SIGINT', onSignal);
kit.listen('drains-forever');
