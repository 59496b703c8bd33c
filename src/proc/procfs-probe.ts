/** The procfs back end: /proc/<pid>/fd, /proc/<pid>/limits, /proc/<pid>/status, /proc/<pid>/net. */
import { closeSync, constants as fsConstants, openSync, readdirSync, readFileSync, readlinkSync, statSync } from 'node:fs';
import { NativeError, readlinkAtFunction } from '../native/libc.js';
import { toProbeError } from '../fdprobe/errors.js';
import { classifyTarget, type FdKind } from './fd-kinds.js';
import type { FdEntry, FdLimits, FdProbe } from '../fdprobe/probe.js';
import { parseLimits, parseRssKb, parseSignalDisposition, type SignalDisposition } from './proc-text.js';

export { parseLimits, parseRssKb, parseSignalDisposition, type SignalDisposition } from './proc-text.js';

export const PROC_ROOT = '/proc';

/** Missing fd numbers in a row after which the walk hands over to readdir. */
const WALK_MISSES = 32;

export function hasProcfs(root = PROC_ROOT): boolean {
  try {
    return statSync(`${root}/self/fd`).isDirectory();
  } catch {
    return false;
  }
}

/** The /proc/<pid>/net tables that name socket inodes, cheapest first: tcp costs ~5 ms even when empty. */
const SOCKET_TABLES: [file: string, kind: FdKind, inodeColumn: number][] = [
  ['unix', 'unix', 6],
  ['udp', 'udp', 9],
  ['udp6', 'udp', 9],
  ['tcp', 'tcp', 9],
  ['tcp6', 'tcp', 9],
];

/** The inode column of each table as one multi-line regex: a native scan, ~7× faster than splitting every line (measured on 2000 unix sockets). */
const INODE_PATTERNS = new Map(SOCKET_TABLES.map(([, , column]) => [column, new RegExp(`^[ \\t]*\\S+:(?:[ \\t]+\\S+){${column - 1}}[ \\t]+(\\d+)`, 'gm')]));

/**
 * Socket inode → transport, reading only as many tables as it takes to place `wanted`. `seen`, when given,
 * is told every other socket of the tables read (inode, kind): the tables list the whole network namespace,
 * so one reading places the sockets of every process in it.
 */
export function resolveSockets(pid: number, wanted: Set<string>, root = PROC_ROOT, seen?: (inode: string, kind: FdKind) => void): Map<string, FdKind> {
  const found = new Map<string, FdKind>();
  for (const [file, kind, column] of SOCKET_TABLES) {
    if (found.size === wanted.size) break;
    let text: string;
    try {
      text = readFileSync(`${root}/${pid}/net/${file}`, 'utf8');
    } catch {
      continue;
    }
    for (const match of text.matchAll(INODE_PATTERNS.get(column) as RegExp)) {
      const inode = match[1] as string;
      if (wanted.has(inode)) found.set(inode, kind);
      else if (seen && inode !== '0') seen(inode, kind);
    }
  }
  return found;
}

export class ProcfsProbe implements FdProbe {
  readonly backend = 'procfs';

  /** Socket inode → kind; an inode names one socket for as long as it is open, so samples reuse it. */
  readonly #socketKinds = new Map<string, FdKind>();
  /** Path → is a directory. */
  readonly #directories = new Map<string, boolean>();
  /**
   * readlinkat(2) through koffi, relative to an open /proc/PID/fd: cheaper per
   * fd than readlinkSync's full path, but loading koffi costs about as much as
   * 5,000 readlinkSync calls (measured: 20–40 ms against 64–85 ms for 5,000
   * fds on a loaded 2-core machine). So the first listing of this probe uses
   * readlinkSync (a one-shot `repro probe` never loads koffi) and koffi is
   * loaded for the second, when the probe is sampling over and over.
   */
  #readlinkAt: ((dirfd: number, name: string) => string | null) | undefined;
  #listings = 0;
  /**
   * Pids whose last listing found a gap of WALK_MISSES free numbers (an fd
   * inherited high, such as a shell's 251, above a dense table): their next
   * listings go to readdir at once, as the walk would after its misses. Each
   * miss is a failed readlink: 32 of them per sample were about a quarter of
   * a default compare's readlinks (16,800 of 30,400, measured with strace -c).
   */
  readonly #sparse = new Set<number>();

  constructor(private readonly root = PROC_ROOT) {}

  async count(pid: number): Promise<number> {
    return this.countSync(pid);
  }

  /**
   * Synchronous: no thread-pool round trip, which costs more than the read
   * itself. Since Linux 6.2 stat() of /proc/<pid>/fd reports the number of
   * open fds as its size: one syscall however many fds (4.5 µs against 500 µs
   * for readdir at 1k fds, measured). Older kernels report 0 there, so a size
   * of 0 falls back to counting the entries.
   */
  countSync(pid: number): number {
    const dir = `${this.root}/${pid}/fd`;
    try {
      const size = statSync(dir).size;
      return size > 0 ? size : readdirSync(dir).length;
    } catch (error) {
      throw toProbeError(pid, error);
    }
  }

  async list(pid: number): Promise<FdEntry[]> {
    return this.listSync(pid);
  }

  listSync(pid: number, options: { refineSockets?: boolean } = {}): FdEntry[] {
    const dir = `${this.root}/${pid}/fd`;
    let dirfd: number | undefined;
    let count: number;
    try {
      count = statSync(dir).size;
      if (++this.#listings === 2) this.#readlinkAt = readlinkAtFunction();
      if (this.#readlinkAt) dirfd = openSync(dir, fsConstants.O_RDONLY | fsConstants.O_DIRECTORY);
    } catch (error) {
      throw toProbeError(pid, error);
    }
    try {
      return this.#classifyAll(pid, dir, count, dirfd, options);
    } finally {
      if (dirfd !== undefined) closeSync(dirfd);
    }
  }

  #readLink(dir: string, dirfd: number | undefined, name: string): string | null {
    if (dirfd !== undefined && this.#readlinkAt) return this.#readlinkAt(dirfd, name);
    try {
      return readlinkSync(`${dir}/${name}`);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw error;
    }
  }

  /** Is this path a directory? Cached by path: a log leaked per reload is one stat, not one per fd per sample. */
  #isDirectory(target: string, fdPath: string): boolean {
    let known = this.#directories.get(target);
    if (known === undefined) {
      if (this.#directories.size > 10_000) this.#directories.clear();
      known = isDirectory(fdPath);
      this.#directories.set(target, known);
    }
    return known;
  }

  /**
   * Lists by walking fd numbers up from 0 when the kernel gives the count
   * (stat size, Linux >= 6.2): fd tables are dense, because open() takes the
   * lowest free number, so this finds every fd with one readlinkat each and
   * no directory read at all. The walk stops once it has found `count` fds; a
   * run of misses (a sparse table, or fds closed meanwhile) hands the rest to
   * readdir, which finds whatever lies beyond. Without a count it is readdir
   * from the start. Either way each fd costs one readlinkat.
   */
  #classifyAll(pid: number, dir: string, count: number, dirfd: number | undefined, options: { refineSockets?: boolean }): FdEntry[] {
    const entries: FdEntry[] = [];
    const unknownSockets: FdEntry[] = [];
    const add = (fd: number, target: string) => {
      let kind = classifyTarget(target);
      if (kind === 'file' && this.#isDirectory(target, `${dir}/${fd}`)) kind = 'directory';
      const entry: FdEntry = { fd, kind, target };
      if (kind === 'socket' && options.refineSockets !== false) {
        const known = this.#socketKinds.get(target);
        if (known) entry.kind = known;
        else unknownSockets.push(entry);
      }
      entries.push(entry);
    };
    const read = (name: string) => {
      try {
        return this.#readLink(dir, dirfd, name);
      } catch (error) {
        throw error instanceof NativeError ? toProbeError(pid, Object.assign(new Error(error.message), { code: error.code })) : toProbeError(pid, error);
      }
    };
    let next = 0;
    if (count > 0 && !this.#sparse.has(pid)) {
      for (let misses = 0; entries.length < count && misses < WALK_MISSES; next++) {
        const target = read(String(next));
        if (target === null) misses++;
        else {
          misses = 0;
          add(next, target);
        }
      }
    }
    // The count was read before the walk: fds opened meanwhile can fill it before the walk reaches one open all
    // along (an inherited high fd). A count that changed during the walk sends the rest to readdir too.
    const short = entries.length < count;
    if (short || count <= 0 || (next > 0 && countNow(dir) !== count)) {
      if (short && next > 0) {
        if (this.#sparse.size > 10_000) this.#sparse.clear();
        this.#sparse.add(pid);
      }
      let names: string[];
      try {
        names = readdirSync(dir);
      } catch (error) {
        throw toProbeError(pid, error);
      }
      for (const fd of names.map(Number).filter((n) => n >= next)) {
        // Closed between readdir and readlink: it is simply not open any more.
        const target = read(String(fd));
        if (target !== null) add(fd, target);
      }
      entries.sort((a, b) => a.fd - b.fd);
    }
    if (unknownSockets.length > 0) this.#placeSockets(pid, unknownSockets);
    return entries;
  }

  #placeSockets(pid: number, entries: FdEntry[]): void {
    if (this.#socketKinds.size > 100_000) this.#socketKinds.clear();
    const inodeOf = (e: FdEntry) => e.target.slice('socket:['.length, -1);
    // Every socket the tables list is kept (sockfs numbers its inodes from one counter, so a number names one
    // socket until the counter wraps): the next process of the same namespace is placed without reading them
    // again (repro monitor's first collection of 200 processes read the unix table 200 times).
    const seen = (inode: string, kind: FdKind) => {
      if (this.#socketKinds.size < 100_000) this.#socketKinds.set(`socket:[${inode}]`, kind);
    };
    const found = resolveSockets(pid, new Set(entries.map(inodeOf)), this.root, seen);
    for (const entry of entries) {
      // Not in any table (netlink, packet...): stays `socket`, and is remembered so, to not re-read tcp each sample.
      entry.kind = found.get(inodeOf(entry)) ?? 'socket';
      this.#socketKinds.set(entry.target, entry.kind);
    }
  }

  async limits(pid: number): Promise<FdLimits> {
    try {
      return parseLimits(readFileSync(`${this.root}/${pid}/limits`, 'utf8'));
    } catch (error) {
      throw toProbeError(pid, error);
    }
  }

  async rssKb(pid: number): Promise<number | undefined> {
    return parseRssKb(this.status(pid));
  }

  status(pid: number): string {
    try {
      return readFileSync(`${this.root}/${pid}/status`, 'utf8');
    } catch (error) {
      throw toProbeError(pid, error);
    }
  }
}

export function signalDisposition(pid: number, signo: number, root = PROC_ROOT): SignalDisposition {
  try {
    return parseSignalDisposition(readFileSync(`${root}/${pid}/status`, 'utf8'), signo);
  } catch (error) {
    throw toProbeError(pid, error);
  }
}

/** The fd count as stat gives it now; -1 when the directory is gone (the readdir after it says why). */
function countNow(dir: string): number {
  try {
    return statSync(dir).size;
  } catch {
    return -1;
  }
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}
