/**
 * The full sample of a watched tree, once per reload: every fd of every
 * process with its kind (listTreeFds), each fd's identity fed to FirstSeen
 * (so survivors can be counted at the end), the processes seen, each
 * process's own fd limit, and EMFILE where it happens: a process with fewer
 * free slots below its limit than the fds this reload opened in it.
 */
import { countKinds } from '../../fdprobe/kinds.js';
import { parseLimits, ProcfsProbe } from '../../fdprobe/procfs.js';
import { ProcfsView } from '../../proc/procfs-view.js';
import type { ProcessView } from '../../proc/view.js';
import {
  MAX_SAMPLE_PROCESSES,
  MAX_SURVIVOR_LINES,
  MAX_TREE_PROCESSES,
  type MeasuredProcess,
  type ProcessSample,
  type SurvivorSummary,
  type WatchedTree,
} from '../../model/run-document.js';
import { round } from '../../model/stats.js';
import { FirstSeen, type FdIdentity, holderKey, identitiesOf, identityKey, survivors } from './identity.js';
import type { FdEntry } from '../../fdprobe/probe.js';
import { classifyTarget } from '../../proc/fd-kinds.js';
import { listTreeFds, type ProcessFdSample, type TreeFdSample, type TreeOptions } from './tree.js';

/** pid and start time (read by the walk): a process across samples, never a later one that reused its pid; the key its fds' identities carry. */
function processKey(p: ProcessFdSample): string {
  return holderKey({ pid: p.pid, start: p.startTicks });
}

/** What one sample of the tree gives the driver. */
export interface TreeSampleResult {
  tree: TreeFdSample;
  /** For the document: the processes, most fds first, bounded. */
  processes: ProcessSample[];
  /** Resident set size summed over the tree, KiB (undefined when none could be read). */
  rssKb: number | undefined;
  /** EMFILE for some process of the tree: the evidence sentence; undefined when every process has room for another reload. */
  emfile?: string;
  /** The EMFILE is ahead, not seen: slots are still free, but fewer than the next reload opens (no call failed). */
  emfileAhead?: boolean;
}

interface Known {
  measured: MeasuredProcess;
  /** Soft RLIMIT_NOFILE; null when unlimited or unreadable. */
  limit: number | null;
  /** fds below the limit at the previous sample. */
  belowLimit: number;
}

export class TreeSampler {
  readonly #firstSeen = new FirstSeen();
  readonly #known = new Map<string, Known>();
  readonly #order: string[] = [];
  #last: FdIdentity[] = [];
  /** The previous sample's listing per process (pid and start time), to find again an fd the walk missed. */
  #lastEntries = new Map<string, FdEntry[]>();
  #lastReload = 0;
  readonly #view: ProcessView;

  /** `probe`: a procfs probe to share (its socket-kind cache) when `options.view` is not given. */
  constructor(
    readonly rootPid: number,
    readonly options: TreeOptions,
    probe?: ProcfsProbe,
  ) {
    this.#view = options.view ?? new ProcfsView(options.procRoot, probe ?? new ProcfsProbe(options.procRoot));
  }

  /** Lists the whole tree for the sample of `reload` (0: the baseline) and feeds every fd's identity to FirstSeen. */
  sample(reload: number): TreeSampleResult {
    const view = this.#view;
    const tree = this.#relisted(listTreeFds(this.rootPid, undefined, { ...this.options, view }));
    const ids: FdIdentity[] = [];
    let emfile: string | undefined;
    let emfileAhead = false;
    let rssKb: number | undefined;
    for (const p of tree.processes) {
      const entries = p.entries ?? [];
      ids.push(...identitiesOf(p.pid, entries, { fdDir: p.fdDir, view, ...(p.startTicks === undefined ? {} : { start: p.startTicks }) }));
      const key = processKey(p);
      let known = this.#known.get(key);
      if (!known) {
        known = { measured: { pid: p.pid, ppid: p.ppid, command: p.command, firstReload: reload, lastReload: reload, fdsFirst: p.fds, fdsLast: p.fds }, limit: limitOf(view, p.pid), belowLimit: 0 };
        this.#known.set(key, known);
        this.#order.push(key);
      }
      const below = known.limit === null ? p.fds : entries.filter((e) => e.fd < (known.limit as number)).length;
      if (!emfile && known.limit !== null && reload > 0) {
        const free = known.limit - below;
        const opened = known.measured.lastReload === this.#lastReload && known.measured.lastReload < reload ? below - known.belowLimit : 0;
        const who = `process ${p.pid} (${p.command.slice(0, 60)})`;
        if (free <= 0) emfile = `${who}: ${p.fds} fds open, every slot below the limit ${known.limit} is taken`;
        else if (opened > 0 && free < opened) {
          emfileAhead = true;
          emfile = `${who} has ${free} free slot${free === 1 ? '' : 's'} below its limit ${known.limit}, fewer than the ${opened} fds reload ${reload} opened there: the next reload cannot open them`;
        }
      }
      known.belowLimit = below;
      known.measured.lastReload = reload;
      known.measured.fdsLast = p.fds;
      const rss = rssOf(view, p.pid);
      if (rss !== undefined) rssKb = (rssKb ?? 0) + rss;
    }
    this.#firstSeen.observe(reload, ids);
    this.#last = ids;
    this.#lastReload = reload;
    const processes = tree.processes
      .map((p): ProcessSample => ({ pid: p.pid, ppid: p.ppid, command: p.command, fds: p.fds, byKind: p.byKind ?? countKinds((p.entries ?? []).map((e) => e.kind)) }))
      .sort((a, b) => b.fds - a.fds || a.pid - b.pid)
      .slice(0, MAX_SAMPLE_PROCESSES);
    return { tree, processes, rssKb, ...(emfile ? { emfile } : {}), ...(emfile && emfileAhead ? { emfileAhead } : {}) };
  }

  /**
   * The listing walks fd numbers up to the count the kernel gave, and a
   * process that opens fds in holes ahead of the walk (a server accepting
   * under load) fills the count before the walk reaches its highest fds: an
   * inherited fd 251 was missed, read as reopened at the next sample, and
   * counted a survivor. An fd of the previous sample missing now is read
   * once more (one readlink): still there with the same target, it is listed;
   * a process's first listing is checked against one readdir.
   */
  #relisted(tree: TreeFdSample): TreeFdSample {
    const view = this.#view;
    const next = new Map<string, FdEntry[]>();
    let added = false;
    for (const p of tree.processes) {
      const entries = p.entries ?? [];
      const key = processKey(p);
      const before = this.#lastEntries.get(key);
      if (p.fdDir) {
        const now = new Set(entries.map((e) => e.fd));
        const dir = p.fdDir;
        // A process listed for the first time has no earlier listing to compare with: one readdir finds what the walk missed.
        const missed = before
          ? before.filter((e) => !now.has(e.fd) && view.fdTarget(dir, e.fd) === e.target)
          : (view.fdNumbers(dir) ?? []).filter((fd) => !now.has(fd)).flatMap((fd) => {
              const target = view.fdTarget(dir, fd);
              return target === undefined ? [] : [{ fd, kind: classifyTarget(target), target }];
            });
        if (missed.length > 0) {
          entries.push(...missed.map((e) => ({ ...e })));
          entries.sort((a, b) => a.fd - b.fd);
          p.entries = entries;
          p.fds = entries.length;
          p.byKind = countKinds(entries.map((e) => e.kind));
          added = true;
        }
      }
      next.set(key, entries);
    }
    this.#lastEntries = next;
    if (!added) return tree;
    const all = tree.processes.flatMap((p) => p.entries ?? []);
    return { processes: tree.processes, totalFds: all.length, byKind: countKinds(all.map((e) => e.kind)) };
  }

  /** The survivors of the run: `reloads` is the number of reloads done (the last sample is the one after the final drain). */
  survivors(reloads: number): SurvivorSummary {
    const report = survivors(this.#firstSeen, this.#last, reloads);
    const commands = new Map<number, string>();
    for (const key of this.#order) {
      const m = (this.#known.get(key) as Known).measured;
      commands.set(m.pid, m.command);
    }
    return {
      reloadsCounted: report.reloadsCounted,
      survivorsCounted: report.survivorsCounted,
      ...(report.survivorsReplaced > 0 ? { survivorsReplaced: report.survivorsReplaced } : {}),
      survivorsPerReload: round(report.survivorsPerReload),
      reloadsWithSurvivors: report.reloadsWithSurvivors,
      survivedKinds: report.survivedKinds,
      byReload: report.byReload.slice(0, MAX_SURVIVOR_LINES).map(({ replaced, ...line }) => (replaced > 0 ? { ...line, replaced } : line)),
      byReloadNotShown: Math.max(0, report.byReload.length - MAX_SURVIVOR_LINES),
      byProcess: report.byProcess.slice(0, MAX_SAMPLE_PROCESSES).map((p) => ({ pid: p.pid, command: commands.get(p.pid) ?? `pid ${p.pid}`, survived: p.survived, perReload: round(p.perReload), survivedKinds: p.survivedKinds })),
    };
  }

  /** Every fd first seen after a reload (1..reloads) and open in the last sample, with that reload (for --attribute). */
  survivorIdentities(reloads: number): { pid: number; fd: number; kind: string; object: string; reload: number }[] {
    const open = new Set(this.#last.map(identityKey));
    const out: { pid: number; fd: number; kind: string; object: string; reload: number }[] = [];
    for (const [reload, incarnations] of this.#firstSeen.byReload()) {
      if (reload < 1 || reload > reloads) continue;
      for (const inc of incarnations) if (inc.current && open.has(identityKey(inc.id))) out.push({ pid: inc.id.pid, fd: inc.id.fd, kind: inc.id.kind, object: inc.id.object, reload });
    }
    return out;
  }

  /** The processes seen, first seen first (bounded), how many in all, and the one that grew most (from the survivors). */
  processes(survived: SurvivorSummary | undefined): Pick<WatchedTree, 'processes' | 'processesSeen' | 'grew'> {
    const all = this.#order.map((key) => this.#known.get(key) as Known);
    const top = survived?.byProcess[0];
    const grewKnown = top && top.survived > 0 ? all.findLast((k) => k.measured.pid === top.pid) : undefined;
    let grew: WatchedTree['grew'];
    if (top && grewKnown) {
      const { limit, measured } = grewKnown;
      const predicted = limit !== null && top.perReload > 0 ? Math.floor((limit - measured.fdsFirst) / top.perReload) + 1 : null;
      grew = { pid: top.pid, command: measured.command, survivorsPerReload: top.perReload, fdsAtStart: measured.fdsFirst, fdsAtEnd: measured.fdsLast, limit, predictedEmfileAtReload: predicted };
    }
    return { processes: all.slice(0, MAX_TREE_PROCESSES).map((k) => ({ ...k.measured })), processesSeen: all.length, ...(grew ? { grew } : {}) };
  }
}

function limitOf(view: ProcessView, pid: number): number | null {
  const text = view.limits(pid);
  return text === undefined ? null : parseLimits(text).soft;
}

function rssOf(view: ProcessView, pid: number): number | undefined {
  const kb = /^VmRSS:\s+(\d+)/m.exec(view.status(pid) ?? '')?.[1];
  return kb === undefined ? undefined : Number(kb);
}
