import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { repro } from '../support/cli.js';

const commands = ['broken', 'correct', 'compare', 'list', 'watch', 'drain', 'report', 'probe'];

describe('every command’s --help ends with examples a newcomer can copy', () => {
  it.each(commands)('repro %s --help: two or more examples of that command, only its own flags, within 80 columns', async (name) => {
    const { stdout, exitCode } = await repro([name, '--help'], { env: { COLUMNS: '80' } });
    expect(exitCode).toBe(0);
    const [options = '', examples] = stdout.split('\nExamples:\n');
    expect(examples, 'no Examples block').toBeDefined();
    const lines = (examples ?? '').trimEnd().split('\n');
    const commandLines = lines.filter((l) => l.startsWith('  $ '));
    expect(commandLines.length).toBeGreaterThanOrEqual(2);
    for (const line of commandLines) {
      expect(line).toMatch(new RegExp(`^  \\$ npx repro ${name}( |$)`));
      // Every flag an example uses is one the command's own --help lists (the part before --, the program's own args, is repro's).
      const ours = line.slice(4).split(' -- ')[0] ?? '';
      for (const flag of ours.match(/(?<= )--[a-z-]+/g) ?? []) expect(options, `${line}: ${flag}`).toMatch(new RegExp(`\\s${flag}[ ,=\\n]`));
    }
    for (const line of lines) expect(line.length, line).toBeLessThanOrEqual(80);
  });
});

describe('the words of the summaries', () => {
  it.each(['watch', 'drain', 'compare'])('repro %s --help points to the glossary, which exists and explains them', async (name) => {
    const { stdout } = await repro([name, '--help'], { env: { COLUMNS: '80' } });
    expect(stdout).toContain('docs/glossary.md');
    const glossary = readFileSync(new URL('../../docs/glossary.md', import.meta.url), 'utf8');
    for (const word of ['floor', 'settle', 'survivors', 'completion', 'lag window', 'routing lag', 'reload window']) expect(glossary.toLowerCase(), word).toContain(`**${word}**`);
  });

  it('--seed says what a seed fixes and what it cannot: two runs with one seed lost 34 and 56', async () => {
    for (const name of ['drain', 'compare']) {
      const { stdout } = await repro([name, '--help'], { env: { COLUMNS: '80' } });
      expect(stdout.replace(/\s+/g, ' '), name).toMatch(/--seed <n> .*the same seed sends the same plan, but how many requests are lost still varies from run to run/);
    }
  });
});
