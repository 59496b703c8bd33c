/**
 * Small, pure parsers of the per-process and per-thread files under /proc that
 * the tree modules share (stat, status), and the readers that tolerate a
 * process vanishing between readdir and read.
 */
import { closeSync, openSync, readdirSync, readFileSync, readSync } from 'node:fs';

export const PROC_ROOT = '/proc';

/** The fields of /proc/PID/stat (or /proc/PID/task/TID/stat) the tree modules use. */
export interface StatFields {
  /** Field 2 without the parentheses (may hold spaces and parentheses itself). */
  comm: string;
  /** Field 3: R, S, D, T, t, Z, X, I… */
  state: string;
  /** Field 4: the parent's tgid. */
  ppid: number;
  /** Field 9: PF_* flags (PF_KTHREAD = 0x00200000). */
  flags: number;
  /** Fields 14 + 15: user + system CPU time, in clock ticks (USER_HZ, 100 per second on Linux). */
  cpuTicks: number;
  /** Field 22: start time after boot, in clock ticks: tells a reused pid from the old process. */
  startTicks: number;
}

/** PF_KTHREAD in the flags field of stat: the task is a kernel thread. */
export const PF_KTHREAD = 0x00200000;

/** Parses one stat line. comm may contain ') ', so fields are counted from the last ')'. */
export function parseStat(text: string): StatFields {
  const open = text.indexOf('(');
  const close = text.lastIndexOf(')');
  const rest = text.slice(close + 2).split(' ');
  // rest[0] is field 3 (state).
  const field = (n: number) => Number(rest[n - 3]);
  return {
    comm: text.slice(open + 1, close),
    state: rest[0] ?? '?',
    ppid: field(4),
    flags: field(9),
    cpuTicks: field(14) + field(15),
    startTicks: field(22),
  };
}

const statBuffer = Buffer.alloc(2048);

/** Reads and parses a stat file (one open, one read into a reused buffer); undefined when the process or thread is gone. */
export function readStat(path: string): StatFields | undefined {
  let fd: number | undefined;
  try {
    fd = openSync(path, 'r');
    const n = readSync(fd, statBuffer, 0, statBuffer.length, 0);
    return parseStat(statBuffer.toString('utf8', 0, n));
  } catch {
    return undefined;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** Reads a text file under /proc; undefined when it is gone (ENOENT/ESRCH) or unreadable. */
export function readProcText(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

/** Thread ids of a process (its /proc/PID/task entries); empty when the process is gone. */
export function threadIds(pid: number, root = PROC_ROOT): number[] {
  try {
    return readdirSync(`${root}/${pid}/task`).map(Number);
  } catch {
    return [];
  }
}

/** A signal mask field of /proc/PID/status (`SigPnd`, `ShdPnd`, `SigBlk`, `SigIgn`, `SigCgt`) as a bigint; 0n when absent. */
export function statusMask(status: string, field: string): bigint {
  const hex = new RegExp(`^${field}:\\s+([0-9a-f]+)`, 'm').exec(status)?.[1];
  return hex === undefined ? 0n : BigInt(`0x${hex}`);
}

/** Does a mask hold signal `signo`? */
export function hasSignal(mask: bigint, signo: number): boolean {
  return ((mask >> BigInt(signo - 1)) & 1n) === 1n;
}

/** The one-letter state of a status text (`State:\tS (sleeping)` → `S`). */
export function statusState(status: string): string {
  return /^State:\s+(\S)/m.exec(status)?.[1] ?? '?';
}
