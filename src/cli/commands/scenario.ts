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
import { limitsProblem, slotsBelow, ulimitNeeded } from './plan-limits.js';
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
 * The fd numbers a child holds when ready with no lowered limit, measured once
 * before the run (undefined when it does not get that far: the run then says why).
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

/** Refuses, before the run, a --ulimit or --reloads the plans' children cannot carry out; the advice is computed from what they hold. */
async function checkPlans(plans: RunPlan[], hooks: CommandHooks, probe: FdProbe): Promise<void> {
  const measured = await Promise.all(plans.map((plan) => measureStart(plan, hooks, probe)));
  const known = plans.flatMap((plan, i) => {
    const fds = measured[i];
    if (fds === undefined) return [];
    const slots = slotsBelow(fds, plan.ulimit);
    return [{ plan, slots, need: ulimitNeeded(plan, slots) }];
  });
  // The child that needs the most speaks first, so the line names the one the advice is for.
  known.sort((a, b) => b.need - a.need);
  const advise = known[0]?.need;
  for (const { plan, slots } of known) {
    const problem = limitsProblem(plan, slots, advise);
    if (problem) throw new UsageError(problem);
  }
}

async function runOne(plan: RunPlan, hooks: CommandHooks, probe: FdProbe): Promise<RunDocument> {
  let run: RunDocument;
  try {
    run = await runScenario(plan, { probe, abort: hooks.abort, onSample: hooks.onSample, onChild: hooks.onChild });
  } catch (error) {
    if (error instanceof ProbeError) throw new EnvironmentError(error.message, { cause: error });
    throw error;
  }
  const diedBeforeReady = run.samples.length === 0 && run.end.reason === 'child-exited';
  if (diedBeforeReady && !hooks.abort?.aborted) {
    const said = run.stderr.text.trim().split('\n').at(-1) ?? '';
    throw new EnvironmentError(`the ${plan.pattern} child ${run.end.detail.replace(/^child /, '')}${said ? `: ${said}` : ''}`);
  }
  return run;
}

export async function runPattern(pattern: Pattern, options: ScenarioOptions, hooks: CommandHooks = {}): Promise<RunDocument> {
  const scenario = resolveScenario(options);
  checkLimit(options, hooks);
  const probe = hooks.probe ?? defaultProbe();
  const plan = planFor(scenario, pattern, options);
  await checkPlans([plan], hooks, probe);
  return runOne(plan, hooks, probe);
}

/** Both patterns at once (they share nothing but the machine), then one verdict. */
export async function runCompare(options: ScenarioOptions, hooks: CommandHooks = {}): Promise<CompareDocument> {
  const scenario = resolveScenario(options);
  checkLimit(options, hooks);
  const probe = hooks.probe ?? defaultProbe();
  const plans = [planFor(scenario, 'broken', options), planFor(scenario, 'correct', options)] as const;
  await checkPlans([...plans], hooks, probe);
  const startedAt = new Date();
  const t0 = performance.now();
  const [broken, correct] = await Promise.all([runOne(plans[0], hooks, probe), runOne(plans[1], hooks, probe)]);
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
