// The watched unit is the process tree, found again at every call, with per-process fd counts
// and kinds; a process whose leader thread exited is counted from a live thread's fd directory.
import { readdirSync } from 'node:fs';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { countTreeFds, descendants, listTreeFds, TreeWalker } from '../../../src/harness/tree/tree.js';
import { waitFor } from '../../support/processes.js';
import { compiled, firstLine, readyToReload, service, start, stopAll } from './support.js';

const { bin, cleanup } = compiled(['forks-children-holding-fds', 'exits-leader-thread-keeps-fds']);
afterEach(stopAll);
afterAll(cleanup);

const fdsOf = (pid: number) => readdirSync(`/proc/${pid}/fd`).length;

describe('descendants and tree samples', () => {
  it('finds every child of a forking program, and the totals are the sum of each /proc/PID/fd', async () => {
    const child = start([bin('forks-children-holding-fds'), '20', '10'], { stdout: 'pipe' });
    expect(await firstLine(child)).toBe('ready');
    const tree = descendants(child.pid);
    expect(tree[0]?.pid).toBe(child.pid);
    expect(tree.filter((p) => p.ppid === child.pid)).toHaveLength(20);
    const counted = countTreeFds(child.pid);
    expect(counted.processes).toHaveLength(21);
    expect(counted.totalFds).toBe(tree.reduce((sum, p) => sum + fdsOf(p.pid), 0));
    const listed = listTreeFds(child.pid);
    expect(listed.totalFds).toBe(counted.totalFds);
    const kid = listed.processes.find((p) => p.pid !== child.pid);
    expect(kid?.byKind?.device).toBeGreaterThanOrEqual(10); // 10 held, plus stdin on /dev/null
    expect(kid?.command).toContain('forks-children-holding-fds 20 10');
    expect(descendants(child.pid, { includeRoot: false }).map((p) => p.pid)).not.toContain(child.pid);
  });

  it('is found again at every call: workers respawned on HUP replace the old ones', async () => {
    const child = start(['python3', service('respawns-workers-on-hup.py')]);
    await readyToReload(child.pid);
    const before = await waitFor('2 workers', () => {
      const kids = descendants(child.pid, { includeRoot: false });
      return kids.length === 2 ? kids.map((p) => p.pid) : undefined;
    });
    // The polling walker skips the stat of pids it knows are outside: it must see the new workers too.
    const walker = new TreeWalker(child.pid, { includeRoot: false });
    expect(walker.walk().map((p) => p.pid)).toEqual(before);
    process.kill(child.pid, 'SIGHUP');
    const after = await waitFor('2 new workers', () => {
      const kids = walker.walk().filter((p) => p.state !== 'Z');
      return kids.length === 2 && kids.every((p) => !before.includes(p.pid)) ? kids.map((p) => p.pid) : undefined;
    });
    expect(after.sort()).toEqual(descendants(child.pid, { includeRoot: false }).filter((p) => p.state !== 'Z').map((p) => p.pid).sort());
  });

  it('a leader thread that exited: its fds are read from a live thread, not the empty /proc/PID/fd', async () => {
    const child = start([bin('exits-leader-thread-keeps-fds')]);
    await waitFor('the leader exited', () => (descendants(child.pid)[0]?.state === 'Z' ? true : undefined));
    expect(fdsOf(child.pid)).toBe(0);
    const counted = countTreeFds(child.pid);
    expect(counted.totalFds).toBeGreaterThanOrEqual(4);
    const listed = listTreeFds(child.pid);
    expect(listed.processes[0]?.fdDir).toMatch(new RegExp(`/proc/${child.pid}/task/\\d+/fd$`));
    expect(listed.totalFds).toBe(counted.totalFds);
    expect(listed.byKind?.device).toBeGreaterThanOrEqual(1);
  });

  it('a gone root: an empty tree', () => {
    expect(descendants(2 ** 22 + 9)).toEqual([]);
    expect(countTreeFds(2 ** 22 + 9)).toEqual({ processes: [], totalFds: 0 });
  });
});
