/**
 * What the rounds driver reads from /proc beyond the probe: whether a process
 * has stopped itself (a held phase marker), which fds are the same fds from
 * one snapshot to the next (the one fd identity), and what an io_uring
 * instance still has queued (`/proc/PID/fdinfo/<ring fd>`).
 */
import { countKinds, type KindCounts } from '../../fdprobe/kinds.js';
import type { FdEntry } from '../../fdprobe/probe.js';
import { parseRingFdinfo, type RingPending } from '../../proc/fd-kinds.js';
import { identitiesOf, identityKey } from '../../proc/identity.js';
import { procfsView } from '../../proc/procfs-view.js';
import type { ProcessView } from '../../proc/view.js';

export { parseRingFdinfo, type RingPending } from '../../proc/fd-kinds.js';

/** One open fd as a round event lists it (the document's shape: number, kind, inode). */
export interface RoundFd {
  fd: number;
  kind: FdEntry['kind'];
  /** Inode of what the fd refers to (the file, socket, pipe or anon inode); null when it closed before the stat. */
  inode: number | null;
}
/** The rounds driver's name for `RoundFd`. */
export type FdIdentity = RoundFd;

/**
 * The identities of a listing, keyed by the one fd identity (src/proc/identity.ts: pid, fd, device,
 * inode, birth time; one stat of /proc/PID/fd/N per fd), so a reused fd number on another object is
 * another identity; the values are what the round event lists.
 */
export function identities(pid: number, fds: readonly FdEntry[], view: ProcessView = procfsView()): Map<string, RoundFd> {
  const out = new Map<string, RoundFd>();
  for (const id of identitiesOf(pid, fds, { view, statAll: true, eventfdIds: false })) out.set(identityKey(id), { fd: id.fd, kind: id.kind, inode: id.inode ?? null });
  return out;
}

/** Identities in `now` that are not in `before`. */
export function added(before: ReadonlyMap<string, RoundFd>, now: ReadonlyMap<string, RoundFd>): RoundFd[] {
  return [...now].filter(([key]) => !before.has(key)).map(([, id]) => id);
}

export function kindsOf(ids: readonly RoundFd[]): KindCounts {
  return countKinds(ids.map((i) => i.kind));
}

/** The state letter of /proc/PID/stat (`R`, `S`, `T` stopped, `Z`…); null when the process is gone. */
export function processState(pid: number, view: ProcessView = procfsView()): string | null {
  return view.stat(pid)?.state || null;
}

/** What the io_uring at `ringFd` still has queued (the fd-kind table reads its fdinfo); null when gone or not a ring. */
export function readRingPending(pid: number, ringFd: number, view: ProcessView = procfsView()): RingPending | null {
  const text = view.fdinfo(`${view.root}/${pid}/fd`, ringFd);
  return text === undefined ? null : parseRingFdinfo(text);
}
