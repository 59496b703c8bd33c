/**
 * Did the reload finish? At the baseline, record where each thread of the
 * tree idles (the syscall it sleeps in, from /proc/PID/task/TID/syscall, with
 * its wchan, state, CPU time and blocked signals). A thread is back idle when
 * it is asleep in one of its waits, not running, and its CPU time (utime +
 * stime) did not advance since the previous poll. Its waits are a set: the
 * syscalls it idled in at the baseline and every common parking wait
 * (`IDLE_WAITS`: futex, epoll_wait, poll, pause…), because a runtime's workers trade
 * idle roles (Tokio's park in futex or epoll_wait, whichever is the driver);
 * a thread born since: asleep in any syscall. A thread asleep in a wait is
 * still not idle when it now blocks the reload signal and did not at the
 * baseline: it is inside the signal's handler (a handler that deadlocked on a
 * lock sits in futex with its own signal blocked). The fd count has held when either it did not
 * change, or its floor (the minimum over the last settle window, which churn
 * cannot move) did not change. After a signal, a reload is finished when:
 * - (the confirmation rule, with `confirmMs`) every thread of the tree could
 *   be judged and has been back idle at `MIN_CONFIRM_POLLS` polls in a row
 *   spanning at least `confirmMs`, and the fd count has held for `confirmMs`.
 *   Work a reload hands on (a pipe write, a kill, a fork) wakes its receiver
 *   at once, and a woken thread reads `running` until it sleeps again, so
 *   "every thread back idle" is exact evidence; the short confirmation only
 *   covers polls that read one thread just before another woke it;
 * - (the settle window, otherwise) every thread has been back idle for a
 *   whole settle window and the fd count has held for it. This applies where
 *   a thread cannot be judged by where it is (it was on a CPU at the
 *   baseline, a busy loop; or its syscall file was unreadable at this poll).
 * Where the syscall files cannot be read at all (another user's process
 * without ptrace rights, a kernel without CONFIG_HAVE_ARCH_TRACEHOOK), the fd
 * floor alone decides for the settle window, and the result says so
 * (`evidence: 'fd-floor-only'`).
 *
 * Thread states cannot tell "idle" from "sleeping inside the reload" (a reload
 * that sleeps 300 ms in the syscall it idles in, then opens fds). So the
 * first reload is calibrated (`calibrate`): after it looks finished, keep
 * watching until the fd floor and the threads have held for
 * `calibrationWindowMs` of what the reload was seen to take (at least 1 s, 10×
 * that time); that time (`reloadMs`: the last move of the fd floor, or the
 * threads' return to idle) then floors the following reloads (`minMs`).
 *
 * `ReloadCompletion` is the pure state machine (feed it readings);
 * `awaitReloadFinished` is the loop over the real tree.
 */
import { arch, constants as osConstants } from 'node:os';
import { DEADLOCK_FROZEN_MS, handlerDeadlock, type TaskReading } from '../../kinds/trials/deadlock.js';
import { hasSignal, statusMask, type SyscallSite } from '../../proc/parse.js';
import { procfsView } from '../../proc/procfs-view.js';
import type { ProcessView, ThreadReading } from '../../proc/view.js';
import { descendants, type TreeOptions, TreeWalker, viewOf } from './tree.js';

export { parseSyscall, type SyscallSite } from '../../proc/parse.js';
export type { ThreadReading } from '../../proc/view.js';

/** A thread's idle place, recorded at the baseline. */
export interface IdleSite {
  /** The syscalls it was seen sleeping in (usually one); 'running' when it was on a CPU (such a thread is not judged). */
  syscalls: SyscallSite[];
  /** Kernel function it sleeps in (`/proc/…/wchan`), for the report. */
  wchan: string;
  state: string;
  /** Its SigBlk at the baseline (hex, as /proc shows it); absent when not read (older traces). */
  sigBlk?: string;
}

/** tid → where it idles. */
export type IdleBaseline = Map<number, IdleSite>;

const NAMES_X64: Record<number, string> = {
  0: 'read', 1: 'write', 7: 'poll', 23: 'select', 34: 'pause', 35: 'nanosleep', 43: 'accept', 45: 'recvfrom', 47: 'recvmsg',
  61: 'wait4', 128: 'rt_sigtimedwait', 130: 'rt_sigsuspend', 202: 'futex', 232: 'epoll_wait', 230: 'clock_nanosleep', 247: 'waitid', 270: 'pselect6',
  271: 'ppoll', 281: 'epoll_pwait', 288: 'accept4', 441: 'epoll_pwait2', 426: 'io_uring_enter',
};
const NAMES_ARM64: Record<number, string> = {
  63: 'read', 64: 'write', 72: 'pselect6', 73: 'ppoll', 98: 'futex', 101: 'nanosleep', 115: 'clock_nanosleep', 133: 'rt_sigsuspend', 137: 'rt_sigtimedwait',
  202: 'accept', 207: 'recvfrom', 212: 'recvmsg', 242: 'accept4', 260: 'wait4', 95: 'waitid', 22: 'epoll_pwait', 441: 'epoll_pwait2', 426: 'io_uring_enter',
};

/**
 * The waits a thread parks in, whichever it parked in at the baseline: an
 * event loop's poll, a parked worker's futex, a wait for the next signal, an
 * accept. Not the sleeps, reads, child waits or writes: a reload does its slow
 * part there (nginx's master sleeps while its old workers quit; a reload
 * reads its config, runs a hook and waits for it), so a thread counts as idle
 * in one of those only where it idled at the baseline.
 */
const IDLE_WAIT_NAMES = new Set(['futex', 'epoll_wait', 'epoll_pwait', 'epoll_pwait2', 'poll', 'ppoll', 'select', 'pselect6', 'io_uring_enter', 'accept', 'accept4', 'pause', 'rt_sigsuspend', 'rt_sigtimedwait']);

/** The numbers of `IDLE_WAIT_NAMES` on a machine (empty where the table is not known: only the baseline's places count there). */
export function idleWaits(machine = arch()): ReadonlySet<number> {
  const names = machine === 'arm64' ? NAMES_ARM64 : machine === 'x64' ? NAMES_X64 : {};
  return new Set(Object.entries(names).filter(([, name]) => IDLE_WAIT_NAMES.has(name)).map(([n]) => Number(n)));
}

const IDLE_WAITS = idleWaits();

/** The name of a syscall number on this machine (`futex`), or `syscall 202` when not in the table. */
export function syscallName(site: SyscallSite, machine = arch()): string {
  if (site === null) return 'an unknown place';
  if (site === 'running') return 'running code';
  const names = machine === 'arm64' ? NAMES_ARM64 : machine === 'x64' ? NAMES_X64 : {};
  return names[site] ?? `syscall ${site}`;
}

/** Reads every thread of the given processes (stat + syscall; wchan only with `withWchan`). */
export function readThreads(pids: readonly number[], procRoot?: string, view: ProcessView = procfsView(procRoot)): ThreadReading[] {
  const out: ThreadReading[] = [];
  for (const pid of pids) for (const t of view.threads(pid)) out.push(t);
  return out;
}

/** The baseline: where each live thread of the processes idles now (call when the program has settled, before the first signal). */
export function recordIdleBaseline(pids: readonly number[], procRoot?: string, view: ProcessView = procfsView(procRoot)): IdleBaseline {
  const baseline: IdleBaseline = new Map();
  for (const t of readThreads(pids, undefined, view)) {
    const wchan = view.wchan(t.pid, t.tid)?.trim() || '0';
    baseline.set(t.tid, { syscalls: [t.syscall], wchan, state: t.state, ...sigBlkOf(view, t.pid, t.tid) });
  }
  return baseline;
}

/**
 * The baseline from polls already taken (a list of readings per poll, each
 * taken while every thread slept): every syscall each thread was seen in.
 * Start-up's last settle window gives them, so no separate window is needed.
 */
export function idleBaselineOf(polls: readonly (readonly ThreadReading[])[], procRoot?: string, view: ProcessView = procfsView(procRoot)): IdleBaseline {
  const baseline: IdleBaseline = new Map();
  const pidOf = new Map<number, number>();
  for (const readings of polls) {
    addIdleReadings(baseline, readings);
    for (const t of readings) pidOf.set(t.tid, t.pid);
  }
  for (const [tid, site] of baseline) {
    const pid = pidOf.get(tid) as number;
    site.wchan = view.wchan(pid, tid)?.trim() || '0';
    Object.assign(site, sigBlkOf(view, pid, tid));
  }
  return baseline;
}

/** A thread's SigBlk as the baseline keeps it (hex), or nothing when its status cannot be read. */
function sigBlkOf(view: ProcessView, pid: number, tid: number): { sigBlk?: string } {
  const hex = /^SigBlk:\s+([0-9a-f]+)/m.exec(view.status(pid, tid) ?? '')?.[1];
  return hex === undefined ? {} : { sigBlk: hex };
}

/**
 * How long the first reload is watched after it looks finished: 10× what it
 * was seen to take, at least 1 s, at most 10 s.
 */
export function calibrationWindowMs(reloadMs: number): number {
  return Math.min(10_000, Math.max(1000, 10 * reloadMs));
}

/**
 * Adds more readings to a baseline (pure): poll a few times while the
 * program idles before the first signal, so a thread that idles in two
 * places (epoll_wait, and futex between two timers) has both.
 */
export function addIdleReadings(baseline: IdleBaseline, readings: readonly ThreadReading[]): IdleBaseline {
  for (const t of readings) {
    const site = baseline.get(t.tid);
    if (!site) baseline.set(t.tid, { syscalls: [t.syscall], wchan: '0', state: t.state });
    else if (!site.syscalls.includes(t.syscall)) site.syscalls.push(t.syscall);
  }
  return baseline;
}

/** A thread that is not back idle. */
export interface BusyThread {
  pid: number;
  tid: number;
  comm: string;
  /** Where it is now. */
  now: SyscallSite;
  /** Where it idled at the baseline (undefined: born since). */
  idle: SyscallSite[] | undefined;
  /** Since when (ms, the caller's clock) it has been in `now` without a break. */
  sinceMs: number;
  /** It has not been back at its idle site at any poll since the signal. */
  sinceSignal: boolean;
  cpuAdvancing: boolean;
  /** Asleep in a wait, but blocking the reload signal it did not block at the baseline: inside the handler. */
  inHandler?: boolean;
}

export type CompletionEvidence = 'threads-and-fd-floor' | 'fd-floor-only';

/** Which rule ended the wait: the short confirmation after every thread was back idle, or the full settle window. */
export type CompletionRule = 'confirmed' | 'settle-window';

/** Polls in a row at which every thread must read back idle before the confirmation rule ends a reload. */
export const MIN_CONFIRM_POLLS = 3;

export type CompletionStatus =
  | { finished: true; evidence: CompletionEvidence; rule: CompletionRule; /** fd total when it finished */ fds: number; /** its floor */ floorFds: number }
  | { finished: false; busy: BusyThread[] };

interface ThreadTrack {
  lastCpu: number;
  lastSite: SyscallSite;
  siteSinceMs: number;
  backIdle: boolean;
}

/**
 * The completion state machine of one reload (pure: the caller reads /proc
 * and the clock). Create it right after the signal, call `observe` at every
 * poll, stop when it returns `finished`.
 */
export class ReloadCompletion {
  readonly #baseline: IdleBaseline;
  readonly #settleMs: number;
  readonly #startMs: number;
  readonly #threads = new Map<number, ThreadTrack>();
  readonly #fds: { atMs: number; fds: number }[] = [];
  #allIdleSinceMs: number | undefined;
  #lastFds: number | undefined;
  #fdsSinceMs = 0;
  #floor: number | undefined;
  #floorSinceMs = 0;
  #syscallsReadable = true;
  #busy: BusyThread[] = [];
  readonly #confirmMs: number | undefined;
  #confirmSinceMs: number | undefined;
  #confirmPolls = 0;
  readonly #minMs: number;
  readonly #signo: number | undefined;
  readonly #blockedOf: ((pid: number, tid: number) => bigint | undefined) | undefined;
  /** When the threads were back idle for the streak that first finished the reload. */
  #threadsBackMs: number | undefined;
  /** The last move of the fd floor (a rise dated back to when the count reached it). */
  #fdMoveMs: number | undefined;

  /**
   * `startMs`: when the signal was sent (same clock as `observe`).
   * `anyIdle`: no baseline yet (start-up): every thread must be asleep in any syscall, CPU time still.
   * `confirmMs`: use the confirmation rule with this window (see the module comment); without it, only the settle window ends a reload.
   * `minMs`: not finished before this long after the signal (what a calibrated reload of this program takes).
   * `signo` and `blockedOf` (a thread's SigBlk now): a thread asleep with the signal newly blocked is inside its handler, not idle.
   */
  constructor(
    baseline: IdleBaseline,
    options: { settleMs: number; startMs: number; anyIdle?: boolean; confirmMs?: number; minMs?: number; signo?: number; blockedOf?: (pid: number, tid: number) => bigint | undefined },
  ) {
    this.#baseline = baseline;
    this.#minMs = options.minMs ?? 0;
    this.#signo = options.signo;
    this.#blockedOf = options.blockedOf;
    this.#settleMs = options.settleMs;
    this.#confirmMs = options.confirmMs;
    this.#startMs = options.startMs;
    this.#fdsSinceMs = options.startMs;
    this.#floorSinceMs = options.startMs;
    this.#syscallsReadable = options.anyIdle === true || (baseline.size > 0 && [...baseline.values()].every((s) => !s.syscalls.includes(null)));
  }

  /** Whether thread evidence is used (false: some baseline syscall file could not be read; the floor alone decides). */
  get usesThreads(): boolean {
    return this.#syscallsReadable;
  }

  observe(nowMs: number, threads: readonly ThreadReading[], totalFds: number): CompletionStatus {
    const floor = this.#observeFds(nowMs, totalFds);
    const fdsHeldFor = (ms: number) => nowMs - this.#fdsSinceMs >= ms || nowMs - this.#floorSinceMs >= ms;
    const fdsHeld = fdsHeldFor(this.#settleMs);
    const { threadsIdle, unjudged, busy } = this.#syscallsReadable ? this.#judgeThreads(nowMs, threads) : { threadsIdle: true, unjudged: false, busy: [] };
    if (!threadsIdle) this.#allIdleSinceMs = undefined;
    else this.#allIdleSinceMs ??= nowMs;
    this.#busy = busy;
    const pastFloor = nowMs - this.#startMs >= this.#minMs;
    if (this.#confirmMs !== undefined && this.#syscallsReadable && threadsIdle && !unjudged) {
      this.#confirmSinceMs ??= nowMs;
      this.#confirmPolls++;
      if (pastFloor && this.#confirmPolls >= MIN_CONFIRM_POLLS && nowMs - this.#confirmSinceMs >= this.#confirmMs && fdsHeldFor(this.#confirmMs)) {
        this.#threadsBackMs ??= this.#confirmSinceMs;
        return { finished: true, evidence: 'threads-and-fd-floor', rule: 'confirmed', fds: totalFds, floorFds: floor };
      }
    } else {
      this.#confirmSinceMs = undefined;
      this.#confirmPolls = 0;
    }
    const threadsHeld = !this.#syscallsReadable || (this.#allIdleSinceMs !== undefined && nowMs - this.#allIdleSinceMs >= this.#settleMs);
    if (pastFloor && fdsHeld && threadsHeld && nowMs - this.#startMs >= this.#settleMs) {
      this.#threadsBackMs ??= this.#allIdleSinceMs ?? this.#startMs;
      return { finished: true, evidence: this.#syscallsReadable ? 'threads-and-fd-floor' : 'fd-floor-only', rule: 'settle-window', fds: totalFds, floorFds: floor };
    }
    return { finished: false, busy };
  }

  /**
   * How long this reload was seen to take, from the signal: to the later of
   * the threads' return to idle (the streak that first finished it) and the
   * last move of the fd floor. Undefined until it first finished.
   */
  get reloadMs(): number | undefined {
    if (this.#threadsBackMs === undefined) return undefined;
    return Math.max(this.#threadsBackMs, this.#fdMoveMs ?? this.#startMs) - this.#startMs;
  }

  /** The fd count (unchanged since) and its floor over the last window (unchanged since); returns the floor. */
  #observeFds(nowMs: number, totalFds: number): number {
    if (totalFds !== this.#lastFds) {
      this.#lastFds = totalFds;
      this.#fdsSinceMs = nowMs;
    }
    this.#fds.push({ atMs: nowMs, fds: totalFds });
    while (this.#fds.length > 1 && (this.#fds[0] as { atMs: number }).atMs < nowMs - this.#settleMs) this.#fds.shift();
    const floor = Math.min(...this.#fds.map((s) => s.fds));
    if (floor !== this.#floor) {
      if (this.#floor !== undefined) this.#fdMoveMs = floor > this.#floor ? this.#reachedMs(floor) : nowMs;
      this.#floor = floor;
      this.#floorSinceMs = nowMs;
    }
    return floor;
  }

  /** Since when the count has stayed at or above `floor` (within the window): when a rise of the floor happened. */
  #reachedMs(floor: number): number {
    let i = this.#fds.length - 1;
    while (i > 0 && (this.#fds[i - 1] as { fds: number }).fds >= floor) i--;
    return (this.#fds[i] as { atMs: number }).atMs;
  }

  /**
   * Every thread at this poll: back where it idled with its CPU time still, or busy.
   * `unjudged`: some thread could not be judged at this poll (the confirmation rule does not apply).
   */
  #judgeThreads(nowMs: number, threads: readonly ThreadReading[]): { threadsIdle: boolean; unjudged: boolean; busy: BusyThread[] } {
    let threadsIdle = true;
    let unjudged = false;
    const busy: BusyThread[] = [];
    for (const t of threads) {
      // Unreadable now (the thread exited between its stat and its syscall file): no evidence either way.
      if (t.syscall === null) {
        unjudged = true;
        continue;
      }
      const { track, cpuAdvancing } = this.#track(nowMs, t);
      const idle = this.#baseline.get(t.tid)?.syscalls;
      // A thread that was on a CPU at the baseline (a busy loop) cannot be judged by where it is: skip it.
      if (idle?.includes('running')) {
        unjudged = true;
        continue;
      }
      // `t` (tracing stop): held by a tracer in the middle of a call (under --attribute, strace recording a traced call), not idle.
      const asleep = typeof t.syscall === 'number' && t.state !== 'R' && t.state !== 't';
      const inWait = asleep && (idle === undefined || idle.includes(t.syscall) || IDLE_WAITS.has(t.syscall as number));
      const inHandler = inWait && !cpuAdvancing && this.#inHandler(t);
      if (inWait && !cpuAdvancing && !inHandler) {
        track.backIdle = true;
        continue;
      }
      threadsIdle = false;
      busy.push({ pid: t.pid, tid: t.tid, comm: t.comm, now: t.syscall, idle, sinceMs: track.siteSinceMs, sinceSignal: !track.backIdle, cpuAdvancing, ...(inHandler ? { inHandler } : {}) });
    }
    return { threadsIdle, unjudged, busy };
  }

  /** The thread blocks the reload signal now and did not at the baseline: it is running the signal's handler (or stuck in it). */
  #inHandler(t: ThreadReading): boolean {
    const was = this.#baseline.get(t.tid)?.sigBlk;
    if (this.#signo === undefined || this.#blockedOf === undefined || was === undefined) return false;
    const now = this.#blockedOf(t.pid, t.tid);
    return now !== undefined && hasSignal(now, this.#signo) && !hasSignal(BigInt(`0x${was}`), this.#signo);
  }

  /** The thread's track: where it has been since when, and whether its CPU time moved since the last poll. */
  #track(nowMs: number, t: ThreadReading): { track: ThreadTrack; cpuAdvancing: boolean } {
    let track = this.#threads.get(t.tid);
    const cpuAdvancing = track !== undefined && t.cpuTicks !== track.lastCpu;
    if (!track) {
      track = { lastCpu: t.cpuTicks, lastSite: t.syscall, siteSinceMs: nowMs, backIdle: false };
      this.#threads.set(t.tid, track);
    } else if (track.lastSite !== t.syscall) {
      track.lastSite = t.syscall;
      track.siteSinceMs = nowMs;
    }
    track.lastCpu = t.cpuTicks;
    return { track, cpuAdvancing };
  }

  /** Threads not back idle at the last observation. */
  get busy(): readonly BusyThread[] {
    return this.#busy;
  }
}

/**
 * The one line for a reload that did not finish: "reload 1 did not finish:
 * thread 1234 stuck in futex since the signal (idle in clock_nanosleep)".
 */
export function notFinishedSentence(reload: number, busy: readonly BusyThread[], lastMs: number, fallback = 'the fd count never held still'): string {
  if (busy.length === 0) return `reload ${reload} did not finish: ${fallback}`;
  const shown = busy.slice(0, 3).map((b) => {
    const where = b.now === 'running' ? 'running code' : `stuck in ${syscallName(b.now)}${b.inHandler ? ' inside the signal handler' : ''}`;
    const since = b.sinceSignal ? 'since the signal' : `for the last ${Math.round(lastMs - b.sinceMs)} ms`;
    const idle = b.idle === undefined ? '' : ` (idle in ${b.idle.map((i) => syscallName(i)).join(' or ')})`;
    return `thread ${b.tid} (${b.comm}) ${where} ${since}${idle}${b.cpuAdvancing && b.now !== 'running' ? ', CPU time advancing' : ''}`;
  });
  return `reload ${reload} did not finish: ${shown.join('; ')}${busy.length > 3 ? `; and ${busy.length - 3} more` : ''}`;
}

/** A thread of the tree read as deadlocked inside the reload signal's handler (the rule of src/kinds/trials/deadlock.ts). */
export interface TreeHandlerDeadlock {
  /** Its process. */
  pid: number;
  /** The thread. */
  tid: number;
  /** Its name. */
  comm: string;
  /** How long its CPU time was seen frozen. */
  frozenMs: number;
}

/** Every thread of `pids` now, as the deadlock rule reads them. */
function treeTaskReadings(pids: readonly number[], view: ProcessView): (TaskReading & { pid: number; comm: string })[] {
  return pids.flatMap((pid) =>
    view.threads(pid).map((t) => {
      const status = view.status(pid, t.tid) ?? '';
      return { pid, comm: t.comm, tid: t.tid, syscall: t.syscall, sigBlk: statusMask(status, 'SigBlk'), shdPnd: statusMask(status, 'ShdPnd'), cpuTicks: t.cpuTicks };
    }),
  );
}

/**
 * Reads the tree's threads twice, DEADLOCK_FROZEN_MS (and a little) apart,
 * and applies the trials' deadlock rule with each thread's SigBlk from the
 * idle baseline: one signal leaves nothing pending, so a thread asleep in
 * futex that blocks the signal now and did not then is inside its handler.
 * Called only once a reload is already lost (unfinished, or its successor
 * not delivered), so its 350 ms cost nothing that finished.
 */
export async function findHandlerDeadlock(pids: readonly number[], baseline: IdleBaseline, signo: number, view: ProcessView): Promise<TreeHandlerDeadlock | undefined> {
  const blockedBefore = new Map<number, bigint>();
  for (const [tid, site] of baseline) if (site.sigBlk !== undefined) blockedBefore.set(tid, BigInt(`0x${site.sigBlk}`));
  const first = treeTaskReadings(pids, view);
  if (!first.some((t) => blockedBefore.has(t.tid))) return undefined;
  const startMs = view.now();
  await view.sleep(DEADLOCK_FROZEN_MS + 50);
  const found = handlerDeadlock(first, treeTaskReadings(pids, view), Math.round(view.now() - startMs), signo, blockedBefore);
  const thread = found && first.find((t) => t.tid === found.tid);
  return found && thread ? { pid: thread.pid, tid: found.tid, comm: thread.comm, frozenMs: found.frozenMs } : undefined;
}

/** "deadlocked in its SIGHUP handler: thread 12 (prog) of pid 12 waits in futex with SIGHUP blocked (not before the signal: …), no CPU time for 351 ms". */
export function handlerDeadlockSentence(found: TreeHandlerDeadlock, signo: number): string {
  const signal = Object.entries(osConstants.signals).find(([, n]) => n === signo)?.[0] ?? `signal ${signo}`;
  return `deadlocked in its ${signal} handler: thread ${found.tid} (${found.comm}) of pid ${found.pid} waits in futex with ${signal} blocked (not before the signal: the kernel blocks a signal while its handler runs), no CPU time for ${found.frozenMs} ms`;
}

export interface AwaitReloadOptions extends TreeOptions {
  /** The tree's root (the program, or the keeper with includeRoot: false). */
  rootPid: number;
  baseline: IdleBaseline;
  /** Which reload this is, for the sentence. */
  reload: number;
  /** The window: threads idle and fd count (or floor) unchanged this long. */
  settleMs: number;
  /** The confirmation rule's window (see the module comment); without it, only the settle window ends a reload. */
  confirmMs?: number;
  /** Give up after this long. */
  timeoutMs: number;
  /** Between polls (default 2 ms; at least the cost of the previous poll). */
  pollMs?: number;
  /** When the signal was sent (performance.now()); default: now. */
  signalSentAtMs?: number;
  abort?: AbortSignal;
  /** The reload signal's number: a thread asleep with it newly blocked (SigBlk) is inside its handler, not idle. */
  signo?: number;
  /** Not finished before this long after the signal: what a calibrated reload of this program takes. */
  minMs?: number;
  /** Calibrate on this reload: once it looks finished, keep watching for `calibrationWindowMs` of what it was seen to take. */
  calibrate?: boolean;
}

/** A calibration's outcome: what the reload took and how long everything held after it. */
export interface Calibration {
  /** From the signal to the last move (see ReloadCompletion.reloadMs). */
  reloadMs: number;
  /** How long the fd floor and the threads were watched holding after that. */
  heldMs: number;
  /** The window asked for; `heldMs` is shorter when the fd floor kept moving until the settle timeout plus the longest window. */
  windowMs: number;
}

export type ReloadFinished =
  | {
      finished: true;
      evidence: CompletionEvidence;
      rule: CompletionRule;
      /** from the signal to the finish (with `calibrate`: to the end of the calibration) */ waitedMs: number;
      fds: number;
      polls: number;
      /** From the signal to the last move seen (ReloadCompletion.reloadMs). */
      reloadMs: number;
      /** With `calibrate`. */
      calibration?: Calibration;
    }
  | { finished: false; reason: 'timeout' | 'gone' | 'aborted'; sentence: string; busy: BusyThread[]; waitedMs: number; polls: number };

/**
 * Waits until the reload has finished (see the module comment), polling the
 * tree's fd counts and threads every `pollMs`. Call right after the signal
 * was delivered; take the full sample when it resolves `finished`.
 */
export async function awaitReloadFinished(options: AwaitReloadOptions): Promise<ReloadFinished> {
  const view = viewOf(options);
  const startMs = options.signalSentAtMs ?? view.now();
  const { signo } = options;
  const completion = new ReloadCompletion(options.baseline, {
    settleMs: options.settleMs,
    startMs,
    confirmMs: options.confirmMs,
    minMs: options.minMs,
    signo,
    blockedOf: signo === undefined ? undefined : (pid, tid) => {
      const status = view.status(pid, tid);
      return status === undefined ? undefined : statusMask(status, 'SigBlk');
    },
  });
  const walker = new TreeWalker(options.rootPid, options);
  let polls = 0;
  let pollCostMs = 0;
  let firstFinishMs: number | undefined;
  for (;;) {
    const now = view.now();
    const tree = walker.walk();
    if (tree.length === 0) return { finished: false, reason: 'gone', sentence: `reload ${options.reload} did not finish: the process is gone`, busy: [], waitedMs: now - startMs, polls };
    let total = 0;
    for (const p of tree) {
      const dir = view.fdDir(p.pid, p.state);
      if (dir) total += view.countFds(dir);
    }
    const status = completion.observe(now, readThreads(tree.map((p) => p.pid), undefined, view), total);
    polls++;
    pollCostMs = view.now() - now;
    if (status.finished) {
      const reloadMs = completion.reloadMs ?? now - startMs;
      const done = { finished: true as const, evidence: status.evidence, rule: status.rule, waitedMs: now - startMs, fds: status.fds, polls, reloadMs };
      if (!options.calibrate) return done;
      firstFinishMs ??= now;
      const windowMs = calibrationWindowMs(reloadMs);
      const heldMs = now - startMs - reloadMs;
      // A floor that keeps moving would move the window forever: the settle timeout plus the longest window bounds it.
      if (heldMs >= windowMs || now - startMs > options.timeoutMs + calibrationWindowMs(Infinity)) return { ...done, calibration: { reloadMs, heldMs, windowMs } };
    }
    if (options.abort?.aborted) return { finished: false, reason: 'aborted', sentence: `reload ${options.reload} aborted`, busy: [...completion.busy], waitedMs: now - startMs, polls };
    if (now - startMs > options.timeoutMs && (firstFinishMs === undefined || now - startMs > options.timeoutMs + calibrationWindowMs(Infinity))) {
      return { finished: false, reason: 'timeout', sentence: notFinishedSentence(options.reload, completion.busy, now, `the fd count did not hold for ${options.settleMs} ms within ${options.timeoutMs} ms`), busy: [...completion.busy], waitedMs: now - startMs, polls };
    }
    // A big tree makes a poll cost milliseconds: sleep at least as long as it took, so polling stays under half a core.
    // Calibrating, the reload looked finished already: a poll every 10 ms is enough to see it move again.
    await view.sleep(Math.max(firstFinishMs === undefined ? (options.pollMs ?? 2) : 10, pollCostMs));
  }
}

export interface LateFdsOptions extends TreeOptions {
  rootPid: number;
  /** How long to watch. */
  windowMs: number;
  /** The floor is the minimum fd count over this long (churn cannot raise it). */
  settleMs: number;
  /** The tree's fd count when the run looked finished. */
  fdsAtFinish: number;
  pollMs?: number;
  abort?: AbortSignal;
}

/**
 * The confirmation window at the end of a run: watches the tree's fd count
 * for `windowMs` and returns by how much its floor (the minimum over the last
 * `settleMs`) ended above the count when the run looked finished: fds that
 * arrived late and stayed. Churn (an fd opened and closed again) does not count.
 */
export async function watchForLateFds(options: LateFdsOptions): Promise<{ lateFds: number; lastMoveMs: number; aborted: boolean }> {
  const view = viewOf(options);
  const walker = new TreeWalker(options.rootPid, options);
  const startMs = view.now();
  const seen: { atMs: number; fds: number }[] = [];
  let lastMoveMs = 0;
  for (;;) {
    const now = view.now();
    let total = 0;
    for (const p of walker.walk()) {
      const dir = view.fdDir(p.pid, p.state);
      if (dir) total += view.countFds(dir);
    }
    if (seen.length > 0 && (seen.at(-1) as { fds: number }).fds !== total) lastMoveMs = now - startMs;
    seen.push({ atMs: now, fds: total });
    while (seen.length > 1 && (seen[0] as { atMs: number }).atMs < now - options.settleMs) seen.shift();
    if (options.abort?.aborted) return { lateFds: 0, lastMoveMs, aborted: true };
    if (now - startMs >= options.windowMs) return { lateFds: Math.min(...seen.map((s) => s.fds)) - options.fdsAtFinish, lastMoveMs, aborted: false };
    await view.sleep(options.pollMs ?? 10);
  }
}

/** Pids of the tree for the baseline (same options as awaitReloadFinished). */
export function treePids(rootPid: number, options: TreeOptions = {}): number[] {
  return descendants(rootPid, options).map((p) => p.pid);
}
