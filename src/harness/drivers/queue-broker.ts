/**
 * queue-drain's broker: repro hands jobs to the workers over a unix socket and
 * keeps the ledger. A worker's connection says `take`, repro answers
 * `job ID WORK_MS`, the worker says `ack ID` once the job is done. The signal
 * is sent right after the seeded job is handed out, so a job is always in
 * flight when it lands (deterministic); the broker keeps answering after it,
 * so a worker that never stops taking shows it (jobs handed out after the signal).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EntryLedger } from '../../kinds/ledger/entries.js';
import type { LedgerExercise } from './ledger-run.js';

/** How long each job takes the worker, ms. */
export const JOB_WORK_MS = 20;

/** The signal comes right after one of jobs FIRST..FIRST+SPREAD-1 is handed out (seeded). */
const FIRST_SIGNAL_JOB = 6;
const SIGNAL_SPREAD = 8;

/** A seeded pick in [0, n): the same seed picks the same job. */
export function seededPick(seed: number, n: number): number {
  let x = (seed ^ 0x9e3779b9) >>> 0;
  x = Math.imul(x ^ (x >>> 16), 0x45d9f3b) >>> 0;
  x = Math.imul(x ^ (x >>> 16), 0x45d9f3b) >>> 0;
  return ((x ^ (x >>> 16)) >>> 0) % n;
}

export function queueExercise(seed: number): LedgerExercise {
  const dir = mkdtempSync(join(tmpdir(), 'repro-queue-'));
  const path = join(dir, 'broker.sock');
  const ledger = new EntryLedger();
  const signalAfter = FIRST_SIGNAL_JOB + seededPick(seed, SIGNAL_SPREAD);
  const sockets = new Set<Socket>();
  let nextId = 1;
  let signalNow: (() => void) | undefined;
  let closed = false;

  const onLine = (socket: Socket, line: string) => {
    const [verb, id] = line.trim().split(' ');
    if (verb === 'ack' && id !== undefined) ledger.acknowledge(id, performance.now());
    if (verb !== 'take' || closed) return;
    const job = String(nextId++);
    ledger.handOut(job, performance.now());
    socket.write(`job ${job} ${JOB_WORK_MS}\n`);
    if (Number(job) === signalAfter && signalNow) {
      const send = signalNow;
      signalNow = undefined;
      send();
    }
  };

  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.setEncoding('utf8');
    let pending = '';
    socket.on('data', (chunk: string) => {
      pending += chunk;
      for (let end = pending.indexOf('\n'); end >= 0; end = pending.indexOf('\n')) {
        onLine(socket, pending.slice(0, end));
        pending = pending.slice(end + 1);
      }
    });
    // A worker killed mid-write resets its connection: that is what the ledger shows, not an error of repro's.
    socket.on('error', () => {});
    socket.on('close', () => sockets.delete(socket));
  });
  const listening = new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(path, () => resolve());
  });

  return {
    unit: 'job',
    kept: 'acknowledged',
    args: ['--socket', path],
    signalAfter,
    listening,
    start(now) {
      signalNow = now;
    },
    markSignal(at) {
      ledger.markSignal(at);
    },
    async settle(ending) {
      // A worker's last acks may still be in repro's socket buffers when its exit is seen: read them first.
      for (let waitedMs = 0; sockets.size > 0 && waitedMs < 500; waitedMs += 10) await new Promise((resolve) => setTimeout(resolve, 10));
      closed = true;
      const cause = ending.how === 'killed-after-grace' ? 'handed out, never acknowledged: SIGKILLed after the grace period' : ending.signal ? `handed out, never acknowledged: the worker was killed by ${ending.signal}` : `handed out, never acknowledged: the worker exited with code ${ending.exitCode}`;
      return ledger.settle((_id, acknowledged) => (acknowledged ? 'kept' : { lost: cause }));
    },
    dispose() {
      closed = true;
      for (const s of sockets) s.destroy();
      server.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
