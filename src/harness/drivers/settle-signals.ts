/**
 * Where the watch driver's reload signal goes (--signal-to program, group or
 * tree) and which processes of the tree take it: a handler (SigCgt) or a
 * synchronous wait for it (blocked: sigwait, signalfd).
 */
import { ProbeError } from '../../fdprobe/errors.js';
import { parseSignalDisposition, type SignalDisposition } from '../../fdprobe/procfs.js';
import type { ProcessView } from '../../proc/view.js';
import type { WatchedTree } from '../../model/run-document.js';
import { RunEnded } from '../record.js';
import { defaultAction, groupMembers, synchronousWait } from '../tree/safety.js';
import { descendants, type TreeProcess, type TreeOptions, viewOf } from '../tree/tree.js';

/** Where the reload signal goes. */
export type SignalTo = WatchedTree['signalTo'];

/** Processes of the tree that take the signal: a handler (SigCgt) or a wait for it (blocked: sigwait, signalfd). */
export function takers(rootPid: number, options: TreeOptions, signo: number): TreeProcess[] {
  const view = viewOf(options);
  return descendants(rootPid, options)
    .filter((p) => p.state !== 'Z' && p.state !== 'X')
    .filter((p) => {
      try {
        const d = dispositionOf(view, p.pid, signo);
        return d === 'caught' || d === 'blocked' || (d === 'default' && synchronousWait(p.pid, signo, undefined, view) !== null);
      } catch {
        return false;
      }
    });
}

/** What sending one reload's signal needs to know. */
export interface SendTo {
  signal: NodeJS.Signals;
  signalTo: SignalTo;
  /** The program (or the daemon it left): where a `program` signal goes. */
  target: number;
  /** --signal-to group: the group read at start (it outlives a leader that exits in a hot restart). */
  pgid?: number;
  /** The processes of the tree that take the signal, read when they are needed. */
  takers: () => TreeProcess[];
  /** Where process groups are read. */
  view: ProcessView;
  /** Called with every pid the signal would reach, before anything is sent (--pid: throws to send nothing). */
  guard?: (pids: number[]) => void;
}

/** Sends the signal of reload k; returns the pids whose delivery is checked. */
export function sendReload(k: number, to: SendTo): number[] {
  const kill = (pid: number) => {
    try {
      process.kill(pid, to.signal);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ESRCH') throw new RunEnded('child-exited', `the process was gone before reload ${k}`);
      throw new RunEnded('probe-failed', `cannot send ${to.signal} to ${pid}: ${(error as NodeJS.ErrnoException).code}`);
    }
  };
  if (to.signalTo === 'program') {
    to.guard?.([to.target]);
    kill(to.target);
    return [to.target];
  }
  if (to.signalTo === 'group') {
    const pgid = to.pgid ?? to.view.stat(to.target)?.pgid;
    if (pgid === undefined) throw new RunEnded('child-exited', `the process was gone before reload ${k}`);
    to.guard?.(groupMembers(pgid, to.view));
    kill(-pgid);
    const members = to.takers().filter((p) => to.view.stat(p.pid)?.pgid === pgid).map((p) => p.pid);
    return members.length ? members : [to.target];
  }
  const all = to.takers().map((p) => p.pid);
  if (all.length === 0) {
    to.guard?.([to.target]);
    kill(to.target);
    return [to.target];
  }
  to.guard?.(all);
  for (const pid of all) kill(pid);
  return all;
}

/** What a process does with a signal (its status masks); throws ProbeError `gone` when it is gone, as the probe did. */
export function dispositionOf(view: ProcessView, pid: number, signo: number): SignalDisposition {
  const status = view.status(pid);
  if (status === undefined) throw new ProbeError('gone', pid, `process ${pid} is gone`);
  return parseSignalDisposition(status, signo);
}

/** Short name of a process (comm), or `gone`. */
export function commOf(pid: number, view: ProcessView): string {
  return view.comm(pid)?.trim() ?? 'gone';
}

/**
 * Why no reload can run, or null: the signal's default action is to ignore
 * it (WINCH, URG, CHLD) or to continue (CONT), and nothing that receives it
 * catches or waits for it. Sending it changes nothing, so a flat fd count
 * would say nothing about the reload.
 */
export function noReloadCanRun(signal: NodeJS.Signals, who: string, anyTaker: boolean): string | null {
  const action = defaultAction(signal);
  if (anyTaker || (action !== 'ignore' && action !== 'continue')) return null;
  const does = action === 'ignore' ? 'is to ignore it' : 'only continues a stopped process';
  return `${who} no handler for ${signal}, whose default action ${does}: no reload can run, so there is nothing to measure (pick the signal its reload handler catches with --signal)`;
}

/** The takers below another taker (a worker under a master that may forward the signal to it), with their parent links. */
export function nestedTakers(all: readonly TreeProcess[]): TreeProcess[] {
  const byPid = new Map(all.map((p) => [p.pid, p]));
  return all.filter((p) => byPid.has(p.ppid));
}

/**
 * How often the threads of `pid` were switched out (voluntary and not, from
 * each thread's status): it moves when a sleeping process wakes, for a
 * signal or anything else. NaN when it cannot be read.
 */
export function activityOf(view: ProcessView, pid: number): number {
  let total = 0;
  for (const tid of view.threadIds(pid)) {
    const status = view.status(pid, tid);
    if (status === undefined) continue;
    total += Number(/^voluntary_ctxt_switches:\s*(\d+)/m.exec(status)?.[1] ?? NaN) + Number(/^nonvoluntary_ctxt_switches:\s*(\d+)/m.exec(status)?.[1] ?? NaN);
  }
  return total;
}
