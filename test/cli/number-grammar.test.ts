// One number grammar for every numeric option: decimal digits (a fraction where the option takes one), never hex, binary, octal or exponents.
import { describe, expect, it } from 'vitest';
import type { Command, Option } from 'commander';
import { buildProgram } from '../../src/cli/main.js';
import { repro } from '../support/cli.js';

/** Every option of every command whose parser takes a number, with its command's name. */
function numericOptions(): { command: string; option: Option }[] {
  const program = buildProgram(() => {});
  const out: { command: string; option: Option }[] = [];
  for (const command of program.commands as Command[]) {
    for (const option of command.options) {
      const parse = option.parseArg as ((value: string, previous: unknown) => unknown) | undefined;
      if (!parse) continue;
      let taken: unknown;
      try {
        taken = parse('10', undefined);
      } catch {
        continue;
      }
      if (typeof taken === 'number') out.push({ command: command.name(), option });
    }
  }
  return out;
}

describe('numeric options', () => {
  const options = numericOptions();

  it('are found in every run command (the table is read, not a list kept here)', () => {
    const names = new Set(options.map((o) => `${o.command} ${o.option.long}`));
    for (const expected of ['correct --max-growth', 'watch --max-growth', 'report --max-growth', 'compare --baseline-tolerance', 'watch --ready-timeout', 'drain --lag', 'probe --watch']) expect(names).toContain(expected);
  });

  it.each(['0x10', '0b1', '0o7', '1e3', '1E1', 'Infinity', '10abc', '+10', '1_000'])('refuse %j, naming the flag, in every command', (value) => {
    for (const { command, option } of options) {
      const parse = option.parseArg as (value: string, previous: unknown) => unknown;
      expect(() => parse(value, undefined), `${command} ${option.long} ${value}`).toThrow(new RegExp(`^${option.long} takes .* got '${value.replace(/[+]/g, '\\+')}'\\.$`));
    }
  });

  it('take plain decimal digits, and a fraction where the option takes one', () => {
    for (const { option } of options) expect((option.parseArg as (value: string, previous: unknown) => unknown)(' 20 ', undefined)).toBe(20);
    const maxGrowth = options.find((o) => o.command === 'watch' && o.option.long === '--max-growth')!.option;
    const parse = maxGrowth.parseArg as (value: string, previous: unknown) => unknown;
    expect(parse('0.05', undefined)).toBe(0.05);
    expect(parse('.5', undefined)).toBe(0.5);
    expect(parse('2.', undefined)).toBe(2);
  });

  it.each([
    ['correct', '--max-growth', '0x1'],
    ['watch', '--max-growth', '0x1'],
    ['report', '--max-growth', '1e3'],
    ['compare', '--baseline-tolerance', '0x1'],
  ])('%s %s %s: one line naming the flag, exit 2, before anything runs', async (command, flag, value) => {
    const result = await repro([command, flag, value, ...(command === 'report' ? ['x.json'] : command === 'watch' ? ['--', 'true'] : [])]);
    expect(result.exitCode).toBe(2);
    expect(result.stderr.trim().split('\n')).toEqual([expect.stringContaining(`${flag} takes a number from 0 to 1000000, got '${value}'.`)]);
    expect(result.stdout).toBe('');
  });
});

describe('--url', () => {
  it.each([
    ['http://127.0.0.1:0/', /--url http:\/\/127\.0\.0\.1:0\/: port 0 is not a port a server can answer on; give the port the server listens on/],
    ['http://[::1]:0/', /port 0 is not a port a server can answer on/],
    ['ftp://127.0.0.1/', /--url ftp:\/\/127\.0\.0\.1\/: ftp is not HTTP; the load speaks plain http only/],
    ['ws://127.0.0.1:8080/', /--url ws:\/\/127\.0\.0\.1:8080\/: ws is not HTTP/],
  ])('%s is refused before the server starts: one line, exit 2', async (url, message) => {
    const result = await repro(['drain', '--url', url, '--ready-timeout', '300', '--', 'sleep', '30']);
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toMatch(message);
    expect(result.stderr).not.toMatch(/TLS/);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
  });
});
