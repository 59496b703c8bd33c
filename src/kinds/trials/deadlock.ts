/**
 * A thread deadlocked inside a signal handler, told apart from an idle one
 * from outside (measured, docs/architecture.md "Trials"): it waits in futex
 * (syscall 202 on x86-64), the handled signal is both blocked for it (the
 * kernel blocks a signal while its handler runs) and pending for the process
 * (the storm goes on arriving), and its CPU time does not move for at least
 * DEADLOCK_FROZEN_MS. An idle `Event.wait()` is in futex with no CPU too, but
 * blocks nothing. Pure: readings in, the deadlocked thread out. `repro watch`
 * applies the same rule to one signal (src/harness/tree/completion.ts): there
 * the signal is pending only from the second one on, so a thread that blocks it
 * now and did not before the signal was sent counts as inside the handler too.
 */
import { hasSignal, parseStat, parseSyscall, type SyscallSite, statusMask } from '../../proc/parse.js';

/** futex(2) on x86-64: where a thread waiting for a lock sits. */
export const FUTEX_SYSCALL = 202;

/** CPU time must stand still this long before a wait counts as a deadlock (an idle lock wait lasts microseconds). */
export const DEADLOCK_FROZEN_MS = 300;

/** One thread at one reading. */
export interface TaskReading {
  /** The thread. */
  tid: number;
  /** Where it is (its syscall file). */
  syscall: SyscallSite;
  /** SigBlk of its status: what it blocks now. */
  sigBlk: bigint;
  /** ShdPnd of its status: what is pending for the whole process. */
  shdPnd: bigint;
  /** utime + stime in clock ticks. */
  cpuTicks: number;
}

/** A thread's reading from the text of its stat, status and syscall files; undefined when one is missing (the thread is gone). */
export function taskReading(tid: number, text: { stat?: string; status?: string; syscall?: string }): TaskReading | undefined {
  if (text.stat === undefined || text.status === undefined || text.syscall === undefined) return undefined;
  return { tid, syscall: parseSyscall(text.syscall), sigBlk: statusMask(text.status, 'SigBlk'), shdPnd: statusMask(text.status, 'ShdPnd'), cpuTicks: parseStat(text.stat).cpuTicks };
}

/** What the rule found: the thread, and how long its CPU time stood still. */
export interface HandlerDeadlock {
  /** The deadlocked thread. */
  tid: number;
  /** How long its CPU time was seen frozen. */
  frozenMs: number;
}

/**
 * The first thread that reads as deadlocked inside the handler of `signo` in
 * both readings, `elapsedMs` apart (≥ DEADLOCK_FROZEN_MS), with no CPU time
 * between them; undefined when none does. Inside the handler means: in futex,
 * blocking `signo`, and either the signal pending (a storm goes on arriving)
 * or, given `blockedBefore` (each thread's SigBlk before the signal was sent),
 * a thread that did not block it then (one signal, taken by the handler that
 * never returned; a program that blocks the signal itself is not in a handler).
 */
export function handlerDeadlock(
  first: readonly TaskReading[],
  later: readonly TaskReading[],
  elapsedMs: number,
  signo: number,
  blockedBefore?: ReadonlyMap<number, bigint>,
): HandlerDeadlock | undefined {
  if (elapsedMs < DEADLOCK_FROZEN_MS) return undefined;
  const newlyBlocked = (t: TaskReading) => {
    const was = blockedBefore?.get(t.tid);
    return was !== undefined && !hasSignal(was, signo);
  };
  const inHandlerWait = (t: TaskReading) => t.syscall === FUTEX_SYSCALL && hasSignal(t.sigBlk, signo) && (blockedBefore === undefined ? hasSignal(t.shdPnd, signo) : newlyBlocked(t));
  for (const before of first) {
    const after = later.find((t) => t.tid === before.tid);
    if (after && inHandlerWait(before) && inHandlerWait(after) && after.cpuTicks === before.cpuTicks) return { tid: before.tid, frozenMs: elapsedMs };
  }
  return undefined;
}
