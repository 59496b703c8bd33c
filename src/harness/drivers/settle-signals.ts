/**
 * Where the watch driver's reload signal goes (--signal-to program, group or
 * tree) and which processes of the tree take it: a handler (SigCgt) or a
 * synchronous wait for it (blocked: sigwait, signalfd).
 */
import { signalDisposition } from '../../fdprobe/procfs.js';
import type { WatchedTree } from '../../model/run-document.js';
import { RunEnded } from '../record.js';
import { readProcText } from '../tree/proc-stat.js';
import { synchronousWait } from '../tree/safety.js';
import { descendants, type TreeProcess, type TreeOptions } from '../tree/tree.js';

/** Where the reload signal goes. */
export type SignalTo = WatchedTree['signalTo'];

/** Processes of the tree that take the signal: a handler (SigCgt) or a wait for it (blocked: sigwait, signalfd). */
export function takers(rootPid: number, options: TreeOptions, signo: number): TreeProcess[] {
  return descendants(rootPid, options)
    .filter((p) => p.state !== 'Z' && p.state !== 'X')
    .filter((p) => {
      try {
        const d = signalDisposition(p.pid, signo);
        return d === 'caught' || d === 'blocked' || (d === 'default' && synchronousWait(p.pid, signo) !== null);
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
  /** The processes of the tree that take the signal, read when they are needed. */
  takers: () => TreeProcess[];
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
    kill(to.target);
    return [to.target];
  }
  if (to.signalTo === 'group') {
    const pgid = pgidOf(to.target);
    if (pgid === undefined) throw new RunEnded('child-exited', `the process was gone before reload ${k}`);
    kill(-pgid);
    const members = to.takers().filter((p) => pgidOf(p.pid) === pgid).map((p) => p.pid);
    return members.length ? members : [to.target];
  }
  const all = to.takers().map((p) => p.pid);
  if (all.length === 0) {
    kill(to.target);
    return [to.target];
  }
  for (const pid of all) kill(pid);
  return all;
}

/** Process group of a process (field 5 of stat); undefined when it is gone. */
function pgidOf(pid: number): number | undefined {
  const text = readProcText(`/proc/${pid}/stat`);
  if (!text) return undefined;
  return Number(text.slice(text.lastIndexOf(')') + 2).split(' ')[2]);
}

/** Short name of a process (comm), or `gone`. */
export function commOf(pid: number): string {
  return readProcText(`/proc/${pid}/comm`)?.trim() ?? 'gone';
}
