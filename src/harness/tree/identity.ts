/**
 * fd identity, and the leak judged by the fds that survive.
 *
 * Every fd gets an identity: pid, fd number and the object it refers to.
 * - pipes and sockets: the inode in the link target (`pipe:[1234]`);
 * - files, directories, devices: device:inode, and the birth time where the
 *   filesystem keeps one (stat of /proc/PID/fd/N follows the link to the open
 *   object, so a file replaced under the same path is a different object, and
 *   so is a new file that got a recycled inode); the path is kept for views
 *   but is not part of the key, since a rename or delete changes it;
 * - anon inodes: every eventfd, signalfd, epoll... shares one anon inode, so
 *   the inode says nothing; eventfds carry a unique `eventfd-id` in
 *   /proc/PID/fdinfo/N, which is used where present. For the others the
 *   identity is (pid, fd, kind): the same fd number closed and reopened as the
 *   same kind between two samples looks like one fd (documented limit).
 *
 * An fd "opened in reload k" is one first seen in the sample after signal k
 * (or seen again after being absent from the sample before: the same
 * identity closed and opened again is a new fd); a survivor is one still
 * open in the last sample. `survivors()` is pure.
 */
import { readdirSync, readFileSync, readlinkSync, statSync } from 'node:fs';
import { classifyTarget, countKinds, type FdKind, type KindCounts } from '../../fdprobe/kinds.js';
import type { FdEntry } from '../../fdprobe/probe.js';
import { PROC_ROOT } from './proc-stat.js';

/** One fd and what it refers to. */
export interface FdIdentity {
  pid: number;
  fd: number;
  kind: FdKind;
  /** The object: `pipe:[ino]`, `socket:[ino]`, `/path@dev:ino`, `anon_inode:[eventfd]#id`, `anon_inode:[signalfd]`. */
  object: string;
}

/**
 * The key two samples compare: pid, fd number and object. A file is the same object under another
 * name: a rotation renames it (`app.log` → `app.log.1`), a delete adds ` (deleted)` to its link, and the
 * fd is still the one opened before. So a file's key is its device, inode and birth time, never its path.
 */
export function identityKey(id: Pick<FdIdentity, 'pid' | 'fd' | 'object'>): string {
  const at = id.object.startsWith('/') ? id.object.lastIndexOf('@') : -1;
  return `${id.pid}:${id.fd}:${at >= 0 ? `file${id.object.slice(at)}` : id.object}`;
}

/**
 * Identities from a listing the probe already made (FdEntry: fd, kind,
 * target): pipes and sockets cost nothing more, files one stat, eventfds
 * one fdinfo read. `fdDir` is where the listing was read (`/proc/PID/fd`, or
 * a thread's fd directory when the leader has exited). A fd closed meanwhile
 * keeps its target as the object.
 */
export function identitiesOf(pid: number, entries: readonly FdEntry[], fdDir = `${PROC_ROOT}/${pid}/fd`): FdIdentity[] {
  return entries.map((e) => ({ pid, fd: e.fd, kind: e.kind, object: objectOf(e.target, `${fdDir}/${e.fd}`, fdDir.replace(/\/fd$/, `/fdinfo/${e.fd}`)) }));
}

/** The object an fd refers to, from its link target, and stat / fdinfo where the target is not enough. */
export function objectOf(target: string, fdPath: string, fdinfoPath: string): string {
  if (target.startsWith('pipe:') || target.startsWith('socket:')) return target;
  if (target.startsWith('anon_inode:')) {
    if (target === 'anon_inode:[eventfd]') {
      try {
        const id = /^eventfd-id:\s*(\d+)/m.exec(readFileSync(fdinfoPath, 'utf8'))?.[1];
        if (id) return `${target}#${id}`;
      } catch {
        // closed meanwhile
      }
    }
    return target;
  }
  if (target.startsWith('/')) {
    try {
      const st = statSync(fdPath, { bigint: true });
      // Inode numbers are recycled (ext4 hands a freed one to the next file): the birth time tells them apart where the filesystem has one.
      return st.birthtimeNs > 0n ? `${target}@${st.dev}:${st.ino}:${st.birthtimeNs}` : `${target}@${st.dev}:${st.ino}`;
    } catch {
      return target;
    }
  }
  return target;
}

/** Reads the identities of every fd of one process (readlink + the extra reads above): for tests and one-off use. */
export function readIdentities(pid: number, fdDir = `${PROC_ROOT}/${pid}/fd`): FdIdentity[] {
  const entries: FdEntry[] = [];
  for (const name of readdirSync(fdDir)) {
    try {
      const target = readlinkSync(`${fdDir}/${name}`);
      entries.push({ fd: Number(name), kind: classifyTarget(target), target });
    } catch {
      // closed between readdir and readlink
    }
  }
  entries.sort((a, b) => a.fd - b.fd);
  return identitiesOf(pid, entries, fdDir);
}

/**
 * Where each identity was first seen: feed it every full sample in order
 * (reload 0 = the baseline), none skipped. An identity absent from the
 * previous sample and present again counts as opened anew (an fd number and
 * object recycled after a close). Memory: one entry per distinct identity
 * ever seen (a service that churns a new temp file per sample adds one per sample).
 */
export class FirstSeen {
  /** The current incarnation of each identity. */
  readonly #first = new Map<string, Incarnation>();
  /** Earlier incarnations (closed, then the same identity seen again). */
  readonly #earlier: Incarnation[] = [];
  #lastReload: number | undefined;

  /** Records the identities of the sample taken after signal `reload` (0: before any). */
  observe(reload: number, identities: Iterable<FdIdentity>): void {
    const previous = this.#lastReload;
    for (const id of identities) {
      const key = identityKey(id);
      const known = this.#first.get(key);
      if (!known) this.#first.set(key, { reload, id, lastSeen: reload, current: true });
      else {
        if (previous !== undefined && known.lastSeen < previous) {
          this.#earlier.push({ ...known, current: false });
          known.reload = reload;
          known.id = id;
        }
        known.lastSeen = reload;
      }
    }
    this.#lastReload = reload;
  }

  /** Reload at which the current incarnation of `id` was first seen, or undefined. */
  reloadOf(id: FdIdentity): number | undefined {
    return this.#first.get(identityKey(id))?.reload;
  }

  /** Every incarnation first seen at `reload`. */
  openedAt(reload: number): Incarnation[] {
    return this.byReload().get(reload) ?? [];
  }

  /** Incarnations grouped by the reload they were first seen at (one pass). */
  byReload(): Map<number, Incarnation[]> {
    const out = new Map<number, Incarnation[]>();
    for (const inc of [...this.#earlier, ...this.#first.values()]) {
      let list = out.get(inc.reload);
      if (!list) out.set(inc.reload, (list = []));
      list.push(inc);
    }
    return out;
  }

  get size(): number {
    return this.#first.size + this.#earlier.length;
  }
}

/** One life of an identity: from the sample it was first seen in; `current` when it is the latest one. */
export interface Incarnation {
  reload: number;
  id: FdIdentity;
  lastSeen: number;
  current: boolean;
}

/** One reload's line of the survivors table: "reload 3: +2 pipe, still open". */
export interface ReloadSurvivors {
  reload: number;
  /** fds first seen in the sample after this reload. */
  opened: number;
  /** Of those, still open in the last sample. */
  survived: number;
  /** Kinds of the survivors. */
  survivedKinds: KindCounts;
  /** Whether this reload is in the counted part (had time to be cleaned up). */
  counted: boolean;
}

/** Survivors of one process over the counted reloads. */
export interface ProcessSurvivors {
  pid: number;
  survived: number;
  perReload: number;
  survivedKinds: KindCounts;
}

export interface SurvivorReport {
  /** Reloads 1..reloadsCounted are counted: the first `countedFraction` of the run, rounded down, at least 1. */
  reloadsCounted: number;
  /** Survivors first seen in a counted reload. */
  survivorsCounted: number;
  /** survivorsCounted / reloadsCounted: 0 for transient fds, churn and rotating caches; ≥ 1 for a real leak. */
  survivorsPerReload: number;
  /** Counted reloads with at least one survivor. */
  reloadsWithSurvivors: number;
  /** Kinds that survived (counted reloads). */
  survivedKinds: KindCounts;
  /** One line per reload 1..reloads, counted or not. */
  byReload: ReloadSurvivors[];
  /** Per process, only those with survivors, most first. */
  byProcess: ProcessSurvivors[];
}

/** The first three quarters of the reloads have had time to be cleaned up (a draining worker, a rotating cache). */
export const COUNTED_FRACTION = 0.75;

/**
 * The survivors of a run (pure). `firstSeen` holds every sample from the
 * baseline (reload 0) to the last; `last` is the last sample's identities
 * (after the final drain); `reloads` the number of reloads done.
 */
export function survivors(firstSeen: FirstSeen, last: Iterable<FdIdentity>, reloads: number, countedFraction = COUNTED_FRACTION): SurvivorReport {
  const reloadsCounted = reloads <= 0 ? 0 : Math.max(1, Math.floor(reloads * countedFraction));
  const open = new Set<string>();
  for (const id of last) open.add(identityKey(id));
  const byReload: ReloadSurvivors[] = [];
  const byPid = new Map<number, FdIdentity[]>();
  const countedKinds: FdKind[] = [];
  let survivorsCounted = 0;
  let reloadsWithSurvivors = 0;
  const grouped = firstSeen.byReload();
  for (let reload = 1; reload <= reloads; reload++) {
    const opened = grouped.get(reload) ?? [];
    const kept = opened.filter((inc) => inc.current && open.has(identityKey(inc.id))).map((inc) => inc.id);
    const counted = reload <= reloadsCounted;
    byReload.push({ reload, opened: opened.length, survived: kept.length, survivedKinds: countKinds(kept.map((k) => k.kind)), counted });
    if (!counted) continue;
    survivorsCounted += kept.length;
    if (kept.length > 0) reloadsWithSurvivors++;
    for (const id of kept) {
      countedKinds.push(id.kind);
      const list = byPid.get(id.pid) ?? [];
      list.push(id);
      byPid.set(id.pid, list);
    }
  }
  const byProcess = [...byPid.entries()]
    .map(([pid, ids]) => ({ pid, survived: ids.length, perReload: reloadsCounted ? ids.length / reloadsCounted : 0, survivedKinds: countKinds(ids.map((i) => i.kind)) }))
    .sort((a, b) => b.survived - a.survived || a.pid - b.pid);
  return {
    reloadsCounted,
    survivorsCounted,
    survivorsPerReload: reloadsCounted ? survivorsCounted / reloadsCounted : 0,
    reloadsWithSurvivors,
    survivedKinds: countKinds(countedKinds),
    byReload,
    byProcess,
  };
}

/** "reload 3: +2 pipe, still open" for one line of the table; "reload 3: nothing new still open" when none survived. */
export function survivorLine(line: ReloadSurvivors): string {
  if (line.survived === 0) return `reload ${line.reload}: nothing new still open${line.opened ? ` (${line.opened} opened, all closed)` : ''}`;
  const kinds = Object.entries(line.survivedKinds)
    .map(([kind, n]) => `+${n} ${kind}`)
    .join(', ');
  return `reload ${line.reload}: ${kinds}, still open`;
}
