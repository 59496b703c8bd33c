/**
 * log-reopen: SIGHUP means "reopen the log after rotation". Between reloads
 * the harness rotates the log as logrotate does (rename, then signal). The
 * broken child opens the new file and never closes the old one: +1 fd per
 * reload, each on a rotated and later deleted file that still pins its disk
 * space, until EMFILE; signal handling stays alive. The correct child swaps
 * in the new file and closes the old one.
 */
import { mkdtempSync, renameSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { nodeChild, pythonChild } from '../../runtimes/index.js';
import { leaksToEmfile, staysFlat } from '../expect.js';
import type { Role, Scenario } from '../types.js';

const roles: readonly Role[] = [
  { name: 'broken', kind: 'broken', summary: 'opens the log again on SIGHUP and never closes the old fd (Python: a FileHandler added per HUP)' },
  { name: 'correct', kind: 'correct', summary: 'opens the new log, swaps it in, closes the old one' },
];

/** KiB of deleted files the process still holds open: disk space rotation could not free. */
function deletedKb(pid: number, fds: readonly { fd: number; kind: string }[]): number {
  let bytes = 0;
  for (const { fd, kind } of fds) {
    if (kind !== 'deleted') continue;
    try {
      bytes += statSync(`/proc/${pid}/fd/${fd}`).size;
    } catch {
      // closed since the listing
    }
  }
  return Math.round(bytes / 102.4) / 10;
}

export const logReopen: Scenario = {
  name: 'log-reopen',
  summary: 'the log reopened on SIGHUP after rotation without closing the old file: rotated, deleted files stay open and pin disk until EMFILE',
  signal: 'SIGHUP',
  roles,
  runtimes: ['node', 'python'],
  options: [],
  metrics: [
    { id: 'listeners', label: 'log handles', unit: '', description: 'log files (Python: logging handlers) the child holds open, its own count from each acknowledgement', fromEvent: 'listeners' },
    { id: 'deletedKb', label: 'disk held by deleted logs', unit: 'KiB', description: 'size of deleted files the child still holds open (stat of /proc/PID/fd/N)', fromProcess: deletedKb },
  ],
  async command(role, runtime) {
    if (runtime === 'python') return pythonChild('src/scenarios/log-reopen/python/child.py', [role.name]);
    return nodeChild(`scenarios/log-reopen/node/${role.name}.js`);
  },
  expect(role, _options, { maxGrowth }) {
    if (role.kind === 'broken') {
      return leaksToEmfile('the broken pattern leaks one fd per rotation until EMFILE and still reloads', 1, maxGrowth, { afterFailure: 'alive', growingMetrics: ['listeners'] });
    }
    return staysFlat('the correct pattern stays flat: one log fd however many rotations', maxGrowth, { flatMetrics: ['listeners'] });
  },
  setup() {
    const dir = mkdtempSync(join(tmpdir(), 'repro-log-reopen-'));
    const log = join(dir, 'app.log');
    return {
      args: ['--log', log],
      // logrotate without copytruncate: rename, then signal; the previous rotation is replaced (unlinked).
      beforeSignal: () => {
        try {
          renameSync(log, `${log}.1`);
        } catch (error) {
          // After a failed reopen there is no new file to rotate: logrotate would skip it too.
          if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
        }
      },
      dispose: () => rmSync(dir, { recursive: true, force: true }),
    };
  },
};
