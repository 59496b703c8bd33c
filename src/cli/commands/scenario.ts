/** `repro broken`, `repro correct`, `repro compare`: plain functions that return judged run documents. */
import type { Tracer } from '../../attribution/session.js';
import { ProbeError } from '../../fdprobe/errors.js';
import { defaultProbe } from '../../fdprobe/index.js';
import type { FdProbe } from '../../fdprobe/probe.js';
// Drivers and --attribute's tracer are imported when a run needs them: a compare loads one driver, not
// every driver's modules (node:http for the drains and the ledger's latency clients, strace's parser).
import type { DriverHooks, ReloadLoopPlan } from '../../harness/drivers/reload-loop.js';
import type { DrainRunPlan } from '../../harness/drivers/drain-run.js';
import type { LedgerRunPlan } from '../../harness/drivers/ledger-run.js';
import type { UnderLoadPlan } from '../../harness/drivers/reload-under-load-run.js';
import { launchChild } from '../../harness/launch.js';
import type { TrialsRunPlan } from '../../harness/drivers/trials-run.js';
import { judgeCompare, judgeRun, measurementOfDriver } from '../../kinds/index.js';
import type { CompareDocument, Expectation, MeasuredRun, RunDocument } from '../../model/run-document.js';
import { SCHEMA_VERSION } from '../../model/run-document.js';
import { round } from '../../model/stats.js';
import { requireRuntime } from '../../runtimes/index.js';
import { findScenario, SCENARIOS } from '../../scenarios/index.js';
import type { Role, RunSetup, Scenario, ScenarioOptionValues } from '../../scenarios/types.js';
import { EnvironmentError, UsageError } from '../../errors.js';
import { startWaitMs } from '../preflight.js';
import { firstLimitsProblem, type Held, type LimitsPlan, limitsFor, reloadsMayBeTooFew, slotsBelow } from '../../kinds/reloads/plan.js';
import { SCENARIO_DEFAULTS, type ScenarioOptions } from '../scenario-options.js';

export { SCENARIO_DEFAULTS, type ScenarioOptions } from '../scenario-options.js';

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
  /** --attribute: strace, checked before anything runs. */
  tracer?: Tracer;
}

async function resolve(options: ScenarioOptions): Promise<Resolved> {
  const scenario = findScenario(options.scenario);
  if (!scenario) throw new UsageError(`--scenario ${options.scenario} is not known; use one of: ${SCENARIOS.map((s) => s.name).join(', ')} (repro list shows them)`);
  const runtime = options.runtime ?? scenario.runtimes[0] ?? 'node';
  if (!scenario.runtimes.includes(runtime)) throw new UsageError(`--runtime ${runtime} has no children for ${scenario.name}; use one of: ${scenario.runtimes.join(', ')}`);
  const values: ScenarioOptionValues = {};
  for (const option of scenario.options) {
    const value = String(options[option.key] ?? option.default);
    if (!option.choices.includes(value)) throw new UsageError(`${option.flag.split(' ')[0]} ${value} is not available for ${scenario.name}; use one of: ${option.choices.join(', ')}`);
    if (option.runtimes && !option.runtimes.includes(runtime)) {
      if (value !== option.default) throw new UsageError(`${option.flag.split(' ')[0]} applies to the ${option.runtimes.join('/')} children only; leave it out with --runtime ${runtime}`);
      continue;
    }
    values[option.key] = value;
  }
  for (const other of SCENARIOS.flatMap((s) => (s === scenario ? [] : s.options))) {
    const given = options[other.key];
    if (given !== undefined && given !== other.default && !scenario.options.some((o) => o.key === other.key)) {
      throw new UsageError(`${other.flag.split(' ')[0]} is not an option of ${scenario.name}; leave it out`);
    }
  }
  checkLoadOptions(scenario, options);
  // Servers under load run untraced: strace would slow every request they answer.
  // Trials start a fresh child per trial, which no one tracer follows; ledger exercises run their child under a broker or clients.
  const underLoad = (s: Scenario) => s.driver === 'load-and-signal' || s.driver === 'reload-under-load' || s.driver === 'trials' || s.driver === 'ledger';
  if (options.attribute && underLoad(scenario)) {
    throw new UsageError(`--attribute applies to the reload scenarios (${SCENARIOS.filter((s) => !underLoad(s)).map((s) => s.name).join(', ')}), not ${scenario.name}; leave it out`);
  }
  requireRuntime(runtime, scenario.name);
  // Before anything runs: no strace, or no ptrace, is one line and exit 3, never a run without attribution.
  const tracer = options.attribute ? (await import('../../attribution/session.js')).checkTracer() : undefined;
  return { scenario, runtime, values, ...(tracer ? { tracer } : {}) };
}

/** The load options (--lag, --requests, --concurrency, --seed) belong to load-and-signal scenarios: given to another, they are refused. */
function checkLoadOptions(scenario: Scenario, options: ScenarioOptions): void {
  if (scenario.driver === 'load-and-signal') {
    // The reload options mean nothing to a load-and-signal run: set by the user, they are refused, not ignored.
    const reloadFlags = { ulimit: '--ulimit', reloads: '--reloads', ackTimeout: '--ack-timeout', deadCheck: '--dead-check' } as const;
    for (const [key, flag] of Object.entries(reloadFlags)) {
      if (options.given?.includes(key)) throw new UsageError(`${flag} does not apply to ${scenario.name}: a load-and-signal run has no reloads and the server runs under its own limit; leave it out`);
    }
    return;
  }
  const flags = { lag: '--lag', requests: '--requests', concurrency: '--concurrency', seed: '--seed' } as const;
  for (const [key, flag] of Object.entries(flags) as [keyof typeof flags, string][]) {
    const given = options[key];
    if (given !== undefined && given !== SCENARIO_DEFAULTS[key]) {
      throw new UsageError(`${flag} applies to load-and-signal scenarios (${SCENARIOS.filter((s) => s.driver === 'load-and-signal').map((s) => s.name).join(', ')}), not ${scenario.name}; leave it out`);
    }
  }
}

function rolesIn({ scenario, runtime }: Resolved): Role[] {
  return scenario.roles.filter((r) => !r.runtimes || r.runtimes.includes(runtime));
}

function checkLimit(options: ScenarioOptions, hooks: CommandHooks): void {
  if (hooks.hardLimit != null && options.ulimit > hooks.hardLimit) {
    throw new UsageError(`--ulimit ${options.ulimit} is above this shell's hard limit ${hooks.hardLimit}; use --ulimit ${hooks.hardLimit} or less`);
  }
}

/** A role ready to run: its plan, what it is expected to show, and its set-up (disposed after the run). */
interface Prepared {
  /** The driver the scenario runs in. */
  driver: NonNullable<Scenario['driver']>;
  role: Role;
  plan: ReloadLoopPlan;
  expectation: Expectation;
  setup?: RunSetup;
  /** fds one reload (round) holds at its peak above the child's fds when ready, when the scenario declares it for this runtime. */
  peakFds?: number;
  /** load-and-signal: the run's plan (its `plan` above is then unused). */
  drain?: DrainRunPlan;
  /** reload-under-load: the port the child listens on (the load's target). */
  underLoad?: UnderLoadPlan;
  /** trials: the run's plan (a fresh child per trial). */
  trials?: TrialsRunPlan;
  /** ledger: the run's plan (queue-drain, state-on-shutdown). */
  ledger?: LedgerRunPlan;
}

async function prepare(resolved: Resolved, role: Role, options: ScenarioOptions, abort?: AbortSignal): Promise<Prepared> {
  const { scenario, runtime, values } = resolved;
  const setup = scenario.setup?.(role);
  try {
    const plan: ReloadLoopPlan = {
      scenario: scenario.name,
      role: role.name,
      roleKind: role.kind,
      runtime,
      options: values,
      signal: scenario.signal,
      command: [...(await scenario.command(role, runtime, values, abort)), ...(setup?.args ?? [])],
      reloadsPlanned: scenario.reloadsDefault !== undefined && !options.given?.includes('reloads') ? scenario.reloadsDefault : options.reloads,
      metrics: scenario.metrics,
      ulimit: options.ulimit,
      readyTimeoutMs: startWaitMs(options.readyTimeout, resolved.tracer !== undefined),
      ackTimeoutMs: options.ackTimeout,
      deadCheckMs: options.deadCheck,
      graceMs: options.grace,
      beforeSignal: setup?.beforeSignal,
      peakFdsPerReload: scenario.peakFdsPerReload?.[runtime],
    };
    const expectation = scenario.expect(role, values, { maxGrowth: options.maxGrowth });
    if (scenario.driver === 'load-and-signal') return { driver: 'load-and-signal', role, plan, expectation: drainExpectation(expectation, options), setup, drain: drainPlan(plan, scenario, options) };
    if (scenario.driver === 'ledger' && scenario.ledger) {
      const ledger: LedgerRunPlan = { scenario: plan.scenario, role: plan.role, roleKind: plan.roleKind, runtime: plan.runtime, options: values, signal: plan.signal, command: plan.command, exercise: scenario.ledger.exercise, readyTimeoutMs: plan.readyTimeoutMs, graceMs: options.grace, seed: options.seed };
      return { driver: 'ledger', role, plan, expectation, setup, ledger };
    }
    if (scenario.driver === 'reload-under-load') {
      const port = await (await import('../../harness/drivers/reload-under-load-run.js')).freeLoopbackPort();
      return { driver: 'reload-under-load', role, plan: { ...plan, command: [...plan.command, ...(scenario.listenArgs?.(port) ?? [])] }, expectation, setup, underLoad: { port } };
    }
    if (scenario.driver === 'trials' && scenario.trial) {
      const trials = options.given?.includes('reloads') ? options.reloads : scenario.trial.trialsDefault;
      return { driver: 'trials', role, plan: { ...plan, reloadsPlanned: trials }, expectation, setup, trials: { ...plan, trials, procedure: scenario.trial } };
    }
    return { driver: scenario.driver ?? 'reload-loop', role, plan, expectation, setup, peakFds: plan.peakFdsPerReload };
  } catch (error) {
    setup?.dispose();
    throw error;
  }
}

/** Warm-up before the signal: the load runs at least this long, then the signal comes up to DRAIN_JITTER_MS later (seeded). */
export const DRAIN_WARMUP_MS = 1000;
export const DRAIN_JITTER_MS = 300;

/** A load-and-signal role's plan: the child with its lag and grace arguments, the load, the signal. --ulimit and --reloads do not apply. */
function drainPlan(plan: ReloadLoopPlan, scenario: Scenario, options: ScenarioOptions): DrainRunPlan {
  const lagMs = options.lag;
  const graceMs = options.grace;
  return {
    scenario: plan.scenario,
    role: plan.role,
    roleKind: plan.roleKind,
    runtime: plan.runtime,
    options: plan.options,
    load: {
      command: [...plan.command, ...(scenario.drainArgs?.({ lagMs, graceMs }) ?? [])],
      readyTimeoutMs: options.readyTimeout,
      signal: scenario.signal,
      warmupMs: DRAIN_WARMUP_MS,
      signalJitterMs: DRAIN_JITTER_MS,
      seed: options.seed,
      lagMs,
      graceMs,
      load: { concurrency: options.concurrency, maxRequests: options.requests, workMs: [0, 30], longMs: 600, thinkMs: 10, requestTimeoutMs: 5000, readinessEveryMs: 10, afterExitProbes: 3 },
    },
  };
}

/** The scenario's drain expectation, its request floor no higher than --requests allows. */
function drainExpectation(expectation: Expectation, options: ScenarioOptions): Expectation {
  if (!expectation.drain) return expectation;
  return { ...expectation, drain: { ...expectation.drain, minRequests: Math.min(expectation.drain.minRequests, options.requests) } };
}

function limitsOf({ role, plan, expectation, peakFds }: Prepared): LimitsPlan {
  return limitsFor(role.name, expectation, { ulimit: plan.ulimit, reloads: plan.reloadsPlanned, peakFds });
}

/**
 * The fd numbers a child holds when ready with no lowered limit (undefined when
 * it does not get that far: its run then says why). Handed to onChild so a
 * second Ctrl-C kills it too; torn down here, also on abort.
 */
async function measureStart(plan: ReloadLoopPlan, hooks: CommandHooks, probe: FdProbe): Promise<number[] | undefined> {
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

/** A usage error for the first role its child cannot carry out. */
function refuseUnusable(held: Held[]): void {
  const problem = firstLimitsProblem(held);
  if (problem) throw new UsageError(problem);
}

/** Each role's child started once with no lowered limit; the roles whose child never got to ready are left out. */
async function measureAll(prepared: readonly Prepared[], hooks: CommandHooks, probe: FdProbe): Promise<Held[]> {
  const measured = await Promise.all(prepared.map((p) => measureStart(p.plan, hooks, probe)));
  return prepared.flatMap((p, i) => {
    const fds = measured[i];
    return fds === undefined ? [] : [{ limits: limitsOf(p), slots: slotsBelow(fds, p.plan.ulimit) }];
  });
}

/** Before the run: --reloads too few for a leaking child to reach EMFILE (measured only when it can be, with every other role, for advice). */
async function checkBeforeRun(prepared: readonly Prepared[], hooks: CommandHooks, probe: FdProbe): Promise<void> {
  if (!reloadsMayBeTooFew(prepared.map(limitsOf))) return;
  refuseUnusable(await measureAll(prepared, hooks, probe));
}

/**
 * After the runs: a --ulimit a child could not start under (measured then, with
 * no lowered limit) or a leaking child could not leak under (from its own
 * baseline, after one reload) is a usage error with the limit that works; a
 * child that died before ready for any other reason is an environment error.
 */
async function checkAfterRun(prepared: readonly Prepared[], runs: readonly RunDocument[], hooks: CommandHooks, probe: FdProbe): Promise<void> {
  if (hooks.abort?.aborted) return;
  const started = runs.map((run) => run.samples.length > 0);
  const held: Held[] = prepared.flatMap((p, i) => {
    const run = runs[i] as RunDocument;
    return started[i] ? [{ limits: limitsOf(p), slots: run.measured.baselineFds - run.fdsAboveLimitAtStart }] : [];
  });
  const died = runs.findIndex((run) => run.samples.length === 0 && run.end.reason === 'child-exited');
  if (died >= 0) held.push(...(await measureAll(prepared.filter((_, i) => !started[i]), hooks, probe)));
  refuseUnusable(held);
  if (died >= 0) {
    const run = runs[died] as RunDocument;
    const said = run.stderr.text.trim().split('\n').at(-1) ?? '';
    throw new EnvironmentError(`the ${run.role} child ${run.end.detail.replace(/^child /, '')}${said ? `: ${said}` : ''}`);
  }
}

/** One role: run its driver (under strace with --attribute), then judge the measured run against the role's expectation. */
async function runOne({ driver, role, plan, expectation, drain, underLoad, trials, ledger }: Prepared, options: ScenarioOptions, hooks: CommandHooks, probe: FdProbe, tracer?: Tracer): Promise<RunDocument> {
  let run;
  const trace = tracer && driver !== 'load-and-signal' ? new (await import('../../attribution/session.js')).AttributionSession({ tracer, signal: plan.signal, senderPid: process.pid }) : undefined;
  try {
    if (driver === 'load-and-signal' && drain) {
      const { runDrain } = await import('../../harness/drivers/drain-run.js');
      run = await runDrain(drain, { probe, abort: hooks.abort, onChild: hooks.onChild });
      if (run.drain?.port === null && run.end.reason === 'child-exited' && !hooks.abort?.aborted) {
        const said = run.stderr.text.trim().split('\n').at(-1) ?? '';
        throw new EnvironmentError(`the ${run.role} server ${run.end.detail}${said ? `: ${said}` : ''}`);
      }
      return judgeRun(run, expectation, measurementOfDriver(driver));
    }
    if (driver === 'trials' && trials) return judgeRun(await (await import('../../harness/drivers/trials-run.js')).runTrials(trials, { probe, abort: hooks.abort, onChild: hooks.onChild }), expectation, 'trials');
    if (driver === 'ledger' && ledger) return judgeRun(await (await import('../../harness/drivers/ledger-run.js')).runLedger(ledger, { probe, abort: hooks.abort, onChild: hooks.onChild }), expectation, measurementOfDriver(driver));
    if (driver === 'reload-under-load' && underLoad) {
      const { runUnderLoad } = await import('../../harness/drivers/reload-under-load-run.js');
      run = await runUnderLoad(plan, underLoad, { probe, abort: hooks.abort, onSample: (sample) => hooks.onSample?.(sample, { pattern: role.name, reloads: plan.reloadsPlanned }), onChild: hooks.onChild });
      return judgeRun(run, expectation, measurementOfDriver(driver));
    }
    const runLoop = driver === 'rounds' ? (await import('../../harness/drivers/rounds.js')).runRounds : (await import('../../harness/drivers/reload-loop.js')).runReloadLoop;
    run = await runLoop(trace ? { ...plan, trace } : plan, {
      probe,
      abort: hooks.abort,
      onSample: (sample) => hooks.onSample?.(sample, { pattern: role.name, reloads: options.reloads }),
      onChild: hooks.onChild,
    });
    if (trace && run.samples.length > 0) run = { ...run, attribution: await trace.result(reloadsThatLeaked(run)) };
  } catch (error) {
    if (error instanceof ProbeError) throw new EnvironmentError(error.message, { cause: error });
    throw error;
  } finally {
    trace?.close();
  }
  return judgeRun(run, expectation, measurementOfDriver(driver));
}

/** The reloads a run's leaked fds are spread over (per reload = fds / this): the last sample's, less the reload that failed at EMFILE (it registered nothing). */
function reloadsThatLeaked(run: MeasuredRun): number {
  const last = run.samples.at(-1)?.reload ?? 0;
  return run.end.reason === 'emfile' && last > 1 ? last - 1 : last;
}

/** Runs the roles at once (they share nothing but the machine); every child is gone and every set-up disposed before anything is thrown. */
async function runRoles(resolved: Resolved, roles: readonly Role[], options: ScenarioOptions, hooks: CommandHooks): Promise<RunDocument[]> {
  const probe = hooks.probe ?? defaultProbe();
  const prepared: Prepared[] = [];
  try {
    for (const role of roles) prepared.push(await prepare(resolved, role, options, hooks.abort));
    // Two servers under load at once on two cores starve each other: load-carrying roles run in turn.
    if (resolved.scenario.driver === 'load-and-signal' || resolved.scenario.driver === 'reload-under-load' || resolved.scenario.driver === 'ledger') return await runInTurn(prepared, options, hooks, probe);
    await checkBeforeRun(prepared, hooks, probe);
    const settled = await Promise.allSettled(prepared.map((p) => runOne(p, options, hooks, probe, resolved.tracer)));
    const failed = settled.find((r) => r.status === 'rejected');
    if (failed) throw failed.reason;
    const runs = settled.map((r) => (r as PromiseFulfilledResult<RunDocument>).value);
    await checkAfterRun(prepared, runs, hooks, probe);
    return runs;
  } finally {
    for (const p of prepared) p.setup?.dispose();
  }
}

/**
 * load-and-signal roles run one after the other: each puts a server and its
 * load on the machine, and two at once would starve each other's event loops
 * (a correct server then drops what it would have served). An abort stops the turn.
 */
async function runInTurn(prepared: readonly Prepared[], options: ScenarioOptions, hooks: CommandHooks, probe: FdProbe): Promise<RunDocument[]> {
  const runs: RunDocument[] = [];
  for (const p of prepared) {
    if (hooks.abort?.aborted && runs.length > 0) break;
    runs.push(await runOne(p, options, hooks, probe));
  }
  return runs;
}

export async function runPattern(roleName: string, options: ScenarioOptions, hooks: CommandHooks = {}): Promise<RunDocument> {
  const resolved = await resolve(options);
  checkLimit(options, hooks);
  // A scenario whose broken roles are named variants (graceful-drain) runs its first role of that kind.
  const role = rolesIn(resolved).find((r) => r.name === roleName) ?? rolesIn(resolved).find((r) => r.kind === roleName);
  if (!role) throw new UsageError(`${resolved.scenario.name} has no ${roleName} child for --runtime ${resolved.runtime}`);
  return (await runRoles(resolved, [role], options, hooks))[0] as RunDocument;
}

/** Every role of the scenario at once, then one verdict. */
export async function runCompare(options: ScenarioOptions, hooks: CommandHooks = {}): Promise<CompareDocument> {
  const resolved = await resolve(options);
  checkLimit(options, hooks);
  const startedAt = new Date();
  const t0 = performance.now();
  const roles = rolesIn(resolved).map((r) => r.name);
  const runs = await runRoles(resolved, rolesIn(resolved), options, hooks);
  return {
    schemaVersion: SCHEMA_VERSION,
    kind: 'compare',
    scenario: resolved.scenario.name,
    runtime: resolved.runtime,
    startedAt: startedAt.toISOString(),
    runs,
    roles,
    verdict: judgeCompare(runs, roles),
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
