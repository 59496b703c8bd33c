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
import { readdirSync, statSync } from 'node:fs';
import { countKinds, type KindCounts } from '../../fdprobe/kinds.js';
import type { FdEntry } from '../../fdprobe/probe.js';
import { ProcfsProbe } from '../../fdprobe/procfs.js';
import { PROC_ROOT, readProcText, readStat, threadIds } from './proc-stat.js';

/** One process of the tree. */
export interface TreeProcess {
  pid: number;
  /** Parent's pid (tgid). */
  ppid: number;
  /** Short name from stat (15 characters at most). */
  comm: string;
  /** One-letter state of the leader thread (a `Z` leader may still have live threads: see `fdDirOf`). */
  state: string;
  /** Start time after boot in clock ticks: with pid, names the process even if the pid is reused later. */
  startTicks: number;
}

export interface TreeOptions {
  /** Include the root itself (default true). False for a keeper, which is the root but not watched. */
  includeRoot?: boolean;
  /** /proc (tests may point elsewhere). */
  procRoot?: string;
  /** Pids left out with their descendants (strace's tracer, which re-parents to the keeper); read at every walk, so it may fill later. */
  exclude?: ReadonlySet<number>;
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
 * `descendants` for polling: remembers which pids are outside the tree and
 * does not read their stat again. Sound because a process outside the tree
 * cannot join it (a process only moves by re-parenting, to a subreaper or
 * init, both outside; new members are new pids, read on sight). A pid that
 * died and was reused between two calls would be missed, so every
 * `fullScanEvery` calls everything is read again.
 */
export class TreeWalker {
  readonly #outside = new Set<number>();
  #calls = 0;

  constructor(
    readonly rootPid: number,
    private readonly options: TreeOptions & { fullScanEvery?: number } = {},
  ) {}

  walk(): TreeProcess[] {
    const root = this.options.procRoot ?? PROC_ROOT;
    const rootPid = this.rootPid;
    if (this.#calls++ % (this.options.fullScanEvery ?? 50) === 0) this.#outside.clear();
    const byParent = new Map<number, TreeProcess[]>();
    let rootEntry: TreeProcess | undefined;
    const present = new Set<number>();
    for (const name of readdirSync(root)) {
      const code = name.charCodeAt(0);
      if (code < 48 || code > 57) continue;
      const pid = Number(name);
      present.add(pid);
      if (this.#outside.has(pid)) continue;
      const stat = readStat(`${root}/${name}/stat`);
      if (!stat) continue;
      const entry: TreeProcess = { pid, ppid: stat.ppid, comm: stat.comm, state: stat.state, startTicks: stat.startTicks };
      if (pid === rootPid) rootEntry = entry;
      let siblings = byParent.get(stat.ppid);
      if (!siblings) byParent.set(stat.ppid, (siblings = []));
      siblings.push(entry);
    }
    for (const pid of this.#outside) if (!present.has(pid)) this.#outside.delete(pid);
    if (!rootEntry) return [];
    const out: TreeProcess[] = [rootEntry];
    const inTree = new Set([rootPid]);
    for (let i = 0; i < out.length; i++) {
      for (const child of byParent.get((out[i] as TreeProcess).pid) ?? []) {
        // A pid cannot be its own ancestor, but guard against a cycle from a pid reused mid-walk.
        if (inTree.has(child.pid) || this.options.exclude?.has(child.pid)) continue;
        inTree.add(child.pid);
        out.push(child);
      }
    }
    for (const list of byParent.values()) for (const p of list) if (!inTree.has(p.pid)) this.#outside.add(p.pid);
    return this.options.includeRoot === false ? out.slice(1) : out;
  }
}

/**
 * The fd directory that holds a process's fds: /proc/PID/fd, or, when the
 * leader thread has exited (state Z) while other threads live, the fd
 * directory of the first live thread. Undefined for a real zombie or a gone process.
 */
export function fdDirOf(pid: number, leaderState: string, procRoot = PROC_ROOT): string | undefined {
  if (leaderState !== 'Z' && leaderState !== 'X') return `${procRoot}/${pid}/fd`;
  for (const tid of threadIds(pid, procRoot)) {
    if (tid === pid) continue;
    const stat = readStat(`${procRoot}/${pid}/task/${tid}/stat`);
    if (stat && stat.state !== 'Z' && stat.state !== 'X') return `${procRoot}/${pid}/task/${tid}/fd`;
  }
  return undefined;
}

/** Number of fds in an fd directory: stat size on Linux >= 6.2 (one syscall), readdir otherwise; 0 when gone. */
export function countFdDir(dir: string): number {
  try {
    const size = statSync(dir).size;
    return size > 0 ? size : readdirSync(dir).length;
  } catch {
    return 0;
  }
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
  const procRoot = options.procRoot ?? PROC_ROOT;
  const processes: ProcessFdSample[] = [];
  let totalFds = 0;
  for (const p of walker ? walker.walk() : descendants(rootPid, options)) {
    const dir = fdDirOf(p.pid, p.state, procRoot);
    const fds = dir ? countFdDir(dir) : 0;
    totalFds += fds;
    processes.push({ pid: p.pid, ppid: p.ppid, command: p.comm, fds });
  }
  return { processes, totalFds };
}

/** Command line of a process, argv joined by spaces, at most 200 characters; comm in brackets when empty. */
export function commandLine(pid: number, comm: string, procRoot = PROC_ROOT): string {
  const text = readProcText(`${procRoot}/${pid}/cmdline`)?.replaceAll('\0', ' ').trim();
  return text ? text.slice(0, 200) : `[${comm}]`;
}

/**
 * The full path: every fd of every process of the tree with its kind (through
 * the procfs probe, which caches socket kinds: pass the same probe each time).
 * A process that exits between the walk and its listing is left out.
 */
export function listTreeFds(rootPid: number, probe: ProcfsProbe = new ProcfsProbe(), options: TreeOptions = {}): TreeFdSample {
  const procRoot = options.procRoot ?? PROC_ROOT;
  const processes: ProcessFdSample[] = [];
  const all: FdEntry[] = [];
  for (const p of descendants(rootPid, options)) {
    const dir = fdDirOf(p.pid, p.state, procRoot);
    let entries: FdEntry[] = [];
    if (dir) {
      try {
        entries = listFdDir(probe, dir, procRoot);
      } catch {
        continue; // gone meanwhile
      }
    }
    all.push(...entries);
    processes.push({ pid: p.pid, ppid: p.ppid, command: commandLine(p.pid, p.comm, procRoot), fds: entries.length, byKind: countKinds(entries.map((e) => e.kind)), entries, fdDir: dir });
  }
  return { processes, totalFds: all.length, byKind: countKinds(all.map((e) => e.kind)) };
}

/** Thread fd directories are listed by pointing a probe at /proc/PID/task as its root. */
const threadProbes = new Map<string, ProcfsProbe>();
function listFdDir(probe: ProcfsProbe, dir: string, procRoot: string): FdEntry[] {
  const match = /\/(\d+)\/task\/(\d+)\/fd$/.exec(dir);
  if (!match) return probe.listSync(Number(/\/(\d+)\/fd$/.exec(dir)?.[1]));
  const taskRoot = `${procRoot}/${match[1]}/task`;
  let threadProbe = threadProbes.get(taskRoot);
  if (!threadProbe) {
    if (threadProbes.size > 64) threadProbes.clear();
    threadProbes.set(taskRoot, (threadProbe = new ProcfsProbe(taskRoot)));
  }
  return threadProbe.listSync(Number(match[2]));
}
