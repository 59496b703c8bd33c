/**
 * The fd-kind table (src/proc/fd-kinds.ts): classification of link targets,
 * and what each kind's fdinfo says, on this Node process's own epoll and
 * eventfd (libuv's) and on fdinfo texts as Linux writes them.
 */
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { describeFdinfo } from '../../src/attribution/fdinfo.js';
import { classifyTarget, describeFdinfoText, epollTargets, eventfdId, FD_CLASSES, FD_KINDS, fdinfoClass, inotifyWatches, parseRingFdinfo, signalfdMask } from '../../src/proc/fd-kinds.js';

/** This process's fds of one link target. */
function ownFds(target: string): number[] {
  return readdirSync('/proc/self/fd')
    .map(Number)
    .filter((fd) => {
      try {
        return readlinkSync(`/proc/self/fd/${fd}`) === target;
      } catch {
        return false;
      }
    });
}

describe('the fd-kind table', () => {
  it('has one entry per kind', () => {
    expect(FD_CLASSES.map((c) => c.kind).sort()).toEqual([...FD_KINDS].sort());
  });

  it('classifies every anon-inode name an entry lists, pipes and sockets by prefix, and paths by where they are', () => {
    for (const c of FD_CLASSES) for (const name of c.anonNames ?? []) expect(classifyTarget(`anon_inode:${name}`)).toBe(c.kind);
    expect(classifyTarget('pipe:[12]')).toBe('pipe');
    expect(classifyTarget('socket:[12]')).toBe('socket');
    expect(classifyTarget('anon_inode:[userfaultfd]')).toBe('other');
    expect(classifyTarget('/dev/null')).toBe('device');
    expect(classifyTarget('/tmp/x (deleted)')).toBe('deleted');
    expect(classifyTarget('/tmp/x')).toBe('file');
  });

  it("reads this process's own epoll (libuv's): its fdinfo is the eventpoll entry's, and names the fds it watches", () => {
    const [epoll] = ownFds('anon_inode:[eventpoll]');
    expect(epoll).toBeDefined();
    const text = readFileSync(`/proc/self/fdinfo/${epoll}`, 'utf8');
    expect(fdinfoClass(text)?.kind).toBe('eventpoll');
    const targets = epollTargets(text);
    expect(targets.length).toBeGreaterThan(0);
    expect(describeFdinfo(text)).toBe(describeFdinfoText(text));
    expect(describeFdinfo(text)).toMatch(/^epoll watching fds? \d+/);
  });

  it("reads this process's own eventfd: the eventfd entry, its count, and its unique id where the kernel gives one", () => {
    const [eventfd] = ownFds('anon_inode:[eventfd]');
    expect(eventfd).toBeDefined();
    const text = readFileSync(`/proc/self/fdinfo/${eventfd}`, 'utf8');
    expect(fdinfoClass(text)?.kind).toBe('eventfd');
    expect(describeFdinfo(text)).toMatch(/^eventfd, count \d+$/);
    if (/^eventfd-id:/m.test(text)) expect(eventfdId(text)).toMatch(/^\d+$/);
  });

  it('parses a signalfd mask, inotify watches and an io_uring queue, and says nothing for a plain file', () => {
    const signalfd = 'pos:\t0\nflags:\t02\nmnt_id:\t15\nino:\t1057\nsigmask:\t0000000000000001\n';
    expect(signalfdMask(signalfd)).toBe(1n);
    expect(describeFdinfo(signalfd)).toBe('signalfd for SIGHUP');
    const inotify = 'pos:\t0\nflags:\t00\nmnt_id:\t15\nino:\t1057\ninotify wd:1 ino:a2 sdev:fd00001 mask:fc6 ignored_mask:0 fhandle-bytes:8 fhandle-type:1 f_handle:a200000000000000\n';
    expect(inotifyWatches(inotify)).toEqual([{ ino: 'a2', sdev: 'fd00001' }]);
    expect(describeFdinfo(inotify)).toBe('inotify watching 1 inode (ino 0xa2 on dev 0xfd00001)');
    const ring = 'pos:\t0\nflags:\t02000002\nSQEs:\t1\n    0: opcode:CLOSE, fd:6, flags:0\nCQEs:\t0\n';
    expect(fdinfoClass(ring)?.kind).toBe('io_uring');
    expect(parseRingFdinfo(ring)).toEqual({ sqes: 1, closeFds: [6] });
    expect(describeFdinfo(ring)).toBeUndefined();
    expect(describeFdinfo('pos:\t0\nflags:\t0100000\nmnt_id:\t25\nino:\t12\n')).toBeUndefined();
  });
});
