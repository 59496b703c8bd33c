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

/** fds a child holds when ready with no lowered limit: to explain a --ulimit it cannot start under. */
async function measureBaseline(plan: RunPlan, probe: FdProbe, hooks: CommandHooks): Promise<number | undefined> {
  const child = launchChild({ command: plan.command });
  hooks.onChild?.(child);
  try {
    await child.output.waitFor((e) => e.event === 'ready', plan.readyTimeoutMs, 'ready', hooks.abort);
    return await probe.count(child.pid);
  } catch {
    return undefined;
  } finally {
    await child.stop(plan.graceMs);
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
    const baseline = await measureBaseline(plan, probe, hooks);
    if (hooks.abort?.aborted) return run;
    // Blame the limit only when the child needs about that many fds just to start.
    if (baseline !== undefined && plan.ulimit < baseline + 4) {
      throw new UsageError(
        `--ulimit ${plan.ulimit} is below what the ${plan.pattern} child needs to start (${baseline} fds when ready); use --ulimit ${baseline + 4} or more`,
      );
    }
    const said = run.stderr.text.trim().split('\n').at(-1) ?? '';
    throw new EnvironmentError(`the ${plan.pattern} child ${run.end.detail.replace(/^child /, '')}${said ? `: ${said}` : ''}`);
  }
  return run;
}

export async function runPattern(pattern: Pattern, options: ScenarioOptions, hooks: CommandHooks = {}): Promise<RunDocument> {
  const scenario = resolveScenario(options);
  checkLimit(options, hooks);
  return runOne(planFor(scenario, pattern, options), hooks, hooks.probe ?? defaultProbe());
}

/** Both patterns at once (they share nothing but the machine), then one verdict. */
export async function runCompare(options: ScenarioOptions, hooks: CommandHooks = {}): Promise<CompareDocument> {
  const scenario = resolveScenario(options);
  checkLimit(options, hooks);
  const probe = hooks.probe ?? defaultProbe();
  const startedAt = new Date();
  const t0 = performance.now();
  const [broken, correct] = await Promise.all([
    runOne(planFor(scenario, 'broken', options), hooks, probe),
    runOne(planFor(scenario, 'correct', options), hooks, probe),
  ]);
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
