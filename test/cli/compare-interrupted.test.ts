import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { BIN } from '../support/cli.js';
import { marker, markedLeftAfter } from '../support/marked.js';
import { procFile, waitFor } from '../support/processes.js';

describe('Ctrl-C during compare', () => {
  it('exits 130 and says INCONCLUSIVE, never FAIL or PASS: the roles it did not finish showed nothing', async () => {
    const mark = marker();
    const env = { NO_COLOR: '1', GITHUB_STEP_SUMMARY: '', REPRO_SUITE_ID: process.env.REPRO_SUITE_ID ?? '', PATH: process.env.PATH ?? '', ...mark.env };
    const cli = execa(process.execPath, [BIN, 'compare', '--reloads', '10000000', '--no-chart'], { reject: false, stdin: 'ignore', env, extendEnv: false });
    try {
      await waitFor('the correct child', () => mark.alive().find((pid) => pid !== cli.pid && procFile(pid, 'cmdline', 'latin1')?.includes('sighup-listener/node/correct')));
      cli.kill('SIGINT');
      const result = await cli;
      expect(result.exitCode).toBe(130);
      expect(result.stdout).toMatch(/^INCONCLUSIVE: \w+ was interrupted \(aborted[^)]*\); no verdict$/m);
      expect(result.stdout).not.toMatch(/^(PASS|FAIL):/m);
      expect(await markedLeftAfter(mark, 2000)).toEqual([]);
    } finally {
      cli.kill('SIGKILL');
      mark.killAll();
    }
  });

  it('a trials compare interrupted while a trial waits for its child exits at once, not when the trial\'s wait would have ended', async () => {
    const mark = marker();
    const env = { NO_COLOR: '1', GITHUB_STEP_SUMMARY: '', REPRO_SUITE_ID: process.env.REPRO_SUITE_ID ?? '', PATH: process.env.PATH ?? '', ...mark.env };
    const cli = execa(process.execPath, [BIN, 'compare', '--scenario', 'signal-coalescing', '--runtime', 'python', '--no-chart'], { reject: false, stdin: 'ignore', env, extendEnv: false });
    try {
      await waitFor('a trial child', () => mark.alive().find((pid) => pid !== cli.pid && procFile(pid, 'cmdline', 'latin1')?.includes('signal-coalescing')));
      // Into the trials, where each waits up to 15 s for its child's line.
      await new Promise((r) => setTimeout(r, 1000));
      const t0 = performance.now();
      cli.kill('SIGINT');
      const result = await cli;
      // A pending 15 s event wait kept the process alive 15 s after it printed its result.
      expect(performance.now() - t0).toBeLessThan(5000);
      expect(result.exitCode).toBe(130);
      expect(await markedLeftAfter(mark, 2000)).toEqual([]);
    } finally {
      cli.kill('SIGKILL');
      mark.killAll();
    }
  });
});
