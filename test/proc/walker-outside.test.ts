/**
 * The tree walk's memory of processes outside the tree (src/proc/procfs-view.ts), over a /proc
 * laid out in a temporary directory (pure logic: the walker reads stat files by path). The case
 * is a daemon's middle fork exiting while the walk runs: with pids wrapped, the daemon (lower pid)
 * is read while its parent is alive, and the parent is gone when its turn comes. The daemon is
 * re-parented to the tree's subreaper a moment later; the next walk must see it.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ProcfsView } from '../../src/proc/procfs-view.js';

let root: string | undefined;
afterEach(() => {
  if (root) rmSync(root, { recursive: true, force: true });
  root = undefined;
});

function fakeProc(): string {
  root = mkdtempSync(join(tmpdir(), 'repro-walker-'));
  return root;
}

/** A stat line with the fields the walker reads: state (3), ppid (4), pgrp (5), start time (22). */
function setStat(proc: string, pid: number, ppid: number, comm = `p${pid}`): void {
  mkdirSync(join(proc, String(pid)), { recursive: true });
  const fields = ['S', ppid, pid, pid, 0, -1, 4194304, 0, 0, 0, 0, 1, 1, 0, 0, 20, 0, 1, 0, 1000 + pid];
  writeFileSync(join(proc, String(pid), 'stat'), `${pid} (${comm}) ${fields.join(' ')} 0 0\n`);
}

describe('the tree walk remembers a process as outside only when its whole line of parents was read', () => {
  it('a daemon read while its parent vanished mid-walk is in the tree at the next walk, once re-parented to the root', () => {
    const proc = fakeProc();
    setStat(proc, 1, 0, 'init');
    setStat(proc, 100, 1, 'keeper');
    setStat(proc, 200, 300, 'daemon');
    // The middle fork: listed by readdir, but its stat is gone when read (it exited and was reaped).
    mkdirSync(join(proc, '300'));
    const walker = new ProcfsView(proc).walker(100, { includeRoot: false });
    expect(walker.walk().map((p) => p.pid)).toEqual([]);
    // The kernel re-parents the daemon to the subreaper (the root of the tree).
    setStat(proc, 200, 100, 'daemon');
    rmSync(join(proc, '300'), { recursive: true });
    expect(walker.walk().map((p) => p.pid)).toEqual([200]);
  });

  it('a process whose parents reach the top outside the tree is not read again until the full scan', () => {
    const proc = fakeProc();
    setStat(proc, 1, 0, 'init');
    setStat(proc, 100, 1, 'keeper');
    setStat(proc, 150, 100, 'program');
    setStat(proc, 400, 1, 'other');
    const walker = new ProcfsView(proc).walker(100, { includeRoot: false, fullScanEvery: 3 });
    expect(walker.walk().map((p) => p.pid)).toEqual([150]);
    // Not a real event (a parent does not change to a process outside its line): it shows that pid 400 is not read again.
    setStat(proc, 400, 150, 'other');
    expect(walker.walk().map((p) => p.pid)).toEqual([150]);
    expect(walker.walk().map((p) => p.pid)).toEqual([150]);
    // The full scan (every 3rd walk here) reads everything again.
    expect(walker.walk().map((p) => p.pid)).toEqual([150, 400]);
  });
});
