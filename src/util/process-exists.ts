import { readFileSync } from 'node:fs';

/** Is there a process with this pid? kill(pid, 0): EPERM still means it exists (someone else's). */
export function processExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Is this pid a process that has not exited? processExists() also holds for a
 * zombie (exited, not yet reaped by its parent: kill(pid, 0) still succeeds),
 * which repro must not report as "left running". Where /proc cannot say (no
 * procfs), existing is all there is to go on.
 */
export function processRunning(pid: number, procRoot = '/proc'): boolean {
  if (!processExists(pid)) return false;
  let stat: string;
  try {
    stat = readFileSync(`${procRoot}/${pid}/stat`, 'utf8');
  } catch (error) {
    return (error as NodeJS.ErrnoException).code !== 'ENOENT' && (error as NodeJS.ErrnoException).code !== 'ESRCH';
  }
  // The state is the first field after the command name, which may itself hold ')'.
  const state = stat.slice(stat.lastIndexOf(')') + 2).charAt(0);
  return state !== 'Z' && state !== 'X';
}
