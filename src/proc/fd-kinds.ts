/**
 * What repro knows about each fd kind, in one table (as lsfd keeps its class
 * table): how a /proc/PID/fd link target (or lsof's type column) names the
 * kind, and what the kind's /proc/PID/fdinfo/N says beyond pos and flags
 * (a signalfd's mask, an eventfd's count and id, an inotify's watches, an
 * epoll's targets, a timerfd's clock, a pidfd's process, an io_uring's queued
 * SQEs and pending CLOSEs). The fd probe classifies with it, attribution
 * describes with it, the rounds driver reads rings with it, fd identity reads
 * eventfd ids with it. Pure: no I/O.
 */

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

/** What an io_uring fd's fdinfo says is queued and not yet consumed by the kernel. */
export interface RingPending {
  /** `SQEs:` the SQ tail minus the SQ head: entries the application published and the kernel has not consumed. */
  sqes: number;
  /** The fd each pending IORING_OP_CLOSE entry would close. */
  closeFds: number[];
}

/** One kind's entry in the table. */
export interface FdKindClass {
  /** The kind it names. */
  kind: FdKind;
  /** Link-target prefix that names the kind (`pipe:`), for kinds not behind an anon inode or a path. */
  prefix?: string;
  /** Names after `anon_inode:` (with and without brackets: kernels and lsof differ) that name the kind. */
  anonNames?: readonly string[];
  /** Does an fdinfo text belong to this kind? Entries are asked in table order. */
  fdinfoIs?: (text: string) => boolean;
  /** One line about the fd from its fdinfo text; undefined when fdinfo says nothing worth showing. */
  describe?: (text: string) => string | undefined;
}

/** Signal number → name, filled by the caller that has node:os (kept out of here so the table stays pure and cheap). */
export type SignalNamer = (signo: number) => string;

/** Signal names in a hex mask (bit n−1 is signal n). */
export function signalsInMask(hex: string, nameOf: SignalNamer): string[] {
  let mask = BigInt(`0x${hex}`);
  const out: string[] = [];
  for (let n = 1; mask > 0n; n++, mask >>= 1n) if (mask & 1n) out.push(nameOf(n));
  return out;
}

/** A signalfd's mask (fdinfo `sigmask:`) as a bigint; undefined when the text is not a signalfd's. */
export function signalfdMask(text: string): bigint | undefined {
  const hex = /^sigmask:\s*([0-9a-f]+)/m.exec(text)?.[1];
  return hex === undefined ? undefined : BigInt(`0x${hex}`);
}

/** An eventfd's unique id (fdinfo `eventfd-id:`, Linux ≥ 6.0); undefined on older kernels or other kinds. */
export function eventfdId(text: string): string | undefined {
  return /^eventfd-id:\s*(\d+)/m.exec(text)?.[1] || undefined;
}

/** An inotify's watches: inode and device of each (hex, as fdinfo prints them). */
export function inotifyWatches(text: string): { ino: string; sdev: string }[] {
  return [...text.matchAll(/^inotify wd:(\S+) ino:(\S+) sdev:(\S+) mask:(\S+)/gm)].map((w) => ({ ino: w[2] as string, sdev: w[3] as string }));
}

/** The fds an epoll instance watches (fdinfo `tfd:` lines). */
export function epollTargets(text: string): string[] {
  return [...text.matchAll(/^tfd:\s*(\d+)/gm)].map((m) => m[1] as string);
}

/** Parses an io_uring's fdinfo (Linux ≥ 5.6 lists each pending SQE with its opcode and fd); null when it is not an io_uring's. */
export function parseRingFdinfo(text: string): RingPending | null {
  const sqes = /^SQEs:\s*(\d+)/m.exec(text);
  if (!sqes) return null;
  const closeFds = [...text.matchAll(/^\s*\d+: opcode:CLOSE, fd:(-?\d+)/gm)].map((m) => Number(m[1]));
  return { sqes: Number(sqes[1]), closeFds };
}

let signalNamer: SignalNamer = (n) => `signal ${n}`;
/** Sets how signal numbers are named in descriptions (attribution passes node:os's table). */
export function nameSignalsWith(namer: SignalNamer): void {
  signalNamer = namer;
}

const plural = (n: number, one: string, many = `${one}s`) => (n === 1 ? one : many);

/**
 * The table. Order matters twice: classification takes the first entry whose
 * prefix or anon name matches, and fdinfo is described by the first entry
 * whose `fdinfoIs` holds.
 */
export const FD_CLASSES: readonly FdKindClass[] = [
  { kind: 'pipe', prefix: 'pipe:' },
  { kind: 'socket', prefix: 'socket:' },
  { kind: 'unix' },
  { kind: 'tcp' },
  { kind: 'udp' },
  {
    kind: 'signalfd',
    anonNames: ['signalfd', '[signalfd]'],
    fdinfoIs: (text) => signalfdMask(text) !== undefined,
    describe: (text) => `signalfd for ${signalsInMask(/^sigmask:\s*([0-9a-f]+)/m.exec(text)?.[1] ?? '0', signalNamer).join(', ') || 'no signal'}`,
  },
  {
    kind: 'inotify',
    anonNames: ['inotify'],
    // fanotify reads the same for repro: watches without a target worth naming.
    fdinfoIs: (text) => /^inotify /m.test(text) || /^fanotify /m.test(text),
    describe: (text) => {
      const watches = inotifyWatches(text);
      if (!watches.length) return undefined;
      const shown = watches.slice(0, 3).map((w) => `ino 0x${w.ino} on dev 0x${w.sdev}`);
      return `inotify watching ${watches.length} ${plural(watches.length, 'inode')} (${shown.join(', ')}${watches.length > 3 ? ', …' : ''})`;
    },
  },
  {
    kind: 'eventpoll',
    anonNames: ['eventpoll', '[eventpoll]'],
    fdinfoIs: (text) => /^tfd:/m.test(text) || /^eventpoll/m.test(text),
    describe: (text) => {
      const targets = epollTargets(text);
      return `epoll watching ${plural(targets.length, 'fd')} ${targets.slice(0, 8).join(', ')}${targets.length > 8 ? ', …' : ''}`;
    },
  },
  {
    kind: 'eventfd',
    anonNames: ['eventfd', '[eventfd]'],
    fdinfoIs: (text) => /^eventfd-count:/m.test(text),
    describe: (text) => `eventfd, count ${Number.parseInt(/^eventfd-count:\s*(\S+)/m.exec(text)?.[1] ?? '0', 16)}`,
  },
  {
    kind: 'timerfd',
    anonNames: ['timerfd', '[timerfd]'],
    fdinfoIs: (text) => /^clockid:\s*\d+/m.test(text),
    describe: (text) => `timerfd on clock ${/^clockid:\s*(\d+)/m.exec(text)?.[1]}${/^it_value: \(0, 0\)/m.test(text) ? ', disarmed' : ''}`,
  },
  {
    kind: 'pidfd',
    anonNames: ['pidfd', '[pidfd]'],
    fdinfoIs: (text) => /^Pid:\s*-?\d+/m.test(text),
    describe: (text) => `pidfd of pid ${/^Pid:\s*(-?\d+)/m.exec(text)?.[1]}`,
  },
  // Queued SQEs matter to the rounds driver (parseRingFdinfo), not to the one-line description.
  { kind: 'io_uring', anonNames: ['io_uring', '[io_uring]'], fdinfoIs: (text) => parseRingFdinfo(text) !== null },
  { kind: 'file' },
  { kind: 'directory' },
  { kind: 'device' },
  { kind: 'deleted' },
  { kind: 'other' },
];

const ANON_INODES = new Map<string, FdKind>(FD_CLASSES.flatMap((c) => (c.anonNames ?? []).map((name): [string, FdKind] => [name, c.kind])));
const PREFIXES = FD_CLASSES.filter((c) => c.prefix !== undefined).map((c) => [c.prefix as string, c.kind] as const);

/**
 * Classifies a /proc/<pid>/fd link target. Sockets come back as `socket`
 * here; the procfs probe refines them to unix/tcp/udp from /proc/net when
 * asked. Paths are `file` unless they live in /dev or were deleted; telling a
 * directory apart needs a stat, which the caller does.
 */
export function classifyTarget(target: string): FdKind {
  for (const [prefix, kind] of PREFIXES) if (target.startsWith(prefix)) return kind;
  if (target.startsWith('anon_inode:')) return ANON_INODES.get(target.slice('anon_inode:'.length)) ?? 'other';
  if (target.startsWith('/')) {
    if (target.endsWith(' (deleted)')) return 'deleted';
    if (target.startsWith('/dev/')) return 'device';
    return 'file';
  }
  return 'other';
}

/** The table entry whose fdinfo this text is, or undefined. */
export function fdinfoClass(text: string): FdKindClass | undefined {
  return FD_CLASSES.find((c) => c.fdinfoIs?.(text));
}

/** One line about an fd from its fdinfo text; undefined when there is nothing beyond pos and flags. */
export function describeFdinfoText(text: string): string | undefined {
  return fdinfoClass(text)?.describe?.(text);
}

/** Counts per kind, leaving out kinds with none. */
export type KindCounts = Partial<Record<FdKind, number>>;

export function countKinds(kinds: Iterable<FdKind>): KindCounts {
  const counts: KindCounts = {};
  for (const kind of kinds) counts[kind] = (counts[kind] ?? 0) + 1;
  return counts;
}
