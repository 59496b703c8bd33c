/**
 * `repro rules`: the rules in rules/ are what the command prints, promtool
 * accepts them, and promtool's unit tests (rules/repro-rules.test.yml) show
 * each rule firing on a leak and silent on a flat process and a bounded cache.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { RULES_DEFAULTS, rulesYaml } from '../../src/monitor/rules.js';
import { findOnPath } from '../../src/util/find-executable.js';
import { repro } from '../support/cli.js';

const RULES_DIR = fileURLToPath(new URL('../../rules/', import.meta.url));
const promtool = findOnPath('promtool');
if (!promtool) console.log('promtool parts of rules.test.ts skipped: no promtool on PATH (apt-get install prometheus)');

describe('repro rules', () => {
  it('prints the rules checked in as rules/repro-rules.yml (regenerate with: repro rules > rules/repro-rules.yml)', async () => {
    const result = await repro(['rules']);
    expect(result.exitCode).toBe(0);
    // execa drops the last newline of what it captured.
    expect(`${result.stdout}\n`).toBe(readFileSync(join(RULES_DIR, 'repro-rules.yml'), 'utf8'));
    expect(rulesYaml(RULES_DEFAULTS)).toBe(`${result.stdout}\n`);
  });

  it('puts its options into the expressions', () => {
    const yaml = rulesYaml({ headroom: 0.25, hours: 2, windowMs: 1_800_000, forMs: 90_000, minSurvivors: 3 });
    expect(yaml).toContain('expr: repro_process_open_fds / repro_process_max_fds > 0.75');
    expect(yaml).toContain('expr: predict_linear(repro_process_open_fds[30m], 7200) >= repro_process_max_fds');
    expect(yaml).toContain('expr: delta(repro_process_reload_survivor_fds[30m]) >= 3');
    expect(yaml).toContain('for: 90s');
  });

  it.skipIf(!promtool)('promtool test rules: each rule fires on the leak and stays silent on the flat process and the bounded cache', () => {
    const out = execFileSync(promtool as string, ['test', 'rules', 'repro-rules.test.yml'], { cwd: RULES_DIR, encoding: 'utf8' });
    expect(out).toContain('SUCCESS');
  });

  it.skipIf(!promtool)('promtool check rules accepts the rules with other options too', () => {
    const dir = mkdtempSync(join(tmpdir(), 'repro-rules-'));
    try {
      writeFileSync(join(dir, 'r.yml'), rulesYaml({ headroom: 0.05, hours: 0.5, windowMs: 5000, forMs: 0, minSurvivors: 1 }));
      expect(execFileSync(promtool as string, ['check', 'rules', join(dir, 'r.yml')], { encoding: 'utf8' })).toContain('SUCCESS: 3 rules found');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
