/**
 * Finds every process one test started, however deep and whoever its parent
 * is now: the test gives repro an environment variable with a fresh value, and
 * every descendant inherits it (reparented orphans included).
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface Marker {
  /** Add to the environment of what the test starts. */
  env: Record<string, string>;
  /** Live (non-zombie) processes that carry the marker, other than this one. */
  alive(): number[];
  /** SIGKILL whatever still carries the marker (cleanup after a failed assertion). */
  killAll(): void;
}

export function marker(): Marker {
  const value = randomUUID();
  const needle = `REPRO_TEST_MARK=${value}\0`;
  const alive = () => {
    const found: number[] = [];
    for (const name of readdirSync('/proc')) {
      if (!/^\d+$/.test(name) || Number(name) === process.pid) continue;
      try {
        if (!readFileSync(`/proc/${name}/environ`, 'latin1').includes(needle)) continue;
        if (/^State:\s+Z/m.test(readFileSync(`/proc/${name}/status`, 'utf8'))) continue;
        found.push(Number(name));
      } catch {
        // gone meanwhile
      }
    }
    return found;
  };
  return {
    env: { REPRO_TEST_MARK: value },
    alive,
    killAll() {
      for (const pid of alive()) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // gone meanwhile
        }
      }
    },
  };
}

/** Waits up to `ms` for no marked process to be left; returns what is still alive then. */
export async function markedLeftAfter(mark: Marker, ms: number): Promise<number[]> {
  const until = performance.now() + ms;
  let left = mark.alive();
  while (left.length > 0 && performance.now() < until) {
    await new Promise((r) => setTimeout(r, 20));
    left = mark.alive();
  }
  return left;
}

/**
 * A directory to use as the whole PATH: node and sh only, so that setpriv (and
 * lsof, and everything else) is not found.
 */
export function pathWithoutSetpriv(): string {
  const dir = mkdtempSync(join(tmpdir(), 'repro-path-'));
  symlinkSync(process.execPath, join(dir, 'node'));
  symlinkSync('/bin/sh', join(dir, 'sh'));
  return dir;
}
