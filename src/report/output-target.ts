/**
 * What an output path really names, decided before anything is written: the
 * same answer is used to check the path before a run and to write after it.
 * A regular file (or a new path) is replaced atomically; a symlink is followed
 * to the file it names; character devices, FIFOs, sockets and fds repro holds
 * (`/dev/stdout`, `/dev/fd/N`, process substitution) are written straight
 * through. Nothing that is not a regular file is ever replaced.
 */
import { fstatSync, lstatSync, readdirSync, readFileSync, readlinkSync, realpathSync, statSync, type Stats } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import { EnvironmentError, UsageError } from '../errors.js';

export type OutputTarget =
  /** `-`, or a path naming repro's own fd 1 (`/dev/stdout`, `/dev/fd/1`). */
  | { kind: 'stdout' }
  /** Another fd repro holds (`/dev/fd/63` from `>(wc -c)`, `/dev/stderr`): written to that fd. */
  | { kind: 'fd'; fd: number; stats: Stats }
  /** A regular file (links followed to `path`) or a new one: replaced atomically. `existing` is undefined for a new file. */
  | { kind: 'file'; path: string; existing?: Stats }
  /** A character device or FIFO: opened for writing and written straight through. */
  | { kind: 'device'; path: string; what: 'character device' | 'FIFO'; stats: Stats }
  /** A Unix socket on disk: connected to and written straight through. */
  | { kind: 'socket'; path: string; stats: Stats };

const MAX_LINKS = 40;

/** The fd a path names when it is one of this process's own (`/dev/fd/N`, `/proc/self/fd/N`, `/dev/stdout`), by its spelling. */
export function ownFdOf(path: string): number | undefined {
  const std = /^\/dev\/(stdin|stdout|stderr)$/.exec(path);
  if (std) return ['stdin', 'stdout', 'stderr'].indexOf(std[1] as string);
  const fd = /^\/dev\/fd\/(\d+)$/.exec(path) ?? /^\/proc\/(?:self|thread-self|(\d+)(?:\/task\/\d+)?)\/fd\/(\d+)$/.exec(path);
  if (!fd) return undefined;
  if (fd.length === 2) return Number(fd[1]);
  if (fd[1] !== undefined && Number(fd[1]) !== process.pid) return undefined;
  return Number(fd[2]);
}

function code(error: unknown): string | undefined {
  return (error as NodeJS.ErrnoException | undefined)?.code;
}

function lstatOrUndefined(path: string): Stats | undefined {
  try {
    return lstatSync(path);
  } catch (error) {
    if (code(error) === 'ENOENT') return undefined;
    throw error;
  }
}

function statOrUndefined(path: string): Stats | undefined {
  try {
    return statSync(path);
  } catch {
    return undefined;
  }
}

function usage(flag: string, path: string, problem: string, fix: string): UsageError {
  return new UsageError(`${flag} ${path}: ${problem}; ${fix}`);
}

/**
 * Why fd `fd` is repro's own and not one it was given to write to: an anon_inode
 * (epoll, eventfd) or a pipe whose read end repro holds too (libuv's self-pipes).
 * Writing there would corrupt the event loop or block forever. Undefined when it is fine.
 */
function internalFd(fd: number): string | undefined {
  let target: string;
  try {
    target = readlinkSync(`/proc/self/fd/${fd}`);
  } catch {
    return undefined; // no procfs: nothing to tell
  }
  if (target.startsWith('anon_inode:')) return `fd ${fd} is repro's own ${target.slice('anon_inode:'.length)}`;
  if (!target.startsWith('pipe:')) return undefined;
  for (const other of readdirSync('/proc/self/fd')) {
    try {
      if (readlinkSync(`/proc/self/fd/${other}`) === target && openForReadingOnly(Number(other))) return `fd ${fd} is a pipe whose reader is repro itself`;
    } catch {
      // closed meanwhile (the directory's own fd among them)
    }
  }
  return undefined;
}

/** O_RDONLY in /proc/self/fdinfo/N: the read end of a pipe. */
function openForReadingOnly(fd: number): boolean {
  const flags = /^flags:\s+([0-7]+)$/m.exec(readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8'))?.[1];
  return flags !== undefined && (Number.parseInt(flags, 8) & 3) === 0;
}

function fdTarget(fd: number, flag: string, path: string): OutputTarget {
  if (fd === 1) return { kind: 'stdout' };
  let stats: Stats;
  try {
    stats = fstatSync(fd);
  } catch {
    throw usage(flag, path, `fd ${fd} is not open in repro`, 'open it for repro (e.g. 3>file) or give a file path');
  }
  const internal = internalFd(fd);
  if (internal) throw usage(flag, path, internal, 'give a file path, or an fd the shell opened for repro (e.g. 3>file)');
  return { kind: 'fd', fd, stats };
}

/**
 * Resolves an output path to what will be written. Throws a UsageError (exit 2)
 * for a path that can never be a report (empty, a block device, a parent that is
 * not a directory, a loop of links) and an EnvironmentError (exit 3) for one this
 * machine cannot write to now (a directory, a missing directory).
 */
export function resolveOutput(path: string, flag: string): OutputTarget {
  if (path === '-') return { kind: 'stdout' };
  if (path === '') throw new UsageError(`${flag} needs a file path, got an empty one; give a file name, or - for stdout`);
  let current = resolve(path);
  for (let hop = 0; ; hop++) {
    const fd = ownFdOf(current);
    if (fd !== undefined) return fdTarget(fd, flag, path);
    let link: Stats | undefined;
    try {
      link = lstatOrUndefined(current);
    } catch (error) {
      if (code(error) === 'ENOTDIR') throw usage(flag, path, `${dirname(current)} is not a directory`, 'pick a path inside a directory');
      if (code(error) === 'ELOOP') throw usage(flag, path, 'too many levels of symbolic links', 'point it at a file');
      throw new EnvironmentError(`${flag} ${path}: cannot write (${code(error) ?? String(error)}); pick a path in an existing, writable directory`, { cause: error });
    }
    if (link === undefined) return newFile(current, flag, path);
    if (link.isSymbolicLink()) {
      if (hop >= MAX_LINKS) throw usage(flag, path, 'too many levels of symbolic links', 'point it at a file');
      refusePlantedLink(current, link, flag, path);
      const next = readlinkSync(current);
      if (/^[a-z_]+:\[/.test(next)) {
        // A /proc magic link to a pipe or socket of another process (pipe:[…]): readlink names no path,
        // but opening the link reaches it, so write through the link.
        const followed = statOrUndefined(current);
        if (followed && !followed.isFile() && !followed.isDirectory()) return existing(current, followed, flag, path);
      }
      current = resolve(dirname(current), next);
      continue;
    }
    return existing(current, link, flag, path);
  }
}

const S_ISVTX = 0o1000;
const S_IWOTH = 0o002;

/**
 * The kernel's fs.protected_symlinks rule, applied whatever the sysctl says
 * (repro follows links itself, with lstat and readlink, so the kernel's check
 * never runs): in a sticky world-writable directory such as /tmp, a link is
 * followed only when its owner is the follower or the directory's owner.
 * Anyone can plant `report.json -> /root-only/file` there; following it as
 * root would create a root-owned file where only root may write.
 */
function refusePlantedLink(linkPath: string, link: Stats, flag: string, path: string): void {
  const euid = process.geteuid?.();
  if (euid === undefined || link.uid === euid) return;
  const dir = statOrUndefined(dirname(linkPath));
  if (!dir || (dir.mode & S_ISVTX) === 0 || (dir.mode & S_IWOTH) === 0 || link.uid === dir.uid) return;
  throw new EnvironmentError(
    `${flag} ${path}: not following the link ${linkPath}: it belongs to uid ${link.uid}, in ${dirname(linkPath)}, a sticky world-writable directory (another user may have planted it, as fs.protected_symlinks refuses); remove the link or pick a path in a directory of your own`,
  );
}

function newFile(target: string, flag: string, path: string): OutputTarget {
  // The nearest ancestor that exists decides: the parent itself (a directory: fine), a file
  // somewhere up the path (no directory can ever be there: usage), or a directory further up (missing: environment).
  for (let up = dirname(target); ; up = dirname(up)) {
    const s = statOrUndefined(up);
    if (s && !s.isDirectory()) throw usage(flag, path, `${up} is not a directory`, 'pick a path inside a directory');
    if (s && up === dirname(target)) return { kind: 'file', path: target };
    if (s || up === dirname(up)) break;
  }
  throw new EnvironmentError(`${flag} ${path}: cannot write (its directory does not exist); pick a path in an existing, writable directory`);
}

function existing(target: string, stats: Stats, flag: string, path: string): OutputTarget {
  if (stats.isFile()) return { kind: 'file', path: target, existing: stats };
  if (stats.isDirectory()) throw new EnvironmentError(`${flag} ${path}: cannot write (it is a directory); pick a path in an existing, writable directory`);
  if (stats.isCharacterDevice()) return { kind: 'device', path: target, what: 'character device', stats };
  if (stats.isFIFO()) return { kind: 'device', path: target, what: 'FIFO', stats };
  if (stats.isSocket()) return { kind: 'socket', path: target, stats };
  throw usage(flag, path, 'is a block device, which repro never writes to', 'give a file, a FIFO, a character device or - for stdout');
}

function realParent(path: string): string {
  try {
    return realpathSync.native(dirname(path));
  } catch {
    return resolve(dirname(path));
  }
}

/**
 * Two outputs with the same identity would write one file twice, the second
 * overwriting the first. Character devices (`/dev/null` twice) may be shared.
 */
export function targetIdentity(target: OutputTarget): string | undefined {
  switch (target.kind) {
    case 'stdout':
      return 'stdout';
    case 'fd':
    case 'socket':
      return `${target.stats.dev}:${target.stats.ino}`;
    case 'device':
      return target.what === 'FIFO' ? `${target.stats.dev}:${target.stats.ino}` : undefined;
    case 'file':
      return target.existing ? `${target.existing.dev}:${target.existing.ino}` : `new:${realParent(target.path)}/${basename(target.path)}`;
  }
}
