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

/** A process whose fd count holds is listed again at least this often (collections). */
export const FULL_LISTING_EVERY = 10;

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
  /** Open fds per kind at the last listing. */
  byKind: Record<FdKind, number>;
  /** The fd count (one stat) at the last listing; -1 before the first. */
  listedCount: number;
  /** Collections since the last listing. */
  sinceListing: number;
  /** Reload lines read when it was last listed: after a reload it is listed again, whatever its count says. */
  listedAtReloads: number;
  /** Soft RLIMIT_NOFILE at the last listing (read with it: a limit changes far more rarely than fds do). */
  maxFds: number | null;
  /** Reloads already seen when the process was first seen: fds stamped with this or fewer are from before any reload it went through. */
  reloadsAtStart: number;
}

/** Where the reload count stands at a collection. */
export interface ReloadClock {
  /** Reload lines read so far (before this collection's read of the log). */
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

/** Stamped on what is first seen at a collection until `stamp` gives it the reload count read after the listing. */
const UNSTAMPED = Number.POSITIVE_INFINITY;

export class ProcessReader {
  /** `pid:startTicks` → what was seen of it; only processes still watched are kept. */
  #memory = new Map<string, Remembered>();
  /** What this collection saw first, waiting for its reload stamp. */
  #unstamped: (FdSeen | Remembered)[] = [];

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
      let memory = this.#memory.get(key);
      if (!memory) this.#unstamped.push((memory = { fds: new Map<string, FdSeen>(), byKind: emptyKinds(), listedCount: -1, sinceListing: 0, listedAtReloads: -1, maxFds: null, reloadsAtStart: UNSTAMPED }));
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

  /**
   * Gives what this collection saw first the reload count read after it was
   * listed. A reload logs its line before it opens its fds (nginx does), so
   * an fd in a listing has its line in the log by the time the log is read
   * after the listing: stamped with a count that already holds its reload, it
   * is never taken for a survivor of the reload before. Read before the
   * listing, a line written between the two reads would be missed and the
   * new fd counted as kept across its own reload.
   */
  stamp(reloadsSeen: number): void {
    for (const item of this.#unstamped) {
      if ('reloadsAtStart' in item) item.reloadsAtStart = reloadsSeen;
      else item.reloadsAtFirstSight = reloadsSeen;
    }
    this.#unstamped = [];
  }

  #read(target: Target, memory: Remembered, reloads: ReloadClock): ProcessReading | undefined {
    const { pid } = target;
    const status = this.view.status(pid);
    const dir = status === undefined ? undefined : this.view.fdDir(pid, /^State:\s+(\S)/m.exec(status)?.[1] ?? '?');
    if (status === undefined || dir === undefined) return undefined;
    if (!this.#relist(pid, memory, dir, reloads.seen)) return undefined;
    const now = this.view.now();
    let oldFds = 0;
    let reloadSurvivorFds = 0;
    for (const seen of memory.fds.values()) {
      if (now - seen.firstSeenMs >= this.ageMs) oldFds++;
      if (seen.reloadsAtFirstSight !== UNSTAMPED && seen.reloadsAtFirstSight > memory.reloadsAtStart && reloads.settled > seen.reloadsAtFirstSight) reloadSurvivorFds++;
    }
    const rssKb = parseRssKb(status);
    return {
      target,
      openFds: memory.fds.size,
      maxFds: memory.maxFds,
      fdsByKind: memory.byKind,
      oldFds,
      reloadSurvivorFds,
      caughtSignals: signalsIn(statusMask(status, 'SigCgt')),
      blockedSignals: signalsIn(statusMask(status, 'SigBlk')),
      threads: Number(/^Threads:\s+(\d+)/m.exec(status)?.[1] ?? 0),
      rssBytes: rssKb === undefined ? null : rssKb * 1024,
    };
  }

  /**
   * Lists the process's fds again when its count (one stat of the fd
   * directory) changed since the last listing, after a reload (which may
   * replace fds one for one: a survivor count from the listing before it
   * would take the replaced ones for kept), and every FULL_LISTING_EVERY
   * collections anyway (an fd closed and another opened between two
   * collections keeps the count: its age is the old one's until then). A steady service then costs one stat a
   * collection instead of a readlink per fd: 200 processes of 100 fds are
   * 200 stats, not 20,000 readlinks. False when the process is gone.
   */
  #relist(pid: number, memory: Remembered, dir: string, reloadsSeen: number): boolean {
    const count = this.view.countFds(dir);
    if (count === memory.listedCount && reloadsSeen === memory.listedAtReloads && ++memory.sinceListing < FULL_LISTING_EVERY) return true;
    let entries;
    try {
      entries = this.view.listFds(dir);
    } catch {
      // Gone between the status read and the listing, or another user's process: not this collection's.
      return false;
    }
    const now = this.view.now();
    const byKind = emptyKinds();
    const fds = new Map<string, FdSeen>();
    for (const entry of entries) {
      byKind[entry.kind]++;
      const id = `${entry.fd} ${entry.target}`;
      let seen = memory.fds.get(id);
      if (!seen) this.#unstamped.push((seen = { firstSeenMs: now, reloadsAtFirstSight: UNSTAMPED }));
      fds.set(id, seen);
    }
    // Closed fds are forgotten: the memory of a process is as large as its fd table.
    memory.fds = fds;
    memory.byKind = byKind;
    // The count the listing found, not the stat's: an fd opened between the two is listed and counted next time.
    memory.listedCount = entries.length === count ? count : -1;
    memory.sinceListing = 0;
    memory.listedAtReloads = reloadsSeen;
    const limits = this.view.limits(pid);
    memory.maxFds = limits === undefined ? null : parseLimits(limits).soft;
    return true;
  }
}
