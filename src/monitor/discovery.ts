/**
 * Which processes `repro monitor` watches at one collection: the --pid ones
 * still alive, every process whose command line matches a --match (so a
 * restarted service is picked up under its new pid), every process in a
 * --cgroup. Processes are read through the ProcessView (the tree of pid 1
 * holds every user-space process of the pid namespace); a command line is
 * read once per process (pid + start time) and again every few collections,
 * for a program that sets its title after it starts (nginx's "master process").
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { UsageError } from '../errors.js';
import type { ProcessView, TreeWalk } from '../proc/view.js';
import type { Selectors } from './options.js';

/** One watched process at one collection. */
export interface Target {
  /** Its pid. */
  pid: number;
  /** Start time after boot in clock ticks: a pid reused by a new process is a new target. */
  startTicks: number;
  /** Short name from stat (the `command` label). */
  comm: string;
  /** The selector that picked it (the `match` label): `pid`, the --match regex, or `cgroup:PATH`. */
  match: string;
}

/** Where a --cgroup path may live: as given, or under the v2 (or hybrid) and v1 systemd mounts. */
const CGROUP_ROOTS = ['', '/sys/fs/cgroup', '/sys/fs/cgroup/unified', '/sys/fs/cgroup/systemd'];
/** Command lines are read again for processes that did not match, every this many collections. */
const REREAD_EVERY = 10;
/** Deepest cgroup nesting followed below a --cgroup directory. */
const MAX_CGROUP_DEPTH = 8;

/** The directory holding cgroup.procs that a --cgroup value names; one line and exit 2 when none does. */
export function resolveCgroup(path: string): string {
  for (const root of CGROUP_ROOTS) {
    const dir = root === '' ? path : join(root, path);
    if (root === '' && !path.startsWith('/')) continue;
    try {
      if (statSync(join(dir, 'cgroup.procs')).isFile()) return dir;
    } catch {
      // not here
    }
  }
  throw new UsageError(`--cgroup ${path}: no cgroup.procs there or under /sys/fs/cgroup; give a cgroup directory such as /sys/fs/cgroup/system.slice/nginx.service (see /proc/PID/cgroup)`);
}

/** Pids listed in a cgroup directory and its descendants; none when the cgroup is gone (the service stopped). */
function cgroupPids(dir: string, depth = 0): number[] {
  let pids: number[];
  try {
    pids = readFileSync(join(dir, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean).map(Number);
  } catch {
    return [];
  }
  if (depth >= MAX_CGROUP_DEPTH) return pids;
  try {
    for (const entry of readdirSync(dir, { withFileTypes: true })) if (entry.isDirectory()) pids.push(...cgroupPids(join(dir, entry.name), depth + 1));
  } catch {
    // gone meanwhile
  }
  return pids;
}

export class Discovery {
  readonly #walk: TreeWalk | undefined;
  readonly #cgroupDirs: [label: string, dir: string][];
  /** `pid:startTicks` → the --match that picked it, or null for none. */
  #matched = new Map<string, string | null>();
  #collections = 0;

  constructor(
    private readonly view: ProcessView,
    private readonly selectors: Selectors,
    /** Never watched: the exporter itself, whose own argv holds the --match text. */
    private readonly selfPid = process.pid,
  ) {
    this.#walk = selectors.matches.length > 0 ? view.walker(1, { includeRoot: true }) : undefined;
    this.#cgroupDirs = selectors.cgroups.map((path) => [`cgroup:${path}`, resolveCgroup(path)]);
  }

  /** The targets now, each once (the first selector that picks a process names it). */
  discover(): Target[] {
    const out = new Map<number, Target>();
    const add = (pid: number, match: string, known?: { comm: string; startTicks: number }) => {
      if (pid === this.selfPid || out.has(pid)) return;
      const stat = known ?? this.view.stat(pid);
      if (!stat || ('state' in stat && (stat.state === 'Z' || stat.state === 'X'))) return;
      out.set(pid, { pid, startTicks: stat.startTicks, comm: stat.comm, match });
    };
    for (const pid of this.selectors.pids) add(pid, 'pid');
    if (this.#walk) this.#discoverMatches(this.#walk, add);
    for (const [label, dir] of this.#cgroupDirs) for (const pid of cgroupPids(dir)) add(pid, label);
    return [...out.values()];
  }

  #discoverMatches(walk: TreeWalk, add: (pid: number, match: string, known: { comm: string; startTicks: number }) => void): void {
    const reread = this.#collections++ % REREAD_EVERY === 0;
    const next = new Map<string, string | null>();
    for (const p of walk.walk()) {
      if (p.state === 'Z' || p.state === 'X') continue;
      const key = `${p.pid}:${p.startTicks}`;
      let match = this.#matched.get(key);
      if (match === undefined || (match === null && reread)) match = this.#matchOf(p.pid);
      next.set(key, match);
      if (match !== null) add(p.pid, match, p);
    }
    // Only live processes are kept: the map is as large as the machine's process table, no larger.
    this.#matched = next;
  }

  #matchOf(pid: number): string | null {
    // A kernel thread has an empty command line and is never a service.
    const cmdline = this.view.cmdline(pid, 'latin1');
    if (!cmdline) return null;
    const line = cmdline.replace(/\0+$/, '').replaceAll('\0', ' ');
    return this.selectors.matches.find((re) => re.test(line))?.source ?? null;
  }
}
