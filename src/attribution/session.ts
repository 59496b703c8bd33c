/**
 * `--attribute` for one run: checks that strace can trace here, puts it in
 * front of the program (`strace -DD`, so the program keeps the pid the
 * keeper reports), streams its output through a FIFO into the FdTracker,
 * keeps the tracer out of the measured tree, pins the survivors at the last
 * sample (reading their fdinfo while the processes live) and, once the tree
 * is gone and the trace has ended, reduces it to the attribution.
 *
 * The tracer is a descendant of the keeper (a subreaper: the tracer
 * re-parents to it), so it goes with the tree: SIGTERM at the end of a run
 * (strace detaches and exits, which ends the trace), SIGKILL when repro dies.
 * The FIFO and its directory are removed as soon as strace has opened it, so
 * a SIGKILLed repro leaves no /tmp/repro-trace-* behind.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, open as openFile, openSync, closeSync, constants as fsConstants, readFileSync, rmSync } from 'node:fs';
import { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EnvironmentError } from '../errors.js';
import type { Attribution } from '../model/run-document.js';
import { findOnPath } from '../util/find-executable.js';
import { readFdinfo } from './fdinfo.js';
import { reduceAttribution } from './reduce.js';
import { straceArgv } from './syscalls.js';
import { FdTracker, type Survivor } from './tracker.js';

/** What the preflight found: strace's path, version line and whether it records stacks. */
export interface Tracer {
  path: string;
  version: string;
  stacks: boolean;
}

/** How long the end of the trace is awaited after the tree is gone. */
const TRACE_END_MS = 5000;
/** At most this many survivors get their fdinfo read. */
const MAX_FDINFO = 256;

/**
 * strace is installed and may trace here; otherwise EnvironmentError (exit 3)
 * in one line saying what to install or allow. A real trace of a short
 * program, in the mode the run uses (-DD: the tracer is the program's
 * grandchild, which Yama's ptrace_scope 1 forbids), is the test.
 */
export function checkTracer(env: NodeJS.ProcessEnv = process.env): Tracer {
  const path = findOnPath('strace', env.PATH);
  if (!path) throw new EnvironmentError('--attribute needs strace, which is not on PATH: install it (apt-get install strace, dnf install strace, apk add strace)');
  const version = spawnSync(path, ['-V'], { encoding: 'utf8', timeout: 5000 });
  const first = (version.stdout ?? '').split('\n')[0] ?? '';
  const stacks = /stack-trace=/.test(version.stdout ?? '');
  const scope = ptraceScope();
  if (scope === 3) throw new EnvironmentError('--attribute needs ptrace, which this kernel forbids to everyone (kernel.yama.ptrace_scope = 3; it can only be lowered by a reboot)');
  const shell = findOnPath('true', env.PATH) ?? '/bin/true';
  const probe = spawnSync(path, ['-DD', '-f', '-qq', '--seccomp-bpf', '-e', 'trace=close', '-o', '/dev/null', '--', shell], { encoding: 'utf8', timeout: 10_000 });
  if (probe.status !== 0 || /Operation not permitted|ptrace/i.test(probe.stderr ?? '')) {
    const said = (probe.stderr ?? '').split('\n').find((l) => l.trim()) ?? probe.error?.message ?? `exit ${probe.status}`;
    const yama = scope !== undefined && scope > 0 ? `, and kernel.yama.ptrace_scope is ${scope}: set it to 0 (sysctl kernel.yama.ptrace_scope=0)` : '';
    throw new EnvironmentError(`--attribute: strace cannot trace here (${said.trim()}): allow ptrace (run as root or with CAP_SYS_PTRACE, e.g. docker run --cap-add SYS_PTRACE${yama})`);
  }
  return { path, version: first.replace(/^strace -- version /, 'strace '), stacks };
}

function ptraceScope(): number | undefined {
  try {
    return Number(readFileSync('/proc/sys/kernel/yama/ptrace_scope', 'utf8').trim());
  } catch {
    return undefined;
  }
}

export interface AttributionOptions {
  tracer: Tracer;
  /** The reload signal (`SIGHUP`). */
  signal: string;
  /** Deliveries from this pid mark reloads (repro's own). */
  senderPid?: number;
}

/** The session's side the watch driver calls. */
export interface TraceHook {
  /** The argv that starts `command` under strace. */
  command(command: readonly string[]): string[];
  /** Pids that are not part of the watched tree (the tracer); filled by attached(). */
  readonly excluded: Set<number>;
  /** After the program started: waits until the tracer is attached to it and leaves the tracer out of the tree. */
  attached(programPid: number, timeoutMs: number): Promise<void>;
  /** At the last sample, before teardown: the survivors (their fdinfo is read now). */
  pin(survivors: readonly Survivor[]): void;
  /** Why the program cannot be traced as it runs (it uses ptrace itself), as the sentence a run ends with; undefined while it can. */
  refusal?(): string | undefined;
  /** Aborted when refusal() first has a sentence: a wait on the program (which may be stuck because of it) stops at once. */
  readonly refused?: AbortSignal;
}

export class AttributionSession implements TraceHook {
  readonly excluded = new Set<number>();
  readonly #options: AttributionOptions;
  readonly #dir: string;
  readonly #fifo: string;
  readonly #tracker: FdTracker;
  #socket: Socket | undefined;
  #opening = false;
  #ended: Promise<void>;
  #markEnded: () => void = () => {};
  #rest = '';
  #fdinfo = new Map<string, string>();
  #commands = new Map<number, string>();
  #closed = false;
  readonly #refused = new AbortController();
  readonly refused = this.#refused.signal;

  constructor(options: AttributionOptions) {
    this.#options = options;
    this.#dir = mkdtempSync(join(tmpdir(), 'repro-trace-'));
    this.#fifo = join(this.#dir, 'strace.fifo');
    execFileSync('mkfifo', ['-m', '600', this.#fifo]);
    this.#tracker = new FdTracker({ signal: options.signal, senderPid: options.senderPid, tgidOf });
    this.#ended = new Promise((resolve) => (this.#markEnded = resolve));
    // The open waits (in libuv's pool) until strace opens the FIFO for writing; then the stream is read through a pipe handle.
    this.#opening = true;
    openFile(this.#fifo, fsConstants.O_RDONLY, (error, fd) => {
      this.#opening = false;
      // Both ends are open now (strace opens its -o output once): the name is no longer needed, so the FIFO and its directory go at once and nothing is left behind even if repro is SIGKILLed.
      rmSync(this.#dir, { recursive: true, force: true });
      if (error) return this.#markEnded();
      if (this.#closed) {
        closeSync(fd);
        return this.#markEnded();
      }
      const socket = new Socket({ fd, readable: true, writable: false });
      this.#socket = socket;
      socket.setEncoding('utf8');
      socket.on('data', (chunk: string) => this.#feed(chunk));
      socket.on('error', () => this.#markEnded());
      socket.on('close', () => {
        if (this.#rest) this.#tracker.line(this.#rest);
        this.#rest = '';
        this.#markEnded();
      });
    });
  }

  command(command: readonly string[]): string[] {
    return straceArgv(command, { strace: this.#options.tracer.path, output: this.#fifo, signal: this.#options.signal, stacks: this.#options.tracer.stacks });
  }

  async attached(programPid: number, timeoutMs: number): Promise<void> {
    const until = performance.now() + timeoutMs;
    for (;;) {
      const tracer = tracerOf(programPid);
      if (tracer) {
        this.excluded.add(tracer);
        return;
      }
      if (tracer === undefined || performance.now() > until) {
        throw new EnvironmentError(`--attribute: strace did not attach to the program (pid ${programPid}) within ${timeoutMs} ms; check that strace can trace here (strace -f -p ${programPid})`);
      }
      await new Promise((r) => setTimeout(r, 5));
    }
  }

  refusal(): string | undefined {
    const use = this.#tracker.ptraceUse;
    return use === undefined
      ? undefined
      : `cannot attribute: the program uses ptrace (${use}); strace already traces every process of the tree and a process has one tracer, so under --attribute the program does not run as it would: watch it without --attribute`;
  }

  pin(survivors: readonly Survivor[]): void {
    for (const pid of new Set(survivors.map((s) => s.pid))) {
      try {
        const argv = readFileSync(`/proc/${pid}/cmdline`, 'latin1').split('\0').filter(Boolean).join(' ');
        if (argv) this.#commands.set(pid, argv.slice(0, 200));
      } catch {
        // gone: the trace's command stands
      }
    }
    for (const s of survivors.slice(0, MAX_FDINFO)) {
      const said = readFdinfo(s.pid, s.fd);
      if (said) this.#fdinfo.set(`${s.pid}:${s.fd}`, said);
    }
    this.#tracker.pin(survivors);
  }

  /** After the tree is gone: waits for the end of the trace (bounded), then reduces it. */
  async result(reloads: number): Promise<Attribution> {
    let timer: NodeJS.Timeout | undefined;
    const ended = await Promise.race([this.#ended.then(() => true), new Promise<false>((r) => (timer = setTimeout(() => r(false), TRACE_END_MS)))]);
    clearTimeout(timer);
    const stats = this.#tracker.stats();
    const t = this.#options.tracer;
    const notes = [
      ...(ended ? [] : [`the trace did not end within ${TRACE_END_MS} ms of the run: what was read is attributed`]),
      ...(t.stacks ? [] : ['this strace was built without stack traces (-k): calls and reloads only']),
    ];
    // A program that takes the signal through a signalfd (or sigwait) has no delivery strace can see: the trace cannot tell reloads apart.
    const blind = this.#tracker.reload < reloads;
    if (blind) notes.push(`the trace saw ${this.#tracker.reload} of ${reloads} ${this.#options.signal} deliveries (the program takes it without a delivery strace can see, e.g. through a signalfd): the reloads shown are from the samples`);
    const reduced = reduceAttribution({
      resolutions: this.#tracker.finish().map((r) => (this.#commands.has(r.survivor.pid) ? { ...r, command: this.#commands.get(r.survivor.pid) } : r)),
      reloads,
      fdinfo: this.#fdinfo,
      tracer: `${t.version} -f${t.stacks ? ' -k' : ''} --seccomp-bpf`,
      stacks: t.stacks,
      trace: { lines: stats.lines, peakOpenFds: stats.peakOpenFds, sites: stats.sites },
      ...(notes.length ? { note: notes.join('; ') } : {}),
    });
    const attribution = blind ? { ...reduced, groups: reduced.groups.map(({ createdAtReload: _unknown, ...g }) => g) } : reduced;
    this.close();
    return attribution;
  }

  /** Releases the FIFO and its reader; idempotent. A reader still waiting for strace to open the FIFO is let go by a writer that opens and closes it. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#opening) {
      try {
        closeSync(openSync(this.#fifo, fsConstants.O_WRONLY | fsConstants.O_NONBLOCK));
      } catch {
        // no reader waiting after all
      }
    }
    this.#socket?.destroy();
    rmSync(this.#dir, { recursive: true, force: true });
  }

  #feed(chunk: string): void {
    const text = this.#rest + chunk;
    let start = 0;
    for (let nl = text.indexOf('\n'); nl >= 0; nl = text.indexOf('\n', start)) {
      this.#tracker.line(text.slice(start, nl));
      start = nl + 1;
    }
    this.#rest = text.slice(start);
    if (!this.#refused.signal.aborted && this.#tracker.ptraceUse !== undefined) this.#refused.abort();
    // A line longer than 64 KiB is not strace's (strings are cut at -s): drop it rather than hold it.
    if (this.#rest.length > 65_536) this.#rest = '';
  }
}

/** TracerPid of a process: a pid, 0 while untraced, undefined when it is gone. */
function tracerOf(pid: number): number | undefined {
  try {
    return Number(/^TracerPid:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
  } catch {
    return undefined;
  }
}

/** The process (Tgid) a thread belongs to, from /proc/TID/status; undefined when it is gone. */
function tgidOf(tid: number): number | undefined {
  try {
    const tgid = /^Tgid:\s+(\d+)/m.exec(readFileSync(`/proc/${tid}/status`, 'utf8'))?.[1];
    return tgid === undefined ? undefined : Number(tgid);
  } catch {
    return undefined;
  }
}
