/**
 * runtime-teardown, Node: `child.js broken|correct [--handles N]`. Each SIGHUP
 * is one round: a `worker_threads` Worker (the runtime, with its own event
 * loop) opens N files (this script, read-only) and drops them; then the
 * Worker is terminated.
 * - broken: the Worker calls async `fs.close(fd, cb)` on each fd and is
 *   terminated while those closes are in flight. Node's teardown of a Worker
 *   cancels the requests still waiting in libuv's thread-pool queue
 *   (`uv_cancel` in Environment::CleanupHandles); the fd was already taken off
 *   the Worker's list of fds to close on exit (`trackUnmanagedFds`) when
 *   `fs.close` was called, so nothing closes it: it stays open in the process.
 * - correct: the Worker awaits `FileHandle.close()` for every file before it
 *   is terminated.
 *
 * A close is only cancelled while it waits for a pool thread. With an idle
 * pool the four threads take the closes within microseconds and the leak
 * depends on timing (measured: 0 in most rounds, then a whole round's worth).
 * A service's pool is rarely idle (disk reads, DNS, crypto), so each round
 * keeps the pool busy the same way: one blocking read per pool thread on a
 * FIFO only this process writes, issued before the closes and released only
 * after the Worker is gone (broken) or before the closes are awaited
 * (correct). With that, the closes are in flight at termination in every
 * round, and the leak is exactly N per round.
 *
 * Speaks repro's protocol plus phase markers; a marker with `hold` stops the
 * process (SIGSTOP, every thread) right after the line is written, and the
 * harness resumes it with SIGCONT once it has read /proc.
 */
import { execFileSync } from 'node:child_process';
import { constants, mkdtempSync, openSync, read, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { emit, exitWhenParentGoes, RUNTIME, stayAlive } from '../../../children/child-io.js';

const role = process.argv[2];
if (role !== 'broken' && role !== 'correct') {
  process.stderr.write('usage: child.js broken|correct [--handles N]\n');
  process.exit(2);
}
const flag = process.argv.indexOf('--handles');
const handles = flag > 0 ? Number(process.argv[flag + 1]) : 8;
if (!Number.isInteger(handles) || handles < 1) {
  process.stderr.write(`--handles ${process.argv[flag + 1]} is not a positive integer\n`);
  process.exit(2);
}
const FILE = fileURLToPath(import.meta.url);
const WORKER = new URL('./worker.js', import.meta.url);
const POOL_THREADS = Number(process.env.UV_THREADPOOL_SIZE) || 4;

/** A FIFO this process holds both ends of (O_RDWR): reads on it block a pool thread until we write. */
function poolFifo(): number {
  const dir = mkdtempSync(join(tmpdir(), 'repro-teardown-'));
  try {
    execFileSync('mkfifo', [join(dir, 'pool')]);
    return openSync(join(dir, 'pool'), constants.O_RDWR);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
const fifo = poolFifo();

/** Takes every pool thread with a blocking read; resolves once `releasePool()` let them all finish. */
function occupyPool(): Promise<void> {
  let done = 0;
  return new Promise((resolve) => {
    for (let i = 0; i < POOL_THREADS; i++) {
      read(fifo, Buffer.alloc(1), 0, 1, null, () => {
        if (++done === POOL_THREADS) resolve();
      });
    }
  });
}
const releasePool = () => writeSync(fifo, Buffer.alloc(POOL_THREADS));

function line(event: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify(event)}\n`);
}

let seq = 0;

/** A phase marker: write it, then stop until the harness has looked (SIGCONT). */
function phase(name: string): void {
  line({ event: 'phase', round: seq, name, handles, hold: true });
  process.kill(process.pid, 'SIGSTOP');
}

type Reply = { opened?: number; queued?: number; closed?: number; error?: string; message?: string };

/** The worker's next message; its error or exit is a failed reply. */
function reply(worker: Worker): Promise<Reply> {
  return new Promise((resolve) => {
    const off = () => {
      worker.off('message', onMessage);
      worker.off('error', onError);
      worker.off('exit', onExit);
    };
    const onMessage = (m: Reply) => (off(), resolve(m));
    const onError = (e: NodeJS.ErrnoException) => (off(), resolve({ error: /\bE[A-Z]+\b/.exec(e.message)?.[0] ?? e.code ?? 'EIO', message: e.message }));
    const onExit = (code: number) => (off(), resolve({ error: 'EIO', message: `worker exited with code ${code}` }));
    worker.on('message', onMessage);
    worker.on('error', onError);
    worker.on('exit', onExit);
  });
}

async function round(): Promise<void> {
  seq += 1;
  let worker: Worker;
  try {
    worker = new Worker(WORKER, { workerData: { role, file: FILE, handles } });
  } catch (error) {
    return failed({ error: (error as NodeJS.ErrnoException).code ?? 'EIO', message: (error as Error).message });
  }
  const opened = await reply(worker);
  if (opened.error) {
    await worker.terminate();
    return failed(opened);
  }
  phase('runtime-started');
  const pool = occupyPool();
  worker.postMessage('close');
  await reply(worker);
  phase('closes-queued');
  if (role === 'broken') {
    await worker.terminate();
    phase('runtime-stopped');
    releasePool();
    await pool;
  } else {
    const closed = reply(worker);
    releasePool();
    await pool;
    await closed;
    phase('closes-done');
    await worker.terminate();
    phase('runtime-stopped');
  }
  emit({ event: 'reload', seq, listeners: 1 });
}

function failed(reply: Reply): void {
  const code = reply.error ?? 'EIO';
  emit({ event: 'register-failed', seq, code, message: `cannot start the round's runtime: ${code} (${reply.message ?? ''})` });
}

let rounds: Promise<void> = Promise.resolve();
process.on('SIGHUP', () => {
  rounds = rounds.then(round);
});
const shutdown = () => {
  emit({ event: 'shutdown', closedFds: 0, removedListeners: 1 });
  process.exit(0);
};
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);
exitWhenParentGoes();
stayAlive();
emit({ event: 'ready', pid: process.pid, scenario: 'runtime-teardown', pattern: role, runtime: `${RUNTIME} (worker_threads, UV_THREADPOOL_SIZE ${POOL_THREADS})`, listeners: 1 });
