/** `repro broken`, `repro correct`, `repro compare`: plain functions that return judged run documents. */
import { ProbeError } from '../../fdprobe/errors.js';
import { defaultProbe } from '../../fdprobe/index.js';
import type { FdProbe } from '../../fdprobe/probe.js';
import { type DriverHooks, type ReloadLoopPlan, runReloadLoop } from '../../harness/drivers/reload-loop.js';
import { runRounds } from '../../harness/drivers/rounds.js';
import { launchChild } from '../../harness/launch.js';
import { judge, judgeCompare } from '../../model/judge.js';
import type { CompareDocument, RunDocument } from '../../model/run-document.js';
import { SCHEMA_VERSION } from '../../model/run-document.js';
import { round } from '../../model/stats.js';
import { requireRuntime } from '../../runtimes/index.js';
import { findScenario, SCENARIOS } from '../../scenarios/index.js';
import type { Role, Scenario, ScenarioOptionValues } from '../../scenarios/types.js';
import { EnvironmentError, UsageError } from '../../errors.js';
import type { ScenarioOptions } from './scenario-options.js';

export { SCENARIO_DEFAULTS, type ScenarioOptions } from './scenario-options.js';

export interface CommandHooks {
  probe?: FdProbe;
  abort?: AbortSignal;
  onSample?: (sample: RunDocument['samples'][number], run: { pattern: string; reloads: number }) => void;
  onChild?: DriverHooks['onChild'];
  /** The hard fd limit children can get (the harness's own). */
  hardLimit?: number | null;
}

interface Resolved {
  scenario: Scenario;
  runtime: string;
  values: ScenarioOptionValues;
}

function resolve(options: ScenarioOptions): Resolved {
  const scenario = findScenario(options.scenario);
  if (!scenario) throw new UsageError(`--scenario ${options.scenario} is not known; use one of: ${SCENARIOS.map((s) => s.name).join(', ')} (repro list shows them)`);
  const runtime = options.runtime ?? scenario.runtimes[0] ?? 'node';
  if (!scenario.runtimes.includes(runtime)) throw new UsageError(`--runtime ${runtime} has no children for ${scenario.name}; use one of: ${scenario.runtimes.join(', ')}`);
  const values: ScenarioOptionValues = {};
  for (const option of scenario.options) {
    const value = String((options as unknown as Record<string, unknown>)[option.key] ?? option.default);
    if (!option.choices.includes(value)) throw new UsageError(`${option.flag.split(' ')[0]} ${value} is not available for ${scenario.name}; use one of: ${option.choices.join(', ')}`);
    if (option.runtimes && !option.runtimes.includes(runtime)) {
      if (value !== option.default) throw new UsageError(`${option.flag.split(' ')[0]} applies to the ${option.runtimes.join('/')} children only; leave it out with --runtime ${runtime}`);
      continue;
    }
    values[option.key] = value;
  }
  for (const other of SCENARIOS.flatMap((s) => (s === scenario ? [] : s.options))) {
    const given = (options as unknown as Record<string, unknown>)[other.key];
    if (given !== undefined && given !== other.default && !scenario.options.some((o) => o.key === other.key)) {
      throw new UsageError(`${other.flag.split(' ')[0]} is not an option of ${scenario.name}; leave it out`);
    }
  }
  requireRuntime(runtime);
  return { scenario, runtime, values };
}

function rolesIn({ scenario, runtime }: Resolved): Role[] {
  return scenario.roles.filter((r) => !r.runtimes || r.runtimes.includes(runtime));
}

function checkLimit(options: ScenarioOptions, hooks: CommandHooks): void {
  if (hooks.hardLimit != null && options.ulimit > hooks.hardLimit) {
    throw new UsageError(`--ulimit ${options.ulimit} is above this shell's hard limit ${hooks.hardLimit}; use --ulimit ${hooks.hardLimit} or less`);
  }
}

async function planFor(resolved: Resolved, role: Role, options: ScenarioOptions, extraArgs: string[]): Promise<ReloadLoopPlan> {
  const { scenario, runtime, values } = resolved;
  return {
    scenario: scenario.name,
    role: role.name,
    roleKind: role.kind,
    runtime,
    options: values,
    signal: scenario.signal,
    command: [...(await scenario.command(role, runtime, values)), ...extraArgs],
    reloadsPlanned: options.reloads,
    metrics: scenario.metrics,
    ulimit: options.ulimit,
    readyTimeoutMs: options.readyTimeout,
    ackTimeoutMs: options.ackTimeout,
    deadCheckMs: options.deadCheck,
    graceMs: options.grace,
  };
}

/** fds a child holds when ready with no lowered limit: to explain a --ulimit it cannot start under. */
async function measureBaseline(plan: ReloadLoopPlan, probe: FdProbe): Promise<number | undefined> {
  const child = launchChild({ command: plan.command });
  try {
    await child.output.waitFor((e) => e.event === 'ready', plan.readyTimeoutMs, 'ready');
    return await probe.count(child.pid);
  } catch {
    return undefined;
  } finally {
    await child.stop(plan.graceMs);
  }
}

/** One role: set up, run the reload loop, judge against the scenario's expectation. */
async function runRole(resolved: Resolved, role: Role, options: ScenarioOptions, hooks: CommandHooks, probe: FdProbe): Promise<RunDocument> {
  const setup = resolved.scenario.setup?.(role);
  try {
    const plan = { ...(await planFor(resolved, role, options, setup?.args ?? [])), beforeSignal: setup?.beforeSignal };
    let run;
    try {
      run = await (resolved.scenario.driver === 'rounds' ? runRounds : runReloadLoop)(plan, {
        probe,
        abort: hooks.abort,
        onSample: (sample) => hooks.onSample?.(sample, { pattern: role.name, reloads: options.reloads }),
        onChild: hooks.onChild,
      });
    } catch (error) {
      if (error instanceof ProbeError) throw new EnvironmentError(error.message, { cause: error });
      throw error;
    }
    const diedBeforeReady = run.samples.length === 0 && run.end.reason === 'child-exited';
    if (diedBeforeReady && !hooks.abort?.aborted) {
      const baseline = await measureBaseline(plan, probe);
      // Blame the limit only when the child needs about that many fds just to start.
      if (baseline !== undefined && plan.ulimit < baseline + 4) {
        throw new UsageError(`--ulimit ${plan.ulimit} is below what the ${role.name} child needs to start (${baseline} fds when ready); use --ulimit ${baseline + 4} or more`);
      }
      const said = run.stderr.text.trim().split('\n').at(-1) ?? '';
      throw new EnvironmentError(`the ${role.name} child ${run.end.detail.replace(/^child /, '')}${said ? `: ${said}` : ''}`);
    }
    return { ...run, verdict: judge(run, resolved.scenario.expect(role, resolved.values, { maxGrowth: options.maxGrowth })) };
  } finally {
    setup?.dispose();
  }
}

export async function runPattern(roleName: string, options: ScenarioOptions, hooks: CommandHooks = {}): Promise<RunDocument> {
  const resolved = resolve(options);
  checkLimit(options, hooks);
  const role = rolesIn(resolved).find((r) => r.name === roleName);
  if (!role) throw new UsageError(`${resolved.scenario.name} has no ${roleName} child for --runtime ${resolved.runtime}`);
  return runRole(resolved, role, options, hooks, hooks.probe ?? defaultProbe());
}

/** Every role of the scenario at once (they share nothing but the machine), then one verdict. */
export async function runCompare(options: ScenarioOptions, hooks: CommandHooks = {}): Promise<CompareDocument> {
  const resolved = resolve(options);
  checkLimit(options, hooks);
  const probe = hooks.probe ?? defaultProbe();
  const startedAt = new Date();
  const t0 = performance.now();
  const runs = await Promise.all(rolesIn(resolved).map((role) => runRole(resolved, role, options, hooks, probe)));
  return {
    schemaVersion: SCHEMA_VERSION,
    kind: 'compare',
    scenario: resolved.scenario.name,
    runtime: resolved.runtime,
    startedAt: startedAt.toISOString(),
    runs,
    verdict: judgeCompare(runs),
    wallMs: round(performance.now() - t0, 1),
  };
}

/** The roles a compare with these options runs (for checking a --baseline before the run); empty when the options are off (the run says why). */
export function rolesOf(options: ScenarioOptions): string[] {
  const scenario = findScenario(options.scenario);
  if (!scenario) return [];
  const runtime = options.runtime ?? scenario.runtimes[0] ?? 'node';
  return scenario.roles.filter((r) => !r.runtimes || r.runtimes.includes(runtime)).map((r) => r.name);
}
