/**
 * Small, pure parsers of the per-process and per-thread files under /proc
 * (stat, status, syscall) that the tree rules share.
 */

/** The fields of /proc/PID/stat (or /proc/PID/task/TID/stat) the tree modules use. */
export interface StatFields {
  /** Field 2 without the parentheses (may hold spaces and parentheses itself). */
  comm: string;
  /** Field 3: R, S, D, T, t, Z, X, I… */
  state: string;
  /** Field 4: the parent's tgid. */
  ppid: number;
  /** Field 5: the process group. */
  pgid: number;
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
    pgid: field(5),
    flags: field(9),
    cpuTicks: field(14) + field(15),
    startTicks: field(22),
  };
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

/** Where a thread is, from its syscall file: a syscall number, `running` (in user space or on a CPU), or null when unreadable. */
export type SyscallSite = number | 'running' | null;

/** Parses a syscall file: `230 0x0 …` → 230; `running` → 'running'; `-1 …` (stopped outside a syscall) → 'running'. */
export function parseSyscall(text: string | undefined): SyscallSite {
  if (text === undefined) return null;
  const first = text.trim().split(/\s+/)[0] ?? '';
  if (first === 'running') return 'running';
  const n = Number(first);
  if (!Number.isInteger(n)) return null;
  return n < 0 ? 'running' : n;
}
