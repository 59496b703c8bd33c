/**
 * Issue 18 item 11: attribution names the right "who" on runtimes whose
 * stacks are mostly the runtime's. The pure rule on stacks recorded from real
 * runs (strace 6.1 -k), then real programs through the built CLI: a JVM
 * leaking a java.nio WatchService per SIGHUP (its JNI frames name the API),
 * a Tokio service opening files on its blocking pool (BlockingTask::poll is
 * Tokio's, not the program's; its own function is), and Node's async
 * fs.createWriteStream (libuv's threadpool: said, with how to find the
 * caller, and no JavaScript frame claimed).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { javaName, shownStack } from '../../src/attribution/stack.js';
import type { Frame } from '../../src/attribution/strace-line.js';
import type { RunDocument } from '../../src/model/run-document.js';
import { ensureRustBinaries, type RustProject } from '../../src/runtimes/cargo.js';
import { repro } from '../support/cli.js';

const libc = '/usr/lib/x86_64-linux-gnu/libc.so.6';
const fixtures = (path: string) => fileURLToPath(new URL(`../fixtures/${path}`, import.meta.url));

describe('which frames are the program\'s (stacks recorded from real runs)', () => {
  it('JVM: the JNI frame names the Java API (sun.nio.fs.LinuxWatchService.inotifyInit), not "no frame"; libjvm is the JVM\'s', () => {
    const nio = '/usr/lib/jvm/java-17-openjdk-amd64/lib/libnio.so';
    const s = shownStack([
      { object: libc, symbol: 'inotify_init' },
      { object: nio, symbol: 'Java_sun_nio_fs_LinuxWatchService_inotifyInit' },
    ]);
    expect(s).toMatchObject({ origin: 'runtime', frames: [{ object: nio, symbol: 'sun.nio.fs.LinuxWatchService.inotifyInit' }] });
    const jvm = '/usr/lib/jvm/java-17-openjdk-amd64/lib/server/libjvm.so';
    const java = '/usr/lib/jvm/java-17-openjdk-amd64/lib/libjava.so';
    const open = shownStack([
      { object: libc, symbol: '__open64' },
      { object: java, symbol: 'handleOpen' },
      { object: java, symbol: 'fileOpen' },
      { object: java, symbol: 'Java_java_io_FileInputStream_open0' },
      { object: jvm, symbol: 'JVM_Something' },
    ]);
    expect(open.frames.map((f) => f.symbol)).toEqual(['handleOpen', 'fileOpen', 'java.io.FileInputStream.open0']);
    expect(javaName('Java_com_example_my_1app_Cache_open__Ljava_lang_String_2')).toBe('com.example.my_app.Cache.open');
  });

  it('Tokio: BlockingTask::poll and std are the runtime\'s; the pool is named; the program\'s own function is its frame', () => {
    const exe = '/srv/tokio-blocking-open';
    const pool = shownStack([
      { object: libc, symbol: '__open64' },
      { object: exe, symbol: '<std::sys::fs::unix::File>::open_c' },
      { object: exe, symbol: '<std::fs::OpenOptions>::_open' },
      { object: exe, symbol: '<tokio::runtime::blocking::task::BlockingTask<T> as core::future::future::Future>::poll' },
      { object: exe, symbol: 'tokio::runtime::task::core::Core<T,S>::poll' },
      { object: exe, symbol: 'tokio::runtime::blocking::pool::Inner::run' },
      { object: exe, symbol: 'std::sys::pal::unix::thread::Thread::new::thread_start' },
      { object: libc, symbol: 'start_thread' },
    ] satisfies Frame[]);
    expect(pool).toMatchObject({ origin: 'none', frames: [], pool: 'tokio-blocking-pool' });
    const own = shownStack([
      { object: libc, symbol: '__open64' },
      { object: exe, symbol: '<std::fs::OpenOptions>::_open' },
      { object: exe, symbol: 'tokio_blocking_open::open_hosts_handle' },
      { object: exe, symbol: '<tokio::runtime::blocking::task::BlockingTask<T> as core::future::future::Future>::poll' },
    ]);
    expect(own).toMatchObject({ origin: 'program', pool: 'tokio-blocking-pool' });
    expect(own.frames.map((f) => f.symbol)).toEqual(['tokio_blocking_open::open_hosts_handle']);
  });

  it("Node: an open on libuv's threadpool (uv__fs_work ← worker) is marked as the pool's", () => {
    const node = '/usr/bin/node';
    const s = shownStack([
      { object: libc, symbol: '__open64' },
      { object: node, symbol: 'uv__fs_work' },
      { object: node, symbol: 'worker' },
      { object: libc, symbol: 'start_thread' },
    ]);
    expect(s).toMatchObject({ origin: 'runtime', pool: 'libuv-threadpool' });
    const sync = shownStack([
      { object: libc, symbol: '__open64' },
      { object: node, symbol: 'uv_fs_open' },
      { object: node, symbol: 'node::fs::Open(v8::FunctionCallbackInfo<v8::Value> const&)' },
    ]);
    expect(sync.pool).toBeUndefined();
  });
});

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'repro-runtime-frames-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function attribute(command: string[], extra: string[] = []) {
  const out = join(dir, `run-${Math.random().toString(36).slice(2)}.json`);
  const result = await repro(['watch', '--attribute', '--reloads', '4', '--out', out, ...extra, '--', ...command], { timeout: 150_000 });
  return { result, doc: JSON.parse(readFileSync(out, 'utf8')) as RunDocument };
}

describe('repro watch --attribute on runtimes', () => {
  it('JVM: a WatchService per SIGHUP is inotify_init + socketpair under sun.nio.fs.LinuxWatchService, not "no frame of the program"', async () => {
    execFileSync('javac', ['-nowarn', '-XDignore.symbol.file', '-d', dir, fixtures('services/LeaksWatchServicePerHup.java')], { stdio: 'ignore' });
    const { result, doc } = await attribute(['java', '-cp', dir, 'LeaksWatchServicePerHup', dir], ['--ready-timeout', '30000']);
    expect(result.exitCode, result.stderr).toBe(1);
    const groups = doc.attribution?.groups ?? [];
    const inotify = groups.find((g) => g.syscall === 'inotify_init' || g.syscall === 'inotify_init1');
    const pair = groups.find((g) => g.syscall === 'socketpair');
    expect(inotify).toMatchObject({ origin: 'call', count: 4, perReload: 1, createdAtReload: 1, frameOrigin: 'runtime' });
    expect(pair).toMatchObject({ origin: 'call', count: 8, perReload: 2, frameOrigin: 'runtime' });
    expect(inotify?.frames[0]?.symbol).toBe('sun.nio.fs.LinuxWatchService.inotifyInit');
    expect(pair?.frames[0]?.symbol).toBe('sun.nio.fs.LinuxWatchService.socketpair');
    expect(result.stdout).toContain('sun.nio.fs.LinuxWatchService.inotifyInit (libnio.so)');
    expect(result.stdout).not.toContain('no frame of the program');
  }, 180_000);

  it("Tokio: tokio::fs::File::open's openat is on the blocking pool with no program frame (not BlockingTask::poll); spawn_blocking's shows the program's function", async () => {
    const project: RustProject = { sourceDir: fixtures('runtimes/tokio-blocking-open'), binaries: ['tokio-blocking-open'], crates: [['tokio-1.', 'librust-tokio-dev']], packages: ['librust-tokio-dev'] };
    const bins = await ensureRustBinaries(project);
    const { result, doc } = await attribute([bins['tokio-blocking-open'] as string]);
    expect(result.exitCode, result.stderr).toBe(1);
    const groups = doc.attribution?.groups ?? [];
    const viaTokioFs = groups.find((g) => g.args?.includes('"/etc/hostname"'));
    const viaOwn = groups.find((g) => g.args?.includes('"/etc/hosts"'));
    expect(viaTokioFs).toMatchObject({ origin: 'call', syscall: 'openat', count: 4, frameOrigin: 'none', frames: [], workerPool: 'tokio-blocking-pool' });
    expect(viaOwn).toMatchObject({ origin: 'call', syscall: 'openat', count: 4, frameOrigin: 'program' });
    expect(viaOwn?.frames[0]?.symbol).toBe('tokio_blocking_open::open_hosts_handle');
    for (const g of groups) for (const f of g.frames) expect(f.symbol).not.toMatch(/^<?(?:tokio::runtime|std|core|alloc)::/);
    expect(result.stdout).toContain("no frame of the program in the stack: the call ran on Tokio's blocking pool");
  }, 600_000);

  it("Node: fs.createWriteStream's open is said to be async on libuv's threadpool, with how to find the caller; no JavaScript frame is claimed", async () => {
    const { result, doc } = await attribute([process.execPath, fixtures('services/opens-write-stream-per-hup-and-keeps-it.mjs')], ['--ready-timeout', '30000']);
    expect(result.exitCode, result.stderr).toBe(1);
    const g = doc.attribution?.groups.find((x) => x.args?.includes('repro-write-stream-'));
    expect(g).toMatchObject({ origin: 'call', syscall: 'openat', count: 4, createdAtReload: 1, frameOrigin: 'runtime', workerPool: 'libuv-threadpool' });
    expect(g?.frames.map((f) => f.symbol)).toEqual(['uv__fs_work', 'worker']);
    expect(result.stdout).toContain("async fs call: libuv's threadpool made it, so its JavaScript caller is in no native stack");
    expect(result.stdout).toContain('async_hooks init hook for FSREQCALLBACK');
  }, 180_000);
});
