import { describe, expect, it } from 'vitest';
import { classifyTarget, countKinds } from '../../src/fdprobe/kinds.js';

describe('classifyTarget', () => {
  it.each([
    ['pipe:[12345]', 'pipe'],
    ['socket:[999]', 'socket'],
    ['anon_inode:[signalfd]', 'signalfd'],
    ['anon_inode:[eventfd]', 'eventfd'],
    ['anon_inode:[eventpoll]', 'eventpoll'],
    ['anon_inode:inotify', 'inotify'],
    ['anon_inode:[timerfd]', 'timerfd'],
    ['anon_inode:[pidfd]', 'pidfd'],
    ['anon_inode:[io_uring]', 'io_uring'],
    ['anon_inode:[userfaultfd]', 'other'],
    ['/dev/null', 'device'],
    ['/var/log/app.log', 'file'],
    ['/var/log/app.log (deleted)', 'deleted'],
    ['net:[4026531840]', 'other'],
  ])('classifies %s as %s', (target, kind) => {
    expect(classifyTarget(target)).toBe(kind);
  });

  it('counts kinds, leaving out kinds with none', () => {
    expect(countKinds(['pipe', 'pipe', 'signalfd'])).toEqual({ pipe: 2, signalfd: 1 });
  });
});
