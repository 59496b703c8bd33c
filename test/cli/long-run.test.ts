// 100 000 reloads of the correct child through the real CLI: the child's fds stay flat and the
// harness's memory stays bounded (samples are thinned to at most 10 000; peak RSS measured ~100 MB).
import { describe, expect, it } from 'vitest';
import type { RunDocument } from '../../src/model/run-document.js';
import { repro } from '../support/cli.js';

describe('a long run', () => {
  it('100 000 reloads: fds flat, at most 10 001 samples kept, harness peak RSS under 160 MiB', { timeout: 180_000 }, async () => {
    const result = await repro(['correct', '--reloads', '100000', '--json'], { timeout: 170_000 });
    expect(result.exitCode).toBe(0);
    const run = JSON.parse(result.stdout) as RunDocument;
    expect(run.measured.reloadsDone).toBe(100_000);
    expect(run.measured.growthPerReload).toBe(0);
    expect(new Set(run.samples.map((s) => s.fds)).size).toBe(1);
    expect(run.samples.length).toBeLessThanOrEqual(10_001);
    expect(run.samples.at(-1)?.reload).toBe(100_000);
    expect(run.harnessPeakRssKb).toBeLessThan(160 * 1024);
  });
});
