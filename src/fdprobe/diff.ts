/** What changed between two listings of one process: opened and closed fds, and the net change per kind. */
import type { KindCounts } from './kinds.js';
import type { FdEntry } from './probe.js';

export interface FdDiff {
  opened: FdEntry[];
  closed: FdEntry[];
  /** Net change per kind (opened − closed), kinds that changed only. */
  netByKind: KindCounts;
}

/** An fd number whose target changed counts as closed and opened again. */
export function diffSnapshots(before: readonly FdEntry[], after: readonly FdEntry[]): FdDiff {
  const key = (e: FdEntry) => `${e.fd}\0${e.target}`;
  const beforeKeys = new Set(before.map(key));
  const afterKeys = new Set(after.map(key));
  const opened = after.filter((e) => !beforeKeys.has(key(e)));
  const closed = before.filter((e) => !afterKeys.has(key(e)));
  const netByKind: KindCounts = {};
  for (const e of opened) netByKind[e.kind] = (netByKind[e.kind] ?? 0) + 1;
  for (const e of closed) netByKind[e.kind] = (netByKind[e.kind] ?? 0) - 1;
  for (const [kind, n] of Object.entries(netByKind)) if (n === 0) delete netByKind[kind as keyof KindCounts];
  return { opened, closed, netByKind };
}
