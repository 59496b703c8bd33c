/**
 * The seam over the process world: everything the watch driver and the tree
 * rules (tree walk, completion, delivery, safety, sampler, fd identity) read
 * about processes goes through a `ProcessView`. Three implementations:
 * - `ProcfsView` (procfs-view.ts): the real /proc, as fast as the readers it
 *   replaced (fd count from one stat, listings through readlinkat, the
 *   socket-kind cache);
 * - `RecordingView` (recording.ts): wraps another view and writes every
 *   reading, with its time, to an NDJSON trace (`repro watch --record-trace`);
 * - `RecordedView` (recorded.ts): replays such a trace, so the rules can be
 *   unit-tested on real runtimes' readings.
 * Fd directories are named by path (`/proc/PID/fd`, or a live thread's
 * `/proc/PID/task/TID/fd` when the leader exited): in a trace the path is a key.
 */
import type { FdEntry } from '../fdprobe/probe.js';
import type { StatFields, SyscallSite } from './parse.js';

/** One process of a tree. */
export interface TreeProcess {
  /** Its pid (tgid). */
  pid: number;
  /** Parent's pid (tgid). */
  ppid: number;
  /** Short name from stat (15 characters at most). */
  comm: string;
  /** One-letter state of the leader thread (a `Z` leader may still have live threads). */
  state: string;
  /** Start time after boot in clock ticks: with pid, names the process even if the pid is reused later. */
  startTicks: number;
}

/** How a tree is walked. */
export interface WalkOptions {
  /** Include the root itself (default true). False for a keeper, which is the root but not watched. */
  includeRoot?: boolean;
  /** Pids left out with their descendants (strace's tracer, which re-parents to the keeper); read at every walk, so it may fill later. */
  exclude?: ReadonlySet<number>;
  /** Every this many walks, every process on the machine is read again (default 50; see ProcfsView's walker). */
  fullScanEvery?: number;
}

/** A walk of one tree, repeated at every poll. */
export interface TreeWalk {
  /** Every process of the tree, parents before children; empty when the root is gone. */
  walk(): TreeProcess[];
}

/** One thread at one poll. */
export interface ThreadReading {
  /** The process it belongs to. */
  pid: number;
  /** The thread. */
  tid: number;
  /** Thread name (comm of the task). */
  comm: string;
  /** One-letter state. */
  state: string;
  /** Where it is, from its syscall file. */
  syscall: SyscallSite;
  /** utime + stime in clock ticks (100 per second). */
  cpuTicks: number;
}

/** What stat(2) of /proc/PID/fd/N says about the open object. */
export interface FdStat {
  /** Device of the object. */
  dev: bigint;
  /** Inode of the object. */
  ino: bigint;
  /** Birth time in ns where the filesystem keeps one; 0n otherwise. */
  birthNs: bigint;
}

export interface ProcessView {
  /** The /proc root fd directory paths are built on. */
  readonly root: string;
  /** The clock the rules read, in ms (performance.now() live; the trace's clock in a replay). */
  now(): number;
  /** Waits between two polls (a replay does not wait). */
  sleep(ms: number): Promise<void>;
  /** A walker over the tree of `rootPid` (reuse it at every poll). */
  walker(rootPid: number, options?: WalkOptions): TreeWalk;
  /** /proc/PID/stat, or /proc/PID/task/TID/stat; undefined when gone. */
  stat(pid: number, tid?: number): StatFields | undefined;
  /** Thread ids of a process (/proc/PID/task); empty when gone. */
  threadIds(pid: number): number[];
  /** Every live (not Z/X) thread of a process: its stat and its syscall file. */
  threads(pid: number): ThreadReading[];
  /** /proc/PID/status, or a thread's; undefined when gone. */
  status(pid: number, tid?: number): string | undefined;
  /** /proc/PID/task/TID/syscall; undefined when gone or unreadable. */
  syscall(pid: number, tid: number): string | undefined;
  /** /proc/PID/task/TID/wchan; undefined when gone. */
  wchan(pid: number, tid: number): string | undefined;
  /** /proc/PID/cmdline (NUL-separated), decoded as asked; undefined when gone. */
  cmdline(pid: number, encoding?: 'utf8' | 'latin1'): string | undefined;
  /** /proc/PID/comm; undefined when gone. */
  comm(pid: number): string | undefined;
  /** /proc/PID/limits; undefined when gone. */
  limits(pid: number): string | undefined;
  /** Whether /proc/PID/exe can be read or fails other than ENOENT (a kernel thread has none). */
  hasExe(pid: number): boolean;
  /** `size` bytes of the process's memory at `address` (/proc/PID/mem); undefined without ptrace rights. */
  readMem(pid: number, address: bigint, size: number): Buffer | undefined;
  /** The fd directory holding a process's fds (see tree.ts `fdDirOf`); undefined for a zombie or a gone process. */
  fdDir(pid: number, leaderState: string): string | undefined;
  /** Number of fds in an fd directory; 0 when gone. */
  countFds(dir: string): number;
  /** Every fd of a directory with its kind (sockets refined to unix/tcp/udp); throws ProbeError when the process is gone. */
  listFds(dir: string): FdEntry[];
  /** The fd numbers of a directory; undefined when gone. */
  fdNumbers(dir: string): number[] | undefined;
  /** The link target of one fd; undefined when closed. */
  fdTarget(dir: string, fd: number): string | undefined;
  /** The fdinfo text of one fd (the fdinfo directory beside `dir`); undefined when closed. */
  fdinfo(dir: string, fd: number): string | undefined;
  /** stat(2) through the fd's link; undefined when closed. */
  fdStat(dir: string, fd: number): FdStat | undefined;
  /** A note in the trace (the driver's events: baseline, signal sent); nothing outside a recording. */
  mark(what: string, data?: Record<string, unknown>): void;
}
