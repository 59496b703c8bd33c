/** Small facts about live processes, read from /proc. */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

/** Whether a /proc read failed because the process (or the fd) is gone, not for any other reason. */
const gone = (e: unknown) => ['ENOENT', 'ESRCH'].includes((e as NodeJS.ErrnoException).code ?? '');

/**
 * A file under /proc/PID, or undefined when the process is gone (ENOENT, or ESRCH
 * for a pid that exited while the file was read). For pids that may exit on their
 * own while a test looks at them: one found in a /proc scan or a tree listing, or a
 * short run's child. Any other error (EACCES) still throws.
 */
export function procFile(pid: number | string, file: string, encoding: BufferEncoding = 'utf8'): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/${file}`, encoding);
  } catch (e) {
    if (gone(e)) return undefined;
    throw e;
  }
}

/** What each open fd of the process points to (`pipe:[…]`, a path), fd by fd; undefined when the process is gone. An fd closed between the listing and its read is left out. */
export function fdTargets(pid: number | string): string[] | undefined {
  let names: string[];
  try {
    names = readdirSync(`/proc/${pid}/fd`);
  } catch (e) {
    if (gone(e)) return undefined;
    throw e;
  }
  return names.flatMap((name) => {
    try {
      return [readlinkSync(`/proc/${pid}/fd/${name}`)];
    } catch (e) {
      if (gone(e)) return [];
      throw e;
    }
  });
}

/** A /proc/PID link (`exe`, `cwd`), or undefined when the process is gone. */
export function procLink(pid: number | string, link: string): string | undefined {
  try {
    return readlinkSync(`/proc/${pid}/${link}`);
  } catch (e) {
    if (gone(e)) return undefined;
    throw e;
  }
}

/** The process's argv, or undefined when it is gone. */
export function argvOf(pid: number | string): string[] | undefined {
  return procFile(pid, 'cmdline', 'latin1')?.split('\0');
}

export function isAlive(pid: number): boolean {
  try {
    // A zombie is dead for our purposes: it holds no fds and runs no code.
    return !/^State:\s+Z/m.test(readFileSync(`/proc/${pid}/status`, 'utf8'));
  } catch {
    return false;
  }
}

/** Waits up to `ms` for the pid to be gone; true if it went. */
export async function goneWithin(pid: number, ms: number): Promise<boolean> {
  const until = performance.now() + ms;
  while (performance.now() < until) {
    if (!isAlive(pid)) return true;
    await new Promise((r) => setTimeout(r, 20));
  }
  return !isAlive(pid);
}

/** Direct children of a process. */
export function childrenOf(pid: number): number[] {
  const out: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === pid) out.push(Number(name));
    } catch {
      // gone
    }
  }
  return out;
}

export async function waitFor<T>(what: string, probe: () => T | undefined, ms = 10_000): Promise<T> {
  const until = performance.now() + ms;
  while (performance.now() < until) {
    const value = probe();
    if (value !== undefined) return value;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** Pids whose command line mentions `needle` (the temp prefix of a test's nginx, a python server's port): to wait on, never to kill by. */
export function processesWith(needle: string): number[] {
  const out = execFileSync('ps', ['-eo', 'pid=,args='], { encoding: 'utf8' });
  return out
    .split('\n')
    .filter((line) => line.includes(needle) && !line.includes('ps -eo'))
    .map((line) => Number(line.trim().split(/\s+/)[0]));
}
