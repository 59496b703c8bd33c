/**
 * What the exporter reads of one process at one collection, through the
 * ProcessView: its fds by kind (one listing), its limit, threads, RSS and
 * signal masks (one status read), and, from the fds it saw at earlier
 * collections, how many are old (open at least --age) and how many survived
 * a reload. An fd is known by its number and its link target (`pipe:[1234]`,
 * a path): the same number reopened on the same path is the same fd to it.
 */
import { FD_KINDS, type FdKind } from '../proc/fd-kinds.js';
import { statusMask } from '../proc/parse.js';
import { parseLimits, parseRssKb } from '../proc/proc-text.js';
import type { ProcessView } from '../proc/view.js';
import type { Target } from './discovery.js';

/** One process's numbers at one collection. */
export interface ProcessReading {
  /** The process. */
  target: Target;
  /** Open fds (the listing's length). */
  openFds: number;
  /** Soft RLIMIT_NOFILE; null when unlimited or unreadable. */
  maxFds: number | null;
  /** Open fds per kind, every kind of the table (0 where none). */
  fdsByKind: Record<FdKind, number>;
  /** Fds first seen at least --age ago and still open. */
  oldFds: number;
  /** Fds first seen after a reload this process lived through, and still open after a later one (0 without --log). */
  reloadSurvivorFds: number;
  /** Signals with a handler installed (SigCgt), by number. */
  caughtSignals: number[];
  /** Signals blocked by the main thread (SigBlk), by number. */
  blockedSignals: number[];
  /** Threads (Threads: in status). */
  threads: number;
  /** Resident set size in bytes; null when unreadable (a zombie). */
  rssBytes: number | null;
}

/** When the exporter first saw one fd. */
interface FdSeen {
  /** Exporter clock, ms. */
  firstSeenMs: number;
  /** Reloads seen (their lines read) when the fd was first seen. */
  reloadsAtFirstSight: number;
}

/** What the exporter remembers of one process between collections. */
interface Remembered {
  /** `fd target` → when first seen. */
  fds: Map<string, FdSeen>;
  /** Reloads already seen when the process was first seen: fds stamped with this or fewer are from before any reload it went through. */
  reloadsAtStart: number;
}

/** Where the reload count stands at a collection. */
export interface ReloadClock {
  /** Reload lines read so far. */
  seen: number;
  /** Reload lines read at least the settle time ago: the program has had time to close what the reload replaced. */
  settled: number;
}

/** The bits set in a status mask, as signal numbers. */
function signalsIn(mask: bigint): number[] {
  const out: number[] = [];
  for (let n = 1; mask > 0n; n++, mask >>= 1n) if (mask & 1n) out.push(n);
  return out;
}

function emptyKinds(): Record<FdKind, number> {
  return Object.fromEntries(FD_KINDS.map((k) => [k, 0])) as Record<FdKind, number>;
}

export class ProcessReader {
  /** `pid:startTicks` → what was seen of it; only processes still watched are kept. */
  #memory = new Map<string, Remembered>();

  constructor(
    private readonly view: ProcessView,
    private readonly ageMs: number,
  ) {}

  /** Reads every target; a process gone or unreadable mid-way is left out (it is counted in `unreadable`). */
  readAll(targets: Target[], reloads: ReloadClock): { readings: ProcessReading[]; unreadable: number } {
    const next = new Map<string, Remembered>();
    const readings: ProcessReading[] = [];
    let unreadable = 0;
    for (const target of targets) {
      const key = `${target.pid}:${target.startTicks}`;
      const memory = this.#memory.get(key) ?? { fds: new Map<string, FdSeen>(), reloadsAtStart: reloads.seen };
      const reading = this.#read(target, memory, reloads);
      if (!reading) {
        unreadable++;
        continue;
      }
      next.set(key, memory);
      readings.push(reading);
    }
    this.#memory = next;
    return { readings, unreadable };
  }

  #read(target: Target, memory: Remembered, reloads: ReloadClock): ProcessReading | undefined {
    const { pid } = target;
    const status = this.view.status(pid);
    const dir = status === undefined ? undefined : this.view.fdDir(pid, /^State:\s+(\S)/m.exec(status)?.[1] ?? '?');
    if (status === undefined || dir === undefined) return undefined;
    let entries;
    try {
      entries = this.view.listFds(dir);
    } catch {
      // Gone between the status read and the listing, or another user's process: not this collection's.
      return undefined;
    }
    const now = this.view.now();
    const fdsByKind = emptyKinds();
    const fds = new Map<string, FdSeen>();
    let oldFds = 0;
    let reloadSurvivorFds = 0;
    for (const entry of entries) {
      fdsByKind[entry.kind]++;
      const id = `${entry.fd} ${entry.target}`;
      const seen = memory.fds.get(id) ?? { firstSeenMs: now, reloadsAtFirstSight: reloads.seen };
      fds.set(id, seen);
      if (now - seen.firstSeenMs >= this.ageMs) oldFds++;
      if (seen.reloadsAtFirstSight > memory.reloadsAtStart && reloads.settled > seen.reloadsAtFirstSight) reloadSurvivorFds++;
    }
    // Closed fds are forgotten: the memory of a process is as large as its fd table.
    memory.fds = fds;
    const rssKb = parseRssKb(status);
    const limits = this.view.limits(pid);
    return {
      target,
      openFds: entries.length,
      maxFds: limits === undefined ? null : parseLimits(limits).soft,
      fdsByKind,
      oldFds,
      reloadSurvivorFds,
      caughtSignals: signalsIn(statusMask(status, 'SigCgt')),
      blockedSignals: signalsIn(statusMask(status, 'SigBlk')),
      threads: Number(/^Threads:\s+(\d+)/m.exec(status)?.[1] ?? 0),
      rssBytes: rssKb === undefined ? null : rssKb * 1024,
    };
  }
}
