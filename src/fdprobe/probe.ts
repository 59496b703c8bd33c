/** One interface over the ways to see a process's fds: procfs where there is one, lsof elsewhere. */
import type { FdKind } from './kinds.js';

/** One open descriptor. */
export interface FdEntry {
  fd: number;
  kind: FdKind;
  /** Link target (`pipe:[1234]`, a path, `anon_inode:[signalfd]`) or lsof's name column. */
  target: string;
}

/** RLIMIT_NOFILE of a process; null where unlimited or unknown. */
export interface FdLimits {
  soft: number | null;
  hard: number | null;
}

export interface FdProbe {
  readonly backend: 'procfs' | 'lsof';
  /** Number of open fds: the cheap path for frequent sampling. */
  count(pid: number): Promise<number>;
  /** Every fd with its kind: the full path. */
  list(pid: number): Promise<FdEntry[]>;
  limits(pid: number): Promise<FdLimits>;
  /** Resident set size in KiB, if the back end can tell. */
  rssKb(pid: number): Promise<number | undefined>;
  /**
   * The process's /proc/PID/status text, where the back end reads procfs:
   * a sample reads it once for its RSS and its metrics (threads). Throws
   * the back end's ProbeError when the process is gone.
   */
  status?(pid: number): string;
}
