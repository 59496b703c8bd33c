/**
 * The protocol reload loop (repro broken / correct / compare): spawn a child
 * that speaks the protocol under a lowered ulimit, wait for `ready`, then per
 * reload send the signal, wait for the acknowledgement with that sequence
 * number (a timeout, never a sleep), and sample. Stops on a register failure
 * (then checks whether signal handling is dead), on the planned count, or when
 * the child dies; always tears the child down.
 *
 * Under `--attribute` (`plan.trace`) the child runs under strace
 * (src/attribution/session.ts): every sample's fds are kept by identity, and
 * before teardown the fds open at the last sample that were not open at the
 * baseline (the leaked fds) are pinned for the trace to attribute.
 */
import type { TraceHook } from '../../attribution/session.js';
import { type DriverHooks, endFromWait, type RunContext, runLoop, type Strategy } from '../../core/lifecycle.js';
import type { ChildExit, Measured, MeasuredRun } from '../../model/run-document.js';
import { round } from '../../model/stats.js';
import type { ChildEvent, OtherEvent } from '../../protocol/events.js';
import { WaitError } from '../child-output.js';
import type { LaunchedChild } from '../launch.js';
import { type RecordPlan, RunEnded, RunRecorder } from '../record.js';

export type { DriverHooks } from '../../core/lifecycle.js';

export interface ReloadLoopPlan extends RecordPlan {
  ulimit: number;
  readyTimeoutMs: number;
  ackTimeoutMs: number;
  /** How long to wait for a reload after a register failure before calling signal handling dead. */
  deadCheckMs: number;
  graceMs: number;
  /** Called right before each reload's signal (log-reopen rotates the log here). */
  beforeSignal?: (reload: number) => void;
  /** --attribute: the child runs under strace; the leaked fds are pinned before teardown. */
  trace?: TraceHook;
}

/** The acknowledgement (or register failure) of the reload with sequence number `seq`. */
export const isAck = (seq: number) => (e: ChildEvent) => (e.event === 'reload' || e.event === 'register-failed') && e.seq === seq;

/** A protocol wait or a `RunEnded` ends the run (recorded); anything else does not. */
export function recordProtocolEnd(recorder: RunRecorder, error: unknown): boolean {
  const ended = error instanceof WaitError ? endFromWait(error) : error;
  if (!(ended instanceof RunEnded)) return false;
  recorder.end(ended);
  return true;
}

/** After teardown: a child that exited says how in the run's end. */
export function noteChildExit(recorder: RunRecorder, exit: ChildExit): void {
  if (recorder.ending.reason === 'child-exited') recorder.end(new RunEnded('child-exited', `${recorder.ending.detail} (${exit.signal ? `signal ${exit.signal}` : `exit code ${exit.exitCode}`})`));
}

/** The protocol child (launched, never attached): the reload loop and the rounds always have one. */
export function childOf(run: RunContext): LaunchedChild {
  return run.child as LaunchedChild;
}

/**
 * What the two protocol strategies (the reload loop, the rounds) share: a
 * launched child that says `ready`, a recorder that keeps its other events,
 * protocol waits that end the run, and a document made from the recorder.
 */
export abstract class ProtocolStrategy implements Strategy<MeasuredRun> {
  readonly recorder: RunRecorder;
  readonly launch;
  readonly trace;
  readonly readyTimeoutMs;
  readonly steps;
  readonly graceMs;
  /** The `ready` event, sampled with the baseline. */
  protected readyEvent: ChildEvent | undefined;

  constructor(
    readonly plan: ReloadLoopPlan,
    readonly hooks: DriverHooks,
  ) {
    this.recorder = new RunRecorder(plan, hooks.probe, hooks.onSample);
    this.launch = { command: plan.command, ulimit: plan.ulimit };
    this.trace = plan.trace;
    this.readyTimeoutMs = plan.readyTimeoutMs;
    this.steps = plan.reloadsPlanned;
    this.graceMs = plan.graceMs;
  }

  stepName(k: number): string {
    return `reload ${k}`;
  }

  /** Events other than acknowledgements are kept (scenario events through `onOther`); resolves to the pid once `ready` came. */
  async ready(run: RunContext): Promise<number> {
    const child = childOf(run);
    child.output.onEvent(({ event }) => {
      if (event.event !== 'reload') this.recorder.keep(event);
    });
    child.output.onOtherEvent((event) => this.onOther(event));
    this.readyEvent = (await child.output.waitFor((e) => e.event === 'ready', this.plan.readyTimeoutMs, 'ready', this.hooks.abort)).event;
    return child.pid;
  }

  /** A scenario event the protocol has no rule for: kept. */
  protected onOther(event: OtherEvent): void {
    this.recorder.keep(event);
  }

  abstract baseline(run: RunContext): Promise<void>;
  abstract step(k: number, run: RunContext): Promise<'next' | 'end'>;

  async ended(error: unknown): Promise<boolean> {
    return recordProtocolEnd(this.recorder, error);
  }

  finish(exit: ChildExit | null, run: RunContext): MeasuredRun {
    const child = childOf(run);
    noteChildExit(this.recorder, exit as ChildExit);
    return this.recorder.finish({ pid: child.pid, child: exit, ulimit: this.plan.ulimit, stderr: child.output.stderr.view(), stdout: child.output.stdout.view(), ...this.finishExtra() });
  }

  /** What the strategy adds to the document. */
  protected finishExtra(): { signalHandling?: Measured['signalHandling'] } {
    return {};
  }
}

/** The reload loop as a step strategy: per reload, signal, await the acknowledgement with that sequence number, sample. */
class ReloadLoop extends ProtocolStrategy {
  #signalHandling: Measured['signalHandling'] = 'not-checked';

  async baseline(run: RunContext): Promise<void> {
    await this.#sample(run, 0, this.readyEvent);
  }

  async step(k: number, run: RunContext): Promise<'next' | 'end'> {
    const child = childOf(run);
    this.plan.beforeSignal?.(k);
    const sentNs = process.hrtime.bigint();
    if (!child.signal(this.plan.signal)) throw new RunEnded('child-exited', `child gone before reload ${k}`);
    const ack = await child.output.waitFor(isAck(k), this.plan.ackTimeoutMs, `reload ${k}`, this.hooks.abort);
    await this.#sample(run, k, ack.event, round(Number(ack.atNs - sentNs) / 1e6, 4));
    if (ack.event.event !== 'register-failed') return 'next';
    this.#signalHandling = await checkSignalHandling(child, this.plan, k + 1, this.hooks.abort);
    this.recorder.end(new RunEnded('emfile', `${ack.event.message} at reload ${k}`));
    return 'end';
  }

  protected override finishExtra() {
    return { signalHandling: this.#signalHandling };
  }

  async #sample(run: RunContext, reload: number, event: ChildEvent | undefined, roundTripMs?: number): Promise<void> {
    const pid = childOf(run).pid;
    const fds = await this.recorder.sample(pid, reload, { limit: this.plan.ulimit, event: event as Record<string, unknown> | undefined, roundTripMs });
    run.observeFds(pid, reload, fds);
  }
}

export async function runReloadLoop(plan: ReloadLoopPlan, hooks: DriverHooks): Promise<MeasuredRun> {
  return runLoop(new ReloadLoop(plan, hooks), hooks);
}

/**
 * After a register failure: one more signal. A reload (or another failure)
 * means something still listens; none within the window while the child is
 * still alive means the signal was caught (the default action for SIGHUP
 * would have killed it) and nothing acted on it.
 */
async function checkSignalHandling(child: LaunchedChild, plan: ReloadLoopPlan, nextSeq: number, abort: AbortSignal | undefined): Promise<Measured['signalHandling']> {
  plan.beforeSignal?.(nextSeq);
  if (!child.signal(plan.signal)) return 'not-checked';
  try {
    await child.output.waitFor((e) => (e.event === 'reload' || e.event === 'register-failed') && e.seq >= nextSeq, plan.deadCheckMs, 'dead-listener check', abort);
    return 'alive';
  } catch (error) {
    if (error instanceof WaitError && error.reason === 'timeout' && child.isRunning()) return 'dead';
    return 'not-checked';
  }
}

