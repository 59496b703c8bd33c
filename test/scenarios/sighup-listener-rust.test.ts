/**
 * The Rust children of sighup-listener, built for real with cargo against
 * Debian's crates, run under a lowered fd limit and sent real SIGHUPs. fds are
 * counted from /proc/PID/fd here, independently of repro's probe and verdict.
 */
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { EnvironmentError, ExitCode } from '../../src/errors.js';
import { DEFAULT_SOURCE_DIR, ensureRustChildren, type RustChildren, sourceHash } from '../../src/runtimes/cargo.js';
import { findOnPath } from '../../src/util/find-executable.js';
import { isAlive } from '../support/processes.js';

const ULIMIT = 64;
const scratch = mkdtempSync(join(tmpdir(), 'repro-rust-'));
const cacheDir = join(scratch, 'cache');
let children: RustChildren;
const builds: string[] = [];
let concurrent: RustChildren[] = [];

beforeAll(async () => {
  // First use: two builds at once into an empty cache, as two repro processes would.
  concurrent = await Promise.all([1, 2].map(() => ensureRustChildren({ cacheDir, onBuild: (m) => builds.push(m) })));
  children = concurrent[0] as RustChildren;
}, 600_000);

afterAll(() => {
  rmSync(scratch, { recursive: true, force: true });
});

type Event = Record<string, unknown> & { event: string };

/** One child under `ulimit -n`, its stdout read as protocol lines. */
class Running {
  readonly process: ChildProcessWithoutNullStreams;
  readonly pid: number;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  #lines: string[] = [];
  #cursor = 0;
  #wake: (() => void) | undefined;
  stderr = '';

  constructor(binary: string) {
    this.process = spawn('/bin/sh', ['-c', `ulimit -n ${ULIMIT} || exit 125; exec "$0"`, binary], { detached: true, stdio: 'pipe' });
    this.pid = this.process.pid as number;
    createInterface({ input: this.process.stdout }).on('line', (line) => {
      this.#lines.push(line);
      this.#wake?.();
    });
    this.process.stderr.on('data', (chunk: Buffer) => (this.stderr += chunk.toString()));
    this.exited = new Promise((resolve) => this.process.on('close', (code, signal) => resolve({ code, signal })));
  }

  /** The next stdout line as a protocol event; fails after `ms` without one. */
  async next(ms = 10_000): Promise<Event> {
    const until = performance.now() + ms;
    while (this.#cursor >= this.#lines.length) {
      const left = until - performance.now();
      if (left <= 0) throw new Error(`no event from pid ${this.pid} within ${ms} ms; stderr: ${this.stderr}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.#wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
    return JSON.parse(this.#lines[this.#cursor++] as string) as Event;
  }

  /** Lines not read yet. */
  unread(): string[] {
    return this.#lines.slice(this.#cursor);
  }

  fds(): number {
    return readdirSync(`/proc/${this.pid}/fd`).length;
  }

  hup(): void {
    process.kill(this.pid, 'SIGHUP');
  }

  kill(): void {
    try {
      process.kill(-this.pid, 'SIGKILL');
    } catch {
      // gone
    }
  }
}

const running: Running[] = [];
function start(binary: string): Running {
  const child = new Running(binary);
  running.push(child);
  return child;
}

afterEach(async () => {
  for (const child of running.splice(0)) {
    child.kill();
    await child.exited;
  }
});

describe('build on first use', () => {
  it('two builds at once leave one cached build and no work directories', () => {
    expect(builds.length).toBeGreaterThan(0);
    expect(concurrent[1]).toEqual(concurrent[0]);
    expect(readdirSync(cacheDir)).toEqual([sourceHash(DEFAULT_SOURCE_DIR)]);
    for (const path of Object.values(children)) expect(existsSync(path)).toBe(true);
  });

  it('a second use takes the cached build without cargo', async () => {
    const emptyPath = mkdtempSync(join(scratch, 'no-cargo-'));
    const again: string[] = [];
    const paths = await ensureRustChildren({ cacheDir, env: { ...process.env, PATH: emptyPath }, onBuild: (m) => again.push(m) });
    expect(paths).toEqual(children);
    expect(again).toEqual([]);
  });

  it('the cache key follows the sources and the Debian crates, not timestamps', () => {
    const copy = join(scratch, 'sources');
    cpSync(DEFAULT_SOURCE_DIR, copy, { recursive: true });
    const registry = join(scratch, 'registry');
    mkdirSync(join(registry, 'tokio-1.24.2'), { recursive: true });
    const before = sourceHash(copy, registry);
    const lib = join(copy, 'src/lib.rs');
    utimesSync(lib, new Date(0), new Date(0));
    expect(sourceHash(copy, registry)).toBe(before);
    writeFileSync(lib, `${readFileSync(lib, 'utf8')}\n// edited\n`);
    const edited = sourceHash(copy, registry);
    expect(edited).not.toBe(before);
    mkdirSync(join(registry, 'tokio-1.25.0'));
    expect(sourceHash(copy, registry)).not.toBe(edited);
  });

  it('without cargo on PATH: one line, exit 3, saying what to install', async () => {
    const emptyPath = mkdtempSync(join(scratch, 'no-cargo-'));
    expect(findOnPath('cargo', emptyPath)).toBeUndefined();
    const error = await ensureRustChildren({ cacheDir: join(scratch, 'fresh-cache'), env: { ...process.env, PATH: emptyPath } }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(EnvironmentError);
    const { message, exitCode } = error as EnvironmentError;
    expect(exitCode).toBe(ExitCode.ENVIRONMENT);
    expect(message).not.toContain('\n');
    expect(message).toContain('missing: cargo)');
    expect(message).toContain('apt-get install -y cargo librust-tokio-dev librust-signal-hook-dev');
  });

  it("without Debian's crates: names the packages to install", async () => {
    const error = await ensureRustChildren({ cacheDir: join(scratch, 'fresh-cache'), registryDir: join(scratch, 'empty-registry') }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(EnvironmentError);
    expect((error as Error).message).toMatch(/^the rust runtime needs .*\(missing: librust-tokio-dev, librust-signal-hook-dev, librust-libc-dev\); install them with: apt-get install/);
  });

  it("a failed build: cargo's first error in one line, its whole output kept in a log", async () => {
    const copy = join(scratch, 'bad-sources');
    cpSync(DEFAULT_SOURCE_DIR, copy, { recursive: true });
    const manifest = join(copy, 'Cargo.toml');
    writeFileSync(manifest, readFileSync(manifest, 'utf8').replace(/^tokio = \{ version = "1"/m, 'tokio = { version = "99"'));
    const failCache = join(scratch, 'fail-cache');
    const error = await ensureRustChildren({ cacheDir: failCache, sourceDir: copy }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(EnvironmentError);
    const message = (error as Error).message;
    expect(message).not.toContain('\n');
    const match = /^building the rust children failed: (error.*tokio.*) \(cargo's output: (.+\.log)\)$/.exec(message);
    expect(match, message).not.toBeNull();
    expect(readFileSync(match?.[2] as string, 'utf8')).toContain(match?.[1] as string);
    expect(readdirSync(failCache).filter((n) => n.startsWith('.build-'))).toEqual([]);
  });
});

/** fds of the child after its `ready`, and the ready event itself. */
async function ready(child: Running, pattern: string): Promise<{ baseline: number; event: Event }> {
  const event = await child.next();
  expect(event).toMatchObject({ event: 'ready', pid: child.pid, scenario: 'sighup-listener', pattern, listeners: 1 });
  return { baseline: child.fds(), event };
}

describe('broken: a signal_hook Signals per reload, never closed', () => {
  it('+2 fds per reload, EMFILE at the predicted reload, then signal handling is dead', async () => {
    const child = start(children.broken);
    const { baseline, event } = await ready(child, 'broken');
    expect(event.runtime).toMatch(/^rust \d+\.\d+\.\d+, signal-hook 0\.3\.\d+$/);
    // Each reload needs a UnixStream pair: the last one that fits leaves fewer than 2 fds free.
    const emfileAt = Math.floor((ULIMIT - baseline) / 2) + 1;
    for (let seq = 1; seq < emfileAt; seq++) {
      child.hup();
      expect(await child.next()).toEqual({ event: 'reload', seq, listeners: seq + 1 });
      expect(child.fds()).toBe(baseline + 2 * seq);
    }
    child.hup();
    expect(await child.next()).toEqual({
      event: 'register-failed',
      seq: emfileAt,
      code: 'EMFILE',
      message: 'cannot register signal: Too many open files (os error 24)',
    });
    const held = child.fds();
    expect(held).toBe(baseline + 2 * (emfileAt - 1));
    // One more SIGHUP: caught (the process lives) but nothing reloads.
    child.hup();
    await new Promise((r) => setTimeout(r, 500));
    expect(child.unread()).toEqual([]);
    expect(isAlive(child.pid)).toBe(true);
    process.kill(child.pid, 'SIGTERM');
    expect(await child.next()).toEqual({ event: 'shutdown', closedFds: 0, removedListeners: 0, leakedFds: held - 3 });
    expect(await child.exited).toEqual({ code: 0, signal: null });
  });
});

describe("the write-up's code: tokio signal() per reload, held by a task", () => {
  it('fds stay flat past where broken hits EMFILE; listeners grow by one per reload', async () => {
    const child = start(children.tokioPerReload);
    const { baseline, event } = await ready(child, 'tokio-per-reload');
    expect(event.runtime).toMatch(/^rust \d+\.\d+\.\d+, tokio 1\.\d+\.\d+$/);
    for (let seq = 1; seq <= 200; seq++) {
      child.hup();
      expect(await child.next()).toEqual({ event: 'reload', seq, listeners: seq + 1 });
      expect(child.fds()).toBe(baseline);
    }
    process.kill(child.pid, 'SIGTERM');
    expect(await child.next()).toMatchObject({ event: 'shutdown', closedFds: 0, removedListeners: 0, leakedFds: baseline - 3 });
    expect(await child.exited).toEqual({ code: 0, signal: null });
  });
});

describe('correct: one signal() per process, broadcast fan-out, shutdown() on SIGTERM', () => {
  it('flat fds and one listener over 200 reloads; SIGTERM releases and exits 0', async () => {
    const child = start(children.correct);
    const { baseline } = await ready(child, 'correct');
    for (let seq = 1; seq <= 200; seq++) {
      child.hup();
      expect(await child.next()).toEqual({ event: 'reload', seq, listeners: 1, subscribers: 2, fannedOut: seq });
      expect(child.fds()).toBe(baseline);
    }
    process.kill(child.pid, 'SIGTERM');
    const shutdown = await child.next();
    expect(shutdown).toMatchObject({ event: 'shutdown', removedListeners: 3 });
    // What it closed and what it left add up to what it held beyond stdio, counted here.
    expect((shutdown.closedFds as number) + (shutdown.leakedFds as number)).toBe(baseline - 3);
    expect(shutdown.closedFds).toBeGreaterThan(0);
    expect(await child.exited).toEqual({ code: 0, signal: null });
  });
});

describe('every child leaves with its parent', () => {
  it.each(['broken', 'tokioPerReload', 'correct'] as const)('%s exits 0 when its stdin reaches end of file', async (which) => {
    const child = start(children[which]);
    await child.next();
    child.process.stdin.end();
    expect(await child.exited).toEqual({ code: 0, signal: null });
  });
});
