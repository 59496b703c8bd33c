// Issue 23: watch names a deadlock inside a signal handler with the trials' rule (src/kinds/trials/deadlock.ts):
// a thread in futex that blocks the signal since it was sent, its CPU time frozen. A reload that never
// finishes for another reason, or a program that blocks the signal itself, is not called deadlocked.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunDocument } from '../../src/model/run-document.js';
import { cChild } from '../../src/runtimes/c.js';
import { repro } from '../support/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'repro-watch-deadlock-'));
const neverFinishes = join(dir, 'never-finishes-a-reload');

beforeAll(() => {
  execFileSync('gcc', ['-O2', '-Wall', '-pthread', '-o', neverFinishes, fileURLToPath(new URL('../fixtures/services/never-finishes-a-reload.c', import.meta.url))]);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function watch(args: string[]) {
  const result = await repro(['watch', '--json', ...args], { timeout: 60_000 });
  return { ...result, run: result.stdout ? (JSON.parse(result.stdout) as RunDocument) : undefined };
}

describe.concurrent('repro watch: a deadlock inside the handler is named (issue 23)', () => {
  it("signal-safety's localtime child: localtime() in the SIGUSR1 handler and in the main loop deadlocks on glibc's tz lock, named, exit 4", async () => {
    // The main loop never sleeps, so start-up cannot look finished: --ready-after. The first signal that lands while the
    // main loop holds the lock leaves the handler waiting; that reload looks finished (the busy main thread is not judged),
    // and the next signal stays pending behind the handler.
    const child = cChild('src/scenarios/signal-safety/c/child.c', ['localtime'], ['-lcrypt']);
    const { exitCode, run, stderr } = await watch(['--signal', 'USR1', '--ready-after', '300', '--reloads', '50', '--settle-timeout', '1000', '--', ...child]);
    expect(exitCode, `${stderr}${run?.end.detail}`).toBe(4);
    expect(run?.end.reason).toBe('handler-deadlock');
    expect(run?.end.detail).toMatch(/^reload \d+: SIGUSR1 stays pending, blocked by the handler an earlier one started: deadlocked in its SIGUSR1 handler: thread \d+ \(child\) of pid \d+ waits in futex with SIGUSR1 blocked \(not before the signal: the kernel blocks a signal while its handler runs\), no CPU time for \d+ ms$/);
    expect(run?.verdict).toMatchObject({ pass: false, inconclusive: true });
  });

  it('a handler that waits in read() for a byte that never comes: the reload did not finish, not a deadlock', async () => {
    const { exitCode, run } = await watch(['--reloads', '3', '--settle-timeout', '1000', '--', neverFinishes, 'reads']);
    expect(exitCode).toBe(4);
    expect(run?.end.reason).toBe('reload-unfinished');
    expect(run?.end.detail).toMatch(/^reload 1 did not finish: thread \d+ \(never-finishes-\) stuck in read since the signal/);
  });

  it('a program that blocks SIGHUP itself and waits in futex: not delivered, not a deadlock in a handler', async () => {
    const { exitCode, run } = await watch(['--reloads', '3', '--', neverFinishes, 'blocks']);
    expect(exitCode).toBe(4);
    expect(run?.end.reason).toBe('not-delivered');
    expect(run?.end.detail).toMatch(/SIGHUP stays pending: every thread blocks it \(SigBlk\)$/);
  });
});
