/**
 * A second Ctrl-C during teardown kills the watched tree at once: the keeper is told to kill it and
 * every process below the keeper gets SIGKILL from repro too. It used to SIGKILL the keeper's group as
 * well, and when that beat the keeper's own SIGUSR1 handling, a program that ignores SIGTERM was left
 * running under init (5 of 10 runs). Real repro, real Python program, real signals; 5 runs.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { BIN } from '../support/cli.js';
import { goneWithin, waitFor } from '../support/processes.js';

const SERVICE = fileURLToPath(new URL('../fixtures/services/ignores-sigterm-takes-hup.py', import.meta.url));

/** The pid of the process running our fixture, if any. */
function programPid(): number | undefined {
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      if (readFileSync(`/proc/${name}/cmdline`, 'latin1').split('\0').includes(SERVICE)) return Number(name);
    } catch {
      // gone
    }
  }
  return undefined;
}

describe('a second Ctrl-C while watch tears down a program that ignores SIGTERM', () => {
  it.each([1, 2, 3, 4, 5])('run %i: repro exits 130 and the program is gone within 2 s', async () => {
    const run = execa(process.execPath, [BIN, 'watch', '--reloads', '100000', '--no-chart', '--', 'python3', SERVICE], { reject: false, stdin: 'ignore', env: { NO_COLOR: '1' } });
    const program = await waitFor('the program under watch', () => programPid(), 15_000);
    // Reloads are under way once the run has its baseline; give it that, then two Ctrl-C.
    await new Promise((r) => setTimeout(r, 1500));
    run.kill('SIGINT');
    await new Promise((r) => setTimeout(r, 400));
    run.kill('SIGINT');
    const result = await run;
    expect(result.exitCode).toBe(130);
    const gone = await goneWithin(program, 2000);
    if (!gone) process.kill(program, 'SIGKILL');
    expect(gone).toBe(true);
  }, 30_000);
});
