/**
 * The suite must not leak what it hunts. Every process the suite starts
 * inherits REPRO_SUITE_ID; after the last test, any such process still alive
 * (other than vitest's own) fails the run.
 */
import { randomUUID } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';

function leftovers(marker: string, pids: number[] = []): string[] {
  const found: string[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name) || Number(name) === process.pid) continue;
    try {
      if (!readFileSync(`/proc/${name}/environ`, 'latin1').includes(marker)) continue;
      const cmd = readFileSync(`/proc/${name}/cmdline`, 'latin1').replaceAll('\0', ' ').trim();
      const state = /^State:\s+(\S)/m.exec(readFileSync(`/proc/${name}/status`, 'utf8'))?.[1];
      if (cmd.includes('vitest') || state === 'Z') continue;
      found.push(`pid ${name}: ${cmd.slice(0, 120)}`);
      pids.push(Number(name));
    } catch {
      // gone, or not ours to read
    }
  }
  return found;
}

export function setup(): () => Promise<void> {
  const id = randomUUID();
  process.env.REPRO_SUITE_ID = id;
  const marker = `REPRO_SUITE_ID=${id}`;
  return async () => {
    let left = leftovers(marker);
    for (let i = 0; i < 20 && left.length > 0; i++) {
      await new Promise((r) => setTimeout(r, 100));
      left = leftovers(marker);
    }
    if (left.length === 0) return;
    // Fail the run (vitest only logs an error thrown here), then clean up so the machine is not left dirty.
    process.exitCode = 1;
    const pids: number[] = [];
    leftovers(marker, pids);
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    throw new Error(`the suite left ${left.length} process(es) behind:\n${left.join('\n')}`);
  };
}
