/**
 * Reads a child's stdout and stderr: protocol events to whoever waits for
 * them, everything else kept up to a bound (both ends of each stream, the gap
 * marked), and the whole of each stream scanned for EMFILE text. A child that
 * floods output or never writes a newline costs at most `maxKeptBytes` +
 * `maxLineBytes` per stream.
 */
import type { KeptOutput } from '../model/run-document.js';
import { type ChildEvent, type OtherEvent, parseLine } from '../protocol/events.js';

export interface TimedEvent {
  event: ChildEvent;
  /** process.hrtime.bigint() when the line was parsed. */
  atNs: bigint;
}

/** The wait was cut short; `reason` says why, `phase` where. */
export class WaitError extends Error {
  constructor(
    readonly reason: 'timeout' | 'exited' | 'aborted',
    readonly phase: string,
    message: string,
  ) {
    super(message);
    this.name = 'WaitError';
  }
}

interface Waiter {
  match: (e: ChildEvent) => boolean;
  resolve: (e: TimedEvent) => void;
  reject: (e: WaitError) => void;
  phase: string;
  timer: NodeJS.Timeout;
}

/** The line that stands where the middle of a long stream was not kept. */
export function gapLine(bytes: number): string {
  return `… ${bytes} bytes not kept …`;
}

/**
 * Keeps both ends of a stream: the first `headChars` and the last
 * `tailChars` (UTF-16 units, so at most that many bytes of memory each way
 * round), and counts everything. What was dropped between them is marked in
 * the kept text by one line, `… N bytes not kept …`, and counted in `notKeptBytes`.
 */
export class Keeper {
  #head = '';
  #headFull = false;
  #tail: string[] = [];
  #tailChars = 0;
  bytes = 0;
  truncated = false;

  constructor(
    private readonly headChars = 16 * 1024,
    private readonly tailChars = 48 * 1024,
  ) {}

  add(text: string): void {
    this.bytes += Buffer.byteLength(text);
    let rest = text;
    if (!this.#headFull) {
      const room = this.headChars - this.#head.length;
      // Never split a surrogate pair: JSON would carry half a character.
      let cut = Math.min(room, rest.length);
      if (cut < rest.length && isHighSurrogate(rest.charCodeAt(cut - 1))) cut -= 1;
      this.#head += rest.slice(0, cut);
      rest = rest.slice(cut);
      if (rest.length === 0) return;
      this.#headFull = true;
    }
    this.#tail.push(rest);
    this.#tailChars += rest.length;
    while (this.#tailChars > this.tailChars) {
      const first = this.#tail[0] as string;
      const over = this.#tailChars - this.tailChars;
      if (first.length <= over) {
        this.#tail.shift();
        this.#tailChars -= first.length;
        this.truncated = true;
        continue;
      }
      let cut = over;
      if (isLowSurrogate(first.charCodeAt(cut))) cut += 1;
      this.#tail[0] = first.slice(cut);
      this.#tailChars -= cut;
      this.truncated = true;
    }
  }

  view(): KeptOutput {
    const tail = this.#tail.join('');
    if (!this.truncated) return { text: this.#head + tail, truncated: false, bytes: this.bytes };
    const notKeptBytes = this.bytes - Buffer.byteLength(this.#head) - Buffer.byteLength(tail);
    const gap = `${this.#head.endsWith('\n') || this.#head === '' ? '' : '\n'}${gapLine(notKeptBytes)}\n`;
    return { text: this.#head + gap + tail, truncated: true, bytes: this.bytes, notKeptBytes };
  }
}

const isHighSurrogate = (code: number) => code >= 0xd800 && code <= 0xdbff;
const isLowSurrogate = (code: number) => code >= 0xdc00 && code <= 0xdfff;

/** What the program said about running out of fds, and whether it said it after the first signal. */
export interface TextSeen {
  text: string;
  /** Written after `mark()` (the first signal), not at start-up. */
  afterMark: boolean;
}

/**
 * What says EMFILE in a program's words: the errno's name, its strerror text,
 * or errno 24 as nginx writes it, `(24: Too many open files)` (also under a
 * locale that translates the text).
 */
const EMFILE_SOURCE = String.raw`EMFILE|Too many open files|\(24: [^)\n]{1,60}\)`;
const EMFILE_TEXT = new RegExp(EMFILE_SOURCE, 'g');
const EMFILE_ONCE = new RegExp(EMFILE_SOURCE);
/** Enough of the previous chunk to find a phrase split across two chunks (the longest match is `(24: ` + 60 + `)`). */
const CARRY_CHARS = 65;

/** Does this text (a log line) say EMFILE? */
export function emfileLine(text: string): boolean {
  return EMFILE_ONCE.test(text);
}

/**
 * Scans the whole of one stream for EMFILE text as it arrives, in bounded
 * memory (a few characters carried from one chunk to the next), remembering
 * the first hit before and the first after the mark.
 */
class EmfileScanner {
  #carry = '';
  /** Characters seen so far. */
  #seen = 0;
  #markAt: number | null = null;
  before: TextSeen | null = null;
  after: TextSeen | null = null;

  mark(): void {
    this.#markAt ??= this.#seen;
  }

  feed(chunk: string): void {
    if (this.after) return;
    const window = this.#carry + chunk;
    const windowStart = this.#seen - this.#carry.length;
    EMFILE_TEXT.lastIndex = 0;
    for (let m = EMFILE_TEXT.exec(window); m; m = EMFILE_TEXT.exec(window)) {
      const afterMark = this.#markAt !== null && windowStart + m.index >= this.#markAt;
      if (afterMark) {
        this.after = { text: m[0], afterMark: true };
        break;
      }
      this.before ??= { text: m[0], afterMark: false };
    }
    this.#seen += chunk.length;
    this.#carry = window.slice(-CARRY_CHARS);
  }
}

export class ChildOutput {
  readonly stdout: Keeper;
  readonly stderr: Keeper;
  /** Events nobody has waited for yet, oldest first. */
  readonly #unclaimed: TimedEvent[] = [];
  readonly #waiters = new Set<Waiter>();
  #partial = '';
  #closed: WaitError | undefined;
  readonly #listeners: ((e: TimedEvent) => void)[] = [];
  readonly #otherListeners: ((e: OtherEvent) => void)[] = [];
  readonly #scanners = { stdout: new EmfileScanner(), stderr: new EmfileScanner() };

  /** Each stream keeps its first quarter of `maxKeptBytes` and its last three quarters. */
  constructor(
    maxKeptBytes = 64 * 1024,
    private readonly maxLineBytes = 64 * 1024,
  ) {
    const head = Math.floor(maxKeptBytes / 4);
    this.stdout = new Keeper(head, maxKeptBytes - head);
    this.stderr = new Keeper(head, maxKeptBytes - head);
  }

  /** From now on, EMFILE text counts as said after the first signal (call right before sending it). */
  mark(): void {
    this.#scanners.stdout.mark();
    this.#scanners.stderr.mark();
  }

  /**
   * EMFILE text the program wrote anywhere in either stream (the whole stream
   * is scanned, not only what is kept): the first said after `mark()`, else
   * the first said before it, else null.
   */
  emfileSeen(): TextSeen | null {
    const { stdout, stderr } = this.#scanners;
    return stderr.after ?? stdout.after ?? stderr.before ?? stdout.before;
  }

  /** Called for every event, before any waiter sees it. */
  onEvent(listener: (e: TimedEvent) => void): void {
    this.#listeners.push(listener);
  }

  /** Called for every well-formed event of a name the harness has no rules for (a scenario's own events). */
  onOtherEvent(listener: (e: OtherEvent) => void): void {
    this.#otherListeners.push(listener);
  }

  feedStdout(chunk: string): void {
    this.#scanners.stdout.feed(chunk);
    let text = this.#partial + chunk;
    let newline = text.indexOf('\n');
    while (newline >= 0) {
      this.#line(text.slice(0, newline));
      text = text.slice(newline + 1);
      newline = text.indexOf('\n');
    }
    if (text.length > this.maxLineBytes) {
      // A line with no end in sight is output, not protocol: keep its head, drop the rest.
      this.stdout.add(text);
      text = '';
    }
    this.#partial = text;
  }

  feedStderr(chunk: string): void {
    this.#scanners.stderr.feed(chunk);
    this.stderr.add(chunk);
  }

  /** No more output will come (the child exited); pending and future waits fail with `error`. */
  close(error: WaitError): void {
    if (this.#partial) this.#line(this.#partial);
    this.#partial = '';
    this.#closed = error;
    for (const waiter of [...this.#waiters]) this.#settle(waiter, () => waiter.reject(new WaitError(error.reason, waiter.phase, error.message)));
  }

  /** Resolves with the first event that matches, old or new; rejects on timeout, close or abort. */
  waitFor(match: (e: ChildEvent) => boolean, timeoutMs: number, phase: string, abort?: AbortSignal): Promise<TimedEvent> {
    const index = this.#unclaimed.findIndex((t) => match(t.event));
    if (index >= 0) return Promise.resolve(this.#unclaimed.splice(index, 1)[0] as TimedEvent);
    if (this.#closed) return Promise.reject(new WaitError(this.#closed.reason, phase, this.#closed.message));
    if (abort?.aborted) return Promise.reject(new WaitError('aborted', phase, 'aborted'));
    return new Promise((resolve, reject) => {
      const onAbort = () => this.#settle(waiter, () => reject(new WaitError('aborted', phase, 'aborted')));
      const waiter: Waiter = {
        match,
        phase,
        resolve: (e) => {
          abort?.removeEventListener('abort', onAbort);
          resolve(e);
        },
        reject: (e) => {
          abort?.removeEventListener('abort', onAbort);
          reject(e);
        },
        timer: setTimeout(() => this.#settle(waiter, () => waiter.reject(new WaitError('timeout', phase, `no answer within ${timeoutMs} ms`))), timeoutMs),
      };
      abort?.addEventListener('abort', onAbort, { once: true });
      this.#waiters.add(waiter);
    });
  }

  #settle(waiter: Waiter, action: () => void): void {
    if (!this.#waiters.delete(waiter)) return;
    clearTimeout(waiter.timer);
    action();
  }

  #line(line: string): void {
    const parsed = parseLine(line);
    if (!parsed) {
      this.stdout.add(`${line}\n`);
      return;
    }
    if ('other' in parsed) {
      for (const listener of this.#otherListeners) listener(parsed.other);
      return;
    }
    const event = parsed.known;
    const timed: TimedEvent = { event, atNs: process.hrtime.bigint() };
    for (const listener of this.#listeners) listener(timed);
    for (const waiter of this.#waiters) {
      if (waiter.match(event)) {
        this.#settle(waiter, () => waiter.resolve(timed));
        return;
      }
    }
    // Bounded: a child that sends events nobody asks for must not grow memory.
    if (this.#unclaimed.length >= 1000) this.#unclaimed.shift();
    this.#unclaimed.push(timed);
  }
}
