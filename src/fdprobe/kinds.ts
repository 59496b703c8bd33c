/** What an fd refers to, from its /proc link target or lsof's type column. */

export const FD_KINDS = [
  'pipe',
  'socket',
  'unix',
  'tcp',
  'udp',
  'signalfd',
  'eventfd',
  'eventpoll',
  'inotify',
  'timerfd',
  'pidfd',
  'io_uring',
  'file',
  'directory',
  'device',
  'deleted',
  'other',
] as const;
export type FdKind = (typeof FD_KINDS)[number];

const ANON_INODES: Record<string, FdKind> = {
  signalfd: 'signalfd',
  eventfd: 'eventfd',
  eventpoll: 'eventpoll',
  inotify: 'inotify',
  timerfd: 'timerfd',
  pidfd: 'pidfd',
  io_uring: 'io_uring',
  '[signalfd]': 'signalfd',
  '[eventfd]': 'eventfd',
  '[eventpoll]': 'eventpoll',
  '[timerfd]': 'timerfd',
  '[pidfd]': 'pidfd',
  '[io_uring]': 'io_uring',
};

/**
 * Classifies a /proc/<pid>/fd link target. Sockets come back as `socket`
 * here; the procfs probe refines them to unix/tcp/udp from /proc/net when
 * asked. Paths are `file` unless they live in /dev or were deleted; telling a
 * directory apart needs a stat, which the caller does.
 */
export function classifyTarget(target: string): FdKind {
  if (target.startsWith('pipe:')) return 'pipe';
  if (target.startsWith('socket:')) return 'socket';
  if (target.startsWith('anon_inode:')) return ANON_INODES[target.slice('anon_inode:'.length)] ?? 'other';
  if (target.startsWith('/')) {
    if (target.endsWith(' (deleted)')) return 'deleted';
    if (target.startsWith('/dev/')) return 'device';
    return 'file';
  }
  return 'other';
}

/** Counts per kind, leaving out kinds with none. */
export type KindCounts = Partial<Record<FdKind, number>>;

export function countKinds(kinds: Iterable<FdKind>): KindCounts {
  const counts: KindCounts = {};
  for (const kind of kinds) counts[kind] = (counts[kind] ?? 0) + 1;
  return counts;
}
