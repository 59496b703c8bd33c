/** fdinfo read from real fds of this process, the frames a stack shows, and the groups the views print (pure). */
import { execa } from 'execa';
import { readdirSync, readlinkSync } from 'node:fs';
import { constants as osConstants } from 'node:os';
import { describe, expect, it } from 'vitest';
import { readFdinfo } from '../../src/attribution/fdinfo.js';
import { reduceAttribution } from '../../src/attribution/reduce.js';
import { shownStack } from '../../src/attribution/stack.js';
import type { FdRecord, Resolution, Site } from '../../src/attribution/tracker.js';
import { closeFd, openSignalfd } from '../../src/native/libc.js';
import { attributionHeadline } from '../../src/report/facts.js';

const fdsOf = (prefix: string) => readdirSync('/proc/self/fd').filter((n) => readlinkSyncSafe(`/proc/self/fd/${n}`).startsWith(prefix)).map(Number);
function readlinkSyncSafe(path: string): string {
  try {
    return readlinkSync(path);
  } catch {
    return '';
  }
}

describe('fdinfo', () => {
  it('names a signalfd\'s signals and an epoll\'s targets (this process), and an inotify\'s watches (a Python child\'s)', async () => {
    const sfd = openSignalfd([osConstants.signals.SIGUSR1, osConstants.signals.SIGUSR2]);
    const child = execa('python3', ['-c', 'import ctypes, sys, time\nlibc = ctypes.CDLL(None)\nfd = libc.inotify_init()\nlibc.inotify_add_watch(fd, b"/tmp", 0x100)\nprint(fd, flush=True)\ntime.sleep(30)'], { reject: false, buffer: false });
    try {
      expect(readFdinfo(process.pid, sfd)).toBe('signalfd for SIGUSR1, SIGUSR2');
      const epoll = fdsOf('anon_inode:[eventpoll]');
      expect(epoll.map((fd) => readFdinfo(process.pid, fd)).some((d) => /^epoll watching fds? \d+/.test(d ?? ''))).toBe(true);
      const fd = Number(await new Promise<string>((resolve) => child.stdout?.once('data', (b: Buffer) => resolve(String(b)))));
      expect(readFdinfo(child.pid as number, fd)).toMatch(/^inotify watching 1 inode \(ino 0x[0-9a-f]+ on dev 0x[0-9a-f]+\)$/);
    } finally {
      child.kill('SIGKILL');
      await child;
      closeFd(sfd);
    }
  });
});

describe('shown frames', () => {
  const libc = '/usr/lib/x86_64-linux-gnu/libc.so.6';
  it('shows the program\'s own frames innermost first and folds libc and a Rust program\'s std frames', () => {
    const rust = '/srv/app/target/release/app';
    const s = shownStack([
      { object: libc, symbol: 'pipe2' },
      { object: rust, symbol: 'std::sys::pal::unix::pipe::anon_pipe' },
      { object: rust, symbol: 'signal_hook::iterator::Signals::new' },
      { object: rust, symbol: 'app::reload' },
      { object: rust, symbol: 'main' },
      { object: libc, symbol: '__libc_start_main' },
      { object: rust, symbol: '_start' },
    ]);
    expect(s).toMatchObject({ origin: 'program', folded: 4 });
    expect(s.frames.map((f) => f.symbol)).toEqual(['signal_hook::iterator::Signals::new', 'app::reload', 'main']);
  });
});

describe('groups', () => {
  const site: Site = { syscall: 'pipe2', frames: [{ object: '/srv/app', symbol: 'leak' }], origin: 'program', folded: 3, creates: 8, closes: 0, firstReload: 1 };
  const record = (reload: number): FdRecord => ({ syscall: 'pipe2', args: '[3, 4], O_CLOEXEC', site, reload, creatorPid: 7, command: 'app', cloexec: true, received: false });
  it('one group per process and call site, k per reload, first reload, and the labelled rest', () => {
    const resolutions: Resolution[] = [1, 1, 2, 2].map((reload, i) => ({ survivor: { pid: 7, fd: 3 + i, kind: 'pipe', object: 'pipe:[1]', reload }, record: record(reload), command: 'app --serve' }));
    resolutions.push({ survivor: { pid: 8, fd: 0, kind: 'socket', object: 'socket:[9]', reload: 1 }, reason: 'inherited', command: 'app worker' });
    const a = reduceAttribution({ resolutions, reloads: 2, tracer: 'strace 6.1', stacks: true, trace: { lines: 1, peakOpenFds: 4, sites: 1 } });
    expect(a).toMatchObject({ survivors: 5, attributed: 4 });
    expect(a.groups[0]).toMatchObject({ pid: 7, origin: 'call', count: 4, perReload: 2, firstReload: 1, fds: [3, 4, 5, 6] });
    expect(attributionHeadline(a.groups[0] as never)).toBe('2 per reload from pipe2([3, 4], O_CLOEXEC) in pid 7 (app --serve), first at reload 1, still open');
    expect(attributionHeadline(a.groups[1] as never)).toBe('1 fd inherited from the start (open before the program ran, passed down by its launcher) in pid 8 (app worker), first at reload 1, still open');
  });
});
