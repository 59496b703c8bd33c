/**
 * Writes one report output to what its path names (output-target.ts).
 *
 * A regular file (a symlink is followed to it) or a new path is replaced
 * atomically: readers see the old file or the complete new one, never a
 * partial one. On Linux the data is written to an unnamed O_TMPFILE in the
 * target's directory, every byte of it (writeSync is looped until done), given
 * the old file's mode, fsynced, linked to a temp name and renamed over the
 * target. Any error on the way (ENOSPC, EIO, EDQUOT, a failing close) leaves
 * the old file untouched and no temp file. A temp name left by a writer killed
 * between link and rename is swept by the next write. Elsewhere: a named temp
 * file, then rename.
 *
 * Character devices, FIFOs, sockets and fds repro holds are written straight
 * through and never replaced: `/dev/null` discards, `/dev/full` fails with
 * ENOSPC, a FIFO's reader gets the bytes and EOF. A FIFO nobody reads is
 * refused at once (exit 3) instead of blocking. `-` means stdout.
 */
import {
  accessSync,
  closeSync,
  constants as fsConstants,
  fchmodSync,
  fchownSync,
  fsyncSync,
  openSync,
  readdirSync,
  renameSync,
  rmSync,
  type Stats,
  writeSync,
} from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { EnvironmentError } from '../errors.js';
import { linkFd } from '../native/libc.js';
import { processExists } from '../util/process-exists.js';
import { resolveOutput, type OutputTarget } from './output-target.js';

const O_TMPFILE = 0o20200000;
const NO_TMPFILE = new Set(['EOPNOTSUPP', 'ENOTSUP', 'EISDIR', 'EINVAL']);

function code(error: unknown): string | undefined {
  return (error as NodeJS.ErrnoException | undefined)?.code;
}

/** `ENOSPC: no space left on device` from a Node or native error. */
function errnoText(error: unknown): string {
  const c = code(error);
  if (!c) return error instanceof Error ? error.message : String(error);
  const reason = (error as { reason?: unknown }).reason;
  if (typeof reason === 'string') return `${c}: ${reason}`;
  const m = new RegExp(`^${c}: ([^,]+)`).exec((error as Error).message);
  return m ? `${c}: ${m[1]}` : c;
}

function tempName(path: string): string {
  return join(dirname(path), `.${basename(path)}.${process.pid}.tmp`);
}

/** Removes `.NAME.PID.tmp` files of writers that are no longer running. */
export function sweepStaleTemps(path: string): void {
  const prefix = `.${basename(path)}.`;
  let names: string[];
  try {
    names = readdirSync(dirname(path));
  } catch {
    return;
  }
  for (const name of names) {
    if (!name.startsWith(prefix) || !name.endsWith('.tmp')) continue;
    const pid = Number(name.slice(prefix.length, -'.tmp'.length));
    if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && !processExists(pid)) rmSync(join(dirname(path), name), { force: true });
  }
}

/** writeSync until every byte is written (it may write fewer than asked); throws on any error. */
function writeAllSync(fd: number, data: Uint8Array): void {
  for (let offset = 0; offset < data.length; ) {
    const n = writeSync(fd, data, offset, data.length - offset);
    if (n <= 0) throw Object.assign(new Error('EIO: write wrote nothing'), { code: 'EIO' });
    offset += n;
  }
}

/** The complete, durable content of the new file, with the old file's mode (and owner, where this process may set it). */
function fill(fd: number, data: Uint8Array, existing: Stats | undefined): void {
  writeAllSync(fd, data);
  if (existing) {
    if (process.getuid?.() === 0 && (existing.uid !== process.getuid() || existing.gid !== process.getgid?.())) fchownSync(fd, existing.uid, existing.gid);
    fchmodSync(fd, existing.mode & 0o7777);
  }
  fsyncSync(fd);
}

function closeQuietly(fd: number): void {
  try {
    closeSync(fd);
  } catch {
    // already failing
  }
}

function writeViaUnnamedFile(path: string, data: Uint8Array, existing: Stats | undefined): boolean {
  let fd: number;
  try {
    fd = openSync(dirname(path), O_TMPFILE | fsConstants.O_WRONLY, 0o644);
  } catch (error) {
    // No O_TMPFILE here (old kernel, filesystem without it): use a named temp file.
    if (NO_TMPFILE.has(code(error) ?? '')) return false;
    throw error;
  }
  const temp = tempName(path);
  let linked = false;
  try {
    try {
      fill(fd, data, existing);
      rmSync(temp, { force: true });
      linkFd(fd, temp);
      linked = true;
    } catch (error) {
      // Unlinked, the unnamed file vanishes with its fd: nothing is left behind.
      closeQuietly(fd);
      throw error;
    }
    closeSync(fd);
    renameSync(temp, path);
  } catch (error) {
    if (linked) rmSync(temp, { force: true });
    throw error;
  }
  return true;
}

function writeViaNamedTemp(path: string, data: Uint8Array, existing: Stats | undefined): void {
  const temp = tempName(path);
  try {
    const fd = openSync(temp, 'w', 0o644);
    try {
      fill(fd, data, existing);
    } catch (error) {
      closeQuietly(fd);
      throw error;
    }
    closeSync(fd);
    renameSync(temp, path);
  } catch (error) {
    rmSync(temp, { force: true });
    throw error;
  }
}

/** Replaces a regular file (or creates a new one) atomically; see the module comment. */
export function replaceFileAtomically(path: string, data: Uint8Array, existing?: Stats): void {
  sweepStaleTemps(path);
  if (process.platform !== 'linux' || !writeViaUnnamedFile(path, data, existing)) writeViaNamedTemp(path, data, existing);
}

/** Writes to an fd that is not ours to close, waiting (without blocking Ctrl-C) while a non-blocking pipe is full. */
async function writeThrough(fd: number, data: Uint8Array): Promise<void> {
  let waitMs = 1;
  for (let offset = 0; offset < data.length; ) {
    let n: number;
    try {
      n = writeSync(fd, data, offset, data.length - offset);
    } catch (error) {
      if (code(error) !== 'EAGAIN') throw error;
      await sleep(waitMs);
      waitMs = Math.min(50, waitMs * 2);
      continue;
    }
    if (n <= 0) throw Object.assign(new Error('EIO: write wrote nothing'), { code: 'EIO' });
    offset += n;
    waitMs = 1;
  }
}

/** A character device or FIFO: opened without blocking (a FIFO with no reader fails with ENXIO instead of hanging), written, closed (the reader's EOF). */
async function writeDevice(path: string, data: Uint8Array): Promise<void> {
  const fd = openSync(path, fsConstants.O_WRONLY | fsConstants.O_NONBLOCK | fsConstants.O_NOCTTY);
  try {
    await writeThrough(fd, data);
  } catch (error) {
    closeQuietly(fd);
    throw error;
  }
  closeSync(fd);
}

async function writeSocket(path: string, data: Uint8Array): Promise<void> {
  const { createConnection } = await import('node:net');
  await new Promise<void>((resolve, reject) => {
    const socket = createConnection({ path });
    socket.once('error', reject);
    socket.once('connect', () =>
      socket.end(data, () => {
        socket.destroy();
        resolve();
      }),
    );
  });
}

function failure(flag: string, path: string, target: OutputTarget, error: unknown): EnvironmentError {
  const c = code(error);
  let why = errnoText(error);
  let after: string;
  if (target.kind === 'file') {
    if (c === 'ENOENT') why = 'its directory does not exist';
    else if (c === 'EACCES' || c === 'EROFS' || c === 'EPERM') why = `its directory is not writable, ${why}`;
    after = target.existing ? 'the old file is left as it was' : 'nothing was written';
  } else if (target.kind === 'device' && target.what === 'FIFO' && c === 'ENXIO') {
    why = 'no process has the FIFO open for reading';
    after = 'start its reader first, e.g. cat FIFO &';
  } else {
    const what = target.kind === 'device' ? `a ${target.what}` : target.kind === 'socket' ? 'a socket' : `an fd repro was given (${target.kind === 'fd' ? target.fd : 1})`;
    after = `nothing was replaced (${what} is written straight through)`;
  }
  return new EnvironmentError(`${flag} ${path}: cannot write (${why}); ${after}`, { cause: error });
}

/** Before a run: can this target be written? Tried for real where that leaves nothing behind (permissions alone mislead root). */
export function checkTarget(target: OutputTarget, path: string, flag: string): void {
  try {
    if (target.kind === 'file') canCreateIn(dirname(target.path), target.path);
    // Never opened before the run: opening a FIFO and closing it would give its reader an early EOF.
    else if (target.kind === 'device' || target.kind === 'socket') accessSync(target.path, fsConstants.W_OK);
  } catch (error) {
    const c = code(error);
    const why = c === 'ENOENT' ? 'its directory does not exist' : c === 'EACCES' || c === 'EROFS' || c === 'EPERM' ? 'its directory is not writable' : errnoText(error);
    if (target.kind === 'file') throw new EnvironmentError(`${flag} ${path}: cannot write (${why}); pick a path in an existing, writable directory`, { cause: error });
    throw new EnvironmentError(`${flag} ${path}: cannot write (${errnoText(error)}); give a path repro may write to`, { cause: error });
  }
}

/** Can this process create a file in `dir`? An unnamed O_TMPFILE, else a temp name removed at once. */
function canCreateIn(dir: string, path: string): void {
  try {
    closeSync(openSync(dir, O_TMPFILE | fsConstants.O_WRONLY, 0o600));
    return;
  } catch (error) {
    if (!NO_TMPFILE.has(code(error) ?? '')) throw error;
  }
  const probe = tempName(path);
  closeSync(openSync(probe, 'w', 0o600));
  rmSync(probe, { force: true });
}

/** Fails early, before a long run, when `path` cannot be written (see resolveOutput and checkTarget). */
export function checkOutputPath(path: string, flag: string): OutputTarget {
  const target = resolveOutput(path, flag);
  checkTarget(target, path, flag);
  return target;
}

/**
 * Appends `text` to `path` (the GitHub job summary), resolved as an output is:
 * a link planted in a sticky directory is not followed, a FIFO with no reader
 * fails at once (ENXIO) instead of blocking until Ctrl-C, a device or socket is
 * written straight through, a regular file is appended to (created if new).
 */
export async function appendOutput(path: string, text: string, flag: string): Promise<void> {
  const target = resolveOutput(path, flag);
  if (target.kind !== 'file') {
    await writeOutput(path, text, flag, target);
    return;
  }
  try {
    // The links were followed above; O_NOFOLLOW refuses one planted since.
    const fd = openSync(target.path, fsConstants.O_WRONLY | fsConstants.O_APPEND | fsConstants.O_CREAT | fsConstants.O_NOFOLLOW | fsConstants.O_NONBLOCK, 0o644);
    try {
      await writeThrough(fd, Buffer.from(text));
    } catch (error) {
      closeQuietly(fd);
      throw error;
    }
    closeSync(fd);
  } catch (error) {
    throw failure(flag, path, target, error);
  }
}

/**
 * Writes `text` to `path` (`-` is stdout). Throws an EnvironmentError (exit 3)
 * whose one line names the flag, the path and the errno.
 */
export async function writeOutput(path: string, text: string, flag: string, target: OutputTarget = resolveOutput(path, flag)): Promise<void> {
  if (target.kind === 'stdout') {
    process.stdout.write(text);
    return;
  }
  if (target.kind === 'fd' && target.fd === 2) {
    process.stderr.write(text);
    return;
  }
  const data = Buffer.from(text);
  try {
    switch (target.kind) {
      case 'file':
        replaceFileAtomically(target.path, data, target.existing);
        return;
      case 'fd':
        await writeThrough(target.fd, data);
        return;
      case 'device':
        await writeDevice(target.path, data);
        return;
      case 'socket':
        await writeSocket(target.path, data);
        return;
    }
  } catch (error) {
    throw failure(flag, path, target, error);
  }
}
