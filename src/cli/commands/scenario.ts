/** `repro broken`, `repro correct`, `repro compare`: plain functions that return run documents. */
import { ProbeError } from '../../fdprobe/errors.js';
import { defaultProbe } from '../../fdprobe/index.js';
import type { FdProbe } from '../../fdprobe/probe.js';
import { launchChild } from '../../harness/launch.js';
import { type RunHooks, type RunPlan, runScenario } from '../../harness/run.js';
import type { CompareDocument, RunDocument } from '../../model/run-document.js';
import { SCHEMA_VERSION } from '../../model/run-document.js';
import { round } from '../../model/stats.js';
import { childCommand, findScenario, type Pattern, SCENARIOS, type Scenario } from '../../scenarios/registry.js';
import { EnvironmentError, UsageError } from '../../errors.js';
import { emfileReload, limitsProblem, slotsBelow, ulimitNeeded } from './plan-limits.js';
import type { ScenarioOptions } from './scenario-options.js';

export { SCENARIO_DEFAULTS, type ScenarioOptions } from './scenario-options.js';

export interface CommandHooks {
  probe?: FdProbe;
  abort?: AbortSignal;
  onSample?: RunHooks['onSample'];
  onChild?: RunHooks['onChild'];
  /** The hard fd limit children can get (the harness's own). */
  hardLimit?: number | null;
}

function resolveScenario(options: ScenarioOptions): Scenario {
  const scenario = findScenario(options.scenario);
  if (!scenario) throw new UsageError(`--scenario ${options.scenario} is not known; use one of: ${SCENARIOS.map((s) => s.name).join(', ')}`);
  if (!scenario.channels.includes(options.channel)) {
    throw new UsageError(`--channel ${options.channel} is not available for ${scenario.name}; use one of: ${scenario.channels.join(', ')}`);
  }
  return scenario;
}

function planFor(scenario: Scenario, pattern: Pattern, options: ScenarioOptions): RunPlan {
  return {
    scenario: scenario.name,
    pattern,
    channel: options.channel,
    command: childCommand(scenario, pattern, options.channel),
    signal: scenario.signal,
    ulimit: options.ulimit,
    reloads: options.reloads,
    fdsPerReload: scenario.fdsPerReload[options.channel],
    maxGrowth: options.maxGrowth,
    readyTimeoutMs: options.readyTimeout,
    ackTimeoutMs: options.ackTimeout,
    deadCheckMs: options.deadCheck,
    graceMs: options.grace,
  };
}

function checkLimit(options: ScenarioOptions, hooks: CommandHooks): void {
  if (hooks.hardLimit != null && options.ulimit > hooks.hardLimit) {
    throw new UsageError(`--ulimit ${options.ulimit} is above this shell's hard limit ${hooks.hardLimit}; use --ulimit ${hooks.hardLimit} or less`);
  }
}

/**
 * The fd numbers a child holds when ready with no lowered limit (undefined when
 * it does not get that far: its run then says why). Not handed to onChild: it
 * is torn down here, also on abort.
 */
async function measureStart(plan: RunPlan, hooks: CommandHooks, probe: FdProbe): Promise<number[] | undefined> {
  const child = launchChild({ command: plan.command });
  hooks.onChild?.(child);
  try {
    await child.output.waitFor((e) => e.event === 'ready', plan.readyTimeoutMs, 'ready', hooks.abort);
    return (await probe.list(child.pid)).map((f) => f.fd);
  } catch {
    return undefined;
  } finally {
    await child.stop(plan.graceMs);
  }
}

/** What a plan's child holds below its limit when ready. */
interface Held {
  plan: RunPlan;
  slots: number;
}

/** A usage error for the first plan its child cannot carry out; the child that needs the most speaks first, so the advice covers every plan. */
function refuseUnusable(held: Held[]): void {
  const known = held.map((h) => ({ ...h, need: ulimitNeeded(h.plan, h.slots) })).sort((a, b) => b.need - a.need);
  const advise = known[0]?.need;
  for (const { plan, slots } of known) {
    const problem = limitsProblem(plan, slots, advise);
    if (problem) throw new UsageError(problem);
  }
}

/** Each plan's child started once with no lowered limit; the plans whose child never got to ready are left out. */
async function measureAll(plans: readonly RunPlan[], hooks: CommandHooks, probe: FdProbe): Promise<Held[]> {
  const measured = await Promise.all(plans.map((plan) => measureStart(plan, hooks, probe)));
  return plans.flatMap((plan, i) => {
    const fds = measured[i];
    return fds === undefined ? [] : [{ plan, slots: slotsBelow(fds, plan.ulimit) }];
  });
}

/**
 * Before the run: --reloads too few for the broken child to reach EMFILE. Only
 * fewer than floor(ulimit / fds per reload) + 1 can be too few whatever the
 * child holds, so only then is it measured (with every other plan, for advice).
 */
async function checkBeforeRun(plans: readonly RunPlan[], hooks: CommandHooks, probe: FdProbe): Promise<void> {
  if (!plans.some((plan) => plan.pattern === 'broken' && plan.reloads < emfileReload(plan, 0))) return;
  refuseUnusable(await measureAll(plans, hooks, probe));
}

/**
 * After the runs: a --ulimit a child could not start under (measured then, with
 * no lowered limit) or the broken child could not leak under (from its own
 * baseline, after one reload) is a usage error with the limit that works; a
 * child that died before ready for any other reason is an environment error.
 */
async function checkAfterRun(plans: readonly RunPlan[], runs: readonly RunDocument[], hooks: CommandHooks, probe: FdProbe): Promise<void> {
  if (hooks.abort?.aborted) return;
  const started = runs.map((run) => run.samples.length > 0);
  const held: Held[] = plans.flatMap((plan, i) => {
    const run = runs[i] as RunDocument;
    return started[i] ? [{ plan, slots: run.verdict.baselineFds - run.fdsAboveLimitAtStart }] : [];
  });
  const died = runs.findIndex((run) => run.samples.length === 0 && run.end.reason === 'child-exited');
  if (died >= 0) held.push(...(await measureAll(plans.filter((_, i) => !started[i]), hooks, probe)));
  refuseUnusable(held);
  if (died >= 0) {
    const run = runs[died] as RunDocument;
    const said = run.stderr.text.trim().split('\n').at(-1) ?? '';
    throw new EnvironmentError(`the ${run.pattern} child ${run.end.detail.replace(/^child /, '')}${said ? `: ${said}` : ''}`);
  }
}

async function runOne(plan: RunPlan, hooks: CommandHooks, probe: FdProbe): Promise<RunDocument> {
  try {
    return await runScenario(plan, { probe, abort: hooks.abort, onSample: hooks.onSample, onChild: hooks.onChild });
  } catch (error) {
    if (error instanceof ProbeError) throw new EnvironmentError(error.message, { cause: error });
    throw error;
  }
}

export async function runPattern(pattern: Pattern, options: ScenarioOptions, hooks: CommandHooks = {}): Promise<RunDocument> {
  const scenario = resolveScenario(options);
  checkLimit(options, hooks);
  const probe = hooks.probe ?? defaultProbe();
  const plan = planFor(scenario, pattern, options);
  await checkBeforeRun([plan], hooks, probe);
  const run = await runOne(plan, hooks, probe);
  await checkAfterRun([plan], [run], hooks, probe);
  return run;
}

/** Both patterns at once (they share nothing but the machine), then one verdict. */
export async function runCompare(options: ScenarioOptions, hooks: CommandHooks = {}): Promise<CompareDocument> {
  const scenario = resolveScenario(options);
  checkLimit(options, hooks);
  const probe = hooks.probe ?? defaultProbe();
  const plans = [planFor(scenario, 'broken', options), planFor(scenario, 'correct', options)] as const;
  await checkBeforeRun(plans, hooks, probe);
  const startedAt = new Date();
  const t0 = performance.now();
  // Both settle before anything is thrown, so no child outlives the command.
  const settled = await Promise.allSettled(plans.map((plan) => runOne(plan, hooks, probe)));
  const failed = settled.find((r) => r.status === 'rejected');
  if (failed) throw failed.reason;
  const [broken, correct] = settled.map((r) => (r as PromiseFulfilledResult<RunDocument>).value) as [RunDocument, RunDocument];
  await checkAfterRun(plans, [broken, correct], hooks, probe);
  const reasons: string[] = [];
  const b = broken.verdict;
  const c = correct.verdict;
  reasons.push(
    b.pass
      ? `ok: broken grew ${b.growthPerReload}/reload and hit ${b.registerFailure} at reload ${b.emfileAtReload}; signal handling then ${b.signalHandling}`
      : `FAIL: broken did not show the leak (${b.reasons.find((r) => r.startsWith('FAIL')) ?? 'see its run'})`,
  );
  reasons.push(
    c.pass
      ? `ok: correct stayed flat (${c.baselineFds} → ${c.finalFds} fds, ${c.growthPerReload}/reload) over ${c.reloadsDone} reloads`
      : `FAIL: correct did not stay flat (${c.reasons.find((r) => r.startsWith('FAIL')) ?? 'see its run'})`,
  );
  return {
    schemaVersion: SCHEMA_VERSION,
    kind: 'compare',
    startedAt: startedAt.toISOString(),
    runs: { broken, correct },
    verdict: { pass: b.pass && c.pass, reasons: [...reasons.filter((r) => r.startsWith('FAIL')), ...reasons.filter((r) => r.startsWith('ok'))] },
    wallMs: round(performance.now() - t0, 1),
  };
}
