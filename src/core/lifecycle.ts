/**
 * The run lifecycle every driver shares: launch → ready → step(k) … → end →
 * teardown. A driver is a strategy: it says what to launch, when the program
 * is up, what one step is and what the run hands back; the lifecycle owns
 * the order, the child, the tracer (--attribute: the launch under strace, the
 * attach once the program is up, the survivors pinned before teardown) and
 * the rule that every way out tears the child down.
 *
 * Errors: a strategy ends the run by throwing `RunEnded` (or any error its
 * `ended` recognises) from any phase; anything else tears the child down and
 * is thrown on.
 */
import type { TraceHook } from '../attribution/session.js';
import type { Survivor } from '../attribution/tracker.js';
import type { FdEntry, FdProbe } from '../fdprobe/probe.js';
import type { ChildExit, Sample } from '../model/run-document.js';
import { WaitError } from '../harness/child-output.js';
import { launchChild, type LaunchedChild, type LaunchOptions } from '../harness/launch.js';
import { LeakedFds } from '../harness/drivers/leaked-fds.js';
import { RunEnded } from '../harness/record.js';

export interface DriverHooks {
  /** How fds, limits and RSS are read. */
  probe: FdProbe;
  /** Ctrl-C: the run ends as `aborted` at the next wait. */
  abort?: AbortSignal;
  /** Called with each sample as it is taken (progress). */
  onSample?: (sample: Sample) => void;
  /** Called once the child is spawned, so a caller can kill it on a second Ctrl-C. */
  onChild?: (child: LaunchedChild) => void;
  /** Spawns the child; a fake in unit tests. */
  launch?: (options: LaunchOptions) => LaunchedChild;
}

/** What the lifecycle launches. */
export interface LaunchSpec {
  /** The program's argv (the tracer's wrapping is added by the lifecycle). */
  command: readonly string[];
  /** RLIMIT_NOFILE (soft and hard) of the program; unchanged when absent. */
  ulimit?: number;
  /** Start it under the process-tree keeper (launch.ts `keeper`); absent: a plain child. */
  keeper?: { graceMs: number };
}

/** What a strategy sees of the run while it runs. */
export interface RunContext {
  /** The launched child; undefined when attached to a running process (watch --pid). */
  readonly child: LaunchedChild | undefined;
  /** Feeds the fds of the sample after signal `reload` (0: the baseline) to leaked-fd pinning; kept only under --attribute. */
  observeFds(pid: number, reload: number, entries: readonly FdEntry[]): void;
}

export interface Strategy<Result> {
  /** What to start; undefined: nothing is launched (attached to a running process). */
  readonly launch: LaunchSpec | undefined;
  /** --attribute: the program runs under this tracer. */
  readonly trace?: TraceHook;
  /** How long the tracer may take to attach once the program is up. */
  readonly readyTimeoutMs: number;
  /** Steps planned (reloads, rounds; the load driver's one signal). */
  readonly steps: number;
  /**
   * Waits until the program is up. Resolves to the pid the tracer attaches
   * to, or undefined when there is none to attach to.
   */
  ready(run: RunContext): Promise<number | undefined>;
  /** After the tracer attached: what the run starts from (the reload-0 sample). */
  baseline?(run: RunContext): Promise<void>;
  /** Names step k for "aborted before …"; given, the lifecycle ends the run when Ctrl-C came before the step. */
  stepName?(k: number): string;
  /** One step; `end` stops the loop early (the strategy has recorded why). */
  step(k: number, run: RunContext): Promise<'next' | 'end'>;
  /**
   * Any error thrown by ready, baseline or a step: record how the run ended
   * and resolve true, or resolve false when it is not a way for a run to end
   * (the child is torn down and the error thrown on).
   */
  ended(error: unknown, run: RunContext): Promise<boolean>;
  /** After the last step or the end of the run, before teardown (the child is still there): what the run concludes from its samples. */
  end?(run: RunContext): Promise<void>;
  /**
   * Before teardown under --attribute: the fds to pin as survivors, or
   * undefined to pin none. Absent: the leaked fds of the samples fed to
   * `observeFds`, once there was one.
   */
  survivors?(): readonly Survivor[] | undefined;
  /** Ends the child (absent: `child.stop(graceMs)`). */
  teardown?(child: LaunchedChild): Promise<ChildExit>;
  /** The grace period of the default teardown. */
  readonly graceMs: number;
  /** After teardown: the result, from the child's exit (null when nothing was launched). */
  finish(exit: ChildExit | null, run: RunContext): Promise<Result> | Result;
}

/** Runs `strategy` through the whole lifecycle; the child is always torn down. */
export async function runLoop<Result>(strategy: Strategy<Result>, hooks: Pick<DriverHooks, 'launch' | 'onChild' | 'abort'>): Promise<Result> {
  const { trace } = strategy;
  const child = strategy.launch ? launch(strategy.launch, trace, hooks) : undefined;
  const leaked = trace ? new LeakedFds() : undefined;
  const run: RunContext = { child, observeFds: (pid, reload, entries) => leaked?.observe(pid, reload, entries) };
  const teardown = async (): Promise<ChildExit | null> => (child ? await (strategy.teardown?.(child) ?? child.stop(strategy.graceMs)) : null);
  try {
    const pid = await strategy.ready(run);
    if (pid !== undefined) await trace?.attached(pid, strategy.readyTimeoutMs);
    await strategy.baseline?.(run);
    for (let k = 1; k <= strategy.steps; k++) {
      if (strategy.stepName && hooks.abort?.aborted) throw new RunEnded('aborted', `aborted before ${strategy.stepName(k)}`);
      if ((await strategy.step(k, run)) === 'end') break;
    }
  } catch (error) {
    if (!(await strategy.ended(error, run))) {
      await teardown();
      throw error;
    }
  }
  await strategy.end?.(run);
  if (trace) {
    const survivors = strategy.survivors ? strategy.survivors() : leaked?.seen ? leaked.leaked() : undefined;
    if (survivors) trace.pin(survivors);
  }
  return strategy.finish(await teardown(), run);
}

function launch(spec: LaunchSpec, trace: TraceHook | undefined, hooks: Pick<DriverHooks, 'launch' | 'onChild'>): LaunchedChild {
  const command = trace ? trace.command(spec.command) : [...spec.command];
  const child = (hooks.launch ?? launchChild)({ command, ulimit: spec.ulimit, ...(spec.keeper ? { keeper: spec.keeper } : {}) });
  hooks.onChild?.(child);
  return child;
}

/** How a protocol wait that failed ends the run: Ctrl-C, the child's exit, or a timeout at `ready` or at a reload. */
export function endFromWait(error: WaitError): RunEnded {
  if (error.reason === 'aborted') return new RunEnded('aborted', `aborted during ${error.phase}`);
  if (error.reason === 'exited') return new RunEnded('child-exited', `${error.message} during ${error.phase}`);
  return new RunEnded(error.phase === 'ready' ? 'ready-timeout' : 'ack-timeout', `${error.phase}: ${error.message}`);
}
