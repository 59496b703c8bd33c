/**
 * Socket kinds are placed once per network namespace, not once per process:
 * the socket tables list every socket of the namespace, so the sockets of the
 * next process are known without reading them again (repro monitor's first
 * collection of 200 processes read the unix table 200 times). On a written
 * /proc, where only the first process has tables, and on real processes.
 */
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, describe, expect, it } from 'vitest';
import { ProcfsProbe } from '../../src/proc/procfs-probe.js';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const UNIX_HEADER = 'Num       RefCount Protocol Flags    Type St Inode Path';
const unixRow = (inode: number) => `0000000000000000: 00000003 00000000 00000000 0001 03 ${inode}`;

describe('socket kinds across processes', () => {
  it("places a second process's sockets from the tables read for the first (its own tables are never read)", () => {
    const root = mkdtempSync(join(tmpdir(), 'repro-socket-kinds-'));
    dirs.push(root);
    for (const [pid, inodes] of [[101, [5001, 5002]], [102, [5003, 5004]]] as const) {
      mkdirSync(join(root, String(pid), 'fd'), { recursive: true });
      inodes.forEach((inode, i) => symlinkSync(`socket:[${inode}]`, join(root, String(pid), 'fd', String(3 + i))));
    }
    // Only the first process has tables; the namespace's unix table lists all four sockets.
    mkdirSync(join(root, '101', 'net'));
    writeFileSync(join(root, '101', 'net', 'unix'), [UNIX_HEADER, ...[5001, 5002, 5003, 5004].map(unixRow), ''].join('\n'));
    const probe = new ProcfsProbe(root);
    expect(probe.listSync(101).map((e) => e.kind)).toEqual(['unix', 'unix']);
    expect(probe.listSync(102).map((e) => e.kind)).toEqual(['unix', 'unix']);
    // A fresh probe has read nothing: the second process alone has no table to be placed from.
    expect(new ProcfsProbe(root).listSync(102).map((e) => e.kind)).toEqual(['socket', 'socket']);
  });

  it('real processes: every socket (a socketpair, stdio socketpairs) is unix, in the first process listed and in the next', async () => {
    const holder = "import socket,sys; a,b=socket.socketpair(); print('ready', flush=True); sys.stdin.read()";
    const one = execa('python3', ['-c', holder], { stdin: 'pipe', reject: false });
    const two = execa('python3', ['-c', holder], { stdin: 'pipe', reject: false });
    // Both listeners at once: execa reads stdout itself, so a line that came before its listener would be missed.
    const ready = [one, two].map((child) => new Promise<void>((resolve) => child.stdout?.once('data', () => resolve())));
    try {
      await Promise.all(ready);
      const probe = new ProcfsProbe();
      for (const child of [one, two]) {
        // The socketpair, and the stdio pipes Node gives a child (socketpairs too).
        const sockets = probe.listSync(child.pid as number).filter((e) => e.target.startsWith('socket:'));
        expect(sockets.length).toBeGreaterThanOrEqual(2);
        expect(new Set(sockets.map((e) => e.kind))).toEqual(new Set(['unix']));
      }
    } finally {
      one.stdin?.end();
      two.stdin?.end();
      await Promise.all([one, two]);
    }
  });
});
