/**
 * The streaming parser on strace output recorded from real programs
 * (test/attribution/fixtures/record.sh: a C program that makes every call the
 * parser knows, two threads racing on open/close, Python's os.pipe and Node's
 * fs.openSync per SIGHUP), plus the pure logic of pinning survivors.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { FdTracker, type Survivor } from '../../src/attribution/tracker.js';
import { parseStraceLine } from '../../src/attribution/strace-line.js';

const fixture = (name: string) => readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8').split('\n');
const pidOf = (lines: string[]) => Number((lines[0] as string).split(' ')[0]);

/** Feeds lines until (not including) the first that starts with `stop`. */
function feed(tracker: FdTracker, lines: string[], stop?: string): number {
  let i = 0;
  for (; i < lines.length; i++) {
    if (stop && (lines[i] as string).startsWith(stop)) break;
    tracker.line(lines[i] as string);
  }
  tracker.flush();
  return i;
}

describe('strace lines', () => {
  it('parses a call, a signal, an exit and a stack frame as strace -f -k -y prints them', () => {
    const lines = fixture('exercises-fd-calls.strace');
    const pipe = lines.find((l) => / pipe2\(\[\d+<pipe/.test(l)) as string;
    expect(parseStraceLine(pipe)).toMatchObject({ type: 'call', name: 'pipe2', ret: '0' });
    expect(parseStraceLine(lines.find((l) => l.includes('--- SIGHUP')) as string)).toMatchObject({ type: 'signal', signal: 'SIGHUP', senderPid: pidOf(lines) });
    expect(parseStraceLine(lines.find((l) => l.includes('+++ exited')) as string)).toMatchObject({ type: 'exit' });
    expect(parseStraceLine(lines.find((l) => l.includes('(open_listener_pipe+')) as string)).toMatchObject({ type: 'frame', frame: { symbol: 'open_listener_pipe' } });
    const node = fixture('node-open-per-hup.strace').find((l) => l.includes('(node::fs::Open(')) as string;
    expect(parseStraceLine(node)).toMatchObject({ type: 'frame', frame: { object: '/usr/bin/node', symbol: 'node::fs::Open(v8::FunctionCallbackInfo<v8::Value> const&)' } });
  });
});

describe('FdTracker on a C program that makes every call', () => {
  const lines = fixture('exercises-fd-calls.strace');
  const pid = pidOf(lines);
  const tracker = new FdTracker({ signal: 'SIGHUP' });
  feed(tracker, lines, `${pid} +++`);
  const fds = tracker.openFds(pid);
  const child = Number(/= (\d+)$/.exec(lines.find((l) => l.startsWith(`${pid} clone(`)) as string)?.[1]);

  it('keeps what open, dup, dup2, dup3 and fcntl F_DUPFD_CLOEXEC made, with their close-on-exec flags', () => {
    expect(fds.get(3)).toMatchObject({ syscall: 'openat', args: 'AT_FDCWD, "/etc/hostname", O_RDONLY', target: '/etc/hostname', cloexec: false, reload: 0 });
    expect(fds.get(40)).toMatchObject({ syscall: 'dup2', cloexec: false });
    expect(fds.get(41)).toMatchObject({ syscall: 'dup3', cloexec: true });
    expect(fds.get(50)).toMatchObject({ syscall: 'fcntl', cloexec: true });
    // F_SETFD 0 cleared the O_CLOEXEC it was opened with.
    expect(fds.get(4)).toMatchObject({ syscall: 'openat', cloexec: false });
  });

  it('drops what close and close_range closed, and sees the number taken again by the next call', () => {
    expect(fds.has(60)).toBe(false);
    expect(fds.has(61)).toBe(false);
    expect(fds.get(5)).toMatchObject({ syscall: 'socketpair', cloexec: true });
    expect(fds.get(5)?.target).toMatch(/^socket:\[\d+\]$/);
  });

  it('records an fd received through SCM_RIGHTS as received, by recvmsg', () => {
    expect(fds.get(7)).toMatchObject({ syscall: 'recvmsg', received: true });
    expect(fds.get(7)?.target).toBe(fds.get(8)?.target);
  });

  it('gives an fd a thread opened to its process (CLONE_THREAD)', () => {
    expect(fds.get(9)).toMatchObject({ syscall: 'eventfd2', creatorPid: pid });
    expect(fds.get(9)?.site.frames[0]?.symbol).toBe('thread_main');
  });

  it('stamps each pipe with the reload it was made in, and names the function of the program that made it', () => {
    expect(tracker.reload).toBe(2);
    expect([11, 12, 13, 14].map((fd) => fds.get(fd)?.reload)).toEqual([1, 1, 2, 2]);
    expect(fds.get(11)?.site).toMatchObject({ syscall: 'pipe2', origin: 'program' });
    expect(fds.get(11)?.site.frames.map((f) => f.symbol)).toEqual(['open_listener_pipe', 'main']);
  });

  it('copies the table to a forked child and drops its close-on-exec fds at execve', () => {
    const t = new FdTracker({ signal: 'SIGHUP' });
    feed(t, lines, `${child} +++`);
    const inChild = t.openFds(child);
    expect([...inChild.keys()].sort((a, b) => a - b)).toEqual([3, 4, 7, 8, 40]);
    expect(inChild.get(3)).toMatchObject({ syscall: 'openat', inheritedFrom: pid, creatorPid: pid });
    expect(t.commandOf(child)).toMatch(/ exec$/);
  });
});

describe('FdTracker on interleaved threads', () => {
  it('joins every `<unfinished ...>` with its `<... resumed>` line: 400 opens and 398 closes leave exactly the 2 last fds', () => {
    const lines = fixture('opens-in-two-threads.strace');
    expect(lines.filter((l) => l.includes('<unfinished ...>')).length).toBeGreaterThan(10);
    const pid = pidOf(lines);
    const tracker = new FdTracker({ signal: 'SIGHUP' });
    feed(tracker, lines, `${pid} +++`);
    const open = [...tracker.openFds(pid).values()].filter((r) => r.target === '/etc/hostname');
    expect(open).toHaveLength(2);
    expect(open.every((r) => r.site.frames[0]?.symbol === 'churn')).toBe(true);
    // The arguments come from the first half, the fd from the second: every record has both.
    const all = lines.filter((l) => l.includes('<... openat resumed>')).length;
    expect(all).toBeGreaterThan(0);
    expect(open.every((r) => r.args === 'AT_FDCWD, "/etc/hostname", O_RDONLY|O_CLOEXEC')).toBe(true);
  });
});

describe('FdTracker on interpreters', () => {
  it("Python: os.pipe in the SIGHUP handler, one pipe2 per reload; the frames are the interpreter's (marked runtime)", () => {
    const lines = fixture('python-pipe-per-hup.strace');
    const pid = pidOf(lines);
    const tracker = new FdTracker({ signal: 'SIGHUP' });
    feed(tracker, lines, `${pid} +++`);
    const pipes = [...tracker.openFds(pid).values()].filter((r) => r.syscall === 'pipe2');
    expect(pipes.map((r) => r.reload)).toEqual([1, 1, 2, 2, 3, 3]);
    expect(pipes[0]?.site.origin).toBe('runtime');
    expect(pipes[0]?.site.frames[0]?.object).toMatch(/python3/);
  });

  it("Node: fs.openSync in the SIGHUP listener, one openat per reload, under node::fs::Open", () => {
    const lines = fixture('node-open-per-hup.strace');
    const pid = pidOf(lines);
    const tracker = new FdTracker({ signal: 'SIGHUP' });
    feed(tracker, lines, `${pid} +++`);
    const opened = [...tracker.openFds(pid).values()].filter((r) => r.target === '/etc/hostname');
    expect(opened.map((r) => r.reload)).toEqual([1, 2, 3]);
    expect(opened[0]?.site.origin).toBe('runtime');
    expect(opened[0]?.site.frames.map((f) => f.symbol).join(' ')).toContain('node::fs::Open');
  });
});

describe('pinning survivors', () => {
  const lines = fixture('exercises-fd-calls.strace');
  const pid = pidOf(lines);

  it('matches a survivor with its record when the record goes later (the exit), and labels the rest', () => {
    const tracker = new FdTracker({ signal: 'SIGHUP' });
    const at = feed(tracker, lines, `${pid} +++`);
    const pipe = tracker.openFds(pid).get(11)?.target as string;
    const survivors: Survivor[] = [
      { pid, fd: 11, kind: 'pipe', object: pipe, reload: 1 },
      { pid, fd: 7, kind: 'pipe', object: tracker.openFds(pid).get(7)?.target as string, reload: 1 },
      // Never made by a traced call and never touched: it was there when the program started.
      { pid, fd: 1000, kind: 'file', object: '/dev/null@0:1', reload: 1 },
      // The number was used in the trace, but not for this object.
      { pid, fd: 12, kind: 'pipe', object: 'pipe:[1]', reload: 1 },
      // A process the trace never saw.
      { pid: 1, fd: 3, kind: 'file', object: '/x', reload: 1 },
    ];
    tracker.pin(survivors);
    for (const line of lines.slice(at)) tracker.line(line);
    const byFd = new Map(tracker.finish().map((r) => [`${r.survivor.pid}:${r.survivor.fd}`, r]));
    expect(byFd.get(`${pid}:11`)?.record).toMatchObject({ syscall: 'pipe2', reload: 1 });
    expect(byFd.get(`${pid}:7`)?.record).toMatchObject({ syscall: 'recvmsg', received: true });
    expect(byFd.get(`${pid}:1000`)).toMatchObject({ reason: 'inherited' });
    expect(byFd.get(`${pid}:12`)).toMatchObject({ reason: 'untraced-call' });
    expect(byFd.get('1:3')).toMatchObject({ reason: 'before-tracing' });
  });

  it('gives the pipes of a thread that exited before its clone line was read to its process, never "inherited" (issue 18 item 11)', () => {
    // The order strace -f printed for leaks-pipe-from-a-short-thread-per-hup.c: the new thread's pipe2 and its
    // exit before its parent's `<... clone3 resumed>`; /proc no longer has the thread when the tracker reads the line.
    const tracker = new FdTracker({ signal: 'SIGHUP', tgidOf: () => undefined });
    const lines = [
      '11590 execve("./shortthread", ["./shortthread"], 0x7ffd /* 20 vars */) = 0',
      '11590 --- SIGHUP {si_signo=SIGHUP, si_code=SI_USER, si_pid=11584, si_uid=0} ---',
      '11590 clone3({flags=CLONE_VM|CLONE_FS|CLONE_FILES|CLONE_SIGHAND|CLONE_THREAD|CLONE_SYSVSEM|CLONE_SETTLS|CLONE_PARENT_SETTID|CLONE_CHILD_CLEARTID, child_tid=0x7f3d941b5990, parent_tid=0x7f3d941b5990, exit_signal=0, stack=0x7f3d939b5000, stack_size=0x7fff80, tls=0x7f3d941b56c0} <unfinished ...>',
      '11627 pipe2([38<pipe:[9001]>, 39<pipe:[9001]>], 0) = 0',
      '11627 +++ exited with 0 +++',
      '11590 <... clone3 resumed> => {parent_tid=[0]}, 88) = 11627',
    ];
    for (const line of lines) tracker.line(line);
    tracker.pin([
      { pid: 11590, fd: 38, kind: 'pipe', object: 'pipe:[9001]', reload: 1 },
      { pid: 11590, fd: 39, kind: 'pipe', object: 'pipe:[9001]', reload: 1 },
    ]);
    const resolved = tracker.finish();
    expect(resolved.map((r) => r.reason)).toEqual([undefined, undefined]);
    expect(resolved.map((r) => r.record?.syscall)).toEqual(['pipe2', 'pipe2']);
    expect(resolved[0]?.record).toMatchObject({ reload: 1, creatorPid: 11590 });
  });

  it('counts reloads only from the sender it is told (repro), and per process the most any got', () => {
    const tracker = new FdTracker({ signal: 'SIGHUP', senderPid: 1 });
    feed(tracker, lines);
    expect(tracker.reload).toBe(0);
  });

  it('labels an fd of a process that set up io_uring and has no record as made by io_uring', () => {
    const tracker = new FdTracker({ signal: 'SIGHUP' });
    for (const l of ['10 io_uring_setup(8, {flags=0, sq_thread_cpu=0}) = 3<anon_inode:[io_uring]>', '10 --- SIGHUP {si_signo=SIGHUP, si_code=SI_USER, si_pid=9, si_uid=0} ---']) tracker.line(l);
    tracker.pin([{ pid: 10, fd: 4, kind: 'file', object: '/tmp/a@1:2', reload: 1 }]);
    expect(tracker.finish()[0]).toMatchObject({ reason: 'io-uring' });
  });
});

describe('bounded memory', () => {
  it('keeps only the open fds and the call sites: 100 replays of 400 opens per run end with at most 2 open and 3 sites', () => {
    const lines = fixture('opens-in-two-threads.strace');
    const tracker = new FdTracker({ signal: 'SIGHUP' });
    for (let i = 0; i < 100; i++) for (const l of lines) tracker.line(l);
    tracker.flush();
    const stats = tracker.stats();
    expect(stats.lines).toBe(100 * lines.length);
    expect(stats.peakOpenFds).toBeLessThanOrEqual(3);
    expect(stats.openFds).toBeLessThanOrEqual(2);
    expect(stats.sites).toBeLessThanOrEqual(3);
  });
});
