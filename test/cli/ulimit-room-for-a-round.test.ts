/**
 * A scenario whose reload opens more than it leaves (runtime-teardown starts and stops a runtime per
 * round) needs --ulimit room for a whole round. Below that even the correct child fails with EMFILE: it
 * is a usage error naming the --ulimit that works, never a FAIL verdict. Above it, EMFILE comes where the
 * verdict predicts it, with the round's peak counted. Python's child: the quickest real one.
 */
import { describe, expect, it } from 'vitest';
import type { CompareDocument } from '../../src/model/run-document.js';
import { repro } from '../support/cli.js';

const COMPARE = ['compare', '--scenario', 'runtime-teardown', '--runtime', 'python', '--no-chart'];

describe('runtime-teardown under a low --ulimit', () => {
  it('too low for one round: exit 2, one line with the limit that works, no verdict', async () => {
    const result = await repro([...COMPARE, '--ulimit', '12'], { timeout: 120_000 });
    expect(result.exitCode, result.stdout).toBe(2);
    const [, ready, need] = /^repro: --ulimit 12 leaves the broken child no room to leak \((\d+) fds when ready, then 8 more per reload; one reload holds 12 more at its peak\); use --ulimit (\d+) or more$/.exec(result.stderr.trim()) ?? [];
    expect(Number(need)).toBe(Number(ready) + 12);
    expect(result.stdout).not.toMatch(/PASS|FAIL/);
  });

  it('room for a round but not for two: broken reaches EMFILE at round 2, as predicted with the peak counted, and correct passes', async () => {
    const result = await repro([...COMPARE, '--ulimit', '20', '--json'], { timeout: 120_000 });
    expect(result.exitCode, result.stderr).toBe(0);
    const doc = JSON.parse(result.stdout) as CompareDocument;
    const broken = doc.runs.find((r) => r.role === 'broken');
    expect(broken?.peakFdsPerReload).toBe(12);
    expect(broken?.measured.emfileAtReload).toBe(2);
    expect(broken?.measured.predictedEmfileAtReload).toBe(2);
    expect(doc.runs.find((r) => r.role === 'correct')?.verdict.pass).toBe(true);
  });
});
