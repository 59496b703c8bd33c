/**
 * Did a reload take effect? Under load threads are never idle, so "back
 * where it idled" cannot say a reload finished; the process world can:
 *
 * - a new generation: a process that was not there at the signal holds the
 *   listening socket, and every holder from before is gone except the
 *   ancestors of the new ones (nginx's or gunicorn's master stays, its old
 *   workers go);
 * - the listener re-created: the port's LISTEN socket is a new inode (the
 *   program closed it and listened again);
 * - a re-exec: a process keeps its pid but its argument block moved (a new
 *   image: `arg_start` in /proc/PID/stat, placed anew at every exec);
 * - a line appended to the `--log` file after the signal (lighttpd's USR1
 *   restart changes nothing else /proc shows; give the error log, not an
 *   access log, which grows with every request);
 * - an acknowledgement: the program's own protocol `reload` event, the k-th
 *   for reload k (a late one of the reload before is not this one's).
 *
 * And the program is ready for the next signal when the port is listened on
 * by the tree again and the signal's target has its handler back (a re-exec
 * that is still starting would be killed by the next HUP). Read straight
 * from /proc, as the listener owner is (harness/load/listener-owner.ts).
 */
import { readdirSync, readFileSync, readlinkSync, statSync } from 'node:fs';
import { listeningInodes } from '../load/listener-owner.js';
import { TreeWalker, type TreeOptions, type TreeProcess } from '../tree/tree.js';

/** The world at the signal, to compare with. */
export interface EffectBaseline {
  /** Live processes of the tree by pid. */
  processes: Map<number, TreeProcess>;
  /** The port's LISTEN socket inodes. */
  inodes: Set<string>;
  /** Pids of the tree holding one of them. */
  holders: Set<number>;
  /** Each process's `arg_start` (where its image put its arguments). */
  images: Map<number, string>;
  /** The reload signalled: its acknowledgement is the k-th (an earlier reload's late one is not this one's). */
  reload: number;
  /** The --log file's size and inode at the signal. */
  log?: { size: number; ino: number };
}

export interface EffectWorld {
  /** The watched tree's root (the keeper, or --pid). */
  rootPid: number;
  /** How the tree is walked (the root included or not, the tracer left out). */
  treeOptions: TreeOptions;
  /** The load's port on 127.0.0.1 (or ::1). */
  port: number;
  /** The load goes to ::1: its listeners are the IPv6 ones. */
  ipv6?: boolean;
  /** Protocol `reload` events the program sent so far. */
  acks: () => number;
  /** The --log file, when given: a line appended after the signal shows the reload. */
  logFile?: string;
}

/** The field of /proc/PID/stat after the command that holds `arg_start` (field 48; the state is field 3). */
const ARG_START_INDEX = 48 - 3;

function argStart(pid: number): string | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'latin1');
    const at = text.slice(text.lastIndexOf(')') + 2).split(' ')[ARG_START_INDEX];
    // 0: the process is exiting (its memory is gone), which is no new image.
    return at === '0' ? undefined : at;
  } catch {
    return undefined;
  }
}

/** Socket inodes among `pid`'s fds. */
function socketInodes(pid: number): Set<string> {
  const out = new Set<string>();
  let fds: string[];
  try {
    fds = readdirSync(`/proc/${pid}/fd`);
  } catch {
    return out;
  }
  for (const fd of fds) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (m) out.add(m[1] as string);
    } catch {
      // closed meanwhile
    }
  }
  return out;
}

/**
 * One polling walker per watched world: it skips the stat of pids it already found outside the tree (a full
 * scan every 50 walks), where a fresh walk read the stat of every process on the machine at every poll, and
 * on a busy machine that starved the load sharing repro's event loop.
 */
const walkers = new WeakMap<EffectWorld, TreeWalker>();

function live(world: EffectWorld): TreeProcess[] {
  let walker = walkers.get(world);
  if (!walker) walkers.set(world, (walker = new TreeWalker(world.rootPid, world.treeOptions)));
  return walker.walk().filter((p) => p.state !== 'Z' && p.state !== 'X');
}

/** How long the port's listening inodes read from the socket tables are trusted while the tree still holds one of them. */
const LISTENERS_FRESH_MS = 100;

/** The port's listening inodes last read from the socket tables, per world, and when. */
const tables = new WeakMap<EffectWorld, { inodes: Set<string>; atMs: number }>();

/**
 * The port's listening inodes: read from the socket tables at the signal (`fresh`), when the tree holds none
 * of those last read (a listener closed, maybe re-created), and at least every 100 ms; otherwise the last
 * reading. Printing a table walks every bucket of the kernel's established hash (about 1 ms here, more under
 * a load's TIME_WAIT sockets), and a poll every 10 ms that read it each time starved the load.
 */
function portInodes(world: EffectWorld, first: TreeProcess | undefined, treeSockets: ReadonlySet<string>, fresh: boolean): Set<string> {
  const cached = tables.get(world);
  const nowMs = performance.now();
  if (!fresh && cached && nowMs - cached.atMs < LISTENERS_FRESH_MS && [...cached.inodes].some((i) => treeSockets.has(i))) return cached.inodes;
  const inodes = first ? listeningInodes(first.pid, world.port, '/proc', world.ipv6 ? 'ipv6' : 'ipv4') : new Set<string>();
  tables.set(world, { inodes, atMs: nowMs });
  return inodes;
}

/** The tree's listening inodes for the port (read in the namespace of any live process of the tree) and who holds them. */
function listeners(world: EffectWorld, processes: readonly TreeProcess[], fresh = false): { inodes: Set<string>; holders: Set<number> } {
  const sockets = new Map(processes.map((p) => [p.pid, socketInodes(p.pid)]));
  const inodes = portInodes(world, processes[0], new Set([...sockets.values()].flatMap((s) => [...s])), fresh);
  const holders = new Set<number>();
  const held = new Set<string>();
  for (const [pid, mine] of sockets) {
    for (const inode of mine) {
      if (!inodes.has(inode)) continue;
      holders.add(pid);
      // Only inodes the tree holds are its listeners (another program may listen on the port in another address).
      held.add(inode);
    }
  }
  return { inodes: held, holders };
}

function logState(path: string | undefined): { size: number; ino: number } | undefined {
  if (path === undefined) return undefined;
  try {
    const st = statSync(path);
    return { size: st.size, ino: st.ino };
  } catch {
    return undefined;
  }
}

/** Reads the world at the signal. */
export function effectBaseline(world: EffectWorld, reload: number): EffectBaseline {
  const processes = live(world);
  const { inodes, holders } = listeners(world, processes, true);
  const images = new Map<number, string>();
  for (const p of processes) {
    const a = argStart(p.pid);
    if (a !== undefined) images.set(p.pid, a);
  }
  const log = logState(world.logFile);
  return { processes: new Map(processes.map((p) => [p.pid, p])), inodes, holders, images, reload, ...(log ? { log } : {}) };
}

/** True when `pid` is an ancestor of `child` in `byPid`. */
function isAncestor(pid: number, child: number, byPid: ReadonlyMap<number, TreeProcess>): boolean {
  let at = byPid.get(child)?.ppid;
  for (let hops = 0; at !== undefined && hops < 64; hops++) {
    if (at === pid) return true;
    at = byPid.get(at)?.ppid;
  }
  return false;
}

/** What shows, now, that the reload signalled at `before` took effect; undefined while nothing does. */
export function effectSeen(world: EffectWorld, before: EffectBaseline): string | undefined {
  if (world.acks() >= before.reload) return 'acknowledged by the program';
  const processes = live(world);
  const byPid = new Map(processes.map((p) => [p.pid, p]));
  const now = listeners(world, processes);
  for (const [pid, image] of before.images) {
    const a = byPid.has(pid) ? argStart(pid) : undefined;
    if (a !== undefined && a !== image) return `re-exec of pid ${pid} (a new image at the same pid)`;
  }
  const fresh = [...now.holders].filter((pid) => !before.processes.has(pid));
  if (fresh.length > 0) {
    const oldLeft = [...before.holders].filter((pid) => byPid.has(pid) && !fresh.some((f) => isAncestor(pid, f, byPid)));
    if (oldLeft.length === 0) {
      const replaced = processes.every((p) => !before.processes.has(p.pid));
      return replaced ? `the whole tree replaced (pid ${fresh[0]} holds the listener)` : `new worker generation (${fresh.length} new holding the listener, the old gone)`;
    }
  }
  const recreated = [...now.inodes].some((i) => !before.inodes.has(i));
  if (recreated && before.inodes.size > 0) return 'listener re-created (a new socket on the port)';
  const log = logState(world.logFile);
  if (log && (!before.log || log.ino !== before.log.ino || log.size > before.log.size)) return `a line in ${world.logFile} after the signal`;
  return undefined;
}

/** The port is listened on by the tree again: the program can take requests (and the next signal's effect can be seen). */
export function listening(world: EffectWorld): boolean {
  return listeners(world, live(world)).holders.size > 0;
}
