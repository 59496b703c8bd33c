/**
 * reload-under-load, Node: an HTTP/1.1 server on 127.0.0.1 that reloads on
 * SIGHUP, two ways (`--mode`):
 *
 * - `close-relisten` (broken): the reload closes the listening socket and
 *   listens again after `--gap-ms` (the configuration read in between);
 *   connections in the gap are refused;
 * - `keep` (correct): the listening socket stays; only the configuration is
 *   swapped.
 *
 * Prints the protocol's `ready` (with the port) and one `reload` event per
 * reload (`--no-ack`: none). Node cannot re-exec in place, so the re-exec
 * variant is Python's only. Exits on SIGTERM or when stdin ends.
 *
 * The listener is closed with net.Server's own close: http.Server's (Node
 * ≥ 19) would also destroy idle kept-alive connections, a second loss this
 * variant is not about; the old server keeps answering on the connections it
 * has, and a new one listens after the gap.
 */
import { fstatSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { type AddressInfo, Server as NetServer } from 'node:net';
import { RUNTIME } from '../../../children/child-io.js';

function flag(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i < 0 ? undefined : process.argv[i + 1];
}

const mode = flag('mode');
if (mode !== 'close-relisten' && mode !== 'keep') {
  process.stderr.write('--mode: give close-relisten or keep\n');
  process.exit(2);
}
const gapMs = Number(flag('gap-ms') ?? 50);
const ack = !process.argv.includes('--no-ack');
let port = Number(flag('port') ?? 0);
const config = { generation: 0 };

const emit = (event: Record<string, unknown>) => process.stdout.write(`${JSON.stringify(event)}\n`);

function answer(req: IncomingMessage, res: ServerResponse): void {
  req.resume();
  req.on('end', () => {
    const body = `ok ${config.generation}\n`;
    res.writeHead(200, { 'Content-Type': 'text/plain', 'Content-Length': Buffer.byteLength(body) });
    res.end(body);
  });
}

/** A new server on the port; the one before (close-relisten) keeps serving the connections it had. */
function listen(): Promise<Server> {
  const server = createServer({ keepAlive: true }, answer);
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ port, host: '127.0.0.1', backlog: 128 }, () => {
      server.off('error', reject);
      port = (server.address() as AddressInfo).port;
      resolve(server);
    });
  });
}

let current: Server | undefined;
let reloading = Promise.resolve();
async function reload(): Promise<void> {
  config.generation += 1;
  if (mode === 'close-relisten' && current) {
    // net.Server's close: the listening socket goes now (its callback would wait for every kept-alive connection).
    NetServer.prototype.close.call(current);
    await new Promise((r) => setTimeout(r, gapMs));
    current = await listen();
  }
  if (ack) emit({ event: 'reload', seq: config.generation, listeners: 1 });
}

process.on('SIGHUP', () => {
  reloading = reloading.then(reload);
});
process.on('SIGTERM', () => process.exit(0));

let linked = false;
try {
  const stat = fstatSync(0);
  linked = stat.isFIFO() || stat.isSocket();
} catch {
  // no stdin at all
}
if (linked) {
  process.stdin.on('end', () => process.exit(0));
  process.stdin.on('error', () => process.exit(0));
  process.stdin.resume();
}

current = await listen();
emit({ event: 'ready', pid: process.pid, scenario: 'reload-under-load', pattern: mode, runtime: RUNTIME, port });
