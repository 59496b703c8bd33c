// repro list: every scenario of the registry, its roles and runtimes, and whether each runtime can run here.
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ListedScenario } from '../../src/cli/commands/list.js';
import { SCENARIOS } from '../../src/scenarios/index.js';
import { repro } from '../support/cli.js';

describe('repro list', () => {
  it('--json lists every registered scenario with its roles, runtimes (available here or why not) and metrics', async () => {
    const result = await repro(['list', '--json']);
    expect(result.exitCode).toBe(0);
    const list = JSON.parse(result.stdout) as ListedScenario[];
    expect(list.map((s) => s.name)).toEqual(SCENARIOS.map((s) => s.name));
    const listener = list.find((s) => s.name === 'sighup-listener');
    expect(listener?.roles.map((r) => r.name)).toEqual(['broken', 'correct', 'tokio-per-reload']);
    expect(listener?.roles.find((r) => r.name === 'tokio-per-reload')?.runtimes).toEqual(['rust']);
    expect(listener?.runtimes.find((r) => r.name === 'node')).toEqual({ name: 'node', available: true });
    for (const s of list) for (const r of s.runtimes) expect(r.available || (r.why ?? '').length > 0).toBe(true);
  });

  it('with nothing on PATH but node: rust and python are not here, each with what to install; node still is', async () => {
    const bin = mkdtempSync(join(tmpdir(), 'repro-path-'));
    try {
      symlinkSync(process.execPath, join(bin, 'node'));
      const result = await repro(['list', '--json'], { env: { PATH: bin } });
      const list = JSON.parse(result.stdout) as ListedScenario[];
      const runtimes = new Map(list.flatMap((s) => s.runtimes).map((r) => [r.name, r]));
      expect(runtimes.get('node')?.available).toBe(true);
      expect(runtimes.get('rust')).toMatchObject({ available: false, why: expect.stringMatching(/cargo.*apt-get install -y cargo librust-tokio-dev/) });
      expect(runtimes.get('python')).toMatchObject({ available: false, why: expect.stringMatching(/python3.*apt-get install python3/) });
    } finally {
      rmSync(bin, { recursive: true, force: true });
    }
  });

  it('prints one block per scenario with a command to try', async () => {
    const result = await repro(['list']);
    expect(result.exitCode).toBe(0);
    for (const s of SCENARIOS) expect(result.stdout).toContain(`repro compare --scenario ${s.name}`);
    expect(result.stdout).not.toContain('[object');
  });

  it('at COLUMNS=80 every line fits, each role\'s text wrapped under its own column; in a pipe each line stays whole', async () => {
    const wrapped = await repro(['list'], { env: { COLUMNS: '80' } });
    expect(wrapped.exitCode).toBe(0);
    const lines = wrapped.stdout.split('\n');
    expect(lines.filter((l) => [...l].length > 80)).toEqual([]);
    // A name wider than the role column (masked-during-request) takes its own line; its text starts under the others'.
    const at = lines.indexOf('  masked-during-request');
    expect(at).toBeGreaterThan(0);
    expect(lines[at + 1]).toMatch(/^ {21}\S/);
    const whole = await repro(['list'], { env: { COLUMNS: '' } });
    expect(whole.stdout).toMatch(/^ {2}masked-during-request \S.*stall instead$/m);
  });
});
