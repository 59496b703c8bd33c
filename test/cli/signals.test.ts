// Signals to repro itself, from outside, with deadlines.
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { afterAll, describe, expect, it } from 'vitest';
import type { RunDocument } from '../../src/model/run-document.js';
import { BIN } from '../support/cli.js';
import { marker, markedLeftAfter, pathWithoutSetpriv } from '../support/marked.js';
import { childrenOf, goneWithin, isAlive, procFile, waitFor } from '../support/processes.js';

const dir = mkdtempSync(join(tmpdir(), 'repro-signals-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Starts a long `repro correct` and resolves once its child is running. */
async function startLongRun(out: string) {
  const reports = ['--csv', `${out}.csv`, '--junit', `${out}.xml`, '--html', `${out}.html`];
  const cli = execa(process.execPath, [BIN, 'correct', '--reloads', '10000000', '--out', out, ...reports], { reject: false, stdin: 'ignore', env: { NO_COLOR: '1', GITHUB_STEP_SUMMARY: '' } });
  const child = await waitFor('the child of repro', () => childrenOf(cli.pid as number)[0]);
  // Reloads start once the child caught SIGHUP (its hub is up, `ready` follows): a fixed wait after its start
  // took no sample in a run loaded by another job (a Node child can take longer than 400 ms to get there).
  const caughtHup = () => {
    const caught = /^SigCgt:\s*([0-9a-f]+)$/m.exec(procFile(child, 'status') ?? '')?.[1];
    return caught !== undefined && (BigInt(`0x${caught}`) & 1n) === 1n ? true : undefined;
  };
  await waitFor('the child to catch SIGHUP', caughtHup);
  await new Promise((r) => setTimeout(r, 400));
  return { cli, child };
}

describe('repro gets a signal mid-run', () => {
  it.each([
    ['SIGINT', 130],
    ['SIGTERM', 143],
  ] as const)('%s: exits %i within 2 s, child gone, the samples so far written to every report and marked aborted', async (signal, code) => {
    const out = join(dir, `${signal}.json`);
    const { cli, child } = await startLongRun(out);
    const t0 = performance.now();
    cli.kill(signal);
    const result = await cli;
    expect(performance.now() - t0).toBeLessThan(2000);
    expect(result.exitCode).toBe(code);
    expect(isAlive(child)).toBe(false);
    const doc = JSON.parse(readFileSync(out, 'utf8')) as RunDocument;
    expect(doc.end.reason).toBe('aborted');
    // Some samples, however slow the machine: how many is a matter of speed, not of the property.
    expect(doc.samples.length).toBeGreaterThan(1);
    expect(doc.verdict.pass).toBe(false);
    expect(String(result.stdout)).toContain('run ended early: aborted');
    // Every other report holds the same samples.
    expect(readFileSync(`${out}.csv`, 'utf8').trimEnd().split('\r\n')).toHaveLength(doc.samples.length + 1);
    expect(readFileSync(`${out}.xml`, 'utf8')).toContain('run ended early: aborted');
    expect(readFileSync(`${out}.html`, 'utf8')).toContain('run ended early: aborted');
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('a second SIGINT during a slow teardown exits at once and still leaves no child', async () => {
    const fixture = fileURLToPath(new URL('../fixtures/harness-with-stubborn-child.mjs', import.meta.url));
    const harness = execa(process.execPath, [fixture], { reject: false, stdin: 'ignore', lines: true });
    const childPid = await new Promise<number>((resolve) => harness.stdout?.on('data', (b: Buffer) => resolve(Number(/child (\d+)/.exec(String(b))?.[1]))));
    harness.kill('SIGINT');
    await new Promise((r) => setTimeout(r, 300));
    // The first SIGINT is waiting out a 10 s grace period on a child that ignores SIGTERM.
    expect(isAlive(childPid)).toBe(true);
    const t0 = performance.now();
    harness.kill('SIGINT');
    const result = await harness;
    expect(performance.now() - t0).toBeLessThan(1000);
    expect(result.exitCode).toBe(130);
    expect(result.stdout).not.toContain('teardown finished normally');
    expect(await goneWithin(childPid, 1000)).toBe(true);
  });

  it('SIGKILL: the child still goes away within 2 s (parent-death signal and stdin EOF)', async () => {
    const { cli, child } = await startLongRun(join(dir, 'killed.json'));
    cli.kill('SIGKILL');
    await cli;
    expect(await goneWithin(child, 2000)).toBe(true);
  });

  it.each([['compare'], ['correct']])(
    'SIGKILL with setpriv not on PATH (%s): the bundled children leave on stdin EOF within 2 s',
    async (command) => {
      const mark = marker();
      const path = pathWithoutSetpriv();
      const env = { PATH: path, NO_COLOR: '1', GITHUB_STEP_SUMMARY: '', REPRO_SUITE_ID: process.env.REPRO_SUITE_ID ?? '', ...mark.env };
      const cli = execa(process.execPath, [BIN, command, '--reloads', '10000000'], { reject: false, stdin: 'ignore', env, extendEnv: false });
      try {
        // The correct child runs until it is told to stop; wait until it is up and being sampled.
        await waitFor('the correct child', () => mark.alive().find((pid) => pid !== cli.pid && procFile(pid, 'cmdline', 'latin1')?.includes('sighup-listener/node/correct')));
        await new Promise((r) => setTimeout(r, 500));
        cli.kill('SIGKILL');
        await cli;
        expect(await markedLeftAfter(mark, 2000)).toEqual([]);
      } finally {
        cli.kill('SIGKILL');
        mark.killAll();
        rmSync(path, { recursive: true, force: true });
      }
    },
  );
});

/** Open fds of a process, or 0 when it is gone. */
const fdCount = (pid: number) => {
  try {
    return readdirSync(`/proc/${pid}/fd`).length;
  } catch {
    return 0;
  }
};

/**
 * Each row puts a command into one of its long waits (20 s or more), then the
 * test signals it: the wait must wake, the command exit 130 / 143 within 2 s,
 * and nothing it started may be left.
 */
describe('every wait of every command wakes on SIGINT / SIGTERM', () => {
  const target = execa('sleep', ['600'], { reject: false, stdin: 'ignore' });
  afterAll(async () => {
    target.kill('SIGKILL');
    await target;
  });

  /** [what, argv, resolves once the command is inside the long wait] */
  const brokenAtDeadCheck = async (mark: ReturnType<typeof marker>, cli: number) => {
    // After EMFILE (the child's fd table full at the limit of 64) the harness waits --dead-check ms for one more reload.
    const child = await waitFor('the broken child', () => mark.alive().find((pid) => pid !== cli && procFile(pid, 'cmdline', 'latin1')?.includes('sighup-listener')));
    await waitFor('EMFILE in the broken child', () => (fdCount(child) >= 63 ? true : undefined));
    await new Promise((r) => setTimeout(r, 300));
  };
  // Inside the long wait: what the command does just before it is there has happened, and a moment has passed.
  const childStarted = async (mark: ReturnType<typeof marker>, cli: number) => {
    await waitFor('the program watch starts', () => mark.alive().find((pid) => pid !== cli));
    await new Promise((r) => setTimeout(r, 300));
  };
  const firstSamplePrinted = async (_mark: unknown, _cli: number, stdout: () => string) => {
    await waitFor('the first sample of probe --watch', () => (/fds \d+/.test(stdout()) ? true : undefined));
    await new Promise((r) => setTimeout(r, 300));
  };
  const rows: [string, () => string[], (mark: ReturnType<typeof marker>, cli: number, stdout: () => string) => Promise<unknown>][] = [
    ['watch --ready-after 20000', () => ['watch', '--ready-after', '20000', '--', 'sleep', '60'], childStarted],
    ['probe --watch 20000', () => ['probe', String(target.pid), '--watch', '20000'], firstSamplePrinted],
    ['broken --dead-check 60000', () => ['broken', '--dead-check', '60000'], brokenAtDeadCheck],
    ['compare --dead-check 60000', () => ['compare', '--dead-check', '60000', '--reloads', '100'], brokenAtDeadCheck],
  ];

  for (const [signal, code] of [
    ['SIGINT', 130],
    ['SIGTERM', 143],
  ] as const) {
    it.each(rows)(`${signal} during %s: exits ${code} within 2 s, nothing left`, async (_what, args, inWait) => {
      const mark = marker();
      const cli = execa(process.execPath, [BIN, ...args()], { reject: false, stdin: 'ignore', env: { NO_COLOR: '1', GITHUB_STEP_SUMMARY: '', ...mark.env } });
      let stdout = '';
      cli.stdout?.on('data', (chunk: Buffer) => {
        stdout += String(chunk);
      });
      try {
        await inWait(mark, cli.pid as number, () => stdout);
        const t0 = performance.now();
        cli.kill(signal);
        const result = await cli;
        expect(performance.now() - t0).toBeLessThan(2000);
        expect(result.exitCode).toBe(code);
        expect(String(result.stderr)).toBe(`repro: ${signal} received, ${args()[0] === 'probe' ? 'printing the summary' : 'stopping children and writing what was sampled'} (again to exit at once)`);
        expect(mark.alive()).toEqual([]);
      } finally {
        cli.kill('SIGKILL');
        mark.killAll();
      }
    });
  }
});
