/**
 * state-on-shutdown's service: counts increments sent by repro's clients over
 * a unix socket, acknowledges each (`inc ID` → `ok ID`), and keeps its state
 * (the total and every increment applied) in memory until the shutdown.
 *
 *     service.js ROLE --socket PATH --state FILE
 *
 * ROLE is how SIGTERM is met:
 * - no-persistence: no handler; the default action ends it and nothing is written;
 * - racy-snapshot: snapshots the state, then writes it in a write that takes
 *   WRITE_MS (and until one increment was acknowledged after the snapshot)
 *   while the socket stays open and increments are still
 *   acknowledged: those are in no file, and it exits 0;
 * - correct: closes the gate first (no increment is acknowledged after the
 *   snapshot: one that arrives is left unanswered), then writes FILE.tmp,
 *   fsyncs it and renames it over FILE, exit 0. Node runs JavaScript on one
 *   thread, so the handler closing the gate is the lock the state needs.
 */
import { closeSync, fsyncSync, openSync, renameSync, writeSync } from 'node:fs';
import { createServer, type Socket } from 'node:net';
import { emit, exitWhenParentGoes } from '../../../children/child-io.js';

/** How long the racy role's write takes after its snapshot (a slow disk, a remote store). */
const WRITE_MS = 50;
/**
 * The racy write also lasts until one increment was acknowledged after its
 * snapshot, up to this long: on a starved machine no client may get to send
 * in WRITE_MS, and a race nobody crossed shows nothing. Well under the
 * harness's default grace (2 s), after which it would be SIGKILLed.
 */
const WRITE_UNTIL_CROSSED_MS = 1000;

const role = process.argv[2] ?? 'correct';
const flag = (name: string): string => {
  const i = process.argv.indexOf(`--${name}`);
  const value = i >= 0 ? process.argv[i + 1] : undefined;
  if (value === undefined) {
    process.stderr.write(`service: --${name} is required\n`);
    process.exit(2);
  }
  return value;
};
const socketPath = flag('socket');
const statePath = flag('state');

const applied: string[] = [];
let open = true;
const sockets = new Set<Socket>();

function persist(snapshot: readonly string[]): void {
  const tmp = `${statePath}.tmp`;
  const fd = openSync(tmp, 'w');
  writeSync(fd, JSON.stringify({ total: snapshot.length, applied: snapshot }));
  fsyncSync(fd);
  closeSync(fd);
  renameSync(tmp, statePath);
}

const server = createServer((socket) => {
  sockets.add(socket);
  socket.setEncoding('utf8');
  let pending = '';
  socket.on('data', (chunk: string) => {
    pending += chunk;
    for (let end = pending.indexOf('\n'); end >= 0; end = pending.indexOf('\n')) {
      const [verb, id] = pending.slice(0, end).split(' ');
      pending = pending.slice(end + 1);
      if (verb !== 'inc' || id === undefined || !open) continue;
      applied.push(id);
      socket.write(`ok ${id}\n`);
    }
  });
  socket.on('error', () => {});
  socket.on('close', () => sockets.delete(socket));
});

if (role === 'racy-snapshot') {
  process.once('SIGTERM', () => {
    const snapshot = [...applied];
    // The write takes its time while the socket stays open: increments acknowledged now are in no snapshot.
    const startedAt = performance.now();
    const write = () => {
      const waitedMs = performance.now() - startedAt;
      if (applied.length === snapshot.length && waitedMs < WRITE_UNTIL_CROSSED_MS) {
        setTimeout(write, 5);
        return;
      }
      persist(snapshot);
      process.exit(0);
    };
    setTimeout(write, WRITE_MS);
  });
} else if (role === 'correct') {
  process.once('SIGTERM', () => {
    open = false;
    persist(applied);
    for (const s of sockets) s.destroy();
    process.exit(0);
  });
}

server.listen(socketPath, () => {
  emit({ event: 'ready', pid: process.pid, scenario: 'state-on-shutdown', pattern: role, runtime: 'node' });
});
exitWhenParentGoes();
