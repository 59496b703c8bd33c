export { ProbeError, type ProbeFailure } from './errors.js';
export { classifyTarget, countKinds, FD_KINDS, type FdKind, type KindCounts } from './kinds.js';
export { LsofProbe, parseLsofFields } from './lsof.js';
export type { FdEntry, FdLimits, FdProbe } from './probe.js';
export { hasProcfs, ProcfsProbe, parseLimits, parseRssKb } from './procfs.js';

import { LsofProbe } from './lsof.js';
import type { FdProbe } from './probe.js';
import { hasProcfs, ProcfsProbe } from './procfs.js';

/** procfs where there is one, lsof otherwise. */
export function defaultProbe(): FdProbe {
  return hasProcfs() ? new ProcfsProbe() : new LsofProbe();
}
export { diffSnapshots, type FdDiff } from './diff.js';
export { parseSignalDisposition, signalDisposition, type SignalDisposition } from './procfs.js';
