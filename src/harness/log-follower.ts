/**
 * `repro watch --log FILE`: follows a log file the program writes (nginx's
 * error.log) the way `tail -F` does, and finds EMFILE text in it. It starts
 * at the file's size when repro starts (what was there before is not this
 * run's), reads what is appended, follows a rotation (the file renamed or
 * removed and a new one created under the path: the rest of the old file is
 * read first, then the new one from its start), a truncation (copytruncate:
 * read again from the start) and a file that does not exist yet (read from
 * its start once it appears). Lines are scanned one by one; memory is bounded
 * by one line (`MAX_LINE_CHARS`) and one read chunk.
 */
import { closeSync, fstatSync, openSync, readSync, statSync } from 'node:fs';
import { emfileLine } from './child-output.js';

/** A line longer than this is cut here and scanned as it is. */
export const MAX_LINE_CHARS = 64 * 1024;
const CHUNK_BYTES = 64 * 1024;

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
  #partial = '';
  #marked = false;
  #closed = false;
  /** The first EMFILE line before the mark, and the first after it. */
  before: LogHit | null = null;
  after: LogHit | null = null;

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
      this.#close();
      this.#open(true);
      if (this.#fd !== undefined) this.#drain();
    }
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
    } catch {
      // Not there yet (or not readable now): looked for again at the next poll.
    }
  }

  #close(): void {
    if (this.#fd !== undefined) closeSync(this.#fd);
    this.#fd = undefined;
  }

  #drain(): void {
    const fd = this.#fd as number;
    let size: number;
    try {
      size = fstatSync(fd).size;
    } catch {
      return;
    }
    // Truncated under us (copytruncate, `: > error.log`): what is there now is new.
    if (size < this.#offset) {
      this.#offset = 0;
      this.#partial = '';
    }
    const buffer = Buffer.allocUnsafe(CHUNK_BYTES);
    while (this.#offset < size) {
      let n: number;
      try {
        n = readSync(fd, buffer, 0, Math.min(CHUNK_BYTES, size - this.#offset), this.#offset);
      } catch {
        return;
      }
      if (n <= 0) return;
      this.#offset += n;
      this.#feed(buffer.toString('utf8', 0, n));
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

function statOf(path: string): { dev: number; ino: number } | undefined {
  try {
    const st = statSync(path);
    return st.isFile() ? { dev: st.dev, ino: st.ino } : undefined;
  } catch {
    return undefined;
  }
}
