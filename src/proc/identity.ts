/**
 * The one fd identity every driver and attribution use: pid, fd number and
 * the object the fd refers to, told apart by device, inode and birth time
 * where the filesystem keeps one.
 * - pipes and sockets: the inode in the link target (`pipe:[1234]`), which
 *   is the inode stat would give on pipefs/sockfs;
 * - files, directories, devices: device:inode, and the birth time where the
 *   filesystem keeps one (stat of /proc/PID/fd/N follows the link to the open
 *   object, so a file replaced under the same path is a different object, and
 *   so is a new file that got a recycled inode: ext4 hands a freed inode to
 *   the next file at once); the path is kept for views but is not part of the
 *   key, since a rename or delete changes it;
 * - anon inodes: every eventfd, signalfd, epoll... shares one anon inode, so
 *   the inode says little. With `eventfdIds`, eventfds are told apart by the
 *   unique `eventfd-id` of their fdinfo where the kernel gives one; with
 *   `statAll`, the stat inode joins the object (a pidfs pidfd has its own).
 *   Otherwise the identity is (pid, fd, kind): the same fd number closed and
 *   reopened as the same kind between two readings looks like one fd
 *   (documented limit).
 */
import { classifyTarget, eventfdId, type FdKind } from './fd-kinds.js';
import type { FdEntry } from '../fdprobe/probe.js';
import { procfsView } from './procfs-view.js';
import type { ProcessView } from './view.js';

/** One fd and what it refers to. */
export interface FdIdentity {
  /** The process holding it. */
  pid: number;
  /** That process's start time (clock ticks after boot, /proc/PID/stat field 22) where the caller read it: a later process that reuses the pid is another holder. */
  start?: number;
  /** Its number. */
  fd: number;
  /** Its kind (the fd-kind table). */
  kind: FdKind;
  /** The object: `pipe:[ino]`, `socket:[ino]`, `/path@dev:ino[:birthNs]`, `anon_inode:[eventfd]#id`, `anon_inode:[signalfd][@ino]`. */
  object: string;
  /** Inode of the object from stat through the link, where it was read (`statAll`, files); null when it closed before the stat. */
  inode?: number | null;
}

/** The process holding an fd across readings: its pid, and its start time where known (pids wrap and are reused: pid_max is 32768 on this machine class, and a full test run wraps it). */
export function holderKey(id: Pick<FdIdentity, 'pid' | 'start'>): string {
  return id.start === undefined ? String(id.pid) : `${id.pid}@${id.start}`;
}

/**
 * The key two readings compare: the holder (pid and start time), fd number and object. A file is the same object under another
 * name: a rotation renames it (`app.log` → `app.log.1`), a delete adds ` (deleted)` to its link, and the
 * fd is still the one opened before. So a file's key is its device, inode and birth time, never its path.
 */
export function identityKey(id: Pick<FdIdentity, 'pid' | 'start' | 'fd' | 'object'>): string {
  const at = id.object.startsWith('/') ? id.object.lastIndexOf('@') : -1;
  return `${holderKey(id)}:${id.fd}:${at >= 0 ? `file${id.object.slice(at)}` : id.object}`;
}

/** What to read beyond the listing. */
export interface IdentityOptions {
  /** Where the listing was read (`/proc/PID/fd`, or a thread's fd directory when the leader has exited). */
  fdDir?: string;
  /** Where to read (default /proc). */
  view?: ProcessView;
  /** Read each eventfd's fdinfo for its unique id (the tree's survivors: default true). */
  eventfdIds?: boolean;
  /** Stat every fd, not only paths, and keep its inode (the rounds: default false). */
  statAll?: boolean;
  /** The process's start time, kept on every identity (see FdIdentity.start). */
  start?: number;
}

/**
 * Identities from a listing already made (FdEntry: fd, kind, target): pipes
 * and sockets cost nothing more, files one stat, eventfds one fdinfo read
 * (`statAll`: every fd one stat). A fd closed meanwhile keeps its target as the object.
 */
export function identitiesOf(pid: number, entries: readonly FdEntry[], options: IdentityOptions = {}): FdIdentity[] {
  const view = options.view ?? procfsView();
  const dir = options.fdDir ?? `${view.root}/${pid}/fd`;
  return entries.map((e) => identityOf(view, pid, dir, e, options));
}

function identityOf(view: ProcessView, pid: number, dir: string, e: FdEntry, options: IdentityOptions): FdIdentity {
  const { target } = e;
  const id: FdIdentity = { pid, ...(options.start === undefined ? {} : { start: options.start }), fd: e.fd, kind: e.kind, object: target };
  const stat = target.startsWith('/') || options.statAll ? view.fdStat(dir, e.fd) : undefined;
  if (options.statAll) id.inode = stat ? Number(stat.ino) : null;
  if (target.startsWith('anon_inode:')) {
    const serial = target === 'anon_inode:[eventfd]' && options.eventfdIds !== false ? eventfdIdOf(view, dir, e.fd) : undefined;
    if (serial) id.object = `${target}#${serial}`;
    else if (options.statAll && stat) id.object = `${target}@${stat.ino}`;
  } else if (target.startsWith('/') && stat) {
    // Inode numbers are recycled (ext4 hands a freed one to the next file): the birth time tells them apart where the filesystem has one.
    id.object = stat.birthNs > 0n ? `${target}@${stat.dev}:${stat.ino}:${stat.birthNs}` : `${target}@${stat.dev}:${stat.ino}`;
  } else if (options.statAll && stat && !target.startsWith('pipe:') && !target.startsWith('socket:')) {
    id.object = `${target}@${stat.ino}`;
  }
  return id;
}

function eventfdIdOf(view: ProcessView, dir: string, fd: number): string | undefined {
  const info = view.fdinfo(dir, fd);
  return info === undefined ? undefined : eventfdId(info);
}

/** Reads the identities of every fd of one process (readdir + readlink + the extra reads above): for tests and one-off use. */
export function readIdentities(pid: number, options: IdentityOptions = {}): FdIdentity[] {
  const view = options.view ?? procfsView();
  const dir = options.fdDir ?? `${view.root}/${pid}/fd`;
  const entries: FdEntry[] = [];
  for (const fd of view.fdNumbers(dir) ?? []) {
    // Closed between readdir and readlink: not open any more.
    const target = view.fdTarget(dir, fd);
    if (target !== undefined) entries.push({ fd, kind: classifyTarget(target), target });
  }
  entries.sort((a, b) => a.fd - b.fd);
  return identitiesOf(pid, entries, { ...options, view, fdDir: dir });
}
