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
});
