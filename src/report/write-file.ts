/** Writes a report file atomically (temp file in the same directory, then rename); `-` means stdout. */
import { closeSync, fsyncSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { EnvironmentError } from '../cli/errors.js';

export function writeOutput(path: string, text: string, flag: string): void {
  if (path === '-') {
    process.stdout.write(text);
    return;
  }
  const temp = join(dirname(path), `.${basename(path)}.${process.pid}.tmp`);
  try {
    const fd = openSync(temp, 'w');
    try {
      writeSync(fd, text);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(temp, path);
  } catch (error) {
    rmSync(temp, { force: true });
    const code = (error as NodeJS.ErrnoException).code ?? 'error';
    const why = code === 'ENOENT' ? 'its directory does not exist' : code === 'EACCES' || code === 'EROFS' ? 'its directory is not writable' : code;
    throw new EnvironmentError(`${flag} ${path}: cannot write (${why}); pick a path in an existing, writable directory`, { cause: error });
  }
}
