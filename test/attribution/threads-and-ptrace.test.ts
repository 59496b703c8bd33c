/**
 * Issue 18 item 11, on real C programs through the built CLI: the pipes of a
 * thread that lives only long enough to make them are the call's, never
 * "inherited" (strace -f prints the thread's calls and exit before its
 * parent's clone line, and /proc no longer has it when the line is read);
 * a program that uses ptrace itself is refused by name and at once (exit 4),
 * not left hanging in wait4 and blamed for an unfinished reload.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunDocument } from '../../src/model/run-document.js';
import { repro } from '../support/cli.js';

const service = (name: string) => fileURLToPath(new URL(`../fixtures/services/${name}`, import.meta.url));
const PYTHON = execFileSync('python3', ['-c', 'import sys; print(sys.executable)'], { encoding: 'utf8' }).trim();

let dir: string;
const bin = (name: string) => join(dir, name);
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'repro-attr-threads-'));
  execFileSync('gcc', ['-O2', '-Wall', '-pthread', '-o', bin('short-thread'), service('leaks-pipe-from-a-short-thread-per-hup.c')]);
  execFileSync('gcc', ['-O2', '-Wall', '-o', bin('ptraces'), service('ptraces-a-child-per-hup.c')]);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function watch(command: string[], reloads: number, extra: string[] = []) {
  const out = join(dir, `run-${Math.random().toString(36).slice(2)}.json`);
  const result = await repro(['watch', '--attribute', '--reloads', String(reloads), '--out', out, ...extra, '--', ...command], { timeout: 90_000 });
  return { result, doc: JSON.parse(readFileSync(out, 'utf8')) as RunDocument };
}

describe('--attribute on a thread per reload', () => {
  it('every pipe a short-lived thread made is attributed to pipe2, first at its reload; none is labelled inherited', async () => {
    const { result, doc } = await watch([bin('short-thread')], 20);
    expect(result.exitCode, result.stderr).toBe(1);
    const groups = doc.attribution?.groups ?? [];
    expect(groups.filter((g) => g.origin !== 'call').map((g) => `${g.origin}: fd ${g.fds.join(', ')}`)).toEqual([]);
    expect(groups.length).toBe(1);
    expect(groups[0]).toMatchObject({ syscall: 'pipe2', count: 40, perReload: 2, createdAtReload: 1, frameOrigin: 'program' });
    expect(groups[0]?.frames[0]?.symbol).toBe('open_reload_pipe');
    expect(doc.attribution?.attributed).toBe(40);
  }, 120_000);
});

describe('--attribute on a program that uses ptrace', () => {
  const refusal = /^cannot attribute: the program uses ptrace \(pid \d+ called ptrace\((PTRACE_\w+)[^)]*\) = -1 EPERM/;

  it('a reload that PTRACE_TRACEMEs a child and waits for its stop: refused by name within seconds (exit 4), not "stuck in wait4"', async () => {
    const started = performance.now();
    // A settle timeout of 30 s: a run that waited on the hung reload would take that long.
    const { result, doc } = await watch([bin('ptraces')], 3, ['--settle-timeout', '30000']);
    expect(result.exitCode, result.stdout).toBe(4);
    expect(doc.end.reason).toBe('probe-failed');
    expect(doc.end.detail).toMatch(refusal);
    expect(refusal.exec(doc.end.detail ?? '')?.[1]).toBe('PTRACE_TRACEME');
    expect(result.stdout).not.toContain('stuck in wait4');
    expect(result.stdout).toContain('INCONCLUSIVE: cannot attribute: the program uses ptrace');
    expect(performance.now() - started).toBeLessThan(20_000);
  }, 60_000);

  it('a program run under strace itself: refused by name (exit 4), with what it did then', async () => {
    const { result, doc } = await watch(['strace', '-f', '-o', '/dev/null', PYTHON, service('leaks-pipe-per-hup.py')], 3);
    expect(result.exitCode, result.stdout).toBe(4);
    expect(doc.end.detail).toMatch(refusal);
    expect(doc.end.detail).toContain('watch it without --attribute');
  }, 60_000);
});
