/**
 * Reads a child's stdout and stderr: protocol events to whoever waits for
 * them, everything else kept up to a bound. A child that floods output or
 * never writes a newline costs at most `maxKeptBytes` + `maxLineBytes`.
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

export class Keeper {
  #chunks: string[] = [];
  #kept = 0;
  bytes = 0;
  truncated = false;

  constructor(private readonly maxBytes: number) {}

  add(text: string): void {
    this.bytes += Buffer.byteLength(text);
    if (this.#kept >= this.maxBytes) {
      this.truncated = true;
      return;
    }
    const room = this.maxBytes - this.#kept;
    const piece = text.length > room ? text.slice(0, room) : text;
    if (piece.length < text.length) this.truncated = true;
    this.#chunks.push(piece);
    this.#kept += piece.length;
  }

  view(): KeptOutput {
    return { text: this.#chunks.join(''), truncated: this.truncated, bytes: this.bytes };
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

  constructor(
    private readonly maxKeptBytes = 64 * 1024,
    private readonly maxLineBytes = 64 * 1024,
  ) {
    this.stdout = new Keeper(maxKeptBytes);
    this.stderr = new Keeper(maxKeptBytes);
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
