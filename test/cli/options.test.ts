// One option table: a flag takes the same values in every command that has it, with that command's default.
import { describe, expect, it } from 'vitest';
import { repro } from '../support/cli.js';

describe('the option table', () => {
  it.each([
    ['correct', ['correct', '--reloads', '1', '--json']],
    ['watch', ['watch', '--reloads', '1', '--settle', '20', '--json', '--', 'sleep', '30']],
  ])('%s takes --max-growth up to 1 000 000, like every command that has the flag', async (_name, args) => {
    const result = await repro([...args.slice(0, 1), '--max-growth', '5000', ...args.slice(1)]);
    expect(result.stderr).not.toMatch(/--max-growth takes/);
    const doc = JSON.parse(result.stdout) as { verdict: { expectation: { maxGrowth: number } } };
    expect(doc.verdict.expectation.maxGrowth).toBe(5000);
  });

  it.each(['correct', 'watch', 'report'])('%s refuses --max-growth -1 with one line naming the flag and its range (exit 2)', async (command) => {
    const result = await repro([command, '--max-growth', '-1', ...(command === 'report' ? ['x.json'] : command === 'watch' ? ['--', 'true'] : [])]);
    expect(result.exitCode).toBe(2);
    expect(result.stderr.trim().split('\n')).toEqual([expect.stringContaining("--max-growth takes a number from 0 to 1000000, got '-1'")]);
  });
});
