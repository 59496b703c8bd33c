/** A live status line on stderr, only on a terminal that can erase a line, redrawn at most every 50 ms. */
import type { Sample } from '../model/run-document.js';
import { ellipsize } from './text.js';

/** Erases the current line and returns the cursor to column 0. */
const ERASE_LINE = '\r\x1b[2K';

/** Every unfinished progress line: anything else that prints (the summary, an interruption notice) finishes them first. */
const live = new Set<Progress>();

/**
 * A terminal that can take cursor and erase sequences: a TTY whose TERM is not
 * `dumb` (Emacs shell buffers, some CI consoles print ESC sequences as text).
 */
export function canRedraw(stream: NodeJS.WriteStream | undefined, env: NodeJS.ProcessEnv = process.env): boolean {
  return Boolean(stream?.isTTY) && env.TERM !== 'dumb';
}

export class Progress {
  readonly #state = new Map<string, { sample: Sample; planned: number }>();
  #last = 0;
  #drawn = false;
  #finished = false;

  constructor(private readonly stream: NodeJS.WriteStream | undefined) {
    live.add(this);
  }

  get enabled(): boolean {
    return !this.#finished && canRedraw(this.stream);
  }

  update(label: string, sample: Sample, planned: number): void {
    if (!this.enabled) return;
    this.#state.set(label, { sample, planned });
    const now = performance.now();
    if (now - this.#last < 50) return;
    this.#last = now;
    const parts = [...this.#state].map(([l, { sample: s, planned: p }]) => `${l} reload ${s.reload}/${p} · ${s.fds} fds`);
    // A line longer than the terminal wraps, and erasing it would leave its first part on screen.
    const columns = this.stream?.columns || 80;
    this.stream?.write(`${ERASE_LINE}${ellipsize(parts.join('   '), Math.max(20, columns - 1))}`);
    this.#drawn = true;
  }

  /** Erases the line; later updates draw it again. */
  clear(): void {
    if (this.#drawn) this.stream?.write(ERASE_LINE);
    this.#drawn = false;
  }

  /** Erases the line for good: samples that arrive later (a compare's second run winding down) draw nothing. */
  finish(): void {
    this.#finished = true;
    live.delete(this);
    this.clear();
  }
}

/** Erases every progress line on screen, for good: call before printing anything that must start at column 0. */
export function finishProgress(): void {
  for (const progress of [...live]) progress.finish();
}
