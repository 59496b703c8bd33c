/**
 * What every graceful-drain Node child shares: an HTTP server on 127.0.0.1
 * (ephemeral port, reported in `ready`), keep-alive on, and the endpoints:
 *
 * - `/work?ms=N` (any method; a POST body is read first): answers 200 after N ms;
 * - `/stream?ms=N&chunks=K`: the head at once, then K chunks over N ms, with a
 *   Content-Length, so a cut stream shows as a truncated body;
 * - `/ready`: 200, or 503 once the child is draining.
 *
 * Each variant decides what SIGTERM does. Phase events (`draining`,
 * `listener-closed`, `drained`, `cleanup`) carry `sinceSignalMs`, measured by
 * the child from its own signal handler. Every child exits when stdin ends.
 */
import { fstatSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { RUNTIME } from '../../../children/child-io.js';

/**
 * Exits when stdin reaches end of file (the harness is gone). A parent that is
 * Node (execa, child_process) gives a socketpair, not a FIFO, so both count;
 * a terminal or /dev/null does not.
 */
export function exitWhenStdinEnds(): void {
  let linked = false;
  try {
    const stat = fstatSync(0);
    linked = stat.isFIFO() || stat.isSocket();
  } catch {
    // no stdin at all
  }
  if (!linked) return;
  process.stdin.on('end', () => process.exit(0));
  process.stdin.on('error', () => process.exit(0));
  process.stdin.resume();
}

/** `--name N` from argv as a non-negative integer, or `fallback`. */
export function intFlag(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) return fallback;
  const value = Number(process.argv[i + 1]);
  if (!Number.isInteger(value) || value < 0) {
    process.stderr.write(`--${name} ${String(process.argv[i + 1])}: give a whole number of milliseconds (e.g. --${name} 500)\n`);
    process.exit(2);
  }
  return value;
}

/** Writes one protocol line (ready, phase events) in one write. */
export function emit(event: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify(event)}\n`);
}

/** Per-connection state the drain logic needs. */
export interface ConnState {
  /** Requests being answered on it now (pipelined ones are handed over before the one ahead of them is answered). */
  active: number;
  /** Responses it has carried. */
  served: number;
  /** performance.now() since when it has had no request: accepted, or its last response finished. */
  idleSince: number;
  /** socket.bytesRead when it last went idle: more bytes since mean a request has begun, parsed or not. */
  bytesAtIdle: number;
  /** socket.bytesRead as the drain's sweep last saw it, and performance.now() when that changed. */
  bytesSeen: number;
  byteAt: number;
}

export interface Kit {
  server: Server;
  /** Every open connection and its state. */
  connections: Map<Socket, ConnState>;
  /** Set by the variant: /ready answers 503, responses carry `Connection: close`. */
  draining: boolean;
  /** Set by the variant: the request handler stops answering (keeps-accepting parks connections instead). */
  park: boolean;
  /** performance.now() at the signal (for `sinceSignalMs`). */
  signalAt: number | undefined;
  /** ms since the signal, rounded to 0.1. */
  sinceSignal(): number;
  /** Emits a phase event stamped with `sinceSignalMs`. */
  phase(event: string, fields?: Record<string, unknown>): void;
  /** Starts listening on 127.0.0.1:0 and emits `ready` with the port. */
  listen(pattern: string, extra?: Record<string, unknown>): void;
  /** Requests being answered now. */
  inFlight(): number;
}

const BODY = Buffer.alloc(512, 'x');
const CHUNK_BYTES = 256;

export function makeKit(): Kit {
  const connections = new Map<Socket, ConnState>();
  const kit: Kit = {
    server: undefined as unknown as Server,
    connections,
    draining: false,
    park: false,
    signalAt: undefined,
    sinceSignal: () => (kit.signalAt === undefined ? 0 : Math.round((performance.now() - kit.signalAt) * 10) / 10),
    phase: (event, fields = {}) => emit({ event, sinceSignalMs: kit.sinceSignal(), ...fields }),
    listen(pattern, extra = {}) {
      kit.server.listen(0, '127.0.0.1', () => {
        const { port } = kit.server.address() as AddressInfo;
        emit({ event: 'ready', pid: process.pid, scenario: 'graceful-drain', pattern, runtime: RUNTIME, port, ...extra });
      });
    },
    inFlight: () => {
      let n = 0;
      for (const state of connections.values()) n += state.active;
      return n;
    },
  };

  const handle = (req: IncomingMessage, res: ServerResponse) => {
    const socket = req.socket;
    const state = connections.get(socket);
    if (kit.park) {
      // Accepted, never answered: what a connection waiting in the kernel's backlog gets from a server that stopped accepting.
      socket.pause();
      return;
    }
    if (state) state.active += 1;
    res.on('close', () => {
      if (!state) return;
      state.active -= 1;
      state.served += 1;
      if (state.active > 0) return;
      state.idleSince = performance.now();
      state.bytesAtIdle = socket.bytesRead;
    });
    if (kit.draining) res.setHeader('Connection', 'close');
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const ms = Math.min(Number(url.searchParams.get('ms') ?? 0) || 0, 60_000);
    if (url.pathname === '/ready') {
      const body = kit.draining ? 'draining\n' : 'ready\n';
      res.writeHead(kit.draining ? 503 : 200, { 'Content-Type': 'text/plain', 'Content-Length': body.length });
      res.end(body);
      return;
    }
    if (url.pathname === '/stream') {
      const chunks = Math.max(1, Math.min(Number(url.searchParams.get('chunks') ?? 8) || 8, 1000));
      res.writeHead(200, { 'Content-Type': 'application/octet-stream', 'Content-Length': chunks * CHUNK_BYTES });
      let sent = 0;
      const tick = () => {
        res.write(BODY.subarray(0, CHUNK_BYTES));
        sent += 1;
        if (sent >= chunks) res.end();
        else setTimeout(tick, ms / chunks);
      };
      tick();
      return;
    }
    if (url.pathname === '/work') {
      req.resume();
      req.on('end', () => {
        setTimeout(() => {
          res.writeHead(req.method === 'POST' ? 201 : 200, { 'Content-Type': 'application/octet-stream', 'Content-Length': BODY.length });
          res.end(BODY);
        }, ms);
      });
      return;
    }
    res.writeHead(404, { 'Content-Length': 0 });
    res.end();
  };

  const server = createServer({ keepAlive: true }, handle);
  // No keep-alive timeout: an idle client keeps its connection until one side closes it (as pools and load balancers do).
  server.keepAliveTimeout = 0;
  server.on('connection', (socket: Socket) => {
    connections.set(socket, { active: 0, served: 0, idleSince: performance.now(), bytesAtIdle: 0, bytesSeen: 0, byteAt: 0 });
    socket.on('close', () => connections.delete(socket));
    if (kit.park) socket.pause();
  });
  kit.server = server;
  exitWhenStdinEnds();
  return kit;
}
