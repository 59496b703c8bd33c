/**
 * log-reopen, broken: on SIGHUP (sent after logrotate renamed the file) the
 * child opens the log path again and writes to the new file, but never closes
 * the old one. Every rotation leaves one fd on a renamed, later deleted, file
 * that still pins its disk space; at the fd limit the reopen fails, the child
 * keeps logging into the rotated file, and later SIGHUPs still arrive (this
 * bug does not kill signal handling).
 */
import { emit, exitWhenParentGoes, RUNTIME, stayAlive } from '../../../children/child-io.js';
import { logLine, logPathFromArgv, openLog, reopenOrReport } from './log-file.js';

const path = logPathFromArgv(process.argv);
const held: number[] = [openLog(path)];
let seq = 0;

function reopen(): void {
  seq += 1;
  const fd = reopenOrReport(path, seq, (message) => logLine(held.at(-1) as number, `reload ${seq}: ${message}`));
  if (fd === undefined) return;
  // The bug: the previous fd is neither closed nor kept for anything; only the newest is written to.
  held.push(fd);
  logLine(fd, `reload ${seq}: reopened ${path}`);
  emit({ event: 'reload', seq, listeners: held.length });
}

function shutdown(): void {
  emit({ event: 'shutdown', closedFds: 0, removedListeners: 0, leakedFds: held.length });
  process.exit(0);
}

exitWhenParentGoes();
stayAlive();
process.on('SIGHUP', reopen);
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);
logLine(held[0] as number, 'started');
emit({ event: 'ready', pid: process.pid, scenario: 'log-reopen', pattern: 'broken', runtime: RUNTIME, listeners: held.length });
