// Issue 18 item 2: a Tokio multi-thread service (4 workers, built offline from Debian's crates) under
// load while repro watch sends its reloads. Its workers park in futex or epoll_wait, whichever holds the
// driver; a correct service must PASS and one that keeps a file per reload must FAIL, never exit 4.
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { RunDocument } from '../../src/model/run-document.js';
import { ensureRustBinaries, type RustProject } from '../../src/runtimes/cargo.js';
import { repro } from '../support/cli.js';
import { freePort } from '../support/net.js';

const TOKIO_UNDER_LOAD: RustProject = {
  sourceDir: fileURLToPath(new URL('../fixtures/runtimes/tokio-under-load', import.meta.url)),
  binaries: ['correct', 'keeps_fd_per_reload', 'load'],
  crates: [
    ['tokio-1.', 'librust-tokio-dev'],
    ['libc-0.2.', 'librust-libc-dev'],
  ],
  packages: ['librust-tokio-dev'],
};

let bins: Record<string, string>;
beforeAll(async () => {
  bins = await ensureRustBinaries(TOKIO_UNDER_LOAD);
}, 600_000);

let load: ChildProcess | undefined;
afterEach(() => {
  if (load?.pid !== undefined && load.exitCode === null) process.kill(load.pid, 'SIGKILL');
  load = undefined;
});

/** The service under `repro watch`, with 4 connections echoing a line every 5 ms from before it listens to the end. */
async function watchUnderLoad(binary: string) {
  const port = await freePort();
  load = spawn(bins['load'] as string, [String(port), '4', '5'], { stdio: 'ignore' });
  const result = await repro(['watch', '--json', '--reloads', '10', '--', bins[binary] as string, String(port)], { timeout: 90_000 });
  return { ...result, run: result.stdout ? (JSON.parse(result.stdout) as RunDocument) : undefined };
}

describe('repro watch on a Tokio multi-thread service under load (issue 18 item 2)', () => {
  it('correct: every reload finishes, PASS', async () => {
    const { exitCode, run, stderr } = await watchUnderLoad('correct');
    expect(exitCode, `${run?.end.detail ?? ''} ${stderr}`).toBe(0);
    expect(run?.measured.reloadsDone).toBe(10);
    expect(run?.survivors?.survivorsPerReload).toBe(0);
  }, 120_000);

  it('keeps a file per reload: FAIL at 1/reload', async () => {
    const { exitCode, run, stderr } = await watchUnderLoad('keeps_fd_per_reload');
    expect(exitCode, `${run?.end.detail ?? ''} ${stderr}`).toBe(1);
    expect(run?.measured.reloadsDone).toBe(10);
    expect(run?.survivors).toMatchObject({ survivorsPerReload: 1, survivedKinds: { file: 7 } });
  }, 120_000);
});
