/**
 * The stat/status parsers live in src/proc/parse.ts and the readers in the
 * process view (src/proc/procfs-view.ts); this module keeps their old names.
 */
import type { StatFields } from '../../proc/parse.js';
import { procfsView } from '../../proc/procfs-view.js';

export { hasSignal, parseStat, PF_KTHREAD, type StatFields, statusMask, statusState } from '../../proc/parse.js';
export { PROC_ROOT } from '../../proc/procfs-view.js';

/** Reads and parses a stat file; undefined when the process or thread is gone. */
export function readStat(path: string): StatFields | undefined {
  return procfsView().statAt(path);
}

/** Reads a text file under /proc; undefined when it is gone (ENOENT/ESRCH) or unreadable. */
export function readProcText(path: string): string | undefined {
  return procfsView().textAt(path);
}

/** Thread ids of a process (its /proc/PID/task entries); empty when the process is gone. */
export function threadIds(pid: number, root?: string): number[] {
  return procfsView(root).threadIds(pid);
}
