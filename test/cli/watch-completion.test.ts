// Issue 18: completion you can defend. A reload whose slow part is a sleep where its thread idles is
// waited for (calibrated on reload 1), fds that arrive after the run looked finished end it as "cannot
// tell" (exit 4), and one fd replaced once is not a leak.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunDocument } from '../../src/model/run-document.js';
import { repro } from '../support/cli.js';

const service = (name: string) => fileURLToPath(new URL(`../fixtures/services/${name}`, import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'repro-watch-completion-'));
const bin = (name: string) => join(dir, name);

beforeAll(() => {
  execFileSync('gcc', ['-O2', '-Wall', '-o', bin('leaks-eventfd-after-300ms-idle-sleep'), service('leaks-eventfd-after-300ms-idle-sleep.c')]);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function watch(args: string[]) {
  const result = await repro(['watch', '--json', ...args], { timeout: 90_000 });
  return { ...result, run: result.stdout ? (JSON.parse(result.stdout) as RunDocument) : undefined };
}

describe('repro watch: completion you can defend (issue 18)', () => {
  it('a reload that sleeps 300 ms in the syscall it idles in, then opens an eventfd: every eventfd is seen, FAIL at 1/reload', async () => {
    const { exitCode, run, stderr } = await watch(['--reloads', '8', '--', bin('leaks-eventfd-after-300ms-idle-sleep')]);
    expect(exitCode, stderr).toBe(1);
    expect(run?.survivors).toMatchObject({ reloadsCounted: 6, survivorsCounted: 6, survivorsPerReload: 1, survivedKinds: { eventfd: 6 } });
    // The eventfd comes 300 ms after the handler; the poll that sees it is dated by its start, a few ms earlier under load.
    const calibration = run?.tree?.calibration;
    expect(calibration?.reloadMs).toBeGreaterThanOrEqual(250);
    expect(calibration?.heldMs).toBeGreaterThanOrEqual(10 * (calibration?.reloadMs ?? 0));
    expect(calibration?.floorMs).toBeCloseTo(2 * (calibration?.reloadMs ?? 0), 1);
    // Each reload's sample holds its own eventfd: the count rises by one per reload.
    expect(run?.samples.map((s) => s.fds - (run.samples[0]?.fds ?? 0))).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8]);
  }, 90_000);

  it('fds that arrive after the final drain looked finished: the completion rule was wrong for this program, exit 4', async () => {
    const { exitCode, run, stderr } = await watch(['--reloads', '4', '--', 'python3', service('opens-a-pipe-500ms-after-each-hup-but-the-first.py')]);
    expect(exitCode, stderr).toBe(4);
    expect(run?.end.reason).toBe('reload-unfinished');
    expect(run?.end.detail).toMatch(/^the completion rule was wrong for this program: [2-6] fds appeared up to \d+ ms after the final drain looked finished \(reload 1 took \d+ ms when calibrated\), so which reload opened them cannot be told$/);
    expect(run?.verdict.pass).toBe(false);
    expect(run?.tree?.calibration?.endWindowMs).toBe(1000);
  }, 60_000);

  it('one log fd replaced once in 6 reloads (new one opened, old one closed): not a leak, PASS', async () => {
    const log = join(dir, 'replaced.log');
    const { exitCode, run, stdout } = await watch(['--reloads', '6', '--', 'python3', service('replaces-its-log-on-the-second-hup-only.py'), log]);
    expect(exitCode, stdout).toBe(0);
    expect(run?.survivors).toMatchObject({ reloadsCounted: 4, survivorsCounted: 0, survivorsReplaced: 1, survivorsPerReload: 0 });
    expect(run?.survivors?.byReload[1]).toMatchObject({ reload: 2, survived: 1, replaced: 1 });
  }, 60_000);
});
