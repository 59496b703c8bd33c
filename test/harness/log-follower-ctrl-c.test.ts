/**
 * `repro watch --log` while the log grows by a sparse 20 GB between two samples (issue 18 item 7):
 * the run keeps reloading and Ctrl-C ends it at once (exit 130), since a poll reads both ends of
 * what was appended, not all of it. It used to read the whole extension in one synchronous poll, so
 * SIGINT waited more than a minute. Real repro, a real Python program, a real sparse file.
 */
import { appendFileSync, mkdtempSync, readdirSync, readlinkSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { afterAll, describe, expect, it } from 'vitest';
import { BIN } from '../support/cli.js';
import { waitFor } from '../support/processes.js';

const SERVICE = fileURLToPath(new URL('../fixtures/services/leaks-pipe-per-hup.py', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'repro-log-ctrl-c-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** True once process `pid` holds `path` open (repro follows the log with the file open). */
function holds(pid: number, path: string): boolean {
  try {
    return readdirSync(`/proc/${pid}/fd`).some((fd) => {
      try {
        return readlinkSync(`/proc/${pid}/fd/${fd}`) === path;
      } catch {
        return false;
      }
    });
  } catch {
    return false;
  }
}

describe('a sparse 20 GB extension of the --log file mid-run', () => {
  it('Ctrl-C still ends the run within 3 s (exit 130)', async () => {
    const log = join(dir, 'error.log');
    writeFileSync(log, 'started\n');
    const run = execa(process.execPath, [BIN, 'watch', '--reloads', '100000', '--no-chart', '--log', log, '--', 'python3', SERVICE], { reject: false, stdin: 'ignore', env: { NO_COLOR: '1', GITHUB_STEP_SUMMARY: '' } });
    await waitFor('repro following the log', () => holds(run.pid as number, log) || undefined, 15_000);
    // Reloads are under way once the run has its baseline.
    await new Promise((r) => setTimeout(r, 1500));
    truncateSync(log, 20 * 1024 ** 3);
    appendFileSync(log, '\nstill logging\n');
    // Some samples (each one polls the log) happen with the extension there.
    await new Promise((r) => setTimeout(r, 500));
    const interruptedAt = Date.now();
    run.kill('SIGINT');
    const result = await run;
    const exitMs = Date.now() - interruptedAt;
    expect(result.exitCode, result.stderr).toBe(130);
    expect(exitMs).toBeLessThan(3000);
  }, 60_000);
});
