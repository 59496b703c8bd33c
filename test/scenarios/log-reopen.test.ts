/**
 * log-reopen with its real children (Node and Python): the harness rotates the
 * log (rename) before each real SIGHUP. The fds are also read here, straight
 * from /proc/PID/fd at every sample, independently of repro's probe and verdict.
 */
import { describe, expect, it } from 'vitest';
import { runPattern, SCENARIO_DEFAULTS, type ScenarioOptions } from '../../src/cli/commands/scenario.js';
import type { LaunchedChild } from '../../src/harness/launch.js';
import { fdTargets } from '../support/processes.js';

const options = (runtime: string, over: Partial<ScenarioOptions> = {}): ScenarioOptions => ({
  ...SCENARIO_DEFAULTS,
  scenario: 'log-reopen',
  runtime,
  ackTimeout: 5000,
  readyTimeout: 15_000,
  ...over,
});

/**
 * What the child's fd table says about its log files, read from /proc by this test; NaN counts when the
 * child exited between its sample and this read (broken at EMFILE: only the reloads before it are asserted).
 */
function logFds(pid: number): { all: number; deleted: number; live: number } {
  const targets = fdTargets(pid);
  if (targets === undefined) return { all: Number.NaN, deleted: Number.NaN, live: Number.NaN };
  const logs = targets.filter((t) => t.includes('repro-log-reopen-'));
  const deleted = logs.filter((t) => t.endsWith(' (deleted)')).length;
  return { all: targets.length, deleted, live: logs.length - deleted };
}

async function observed(runtime: string, role: 'broken' | 'correct', over: Partial<ScenarioOptions> = {}) {
  let pid = 0;
  const seen: { reload: number; fromProc: ReturnType<typeof logFds> }[] = [];
  const run = await runPattern(role, options(runtime, over), {
    onChild: (child: LaunchedChild) => {
      pid = child.pid;
    },
    onSample: (sample) => seen.push({ reload: sample.reload, fromProc: logFds(pid) }),
  });
  return { run, seen };
}

describe.each(['node', 'python'])('log-reopen, %s children', (runtime) => {
  it('broken: each rotation leaves one more fd on a rotated, then deleted, log until EMFILE where predicted; SIGHUP still handled after', async () => {
    const { run, seen } = await observed(runtime, 'broken');
    const emfileAt = run.measured.emfileAtReload as number;
    expect(run.measured.registerFailure).toBe('EMFILE');
    // Counted from /proc here: reload k holds k + 1 log fds, k − 1 of them on deleted files.
    for (const { reload, fromProc } of seen.filter((s) => s.reload < emfileAt)) {
      expect(fromProc.live + fromProc.deleted).toBe(reload + 1);
      expect(fromProc.deleted).toBe(Math.max(0, reload - 1));
      expect(fromProc.all - seen[0]!.fromProc.all).toBe(reload);
    }
    const slots = run.measured.baselineFds - run.fdsAboveLimitAtStart;
    expect(emfileAt).toBe(64 - slots + 1);
    expect(run.measured.signalHandling).toBe('alive');
    expect(run.events).toContainEqual(expect.objectContaining({ event: 'register-failed', code: 'EMFILE' }));
    expect(run.samples.at(-2)?.metrics?.deletedKb).toBeGreaterThan(0);
    expect(run.verdict.pass).toBe(true);
  });

  it('correct: one log fd, never a deleted one, over 200 rotations', async () => {
    const { run, seen } = await observed(runtime, 'correct', { reloads: 200 });
    expect(seen).toHaveLength(201);
    for (const { fromProc } of seen) expect(fromProc).toMatchObject({ live: 1, deleted: 0 });
    expect(run.measured.growthPerReload).toBe(0);
    expect(run.measured.metrics.listeners).toMatchObject({ start: 1, end: 1 });
    expect(run.verdict.pass).toBe(true);
  });
});
