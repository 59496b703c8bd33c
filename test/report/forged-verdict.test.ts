// repro report judges the saved record again: a verdict edited to pass on a run that failed is not believed.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import type { RunDocument } from '../../src/model/run-document.js';
import { repro } from '../support/cli.js';

const service = (name: string) => fileURLToPath(new URL(`../fixtures/services/${name}`, import.meta.url));

describe('a forged verdict in a saved document (issue 20, item 4)', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  it('verdict.pass: true on a leaking run: repro report still says FAIL, exits 1, and the JUnit has the failure', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'repro-forged-'));
    dirs.push(dir);
    const saved = join(dir, 'run.json');
    // A real run of a service that leaks a pipe per SIGHUP: it fails.
    const run = await repro(['watch', '--reloads', '6', '--out', saved, '--', 'python3', service('leaks-pipe-per-hup.py')]);
    expect(run.exitCode).toBe(1);
    const doc = JSON.parse(readFileSync(saved, 'utf8')) as RunDocument;
    expect(doc.verdict.pass).toBe(false);
    // Forged: the verdict says pass, every check ok, the rest of the record untouched.
    const forged = { ...doc, verdict: { ...doc.verdict, pass: true, checks: doc.verdict.checks.map((c) => ({ ...c, ok: true })) } };
    const file = join(dir, 'forged.json');
    writeFileSync(file, JSON.stringify(forged));
    const junit = join(dir, 'junit.xml');
    const out = join(dir, 'again.json');
    const report = await repro(['report', file, '--junit', junit, '--out', out]);
    expect(report.exitCode).toBe(1);
    expect(report.stdout).toMatch(/\nFAIL: /);
    expect(report.stdout).not.toMatch(/\nPASS: /);
    expect(report.stdout).toMatch(/FAIL: 2 fds\/reload still open at the end/);
    expect(readFileSync(junit, 'utf8')).toMatch(/failures="1"/);
    const again = JSON.parse(readFileSync(out, 'utf8')) as RunDocument;
    expect(again.verdict).toEqual(doc.verdict);
    expect(again.measurement).toBe('tree');
  });
});
