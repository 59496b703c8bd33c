/**
 * The Worker of one runtime-teardown round: opens the round's files, reports,
 * and on the parent's word drops them.
 * - broken: raw fds from `fs.openSync`, dropped with async `fs.close(fd, cb)`:
 *   each close is a request queued to libuv's thread pool.
 * - correct: `FileHandle`s from `fs.promises.open`, and the worker awaits
 *   every `FileHandle.close()` before saying it is done.
 */
import { close, closeSync, openSync, promises } from 'node:fs';
import { type MessagePort, parentPort, workerData } from 'node:worker_threads';

const { role, file, handles } = workerData as { role: 'broken' | 'correct'; file: string; handles: number };
const port = parentPort as MessagePort;

const failure = (error: unknown) => ({ error: (error as NodeJS.ErrnoException).code ?? 'EIO', message: (error as Error).message });
const next = () => new Promise<unknown>((resolve) => port.once('message', resolve));

async function broken(): Promise<void> {
  const fds: number[] = [];
  try {
    for (let i = 0; i < handles; i++) fds.push(openSync(file, 'r'));
  } catch (error) {
    for (const fd of fds) closeSync(fd);
    port.postMessage(failure(error));
    return;
  }
  port.postMessage({ opened: fds.length });
  await next();
  // Fire and forget: the callbacks would run on this worker's loop, which is about to be stopped.
  for (const fd of fds) close(fd, () => {});
  port.postMessage({ queued: fds.length });
}

async function correct(): Promise<void> {
  const opened: promises.FileHandle[] = [];
  try {
    for (let i = 0; i < handles; i++) opened.push(await promises.open(file, 'r'));
  } catch (error) {
    await Promise.all(opened.map((h) => h.close()));
    port.postMessage(failure(error));
    return;
  }
  port.postMessage({ opened: opened.length });
  await next();
  const closing = Promise.all(opened.map((h) => h.close()));
  port.postMessage({ queued: opened.length });
  await closing;
  port.postMessage({ closed: opened.length });
}

void (role === 'broken' ? broken() : correct());
