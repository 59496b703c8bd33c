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
import type { TraceHook } from '../../attribution/session.js';
import { type DriverHooks, runLoop, type RunContext, type Strategy } from '../../core/lifecycle.js';
import { programLeft, programStarted } from '../../core/program.js';
import { ProbeError } from '../../fdprobe/errors.js';
import { ProcfsProbe, type SignalDisposition } from '../../fdprobe/procfs.js';
import { ProcfsView } from '../../proc/procfs-view.js';
import { RecordingView } from '../../proc/recording.js';
import type { ProcessView } from '../../proc/view.js';
import type { ChildExit, MeasuredRun, RunDocument, SurvivorSummary, WatchedTree } from '../../model/run-document.js';
import { processExists, processRunning } from '../../util/process-exists.js';
import { exitSentence, type LaunchedChild, type LaunchOptions } from '../launch.js';
import type { Escaped } from '../tree/containment.js';
import { LogFollower } from '../log-follower.js';
import { type RecordPlan, RunEnded, RunRecorder } from '../record.js';
import {
  addIdleReadings,
  awaitReloadFinished,
  type BusyThread,
  type Calibration,
  calibrationWindowMs,
  type IdleBaseline,
  idleBaselineOf,
  readThreads,
  recordIdleBaseline,
  ReloadCompletion,
  type ThreadReading,
  watchForLateFds,
  findHandlerDeadlock,
  handlerDeadlockSentence,
} from '../tree/completion.js';
import { awaitDelivery } from '../tree/delivery.js';
import { keeperUnavailable } from '../tree/keeper.js';
import { refusedReceivers, synchronousWait } from '../tree/safety.js';
import { TreeSampler } from '../tree/sampler.js';
import { commandLine, countTreeFds, descendants, type TreeOptions, type TreeProcess, TreeWalker } from '../tree/tree.js';
import { activityOf, commOf, dispositionOf, nestedTakers, noReloadCanRun, sendReload, type SignalTo, takers } from './settle-signals.js';
import { type EffectBaseline, effectBaseline, type EffectWorld, effectSeen, listening } from './reload-effect.js';
import { ReloadLoadRun, type ReloadLoadPlan } from './reload-load.js';

export type { SignalTo } from './settle-signals.js';

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
  /** --url: load the program from readiness to after the last reload; each reload is then known done by its effect (reload-effect.ts), not by idle threads. */
  load?: ReloadLoadPlan;
}

const POLL_MS = 2;
/** Walks of an empty tree, this far apart, before a keeper that still runs is believed (it exits within a millisecond of its last reap). */
const TREE_GONE_READS = 10;
const TREE_GONE_PAUSE_MS = 20;
/**
 * Once every thread of the tree is back where it idled, the fd count (or its
 * floor) must hold this long (and for 3 polls) before a reload counts as
 * finished: the confirmation rule of tree/completion.ts. The settle window
 * (`--settle`) applies where threads cannot be judged.
 */
export const CONFIRM_MS = 15;
const HANDLER_WAIT_MS = 1000;
/** How long a nested taker is watched with no signal sent, to know whether it wakes on its own. */
const FORWARD_QUIET_MS = 100;
/** A signal still pending after this long is not delivered (blocked, or a thread that never runs). */
const DELIVERY_TIMEOUT_MS = 1000;
/** How often the process world is read for a reload's effect under load. */
const EFFECT_POLL_MS = 10;

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

/**
 * The watch driver as a step strategy, its state in fields and its phases in
 * named methods: ready (the program is up: the keeper's report), baseline
 * (start-up held still, the daemon followed, the handler awaited, where the
 * threads idle, the reload-0 sample), step (one reload: send, delivered,
 * finished, sampled), end (survivors) and finish (the document).
 */
class SettleLoop implements Strategy<MeasuredRun> {
  readonly recorder: RunRecorder;
  readonly launch: Strategy<MeasuredRun>['launch'];
  readonly trace: TraceHook | undefined;
  readonly readyTimeoutMs: number;
  readonly steps: number;
  readonly graceMs: number;
  readonly #procfs: ProcfsProbe;
  /** Every reading of the process world goes through this view; with --record-trace, a recording one. */
  readonly #view: ProcessView;
  readonly #recording: RecordingView | undefined;
  readonly #signalTo: SignalTo;
  readonly #signo: number;
  /** Followed from its size when the run is planned, before the program starts: what was there before is not this run's. */
  readonly #log: LogFollower | undefined;
  readonly #keeperNote: string | undefined;
  readonly #keeper: LaunchOptions['keeper'];
  readonly #treeOptions: TreeOptions;
  /** Set in ready(), first: under the keeper the tree's root is the keeper (not watched); with --pid (or without a keeper), the process itself. */
  #child: LaunchedChild | undefined;
  #rootPid = -1;
  /** The world reload effects are read from, made at the first reload (watch --url). */
  #world: EffectWorld | undefined;
  #sampler: TreeSampler | undefined;
  #walker: TreeWalker | undefined;
  #emfileObserved: RunDocument['emfileObserved'];
  /** The reload whose signal was sent last. */
  #inFlight = 0;
  #disposition: SignalDisposition | undefined;
  #limit: number | null;
  #programPid: number | null;
  /** Where a `program` signal goes: the program, or the daemon it left. */
  #target: number;
  #signalTargetNote: string | undefined;
  /** --signal-to tree: processes that take the signal from their parent (pid → parent pid), learnt in reload 1. */
  #forwarded = new Map<number, number>();
  /** --signal-to group: the group the signal goes to, kept when the program that led it exits (a hot restart). */
  #pgid: number | undefined;
  #idle: IdleBaseline = new Map();
  #completionNote: string | undefined;
  #survived: SurvivorSummary | undefined;
  /** Reload 1's calibration: what this program's reloads take, the floor of the following ones. */
  #calibration: Calibration | undefined;
  /** The confirmation window after the final drain, once watched. */
  #endWindowMs: number | undefined;
  /** What outlived a keeper killed under the tree, ended by repro at teardown (launch.ts). */
  #escaped: Escaped[] = [];
  /** --url: the load through the reloads. */
  readonly #load: ReloadLoadRun | undefined;
  /** Protocol `reload` events the program sent (an acknowledgement shows a reload took effect under load). */
  #acks = 0;

  constructor(
    readonly plan: SettleLoopPlan,
    readonly hooks: DriverHooks,
  ) {
    this.recorder = new RunRecorder(plan, hooks.probe, hooks.onSample);
    this.#procfs = hooks.probe instanceof ProcfsProbe ? hooks.probe : new ProcfsProbe();
    const liveView = new ProcfsView(undefined, this.#procfs);
    this.#recording = plan.recordTrace === undefined ? undefined : new RecordingView(liveView, plan.recordTrace, { command: plan.command, pid: plan.pid, signal: plan.signal });
    this.#view = this.#recording ?? liveView;
    this.#signalTo = plan.signalTo ?? 'program';
    this.#signo = osConstants.signals[plan.signal];
    this.#limit = plan.ulimit ?? null;
    this.#log = plan.logFile === undefined ? undefined : new LogFollower(plan.logFile);
    const cannotKeep = plan.pid === undefined ? keeperUnavailable() : undefined;
    this.#keeperNote = cannotKeep && `${cannotKeep}; the program ran without it, so a process that daemonizes (re-parents to init) leaves the watch`;
    this.#keeper = plan.pid === undefined && !this.#keeperNote ? { graceMs: plan.graceMs } : undefined;
    this.launch = plan.pid === undefined ? { command: plan.command, ulimit: plan.ulimit, keeper: this.#keeper } : undefined;
    this.trace = plan.trace;
    this.#treeOptions = { includeRoot: !this.#keeper, view: this.#view, ...(plan.trace ? { exclude: plan.trace.excluded } : {}) };
    this.#programPid = plan.pid ?? null;
    this.#target = plan.pid ?? -1;
    this.readyTimeoutMs = plan.readyTimeoutMs;
    this.steps = plan.reloadsPlanned;
    this.graceMs = plan.graceMs;
    this.#load = plan.load ? new ReloadLoadRun(plan.load) : undefined;
  }

  /** The program is up: launched (under the keeper, its `program PID` line came), or attached. Resolves to the pid the tracer attaches to. */
  async ready(run: RunContext): Promise<number | undefined> {
    const child = run.child;
    this.#child = child;
    child?.output.onEvent((e) => {
      if (e.event.event === 'reload') this.#acks += 1;
    });
    this.#rootPid = child ? child.pid : (this.plan.pid as number);
    this.#sampler = new TreeSampler(this.#rootPid, this.#treeOptions, this.#procfs);
    this.#walker = new TreeWalker(this.#rootPid, this.#treeOptions);
    if (child && child.pid <= 0) throw new RunEnded('child-exited', await this.#exitDetail());
    if (child && !this.#keeper) this.#programPid = this.#target = child.pid;
    void child?.tree?.escaped.then((escaped) => (this.#escaped = escaped));
    if (!child || !this.#keeper) return undefined;
    const abort = this.hooks.abort;
    const started = await programStarted(child.tree?.program, this.plan.readyTimeoutMs, abort);
    if (!started) throw new RunEnded(abort?.aborted ? 'aborted' : 'child-exited', abort?.aborted ? 'aborted during start-up' : `${await this.#exitDetail()} before it was up`);
    this.#programPid = this.#target = started;
    return started;
  }

  /** Start-up held still, the daemon followed, the handler awaited, the idle places read, and the reload-0 sample. */
  async baseline(): Promise<void> {
    /** Where the threads slept while start-up held still; read again below when the handler came later or the target changed. */
    let startIdle: IdleBaseline | undefined;
    if (this.plan.readyAfterMs !== undefined) {
      await sleep(this.plan.readyAfterMs, this.hooks.abort, 'start-up');
      if (!this.#alive()) throw new RunEnded('child-exited', `${await this.#exitDetail()} before it was up`);
    } else {
      startIdle = await this.#settleStart();
    }
    if (await this.#followDaemon()) startIdle = undefined;
    this.#limit = (await this.#procfs.limits(this.#target)).soft ?? this.#limit;
    // The program moved while its handler was awaited: where its threads idle is read again.
    if (await this.#awaitHandler()) startIdle = undefined;
    this.#idle = startIdle ?? (await idleBaseline(this.#rootPid, this.#treeOptions, this.plan.settleMs, this.hooks.abort));
    this.#view.mark('baseline', { rootPid: this.#rootPid, includeRoot: this.#treeOptions.includeRoot, target: this.#target, settleMs: this.plan.settleMs, confirmMs: Math.min(CONFIRM_MS, this.plan.settleMs), timeoutMs: this.plan.settleTimeoutMs, idle: [...this.#idle] });
    if (![...this.#idle.values()].every((s) => !s.syscalls.includes(null)) || this.#idle.size === 0) {
      this.#completionNote = 'the threads of the tree could not be read (/proc/PID/task/TID/syscall): the fd floor alone decided when a reload finished';
    }
    if (this.#signalTo === 'group') this.#pgid = this.#view.stat(this.#target)?.pgid;
    await this.#takeSample(0, {});
    if (this.#disposition === 'ignored' && this.#signalTo === 'program') throw new RunEnded('signal-ignored', `the program ignores ${this.plan.signal} (SigIgn), so reloads cannot be tested`);
    await this.#load?.start(() => this.#alive(), this.hooks.abort);
  }

  /** One reload: send, make sure it was delivered, wait until it finished (after the last, a final drain), sample. */
  async step(k: number): Promise<'next' | 'end'> {
    this.#inFlight = k;
    if (this.hooks.abort?.aborted) throw new RunEnded('aborted', `aborted before reload ${k}`);
    if (k === 1) {
      this.#child?.output.mark();
      this.#log?.mark();
    }
    this.#tracerStillThere(k);
    await this.#followGeneration(k);
    this.#view.mark('signal', { reload: k, ...this.#completionPlan(k) });
    const sentAt = this.#view.now();
    const guard = this.plan.pid === undefined ? undefined : (pids: number[]) => this.#refuseHarm(k, pids);
    // --signal-to tree: a process that takes the signal from a parent that forwards it is learnt in reload 1 and not sent it again.
    const nested = k === 1 && this.#signalTo === 'tree' ? nestedTakers(this.#takers()) : [];
    const quiet = nested.length > 0 ? await this.#quietActivity(nested.map((n) => n.pid)) : undefined;
    const sendTakers = () => (nested.length > 0 ? this.#takers().filter((p) => !nested.some((n) => n.pid === p.pid)) : this.#directTakers());
    const forwardedBefore = new Map([...this.#forwarded.keys()].map((pid) => [pid, activityOf(this.#view, pid)]));
    const world = this.#load ? effectBaseline(this.#effectWorld(), k) : undefined;
    this.#load?.signalSent(k, performance.now());
    const sentTo = sendReload(k, { signal: this.plan.signal, signalTo: this.#signalTo, target: this.#target, pgid: this.#pgid, takers: sendTakers, view: this.#view, guard });
    let deliveredMs = await this.#checkDelivery(k, sentTo);
    let settledMs = await this.#awaitReload(k, sentAt, world);
    if (quiet || forwardedBefore.size > 0) {
      const direct = quiet ? this.#learnForwarding(nested, quiet) : this.#notReached(k, forwardedBefore);
      if (direct.length > 0) {
        // Not reached through a parent: sent its own signal, still in reload 1.
        sendReload(k, { signal: this.plan.signal, signalTo: 'tree', target: this.#target, takers: () => this.#takers().filter((p) => direct.includes(p.pid)), view: this.#view, guard });
        deliveredMs = Math.max(deliveredMs, await this.#checkDelivery(k, direct));
        settledMs = await this.#awaitReload(k, sentAt, world);
      }
    }
    // After the last reload, a final drain: what a slow reload (or a draining worker) still does is counted.
    let late: string | undefined;
    if (k === this.plan.reloadsPlanned) {
      // The load ends first: its connections (and the server's side of them) close before the final drain, so none is a survivor.
      await this.#load?.stop();
      this.#view.mark('drain', { reload: k, ...this.#completionPlan(k + 1) });
      const drained = await this.#awaitFinished(k, this.#view.now(), 'the final drain');
      late = await this.#confirmEnd(drained.fds);
    }
    await this.#takeSample(k, { settleMs: settledMs, deliveredMs });
    const seen = this.#emfileObserved;
    if (!seen && late) {
      this.recorder.end(new RunEnded('reload-unfinished', late));
      return 'end';
    }
    if (!seen) return 'next';
    this.recorder.end(
      new RunEnded(
        'emfile',
        seen.ahead
          ? `stopped after reload ${k}: reload ${k + 1} cannot open its fds (predicted from the free slots; no call failed): ${seen.evidence}`
          : `EMFILE ${seen.logFile === undefined ? '' : `in ${seen.logFile} `}at reload ${k}: ${seen.evidence}`,
      ),
    );
    return 'end';
  }

  async ended(error: unknown): Promise<boolean> {
    let ended = error;
    if (error instanceof ProbeError) ended = new RunEnded(error.failure === 'gone' ? 'child-exited' : 'probe-failed', error.message);
    if (!(ended instanceof RunEnded)) {
      this.#load?.abort('the run failed inside repro');
      this.#recording?.close();
      return false;
    }
    // What a failing reload did to the requests in flight is counted (they end by their answer or timeout); Ctrl-C ends them at once.
    if (ended.reason === 'aborted') this.#load?.abort('interrupted');
    else await this.#load?.stop();
    let detail = ended.detail;
    const child = this.#child;
    if (ended.reason === 'child-exited' && this.#disposition === 'default' && child) {
      const how = child.isRunning() ? child.tree?.programExit() : await child.exited;
      if (how?.signal === this.plan.signal) detail += ` (it has no handler for ${this.plan.signal}, whose default action ends it)`;
    }
    // --attribute: a program that uses ptrace fails or hangs because of the tracer, which is what the run must say.
    const refused = ended.reason === 'aborted' || ended.detail.startsWith('cannot attribute') ? undefined : this.plan.trace?.refusal?.();
    this.recorder.end(refused ? new RunEnded('probe-failed', `${refused} (it then ${detail})`) : new RunEnded(ended.reason, detail));
    return true;
  }

  /** The fds still open at the last sample that were first seen after a reload: the survivors. */
  async end(): Promise<void> {
    const lastReload = this.recorder.last()?.reload ?? 0;
    this.#survived = lastReload > 0 ? this.#sampler?.survivors(lastReload) : undefined;
  }

  survivors() {
    const lastReload = this.recorder.last()?.reload ?? 0;
    return this.#survived ? this.#sampler?.survivorIdentities(lastReload) : undefined;
  }

  finish(exit: ChildExit | null): MeasuredRun {
    const child = this.#child;
    // A program that dies of EMFILE says so on its way out (a traceback, an error line): that is EMFILE seen too.
    const said = this.recorder.ending.reason === 'child-exited' && !this.#emfileObserved ? this.#outputSaysEmfile() : null;
    if (said) this.#emfileObserved = { reload: this.#inFlight, evidence: `the program said ${JSON.stringify(said)} and exited` };
    // What the log got during the reload that ended the run (or while the program went) counts at that reload.
    const logged = this.#log?.close();
    if (logged && !this.#emfileObserved && this.#inFlight > 0) this.#emfileObserved = { reload: this.#inFlight, evidence: ellipsis(logged.line), logFile: this.#log?.path };
    const completionNote = this.#completionNote;
    const keeperNote = this.#keeperNote ?? escapedNote(child?.pid, exit, this.#escaped);
    const tree: WatchedTree = {
      signalTo: this.#signalTo,
      programPid: this.#programPid,
      ...(this.#signalTargetNote ? { signalTargetNote: this.#signalTargetNote } : {}),
      ...(keeperNote ? { keeperNote } : {}),
      completion: this.#load ? 'took-effect-under-load' : completionNote ? 'fd-floor-only' : 'threads-and-fd-floor',
      ...(completionNote ? { completionNote } : {}),
      ...this.#calibrationFacts(),
      ...(this.#sampler as TreeSampler).processes(this.#survived),
    };
    this.#recording?.close();
    return this.recorder.finish({
      pid: this.#programPid,
      child: exit,
      ulimit: this.#limit,
      stderr: child?.output.stderr.view(),
      stdout: child?.output.stdout.view(),
      extra: {
        attached: !child,
        ulimitGiven: this.plan.ulimit !== undefined,
        ...(child ? {} : { leftRunning: processRunning(this.#rootPid) }),
        signalDisposition: this.#disposition,
        emfileObserved: this.#emfileObserved,
        command: child ? this.plan.command : [readCmdline(this.#view, this.#rootPid)],
        tree,
        ...(this.#survived ? { survivors: this.#survived } : {}),
        ...(this.#load?.started ? { reloadLoad: this.#load.summary() } : {}),
      },
    });
  }

  /**
   * --pid: a process may drop its handler at any reload (restore SIG_DFL),
   * so every process the signal would reach is checked again before every
   * send; one the signal would now harm ends the run before anything is sent.
   */
  #refuseHarm(k: number, pids: number[]): void {
    const refused = refusedReceivers(pids, this.plan.signal, this.#view);
    if (refused.length === 0) return;
    const named = refused.map((r) => `${r.reason} (pid ${r.pid}: ${r.command})`).join('; ');
    // "Left running" only of what still runs: a process refused because it is a zombie has exited.
    const running = refused.some((r) => processRunning(r.pid));
    throw new RunEnded('no-handler', `reload ${k} was not sent: ${named}; it got no signal${running ? ' and was left running' : ''}`);
  }

  /**
   * How busy each nested taker is with no signal sent, over a window as long
   * as a reload is given to start (100 ms): context switches of its threads,
   * as at the start of reload 1. A process that wakes on its own (timers) in
   * that window cannot be told to have woken for a forwarded signal.
   */
  async #quietActivity(pids: readonly number[]): Promise<Map<number, { quiet: boolean; atSend: number }>> {
    const before = new Map(pids.map((pid) => [pid, activityOf(this.#view, pid)]));
    await sleep(FORWARD_QUIET_MS, this.hooks.abort, 'the check for forwarded signals');
    const out = new Map<number, { quiet: boolean; atSend: number }>();
    for (const pid of pids) {
      const now = activityOf(this.#view, pid);
      out.set(pid, { quiet: now === before.get(pid), atSend: now });
    }
    return out;
  }

  /**
   * After reload 1 went to the outer takers only: a nested taker that stayed
   * quiet with no signal and woke during that reload took the signal from
   * its parent (a master that forwards it): it is not sent the signal again,
   * so it reloads once per signal, not twice. Returns the ones to send to
   * now (quiet and not reached, or too busy to tell).
   */
  #learnForwarding(nested: readonly TreeProcess[], quiet: Map<number, { quiet: boolean; atSend: number }>): number[] {
    const direct: number[] = [];
    const busy: TreeProcess[] = [];
    for (const n of nested) {
      const q = quiet.get(n.pid);
      const woke = q !== undefined && activityOf(this.#view, n.pid) !== q.atSend;
      if (q?.quiet && woke) this.#forwarded.set(n.pid, n.ppid);
      else direct.push(n.pid);
      if (q && !q.quiet) busy.push(n);
    }
    const named = (pid: number) => `pid ${pid} (${commOf(pid, this.#view)})`;
    const notes = [
      ...[...this.#forwarded].map(([pid, parent]) => `${named(pid)} takes ${this.plan.signal} from its parent ${named(parent)}, which forwards it: sent only to the parent, so it reloads once per signal (sending to both delivers it twice)`),
      ...busy.map((b) => `${named(b.pid)} wakes on its own, so whether its parent forwards ${this.plan.signal} to it cannot be told: it is sent the signal too and may take it twice per reload`),
    ];
    if (notes.length > 0) this.#signalTargetNote = notes.join('; ');
    return direct;
  }

  /** A process learnt to take the signal from its parent that did not wake in reload k was not reached: it is sent its own from now on. */
  #notReached(k: number, before: Map<number, number>): number[] {
    const missed = [...before].filter(([pid, at]) => activityOf(this.#view, pid) === at && this.#view.stat(pid) !== undefined).map(([pid]) => pid);
    for (const pid of missed) {
      this.#forwarded.delete(pid);
      this.#signalTargetNote = `${this.#signalTargetNote ?? ''}; pid ${pid} (${commOf(pid, this.#view)}) was not reached through its parent in reload ${k}: it was sent its own signal from then on`.replace(/^; /, '');
    }
    return missed;
  }

  /** --signal-to tree after reload 1: every taker but those that take the signal from a parent that forwards it (while that parent lives). */
  #directTakers(): TreeProcess[] {
    const all = this.#takers();
    if (this.#forwarded.size === 0) return all;
    return all.filter((p) => !(this.#forwarded.get(p.pid) === p.ppid && all.some((q) => q.pid === p.ppid)));
  }

  /** A live process of the tree still in the signalled group, oldest first: the generation that took over. */
  async #nextGeneration(): Promise<number | undefined> {
    if (this.#pgid === undefined) return undefined;
    // One walk can miss the new generation while the old one exits (see #treeGone): read again while the keeper runs.
    return this.#readWhileKept(() => {
      const live = descendants(this.#rootPid, this.#treeOptions).filter((p) => p.state !== 'Z' && p.state !== 'X' && this.#view.stat(p.pid)?.pgid === this.#pgid);
      live.sort((a, b) => a.startTicks - b.startTicks || a.pid - b.pid);
      return live[0]?.pid;
    });
  }

  /** --signal-to group: the program exited in a reload and its group lives on (a hot restart): the target follows it. */
  async #followGeneration(k: number): Promise<void> {
    if (this.#pgid === undefined) return;
    const state = this.#view.stat(this.#target)?.state;
    if (state !== undefined && state !== 'Z' && state !== 'X') return;
    const next = await this.#nextGeneration();
    if (next === undefined) return;
    this.#signalTargetNote ??= `the program (pid ${this.#programPid}) exited after a signal and its process group ${this.#pgid} lived on in pid ${next} (${commandLine(next, commOf(next, this.#view), undefined, this.#view)}) by reload ${k}, a hot restart: signals went on to the group`;
    this.#target = next;
  }

  /** --attribute: a tracer that died leaves the program untraced (its fds could no longer be attributed): named, and the run ends. */
  #tracerStillThere(k: number): void {
    const refused = this.plan.trace?.refusal?.();
    if (refused) throw new RunEnded('probe-failed', refused);
    for (const pid of this.plan.trace?.excluded ?? []) {
      const state = this.#view.stat(pid)?.state;
      if (state !== undefined && state !== 'Z' && state !== 'X') continue;
      throw new RunEnded('probe-failed', `the tracer of --attribute (strace, pid ${pid}) is gone before reload ${k}: the program runs untraced from there, so what it opens could not be attributed`);
    }
  }

  /**
   * An empty walk while the keeper runs is not the end: the keeper exits as
   * soon as its last descendant is reaped, and one walk of /proc is not
   * atomic (a daemon's grandchild read before its exiting parent, with pids
   * wrapped, has a parent that is gone by the time it is read). True once
   * the keeper is gone or the tree stayed empty over a few walks.
   */
  async #treeGone(): Promise<boolean> {
    return (await this.#readWhileKept(() => (descendants(this.#rootPid, this.#treeOptions).length > 0 ? true : undefined))) === undefined;
  }

  /** `read()` until it finds something, at most TREE_GONE_READS more times while the keeper (or the --pid process) runs. */
  async #readWhileKept<T>(read: () => T | undefined): Promise<T | undefined> {
    let found = read();
    for (let i = 0; i < TREE_GONE_READS && found === undefined && this.#alive(); i++) {
      await delay(TREE_GONE_PAUSE_MS);
      found = read();
    }
    return found;
  }

  #alive(): boolean {
    return this.#child ? this.#child.isRunning() : processExists(this.#rootPid);
  }

  #takers() {
    return takers(this.#rootPid, this.#treeOptions, this.#signo);
  }

  /** How the program ended, in words: the keeper mirrors it when the tree is empty; its report line tells it while others live on. */
  async #exitDetail(): Promise<string> {
    const child = this.#child;
    if (!child) return 'the process is gone';
    // An empty tree: the keeper is about to exit with the program's own status.
    for (let i = 0; i < 50 && child.isRunning() && descendants(this.#rootPid, this.#treeOptions).length === 0; i++) await delay(10);
    if (!child.isRunning()) {
      const how = await child.exited;
      // The keeper went before the program: something killed it under the tree (a program can kill its parent).
      if (this.#keeper && !child.tree?.programExit()) return `the keeper (pid ${child.pid}, repro's process between it and the program) ${how.signal ? 'was ' : ''}${exitSentence(how)} while the program ran (not by repro)`;
      return exitSentence(how);
    }
    for (let i = 0; i < 30 && !child.tree?.programExit(); i++) await delay(10);
    const how = child.tree?.programExit();
    // The keeper can be slow to mirror the exit on a loaded machine; an empty tree still means the program's own end.
    if (how && descendants(this.#rootPid, this.#treeOptions).length === 0) return exitSentence(how);
    return how ? `the program (pid ${this.#programPid}) ${how.signal ? 'was ' : ''}${exitSentence(how)}` : 'the program is gone';
  }

  /** EMFILE text the program wrote after the first signal (its whole output is scanned; a start-up banner does not count). */
  #outputSaysEmfile(): string | null {
    const seen = this.#child?.output.emfileSeen();
    return seen?.afterMark ? seen.text : null;
  }

  /**
   * Start-up: the tree's fd count or its floor holds for the settle window (a
   * service that churns fds settles by its floor). Returns where every thread
   * slept over that window: the idle baseline, read while nothing moved.
   */
  async #settleStart(): Promise<IdleBaseline> {
    const { settleMs, readyTimeoutMs } = this.plan;
    const started = performance.now();
    // No idle places are known yet: every thread must be asleep (in any syscall) with its CPU time still, so an interpreter still importing is not "up".
    const floor = new ReloadCompletion(new Map(), { settleMs, startMs: started, anyIdle: true });
    const window: { atMs: number; threads: ThreadReading[] }[] = [];
    let fdsNow = -1;
    let fdsSinceMs = started;
    for (;;) {
      if (this.hooks.abort?.aborted) throw new RunEnded('aborted', 'aborted during start-up');
      const tree = countTreeFds(this.#rootPid, this.#treeOptions, this.#walker);
      const t = performance.now();
      if (!this.#alive() || (tree.processes.length === 0 && (await this.#treeGone()))) throw new RunEnded('child-exited', `${await this.#exitDetail()} during start-up`);
      const threads = readThreads(tree.processes.map((p) => p.pid), undefined, this.#view);
      window.push({ atMs: t, threads });
      while ((window[0] as { atMs: number }).atMs < t - settleMs) window.shift();
      // Finished means every thread was asleep at every poll of the last window: those readings are where each one idles.
      if (floor.observe(t, threads, tree.totalFds).finished) return idleBaselineOf(window.map((w) => w.threads), undefined, this.#view);
      if (tree.totalFds !== fdsNow) {
        fdsNow = tree.totalFds;
        fdsSinceMs = t;
      }
      if (t - started > readyTimeoutMs) throw new RunEnded('never-settled', startUpNotEnded(readyTimeoutMs, floor.busy, t - fdsSinceMs >= settleMs ? fdsNow : undefined));
      await sleep(POLL_MS, this.hooks.abort, 'start-up');
    }
  }

  /**
   * A program that exited during start-up and left processes behind
   * daemonized: signals go to what it left, as to a daemon. True when the
   * target moved there.
   */
  async #followDaemon(): Promise<boolean> {
    const exited = programLeft(this.#child);
    if (!exited) return false;
    // One walk can miss the daemon while its middle fork exits (see #treeGone): read again until the keeper says the tree is empty.
    const left = (await this.#readWhileKept(() => {
      const now = programLeft(this.#child);
      return now?.daemon === undefined ? undefined : now;
    })) ?? exited;
    if (left.daemon === undefined) throw new RunEnded('child-exited', `${await this.#exitDetail()} during start-up`);
    const daemon = left.daemon;
    this.#signalTargetNote = `the program (pid ${this.#programPid}) ${exitSentence(left.exit)} during start-up and left pid ${daemon} (${commandLine(daemon, commOf(daemon, this.#view), undefined, this.#view)}) running: signals go to pid ${daemon}, as to a daemon`;
    this.#target = daemon;
    return true;
  }

  /** Waits for the target's handler (see awaitHandler) and refuses a wrapper without one whose descendant has it. True when it waited. */
  async #awaitHandler(): Promise<boolean> {
    const target = this.#target;
    const handler = await awaitHandler(target, this.plan, () => this.#alive(), this.recorder, this.hooks.abort, this.#view);
    this.#disposition = handler.disposition;
    // An init shim (tini) blocks every signal and takes them in sigtimedwait, which unblocks the waited ones while it sleeps: it takes the signal.
    if (this.#disposition === 'default' && synchronousWait(target, this.#signo, undefined, this.#view) !== null) this.#disposition = 'blocked';
    if (this.#signalTo === 'program' && this.#disposition === 'default') {
      const other = this.#takers().find((p) => p.pid !== target);
      if (other) {
        throw new RunEnded(
          'no-handler',
          `the started program (pid ${target}, ${commOf(target, this.#view)}) has no handler for ${this.plan.signal}, whose default action would end it, but its descendant pid ${other.pid} (${commandLine(other.pid, other.comm, undefined, this.#view)}) has one: start the service with exec (e.g. \`exec python3 app.py\` in the wrapper), start the service yourself and watch it with --pid of the process that has the handler, or send the signal to it with --signal-to tree`,
        );
      }
    }
    const program = `the program (pid ${target}, ${commOf(target, this.#view)})`;
    const who = this.#signalTo === 'program' ? `${program} has` : `${program} and every process of its tree have`;
    const idle = this.#disposition === 'default' ? noReloadCanRun(this.plan.signal, who, this.#signalTo !== 'program' && this.#takers().length > 0) : null;
    if (idle) throw new RunEnded('no-handler', idle);
    return handler.waited;
  }

  async #takeSample(reload: number, at: { settleMs?: number; deliveredMs?: number }): Promise<void> {
    let taken = this.#sampleOnce(reload);
    // An empty sample while the keeper runs can be one walk's race (see #treeGone): taken again once the tree shows.
    if ((!taken || taken.tree.processes.length === 0) && !(await this.#treeGone())) taken = this.#sampleOnce(reload);
    // The program left between the finished reload and its sample: say how it ended, as during the reload.
    if (!taken || taken.tree.processes.length === 0) throw new RunEnded('child-exited', `${await this.#exitDetail()} ${reload === 0 ? 'during start-up' : `during reload ${reload}`}`);
    const own = taken.tree.processes.find((p) => p.pid === this.#target);
    const limit = this.#limit;
    const aboveLimit = reload === 0 && limit !== null ? (own?.entries ?? []).filter((e) => e.fd >= limit).length : undefined;
    this.recorder.treeSample(
      reload,
      { fds: taken.tree.totalFds, fdsByKind: taken.tree.byKind ?? {}, processes: taken.processes, processCount: taken.tree.processes.length, rssKb: taken.rssKb, aboveLimit },
      at,
    );
    const seen = this.#emfileEvidence(reload, taken);
    this.#emfileObserved ??= seen;
  }

  #sampleOnce(reload: number): ReturnType<TreeSampler['sample']> | undefined {
    try {
      return (this.#sampler as TreeSampler).sample(reload);
    } catch (error) {
      if (!(error instanceof ProbeError && error.failure === 'gone')) throw error;
      return undefined;
    }
  }

  /** EMFILE seen at this sample: a call that failed, the program's output, or its log (followed at every sample, seen or not). */
  #emfileEvidence(reload: number, taken: ReturnType<TreeSampler['sample']>): RunDocument['emfileObserved'] {
    const failed = taken.emfile ? { reload, evidence: taken.emfile, ...(taken.emfileAhead ? { ahead: true } : {}) } : undefined;
    const said = this.#outputSaysEmfile();
    const logged = this.#log?.poll();
    if (failed) return failed;
    if (said) return { reload, evidence: `the program said ${JSON.stringify(said)}` };
    if (logged) return { reload, evidence: ellipsis(logged.line), logFile: this.#log?.path };
    return undefined;
  }

  /** Ends the run when reload k's signal was not taken: a gone program is its exit, anything else `not-delivered`. */
  async #checkDelivery(k: number, pids: number[]): Promise<number> {
    const { signal, trace } = this.plan;
    const results = await Promise.all(pids.map((pid) => awaitDelivery(pid, signal, { timeoutMs: DELIVERY_TIMEOUT_MS, tracingStopIsTransient: trace ? trace.excluded : false, view: this.#view })));
    for (const [i, r] of results.entries()) {
      if (r.outcome === 'delivered') continue;
      const pid = pids[i] as number;
      // A hot restart: the generation that took the signal forked the next one into its group and exited.
      if ((r.outcome === 'gone' || r.outcome === 'zombie') && this.#signalTo === 'group' && (await this.#nextGeneration()) !== undefined) continue;
      if ((r.outcome === 'gone' || r.outcome === 'zombie') && pid === this.#target && this.#child) throw new RunEnded('child-exited', `${await this.#exitDetail()} during reload ${k}`);
      if (r.outcome === 'gone' && !this.#alive()) throw new RunEnded('child-exited', `${await this.#exitDetail()} during reload ${k}`);
      // Blocked because an earlier signal's handler never returned: the deadlock is the finding, not the delivery.
      const stuck = r.outcome === 'blocked' ? await findHandlerDeadlock([pid], this.#idle, this.#signo, this.#view) : undefined;
      if (stuck) throw new RunEnded('handler-deadlock', `reload ${k}: ${signal} stays pending, blocked by the handler an earlier one started: ${handlerDeadlockSentence(stuck, this.#signo)}`);
      throw new RunEnded('not-delivered', `reload ${k}: ${signal} was not delivered to pid ${pid} (${commOf(pid, this.#view)}): ${r.detail}`);
    }
    return Math.max(0, ...results.map((r) => r.waitedMs));
  }

  #calibrationFacts(): Pick<WatchedTree, 'calibration'> {
    const c = this.#calibration;
    if (!c) return {};
    const r = (ms: number) => Math.round(ms * 1000) / 1000;
    return { calibration: { reloadMs: r(c.reloadMs), heldMs: r(c.heldMs), floorMs: this.#completionPlan(2).minMs ?? 0, ...(this.#endWindowMs === undefined ? {} : { endWindowMs: this.#endWindowMs }) } };
  }

  /** How reload k is known finished: reload 1 calibrates, the following ones wait at least twice what it took (margin for a loaded machine). */
  #completionPlan(k: number): { calibrate?: true; minMs?: number } {
    if (k === 1) return { calibrate: true };
    const took = this.#calibration?.reloadMs;
    return took === undefined ? {} : { minMs: Math.round(2 * took * 1000) / 1000 };
  }

  /**
   * After the final drain, a confirmation window (as long as reload 1's
   * calibration): fds that appear after the run looked finished mean the
   * completion rule was wrong for this program. Returns the sentence that
   * ends the run as "cannot tell" then (they cannot be given to a reload).
   */
  async #confirmEnd(fdsAtFinish: number): Promise<string | undefined> {
    const windowMs = calibrationWindowMs(this.#calibration?.reloadMs ?? 0);
    this.#view.mark('confirm', { windowMs, fds: fdsAtFinish });
    this.#endWindowMs = windowMs;
    const late = await watchForLateFds({ rootPid: this.#rootPid, ...this.#treeOptions, windowMs, settleMs: this.plan.settleMs, fdsAtFinish, abort: this.hooks.abort, pollMs: 10 });
    if (late.aborted) throw new RunEnded('aborted', 'aborted during the confirmation window');
    if (late.lateFds <= 0) return undefined;
    const took = this.#calibration ? `reload 1 took ${Math.round(this.#calibration.reloadMs)} ms when calibrated` : 'no reload was calibrated';
    return `the completion rule was wrong for this program: ${late.lateFds} fd${late.lateFds === 1 ? '' : 's'} appeared up to ${Math.round(late.lastMoveMs)} ms after the final drain looked finished (${took}), so which reload opened them cannot be told`;
  }

  /** The world a reload's effect is read from: one object for the run, so its tree walker (reload-effect.ts) is kept between polls. */
  #effectWorld(): EffectWorld {
    const load = this.plan.load as ReloadLoadPlan;
    this.#world ??= { rootPid: this.#rootPid, treeOptions: this.#treeOptions, port: load.port, ipv6: load.host.includes(':'), acks: () => this.#acks, ...(this.plan.logFile === undefined ? {} : { logFile: this.plan.logFile }) };
    return this.#world;
  }

  /** Reload k is done: without load, its threads are back idle (awaitFinished); under load, it took effect and the program can take the next. Returns ms from the signal. */
  async #awaitReload(k: number, sentAtMs: number, before: EffectBaseline | undefined): Promise<number> {
    if (!this.#load || !before) return (await this.#awaitFinished(k, sentAtMs, `reload ${k}`)).waitedMs;
    const world = this.#effectWorld();
    let evidence: string | undefined;
    let tookMs = 0;
    /** performance.now() when the effect was seen: the load's clock. */
    let seenAt = 0;
    for (;;) {
      const waitedMs = this.#view.now() - sentAtMs;
      if (!this.#alive()) throw new RunEnded('child-exited', `${await this.#exitDetail()} during reload ${k}`);
      if (evidence === undefined) {
        evidence = effectSeen(world, before);
        if (evidence !== undefined) {
          tookMs = waitedMs;
          seenAt = performance.now();
          this.#load.tookEffect(k, tookMs, evidence);
        }
      }
      // Ready for the next signal: listening again, the handler back, and a request sent after the effect answered (the reloaded program serves).
      if (evidence !== undefined && listening(world) && this.#handlesAgain() && this.#load.answeredSince(seenAt)) return tookMs;
      if (waitedMs > this.plan.settleTimeoutMs) throw new RunEnded('reload-unfinished', this.#noEffect(k, evidence));
      await sleep(EFFECT_POLL_MS, this.hooks.abort, `reload ${k}`);
    }
  }

  /** The signal's target has its handler again (a re-exec installs it only once its new image started), so the next signal reloads rather than kills. */
  #handlesAgain(): boolean {
    if (this.#signalTo !== 'program' || this.#disposition !== 'caught') return true;
    try {
      return dispositionOf(this.#view, this.#target, this.#signo) === 'caught';
    } catch {
      return false;
    }
  }

  /** Why reload k could not be known done under load: nothing showed it took effect, or it did and the program never listened (or handled the signal) again. */
  #noEffect(k: number, evidence: string | undefined): string {
    const within = `within ${this.plan.settleTimeoutMs} ms (--settle-timeout)`;
    if (evidence !== undefined) return `reload ${k} took effect (${evidence}) but the program did not answer a request on port ${(this.plan.load as ReloadLoadPlan).port} with its handler for ${this.plan.signal} back ${within}, so the next reload could not be sent`;
    return `reload ${k}: nothing showed it took effect ${within} (no new generation of processes holding the listener, no re-created listener, no re-exec, no acknowledgement${this.plan.logFile === undefined ? '; --log FILE would count a line the program logs when it reloads' : `, no line in ${this.plan.logFile}`}): with requests flowing, idle threads cannot tell, so whether reloads lose requests cannot be told`;
  }

  /** Waits until reload k (or the final drain) finished; ends the run when it does not. */
  async #awaitFinished(k: number, sentAtMs: number, phase: string) {
    const plan = this.#completionPlan(phase === `reload ${k}` ? k : k + 1);
    let done = await this.#awaitFinishedOnce(k, sentAtMs, plan);
    // One empty walk is not the end (see #treeGone): a hot restart's next generation, read before its exiting parent with pids wrapped, is missed once.
    while (!done.finished && done.reason === 'gone' && !(await this.#treeGone())) {
      if (this.#view.now() - sentAtMs >= this.plan.settleTimeoutMs) throw new RunEnded('reload-unfinished', `${phase} did not finish within ${this.plan.settleTimeoutMs} ms: walks of the tree kept coming out empty while it ran`);
      done = await this.#awaitFinishedOnce(k, sentAtMs, plan);
    }
    if (done.finished) {
      if (done.calibration) this.#calibration = done.calibration;
      return done;
    }
    const refused = this.plan.trace?.refusal?.();
    if (refused) throw new RunEnded('probe-failed', refused);
    if (done.reason === 'aborted') throw new RunEnded('aborted', `aborted during ${phase}`);
    if (done.reason === 'gone' || !this.#alive()) throw new RunEnded('child-exited', `${await this.#exitDetail()} during ${phase}`);
    const stuck = done.busy.length > 0 ? await findHandlerDeadlock([...new Set(done.busy.map((b) => b.pid))], this.#idle, this.#signo, this.#view) : undefined;
    if (stuck) throw new RunEnded('handler-deadlock', `${phase} did not finish: ${handlerDeadlockSentence(stuck, this.#signo)}`);
    if (done.busy.length > 0) throw new RunEnded('reload-unfinished', phase === `reload ${k}` ? done.sentence : done.sentence.replace(`reload ${k} did not finish`, `${phase} did not finish`));
    throw new RunEnded('never-settled', `${phase}: fd count still changing after ${this.plan.settleTimeoutMs} ms`);
  }

  #awaitFinishedOnce(k: number, sentAtMs: number, plan: { calibrate?: true; minMs?: number }) {
    const { settleMs, settleTimeoutMs } = this.plan;
    return awaitReloadFinished({
      rootPid: this.#rootPid,
      ...this.#treeOptions,
      baseline: this.#idle,
      reload: k,
      settleMs,
      confirmMs: Math.min(CONFIRM_MS, settleMs),
      timeoutMs: settleTimeoutMs,
      signalSentAtMs: sentAtMs,
      // --attribute: a program that uses ptrace may wait forever for a stop strace took: stop waiting at once.
      abort: this.plan.trace?.refused ? AbortSignal.any([this.plan.trace.refused, ...(this.hooks.abort ? [this.hooks.abort] : [])]) : this.hooks.abort,
      pollMs: POLL_MS,
      signo: this.#signo,
      ...plan,
    });
  }
}

export async function runSettleLoop(plan: SettleLoopPlan, hooks: DriverHooks): Promise<MeasuredRun> {
  return runLoop(new SettleLoop(plan, hooks), hooks);
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


/** What repro ended after the keeper was killed under the tree, in words; undefined when nothing escaped. */
function escapedNote(keeperPid: number | undefined, exit: ChildExit | null, escaped: readonly Escaped[]): string | undefined {
  if (escaped.length === 0) return undefined;
  const how = exit ? `${exit.signal ? 'was ' : ''}${exitSentence(exit)}` : 'ended';
  const named = escaped.slice(0, 4).map((e) => `pid ${e.pid} (${e.command})`);
  const more = escaped.length > 4 ? ` and ${escaped.length - 4} more` : '';
  return `the keeper (pid ${keeperPid}) ${how} under the program, not by repro: what it started would have outlived the run under init; repro, their subreaper, ended ${named.join(', ')}${more}`;
}

/** A log line as evidence: at most 500 characters. */
function ellipsis(line: string): string {
  return line.length > 500 ? `${line.slice(0, 499)}…` : line;
}

function readCmdline(view: ProcessView, pid: number): string {
  return view.cmdline(pid, 'latin1')?.replaceAll('\0', ' ').trim() ?? `pid ${pid}`;
}
