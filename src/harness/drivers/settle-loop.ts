/**
 * The watch driver (repro watch): any program, no protocol, watched as a
 * process tree. Start it under the keeper (or attach with --pid), wait until
 * the tree's fd floor holds, record where every thread idles, then per
 * reload: send the signal (to the program, its group or every process of the
 * tree that takes it), make sure it was delivered (it left the pending sets),
 * wait until the reload finished (every thread back where it idled and the fd
 * floor held for the settle window), and take a full sample of the tree (every
 * fd's identity, so survivors can be counted at the end). After the last
 * reload a final drain comes before the last sample. Every way the program
 * can fail to take the reloads ends the run with a reason, never a hang.
 */
import { constants as osConstants } from 'node:os';
import { setTimeout as delay } from 'node:timers/promises';
import { ProbeError } from '../../fdprobe/errors.js';
import { parseSignalDisposition, ProcfsProbe, type SignalDisposition } from '../../fdprobe/procfs.js';
import { ProcfsView } from '../../proc/procfs-view.js';
import { RecordingView } from '../../proc/recording.js';
import type { ProcessView } from '../../proc/view.js';
import type { MeasuredRun, RunDocument, SurvivorSummary, WatchedTree } from '../../model/run-document.js';
import { processExists } from '../../util/process-exists.js';
import { exitSentence, launchChild } from '../launch.js';
import { LogFollower } from '../log-follower.js';
import { type RecordPlan, RunEnded, RunRecorder } from '../record.js';
import { addIdleReadings, awaitReloadFinished, type BusyThread, type IdleBaseline, idleBaselineOf, readThreads, recordIdleBaseline, ReloadCompletion, type ThreadReading } from '../tree/completion.js';
import { awaitDelivery } from '../tree/delivery.js';
import { keeperUnavailable, programPidOf } from '../tree/keeper.js';
import { synchronousWait } from '../tree/safety.js';
import { TreeSampler } from '../tree/sampler.js';
import { commandLine, countTreeFds, descendants, type TreeOptions, TreeWalker } from '../tree/tree.js';
import type { DriverHooks } from './reload-loop.js';
import type { TraceHook } from '../../attribution/session.js';

/** Where the reload signal goes. */
export type SignalTo = WatchedTree['signalTo'];

export interface SettleLoopPlan extends RecordPlan {
  /** Attach to this running process (and its descendants) instead of spawning `command`. */
  pid?: number;
  /** Lower RLIMIT_NOFILE (soft and hard) of the spawned program. */
  ulimit?: number;
  /** The window: threads back idle and the fd count (or its floor) unchanged this long. */
  settleMs: number;
  /** Give up on one reload after this long. */
  settleTimeoutMs: number;
  /** Instead of waiting for the fd floor to hold at start, wait exactly this long. */
  readyAfterMs?: number;
  readyTimeoutMs: number;
  graceMs: number;
  /** Default `program`. */
  signalTo?: SignalTo;
  /** --attribute: the program runs under strace (src/attribution/session.ts), which is left out of the tree; survivors are pinned before teardown. */
  trace?: TraceHook;
  /** A log file the program writes (`--log`): EMFILE text appended there after the first signal is EMFILE seen, as on its own stderr. */
  logFile?: string;
  /** Write every /proc reading to this NDJSON trace (src/proc/recording.ts). */
  recordTrace?: string;
}

const POLL_MS = 2;
/**
 * Once every thread of the tree is back where it idled, the fd count (or its
 * floor) must hold this long (and for 3 polls) before a reload counts as
 * finished: the confirmation rule of tree/completion.ts. The settle window
 * (`--settle`) applies where threads cannot be judged.
 */
export const CONFIRM_MS = 15;
const HANDLER_WAIT_MS = 1000;
/** A signal still pending after this long is not delivered (blocked, or a thread that never runs). */
const DELIVERY_TIMEOUT_MS = 1000;

/** Waits `ms`, or ends the run as aborted the moment `abort` fires (Ctrl-C must never wait out a sleep). */
async function sleep(ms: number, abort: AbortSignal | undefined, phase: string): Promise<void> {
  try {
    await delay(ms, undefined, { signal: abort });
  } catch (error) {
    if (abort?.aborted) throw new RunEnded('aborted', `aborted during ${phase}`);
    throw error;
  }
}

/**
 * Why start-up did not end within `timeoutMs`. With the fd count steady
 * (`steadyFds`), a thread never asleep since start-up began (a CPU-busy
 * thread) is what kept it from ending: that thread is named, with the way
 * out (--ready-after). Otherwise the fd count kept changing.
 */
export function startUpNotEnded(timeoutMs: number, busy: readonly BusyThread[], steadyFds: number | undefined): string {
  if (steadyFds === undefined || busy.length === 0) return `start-up: fd count still changing after ${timeoutMs} ms`;
  const never = busy.filter((b) => b.sinceSignal);
  const shown = never.length > 0 ? never : busy;
  const named = shown.slice(0, 2).map((b) => `thread ${b.tid} of pid ${b.pid} (${b.comm})`);
  const more = shown.length > 2 ? ` and ${shown.length - 2} more` : '';
  const what = never.length > 0 ? `kept running for ${timeoutMs} ms (never asleep` : `kept waking: the threads never all slept through one settle window in ${timeoutMs} ms (`;
  return `start-up: ${named.join(', ')}${more} ${what}; the fd count held at ${steadyFds}), so start-up never looked finished: use --ready-after MS to start the reloads after a fixed wait`;
}

export async function runSettleLoop(plan: SettleLoopPlan, hooks: DriverHooks): Promise<MeasuredRun> {
  const recorder = new RunRecorder(plan, hooks.probe, hooks.onSample);
  const procfs = hooks.probe instanceof ProcfsProbe ? hooks.probe : new ProcfsProbe();
  // Every reading of the process world goes through one view; with --record-trace, a recording one.
  const liveView = new ProcfsView(undefined, procfs);
  const recording = plan.recordTrace === undefined ? undefined : new RecordingView(liveView, plan.recordTrace, { command: plan.command, pid: plan.pid, signal: plan.signal });
  const view: ProcessView = recording ?? liveView;
  const signalTo = plan.signalTo ?? 'program';
  const signo = osConstants.signals[plan.signal];
  let emfileObserved: RunDocument['emfileObserved'];
  /** The reload whose signal was sent last. */
  let inFlight = 0;
  let disposition: SignalDisposition | undefined;
  let limit: number | null = plan.ulimit ?? null;

  // Followed from its size now, before the program starts: what was there before is not this run's.
  const log = plan.logFile === undefined ? undefined : new LogFollower(plan.logFile);
  const cannotKeep = plan.pid === undefined ? keeperUnavailable() : undefined;
  const keeperNote = cannotKeep && `${cannotKeep}; the program ran without it, so a process that daemonizes (re-parents to init) leaves the watch`;
  const keeper = plan.pid === undefined && !keeperNote ? { graceMs: plan.graceMs } : undefined;
  const child = plan.pid === undefined ? (hooks.launch ?? launchChild)({ command: plan.trace ? plan.trace.command(plan.command) : plan.command, ulimit: plan.ulimit, keeper }) : undefined;
  if (child) hooks.onChild?.(child);
  // Under the keeper the tree's root is the keeper, which is not watched; with --pid (or without a keeper), the process itself.
  const rootPid = child ? child.pid : (plan.pid as number);
  const treeOptions: TreeOptions = { includeRoot: !keeper, view, ...(plan.trace ? { exclude: plan.trace.excluded } : {}) };
  const sampler = new TreeSampler(rootPid, treeOptions, procfs);
  const walker = new TreeWalker(rootPid, treeOptions);
  let programPid: number | null = plan.pid ?? null;
  /** Where a `program` signal goes: the program, or the daemon it left. */
  let target = plan.pid ?? -1;
  let signalTargetNote: string | undefined;
  let idle: IdleBaseline = new Map();
  let completionNote: string | undefined;

  const alive = () => (child ? child.isRunning() : processExists(rootPid));
  /** How the program ended, in words: the keeper mirrors it when the tree is empty; its report line tells it while others live on. */
  const exitDetail = async () => {
    if (!child) return 'the process is gone';
    // An empty tree: the keeper is about to exit with the program's own status.
    for (let i = 0; i < 50 && child.isRunning() && descendants(rootPid, treeOptions).length === 0; i++) await delay(10);
    if (!child.isRunning()) return exitSentence(await child.exited);
    for (let i = 0; i < 30 && !child.tree?.programExit(); i++) await delay(10);
    const how = child.tree?.programExit();
    return how ? `the program (pid ${programPid}) ${how.signal ? 'was ' : ''}${exitSentence(how)}` : 'the program is gone';
  };
  /** EMFILE text the program wrote after the first signal (its whole output is scanned; a start-up banner does not count). */
  const outputSaysEmfile = () => {
    const seen = child?.output.emfileSeen();
    return seen?.afterMark ? seen.text : null;
  };

  /**
   * Start-up: the tree's fd count or its floor holds for the settle window (a
   * service that churns fds settles by its floor). Returns where every thread
   * slept over that window: the idle baseline, read while nothing moved.
   */
  const settleStart = async (): Promise<IdleBaseline> => {
    const started = performance.now();
    // No idle places are known yet: every thread must be asleep (in any syscall) with its CPU time still, so an interpreter still importing is not "up".
    const floor = new ReloadCompletion(new Map(), { settleMs: plan.settleMs, startMs: started, anyIdle: true });
    const window: { atMs: number; threads: ThreadReading[] }[] = [];
    let fdsNow = -1;
    let fdsSinceMs = started;
    for (;;) {
      if (hooks.abort?.aborted) throw new RunEnded('aborted', 'aborted during start-up');
      const tree = countTreeFds(rootPid, treeOptions, walker);
      const t = performance.now();
      if (!alive() || tree.processes.length === 0) throw new RunEnded('child-exited', `${await exitDetail()} during start-up`);
      const threads = readThreads(tree.processes.map((p) => p.pid), undefined, view);
      window.push({ atMs: t, threads });
      while ((window[0] as { atMs: number }).atMs < t - plan.settleMs) window.shift();
      // Finished means every thread was asleep at every poll of the last window: those readings are where each one idles.
      if (floor.observe(t, threads, tree.totalFds).finished) return idleBaselineOf(window.map((w) => w.threads), undefined, view);
      if (tree.totalFds !== fdsNow) {
        fdsNow = tree.totalFds;
        fdsSinceMs = t;
      }
      if (t - started > plan.readyTimeoutMs) throw new RunEnded('never-settled', startUpNotEnded(plan.readyTimeoutMs, floor.busy, t - fdsSinceMs >= plan.settleMs ? fdsNow : undefined));
      await sleep(POLL_MS, hooks.abort, 'start-up');
    }
  };

  const takeSample = async (reload: number, at: { settleMs?: number; deliveredMs?: number }) => {
    let taken: ReturnType<TreeSampler['sample']> | undefined;
    try {
      taken = sampler.sample(reload);
    } catch (error) {
      if (!(error instanceof ProbeError && error.failure === 'gone')) throw error;
    }
    // The program left between the finished reload and its sample: say how it ended, as during the reload.
    if (!taken || taken.tree.processes.length === 0) throw new RunEnded('child-exited', `${await exitDetail()} ${reload === 0 ? 'during start-up' : `during reload ${reload}`}`);
    const own = taken.tree.processes.find((p) => p.pid === target);
    const aboveLimit = reload === 0 && limit !== null ? (own?.entries ?? []).filter((e) => e.fd >= (limit as number)).length : undefined;
    recorder.treeSample(
      reload,
      { fds: taken.tree.totalFds, fdsByKind: taken.tree.byKind ?? {}, processes: taken.processes, processCount: taken.tree.processes.length, rssKb: taken.rssKb, aboveLimit },
      at,
    );
    if (!emfileObserved && taken.emfile) emfileObserved = { reload, evidence: taken.emfile, ...(taken.emfileAhead ? { ahead: true } : {}) };
    const said = outputSaysEmfile();
    if (!emfileObserved && said) emfileObserved = { reload, evidence: `the program said ${JSON.stringify(said)}` };
    const logged = log?.poll();
    if (!emfileObserved && logged) emfileObserved = { reload, evidence: ellipsis(logged.line), logFile: log?.path };
  };

  /** Processes of the tree that take the signal: a handler (SigCgt) or a wait for it (blocked: sigwait, signalfd). */
  const takers = () =>
    descendants(rootPid, treeOptions)
      .filter((p) => p.state !== 'Z' && p.state !== 'X')
      .filter((p) => {
        try {
          const d = dispositionOf(view, p.pid, signo);
          return d === 'caught' || d === 'blocked' || (d === 'default' && synchronousWait(p.pid, signo, undefined, view) !== null);
        } catch {
          return false;
        }
      });

  /** Sends the signal of reload k; returns the pids whose delivery is checked. */
  const send = (k: number): number[] => {
    const kill = (pid: number) => {
      try {
        process.kill(pid, plan.signal);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ESRCH') throw new RunEnded('child-exited', `the process was gone before reload ${k}`);
        throw new RunEnded('probe-failed', `cannot send ${plan.signal} to ${pid}: ${(error as NodeJS.ErrnoException).code}`);
      }
    };
    if (signalTo === 'program') {
      kill(target);
      return [target];
    }
    if (signalTo === 'group') {
      const pgid = pgidOf(view, target);
      if (pgid === undefined) throw new RunEnded('child-exited', `the process was gone before reload ${k}`);
      kill(-pgid);
      const members = takers().filter((p) => pgidOf(view, p.pid) === pgid).map((p) => p.pid);
      return members.length ? members : [target];
    }
    const all = takers().map((p) => p.pid);
    if (all.length === 0) {
      kill(target);
      return [target];
    }
    for (const pid of all) kill(pid);
    return all;
  };

  /** Ends the run when reload k's signal was not taken: a gone program is its exit, anything else `not-delivered`. */
  const checkDelivery = async (k: number, pids: number[]): Promise<number> => {
    const results = await Promise.all(pids.map((pid) => awaitDelivery(pid, plan.signal, { timeoutMs: DELIVERY_TIMEOUT_MS, tracingStopIsTransient: plan.trace !== undefined, view })));
    for (const [i, r] of results.entries()) {
      if (r.outcome === 'delivered') continue;
      const pid = pids[i] as number;
      if ((r.outcome === 'gone' || r.outcome === 'zombie') && pid === target && child) throw new RunEnded('child-exited', `${await exitDetail()} during reload ${k}`);
      if (r.outcome === 'gone' && !alive()) throw new RunEnded('child-exited', `${await exitDetail()} during reload ${k}`);
      throw new RunEnded('not-delivered', `reload ${k}: ${plan.signal} was not delivered to pid ${pid} (${commOf(view, pid)}): ${r.detail}`);
    }
    return Math.max(0, ...results.map((r) => r.waitedMs));
  };

  /** Waits until reload k (or the final drain) finished; ends the run when it does not. */
  const awaitFinished = async (k: number, sentAtMs: number, phase: string) => {
    const done = await awaitReloadFinished({ rootPid, ...treeOptions, baseline: idle, reload: k, settleMs: plan.settleMs, confirmMs: Math.min(CONFIRM_MS, plan.settleMs), timeoutMs: plan.settleTimeoutMs, signalSentAtMs: sentAtMs, abort: hooks.abort, pollMs: POLL_MS });
    if (done.finished) return done;
    if (done.reason === 'aborted') throw new RunEnded('aborted', `aborted during ${phase}`);
    if (done.reason === 'gone' || !alive()) throw new RunEnded('child-exited', `${await exitDetail()} during ${phase}`);
    if (done.busy.length > 0) throw new RunEnded('reload-unfinished', phase === `reload ${k}` ? done.sentence : done.sentence.replace(`reload ${k} did not finish`, `${phase} did not finish`));
    throw new RunEnded('never-settled', `${phase}: fd count still changing after ${plan.settleTimeoutMs} ms`);
  };

  try {
    if (child && child.pid <= 0) throw new RunEnded('child-exited', await exitDetail());
    if (child && !keeper) programPid = target = child.pid;
    if (child && keeper) {
      const started = await programStarted(child.tree?.program, plan.readyTimeoutMs, hooks.abort);
      if (!started) throw new RunEnded(hooks.abort?.aborted ? 'aborted' : 'child-exited', hooks.abort?.aborted ? 'aborted during start-up' : `${await exitDetail()} before it was up`);
      programPid = target = started;
      await plan.trace?.attached(started, plan.readyTimeoutMs);
    }
    /** Where the threads slept while start-up held still; recorded again below when the handler came later or the target changed. */
    let startIdle: IdleBaseline | undefined;
    if (plan.readyAfterMs !== undefined) {
      await sleep(plan.readyAfterMs, hooks.abort, 'start-up');
      if (!alive()) throw new RunEnded('child-exited', `${await exitDetail()} before it was up`);
    } else {
      startIdle = await settleStart();
    }
    // A program that exited during start-up and left processes behind daemonized: signals go to what it left, as to a daemon.
    const programEnd = child?.tree?.programExit();
    if (child && programEnd) {
      const daemon = programPidOf(rootPid);
      if (daemon === undefined) throw new RunEnded('child-exited', `${await exitDetail()} during start-up`);
      signalTargetNote = `the program (pid ${programPid}) ${exitSentence(programEnd)} during start-up and left pid ${daemon} (${commandLine(daemon, commOf(view, daemon), undefined, view)}) running: signals go to pid ${daemon}, as to a daemon`;
      target = daemon;
      startIdle = undefined;
    }
    limit = (await procfs.limits(target)).soft ?? limit;
    const handler = await awaitHandler(target, plan, alive, recorder, hooks.abort, view);
    disposition = handler.disposition;
    // The program moved while its handler was awaited: where its threads idle is read again.
    if (handler.waited) startIdle = undefined;
    // An init shim (tini) blocks every signal and takes them in sigtimedwait, which unblocks the waited ones while it sleeps: it takes the signal.
    if (disposition === 'default' && synchronousWait(target, signo, undefined, view) !== null) disposition = 'blocked';
    if (signalTo === 'program' && disposition === 'default') {
      const other = takers().find((p) => p.pid !== target);
      if (other) {
        throw new RunEnded(
          'no-handler',
          `the started program (pid ${target}, ${commOf(view, target)}) has no handler for ${plan.signal}, whose default action would end it, but its descendant pid ${other.pid} (${commandLine(other.pid, other.comm, undefined, view)}) has one: start the service with exec (e.g. \`exec python3 app.py\` in the wrapper), start the service yourself and watch it with --pid of the process that has the handler, or send the signal to it with --signal-to tree`,
        );
      }
    }
    idle = startIdle ?? (await idleBaseline(rootPid, treeOptions, plan.settleMs, hooks.abort));
    view.mark('baseline', { rootPid, includeRoot: treeOptions.includeRoot, target, settleMs: plan.settleMs, confirmMs: Math.min(CONFIRM_MS, plan.settleMs), timeoutMs: plan.settleTimeoutMs, idle: [...idle] });
    if (![...idle.values()].every((s) => !s.syscalls.includes(null)) || idle.size === 0) {
      completionNote = 'the threads of the tree could not be read (/proc/PID/task/TID/syscall): the fd floor alone decided when a reload finished';
    }
    await takeSample(0, {});
    if (disposition === 'ignored' && signalTo === 'program') throw new RunEnded('signal-ignored', `the program ignores ${plan.signal} (SigIgn), so reloads cannot be tested`);
    for (let k = 1; k <= plan.reloadsPlanned; k++) {
      inFlight = k;
      if (hooks.abort?.aborted) throw new RunEnded('aborted', `aborted before reload ${k}`);
      if (k === 1) {
        child?.output.mark();
        log?.mark();
      }
      view.mark('signal', { reload: k });
      const sentAt = view.now();
      const deliveredMs = await checkDelivery(k, send(k));
      const settledMs = (await awaitFinished(k, sentAt, `reload ${k}`)).waitedMs;
      // After the last reload, a final drain: what a slow reload (or a draining worker) still does is counted.
      if (k === plan.reloadsPlanned) {
        view.mark('drain', { reload: k });
        await awaitFinished(k, view.now(), 'the final drain');
      }
      await takeSample(k, { settleMs: settledMs, deliveredMs });
      if (emfileObserved) {
        recorder.end(
          new RunEnded(
            'emfile',
            emfileObserved.ahead
              ? `stopped after reload ${k}: reload ${k + 1} cannot open its fds (predicted from the free slots; no call failed): ${emfileObserved.evidence}`
              : `EMFILE ${emfileObserved.logFile === undefined ? '' : `in ${emfileObserved.logFile} `}at reload ${k}: ${emfileObserved.evidence}`,
          ),
        );
        break;
      }
    }
  } catch (error) {
    let ended = error;
    if (error instanceof ProbeError) ended = new RunEnded(error.failure === 'gone' ? 'child-exited' : 'probe-failed', error.message);
    if (!(ended instanceof RunEnded)) {
      await child?.stop(plan.graceMs);
      recording?.close();
      throw error;
    }
    let detail = ended.detail;
    if (ended.reason === 'child-exited' && disposition === 'default' && child) {
      const how = child.isRunning() ? child.tree?.programExit() : await child.exited;
      if (how?.signal === plan.signal) detail += ` (it has no handler for ${plan.signal}, whose default action ends it)`;
    }
    recorder.end(new RunEnded(ended.reason, detail));
  }

  const lastReload = recorder.last()?.reload ?? 0;
  const survived: SurvivorSummary | undefined = lastReload > 0 ? sampler.survivors(lastReload) : undefined;
  if (survived) plan.trace?.pin(sampler.survivorIdentities(lastReload));
  const exit = child ? await child.stop(plan.graceMs) : null;
  // A program that dies of EMFILE says so on its way out (a traceback, an error line): that is EMFILE seen too.
  const said = recorder.ending.reason === 'child-exited' && !emfileObserved ? outputSaysEmfile() : null;
  if (said) emfileObserved = { reload: inFlight, evidence: `the program said ${JSON.stringify(said)} and exited` };
  // What the log got during the reload that ended the run (or while the program went) counts at that reload.
  const logged = log?.close();
  if (logged && !emfileObserved && inFlight > 0) emfileObserved = { reload: inFlight, evidence: ellipsis(logged.line), logFile: log?.path };
  const tree: WatchedTree = {
    signalTo,
    programPid,
    ...(signalTargetNote ? { signalTargetNote } : {}),
    ...(keeperNote ? { keeperNote } : {}),
    completion: completionNote ? 'fd-floor-only' : 'threads-and-fd-floor',
    ...(completionNote ? { completionNote } : {}),
    ...sampler.processes(survived),
  };
  recording?.close();
  return recorder.finish({
    pid: programPid,
    child: exit,
    ulimit: limit,
    stderr: child?.output.stderr.view(),
    stdout: child?.output.stdout.view(),
    extra: {
      attached: !child,
      ulimitGiven: plan.ulimit !== undefined,
      ...(child ? {} : { leftRunning: processExists(rootPid) }),
      signalDisposition: disposition,
      emfileObserved,
      command: child ? plan.command : [readCmdline(view, rootPid)],
      tree,
      ...(survived ? { survivors: survived } : {}),
    },
  });
}

/** The keeper's `program PID` line, or undefined after `timeoutMs` or an abort (the timer never outlives the wait). */
async function programStarted(program: Promise<number | undefined> | undefined, timeoutMs: number, abort: AbortSignal | undefined): Promise<number | undefined> {
  if (!program) return undefined;
  let timer: NodeJS.Timeout | undefined;
  let onAbort: (() => void) | undefined;
  const giveUp = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), timeoutMs);
    onAbort = () => resolve(undefined);
    abort?.addEventListener('abort', onAbort, { once: true });
  });
  try {
    return await Promise.race([program, giveUp]);
  } finally {
    clearTimeout(timer);
    if (onAbort) abort?.removeEventListener('abort', onAbort);
  }
}

/**
 * Where every thread of the tree idles, read for one settle window (at
 * least 20 ms, at most 100) so a thread that idles in two places has both.
 */
async function idleBaseline(rootPid: number, options: TreeOptions, settleMs: number, abort: AbortSignal | undefined): Promise<IdleBaseline> {
  const pids = () => descendants(rootPid, options).map((p) => p.pid);
  const baseline = recordIdleBaseline(pids(), undefined, options.view);
  const until = performance.now() + Math.min(100, Math.max(20, settleMs));
  while (performance.now() < until) {
    await sleep(POLL_MS, abort, 'the idle baseline');
    addIdleReadings(baseline, readThreads(pids(), undefined, options.view));
  }
  return baseline;
}

/**
 * A settled fd count does not mean the handler is installed: an interpreter
 * can sit still while importing. While the signal still has its default
 * action, keep looking for a handler for up to a second (within the ready
 * timeout), so the first signal does not kill a program that was about to catch it.
 */
async function awaitHandler(pid: number, plan: SettleLoopPlan, alive: () => boolean, recorder: RunRecorder, abort: AbortSignal | undefined, view: ProcessView): Promise<{ disposition: SignalDisposition; waited: boolean }> {
  const signo = osConstants.signals[plan.signal];
  const until = Math.min(performance.now() + HANDLER_WAIT_MS, performance.now() - recorder.elapsedMs() + plan.readyTimeoutMs);
  let disposition = dispositionOf(view, pid, signo);
  let waited = false;
  // A process that takes the signal synchronously (tini in rt_sigtimedwait, a signalfd) has no handler to wait for.
  while (disposition === 'default' && synchronousWait(pid, signo, undefined, view) === null && performance.now() < until && alive()) {
    await sleep(10, abort, 'the wait for a signal handler');
    waited = true;
    disposition = dispositionOf(view, pid, signo);
  }
  return { disposition, waited };
}


/** A log line as evidence: at most 500 characters. */
function ellipsis(line: string): string {
  return line.length > 500 ? `${line.slice(0, 499)}…` : line;
}

/** What a process does with a signal (its status masks); throws ProbeError `gone` when it is gone, as the probe did. */
function dispositionOf(view: ProcessView, pid: number, signo: number): SignalDisposition {
  const status = view.status(pid);
  if (status === undefined) throw new ProbeError('gone', pid, `process ${pid} is gone`);
  return parseSignalDisposition(status, signo);
}

/** Process group of a process (field 5 of stat); undefined when it is gone. */
function pgidOf(view: ProcessView, pid: number): number | undefined {
  return view.stat(pid)?.pgid;
}

/** Short name of a process (comm), or `gone`. */
function commOf(view: ProcessView, pid: number): string {
  return view.comm(pid)?.trim() ?? 'gone';
}

function readCmdline(view: ProcessView, pid: number): string {
  return view.cmdline(pid, 'latin1')?.replaceAll('\0', ' ').trim() ?? `pid ${pid}`;
}
