/**
 * A ledger run (queue-drain, state-on-shutdown): start the child with what the
 * exercise gives it (a broker's socket, a state file), wait for `ready`, take
 * one baseline sample, let the exercise hand out entries until it says the
 * moment has come, send the signal, give the child the grace period (SIGKILL
 * after it), then let the exercise settle every entry: the run's `ledger`.
 * The exit is recorded as it was; the judge reads the ledger.
 */
import { ProbeError } from '../../fdprobe/errors.js';
import type { FdProbe } from '../../fdprobe/probe.js';
import type { EntrySummary } from '../../kinds/ledger/entries.js';
import type { LatencyRecord, LedgerEnding, LedgerRecord } from '../../kinds/ledger/record.js';
import type { EndReason, MeasuredRun } from '../../model/run-document.js';
import { type LaunchedChild, launchChild } from '../launch.js';
import { RunEnded, type RunIdentity, RunRecorder } from '../record.js';
import { incrementExercise } from './increment-clients.js';
import { queueExercise } from './queue-broker.js';
import { requestLatencyExercise } from './request-latency.js';

/** What a ledger scenario hands out and how it settles it, behind one shape. */
export interface LedgerExercise {
  /** What an entry is, in the singular. */
  unit: string;
  /** What a kept entry went through, in words. */
  kept: string;
  /** Appended to the child's command line (where to connect, where to write). */
  args: string[];
  /** Entries handed out before the signal (the seeded moment). */
  signalAfter: number;
  /** Settles when repro's end is ready for the child (a listening socket). */
  listening: Promise<void>;
  /** The child is ready (its `ready` event): start handing out; call `signalNow` at each moment the signal must go. */
  start(signalNow: () => void, ready: Record<string, unknown>): void;
  /** Present when the exercise ends the run itself (signals that do not end the process): settles when it is over; repro then stops the child. */
  finished?: Promise<void>;
  /** The latencies across the signals, for an exercise that measures them. */
  latency?(): LatencyRecord;
  /** The signal was sent at `at` (performance.now()). */
  markSignal(at: number): void;
  /** The child has ended (or never got that far): every entry settled. */
  settle(ending: LedgerEnding): Promise<EntrySummary>;
  /** Removes what the exercise made (sockets, files). */
  dispose(): void;
}

/** The exercises by name: a scenario names its own (`Scenario.ledger`). */
export const EXERCISES: Record<'queue' | 'increments' | 'request-latency', (seed: number) => LedgerExercise> = {
  queue: queueExercise,
  increments: incrementExercise,
  'request-latency': requestLatencyExercise,
};

/** Its `command` is the child's argv before the exercise's arguments are appended. */
export interface LedgerRunPlan extends RunIdentity {
  options: Record<string, string>;
  exercise: keyof typeof EXERCISES;
  readyTimeoutMs: number;
  graceMs: number;
  seed: number;
}

export interface LedgerRunHooks {
  probe: FdProbe;
  abort?: AbortSignal;
  onChild?: (child: LaunchedChild) => void;
}

/** How long a run may hand out entries before the moment the exercise picks must have come. */
const MAX_BEFORE_SIGNAL_MS = 20_000;

const END: Record<LedgerEnding['how'], EndReason> = { exited: 'shutdown-done', 'killed-after-grace': 'shutdown-done', stopped: 'shutdown-done', 'before-signal': 'child-exited', 'never-ready': 'ready-timeout', aborted: 'aborted' };

/** Waits for the first of: the child's exit, `ms`, an abort. */
async function firstOf(child: LaunchedChild, ms: number, abort: AbortSignal | undefined, more?: Promise<void>): Promise<'exited' | 'time' | 'aborted' | 'more'> {
  let timer: NodeJS.Timeout | undefined;
  let onAbort: (() => void) | undefined;
  const racers: Promise<'exited' | 'time' | 'aborted' | 'more'>[] = [
    child.exited.then(() => 'exited' as const),
    new Promise((resolve) => {
      timer = setTimeout(() => resolve('time'), ms);
    }),
    new Promise((resolve) => {
      onAbort = () => resolve('aborted');
      if (abort?.aborted) onAbort();
      else abort?.addEventListener('abort', onAbort, { once: true });
    }),
  ];
  if (more) racers.push(more.then(() => 'more' as const));
  try {
    return await Promise.race(racers);
  } finally {
    clearTimeout(timer);
    if (onAbort) abort?.removeEventListener('abort', onAbort);
  }
}

/** The child up to its end: how it ended, as the ledger kind reads it. */
async function driveChild(child: LaunchedChild, exercise: LedgerExercise, plan: LedgerRunPlan, hooks: LedgerRunHooks, baseline: () => Promise<void>): Promise<LedgerEnding> {
  let ready: Record<string, unknown>;
  try {
    ready = (await child.output.waitFor((e) => e.event === 'ready', plan.readyTimeoutMs, 'ready', hooks.abort)).event as unknown as Record<string, unknown>;
  } catch {
    return { how: hooks.abort?.aborted ? 'aborted' : 'never-ready', exitCode: null, signal: null };
  }
  await baseline();
  let signalAt = 0;
  const signalled = new Promise<void>((resolve) => {
    exercise.start(() => {
      if (signalAt === 0) {
        signalAt = performance.now();
        exercise.markSignal(signalAt);
      }
      child.signal(plan.signal);
      resolve();
    }, ready);
  });
  const first = await firstOf(child, MAX_BEFORE_SIGNAL_MS, hooks.abort, signalled);
  if (first !== 'more') {
    const exit = first === 'exited' ? await child.exited : { exitCode: null, signal: null };
    return { how: first === 'aborted' ? 'aborted' : 'before-signal', exitCode: exit.exitCode, signal: exit.signal };
  }
  const since = () => Math.round((performance.now() - signalAt) * 10) / 10;
  if (exercise.finished) return await servedThrough(child, exercise.finished, plan, hooks);
  const ended = await firstOf(child, plan.graceMs, hooks.abort);
  if (ended === 'aborted') return { how: 'aborted', exitCode: null, signal: null };
  let killMs: number | undefined;
  if (ended === 'time') {
    killMs = since();
    child.killNow();
  }
  const exit = await child.exited;
  const exitMs = since();
  return killMs === undefined ? { how: 'exited', exitCode: exit.exitCode, signal: exit.signal, exitMs } : { how: 'killed-after-grace', exitCode: exit.exitCode, signal: exit.signal, exitMs, killMs };
}

/** An exercise that ends the run itself: the child must still be there at its end; repro then stops it. */
async function servedThrough(child: LaunchedChild, finished: Promise<void>, plan: LedgerRunPlan, hooks: LedgerRunHooks): Promise<LedgerEnding> {
  const over = await firstOf(child, MAX_BEFORE_SIGNAL_MS, hooks.abort, finished);
  if (over === 'aborted') return { how: 'aborted', exitCode: null, signal: null };
  if (over === 'exited') {
    const exit = await child.exited;
    return { how: 'exited', exitCode: exit.exitCode, signal: exit.signal };
  }
  const exit = await child.stop(plan.graceMs);
  return { how: 'stopped', exitCode: exit.exitCode, signal: exit.signal };
}

export async function runLedger(plan: LedgerRunPlan, hooks: LedgerRunHooks): Promise<MeasuredRun> {
  const exercise = EXERCISES[plan.exercise](plan.seed);
  const command = [...plan.command, ...exercise.args];
  const recorder = new RunRecorder({ scenario: plan.scenario, role: plan.role, roleKind: plan.roleKind, runtime: plan.runtime, options: plan.options, signal: plan.signal, command, reloadsPlanned: 0, metrics: [] }, hooks.probe);
  let limit: number | null = null;
  let child: LaunchedChild | undefined;
  try {
    await exercise.listening;
    child = launchChild({ command });
    hooks.onChild?.(child);
    const launched = child;
    const ending = await driveChild(launched, exercise, plan, hooks, async () => {
      try {
        limit = (await hooks.probe.limits(launched.pid)).soft;
        await recorder.sample(launched.pid, 0, { limit });
      } catch (error) {
        // The baseline is context, not the test: a child gone or unreadable here shows in the ledger.
        if (!(error instanceof RunEnded) && !(error instanceof ProbeError)) throw error;
      }
    });
    const exit = await launched.stop(0);
    const entries = await exercise.settle(ending);
    recorder.end(new RunEnded(END[ending.how], endDetail(ending, plan)));
    const latency = exercise.latency?.();
    const ledger: LedgerRecord = { unit: exercise.unit, kept: exercise.kept, plan: { signalAfter: exercise.signalAfter, graceMs: plan.graceMs, seed: plan.seed, work: { ...plan.options } }, entries, ending, ...(latency ? { latency } : {}) };
    const run = recorder.finish({ pid: launched.pid, child: { ...exit, forced: ending.how === 'killed-after-grace' }, ulimit: limit, stdout: launched.output.stdout.view(), stderr: launched.output.stderr.view() });
    return { ...run, ...(ending.how === 'never-ready' ? {} : { ledger }) };
  } finally {
    if (child?.isRunning()) await child.stop(0);
    exercise.dispose();
  }
}

function endDetail(ending: LedgerEnding, plan: LedgerRunPlan): string {
  if (ending.how === 'killed-after-grace') return `killed after the grace period (${plan.graceMs} ms)`;
  if (ending.how === 'never-ready') return `the child was not ready within ${plan.readyTimeoutMs} ms`;
  if (ending.how === 'aborted') return 'aborted';
  const how = ending.signal ? `on ${ending.signal}` : `with code ${ending.exitCode}`;
  return ending.how === 'before-signal' ? `the child exited ${how} before the signal` : `the child exited ${how}`;
}
