/**
 * A `ProcessView` that writes every reading it passes on to an NDJSON trace
 * (`repro watch --record-trace FILE`), one line per reading:
 * `{"t": ms since the recording began, "op": method, "a": [arguments], "r": result}`
 * (`"e": {failure, message}` instead of `r` when the reading threw a ProbeError).
 * bigints are written as decimal strings and buffers as hex; the first line
 * is a header (`{"trace": "repro-proc", "version": 1, ...}`). Marks the driver
 * makes (`baseline`, `signal`, `finished`) are lines with `op: "mark"`.
 * Lines are buffered and written in chunks: `close()` flushes.
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import { ProbeError } from '../fdprobe/errors.js';
import type { FdEntry } from '../fdprobe/probe.js';
import type { StatFields } from './parse.js';
import type { FdStat, ProcessView, ThreadReading, TreeProcess, TreeWalk, WalkOptions } from './view.js';

/** One line of a trace. */
export interface TraceLine {
  /** When, in ms since the recording began. */
  t: number;
  /** The ProcessView method (or `mark`). */
  op: string;
  /** Its arguments (for a mark: its name). */
  a: unknown[];
  /** What it returned, encoded (see the module comment); absent when it returned undefined or threw. */
  r?: unknown;
  /** What it threw, when it threw a ProbeError. */
  e?: { failure: string; pid: number; message: string };
}

export const TRACE_VERSION = 1;
const FLUSH_BYTES = 1 << 16;

export class RecordingView implements ProcessView {
  readonly #fd: number;
  readonly #t0: number;
  #buffered: string[] = [];
  #bytes = 0;

  constructor(
    private readonly inner: ProcessView,
    path: string,
    header: Record<string, unknown> = {},
  ) {
    this.#fd = openSync(path, 'w');
    this.#t0 = performance.now();
    this.#write({ trace: 'repro-proc', version: TRACE_VERSION, root: inner.root, ...header });
  }

  get root(): string {
    return this.inner.root;
  }

  #write(line: object): void {
    const text = `${JSON.stringify(line, (_key, value: unknown) => (typeof value === 'bigint' ? value.toString() : value))}\n`;
    this.#buffered.push(text);
    this.#bytes += text.length;
    if (this.#bytes >= FLUSH_BYTES) this.flush();
  }

  #record<T>(op: string, a: unknown[], read: () => T, encode: (r: NonNullable<T>) => unknown = (r) => r): T {
    const t = Math.round((performance.now() - this.#t0) * 1000) / 1000;
    try {
      const r = read();
      this.#write(r === undefined || r === null ? { t, op, a } : { t, op, a, r: encode(r as NonNullable<T>) });
      return r;
    } catch (error) {
      if (error instanceof ProbeError) this.#write({ t, op, a, e: { failure: error.failure, pid: error.pid, message: error.message } });
      throw error;
    }
  }

  flush(): void {
    if (this.#buffered.length === 0) return;
    writeSync(this.#fd, this.#buffered.join(''));
    this.#buffered = [];
    this.#bytes = 0;
  }

  close(): void {
    this.flush();
    closeSync(this.#fd);
  }

  now(): number {
    return this.#record('now', [], () => this.inner.now(), (r) => Math.round((r - this.#t0) * 1000) / 1000);
  }

  sleep(ms: number): Promise<void> {
    return this.inner.sleep(ms);
  }

  walker(rootPid: number, options: WalkOptions = {}): TreeWalk {
    const inner = this.inner.walker(rootPid, options);
    return { walk: () => this.#record<TreeProcess[]>('walk', [rootPid, options.includeRoot !== false], () => inner.walk(), encodeTree) };
  }

  stat(pid: number, tid?: number): StatFields | undefined {
    return this.#record('stat', tid === undefined ? [pid] : [pid, tid], () => this.inner.stat(pid, tid));
  }

  threadIds(pid: number): number[] {
    return this.#record('threadIds', [pid], () => this.inner.threadIds(pid));
  }

  threads(pid: number): ThreadReading[] {
    return this.#record('threads', [pid], () => this.inner.threads(pid), encodeThreads);
  }

  status(pid: number, tid?: number): string | undefined {
    return this.#record('status', tid === undefined ? [pid] : [pid, tid], () => this.inner.status(pid, tid), keepStatus);
  }

  syscall(pid: number, tid: number): string | undefined {
    return this.#record('syscall', [pid, tid], () => this.inner.syscall(pid, tid));
  }

  wchan(pid: number, tid: number): string | undefined {
    return this.#record('wchan', [pid, tid], () => this.inner.wchan(pid, tid));
  }

  cmdline(pid: number, encoding: 'utf8' | 'latin1' = 'utf8'): string | undefined {
    return this.#record('cmdline', [pid, encoding], () => this.inner.cmdline(pid, encoding));
  }

  comm(pid: number): string | undefined {
    return this.#record('comm', [pid], () => this.inner.comm(pid));
  }

  limits(pid: number): string | undefined {
    return this.#record('limits', [pid], () => this.inner.limits(pid));
  }

  hasExe(pid: number): boolean {
    return this.#record('hasExe', [pid], () => this.inner.hasExe(pid));
  }

  readMem(pid: number, address: bigint, size: number): Buffer | undefined {
    return this.#record('readMem', [pid, address.toString(), size], () => this.inner.readMem(pid, address, size), (b) => b.toString('hex'));
  }

  fdDir(pid: number, leaderState: string): string | undefined {
    return this.#record('fdDir', [pid, leaderState], () => this.inner.fdDir(pid, leaderState));
  }

  countFds(dir: string): number {
    return this.#record('countFds', [dir], () => this.inner.countFds(dir));
  }

  listFds(dir: string): FdEntry[] {
    return this.#record('listFds', [dir], () => this.inner.listFds(dir), (list) => list.map((e) => [e.fd, e.kind, e.target]));
  }

  fdNumbers(dir: string): number[] | undefined {
    return this.#record('fdNumbers', [dir], () => this.inner.fdNumbers(dir));
  }

  fdTarget(dir: string, fd: number): string | undefined {
    return this.#record('fdTarget', [dir, fd], () => this.inner.fdTarget(dir, fd));
  }

  fdinfo(dir: string, fd: number): string | undefined {
    return this.#record('fdinfo', [dir, fd], () => this.inner.fdinfo(dir, fd));
  }

  fdStat(dir: string, fd: number): FdStat | undefined {
    return this.#record('fdStat', [dir, fd], () => this.inner.fdStat(dir, fd), (s) => [s.dev.toString(), s.ino.toString(), s.birthNs.toString()]);
  }

  mark(what: string, data: Record<string, unknown> = {}): void {
    this.#write({ t: Math.round((performance.now() - this.#t0) * 1000) / 1000, op: 'mark', a: [what], r: data });
  }
}

/** Trees as rows: [pid, ppid, comm, state, startTicks]. */
function encodeTree(tree: TreeProcess[]): unknown {
  return tree.map((p) => [p.pid, p.ppid, p.comm, p.state, p.startTicks]);
}

/** Threads as rows: [tid, comm, state, syscall, cpuTicks] (the pid is the argument). */
function encodeThreads(threads: ThreadReading[]): unknown {
  return threads.map((t) => [t.tid, t.comm, t.state, t.syscall, t.cpuTicks]);
}

/** Only the status lines a rule reads (state, masks, RSS, ids): the rest is noise in a trace. */
function keepStatus(text: string): string {
  return text
    .split('\n')
    .filter((line) => /^(State|Tgid|Pid|PPid|TracerPid|Threads|SigQ|SigPnd|ShdPnd|SigBlk|SigIgn|SigCgt|VmRSS|VmHWM):/.test(line))
    .join('\n');
}
