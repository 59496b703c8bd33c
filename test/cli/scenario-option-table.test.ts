// Scenario options are declared once, in the scenario: the option table of broken/correct/compare is built from the declarations.
import { describe, expect, it } from 'vitest';
import { scenarioCommandDefaults, scenarioCommandOptions } from '../../src/cli/options.js';
import { SCENARIO_DEFAULTS } from '../../src/cli/scenario-options.js';
import { SCENARIOS } from '../../src/scenarios/index.js';
import type { Scenario } from '../../src/scenarios/types.js';
import { sighupListener } from '../../src/scenarios/sighup-listener/scenario.js';

const withOption = (name: string, flag: string): Scenario => ({ ...sighupListener, name, options: [{ key: 'colour', flag, help: 'the colour of the wire', choices: ['red', 'blue'], default: 'red' }] });

describe('the option table of broken/correct/compare', () => {
  it('carries every option a scenario declares, after --runtime, its help naming the scenario', () => {
    const flags = scenarioCommandOptions().map((o) => o.long);
    expect(flags.slice(0, 3)).toEqual(['--scenario', '--runtime', '--channel']);
    for (const declared of SCENARIOS.flatMap((s) => s.options)) expect(flags).toContain(declared.flag.split(' ')[0]);
    expect(scenarioCommandOptions().find((o) => o.long === '--channel')?.description).toBe("sighup-listener's native wake-up channel (Node children): pipe or signalfd");
  });

  it("takes a new scenario's option from its declaration alone: flag, help, choices, default", () => {
    const option = scenarioCommandOptions([withOption('wires', '--colour <name>')]).find((o) => o.long === '--colour');
    expect(option?.description).toBe("wires's the colour of the wire");
    expect(option?.defaultValue).toBe('red');
    const parse = option?.parseArg as (value: string, previous: unknown) => unknown;
    expect(parse('blue', undefined)).toBe('blue');
    expect(() => parse('green', undefined)).toThrow("--colour takes one of red, blue, got 'green'.");
    expect(scenarioCommandDefaults([withOption('wires', '--colour <name>')]).colour).toBe('red');
  });

  it('refuses two declarations of one flag, or a scenario flag the shared options already have', () => {
    expect(() => scenarioCommandOptions([withOption('a', '--colour <name>'), withOption('b', '--colour <c>')])).toThrow('b declares --colour, which a already has');
    expect(() => scenarioCommandOptions([withOption('a', '--ulimit <name>')])).toThrow('a declares --ulimit, which the shared run options already has');
  });

  it("gives a run every scenario option's default", () => {
    expect(SCENARIO_DEFAULTS.channel).toBe('pipe');
    expect(SCENARIO_DEFAULTS.reloads).toBe(500);
  });
});
