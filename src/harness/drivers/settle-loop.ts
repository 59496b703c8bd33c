/**
 * The settle loop (repro watch): any program, no protocol. Spawn it (or
 * attach with --pid), wait until its fd count settles, then per reload send
 * the signal, wait until the count has not changed for the settle window, and
 * sample. Every way the program can fail to take the reloads ends the run
 * with a reason, never a hang.
 */
import { readFileSync } from 'node:fs';
import { constants as osConstants } from 'node:os';
import { setTimeout as delay } from 'node:timers/promises';
import { ProbeError } from '../../fdprobe/errors.js';
import { ProcfsProbe, type SignalDisposition, signalDisposition } from '../../fdprobe/procfs.js';
import type { MeasuredRun, RunDocument } from '../../model/run-document.js';
import { processExists } from '../../util/process-exists.js';
import { exitSentence, launchChild } from '../launch.js';
import { type RecordPlan, RunEnded, RunRecorder } from '../record.js';
import type { DriverHooks } from './reload-loop.js';

export interface SettleLoopPlan extends RecordPlan {
  /** Attach to this running process instead of spawning `command`. */
  pid?: number;
  /** Lower RLIMIT_NOFILE (soft and hard) of the spawned program. */
  ulimit?: number;
  /** The fd count must be unchanged this long to count as settled. */
  settleMs: number;
  /** Give up on one settle after this long. */
  settleTimeoutMs: number;
  /** Instead of waiting for the count to settle at start, wait exactly this long. */
  readyAfterMs?: number;
  readyTimeoutMs: number;
  graceMs: number;
}

const POLL_MS = 2;
const HANDLER_WAIT_MS = 1000;

/** Waits `ms`, or ends the run as aborted the moment `abort` fires (Ctrl-C must never wait out a sleep). */
async function sleep(ms: number, abort: AbortSignal | undefined, phase: string): Promise<void> {
  try {
    await delay(ms, undefined, { signal: abort });
  } catch (error) {
    if (abort?.aborted) throw new RunEnded('aborted', `aborted during ${phase}`);
    throw error;
  }
}

export async function runSettleLoop(plan: SettleLoopPlan, hooks: DriverHooks): Promise<MeasuredRun> {
  const recorder = new RunRecorder(plan, hooks.probe, hooks.onSample);
  const counter = hooks.probe instanceof ProcfsProbe ? hooks.probe : undefined;
  const count = (pid: number) => (counter ? counter.countSync(pid) : hooks.probe.count(pid));
  let emfileObserved: RunDocument['emfileObserved'];
  /** The reload whose signal was sent last. */
  let inFlight = 0;
  let disposition: SignalDisposition | undefined;
  let limit: number | null = plan.ulimit ?? null;

  const child = plan.pid === undefined ? (hooks.launch ?? launchChild)({ command: plan.command, ulimit: plan.ulimit }) : undefined;
  if (child) hooks.onChild?.(child);
  const pid = child ? child.pid : (plan.pid as number);
  const alive = () => (child ? child.isRunning() : processExists(pid));
  const exitDetail = async () => (child ? exitSentence(await child.exited) : 'the process is gone');
  /** EMFILE text the program wrote after the first signal (its whole output is scanned; a start-up banner does not count). */
  const outputSaysEmfile = () => {
    const seen = child?.output.emfileSeen();
    return seen?.afterMark ? seen.text : null;
  };

  /** Polls the count until it holds still for settleMs; returns how long that took. */
  const settle = async (phase: string, timeoutMs: number): Promise<number> => {
    const started = performance.now();
    let last = await count(pid);
    let stableSince = performance.now();
    for (;;) {
      if (hooks.abort?.aborted) throw new RunEnded('aborted', `aborted during ${phase}`);
      await sleep(POLL_MS, hooks.abort, phase);
      if (!alive()) throw new RunEnded('child-exited', `${await exitDetail()} during ${phase}`);
      const now = await count(pid);
      const t = performance.now();
      if (now !== last) {
        last = now;
        stableSince = t;
      } else if (t - stableSince >= plan.settleMs) return t - started;
      if (t - started > timeoutMs) throw new RunEnded('never-settled', `${phase}: fd count still changing after ${timeoutMs} ms`);
    }
  };

  const takeSample = async (reload: number, settleMs: number | undefined) => {
    const fds = await recorder.sample(pid, reload, { limit, settleMs });
    if (!emfileObserved && limit !== null && fds.filter((f) => f.fd < (limit as number)).length >= limit) {
      emfileObserved = { reload, evidence: `${fds.length} fds open: every slot below the limit ${limit} is taken` };
    }
    const said = outputSaysEmfile();
    if (!emfileObserved && said) emfileObserved = { reload, evidence: `the program said ${JSON.stringify(said)}` };
  };

  try {
    if (child && child.pid <= 0) throw new RunEnded('child-exited', await exitDetail());
    if (plan.readyAfterMs !== undefined) {
      await sleep(plan.readyAfterMs, hooks.abort, 'start-up');
      if (!alive()) throw new RunEnded('child-exited', `${await exitDetail()} before it was up`);
    } else {
      await settle('start-up', plan.readyTimeoutMs);
    }
    limit = (await hooks.probe.limits(pid)).soft ?? limit;
    disposition = await awaitHandler(pid, plan, alive, recorder, hooks.abort);
    await takeSample(0, undefined);
    if (disposition === 'ignored') throw new RunEnded('signal-ignored', `the program ignores ${plan.signal} (SigIgn), so reloads cannot be tested`);
    for (let k = 1; k <= plan.reloadsPlanned; k++) {
      inFlight = k;
      if (hooks.abort?.aborted) throw new RunEnded('aborted', `aborted before reload ${k}`);
      if (k === 1) child?.output.mark();
      try {
        process.kill(pid, plan.signal);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ESRCH') throw new RunEnded('child-exited', `the process was gone before reload ${k}`);
        throw new RunEnded('probe-failed', `cannot send ${plan.signal} to ${pid}: ${(error as NodeJS.ErrnoException).code}`);
      }
      const settled = await settle(`reload ${k}`, plan.settleTimeoutMs);
      await takeSample(k, settled);
      if (emfileObserved) {
        recorder.end(new RunEnded('emfile', `EMFILE at reload ${k}: ${emfileObserved.evidence}`));
        break;
      }
    }
  } catch (error) {
    let ended = error;
    if (error instanceof ProbeError) ended = new RunEnded(error.failure === 'gone' ? 'child-exited' : 'probe-failed', error.message);
    if (!(ended instanceof RunEnded)) {
      await child?.stop(plan.graceMs);
      throw error;
    }
    let detail = ended.detail;
    if (ended.reason === 'child-exited' && disposition === 'default' && child) {
      const how = await child.exited;
      if (how.signal === plan.signal) detail += ` (it has no handler for ${plan.signal}, whose default action ends it)`;
    }
    recorder.end(new RunEnded(ended.reason, detail));
  }

  const exit = child ? await child.stop(plan.graceMs) : null;
  // A program that dies of EMFILE says so on its way out (a traceback, an error line): that is EMFILE seen too.
  const said = recorder.ending.reason === 'child-exited' && !emfileObserved ? outputSaysEmfile() : null;
  if (said) emfileObserved = { reload: inFlight, evidence: `the program said ${JSON.stringify(said)} and exited` };
  return recorder.finish({
    pid,
    child: exit,
    ulimit: limit,
    stderr: child?.output.stderr.view(),
    stdout: child?.output.stdout.view(),
    extra: { attached: !child, signalDisposition: disposition, emfileObserved, command: child ? plan.command : [readCmdline(pid)] },
  });
}

/**
 * A settled fd count does not mean the handler is installed: an interpreter
 * can sit still while importing. While the signal still has its default
 * action, keep looking for a handler for up to a second (within the ready
 * timeout), so the first signal does not kill a program that was about to catch it.
 */
async function awaitHandler(pid: number, plan: SettleLoopPlan, alive: () => boolean, recorder: RunRecorder, abort: AbortSignal | undefined): Promise<SignalDisposition> {
  const signo = osConstants.signals[plan.signal];
  const until = Math.min(performance.now() + HANDLER_WAIT_MS, performance.now() - recorder.elapsedMs() + plan.readyTimeoutMs);
  let disposition = signalDisposition(pid, signo);
  while (disposition === 'default' && performance.now() < until && alive()) {
    await sleep(10, abort, 'the wait for a signal handler');
    disposition = signalDisposition(pid, signo);
  }
  return disposition;
}

function readCmdline(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'latin1').replaceAll('\0', ' ').trim();
  } catch {
    return `pid ${pid}`;
  }
}
