/**
 * The leak judged by the fds that survive. The fd identity itself (pid, fd,
 * device, inode, birth time) is src/proc/identity.ts, the one every driver
 * and attribution use; the wrappers here keep the tree's call shapes.
 *
 * An fd "opened in reload k" is one first seen in the sample after signal k
 * (or seen again after being absent from the sample before: the same
 * identity closed and opened again is a new fd); a survivor is one still
 * open in the last sample. `survivors()` is pure.
 *
 * A survivor that replaced an fd open since the start is not counted: one of
 * the same process and kind that was in the baseline sample and closed in the
 * same reload (a log reopened once, a bounded cache's one entry swapped).
 * That process holds no more fds of that kind than at the start, so it is not
 * a leak, whereas a per-reload leak adds one at every reload. Only baseline
 * fds count as replaced: an fd a reload opened and a later reload closed is
 * churn, and crediting it would hide a leak that runs next to a reopen.
 */
import { countKinds, type FdKind, type KindCounts } from '../../fdprobe/kinds.js';
import type { FdEntry } from '../../fdprobe/probe.js';
import { type FdIdentity, holderKey, identitiesOf as procIdentitiesOf, identityKey, type IdentityOptions, readIdentities as procReadIdentities } from '../../proc/identity.js';

export { type FdIdentity, holderKey, identityKey } from '../../proc/identity.js';

/** Identities from a probe listing; `where` is the fd directory it was read from, or the options (a view). */
export function identitiesOf(pid: number, entries: readonly FdEntry[], where?: string | IdentityOptions): FdIdentity[] {
  return procIdentitiesOf(pid, entries, typeof where === 'string' ? { fdDir: where } : where);
}

/** Reads the identities of every fd of one process: for tests and one-off use. */
export function readIdentities(pid: number, where?: string | IdentityOptions): FdIdentity[] {
  return procReadIdentities(pid, typeof where === 'string' ? { fdDir: where } : where);
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
  /** The previous sample's processes (holderKey), and its objects that name one open file description (an inode), with the reload each was first seen at. */
  #previous = { processes: new Set<string>(), objects: new Map<string, number>(), holders: new Map<string, number>() };

  /** Records the identities of the sample taken after signal `reload` (0: before any). */
  observe(reload: number, identities: Iterable<FdIdentity>): void {
    const previous = this.#lastReload;
    const list = [...identities];
    const seen = { processes: new Set<string>(), objects: new Map<string, number>(), holders: new Map<string, number>() };
    for (const id of list) if (uniqueObject(id.object)) seen.holders.set(id.object, (seen.holders.get(id.object) ?? 0) + 1);
    for (const id of list) {
      const key = identityKey(id);
      const known = this.#first.get(key);
      // A process new since the last sample holding an object the tree already had open, by no more fds than before, took it over at fork
      // from one that went (a hot restart's stdio and listener): it dates from then. More holders than before is a new copy (a helper left per reload).
      const tookOver = !known && !this.#previous.processes.has(holderKey(id)) && uniqueObject(id.object) && (seen.holders.get(id.object) ?? 0) <= (this.#previous.holders.get(id.object) ?? 0);
      const inherited = tookOver ? this.#previous.objects.get(id.object) : undefined;
      if (!known) this.#first.set(key, { reload: inherited ?? reload, id, lastSeen: reload, current: true });
      else {
        if (previous !== undefined && known.lastSeen < previous) {
          this.#earlier.push({ ...known, current: false });
          known.reload = reload;
          known.id = id;
        }
        known.lastSeen = reload;
      }
      seen.processes.add(holderKey(id));
      const from = (this.#first.get(key) as Incarnation).reload;
      if (uniqueObject(id.object)) seen.objects.set(id.object, Math.min(from, seen.objects.get(id.object) ?? from));
    }
    this.#lastReload = reload;
    this.#previous = seen;
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

/** An object that names one open thing (a pipe's or socket's inode, a file's device and inode, an eventfd's id), not a kind shared by all (a bare anon inode). */
function uniqueObject(object: string): boolean {
  return /^(pipe|socket):\[\d+\]$/.test(object) || object.startsWith('/') || /#\d+$/.test(object) || /@\d+$/.test(object);
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
  /** Of the survivors, those that replaced an fd open since the start (same process and kind, closed in this reload): not counted. */
  replaced: number;
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
  /** Survivors first seen in a counted reload, less those that replaced an fd open since the start. */
  survivorsCounted: number;
  /** Survivors of counted reloads that replaced an fd open since the start (not in survivorsCounted). */
  survivorsReplaced: number;
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
  const byHolder = new Map<string, FdIdentity[]>();
  const countedKinds: FdKind[] = [];
  let survivorsCounted = 0;
  let survivorsReplaced = 0;
  let reloadsWithSurvivors = 0;
  const grouped = firstSeen.byReload();
  const closedAt = baselineClosedAt(grouped.get(0) ?? [], reloads);
  for (let reload = 1; reload <= reloads; reload++) {
    const opened = grouped.get(reload) ?? [];
    const survived = opened.filter((inc) => inc.current && open.has(identityKey(inc.id))).map((inc) => inc.id);
    const { kept, replaced } = splitReplacements(survived, closedAt.get(reload));
    const counted = reload <= reloadsCounted;
    byReload.push({ reload, opened: opened.length, survived: survived.length, replaced: replaced.length, survivedKinds: countKinds(survived.map((k) => k.kind)), counted });
    if (!counted) continue;
    survivorsCounted += kept.length;
    survivorsReplaced += replaced.length;
    if (kept.length > 0) reloadsWithSurvivors++;
    for (const id of kept) {
      countedKinds.push(id.kind);
      const list = byHolder.get(holderKey(id)) ?? [];
      list.push(id);
      byHolder.set(holderKey(id), list);
    }
  }
  const byProcess = [...byHolder.values()]
    .map((ids) => ({ pid: (ids[0] as FdIdentity).pid, survived: ids.length, perReload: reloadsCounted ? ids.length / reloadsCounted : 0, survivedKinds: countKinds(ids.map((i) => i.kind)) }))
    .sort((a, b) => b.survived - a.survived || a.pid - b.pid);
  return {
    reloadsCounted,
    survivorsCounted,
    survivorsReplaced,
    survivorsPerReload: reloadsCounted ? survivorsCounted / reloadsCounted : 0,
    reloadsWithSurvivors,
    survivedKinds: countKinds(countedKinds),
    byReload,
    byProcess,
  };
}

/** `pid kind` → how many baseline fds of it closed, per reload (closed in reload k: last seen in the sample after reload k − 1). */
function baselineClosedAt(baseline: readonly Incarnation[], lastReload: number): Map<number, Map<string, number>> {
  const out = new Map<number, Map<string, number>>();
  for (const inc of baseline) {
    // Seen in the last sample: not closed.
    if (inc.lastSeen >= lastReload) continue;
    const reload = inc.lastSeen + 1;
    let byKind = out.get(reload);
    if (!byKind) out.set(reload, (byKind = new Map()));
    const key = `${holderKey(inc.id)} ${inc.id.kind}`;
    byKind.set(key, (byKind.get(key) ?? 0) + 1);
  }
  return out;
}

/** The survivors of one reload that replaced a baseline fd closed in it (same process and kind, one for one), and the rest. */
function splitReplacements(survived: readonly FdIdentity[], closed: Map<string, number> | undefined): { kept: FdIdentity[]; replaced: FdIdentity[] } {
  if (!closed) return { kept: [...survived], replaced: [] };
  const left = new Map(closed);
  const kept: FdIdentity[] = [];
  const replaced: FdIdentity[] = [];
  for (const id of survived) {
    const key = `${holderKey(id)} ${id.kind}`;
    const n = left.get(key) ?? 0;
    if (n > 0) {
      left.set(key, n - 1);
      replaced.push(id);
    } else kept.push(id);
  }
  return { kept, replaced };
}

/** "reload 3: +2 pipe, still open" for one line of the table; "reload 3: nothing new still open" when none survived. */
export function survivorLine(line: ReloadSurvivors): string {
  if (line.survived === 0) return `reload ${line.reload}: nothing new still open${line.opened ? ` (${line.opened} opened, all closed)` : ''}`;
  const kinds = Object.entries(line.survivedKinds)
    .map(([kind, n]) => `+${n} ${kind}`)
    .join(', ');
  return `reload ${line.reload}: ${kinds}, still open`;
}
