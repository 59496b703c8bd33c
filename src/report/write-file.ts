/**
 * Writes a report file atomically; `-` means stdout. Readers see the old file
 * or the complete new one, never a partial one. On Linux the data is written
 * to an unnamed O_TMPFILE, so even a SIGKILL mid-write leaves no partial file
 * behind; it is linked to a temp name and renamed over the target only once
 * complete. A temp name left by a writer killed in that last step is swept by
 * the next write. Elsewhere: a named temp file, then rename.
 */
import { closeSync, constants as fsConstants, fsyncSync, openSync, readdirSync, renameSync, rmSync, statSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { EnvironmentError } from '../errors.js';
import { linkFd } from '../native/libc.js';
import { processExists } from '../util/process-exists.js';

const O_TMPFILE = 0o20200000;

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

function writeAll(fd: number, text: string): void {
  writeSync(fd, text);
  fsyncSync(fd);
}

function writeViaUnnamedFile(path: string, text: string): boolean {
  let fd: number;
  try {
    fd = openSync(dirname(path), O_TMPFILE | fsConstants.O_WRONLY, 0o644);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    // No O_TMPFILE here (old kernel, filesystem without it, not Linux): use a named temp file.
    if (code === 'EOPNOTSUPP' || code === 'EISDIR' || code === 'EINVAL' || code === 'ENOTSUP') return false;
    throw error;
  }
  const temp = tempName(path);
  try {
    writeAll(fd, text);
    rmSync(temp, { force: true });
    linkFd(fd, temp);
  } finally {
    closeSync(fd);
  }
  renameSync(temp, path);
  return true;
}

function writeViaNamedTemp(path: string, text: string): void {
  const temp = tempName(path);
  try {
    const fd = openSync(temp, 'w', 0o644);
    try {
      writeAll(fd, text);
    } finally {
      closeSync(fd);
    }
    renameSync(temp, path);
  } catch (error) {
    rmSync(temp, { force: true });
    throw error;
  }
}

/** Can this process create a file in `dir`? Tried for real (permissions alone mislead root): an unnamed O_TMPFILE, else a temp name removed at once. */
function canCreateIn(dir: string, path: string): void {
  try {
    closeSync(openSync(dir, O_TMPFILE | fsConstants.O_WRONLY, 0o600));
    return;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== 'EOPNOTSUPP' && code !== 'ENOTSUP' && code !== 'EISDIR' && code !== 'EINVAL') throw error;
  }
  const probe = tempName(path);
  closeSync(openSync(probe, 'w', 0o600));
  rmSync(probe, { force: true });
}

/** Fails early, before a long run, when `path` cannot be written: missing or unwritable directory, or a directory. */
export function checkOutputPath(path: string, flag: string): void {
  if (path === '-') return;
  let problem: string | undefined;
  try {
    if (statSync(path, { throwIfNoEntry: false })?.isDirectory()) problem = 'it is a directory';
    else if (!statSync(dirname(path)).isDirectory()) problem = 'its directory is not a directory';
    else canCreateIn(dirname(path), path);
  } catch (error) {
    problem = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'its directory does not exist' : 'its directory is not writable';
  }
  if (problem) throw new EnvironmentError(`${flag} ${path}: cannot write (${problem}); pick a path in an existing, writable directory`);
}

export function writeOutput(path: string, text: string, flag: string): void {
  if (path === '-') {
    process.stdout.write(text);
    return;
  }
  try {
    sweepStaleTemps(path);
    if (process.platform !== 'linux' || !writeViaUnnamedFile(path, text)) writeViaNamedTemp(path, text);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'error';
    const why =
      code === 'ENOENT' ? 'its directory does not exist' : code === 'EACCES' || code === 'EROFS' || code === 'EPERM' ? 'its directory is not writable' : code === 'EISDIR' ? 'it is a directory' : code;
    throw new EnvironmentError(`${flag} ${path}: cannot write (${why}); pick a path in an existing, writable directory`, { cause: error });
  }
}
