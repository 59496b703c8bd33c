// A reader that goes away early (`repro compare --json | head -1`): no stack trace, the run's own
// exit code, and no process left behind. Real pipes, and a pipe whose reader is closed at once.
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { fileURLToPath } from 'node:url';
import { BIN } from '../support/cli.js';

const LEAKY = fileURLToPath(new URL('../fixtures/services/leaks-pipe-per-hup.py', import.meta.url));

/** Live (non-zombie) processes that inherited `marker` in their environment. */
function marked(marker: string): number[] {
  const found: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      if (!readFileSync(`/proc/${name}/environ`, 'latin1').includes(marker)) continue;
      if (/^State:\s+Z/m.test(readFileSync(`/proc/${name}/status`, 'utf8'))) continue;
      found.push(Number(name));
    } catch {
      // gone
    }
  }
  return found;
}

/** Runs repro with its stdout on a pipe whose reading end is closed before repro writes anything. */
function withStdoutClosed(args: string[], marker: string): Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }> {
  const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1', GITHUB_STEP_SUMMARY: '', REPRO_TEST_MARK: marker } });
  child.stdout.destroy();
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (text: string) => (stderr += text));
  return new Promise((resolve) => child.on('close', (code, signal) => resolve({ code, signal, stderr })));
}

describe('stdout closed by its reader', () => {
  it.each([
    ['compare --json', ['compare', '--json'], 0],
    ['compare (the summary)', ['compare'], 0],
    ['watch of a leaking program (a failing verdict)', ['watch', '--reloads', '3', '--settle', '60', '--', 'python3', LEAKY], 1],
  ])('%s: no stack trace, exits with the run\'s own code, no child left', async (_name, args, code) => {
    const marker = `mark-${randomUUID()}`;
    const result = await withStdoutClosed(args, marker);
    expect(result.stderr).toBe('');
    expect(result.signal).toBeNull();
    expect(result.code).toBe(code);
    expect(marked(marker)).toEqual([]);
  });

  it('probe PID: no stack trace, exit 0', async () => {
    const result = await withStdoutClosed(['probe', String(process.pid)], `mark-${randomUUID()}`);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
  });

  // head -c1 leaves after the first chunk of the 300 KiB document; `true` leaves before the summary is written
  // (a summary that fits in the pipe buffer would not notice head leaving).
  it.each([
    ['compare --json | head -c1', 'compare --json', 'head -c1 >/dev/null'],
    ['compare | true', 'compare', 'true'],
  ])('bash: %s gives repro exit 0 in PIPESTATUS and no stack trace', async (_name, args, reader) => {
    const marker = `mark-${randomUUID()}`;
    const result = await execa('bash', ['-c', `"${process.execPath}" "${BIN}" ${args} | ${reader}; exit \${PIPESTATUS[0]}`], {
      reject: false,
      env: { NO_COLOR: '1', GITHUB_STEP_SUMMARY: '', REPRO_TEST_MARK: marker },
    });
    expect(result.stderr).toBe('');
    expect(result.exitCode).toBe(0);
    expect(marked(marker)).toEqual([]);
  });
});
