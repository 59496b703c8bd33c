/**
 * The watched unit is a process tree: a root and every descendant, found
 * again at every call by walking the ppid links of /proc/PID/stat (this
 * kernel has no /proc/PID/task/TID/children, CONFIG_PROC_CHILDREN is often
 * off). Two paths, as for a single process: `countTreeFds` (fd count per
 * process from one stat of its fd directory, for every poll) and
 * `listTreeFds` (every fd with its kind, once per sample).
 *
 * A process whose leader thread exited (pthread_exit in main) shows state Z
 * and an empty /proc/PID/fd while its other threads run and hold the fds:
 * those are read from /proc/PID/task/TID/fd of a live thread (`fdDirOf`).
 */
import { countKinds, type KindCounts } from '../../fdprobe/kinds.js';
import type { FdEntry } from '../../fdprobe/probe.js';
import { ProcfsProbe } from '../../fdprobe/procfs.js';
import { procfsView, ProcfsView } from '../../proc/procfs-view.js';
import type { ProcessView, TreeProcess, TreeWalk } from '../../proc/view.js';

export type { TreeProcess } from '../../proc/view.js';

export interface TreeOptions {
  /** Include the root itself (default true). False for a keeper, which is the root but not watched. */
  includeRoot?: boolean;
  /** /proc (tests may point elsewhere); ignored when `view` is given. */
  procRoot?: string;
  /** Pids left out with their descendants (strace's tracer, which re-parents to the keeper); read at every walk, so it may fill later. */
  exclude?: ReadonlySet<number>;
  /** Where the process world is read (default: /proc, at `procRoot`). */
  view?: ProcessView;
}

/** The view the options name: theirs, or the shared procfs view of their root. */
export function viewOf(options: Pick<TreeOptions, 'procRoot' | 'view'> = {}): ProcessView {
  return options.view ?? procfsView(options.procRoot);
}

/**
 * Every descendant of `rootPid` (and the root unless `includeRoot: false`),
 * parents before children. Reads /proc/N/stat of every process on the
 * machine: nothing is cached, so processes that came or went since the last
 * call are found. Empty when the root is gone. For polling, `TreeWalker`
 * gives the same answer reading only the tree's own processes and new pids.
 */
export function descendants(rootPid: number, options: TreeOptions = {}): TreeProcess[] {
  return new TreeWalker(rootPid, options).walk();
}

/**
 * `descendants` for polling: the view's walker, which remembers which pids
 * are outside the tree and does not read their stat again (see ProcfsView).
 */
export class TreeWalker {
  readonly #walk: TreeWalk;

  constructor(
    readonly rootPid: number,
    options: TreeOptions & { fullScanEvery?: number } = {},
  ) {
    this.#walk = viewOf(options).walker(rootPid, options);
  }

  walk(): TreeProcess[] {
    return this.#walk.walk();
  }
}

/**
 * The fd directory that holds a process's fds: /proc/PID/fd, or, when the
 * leader thread has exited (state Z) while other threads live, the fd
 * directory of the first live thread. Undefined for a real zombie or a gone process.
 */
export function fdDirOf(pid: number, leaderState: string, procRoot?: string, view: ProcessView = procfsView(procRoot)): string | undefined {
  return view.fdDir(pid, leaderState);
}

/** Number of fds in an fd directory: stat size on Linux >= 6.2 (one syscall), readdir otherwise; 0 when gone. */
export function countFdDir(dir: string, view: ProcessView = procfsView()): number {
  return view.countFds(dir);
}

/** One process's fds in a tree sample. */
export interface ProcessFdSample {
  pid: number;
  ppid: number;
  /** comm on the count path; the command line (argv joined, at most 200 characters) on the full path. */
  command: string;
  /** Open fds (0 for a zombie). */
  fds: number;
  /** Fds by kind: full path only. */
  byKind?: KindCounts;
  /** The listing itself: full path only. */
  entries?: FdEntry[];
  /** Where the fds were read: `/proc/PID/fd`, or a thread's when the leader exited. */
  fdDir?: string;
  /** Start time after boot in clock ticks, from the walk: with pid, names the process across samples (full path only). */
  startTicks?: number;
}

/** A sample of the whole tree. */
export interface TreeFdSample {
  processes: ProcessFdSample[];
  /** Sum of `fds` over the processes. */
  totalFds: number;
  /** Sum of `byKind` over the processes: full path only. */
  byKind?: KindCounts;
}

/**
 * The count path: readdir /proc, a stat read per process of the tree (per
 * process on the machine without a walker), and one stat of each fd
 * directory. Pass the same `walker` at every poll.
 */
export function countTreeFds(rootPid: number, options: TreeOptions = {}, walker?: TreeWalker): TreeFdSample {
  const view = viewOf(options);
  const processes: ProcessFdSample[] = [];
  let totalFds = 0;
  for (const p of walker ? walker.walk() : descendants(rootPid, options)) {
    const dir = view.fdDir(p.pid, p.state);
    const fds = dir ? view.countFds(dir) : 0;
    totalFds += fds;
    processes.push({ pid: p.pid, ppid: p.ppid, command: p.comm, fds });
  }
  return { processes, totalFds };
}

/** Command line of a process, argv joined by spaces, at most 200 characters; comm in brackets when empty. */
export function commandLine(pid: number, comm: string, procRoot?: string, view: ProcessView = procfsView(procRoot)): string {
  const text = view.cmdline(pid)?.replaceAll('\0', ' ').trim();
  return text ? text.slice(0, 200) : `[${comm}]`;
}

/**
 * The full path: every fd of every process of the tree with its kind (through
 * the procfs probe, which caches socket kinds: pass the same probe each time).
 * A process that exits between the walk and its listing is left out.
 */
export function listTreeFds(rootPid: number, probe?: ProcfsProbe, options: TreeOptions = {}): TreeFdSample {
  // A probe given without a view brings its socket-kind cache to a view of its own.
  const view = options.view ?? (probe ? new ProcfsView(options.procRoot, probe) : new ProcfsView(options.procRoot));
  const processes: ProcessFdSample[] = [];
  const all: FdEntry[] = [];
  for (const p of descendants(rootPid, options)) {
    const dir = view.fdDir(p.pid, p.state);
    let entries: FdEntry[] = [];
    if (dir) {
      try {
        entries = view.listFds(dir);
      } catch {
        continue; // gone meanwhile
      }
    }
    all.push(...entries);
    processes.push({ pid: p.pid, ppid: p.ppid, command: commandLine(p.pid, p.comm, undefined, view), fds: entries.length, byKind: countKinds(entries.map((e) => e.kind)), entries, fdDir: dir, startTicks: p.startTicks });
  }
  return { processes, totalFds: all.length, byKind: countKinds(all.map((e) => e.kind)) };
}
