/**
 * A `ProcessView` that replays a trace written by `RecordingView`
 * (`repro watch --record-trace`), so the tree rules can be run on the real
 * readings of a real runtime without the runtime.
 *
 * Replay semantics:
 * - The trace is the readings in the order they were made. The view keeps a
 *   cursor. Each call is answered by the first record at or after the cursor
 *   with the same method and arguments, and the cursor moves just past it.
 *   Records the reader does not ask for are skipped over (the driver's other
 *   readings in between: delivery checks, samples).
 * - Time advances as the reader polls: `now()` is answered the same way from
 *   the `now` records (the clock the rules read while recording), so a rule
 *   that asks what it asked when recording sees the clock it saw.
 * - A reading not found ahead is answered as a vanished process would answer
 *   (undefined, an empty list, 0 fds, a "gone" ProbeError) and `exhausted`
 *   turns true; `now()` past the end moves on 10 ms per call, so a poll loop
 *   reaches its timeout instead of spinning.
 * - `sleep()` does not wait. `seek(mark)` moves the cursor to a mark the
 *   driver made (`signal` of reload 2, `baseline`), to replay one reload.
 * A rule that decides differently from the recorded one asks for different
 * readings at some point and from there gets later ones (or none): it does
 * not get the answer a live run would have given. Tests assert what the rule
 * decides on the readings it was given, which is the point.
 */
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { ProbeError, type ProbeFailure } from '../fdprobe/errors.js';
import type { FdEntry } from '../fdprobe/probe.js';
import type { FdKind } from './fd-kinds.js';
import type { StatFields, SyscallSite } from './parse.js';
import type { TraceLine } from './recording.js';
import type { FdStat, ProcessView, ThreadReading, TreeProcess, TreeWalk, WalkOptions } from './view.js';

/** A mark in a trace. */
export interface TraceMark {
  /** Index of the mark's line. */
  index: number;
  /** Its name (`baseline`, `signal`, `finished`…). */
  what: string;
  /** What the driver noted with it. */
  data: Record<string, unknown>;
  /** When, in ms since the recording began. */
  t: number;
}

export class RecordedView implements ProcessView {
  readonly root: string;
  /** The header line. */
  readonly header: Record<string, unknown>;
  readonly #lines: TraceLine[];
  /** key → indices of its lines, ascending. */
  readonly #byKey = new Map<string, number[]>();
  /** key → position in its index list of the next candidate. */
  readonly #next = new Map<string, number>();
  #cursor = 0;
  #pastEndMs = 0;
  /** A reading was asked for that the trace does not hold after the cursor. */
  exhausted = false;

  constructor(text: string) {
    const [head, ...rest] = text.split('\n').filter((l) => l.length > 0);
    this.header = JSON.parse(head ?? '{}') as Record<string, unknown>;
    this.root = String(this.header['root'] ?? '/proc');
    this.#lines = rest.map((l) => JSON.parse(l) as TraceLine);
    for (const [i, line] of this.#lines.entries()) {
      const key = keyOf(line.op, line.a);
      let list = this.#byKey.get(key);
      if (!list) this.#byKey.set(key, (list = []));
      list.push(i);
    }
  }

  /** Reads a trace file (gzip when it ends in `.gz`). */
  static load(path: string): RecordedView {
    const raw = readFileSync(path);
    return new RecordedView((path.endsWith('.gz') ? gunzipSync(raw) : raw).toString('utf8'));
  }

  /** Every mark, in order. */
  marks(what?: string): TraceMark[] {
    const out: TraceMark[] = [];
    for (const [index, line] of this.#lines.entries()) {
      if (line.op === 'mark' && (what === undefined || line.a[0] === what)) out.push({ index, what: String(line.a[0]), data: (line.r ?? {}) as Record<string, unknown>, t: line.t });
    }
    return out;
  }

  /** Moves the cursor to just after a mark. */
  seek(mark: TraceMark): void {
    this.#cursor = mark.index + 1;
    this.#next.clear();
    this.exhausted = false;
    this.#pastEndMs = 0;
  }

  /** The next line for (op, args) at or after the cursor, moving the cursor past it; undefined when there is none. */
  #take(op: string, a: unknown[]): TraceLine | undefined {
    const key = keyOf(op, a);
    const list = this.#byKey.get(key);
    if (!list) return this.#missing();
    let pos = this.#next.get(key) ?? 0;
    while (pos < list.length && (list[pos] as number) < this.#cursor) pos++;
    this.#next.set(key, pos);
    if (pos >= list.length) return this.#missing();
    const index = list[pos] as number;
    this.#cursor = index + 1;
    return this.#lines[index];
  }

  #missing(): undefined {
    this.exhausted = true;
    return undefined;
  }

  now(): number {
    const line = this.#take('now', []);
    if (line) return line.r as number;
    this.#pastEndMs += 10;
    return (this.#lines.at(-1)?.t ?? 0) + this.#pastEndMs;
  }

  async sleep(): Promise<void> {
    // Time is the trace's: nothing to wait for.
  }

  walker(rootPid: number, options: WalkOptions = {}): TreeWalk {
    return {
      walk: () => ((this.#take('walk', [rootPid, options.includeRoot !== false])?.r ?? []) as [number, number, string, string, number][]).map(([pid, ppid, comm, state, startTicks]): TreeProcess => ({ pid, ppid, comm, state, startTicks })),
    };
  }

  stat(pid: number, tid?: number): StatFields | undefined {
    return this.#take('stat', tid === undefined ? [pid] : [pid, tid])?.r as StatFields | undefined;
  }

  threadIds(pid: number): number[] {
    return (this.#take('threadIds', [pid])?.r ?? []) as number[];
  }

  threads(pid: number): ThreadReading[] {
    const rows = (this.#take('threads', [pid])?.r ?? []) as [number, string, string, SyscallSite, number][];
    return rows.map(([tid, comm, state, syscall, cpuTicks]) => ({ pid, tid, comm, state, syscall, cpuTicks }));
  }

  status(pid: number, tid?: number): string | undefined {
    return this.#take('status', tid === undefined ? [pid] : [pid, tid])?.r as string | undefined;
  }

  syscall(pid: number, tid: number): string | undefined {
    return this.#take('syscall', [pid, tid])?.r as string | undefined;
  }

  wchan(pid: number, tid: number): string | undefined {
    return this.#take('wchan', [pid, tid])?.r as string | undefined;
  }

  cmdline(pid: number, encoding: 'utf8' | 'latin1' = 'utf8'): string | undefined {
    return this.#take('cmdline', [pid, encoding])?.r as string | undefined;
  }

  comm(pid: number): string | undefined {
    return this.#take('comm', [pid])?.r as string | undefined;
  }

  limits(pid: number): string | undefined {
    return this.#take('limits', [pid])?.r as string | undefined;
  }

  hasExe(pid: number): boolean {
    return (this.#take('hasExe', [pid])?.r ?? false) as boolean;
  }

  readMem(pid: number, address: bigint, size: number): Buffer | undefined {
    const hex = this.#take('readMem', [pid, address.toString(), size])?.r as string | undefined;
    return hex === undefined ? undefined : Buffer.from(hex, 'hex');
  }

  fdDir(pid: number, leaderState: string): string | undefined {
    return this.#take('fdDir', [pid, leaderState])?.r as string | undefined;
  }

  countFds(dir: string): number {
    return (this.#take('countFds', [dir])?.r ?? 0) as number;
  }

  listFds(dir: string): FdEntry[] {
    const line = this.#take('listFds', [dir]);
    if (!line || line.e) {
      const pid = Number(/\/(\d+)\//.exec(dir)?.[1]);
      throw new ProbeError((line?.e?.failure ?? 'gone') as ProbeFailure, pid, line?.e?.message ?? `process ${pid} is gone`);
    }
    return (line.r as [number, FdKind, string][]).map(([fd, kind, target]) => ({ fd, kind, target }));
  }

  fdNumbers(dir: string): number[] | undefined {
    return this.#take('fdNumbers', [dir])?.r as number[] | undefined;
  }

  fdTarget(dir: string, fd: number): string | undefined {
    return this.#take('fdTarget', [dir, fd])?.r as string | undefined;
  }

  fdinfo(dir: string, fd: number): string | undefined {
    return this.#take('fdinfo', [dir, fd])?.r as string | undefined;
  }

  fdStat(dir: string, fd: number): FdStat | undefined {
    const r = this.#take('fdStat', [dir, fd])?.r as [string, string, string] | undefined;
    return r && { dev: BigInt(r[0]), ino: BigInt(r[1]), birthNs: BigInt(r[2]) };
  }

  mark(): void {
    // A replay notes nothing.
  }
}

function keyOf(op: string, a: readonly unknown[]): string {
  return `${op}${JSON.stringify(a)}`;
}
