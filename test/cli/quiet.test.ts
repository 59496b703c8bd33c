import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import type { RunDocument } from '../../src/model/run-document.js';
import { repro } from '../support/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'repro-quiet-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const leaky = fileURLToPath(new URL('../fixtures/services/leaks-pipe-per-hup.py', import.meta.url));

describe('--quiet prints the verdict line alone and changes nothing else', () => {
  it('compare -q: one line, PASS, exit 0', async () => {
    const { stdout, stderr, exitCode } = await repro(['compare', '-q', '--reloads', '30']);
    expect(exitCode).toBe(0);
    expect(stdout).toBe('PASS: broken leaks to EMFILE, correct stays flat');
    expect(stderr).toBe('');
  });

  it('watch --quiet of a leaking program: one FAIL line, exit 1, and --out still holds the whole run', async () => {
    const out = join(dir, 'leak.json');
    const { stdout, exitCode } = await repro(['watch', '--quiet', '--reloads', '5', '--out', out, '--', 'python3', leaky]);
    expect(exitCode).toBe(1);
    expect(stdout.split('\n')).toHaveLength(1);
    expect(stdout).toMatch(/^FAIL: /);
    const run = JSON.parse(readFileSync(out, 'utf8')) as RunDocument;
    expect(run.samples.length).toBeGreaterThan(5);
    expect(run.verdict.pass).toBe(false);
    // The saved run, shown in full, has the same verdict line first; the quiet line adds what broke it, the first failed check.
    const full = await repro(['report', out, '--no-chart']);
    const [verdict, figure] = stdout.split('; ');
    expect(full.stdout).toContain(`\n${verdict}\n`);
    expect(figure).toBe(run.verdict.checks.find((c) => !c.ok)?.text);
    expect(figure).toMatch(/fds\/reload still open at the end/);
  });
});
