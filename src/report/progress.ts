/** A live status line on stderr, only on a TTY, redrawn at most every 50 ms. */
import type { Sample } from '../model/run-document.js';

export class Progress {
  readonly #state = new Map<string, { sample: Sample; planned: number }>();
  #last = 0;
  #shown = false;

  constructor(private readonly stream: NodeJS.WriteStream | undefined) {}

  get enabled(): boolean {
    return Boolean(this.stream?.isTTY);
  }

  update(label: string, sample: Sample, planned: number): void {
    if (!this.enabled) return;
    this.#state.set(label, { sample, planned });
    const now = performance.now();
    if (now - this.#last < 50) return;
    this.#last = now;
    const parts = [...this.#state].map(([l, { sample: s, planned: p }]) => `${l} reload ${s.reload}/${p} · ${s.fds} fds`);
    this.stream?.write(`\r\x1b[2K${parts.join('   ')}`);
    this.#shown = true;
  }

  clear(): void {
    if (this.#shown) this.stream?.write('\r\x1b[2K');
    this.#shown = false;
  }
}
