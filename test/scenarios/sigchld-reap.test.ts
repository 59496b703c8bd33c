/**
 * sigchld-reap with its real C servers: one compare through the CLI (its
 * document validated against the schema), and the zombies also counted here,
 * straight from every /proc/N/stat, after a burst this test asks for itself.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { describe, expect, it } from 'vitest';
import { launchChild } from '../../src/harness/launch.js';
import type { CompareDocument } from '../../src/model/run-document.js';
import { cChild } from '../../src/runtimes/c.js';
import { reproJson } from '../support/cli.js';

const schema = JSON.parse(readFileSync(new URL('../../schema/run-document.schema.json', import.meta.url), 'utf8')) as object;
const validate = new Ajv2020({ strict: true, allErrors: true, validateFormats: false }).compile(schema);

/** The children of `pid`, read here from every /proc/N/stat: how many have exited unreaped (Z) and how many still run. */
function childrenOf(pid: number): { zombies: number; running: number } {
  const counts = { zombies: 0, running: 0 };
  for (const name of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    let stat: string;
    try {
      stat = readFileSync(`/proc/${name}/stat`, 'utf8');
    } catch {
      continue;
    }
    const [state, ppid] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (Number(ppid) !== pid) continue;
    if (state === 'Z') counts.zombies++;
    else counts.running++;
  }
  return counts;
}

/**
 * Bursts of 20 exits, each waited for until the server has forked it and every child has exited, then the
 * zombies counted. A starved machine can hand the server one SIGCHLD per exit (nothing coalesces, so even
 * the broken one reaps them all): the broken server gets up to three bursts; its zombies stay between them.
 */
async function burstThenCount(role: 'broken' | 'correct'): Promise<number> {
  const child = launchChild({ command: cChild('src/scenarios/sigchld-reap/c/server.c', [role, '20']) });
  try {
    let forked = 0;
    child.output.onOtherEvent((e) => e.event === 'forked' && forked++);
    await child.output.waitFor((e) => e.event === 'ready', 15_000, 'ready');
    let zombies = 0;
    for (let burst = 0; burst < (role === 'broken' ? 3 : 1) && zombies === 0; burst++) {
      process.kill(child.pid, 'SIGUSR1');
      for (let i = 0; i < 500 && (forked <= burst || childrenOf(child.pid).running > 0); i++) await new Promise((r) => setTimeout(r, 20));
      expect(forked).toBe(burst + 1);
      expect(childrenOf(child.pid).running).toBe(0);
      zombies = childrenOf(child.pid).zombies;
    }
    return zombies;
  } finally {
    await child.stop(2000);
  }
}

describe('sigchld-reap, C servers', () => {
  it('compare: broken leaves zombies in every trial, correct none; the document validates', async () => {
    const { exitCode, run, stderr } = await reproJson<CompareDocument>(['compare', '--scenario', 'sigchld-reap', '--reloads', '2'], { timeout: 60_000 });
    expect(exitCode, stderr).toBe(0);
    expect(validate(run), JSON.stringify(validate.errors)).toBe(true);
    const [broken, correct] = run!.runs;
    expect(broken?.trials?.results.map((r) => r.outcome)).toEqual(['zombies-left', 'zombies-left']);
    for (const r of broken?.trials?.results ?? []) expect(r.counts.zombies).toBeGreaterThan(0);
    expect(correct?.trials?.results.map((r) => [r.outcome, r.counts.zombies])).toEqual([
      ['all-reaped', 0],
      ['all-reaped', 0],
    ]);
  }, 60_000);

  it('counted here from /proc: a burst of 20 exits leaves the broken server zombies and the correct one none', async () => {
    const [broken, correct] = await Promise.all([burstThenCount('broken'), burstThenCount('correct')]);
    expect(broken).toBeGreaterThan(0);
    expect(correct).toBe(0);
  }, 40_000);
});
