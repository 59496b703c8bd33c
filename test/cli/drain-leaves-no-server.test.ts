/**
 * `repro drain` starts a server nobody wrote for repro under the process-tree keeper, as `watch`
 * does: a server behind a shell that does not exec it, or one that daemonizes, is still ended with
 * the run, and after SIGKILL of repro. Before, the shell's child (and a daemon) kept the port.
 * Real servers (Python's http.server), real SIGKILL, /proc read here.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { BIN } from '../support/cli.js';
import { freePort } from '../support/net.js';
import { waitFor } from '../support/processes.js';

const DAEMON = fileURLToPath(new URL('../fixtures/services/daemonizes-then-serves-http.py', import.meta.url));

/** Pids whose command line holds `needle` as one argument. */
function pidsWith(needle: string): number[] {
  const out: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name) || Number(name) === process.pid) continue;
    try {
      if (readFileSync(`/proc/${name}/cmdline`, 'latin1').split('\0').includes(needle)) out.push(Number(name));
    } catch {
      // gone
    }
  }
  return out;
}

async function noneWithin(needle: string, ms: number): Promise<number[]> {
  const until = Date.now() + ms;
  let left = pidsWith(needle);
  while (left.length > 0 && Date.now() < until) {
    await new Promise((r) => setTimeout(r, 50));
    left = pidsWith(needle);
  }
  for (const pid of left) process.kill(pid, 'SIGKILL');
  return left;
}

describe('repro drain leaves no server behind', () => {
  it('SIGKILL of repro while it drives `sh -c` running http.server: the server is gone within 2 s', async () => {
    const port = String(await freePort());
    const run = execa(process.execPath, [BIN, 'drain', '--url', `http://127.0.0.1:${port}/`, '--', 'sh', '-c', `python3 -m http.server ${port} --bind 127.0.0.1; true`], { reject: false, stdin: 'ignore' });
    await waitFor('http.server under the shell', () => (pidsWith(port).length > 0 ? true : undefined), 15_000);
    await new Promise((r) => setTimeout(r, 500));
    run.kill('SIGKILL');
    await run;
    expect(await noneWithin(port, 2000)).toEqual([]);
  }, 30_000);

  it('a server that daemonizes gets the signal (as a daemon would from its manager) and is ended with the run', async () => {
    const port = String(await freePort());
    const result = await execa(process.execPath, [BIN, 'drain', '--url', `http://127.0.0.1:${port}/`, '--', 'python3', DAEMON, port], { reject: false, stdin: 'ignore', timeout: 60_000, env: { NO_COLOR: '1' } });
    // http.server dies of SIGTERM at once: requests lost (exit 1), never "killed after the grace period"
    // (the signal sent to the program that had already exited) with nothing lost.
    expect(result.exitCode, result.stdout).toBe(1);
    expect(result.stdout).not.toContain('killed after the grace period');
    expect(await noneWithin(port, 2000)).toEqual([]);
  }, 70_000);
});
