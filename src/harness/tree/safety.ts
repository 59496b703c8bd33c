/**
 * Safe by construction for `watch --pid`: before anything is sent, refuse a
 * signal that could harm the target or repro itself. `refusalFor(facts)` is
 * pure; `refuseSignal(pid, signal)` reads the facts from /proc.
 */
import { readlinkSync } from 'node:fs';
import { constants as osConstants } from 'node:os';
import { hasSignal, PF_KTHREAD, PROC_ROOT, readProcText, readStat, statusMask, statusState, threadIds } from './proc-stat.js';

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
  if (facts.caught || facts.ignored) return null;
  const action = defaultAction(signal);
  if (action === 'terminate' || action === 'core') return `process ${pid} has no handler for ${signal}, whose default action ${action === 'core' ? 'kills it (and dumps core)' : 'kills it'}: refusing to send it (pick the signal its reload handler catches with --signal)`;
  if (action === 'stop') return `process ${pid} has no handler for ${signal}, whose default action stops it: refusing to send it`;
  return null;
}

/** repro's own pid and every ancestor up to pid 1, from the ppid links. */
export function selfAndAncestors(self = process.pid, procRoot = PROC_ROOT): number[] {
  const out: number[] = [];
  for (let pid = self; pid > 0 && !out.includes(pid); ) {
    out.push(pid);
    const stat = readStat(`${procRoot}/${pid}/stat`);
    if (!stat) break;
    pid = stat.ppid;
  }
  return out;
}

/** Reads the facts about `pid` for `signal` from /proc. */
export function targetFacts(pid: number, signal: NodeJS.Signals, procRoot = PROC_ROOT): TargetFacts {
  const signo = osConstants.signals[signal];
  const stat = readStat(`${procRoot}/${pid}/stat`);
  const status = readProcText(`${procRoot}/${pid}/status`);
  const protectedPids = selfAndAncestors(process.pid, procRoot);
  if (!stat || status === undefined) return { pid, exists: false, zombie: false, kernelThread: false, caught: false, ignored: false, protectedPids };
  let hasExe = true;
  try {
    readlinkSync(`${procRoot}/${pid}/exe`);
  } catch (error) {
    // A zombie's exe is gone too: only a live process without one is a kernel thread.
    hasExe = (error as NodeJS.ErrnoException).code !== 'ENOENT';
  }
  let zombie = statusState(status) === 'Z';
  if (zombie) {
    // An exited leader whose other threads run is not a zombie process.
    zombie = !threadIds(pid, procRoot).some((tid) => {
      const s = readStat(`${procRoot}/${pid}/task/${tid}/stat`);
      return s !== undefined && s.state !== 'Z' && s.state !== 'X';
    });
  }
  return {
    pid,
    exists: true,
    zombie,
    kernelThread: (stat.flags & PF_KTHREAD) !== 0 || (!hasExe && !zombie && statusState(status) !== 'Z'),
    caught: hasSignal(statusMask(status, 'SigCgt'), signo),
    ignored: hasSignal(statusMask(status, 'SigIgn'), signo),
    protectedPids,
  };
}

/**
 * Null when `signal` may be sent to `pid`, else the one-line reason to refuse
 * (before anything is sent; the caller exits 2 for KILL/STOP, 4 otherwise).
 */
export function refuseSignal(pid: number, signal: NodeJS.Signals): string | null {
  if (signal === 'SIGKILL' || signal === 'SIGSTOP') return refusalFor(signal, { pid, exists: true, zombie: false, kernelThread: false, caught: false, ignored: false, protectedPids: [] });
  return refusalFor(signal, targetFacts(pid, signal));
}
