/**
 * `repro watch --log FILE`: follows a log file the program writes (nginx's
 * error.log) the way `tail -F` does, and finds EMFILE text in it. It starts
 * at the file's size when repro starts (what was there before is not this
 * run's), reads what is appended, follows a rotation (the file renamed or
 * removed and a new one created under the path: the rest of the old file is
 * read first, then the new one from its start), a truncation (copytruncate:
 * read again from the start, also when the file grew past the old offset
 * again before the next poll) and a file that does not exist yet (read from
 * its start once it appears). Lines are scanned one by one; memory is bounded
 * by one line (`MAX_LINE_CHARS`) and one read chunk, and one poll reads at
 * most `MAX_READ_BYTES`: of more appended at once (a sparse multi-GB
 * extension, a flood), both ends are read and the middle is skipped and said
 * in `missed`, so a poll takes milliseconds and Ctrl-C is never kept waiting.
 */
import { closeSync, fstatSync, lstatSync, openSync, readdirSync, readSync, statSync, type Stats } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { emfileLine } from './child-output.js';

/** A line longer than this is cut here and scanned as it is. */
export const MAX_LINE_CHARS = 64 * 1024;
const CHUNK_BYTES = 64 * 1024;
/** Most read from one file in one poll: its first and last half of what was appended, the middle skipped. */
export const MAX_READ_BYTES = 2 * 1024 * 1024;
/** Bytes compared at the file's start and before the offset to tell a file truncated and written again from one that grew. */
const FINGERPRINT_BYTES = 256;
/** File times come from the kernel's coarse clock (a tick behind at most): a generation written right after a poll may look older than it by this much. */
const MTIME_GRAIN_MS = 20;
/** A rotated generation that starts like this is compressed (gzip, zstd, xz, bzip2): it cannot be scanned as text. */
const COMPRESSED = [Buffer.from([0x1f, 0x8b]), Buffer.from([0x28, 0xb5, 0x2f, 0xfd]), Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a]), Buffer.from('BZh')];

/** An EMFILE line found in the log. */
export interface LogHit {
  /** The whole line (without its newline). */
  line: string;
  /** Written after `mark()` (the first signal), not before. */
  afterMark: boolean;
}

export class LogFollower {
  #fd: number | undefined;
  #dev = 0;
  #ino = 0;
  #offset = 0;
  /** The file's first bytes and the bytes right before `#offset`, as last read. */
  #head: Buffer = Buffer.alloc(0);
  #beforeOffset: Buffer = Buffer.alloc(0);
  #partial = '';
  #marked = false;
  #closed = false;
  #lastPollMs = Date.now();
  /** The first EMFILE line before the mark, and the first after it. */
  before: LogHit | null = null;
  after: LogHit | null = null;
  /** What could not be read, one sentence each (a skipped middle, a rotated generation that is compressed). */
  readonly missed: string[] = [];

  /** Starts following `path` from its size now (0 when it does not exist yet). */
  constructor(readonly path: string) {
    this.#open(false);
  }

  /** From now on, EMFILE text counts as written after the first signal: reads what is there first (call right before the first signal). */
  mark(): void {
    this.poll();
    this.#partial = '';
    this.#marked = true;
  }

  /** Reads whatever was written since the last call; returns the first EMFILE line after the mark, or null. */
  poll(): LogHit | null {
    if (this.#closed || this.after) return this.after;
    if (this.#fd !== undefined) this.#drain();
    const now = statOf(this.path);
    if (now && (this.#fd === undefined || now.dev !== this.#dev || now.ino !== this.#ino)) {
      // Rotated (a new file under the path) or created since: the old one was read to its end above; the new one is read from its start.
      this.#flushPartial();
      if (this.#fd !== undefined) this.#readGenerationsBetween(now.ino);
      this.#close();
      this.#open(true);
      if (this.#fd !== undefined) this.#drain();
    }
    this.#lastPollMs = Date.now();
    return this.after;
  }

  /** Reads the rest, counts an unfinished last line, and closes the file. */
  close(): LogHit | null {
    this.poll();
    this.#flushPartial();
    this.#close();
    this.#closed = true;
    return this.after;
  }

  #open(fromStart: boolean): void {
    try {
      const fd = openSync(this.path, 'r');
      const st = fstatSync(fd);
      if (!st.isFile()) {
        closeSync(fd);
        return;
      }
      this.#fd = fd;
      this.#dev = st.dev;
      this.#ino = st.ino;
      this.#offset = fromStart ? 0 : st.size;
      this.#remember(fd);
    } catch {
      // Not there yet (or not readable now): looked for again at the next poll.
    }
  }

  #close(): void {
    if (this.#fd !== undefined) closeSync(this.#fd);
    this.#fd = undefined;
  }

  /** Keeps the fingerprints of the file as it is up to `#offset`. */
  #remember(fd: number): void {
    this.#head = readAt(fd, 0, Math.min(FINGERPRINT_BYTES, this.#offset));
    const from = Math.max(0, this.#offset - FINGERPRINT_BYTES);
    this.#beforeOffset = readAt(fd, from, this.#offset - from);
  }

  /** The file no longer holds what was read up to `#offset`: truncated and (maybe) written again past it. */
  #rewritten(fd: number, size: number): boolean {
    if (size < this.#offset) return true;
    if (this.#offset === 0) return false;
    return !readAt(fd, 0, this.#head.length).equals(this.#head) || !readAt(fd, this.#offset - this.#beforeOffset.length, this.#beforeOffset.length).equals(this.#beforeOffset);
  }

  #drain(): void {
    const fd = this.#fd as number;
    let size: number;
    try {
      size = fstatSync(fd).size;
    } catch {
      return;
    }
    // Truncated under us (copytruncate, `: > error.log`), and perhaps grown past where we were since: what is there now is new.
    if (this.#rewritten(fd, size)) {
      this.#offset = 0;
      this.#partial = '';
    }
    this.#offset = this.#readBounded(fd, this.#offset, size, this.path);
    this.#remember(fd);
  }

  /** Scans [from, to) of `fd`, at most MAX_READ_BYTES: both ends of more, the middle said in `missed`. Returns where it got to. */
  #readBounded(fd: number, from: number, to: number, name: string): number {
    if (to - from <= MAX_READ_BYTES) return this.#readRange(fd, from, to);
    const half = MAX_READ_BYTES / 2;
    const headEnd = this.#readRange(fd, from, from + half);
    this.#flushPartial();
    const skipped = to - half - headEnd;
    this.missed.push(`${skipped} bytes of ${name} not read (${to - from} were written between two samples; its first and last ${half / 1024 / 1024} MiB were)`);
    return this.#readRange(fd, to - half, to);
  }

  #readRange(fd: number, from: number, to: number): number {
    const buffer = Buffer.allocUnsafe(CHUNK_BYTES);
    let offset = from;
    while (offset < to) {
      let n: number;
      try {
        n = readSync(fd, buffer, 0, Math.min(CHUNK_BYTES, to - offset), offset);
      } catch {
        return offset;
      }
      if (n <= 0) return offset;
      offset += n;
      this.#feed(buffer.toString('utf8', 0, n));
    }
    return offset;
  }

  /**
   * Rotated more than once since the last poll: the generations in between
   * (renamed beside the path, written since then, neither the file held nor
   * the one now under the path) are read from their start; one that is
   * compressed is named in `missed`.
   */
  #readGenerationsBetween(newIno: number): void {
    const dir = dirname(this.path);
    const name = basename(this.path);
    let entries: string[];
    try {
      entries = readdirSync(dir);
    } catch {
      return;
    }
    const between = entries
      .filter((e) => e !== name && e.startsWith(name))
      .map((e) => ({ path: join(dir, e), st: lstatOrUndefined(join(dir, e)) }))
      .filter(({ st }) => st?.isFile() && st.dev === this.#dev && st.ino !== this.#ino && st.ino !== newIno && st.mtimeMs >= this.#lastPollMs - MTIME_GRAIN_MS)
      .sort((a, b) => (a.st?.mtimeMs ?? 0) - (b.st?.mtimeMs ?? 0));
    for (const generation of between) this.#readWhole(generation.path);
  }

  #readWhole(path: string): void {
    let fd: number;
    try {
      fd = openSync(path, 'r');
    } catch {
      this.missed.push(`${path}, rotated out between two samples, could not be opened`);
      return;
    }
    try {
      const size = fstatSync(fd).size;
      const start = readAt(fd, 0, 8);
      if (COMPRESSED.some((magic) => start.subarray(0, magic.length).equals(magic))) {
        this.missed.push(`${path} (${size} bytes), rotated out between two samples, is compressed: not read`);
        return;
      }
      this.#readBounded(fd, 0, size, path);
      this.#flushPartial();
    } finally {
      closeSync(fd);
    }
  }

  #feed(text: string): void {
    let rest = this.#partial + text;
    for (let newline = rest.indexOf('\n'); newline >= 0; newline = rest.indexOf('\n')) {
      this.#line(rest.slice(0, newline));
      rest = rest.slice(newline + 1);
    }
    while (rest.length > MAX_LINE_CHARS) {
      this.#line(rest.slice(0, MAX_LINE_CHARS));
      rest = rest.slice(MAX_LINE_CHARS);
    }
    this.#partial = rest;
  }

  #flushPartial(): void {
    if (this.#partial) this.#line(this.#partial);
    this.#partial = '';
  }

  #line(line: string): void {
    if (this.after || !emfileLine(line)) return;
    const hit = { line: line.replace(/\r$/, ''), afterMark: this.#marked };
    if (this.#marked) this.after = hit;
    else this.before ??= hit;
  }
}

/** Up to `length` bytes at `position` (fewer at the end of the file, none on an error). */
function readAt(fd: number, position: number, length: number): Buffer {
  if (length <= 0) return Buffer.alloc(0);
  const buffer = Buffer.alloc(length);
  try {
    return buffer.subarray(0, readSync(fd, buffer, 0, length, position));
  } catch {
    return Buffer.alloc(0);
  }
}

function lstatOrUndefined(path: string): Stats | undefined {
  try {
    return lstatSync(path);
  } catch {
    return undefined;
  }
}

function statOf(path: string): { dev: number; ino: number } | undefined {
  try {
    const st = statSync(path);
    return st.isFile() ? { dev: st.dev, ino: st.ino } : undefined;
  } catch {
    return undefined;
  }
}
