/**
 * Safe by construction for `watch --pid`: before anything is sent, refuse a
 * signal that could harm the target or repro itself. `refusalFor(facts)` is
 * pure; `refuseSignal(pid, signal)` reads the facts from /proc.
 */
import { readdirSync } from 'node:fs';
import { constants as osConstants } from 'node:os';
import { signalfdMask } from '../../proc/fd-kinds.js';
import { hasSignal, PF_KTHREAD, statusMask, statusState } from '../../proc/parse.js';
import { procfsView } from '../../proc/procfs-view.js';
import type { ProcessView } from '../../proc/view.js';

/** Default action of each signal without a handler (signal(7)); real-time signals terminate. */
export type DefaultAction = 'terminate' | 'core' | 'stop' | 'ignore' | 'continue';

const DEFAULT_ACTIONS: Partial<Record<NodeJS.Signals, DefaultAction>> = {
  SIGHUP: 'terminate', SIGINT: 'terminate', SIGKILL: 'terminate', SIGUSR1: 'terminate', SIGUSR2: 'terminate',
  SIGPIPE: 'terminate', SIGALRM: 'terminate', SIGTERM: 'terminate', SIGSTKFLT: 'terminate', SIGIO: 'terminate',
  SIGPOLL: 'terminate', SIGPWR: 'terminate', SIGVTALRM: 'terminate', SIGPROF: 'terminate', SIGLOST: 'terminate',
  SIGQUIT: 'core', SIGILL: 'core', SIGTRAP: 'core', SIGABRT: 'core', SIGIOT: 'core', SIGBUS: 'core', SIGFPE: 'core',
  SIGSEGV: 'core', SIGSYS: 'core', SIGUNUSED: 'core', SIGXCPU: 'core', SIGXFSZ: 'core',
  SIGSTOP: 'stop', SIGTSTP: 'stop', SIGTTIN: 'stop', SIGTTOU: 'stop',
  SIGCHLD: 'ignore', SIGURG: 'ignore', SIGWINCH: 'ignore',
  SIGCONT: 'continue',
};

/** What the signal does to a process that neither catches nor ignores it. */
export function defaultAction(signal: NodeJS.Signals): DefaultAction {
  return DEFAULT_ACTIONS[signal] ?? 'terminate';
}

/** What the safety check needs to know about a target. */
export interface TargetFacts {
  pid: number;
  /** False when there is no such process. */
  exists: boolean;
  /** Every thread is a zombie (an exited leader with live threads is not). */
  zombie: boolean;
  /** PF_KTHREAD in stat, or no /proc/PID/exe. */
  kernelThread: boolean;
  /** The process catches the signal (SigCgt). */
  caught: boolean;
  /** The process ignores the signal (SigIgn). */
  ignored: boolean;
  /** The process takes the signal synchronously (rt_sigtimedwait or a signalfd; see `synchronousWait`): no handler, yet nothing ends it. */
  waited?: boolean;
  /** repro itself and its ancestors, up to pid 1. */
  protectedPids: readonly number[];
}

/**
 * The one-line reason to refuse, or null when the signal may be sent (pure).
 * KILL and STOP are refused outright; then a missing target, repro itself or
 * one of its ancestors, a kernel thread, a zombie, and a signal whose default
 * action would end or stop a target that has no handler for it.
 */
export function refusalFor(signal: NodeJS.Signals, facts: TargetFacts): string | null {
  const { pid } = facts;
  if (signal === 'SIGKILL' || signal === 'SIGSTOP') return `${signal} cannot be caught: it would ${signal === 'SIGKILL' ? 'kill' : 'stop'} process ${pid}, not reload it (use the signal its reload handler catches, e.g. HUP)`;
  if (!facts.exists) return `no process ${pid}`;
  if (facts.protectedPids.includes(pid)) return `process ${pid} is repro itself or one of its ancestors (the shell or tool that started it): refusing to signal it`;
  if (facts.kernelThread) return `process ${pid} is a kernel thread: it has no fds to watch and takes no reload signal`;
  if (facts.zombie) return `process ${pid} is a zombie (it has exited and its parent has not reaped it): it cannot take a reload`;
  if (facts.caught || facts.ignored || facts.waited) return null;
  const action = defaultAction(signal);
  if (action === 'terminate' || action === 'core') return `process ${pid} has no handler for ${signal}, whose default action ${action === 'core' ? 'kills it (and dumps core)' : 'kills it'}: refusing to send it (pick the signal its reload handler catches with --signal)`;
  if (action === 'stop') return `process ${pid} has no handler for ${signal}, whose default action stops it: refusing to send it`;
  return null;
}

/** repro's own pid and every ancestor up to pid 1, from the ppid links. */
export function selfAndAncestors(self = process.pid, procRoot?: string, view: ProcessView = procfsView(procRoot)): number[] {
  const out: number[] = [];
  for (let pid = self; pid > 0 && !out.includes(pid); ) {
    out.push(pid);
    const stat = view.stat(pid);
    if (!stat) break;
    pid = stat.ppid;
  }
  return out;
}

/** Reads the facts about `pid` for `signal` from /proc. */
export function targetFacts(pid: number, signal: NodeJS.Signals, procRoot?: string, view: ProcessView = procfsView(procRoot), self = process.pid): TargetFacts {
  const signo = osConstants.signals[signal];
  const stat = view.stat(pid);
  const status = view.status(pid);
  const protectedPids = selfAndAncestors(self, undefined, view);
  if (!stat || status === undefined) return { pid, exists: false, zombie: false, kernelThread: false, caught: false, ignored: false, protectedPids };
  // A zombie's exe is gone too: only a live process without one is a kernel thread.
  const hasExe = view.hasExe(pid);
  const caught = hasSignal(statusMask(status, 'SigCgt'), signo);
  const ignored = hasSignal(statusMask(status, 'SigIgn'), signo);
  let zombie = statusState(status) === 'Z';
  if (zombie) {
    // An exited leader whose other threads run is not a zombie process.
    zombie = !view.threadIds(pid).some((tid) => {
      const s = view.stat(pid, tid);
      return s !== undefined && s.state !== 'Z' && s.state !== 'X';
    });
  }
  return {
    pid,
    exists: true,
    zombie,
    kernelThread: (stat.flags & PF_KTHREAD) !== 0 || (!hasExe && !zombie && statusState(status) !== 'Z'),
    caught,
    ignored,
    // Only asked when it matters: the signalfd search reads every fd's link.
    waited: !caught && !ignored && synchronousWait(pid, signo, undefined, view) !== null,
    protectedPids,
  };
}

/**
 * Null when `signal` may be sent to `pid`, else the one-line reason to refuse
 * (before anything is sent; the caller exits 2 for KILL/STOP, 4 otherwise).
 */
export function refuseSignal(pid: number, signal: NodeJS.Signals, view?: ProcessView): string | null {
  if (signal === 'SIGKILL' || signal === 'SIGSTOP') return refusalFor(signal, { pid, exists: true, zombie: false, kernelThread: false, caught: false, ignored: false, protectedPids: [] });
  return refusalFor(signal, targetFacts(pid, signal, undefined, view));
}

/** rt_sigtimedwait's number on x64 and arm64 (sigwait, sigtimedwait and sigwaitinfo all end there). */
export const SIGTIMEDWAIT_NR = process.arch === 'arm64' ? 137 : 128;

/** How a process takes a signal without a handler: a thread asleep in rt_sigtimedwait for it, or a signalfd for it. */
export type SynchronousWait = { how: 'sigtimedwait'; tid: number } | { how: 'signalfd'; fd: number };

/**
 * How `pid` takes `signo` synchronously, or null. An init shim (tini) or an
 * event loop blocks the signal and takes it in rt_sigtimedwait or from a
 * signalfd: SigCgt reads "default", and while rt_sigtimedwait sleeps the
 * waited signals are even unblocked in SigBlk, yet the signal never runs its
 * default action. Counts when every live thread either blocks the signal or
 * sleeps in rt_sigtimedwait with it in the waited set (read from the
 * process's memory at the syscall's first argument), and some thread waits
 * for it that way or an open signalfd's mask (fdinfo `sigmask:`) holds it.
 * A thread that neither blocks nor waits could take it with the default
 * action: then null.
 */
export function synchronousWait(pid: number, signo: number, procRoot?: string, view: ProcessView = procfsView(procRoot)): SynchronousWait | null {
  let waiting: number | undefined;
  let live = 0;
  for (const tid of view.threadIds(pid)) {
    const status = view.status(pid, tid);
    if (status === undefined || ['Z', 'X'].includes(statusState(status))) continue;
    live++;
    if (waiting === undefined && sigtimedwaitHolds(pid, tid, signo, view)) {
      waiting = tid;
      continue;
    }
    if (!hasSignal(statusMask(status, 'SigBlk'), signo)) return null;
  }
  if (live === 0) return null;
  if (waiting !== undefined) return { how: 'sigtimedwait', tid: waiting };
  const fd = signalfdFor(pid, signo, view);
  return fd === undefined ? null : { how: 'signalfd', fd };
}

/** Thread `tid` sleeps in rt_sigtimedwait and its waited set holds `signo`. */
function sigtimedwaitHolds(pid: number, tid: number, signo: number, view: ProcessView): boolean {
  const fields = view.syscall(pid, tid)?.trim().split(/\s+/);
  if (!fields || Number(fields[0]) !== SIGTIMEDWAIT_NR) return false;
  // rt_sigtimedwait(const sigset_t *set, siginfo_t *info, const struct timespec *timeout, size_t sigsetsize)
  const address = BigInt(fields[1] ?? '0');
  const size = Math.min(Number(fields[4] ?? 0), 16);
  if (address === 0n || size <= 0 || (signo - 1) >> 3 >= size) return false;
  // Unreadable without ptrace rights over it (or it moved on): not known to wait.
  const set = view.readMem(pid, address, size);
  return set !== undefined && (((set[(signo - 1) >> 3] as number) >> ((signo - 1) & 7)) & 1) === 1;
}

/** The first open signalfd of `pid` whose mask (fdinfo `sigmask:`) holds `signo`. */
function signalfdFor(pid: number, signo: number, view: ProcessView): number | undefined {
  const dir = `${view.root}/${pid}/fd`;
  for (const fd of view.fdNumbers(dir) ?? []) {
    const target = view.fdTarget(dir, fd);
    if (target !== 'anon_inode:[signalfd]') continue;
    const info = view.fdinfo(dir, fd);
    const mask = info === undefined ? undefined : signalfdMask(info);
    if (mask !== undefined && hasSignal(mask, signo)) return fd;
  }
  return undefined;
}

/** Every live process of process group `pgid` (a signal to -pgid reaches each of them). */
export function groupMembers(pgid: number, view: ProcessView = procfsView()): number[] {
  let names: string[];
  try {
    names = readdirSync(view.root);
  } catch {
    return [];
  }
  const out: number[] = [];
  for (const name of names) {
    const pid = Number(name);
    if (!Number.isInteger(pid) || pid <= 0) continue;
    const stat = view.stat(pid);
    if (stat?.pgid === pgid && stat.state !== 'Z' && stat.state !== 'X') out.push(pid);
  }
  return out.sort((a, b) => a - b);
}

/** One process that must not get the signal, and why. */
export interface Refused {
  pid: number;
  /** Its command line (argv joined, at most 200 characters), or `[comm]`. */
  command: string;
  /** refusalFor's sentence. */
  reason: string;
  /** repro itself or one of its ancestors (the caller's exit is 2 for those). */
  protectedPid: boolean;
}

/**
 * Checks every process that would receive the signal, the way refusalFor
 * checks one: the ones that must not get it, in pid order (empty when all
 * may). A process gone meanwhile is left out: it receives nothing.
 */
export function refusedReceivers(pids: readonly number[], signal: NodeJS.Signals, view: ProcessView = procfsView(), self = process.pid): Refused[] {
  const out: Refused[] = [];
  const protectedPids = selfAndAncestors(self, undefined, view);
  for (const pid of pids) {
    const facts = protectedPids.includes(pid) ? { ...noFacts(pid), exists: true, protectedPids } : targetFacts(pid, signal, undefined, view, self);
    if (!facts.exists) continue;
    const reason = refusalFor(signal, facts);
    if (reason === null) continue;
    const text = view.cmdline(pid)?.replace(/[\0\s]+/g, ' ').trim();
    out.push({ pid, command: text ? text.slice(0, 200) : `[${view.comm(pid)?.trim() ?? '?'}]`, reason, protectedPid: facts.protectedPids.includes(pid) });
  }
  return out;
}

function noFacts(pid: number): TargetFacts {
  return { pid, exists: false, zombie: false, kernelThread: false, caught: false, ignored: false, protectedPids: [] };
}
