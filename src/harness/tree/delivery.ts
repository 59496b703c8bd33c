/**
 * Was the signal delivered? After kill(), a process-directed signal waits in
 * the shared pending set (ShdPnd) until a thread that does not block it
 * dequeues it, which runs (or starts) the handler. So: poll
 * /proc/PID/task/TID/status until the signal has left ShdPnd and every
 * thread's SigPnd, and when it does not, say why.
 *
 * A leader thread that exited (pthread_exit in main) shows state Z while the
 * process lives on in its other threads: only a process whose every thread is
 * a zombie (or that has none) is a zombie here.
 */
import { constants as osConstants } from 'node:os';
import { hasSignal, statusMask, statusState } from '../../proc/parse.js';
import { procfsView } from '../../proc/procfs-view.js';
import type { ProcessView } from '../../proc/view.js';

/** One thread's view of one signal, from its status file. */
export interface ThreadSignalState {
  tid: number;
  /** One-letter state: S, R, D, T (stopped), t (traced), Z… */
  state: string;
  /** The signal is in this thread's private pending set (SigPnd). */
  pendingPrivate: boolean;
  /** The signal is in the process's shared pending set (ShdPnd, the same for every thread). */
  pendingShared: boolean;
  /** This thread blocks the signal (SigBlk). */
  blocked: boolean;
  /** The process that ptrace-attached to this thread (TracerPid), 0 when none. */
  tracerPid?: number;
  /** The tracer's command line (or [comm]), read when there is one. */
  tracer?: string;
}

/** Why a signal was not (yet) delivered, each a distinct reason. */
export type DeliveryOutcome = 'delivered' | 'blocked' | 'stopped' | 'zombie' | 'gone' | 'still-pending';

export interface DeliveryResult {
  outcome: DeliveryOutcome;
  /** One line for the run document, e.g. `SIGHUP stays pending: every thread blocks it (SigBlk)`. */
  detail: string;
  /** From the call to the verdict. */
  waitedMs: number;
}

/** Reads the signal state of every thread of `pid`; an empty list when the process is gone. */
export function readSignalStates(pid: number, signo: number, procRoot?: string, view: ProcessView = procfsView(procRoot)): ThreadSignalState[] {
  const out: ThreadSignalState[] = [];
  for (const tid of view.threadIds(pid)) {
    const status = view.status(pid, tid);
    if (status === undefined) continue;
    out.push({
      tid,
      state: statusState(status),
      pendingPrivate: hasSignal(statusMask(status, 'SigPnd'), signo),
      pendingShared: hasSignal(statusMask(status, 'ShdPnd'), signo),
      blocked: hasSignal(statusMask(status, 'SigBlk'), signo),
      ...tracerOf(status, view),
    });
  }
  return out;
}

/** TracerPid of a status file and who that is; nothing when the thread is not traced. */
function tracerOf(status: string, view: ProcessView): { tracerPid?: number; tracer?: string } {
  const tracerPid = Number(/^TracerPid:\s*(\d+)/m.exec(status)?.[1] ?? 0);
  if (tracerPid <= 0) return {};
  const text = view.cmdline(tracerPid)?.replaceAll('\0', ' ').trim();
  return { tracerPid, tracer: text ? text.slice(0, 120) : `[${view.comm(tracerPid)?.trim() ?? 'gone'}]` };
}

/**
 * The verdict from one reading (pure): a final outcome, or `waiting` while
 * the signal is pending on a process that can still take it (a thread not
 * yet scheduled). Order: gone, zombie, stopped, pending, delivered.
 */
export function deliveryFrom(threads: readonly ThreadSignalState[], signalName: string, tracingStopIsTransient: boolean | ReadonlySet<number> = false): { outcome: DeliveryOutcome | 'waiting'; detail: string } {
  const live = threads.filter((t) => t.state !== 'Z' && t.state !== 'X');
  if (threads.length === 0) return { outcome: 'gone', detail: `the process is gone (${signalName} went nowhere)` };
  if (live.length === 0) return { outcome: 'zombie', detail: `the process is a zombie (exited, not reaped by its parent): ${signalName} cannot run a handler` };
  // Under repro's own strace (--attribute) a thread in `t` is in a tracing stop that strace ends at once (a traced call, the signal itself).
  const stopped = live.find((t) => t.state === 'T' || (t.state === 't' && !transientTrace(t, tracingStopIsTransient)));
  const pending = threads.some((t) => t.pendingShared) || live.some((t) => t.pendingPrivate);
  // A tracing stop is not a job-control stop: SIGCONT does not end it, its tracer does.
  if (stopped?.state === 't') {
    const by = stopped.tracerPid ? `by pid ${stopped.tracerPid} (${stopped.tracer ?? 'gone'})` : 'by a tracer that is gone';
    return { outcome: 'stopped', detail: `the process is traced and held in a tracing stop (state t, thread ${stopped.tid}, ${by}): ${signalName} ${pending ? 'stays pending' : 'cannot run a handler'} until its tracer lets it run (a debugger or \`strace -p\` holds it: detach it)` };
  }
  if (stopped) return { outcome: 'stopped', detail: `the process is stopped (state ${stopped.state}${stopped.tid ? `, thread ${stopped.tid}` : ''}): ${signalName} ${pending ? 'stays pending' : 'cannot run a handler'} until it is continued (SIGCONT)` };
  if (!pending) return { outcome: 'delivered', detail: `${signalName} left the pending sets` };
  if (live.every((t) => t.blocked)) return { outcome: 'blocked', detail: `${signalName} stays pending: every thread blocks it (SigBlk)` };
  return { outcome: 'waiting', detail: `${signalName} is pending` };
}

/**
 * Under repro's own strace a tracing stop ends at once; given the tracer
 * pids, only a stop by one of them is, and a tracee left by a tracer that
 * died (TracerPid 0 yet in `t`) is not.
 */
function transientTrace(t: ThreadSignalState, ours: boolean | ReadonlySet<number>): boolean {
  if (typeof ours === 'boolean') return ours;
  return t.tracerPid !== undefined && ours.has(t.tracerPid);
}

export interface AwaitDeliveryOptions {
  /** Give up after this long with `still-pending` (default 1000 ms). */
  timeoutMs?: number;
  /** Between readings (default 1 ms; the first reading is immediate). */
  pollMs?: number;
  procRoot?: string;
  /** Where the process world is read (default: /proc, at `procRoot`). */
  view?: ProcessView;
  /** The process runs under repro's own tracer: `t` (tracing stop) passes, it is not a stopped process; given as the tracer pids, only a stop by one of them passes. */
  tracingStopIsTransient?: boolean | ReadonlySet<number>;
}

/**
 * Call right after kill(pid, signal): resolves as soon as the signal has left
 * the pending sets (`delivered`) or is known not to be taken (`blocked`,
 * `stopped`, `zombie`, `gone`); `still-pending` after the timeout.
 * Blocked is not final until the timeout either: a program may unblock it a
 * moment later (a critical section), so `blocked` is returned only when the
 * signal is still pending and blocked at the end of the wait.
 */
export async function awaitDelivery(pid: number, signal: NodeJS.Signals, options: AwaitDeliveryOptions = {}): Promise<DeliveryResult> {
  const signo = osConstants.signals[signal];
  const timeoutMs = options.timeoutMs ?? 1000;
  const pollMs = options.pollMs ?? 1;
  const view = options.view ?? procfsView(options.procRoot);
  const started = view.now();
  for (;;) {
    const reading = deliveryFrom(readSignalStates(pid, signo, undefined, view), signal, options.tracingStopIsTransient);
    const waitedMs = view.now() - started;
    const final = reading.outcome !== 'waiting' && reading.outcome !== 'blocked';
    if (final) return { outcome: reading.outcome as DeliveryOutcome, detail: reading.detail, waitedMs };
    if (waitedMs >= timeoutMs) {
      const outcome = reading.outcome === 'blocked' ? 'blocked' : 'still-pending';
      return { outcome, detail: outcome === 'blocked' ? reading.detail : `${signal} still pending after ${Math.round(waitedMs)} ms`, waitedMs };
    }
    await view.sleep(pollMs);
  }
}
