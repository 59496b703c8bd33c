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

/**
 * How long the run has taken and, once a few reloads say how fast it goes, about
 * how long the rest will take at that pace: a run whose rounds start a whole
 * runtime (runtime-teardown under Node, ~150 ms a round) is a minute or more
 * of a screen that would otherwise look stuck.
 */
export function timeLeft(reload: number, planned: number, elapsedMs: number): string {
  const elapsedS = Math.round(elapsedMs / 1000);
  if (elapsedMs < 2000 || reload < 2 || reload >= planned) return elapsedMs < 2000 ? '' : ` · ${elapsedS} s`;
  const leftS = Math.ceil((((planned - reload) * elapsedMs) / reload) / 1000);
  return ` · ${elapsedS} s, about ${leftS} s left at this pace`;
}

export class Progress {
  readonly #state = new Map<string, { sample: Sample; planned: number; startedMs: number }>();
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
    const now = performance.now();
    this.#state.set(label, { sample, planned, startedMs: this.#state.get(label)?.startedMs ?? now });
    if (now - this.#last < 50) return;
    this.#last = now;
    const parts = [...this.#state].map(([l, { sample: s, planned: p, startedMs }]) => `${l} reload ${s.reload}/${p} · ${s.fds} fds${timeLeft(s.reload, p, now - startedMs)}`);
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
