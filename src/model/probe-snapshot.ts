/** `repro probe --json`: what one process holds at one moment. */
import type { KindCounts } from '../fdprobe/kinds.js';
import type { FdEntry, FdLimits } from '../fdprobe/probe.js';

export interface ProbeSnapshot {
  schemaVersion: 1;
  kind: 'probe';
  pid: number;
  takenAt: string;
  backend: string;
  count: number;
  byKind: KindCounts;
  limits: FdLimits;
  /** soft limit − open fds; null where the limit is unknown or unlimited. */
  headroom: number | null;
  rssKb: number | null;
  fds: FdEntry[];
}
