/**
 * runtime-teardown where the C child cannot run, each made real: io_uring
 * refused by a seccomp filter (as in Docker's default profile), no gcc on
 * PATH, and no liburing headers (hidden by an overlay whiteout in a private
 * mount namespace). Each is exit 3 and one line naming the cause, never a
 * pass. Through the built CLI (npm run build first).
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, repro } from '../support/cli.js';

const PACKAGE = fileURLToPath(new URL('../../', import.meta.url));
const scratch = mkdtempSync(join(tmpdir(), 'repro-teardown-env-'));
const withoutIoUring = join(scratch, 'without-io-uring');
const COMPARE = ['compare', '--scenario', 'runtime-teardown', '--runtime', 'c', '--no-chart'];

beforeAll(() => {
  execFileSync('gcc', ['-O2', '-Wall', '-o', withoutIoUring, fileURLToPath(new URL('../fixtures/without-io-uring.c', import.meta.url))]);
});
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

async function run(argv: string[], env: Record<string, string> = {}) {
  const result = await execa(argv[0] as string, argv.slice(1), { reject: false, timeout: 60_000, env: { NO_COLOR: '1', GITHUB_STEP_SUMMARY: '', ...env }, stdin: 'ignore' });
  return { exitCode: result.exitCode, stdout: String(result.stdout), stderr: String(result.stderr) };
}

describe('runtime-teardown --runtime c where it cannot run', () => {
  it('io_uring refused by seccomp (EPERM): the child says so and the run ends with exit 3 and one line, no verdict', async () => {
    const result = await run([withoutIoUring, process.execPath, BIN, ...COMPARE]);
    expect(result.exitCode).toBe(3);
    expect(result.stdout).toBe('');
    const lines = result.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^repro: .*io_uring is not available here: io_uring_setup failed with EPERM/);
    expect(result.stderr).not.toMatch(/PASS|at .*\.js:\d+/);
  });

  it('no gcc on PATH: exit 3, one line saying what to install', async () => {
    const result = await repro(COMPARE, { env: { PATH: join(scratch, 'empty') } });
    expect(result.exitCode).toBe(3);
    expect(result.stderr.trim()).toBe('repro: --runtime c: no gcc on PATH; install it (Debian: apt-get install gcc liburing-dev)');
  });

  it('no liburing headers (and nothing built yet): exit 3, one line saying to install liburing-dev', async () => {
    const ov = join(scratch, 'overlay');
    mkdirSync(join(ov, 'up'), { recursive: true });
    mkdirSync(join(ov, 'work'), { recursive: true });
    // Overlay whiteouts (0:0 character devices) hide exactly liburing.h and liburing/ from /usr/include.
    execFileSync('mknod', [join(ov, 'up', 'liburing.h'), 'c', '0', '0']);
    execFileSync('mknod', [join(ov, 'up', 'liburing'), 'c', '0', '0']);
    mkdirSync(join(PACKAGE, '.cache'), { recursive: true });
    const script = [
      `mount -t overlay overlay -o lowerdir=/usr/include,upperdir=${ov}/up,workdir=${ov}/work /usr/include`,
      `mount -t tmpfs none '${join(PACKAGE, '.cache')}'`,
      'test ! -e /usr/include/liburing.h',
      'exec "$@"',
    ].join(' && ');
    const result = await run(['unshare', '-m', '/bin/sh', '-c', script, 'sh', process.execPath, BIN, ...COMPARE]);
    expect(result.exitCode).toBe(3);
    expect(result.stderr.trim()).toBe('repro: --runtime c: liburing is missing; install it (Debian: apt-get install liburing-dev)');
  });
});
