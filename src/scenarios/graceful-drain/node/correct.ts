/**
 * graceful-drain, correct. On SIGTERM (or SIGINT):
 * 1. readiness answers 503 at once, and every response from now on carries
 *    `Connection: close`, so kept-alive clients move away after their next answer;
 * 2. the listener stays open through `--lag` ms (the load balancer still routes here), then closes;
 *    the close waits one turn of the event loop so that connections already in
 *    the kernel's accept queue are taken, not reset;
 * 3. idle keep-alive connections are closed (FIN), but only once idle for
 *    `IDLE_MS`: a response whose head went out before the signal said
 *    "keep-alive", so its client may send the next request right after the
 *    body, and a freshly accepted connection's request may still be in the
 *    socket buffer; closing those at once would drop the request unanswered. A
 *    connection with bytes read since its last response (a request begun, its
 *    head not complete yet) is not idle either, while bytes keep coming
 *    (`BEGUN_MS`); pipelined requests count one by one;
 * 4. in-flight requests finish; past `--grace` ms what is left is cut and the exit code is 1;
 * 5. resources are released in reverse order of registration (a `cleanup` event each), exit 0.
 * A second SIGTERM/SIGINT exits at once (143/130).
 *
 * Node ≥ 19's `server.close()` also destroys every connection without a
 * request in progress, including one accepted a moment ago whose request is
 * still in the socket buffer: that request would be reset. So the listener is
 * closed with net.Server's own close, and idle connections are picked here.
 */
import { closeSync, openSync } from 'node:fs';
import { Server as NetServer } from 'node:net';
import { intFlag, makeKit } from './server-kit.js';

const lagMs = intFlag('lag', 500);
const graceMs = intFlag('grace', 5000);
/** A connection with no request for this long is idle and closed during the drain; checked every SWEEP_MS. */
const IDLE_MS = 100;
const SWEEP_MS = 20;
/**
 * A request whose head has begun (bytes read since the connection's last response) keeps it open while
 * bytes keep coming, until this long after the last one: a client that sends a byte and stops, or stray
 * bytes after a response, do not hold the drain to its grace (Node's own headersTimeout is 60 s).
 */
const BEGUN_MS = 1000;

const kit = makeKit();

const resources: { name: string; release: () => void }[] = [];
function register(name: string, release: () => void): void {
  resources.push({ name, release });
}
const logFd = openSync('/dev/null', 'a');
register('request-log', () => closeSync(logFd));
const queue = setInterval(() => {}, 1000);
register('job-queue', () => clearInterval(queue));
const flusher = setInterval(() => {}, 1000);
register('metrics-flusher', () => clearInterval(flusher));

function releaseAll(): void {
  for (let i = resources.length - 1; i >= 0; i--) {
    const { name, release } = resources[i] as (typeof resources)[number];
    release();
    kit.phase('cleanup', { step: resources.length - i, name });
  }
}

let graceTimer: NodeJS.Timeout | undefined;

function closeListener(): void {
  NetServer.prototype.close.call(kit.server, () => {
    clearTimeout(graceTimer);
    kit.phase('drained');
    releaseAll();
    process.exit(0);
  });
  kit.phase('listener-closed', { inFlight: kit.inFlight(), connections: kit.connections.size });
  let reported = false;
  const sweep = () => {
    let idle = 0;
    const now = performance.now();
    for (const [socket, state] of kit.connections) {
      // A connection with a request is answered with Connection: close, then closed by Node. One whose next
      // request has begun (bytes read since its last response, headers not complete yet) is not idle either.
      if (socket.bytesRead !== state.bytesSeen) {
        state.bytesSeen = socket.bytesRead;
        state.byteAt = now;
      }
      const begun = socket.bytesRead > state.bytesAtIdle && now - state.byteAt < BEGUN_MS;
      if (state.active > 0 || begun || now - state.idleSince < IDLE_MS || socket.writableEnded) continue;
      socket.end();
      idle += 1;
    }
    if (idle > 0 && !reported) {
      reported = true;
      kit.phase('idle-closed', { connections: idle });
    }
  };
  sweep();
  setInterval(sweep, SWEEP_MS).unref();
}

function graceOver(): void {
  kit.phase('grace-expired', { inFlight: kit.inFlight(), connections: kit.connections.size });
  for (const socket of kit.connections.keys()) socket.destroy();
  releaseAll();
  process.exit(1);
}

function onSignal(signal: NodeJS.Signals): void {
  if (kit.draining) {
    kit.phase('forced-exit', { signal });
    process.exit(signal === 'SIGINT' ? 130 : 143);
  }
  kit.signalAt = performance.now();
  kit.draining = true;
  kit.phase('draining', { signal, inFlight: kit.inFlight(), connections: kit.connections.size });
  // setImmediate after the timer: one more poll phase accepts what is already queued, then the close.
  setTimeout(() => setImmediate(closeListener), lagMs);
  graceTimer = setTimeout(graceOver, graceMs);
}

process.on('SIGTERM', onSignal);
process.on('SIGINT', onSignal);
kit.listen('correct', { lagMs, graceMs, resources: resources.map((r) => r.name) });
