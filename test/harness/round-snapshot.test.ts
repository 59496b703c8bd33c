/**
 * What the rounds driver reads from /proc beyond the probe, on real fds and a
 * real stopped process; the io_uring fdinfo text is as Linux 6.18 wrote it for
 * the broken C child at its closes-queued marker.
 */
import { spawn } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { added, identities, parseRingFdinfo, processState } from '../../src/harness/drivers/round-snapshot.js';
import { waitFor } from '../support/processes.js';

const FDINFO = `pos:\t0
flags:\t02000002
mnt_id:\t17
ino:\t685840
SqMask:\t0x7
SqHead:\t0
SqTail:\t3
CachedSqHead:\t0
CqMask:\t0xf
CqHead:\t0
CqTail:\t0
CachedCqTail:\t0
SQEs:\t3
    0: opcode:CLOSE, fd:6, flags:0, off:0, addr:0x0, rw_flags:0x0, buf_index:0 user_data:0
    1: opcode:CLOSE, fd:7, flags:0, off:0, addr:0x0, rw_flags:0x0, buf_index:0 user_data:0
    2: opcode:CLOSE, fd:11, flags:0, off:0, addr:0x0, rw_flags:0x0, buf_index:0 user_data:0
CQEs:\t0
SqThread:\t-1
`;

describe('round snapshots', () => {
  it('reads the pending SQEs of an io_uring fdinfo and the fd each CLOSE would close; null for other fds', () => {
    expect(parseRingFdinfo(FDINFO)).toEqual({ sqes: 3, closeFds: [6, 7, 11] });
    expect(parseRingFdinfo('pos:\t0\nflags:\t02\nmnt_id:\t17\nino:\t12\n')).toBeNull();
  });

  it('tells fds apart by number, kind and inode: the same fd stays one identity, a reused number on another file is a new one', () => {
    const dir = mkdtempSync(join(tmpdir(), 'repro-ids-'));
    try {
      writeFileSync(join(dir, 'a'), 'a');
      writeFileSync(join(dir, 'b'), 'b');
      const fd = openSync(join(dir, 'a'), 'r');
      const entry = [{ fd, kind: 'file' as const, target: join(dir, 'a') }];
      const before = identities(process.pid, entry);
      expect(added(before, identities(process.pid, entry))).toEqual([]);
      closeSync(fd);
      const again = openSync(join(dir, 'b'), 'r');
      expect(again).toBe(fd);
      const after = identities(process.pid, [{ fd: again, kind: 'file', target: join(dir, 'b') }]);
      expect(added(before, after)).toHaveLength(1);
      closeSync(again);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('sees a process stop itself (T) and run again after SIGCONT; null once it is gone', async () => {
    const child = spawn('/bin/sh', ['-c', 'kill -STOP $$; exec sleep 30'], { stdio: 'ignore' });
    const pid = child.pid as number;
    try {
      await waitFor('stopped', () => (processState(pid) === 'T' ? true : undefined), 5000);
      process.kill(pid, 'SIGCONT');
      await waitFor('running again', () => (processState(pid) !== 'T' ? true : undefined), 5000);
    } finally {
      child.kill('SIGKILL');
      await new Promise((r) => child.once('exit', r));
    }
    expect(processState(pid)).toBeNull();
  });
});

describe('round snapshots key fds by the one fd identity', () => {
  it('the keys are src/proc/identity.ts keys (pid, fd, device, inode, birth time), and the values the round event shape', async () => {
    const { identitiesOf, identityKey } = await import('../../src/proc/identity.js');
    const dir = mkdtempSync(join(tmpdir(), 'repro-ids-'));
    try {
      writeFileSync(join(dir, 'a'), 'a');
      const fd = openSync(join(dir, 'a'), 'r');
      const entry = [{ fd, kind: 'file' as const, target: join(dir, 'a') }];
      const ids = identities(process.pid, entry);
      const one = identitiesOf(process.pid, entry, { statAll: true, eventfdIds: false });
      expect([...ids.keys()]).toEqual(one.map(identityKey));
      expect([...ids.keys()][0]).toMatch(new RegExp(`^${process.pid}:${fd}:file@\\d+:\\d+`));
      expect([...ids.values()]).toEqual([{ fd, kind: 'file', inode: one[0]?.inode }]);
      closeSync(fd);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
