/**
 * What the rounds driver reads from /proc beyond the probe: whether a process
 * has stopped itself (a held phase marker), which fds are the same fds from
 * one snapshot to the next (fd number, kind and inode), and what an io_uring
 * instance still has queued (`/proc/PID/fdinfo/<ring fd>`).
 */
import { readFileSync, statSync } from 'node:fs';
import { countKinds, type KindCounts } from '../../fdprobe/kinds.js';
import type { FdEntry } from '../../fdprobe/probe.js';

/** One open fd, identified so that the same fd is never counted twice. */
export interface FdIdentity {
  fd: number;
  kind: FdEntry['kind'];
  /** Inode of what the fd refers to (the file, socket, pipe or anon inode); null when it closed before the stat. */
  inode: number | null;
}

/** `fd:kind:inode`: a reused fd number on another object is another identity. */
export const identityKey = (f: FdIdentity): string => `${f.fd}:${f.kind}:${f.inode ?? '?'}`;

/** The identities of a listing: one stat of /proc/PID/fd/N per fd. */
export function identities(pid: number, fds: readonly FdEntry[]): Map<string, FdIdentity> {
  const out = new Map<string, FdIdentity>();
  for (const { fd, kind } of fds) {
    let inode: number | null = null;
    try {
      inode = statSync(`/proc/${pid}/fd/${fd}`).ino;
    } catch {
      // closed since the listing
    }
    const id = { fd, kind, inode };
    out.set(identityKey(id), id);
  }
  return out;
}

/** Identities in `now` that are not in `before`. */
export function added(before: ReadonlyMap<string, FdIdentity>, now: ReadonlyMap<string, FdIdentity>): FdIdentity[] {
  return [...now].filter(([key]) => !before.has(key)).map(([, id]) => id);
}

export function kindsOf(ids: readonly FdIdentity[]): KindCounts {
  return countKinds(ids.map((i) => i.kind));
}

/** The state letter of /proc/PID/stat (`R`, `S`, `T` stopped, `Z`…); null when the process is gone. */
export function processState(pid: number): string | null {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return null;
  }
  // The command name may hold spaces and parentheses: the state follows the last ')'.
  return text.slice(text.lastIndexOf(')') + 2, text.lastIndexOf(')') + 3) || null;
}

/** What an io_uring fd's fdinfo says is queued and not yet consumed by the kernel. */
export interface RingPending {
  /** `SQEs:` the SQ tail minus the SQ head: entries the application published and the kernel has not consumed. */
  sqes: number;
  /** The fd each pending IORING_OP_CLOSE entry would close. */
  closeFds: number[];
}

/** Parses /proc/PID/fdinfo/<ring fd> (Linux ≥ 5.6 lists each pending SQE with its opcode and fd); null when it is not an io_uring. */
export function parseRingFdinfo(text: string): RingPending | null {
  const sqes = /^SQEs:\s*(\d+)/m.exec(text);
  if (!sqes) return null;
  const closeFds = [...text.matchAll(/^\s*\d+: opcode:CLOSE, fd:(-?\d+)/gm)].map((m) => Number(m[1]));
  return { sqes: Number(sqes[1]), closeFds };
}

export function readRingPending(pid: number, ringFd: number): RingPending | null {
  try {
    return parseRingFdinfo(readFileSync(`/proc/${pid}/fdinfo/${ringFd}`, 'utf8'));
  } catch {
    return null;
  }
}
