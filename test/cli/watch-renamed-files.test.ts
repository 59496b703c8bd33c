/**
 * An fd is the object it refers to, not the name that object has now: a log rotated by renaming
 * (numbered, as logrotate does) keeps its fd, so a program that opens a new log per reload and never
 * closes the old one leaks one fd per reload even though every leaked file is renamed again by each
 * later rotation. Judged by survivors, it must fail (exit 1), never pass. A real Python service.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import type { RunDocument } from '../../src/model/run-document.js';
import { repro } from '../support/cli.js';

const SERVICE = fileURLToPath(new URL('../fixtures/services/rotates-numbered-logs-and-leaks-the-old-fd.py', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'repro-renamed-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('a leaked fd whose file is renamed by every later rotation', () => {
  it('survives as the same fd: 1 file per reload still open, exit 1', async () => {
    const result = await repro(['watch', '--reloads', '12', '--settle', '60', '--json', '--no-chart', '--', 'python3', SERVICE, dir], { timeout: 60_000 });
    expect(result.exitCode, result.stderr).toBe(1);
    const run = JSON.parse(result.stdout) as RunDocument;
    expect(run.survivors?.survivorsPerReload).toBe(1);
    expect(run.survivors?.byReload.map((r) => r.survived)).toEqual(Array(12).fill(1));
    expect(run.verdict.checks.find((c) => c.id === 'survivors')).toMatchObject({ ok: false });
  });
});
