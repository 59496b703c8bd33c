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
import type { FdProbe } from '../../fdprobe/probe.js';
import type { Measured, MeasuredRun, Sample } from '../../model/run-document.js';
import { round } from '../../model/stats.js';
import type { ChildEvent } from '../../protocol/events.js';
import { WaitError } from '../child-output.js';
import { launchChild, type LaunchedChild, type LaunchOptions } from '../launch.js';
import { type RecordPlan, RunEnded, RunRecorder } from '../record.js';
import { LeakedFds } from './leaked-fds.js';

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

export interface DriverHooks {
  probe: FdProbe;
  abort?: AbortSignal;
  onSample?: (sample: Sample) => void;
  /** Called once the child is spawned, so a caller can kill it on a second Ctrl-C. */
  onChild?: (child: LaunchedChild) => void;
  /** Spawns the child; a fake in unit tests. */
  launch?: (options: LaunchOptions) => LaunchedChild;
}

const isAck = (seq: number) => (e: ChildEvent) => (e.event === 'reload' || e.event === 'register-failed') && e.seq === seq;

function endFromWait(error: WaitError): RunEnded {
  if (error.reason === 'aborted') return new RunEnded('aborted', `aborted during ${error.phase}`);
  if (error.reason === 'exited') return new RunEnded('child-exited', `${error.message} during ${error.phase}`);
  return new RunEnded(error.phase === 'ready' ? 'ready-timeout' : 'ack-timeout', `${error.phase}: ${error.message}`);
}

export async function runReloadLoop(plan: ReloadLoopPlan, hooks: DriverHooks): Promise<MeasuredRun> {
  const recorder = new RunRecorder(plan, hooks.probe, hooks.onSample);
  let signalHandling: Measured['signalHandling'] = 'not-checked';
  const child = (hooks.launch ?? launchChild)({ command: plan.trace ? plan.trace.command(plan.command) : plan.command, ulimit: plan.ulimit });
  hooks.onChild?.(child);
  const leaked = plan.trace ? new LeakedFds() : undefined;
  const sample = async (reload: number, taken: Parameters<RunRecorder['sample']>[2]): Promise<void> => {
    const fds = await recorder.sample(child.pid, reload, taken);
    leaked?.observe(child.pid, reload, fds);
  };
  child.output.onEvent(({ event }) => {
    if (event.event !== 'reload') recorder.keep(event);
  });
  child.output.onOtherEvent((event) => recorder.keep(event));
  const at = (event: ChildEvent | undefined, roundTripMs?: number) => ({ limit: plan.ulimit, event: event as Record<string, unknown> | undefined, roundTripMs });

  try {
    const ready = await child.output.waitFor((e) => e.event === 'ready', plan.readyTimeoutMs, 'ready', hooks.abort);
    await plan.trace?.attached(child.pid, plan.readyTimeoutMs);
    await sample(0, at(ready.event));
    for (let k = 1; k <= plan.reloadsPlanned; k++) {
      if (hooks.abort?.aborted) throw new RunEnded('aborted', `aborted before reload ${k}`);
      plan.beforeSignal?.(k);
      const sentNs = process.hrtime.bigint();
      if (!child.signal(plan.signal)) throw new RunEnded('child-exited', `child gone before reload ${k}`);
      const ack = await child.output.waitFor(isAck(k), plan.ackTimeoutMs, `reload ${k}`, hooks.abort);
      await sample(k, at(ack.event, round(Number(ack.atNs - sentNs) / 1e6, 4)));
      if (ack.event.event === 'register-failed') {
        signalHandling = await checkSignalHandling(child, plan, k + 1, hooks.abort);
        recorder.end(new RunEnded('emfile', `${ack.event.message} at reload ${k}`));
        break;
      }
    }
  } catch (error) {
    const ended = error instanceof WaitError ? endFromWait(error) : error;
    if (!(ended instanceof RunEnded)) {
      await child.stop(plan.graceMs);
      throw error;
    }
    recorder.end(ended);
  }

  if (leaked && recorder.last()) plan.trace?.pin(leaked.leaked());
  const exit = await child.stop(plan.graceMs);
  if (recorder.ending.reason === 'child-exited') recorder.end(new RunEnded('child-exited', `${recorder.ending.detail} (${exit.signal ? `signal ${exit.signal}` : `exit code ${exit.exitCode}`})`));
  return recorder.finish({
    pid: child.pid,
    child: exit,
    ulimit: plan.ulimit,
    signalHandling,
    stderr: child.output.stderr.view(),
    stdout: child.output.stdout.view(),
  });
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

