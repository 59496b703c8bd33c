/** What both Node log-reopen children share: the log path from argv and one line per event written to the log. */
import { openSync, writeSync } from 'node:fs';
import { emit } from '../../../children/child-io.js';

/** `--log PATH`, which the harness rotates (renames) before every SIGHUP. */
export function logPathFromArgv(argv: readonly string[]): string {
  const i = argv.indexOf('--log');
  const path = i >= 0 ? argv[i + 1] : undefined;
  if (!path) {
    process.stderr.write('missing --log PATH: the harness passes the log file to reopen on SIGHUP\n');
    process.exit(2);
  }
  return path;
}

/** Opens the log for appending, as a logger does (O_APPEND | O_CREAT). */
export function openLog(path: string): number {
  return openSync(path, 'a', 0o644);
}

/** One line to the log: a rotated file that is still held keeps growing, which is what pins disk space. */
export function logLine(fd: number, text: string): void {
  writeSync(fd, `${new Date().toISOString()} ${text}\n`);
}

/** errno name and message of a failed open, for `register-failed`. */
export function openFailure(error: unknown): { code: string; message: string } | undefined {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (typeof code !== 'string') return undefined;
  return { code, message: `cannot reopen log: ${code} (${code === 'EMFILE' ? 'Too many open files' : (error as Error).message})` };
}

/**
 * Opens the log again for reload `seq`; when that fails (EMFILE), reports
 * `register-failed` (after `onFailure`, e.g. logging it to the old file) and
 * returns undefined. Any other error is a bug and is thrown.
 */
export function reopenOrReport(path: string, seq: number, onFailure?: (message: string) => void): number | undefined {
  try {
    return openLog(path);
  } catch (error) {
    const failure = openFailure(error);
    if (!failure) throw error;
    onFailure?.(failure.message);
    emit({ event: 'register-failed', seq, ...failure });
    return undefined;
  }
}
