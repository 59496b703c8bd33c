// Input the run cannot use is refused before the run (exit 2, one line naming the flag and the fix),
// and the numbers in the advice are the ones that really work on this machine.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunDocument } from '../../src/model/run-document.js';
import { repro } from '../support/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'repro-unusable-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** fds a child holds below the limit when ready, from a real run's baseline. */
async function slotsOf(pattern: 'broken' | 'correct'): Promise<number> {
  const result = await repro([pattern, '--reloads', pattern === 'broken' ? '500' : '1', '--json']);
  const doc = JSON.parse(result.stdout) as RunDocument;
  return doc.measured.baselineFds - doc.fdsAboveLimitAtStart;
}

function expectOneLine(result: { exitCode: number | undefined; stdout: string; stderr: string }, exitCode = 2): void {
  expect(result.exitCode).toBe(exitCode);
  expect(result.stderr.trimEnd().split('\n')).toHaveLength(1);
  expect(result.stderr).not.toMatch(/\n\s+at /);
  expect(result.stdout).toBe('');
}

describe('--ulimit below what the children need: advice computed from what they hold', () => {
  let broken = 0;
  let correct = 0;
  beforeAll(async () => {
    [broken, correct] = await Promise.all([slotsOf('broken'), slotsOf('correct')]);
  });

  it('broken --ulimit equal to its baseline: refused (it could not leak even once), where it used to fail with "fds grew 0/reload"', async () => {
    const result = await repro(['broken', '--ulimit', String(broken)]);
    expectOneLine(result);
    expect(result.stderr).toBe(
      `repro: --ulimit ${broken} leaves the broken child no room to leak (${broken} fds when ready, then 2 more per reload); use --ulimit ${broken + 2} or more`,
    );
  });

  it('broken --ulimit 10: the advice is the smallest limit that works, and that limit passes', async () => {
    const refused = await repro(['broken', '--ulimit', '10']);
    expectOneLine(refused);
    expect(refused.stderr).toContain(`needs to start (${broken} fds when ready, then 2 more per reload); use --ulimit ${broken + 2} or more`);
    const works = await repro(['broken', '--ulimit', String(broken + 2), '--no-chart']);
    expect(works.exitCode).toBe(0);
    expect(works.stdout).toContain('PASS: the broken pattern leaks until EMFILE');
  });

  it('compare --ulimit 12: the advice covers both children, and that limit passes', async () => {
    const refused = await repro(['compare', '--ulimit', '12']);
    expectOneLine(refused);
    const advice = Number(/^repro: --ulimit 12 is below what the (?:broken|correct) child needs to start \(\d+ fds when ready.*\); use --ulimit (\d+) or more$/.exec(refused.stderr)?.[1]);
    // Node opens one fd fewer when the limit leaves it no room, so the correct child can start one below its baseline at 64.
    expect(advice).toBeGreaterThanOrEqual(Math.max(broken + 2, correct - 1));
    const works = await repro(['compare', '--ulimit', String(advice), '--no-chart']);
    expect(works.exitCode).toBe(0);
  });
});

describe('--reloads too few for the broken child to reach EMFILE', () => {
  it('is refused with the reload EMFILE comes at, and that many reloads show it exactly there', async () => {
    const refused = await repro(['broken', '--ulimit', '40', '--reloads', '3']);
    expectOneLine(refused);
    const at = Number(/so EMFILE comes at reload (\d+); use --reloads \1 or more/.exec(refused.stderr)?.[1]);
    expect(at).toBeGreaterThan(3);
    const works = await repro(['broken', '--ulimit', '40', '--reloads', String(at), '--json']);
    expect(works.exitCode).toBe(0);
    expect((JSON.parse(works.stdout) as RunDocument).measured.emfileAtReload).toBe(at);
  });
});

describe('repro watch: waits and signals that cannot work', () => {
  // The program would leave a marker if it were started: none may be.
  const marker = join(dir, 'started');
  const program = ['--', 'sh', '-c', `touch ${marker}; exec sleep 30`];

  it.each([
    [['--settle', '5000', '--settle-timeout', '100'], '--settle 5000 is longer than --settle-timeout 100, so no reload could ever settle; use --settle-timeout 5000 or more, or a shorter --settle'],
    [['--settle', '20000'], '--settle 20000 is longer than --settle-timeout 5000'],
    [['--settle', '3000', '--settle-timeout', '3000', '--ready-timeout', '1000'], '--settle 3000 is longer than --ready-timeout 1000, so start-up could never settle; use --ready-timeout 3000 or more, or --ready-after MS'],
    [['--signal', 'STOP'], '--signal STOP: SIGSTOP cannot be caught, so no program can reload on it; use a signal the program handles, such as HUP or USR1'],
    [['--signal', 'SIGKILL'], '--signal SIGKILL: SIGKILL cannot be caught'],
    [['--signal', '9'], '--signal 9: SIGKILL cannot be caught'],
  ])('watch %j: exit 2 before the program starts', async (flags, message) => {
    const result = await repro(['watch', ...flags, ...program]);
    expectOneLine(result);
    expect(result.stderr).toContain(message);
    expect(existsSync(marker)).toBe(false);
  });
});
