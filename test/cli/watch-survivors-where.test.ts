/**
 * Where the survivors are: two forked workers that leak alike hold half each, and the gate's line
 * names both with their share, not only the one that grew most. Real Python master + workers.
 */
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { RunDocument } from '../../src/model/run-document.js';
import { repro } from '../support/cli.js';

const SERVICE = fileURLToPath(new URL('../fixtures/services/forwards-hup-to-two-workers-each-leaking-a-pipe.py', import.meta.url));

describe('survivors held by two processes', () => {
  it('the failing check names both workers and what each holds', async () => {
    const result = await repro(['watch', '--reloads', '8', '--settle', '60', '--json', '--no-chart', '--', 'python3', SERVICE], { timeout: 60_000 });
    expect(result.exitCode, result.stderr).toBe(1);
    const run = JSON.parse(result.stdout) as RunDocument;
    const holders = (run.survivors?.byProcess ?? []).filter((p) => p.survived > 0);
    expect(holders).toHaveLength(2);
    expect(holders.map((p) => p.survived)).toEqual([12, 12]);
    const check = run.verdict.checks.find((c) => c.id === 'survivors');
    expect(check?.ok).toBe(false);
    expect(check?.text).toContain(`(24 pipe in 2 processes: ${holders.map((p) => `pid ${p.pid} 12`).join(', ')})`);
  });
});
