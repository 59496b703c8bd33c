import { describe, expect, it } from 'vitest';
import { diffSnapshots } from '../../src/fdprobe/diff.js';
import { parseSignalDisposition } from '../../src/fdprobe/procfs.js';

describe('diffSnapshots', () => {
  const before = [
    { fd: 3, kind: 'pipe' as const, target: 'pipe:[1]' },
    { fd: 4, kind: 'pipe' as const, target: 'pipe:[1]' },
    { fd: 5, kind: 'file' as const, target: '/var/log/a.log' },
  ];

  it('names what opened and closed, and the net change per kind', () => {
    const after = [...before.slice(0, 2), { fd: 6, kind: 'signalfd' as const, target: 'anon_inode:[signalfd]' }, { fd: 7, kind: 'signalfd' as const, target: 'anon_inode:[signalfd]' }];
    const diff = diffSnapshots(before, after);
    expect(diff.opened.map((e) => e.fd)).toEqual([6, 7]);
    expect(diff.closed.map((e) => e.fd)).toEqual([5]);
    expect(diff.netByKind).toEqual({ signalfd: 2, file: -1 });
  });

  it('counts an fd number reused for another target as closed and opened', () => {
    const after = [...before.slice(0, 2), { fd: 5, kind: 'file' as const, target: '/var/log/b.log' }];
    const diff = diffSnapshots(before, after);
    expect(diff.opened).toHaveLength(1);
    expect(diff.closed).toHaveLength(1);
    expect(diff.netByKind).toEqual({});
  });
});

describe('parseSignalDisposition', () => {
  // SIGHUP is bit 0, SIGPIPE (13) bit 12, SIGTERM (15) bit 14.
  const status = 'SigBlk:\t0000000000000000\nSigIgn:\t0000000000001000\nSigCgt:\t0000000000004001\n';
  it.each([
    [1, 'caught'],
    [13, 'ignored'],
    [15, 'caught'],
    [10, 'default'],
  ] as const)('signal %i is %s', (signo, disposition) => {
    expect(parseSignalDisposition(status, signo)).toBe(disposition);
  });
  it('a caught signal that is blocked is reported blocked', () => {
    expect(parseSignalDisposition('SigBlk:\t0000000000000001\nSigIgn:\t0\nSigCgt:\t0000000000000001\n', 1)).toBe('blocked');
  });
});
