// The CLI as a user meets it: a real process, its exit code, what it prints.
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { CompareDocument, RunDocument } from '../../src/model/run-document.js';
import { repro } from '../support/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'repro-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('bad input: one line naming the flag and the fix, exit 2, no stack trace', () => {
  it.each([
    [['broken', '--ulimit', 'abc'], /--ulimit takes a whole number from 8 to 1048576, got 'abc'/],
    [['broken', '--ulimit', '-5'], /--ulimit/],
    [['correct', '--reloads', '0'], /--reloads takes a whole number from 1 to 10000000, got '0'/],
    [['correct', '--reloads', '1.5'], /--reloads takes a whole number/],
    [['broken', '--channel', 'eventfd'], /--channel takes one of pipe, signalfd, got 'eventfd'/],
    [['broken', '--scenario', 'nope'], /--scenario nope is not known; use one of: sighup-listener/],
    [['compare', '--max-growth', 'lots'], /--max-growth takes a number from 0 to 1000000, got 'lots'/],
    [['broken', '--ulimit', '1000000'], /--ulimit 1000000 is above this shell's hard limit \d+; use --ulimit \d+ or less/],
    [['brokn'], /^repro: unknown command 'brokn': did you mean broken\?$/],
    [['broken', '--ulimt', '64'], /unknown option '--ulimt'/],
    // commander's own "command-argument value … is invalid for argument" wording is replaced by the parser's sentence.
    [['probe', 'abc'], /^repro: <pid> takes a whole number from 1 to 4194304, got 'abc'\.$/],
  ])('repro %j', async (args, message) => {
    const result = await repro(args);
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toMatch(message);
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });

  it('says what --ulimit a child needs when it is below the child baseline', async () => {
    const result = await repro(['broken', '--ulimit', '12']);
    expect(result.exitCode).toBe(2);
    const [, held, need] = /^repro: --ulimit 12 is below what the broken child needs to start \((\d+) fds when ready, then 2 more per reload\); use --ulimit (\d+) or more$/.exec(result.stderr) ?? [];
    expect(held).toMatch(/^\d+$/);
    expect(Number(need)).toBe(Number(held) + 2);
  });

  it('an output path in a missing directory: exit 3, naming the flag and the fix', async () => {
    const result = await repro(['broken', '--out', join(dir, 'missing', 'run.json')]);
    expect(result.exitCode).toBe(3);
    expect(result.stderr).toMatch(/--out .*run\.json: cannot write \(its directory does not exist\); pick a path in an existing, writable directory/);
  });
});

describe('repro broken / correct / compare', () => {
  it('broken prints the summary and chart and exits 0 when the leak shows as expected', async () => {
    const result = await repro(['broken']);
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toMatch(/register failure EMFILE at reload (\d+) \(predicted \1\)/);
    expect(result.stdout).toMatch(/signal handling\s+DEAD/);
    expect(result.stdout).toContain('╌╌ limit 64');
    expect(result.stdout).toContain('MaxListenersExceededWarning');
    // No progress line and no colour in a non-TTY log.
    expect(result.stderr).toBe('');
    expect(result.stdout).not.toContain('\x1b[');
  });

  it('correct --json prints a run document with every sample and writes the same to --out', async () => {
    const out = join(dir, 'correct.json');
    const result = await repro(['correct', '--reloads', '50', '--json', '--out', out]);
    expect(result.exitCode).toBe(0);
    const printed = JSON.parse(result.stdout) as RunDocument;
    expect(printed.samples).toHaveLength(51);
    expect(printed.verdict.pass).toBe(true);
    expect(JSON.parse(readFileSync(out, 'utf8'))).toEqual(printed);
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('compare exits 0 and its JSON carries both runs with samples and verdicts', async () => {
    const result = await repro(['compare', '--json']);
    expect(result.exitCode).toBe(0);
    const doc = JSON.parse(result.stdout) as CompareDocument;
    expect(doc.kind).toBe('compare');
    expect(doc.verdict.pass).toBe(true);
    expect(doc.runs[0]!.measured.registerFailure).toBe('EMFILE');
    expect(doc.runs[1]!.samples).toHaveLength(501);
  });

  it('compare refuses, before the run, reloads too few for the broken child to reach EMFILE (exit 2, the number it needs)', async () => {
    const result = await repro(['compare', '--reloads', '5']);
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toMatch(/^repro: --reloads 5 is too few for the broken child to reach EMFILE: .* so EMFILE comes at reload (\d+); use --reloads \1 or more \(or a lower --ulimit\)$/);
    expect(result.stdout).toBe('');
  });

  it('colour follows FORCE_COLOR', async () => {
    const result = await repro(['correct', '--reloads', '3'], { env: { FORCE_COLOR: '1' } });
    expect(result.stdout).toContain('\x1b[');
  });
});

describe('output paths that cannot be written', () => {
  it.each([
    ['a read-only directory (sysfs refuses even root)', '/sys/run.json', 'its directory is not writable'],
    ['a directory', '/tmp', 'it is a directory'],
  ])('%s: exit 3 before the run, naming the flag and the fix', async (_what, path, why) => {
    const result = await repro(['correct', '--out', path]);
    expect(result.exitCode).toBe(3);
    expect(result.stderr).toBe(`repro: --out ${path}: cannot write (${why}); pick a path in an existing, writable directory`);
    expect(result.stdout).toBe('');
  });
});
