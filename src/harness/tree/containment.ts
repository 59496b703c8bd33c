/**
 * Containment above the keeper. The keeper is the tree's subreaper and ends
 * it when repro dies, but a program can kill its own keeper (`kill -9 $PPID;
 * exec service`): its orphans would go to init and outlive the run. While a
 * kept tree runs, repro is a child subreaper too (prctl), so they come to
 * repro instead; once the keeper is gone, repro ends them (SIGKILL until none
 * is left, then reaped: Node reaps only what it spawned) and says which.
 *
 * What is repro's to end: a process re-parented to repro (ppid = repro) that
 * is still in the keeper's session (the keeper starts one; the program and
 * what it forks inherit it) or in the program's process group, and every
 * descendant of such a process. Never by name. A daemon that called setsid
 * and then lost its parent after the keeper died is not recognised (its
 * session and group are its own): the limit of this rule.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { reapChild, setChildSubreaper } from '../../native/libc.js';
import { commandLine, descendants } from './tree.js';

let holders = 0;
let available: boolean | undefined;

/**
 * Makes repro a child subreaper while a kept tree runs (counted: the last
 * release turns it off, so a long-lived caller such as a test runner is not
 * left adopting orphans of unrelated children). False where prctl cannot do
 * it (not Linux): then an escaped orphan goes to init, as before.
 */
export function holdSubreaper(): { held: boolean; release: () => void } {
  if (available === false) return { held: false, release: () => {} };
  try {
    if (holders === 0) setChildSubreaper(true);
    available = true;
  } catch {
    available = false;
    return { held: false, release: () => {} };
  }
  holders++;
  let released = false;
  return {
    held: true,
    release: () => {
      if (released) return;
      released = true;
      holders--;
      if (holders === 0) {
        try {
          setChildSubreaper(false);
        } catch {
          // it was on; turning it off cannot fail where it could be turned on
        }
      }
    },
  };
}

/** A process of the tree that outlived its keeper and that repro ended. */
export interface Escaped {
  pid: number;
  /** Its command line (argv joined, at most 200 characters), read before it was killed. */
  command: string;
}

/** Session and group of a process (stat fields 5 and 6), and its parent; undefined when gone. */
function idsOf(pid: number): { ppid: number; pgid: number; sid: number; state: string } | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'latin1');
  } catch {
    return undefined;
  }
  const rest = text.slice(text.lastIndexOf(')') + 2).split(' ');
  return { state: rest[0] ?? '?', ppid: Number(rest[1]), pgid: Number(rest[2]), sid: Number(rest[3]) };
}

function commOf(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  } catch {
    return 'gone';
  }
}

/** The processes that escaped the keeper `keeperPid` (see the rule above), their descendants included. */
export function escapedFrom(keeperPid: number, programPid: number | undefined, self = process.pid): number[] {
  const roots: number[] = [];
  for (const name of readdirSync('/proc')) {
    const pid = Number(name);
    if (!Number.isInteger(pid) || pid <= 0) continue;
    const ids = idsOf(pid);
    if (!ids || ids.ppid !== self || ids.state === 'Z' || ids.state === 'X') continue;
    if (ids.sid === keeperPid || (programPid !== undefined && ids.pgid === programPid)) roots.push(pid);
  }
  const out = new Set<number>();
  for (const root of roots) for (const p of descendants(root)) if (p.state !== 'Z' && p.state !== 'X') out.add(p.pid);
  return [...out];
}

/**
 * After the keeper `keeperPid` is gone: SIGKILL what escaped it until
 * nothing is left (what they fork meanwhile comes to repro and is found on
 * the next pass), within `capMs`, and reap them. Returns what was ended (an
 * empty list when nothing escaped, the usual case).
 */
export async function endEscaped(keeperPid: number, programPid: number | undefined, capMs = 2000): Promise<Escaped[]> {
  const ended = new Map<number, Escaped>();
  const until = performance.now() + capMs;
  for (;;) {
    const pids = escapedFrom(keeperPid, programPid);
    for (const pid of pids) {
      if (!ended.has(pid)) ended.set(pid, { pid, command: commandLine(pid, commOf(pid)) });
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone meanwhile
      }
    }
    for (const pid of ended.keys()) reapChild(pid);
    if (pids.length === 0 || performance.now() > until) break;
    await new Promise((r) => setTimeout(r, 5));
  }
  // The last ones killed may exit after the last pass: reap them once they have.
  for (let i = 0; i < 40 && [...ended.keys()].some((pid) => idsOf(pid)?.ppid === process.pid); i++) {
    for (const pid of ended.keys()) reapChild(pid);
    await new Promise((r) => setTimeout(r, 5));
  }
  return [...ended.values()];
}
