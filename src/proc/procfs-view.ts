/**
 * The real process world: `ProcessView` over /proc. The readers keep the
 * speed of the code they replaced (measured in scripts/bench watch): stat
 * files in one open and one read into a reused buffer, fd counts from the
 * size of one stat of the fd directory (Linux ≥ 6.2), listings by readlinkat
 * through koffi with the socket kinds cached (ProcfsProbe), and a tree walk
 * that does not read processes known to be outside the tree again.
 */
import { closeSync, openSync, readdirSync, readFileSync, readlinkSync, readSync, statSync } from 'node:fs';
import { setTimeout as delay } from 'node:timers/promises';
import type { FdEntry } from '../fdprobe/probe.js';
import { parseStat, parseSyscall, type StatFields } from './parse.js';
import { ProcfsProbe } from './procfs-probe.js';
import type { FdStat, ProcessView, ThreadReading, TreeProcess, TreeWalk, WalkOptions } from './view.js';

export const PROC_ROOT = '/proc';

const statBuffer = Buffer.alloc(2048);

export class ProcfsView implements ProcessView {
  readonly #probe: ProcfsProbe;
  /** Thread fd directories are listed by pointing a probe at /proc/PID/task as its root. */
  readonly #threadProbes = new Map<string, ProcfsProbe>();

  /** `probe`: share a probe (and its socket-kind cache) with the caller. */
  constructor(
    readonly root = PROC_ROOT,
    probe?: ProcfsProbe,
  ) {
    this.#probe = probe ?? new ProcfsProbe(root);
  }

  now(): number {
    return performance.now();
  }

  async sleep(ms: number): Promise<void> {
    await delay(ms);
  }

  walker(rootPid: number, options: WalkOptions = {}): TreeWalk {
    return new ProcfsWalker(this, rootPid, options);
  }

  /** Reads and parses a stat file (one open, one read into a reused buffer); undefined when gone. */
  statAt(path: string): StatFields | undefined {
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

  /** Reads a text file; undefined when it is gone (ENOENT/ESRCH) or unreadable. */
  textAt(path: string, encoding: 'utf8' | 'latin1' = 'utf8'): string | undefined {
    try {
      return readFileSync(path, encoding);
    } catch {
      return undefined;
    }
  }

  stat(pid: number, tid?: number): StatFields | undefined {
    return this.statAt(tid === undefined ? `${this.root}/${pid}/stat` : `${this.root}/${pid}/task/${tid}/stat`);
  }

  threadIds(pid: number): number[] {
    try {
      return readdirSync(`${this.root}/${pid}/task`).map(Number);
    } catch {
      return [];
    }
  }

  threads(pid: number): ThreadReading[] {
    const out: ThreadReading[] = [];
    for (const tid of this.threadIds(pid)) {
      const base = `${this.root}/${pid}/task/${tid}`;
      const stat = this.statAt(`${base}/stat`);
      if (!stat || stat.state === 'Z' || stat.state === 'X') continue;
      out.push({ pid, tid, comm: stat.comm, state: stat.state, syscall: parseSyscall(this.textAt(`${base}/syscall`)), cpuTicks: stat.cpuTicks });
    }
    return out;
  }

  status(pid: number, tid?: number): string | undefined {
    return this.textAt(tid === undefined ? `${this.root}/${pid}/status` : `${this.root}/${pid}/task/${tid}/status`);
  }

  syscall(pid: number, tid: number): string | undefined {
    return this.textAt(`${this.root}/${pid}/task/${tid}/syscall`);
  }

  wchan(pid: number, tid: number): string | undefined {
    return this.textAt(`${this.root}/${pid}/task/${tid}/wchan`);
  }

  cmdline(pid: number, encoding: 'utf8' | 'latin1' = 'utf8'): string | undefined {
    return this.textAt(`${this.root}/${pid}/cmdline`, encoding);
  }

  comm(pid: number): string | undefined {
    return this.textAt(`${this.root}/${pid}/comm`);
  }

  limits(pid: number): string | undefined {
    return this.textAt(`${this.root}/${pid}/limits`);
  }

  hasExe(pid: number): boolean {
    try {
      readlinkSync(`${this.root}/${pid}/exe`);
      return true;
    } catch (error) {
      // A zombie's exe is gone too: the caller tells a kernel thread from it.
      return (error as NodeJS.ErrnoException).code !== 'ENOENT';
    }
  }

  readMem(pid: number, address: bigint, size: number): Buffer | undefined {
    let fd: number | undefined;
    try {
      fd = openSync(`${this.root}/${pid}/mem`, 'r');
      const buffer = Buffer.alloc(size);
      return readSync(fd, buffer, 0, size, address) === size ? buffer : undefined;
    } catch {
      // No ptrace rights over it (or it moved on).
      return undefined;
    } finally {
      if (fd !== undefined) closeSync(fd);
    }
  }

  fdDir(pid: number, leaderState: string): string | undefined {
    if (leaderState !== 'Z' && leaderState !== 'X') return `${this.root}/${pid}/fd`;
    for (const tid of this.threadIds(pid)) {
      if (tid === pid) continue;
      const stat = this.stat(pid, tid);
      if (stat && stat.state !== 'Z' && stat.state !== 'X') return `${this.root}/${pid}/task/${tid}/fd`;
    }
    return undefined;
  }

  /** Stat size on Linux >= 6.2 (one syscall), readdir otherwise; 0 when gone. */
  countFds(dir: string): number {
    try {
      const size = statSync(dir).size;
      return size > 0 ? size : readdirSync(dir).length;
    } catch {
      return 0;
    }
  }

  listFds(dir: string): FdEntry[] {
    const match = /\/(\d+)\/task\/(\d+)\/fd$/.exec(dir);
    if (!match) return this.#probe.listSync(Number(/\/(\d+)\/fd$/.exec(dir)?.[1]));
    const taskRoot = `${this.root}/${match[1]}/task`;
    let threadProbe = this.#threadProbes.get(taskRoot);
    if (!threadProbe) {
      if (this.#threadProbes.size > 64) this.#threadProbes.clear();
      this.#threadProbes.set(taskRoot, (threadProbe = new ProcfsProbe(taskRoot)));
    }
    return threadProbe.listSync(Number(match[2]));
  }

  fdNumbers(dir: string): number[] | undefined {
    try {
      return readdirSync(dir).map(Number);
    } catch {
      return undefined;
    }
  }

  fdTarget(dir: string, fd: number): string | undefined {
    try {
      return readlinkSync(`${dir}/${fd}`);
    } catch {
      return undefined;
    }
  }

  fdinfo(dir: string, fd: number): string | undefined {
    return this.textAt(`${dir.replace(/\/fd$/, '/fdinfo')}/${fd}`);
  }

  fdStat(dir: string, fd: number): FdStat | undefined {
    try {
      const st = statSync(`${dir}/${fd}`, { bigint: true });
      return { dev: st.dev, ino: st.ino, birthNs: st.birthtimeNs };
    } catch {
      return undefined;
    }
  }

  mark(): void {
    // Nothing to note outside a recording.
  }
}

/**
 * The tree walk for polling: remembers which pids are outside the tree and
 * does not read their stat again. Sound because a process outside the tree
 * cannot join it (a process only moves by re-parenting, to a subreaper or
 * init, both outside; new members are new pids, read on sight). A pid that
 * died and was reused between two calls would be missed, so every
 * `fullScanEvery` calls everything is read again.
 */
class ProcfsWalker implements TreeWalk {
  readonly #outside = new Set<number>();
  #calls = 0;

  constructor(
    private readonly view: ProcfsView,
    private readonly rootPid: number,
    private readonly options: WalkOptions,
  ) {}

  walk(): TreeProcess[] {
    const root = this.view.root;
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
      const stat = this.view.statAt(`${root}/${name}/stat`);
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
    this.#rememberOutside(byParent, inTree);
    return this.options.includeRoot === false ? out.slice(1) : out;
  }

  /**
   * Remembers as outside only a process whose whole line of parents was read
   * in this walk up to the top (ppid 0), none of them in the tree. A process
   * whose parent vanished mid-walk is about to be re-parented, possibly to
   * the tree's subreaper (a daemon's middle fork exiting): remembered as
   * outside, it would be missing from the tree for the next walks. With pids
   * wrapping, a grandchild is read before its exiting parent, so this is not
   * rare (a daemonizing program looked gone during start-up).
   */
  #rememberOutside(byParent: Map<number, TreeProcess[]>, inTree: Set<number>): void {
    const parentOf = new Map<number, number>();
    for (const list of byParent.values()) for (const p of list) parentOf.set(p.pid, p.ppid);
    const settled = new Map<number, boolean>();
    const isSettled = (pid: number): boolean => {
      const known = settled.get(pid);
      if (known !== undefined) return known;
      const ppid = parentOf.get(pid);
      // Marked false first: a cycle from a pid reused mid-walk is not settled.
      settled.set(pid, false);
      const result = ppid !== undefined && !inTree.has(pid) && (ppid === 0 || isSettled(ppid));
      settled.set(pid, result);
      return result;
    };
    for (const pid of parentOf.keys()) if (!inTree.has(pid) && isSettled(pid)) this.#outside.add(pid);
  }
}

const shared = new Map<string, ProcfsView>();
/** One shared view per /proc root, for callers that were not handed a view. */
export function procfsView(root = PROC_ROOT): ProcfsView {
  let view = shared.get(root);
  if (!view) shared.set(root, (view = new ProcfsView(root)));
  return view;
}
