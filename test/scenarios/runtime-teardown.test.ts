/**
 * runtime-teardown with its real children (C io_uring, Node worker_threads,
 * Python asyncio), through runCompare as `repro compare --scenario
 * runtime-teardown --runtime …` runs it. The handles each child holds are also
 * counted here, straight from /proc/PID/fd at every sample, independently of
 * repro's probe, its identities and its verdict.
 */
import { describe, expect, it } from 'vitest';
import { runCompare, SCENARIO_DEFAULTS, type ScenarioOptions } from '../../src/cli/commands/scenario.js';
import type { LaunchedChild } from '../../src/harness/launch.js';
import type { RunDocument } from '../../src/model/run-document.js';
import { formatRun } from '../../src/report/summary.js';
import { argvOf, fdTargets, procLink } from '../support/processes.js';

const options = (runtime: string): ScenarioOptions => ({
  ...SCENARIO_DEFAULTS,
  scenario: 'runtime-teardown',
  runtime,
  ackTimeout: 10_000,
  readyTimeout: 20_000,
});

/**
 * What a round's handles look like from /proc: the C child opens its own binary, Node its own script, Python holds sockets.
 * NaN when the child exited between its sample and this read (broken stopped at EMFILE): the assertions use the rounds before.
 */
function handleCount(runtime: string, pid: number): number {
  const all = fdTargets(pid);
  if (all === undefined) return Number.NaN;
  if (runtime === 'python') return all.filter((t) => t.startsWith('socket:')).length;
  const own = runtime === 'c' ? procLink(pid, 'exe') : argvOf(pid)?.find((a) => a.endsWith('/runtime-teardown/node/child.js'));
  return own === undefined ? Number.NaN : all.filter((t) => t === own).length;
}

type RoundEvent = { event: 'round'; round: number; left: number; leftFds: { fd: number; inode: number }[]; phases: { name: string; ring?: { sqes: number; closeFds: number[] } }[] };
const rounds = (run: RunDocument) => run.events.filter((e) => e.event === 'round') as unknown as RoundEvent[];

async function compare(runtime: string) {
  const launched: number[] = [];
  const pids = new Map<string, number>();
  /**
   * The pid of a role's child: read from its argv once it has exec'd (at launch it may still be a fork of this process).
   * A child launched earlier may have exited by then (on a loaded machine broken can reach EMFILE and be
   * stopped before correct's first sample): skip it, as `ENOENT /proc/PID/cmdline` once failed the suite.
   */
  const pidOf = (role: string): number => {
    for (const pid of launched) {
      if (pids.has(role)) break;
      if (argvOf(pid)?.includes(role)) pids.set(role, pid);
    }
    return pids.get(role) as number;
  };
  const seen: Record<'broken' | 'correct', { reload: number; handles: number }[]> = { broken: [], correct: [] };
  const doc = await runCompare(options(runtime), {
    onChild: (child: LaunchedChild) => launched.push(child.pid),
    onSample: (sample, { pattern }) => seen[pattern as 'broken' | 'correct'].push({ reload: sample.reload, handles: handleCount(runtime, pidOf(pattern)) }),
  });
  const run = (role: string) => doc.runs.find((r) => r.role === role) as RunDocument;
  return { doc, broken: run('broken'), correct: run('correct'), seen };
}

describe.each(['c', 'node', 'python'])('runtime-teardown, %s children', (runtime) => {
  it('compare passes: broken leaves 8 fds per round until EMFILE where predicted, correct leaves none over 500 rounds (counted from /proc here too)', { timeout: 240_000 }, async () => {
    const { doc, broken, correct, seen } = await compare(runtime);

    // broken: 8 more handles after every round, counted here from /proc; EMFILE within 20 rounds, where predicted.
    const emfileAt = broken.measured.emfileAtReload as number;
    expect(broken.measured.registerFailure).toBe('EMFILE');
    expect(emfileAt).toBeLessThanOrEqual(20);
    expect(emfileAt).toBe(broken.measured.predictedEmfileAtReload);
    const base = seen.broken[0]!.handles;
    for (const { reload, handles } of seen.broken.filter((s) => s.reload < emfileAt)) expect(handles - base).toBe(8 * reload);
    expect(broken.measured.growthPerReload).toBe(8);
    expect(broken.samples.filter((s) => s.reload > 0 && s.reload < emfileAt).map((s) => s.metrics?.leftFds)).toEqual(Array(emfileAt - 1).fill(8));

    // Each fd left is counted once: the rounds' identities are all different, and add up to what /proc shows.
    const left = rounds(broken).flatMap((r) => r.leftFds.map((f) => `${f.fd}:${f.inode}`));
    expect(new Set(left).size).toBe(left.length);
    expect(left).toHaveLength(8 * (emfileAt - 1));

    // correct: not one handle left after any of 500 rounds.
    expect(seen.correct).toHaveLength(501);
    for (const { handles } of seen.correct) expect(handles).toBe(seen.correct[0]!.handles);
    expect(correct.measured.growthPerReload).toBe(0);
    expect(correct.measured.metrics.leakedFds).toMatchObject({ start: 0, end: 0 });
    expect(correct.measured.reloadsDone).toBe(500);

    expect(doc.verdict.pass).toBe(true);
  });
});

describe('runtime-teardown, io_uring evidence', () => {
  it('the broken ring is torn down with one CLOSE SQE pending per fd it leaves; the correct ring with none', { timeout: 240_000 }, async () => {
    const { broken, correct } = await compare('c');
    const leaking = rounds(broken).filter((r) => r.round < (broken.measured.emfileAtReload as number));
    expect(leaking.length).toBeGreaterThan(0);
    for (const r of leaking) {
      const queued = r.phases.find((p) => p.name === 'closes-queued')?.ring;
      expect(queued?.sqes).toBe(8);
      // The pending SQEs name exactly the fds the round left open.
      expect([...(queued?.closeFds ?? [])].sort((a, b) => a - b)).toEqual(r.leftFds.map((f) => f.fd).sort((a, b) => a - b));
    }
    const done = rounds(correct)[0]?.phases.find((p) => p.name === 'closes-done')?.ring;
    expect(done?.sqes).toBe(0);
    expect(correct.samples.slice(1).every((s) => s.metrics?.pendingSqes === 0)).toBe(true);
    expect(broken.samples.slice(1, -1).every((s) => s.metrics?.pendingSqes === 8)).toBe(true);

    // The summary says what each round left, its label apart from its value (the label is wider than the built-in ones).
    const text = formatRun(broken, { color: false, width: 80, chart: false });
    expect(text).toMatch(/\n {2}fds left by the round +8 per reload \(0–8, \d+ reloads\)\n/);
    expect(text).toMatch(/\n {2}SQEs pending at teardown +8 per reload/);
    expect(formatRun(correct, { color: false, width: 80, chart: false })).toMatch(/\n {2}fds left by the round +0 in all 500 reloads\n/);
  });
});
