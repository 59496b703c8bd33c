/**
 * The trials driver (sigchld-reap, signal-coalescing, signal-safety): N
 * trials, each on a fresh child. Per trial: launch, wait for `ready`, hand
 * the child to the scenario's procedure (the burst or storm repro sends, and
 * the outcome it reads from /proc or from the child's report), stop the
 * child. A fresh child per trial keeps trials independent: a crash or a
 * deadlock ends only its own trial. The first child's baseline sample keeps
 * `measured` meaningful; the document keeps the output of the trial worth
 * reading (the first whose outcome differs from the first trial's, else the last).
 */
import { ProbeError } from '../../fdprobe/errors.js';
import type { FdProbe } from '../../fdprobe/probe.js';
import type { TrialContext, TrialExit, TrialProcedure } from '../../kinds/trials/procedure.js';
import type { TrialResult } from '../../kinds/trials/record.js';
import type { ChildExit, EndReason, KeptOutput, MeasuredRun } from '../../model/run-document.js';
import { round } from '../../model/stats.js';
import type { OtherEvent } from '../../protocol/events.js';
import { procfsView } from '../../proc/procfs-view.js';
import type { ProcessView } from '../../proc/view.js';
import { WaitError } from '../child-output.js';
import { type LaunchedChild, launchChild } from '../launch.js';
import { RunEnded, type RunIdentity, RunRecorder } from '../record.js';

export interface TrialsRunPlan extends RunIdentity {
  trials: number;
  readyTimeoutMs: number;
  graceMs: number;
  procedure: TrialProcedure;
}

export interface TrialsRunHooks {
  probe: FdProbe;
  abort?: AbortSignal;
  onChild?: (child: LaunchedChild) => void;
  /** Where /proc is read (the real one unless a test says otherwise). */
  view?: ProcessView;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * `promise`'s value, or undefined after `ms`; the timer is cleared however it
 * ends (a 15 s wait left pending kept an interrupted compare alive 15 s after its result).
 */
async function within<T>(promise: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), ms)));
  try {
    return await Promise.race([promise, timedOut]);
  } finally {
    clearTimeout(timer);
  }
}

/** The child's scenario events, in order, to whoever asks for one by name. */
class EventQueue {
  readonly #events: OtherEvent[] = [];
  readonly #wakers = new Set<() => void>();

  push(event: OtherEvent): void {
    // Bounded: a child reporting more than anyone asks for must not grow memory.
    if (this.#events.length >= 1000) this.#events.shift();
    this.#events.push(event);
    for (const wake of this.#wakers) wake();
  }

  async take(name: string, timeoutMs: number, ended: Promise<unknown>): Promise<OtherEvent | undefined> {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      const index = this.#events.findIndex((e) => e.event === name);
      if (index >= 0) return this.#events.splice(index, 1)[0];
      const left = deadline - performance.now();
      if (left <= 0) return undefined;
      let wake = () => {};
      const woken = new Promise<void>((resolve) => (wake = resolve));
      this.#wakers.add(wake);
      const gone = (await within(Promise.race([woken.then(() => false), ended.then(() => true)]), left)) ?? false;
      this.#wakers.delete(wake);
      // The child's last lines come through before its exit is reported: look once more, then give up.
      if (gone) return this.#events.find((e) => e.event === name) ? this.take(name, 0, ended) : undefined;
    }
  }
}

function contextFor(child: LaunchedChild, trial: number, view: ProcessView, queue: EventQueue): TrialContext {
  let exit: TrialExit | undefined;
  void child.exited.then((how) => (exit = { exitCode: how.exitCode, signal: how.signal }));
  // Settles a little after the exit, once the last lines have been parsed (launch.ts waits 20 ms too).
  const ended = child.exited.then(() => sleep(30));
  return {
    pid: child.pid,
    trial,
    view,
    async burst(signo, count, everyMs) {
      for (let i = 0; i < count; i++) {
        try {
          process.kill(child.pid, signo);
        } catch {
          return i;
        }
        if (everyMs !== undefined) await sleep(everyMs);
      }
      return count;
    },
    event: (name, timeoutMs) => queue.take(name, timeoutMs, ended),
    exit: () => exit,
    exited: async (timeoutMs) => {
      await within(ended, timeoutMs);
      return exit;
    },
    sleep,
  };
}

const END_OF_WAIT: Record<WaitError['reason'], EndReason> = { timeout: 'ready-timeout', exited: 'child-exited', aborted: 'aborted' };

/** What the document keeps of one trial's child. */
interface ChildKept {
  pid: number;
  child: ChildExit;
  stdout: KeptOutput;
  stderr: KeptOutput;
}

/** One trial: its result, or the RunEnded that stops the run (the child never got to ready). */
async function oneTrial(plan: TrialsRunPlan, hooks: TrialsRunHooks, trial: number, view: ProcessView, onReady: (pid: number) => Promise<void>): Promise<{ result?: TrialResult; ended?: RunEnded; kept: ChildKept }> {
  const t0 = performance.now();
  const child = launchChild({ command: plan.command });
  hooks.onChild?.(child);
  const queue = new EventQueue();
  child.output.onOtherEvent((e) => queue.push(e));
  let result: TrialResult | undefined;
  let ended: RunEnded | undefined;
  try {
    await child.output.waitFor((e) => e.event === 'ready', plan.readyTimeoutMs, 'ready', hooks.abort);
    await onReady(child.pid);
    const outcome = await plan.procedure.run(contextFor(child, trial, view, queue), plan.role, plan.runtime);
    result = { trial, ...outcome, elapsedMs: round(performance.now() - t0, 1) };
  } catch (error) {
    if (!(error instanceof WaitError)) {
      await child.stop(plan.graceMs);
      throw error;
    }
    ended = new RunEnded(END_OF_WAIT[error.reason], `trial ${trial}: child ${error.message}`);
  }
  const exit = await child.stop(plan.graceMs);
  const kept = { pid: child.pid, child: exit, stdout: child.output.stdout.view(), stderr: child.output.stderr.view() };
  return { ...(result ? { result } : {}), ...(ended ? { ended } : {}), kept };
}

export async function runTrials(plan: TrialsRunPlan, hooks: TrialsRunHooks): Promise<MeasuredRun> {
  const recorder = new RunRecorder(
    { scenario: plan.scenario, role: plan.role, roleKind: plan.roleKind, runtime: plan.runtime, options: plan.options, signal: plan.signal, command: plan.command, reloadsPlanned: plan.trials, metrics: [] },
    hooks.probe,
  );
  const view = hooks.view ?? procfsView();
  const results: TrialResult[] = [];
  let limit: number | null = null;
  let kept: ChildKept | undefined;
  let keptFixed = false;
  let ending = new RunEnded('reloads-done', `${plan.trials} trials done`);
  const baseline = async (pid: number) => {
    if (limit !== null) return;
    try {
      limit = (await hooks.probe.limits(pid)).soft;
      await recorder.sample(pid, 0, { limit });
    } catch (error) {
      // The baseline is context, not the test: a child gone or unreadable here shows in its trial.
      if (!(error instanceof RunEnded) && !(error instanceof ProbeError)) throw error;
    }
  };
  for (let trial = 1; trial <= plan.trials; trial++) {
    if (hooks.abort?.aborted) {
      ending = new RunEnded('aborted', `aborted after ${results.length} of ${plan.trials} trials`);
      break;
    }
    const done = await oneTrial(plan, hooks, trial, view, baseline);
    if (!keptFixed) kept = done.kept;
    // The first trial that differs from the first (or ends the run) is the one whose output explains it.
    if (done.ended || (done.result && results.length > 0 && done.result.outcome !== results[0]?.outcome)) keptFixed = true;
    if (done.result) results.push(done.result);
    if (done.ended) {
      ending = done.ended;
      break;
    }
  }
  recorder.end(ending);
  const run = recorder.finish({ pid: kept?.pid ?? null, child: kept?.child ?? null, ulimit: limit, stdout: kept?.stdout, stderr: kept?.stderr });
  const tally: Record<string, number> = {};
  for (const r of results) tally[r.outcome] = (tally[r.outcome] ?? 0) + 1;
  return { ...run, trials: { plan: { trials: plan.trials, procedure: plan.procedure.procedure, outcomes: plan.procedure.outcomes }, results, tally } };
}
