/**
 * `repro monitor --log FILE --reload-pattern REGEX`: counts the reload lines a
 * service writes to its log (nginx's "signal 1 (SIGHUP) received … reconfiguring").
 * Followed as tail -F does: from the file's size when the exporter starts,
 * through a rotation (the rest of the old file is read, then the new one from
 * its start), a truncation (copytruncate: from the start again) and a file
 * that does not exist yet. Each poll reads at most MAX_READ_BYTES and keeps at
 * most one line, so memory stays bounded whatever the log does.
 */
import { closeSync, fstatSync, openSync, readSync, statSync } from 'node:fs';

const MAX_READ_BYTES = 1024 * 1024;
const MAX_LINE_CHARS = 64 * 1024;

export class ReloadLog {
  #fd: number | undefined;
  #ino = -1;
  #offset = 0;
  #partial = '';
  /** Reload lines read so far, with the exporter clock (ms) of the poll that read each. */
  readonly seenAtMs: number[] = [];
  /** Reload lines read so far. */
  count = 0;

  constructor(
    readonly path: string,
    private readonly pattern: RegExp,
  ) {
    this.#open(false);
  }

  /** Reads what was appended since the last poll; returns the number of new reload lines. */
  poll(nowMs: number): number {
    const before = this.count;
    let current: { ino: number; size: number } | undefined;
    try {
      const s = statSync(this.path);
      current = { ino: s.ino, size: s.size };
    } catch {
      current = undefined;
    }
    if (this.#fd !== undefined) {
      const size = fstatSync(this.#fd).size;
      if (size < this.#offset) this.#offset = 0; // truncated in place
      this.#drain(nowMs);
      if (current?.ino !== this.#ino) this.#close();
    }
    if (this.#fd === undefined && current) {
      this.#open(true);
      this.#drain(nowMs);
    }
    return this.count - before;
  }

  close(): void {
    this.#close();
  }

  #open(fromStart: boolean): void {
    try {
      this.#fd = openSync(this.path, 'r');
    } catch {
      this.#fd = undefined;
      return;
    }
    const s = fstatSync(this.#fd);
    this.#ino = s.ino;
    this.#offset = fromStart ? 0 : s.size;
    this.#partial = '';
  }

  #close(): void {
    if (this.#fd !== undefined) closeSync(this.#fd);
    this.#fd = undefined;
    this.#partial = '';
  }

  #drain(nowMs: number): void {
    const fd = this.#fd as number;
    const buffer = Buffer.alloc(64 * 1024);
    for (let total = 0; total < MAX_READ_BYTES; ) {
      const n = readSync(fd, buffer, 0, buffer.length, this.#offset);
      if (n <= 0) break;
      this.#offset += n;
      total += n;
      this.#feed(buffer.toString('utf8', 0, n), nowMs);
    }
  }

  #feed(text: string, nowMs: number): void {
    const lines = (this.#partial + text).split('\n');
    this.#partial = (lines.pop() as string).slice(0, MAX_LINE_CHARS);
    for (const line of lines) {
      if (!this.pattern.test(line.slice(0, MAX_LINE_CHARS))) continue;
      this.count++;
      this.seenAtMs.push(nowMs);
      // Only the times within the settle window are ever asked for: keep the tail.
      if (this.seenAtMs.length > 1024) this.seenAtMs.splice(0, 512);
    }
  }
}
