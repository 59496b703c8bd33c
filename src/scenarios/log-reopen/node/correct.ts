/**
 * log-reopen, correct: on SIGHUP open the log path again, swap it in, then
 * close the old fd. One log fd for the life of the process, whatever the
 * number of rotations.
 */
import { closeSync } from 'node:fs';
import { emit, exitWhenParentGoes, RUNTIME, stayAlive } from '../../../children/child-io.js';
import { logLine, logPathFromArgv, openLog, reopenOrReport } from './log-file.js';

const path = logPathFromArgv(process.argv);
let current = openLog(path);
let seq = 0;

function reopen(): void {
  seq += 1;
  const next = reopenOrReport(path, seq);
  if (next === undefined) return;
  const old = current;
  current = next;
  closeSync(old);
  logLine(current, `reload ${seq}: reopened ${path}`);
  emit({ event: 'reload', seq, listeners: 1 });
}

function shutdown(): void {
  closeSync(current);
  emit({ event: 'shutdown', closedFds: 1, removedListeners: 0, leakedFds: 0 });
  process.exit(0);
}

exitWhenParentGoes();
stayAlive();
process.on('SIGHUP', reopen);
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);
logLine(current, 'started');
emit({ event: 'ready', pid: process.pid, scenario: 'log-reopen', pattern: 'correct', runtime: RUNTIME, listeners: 1 });
