/**
 * Keeps at most `capacity` samples however long the run: when full, every
 * other kept sample is dropped and from then on only every `stride`-th reload
 * is kept (the baseline and the latest sample always are). Uniform thinning
 * keeps the least-squares slope and the latency percentiles honest estimates
 * while memory stays flat.
 */
import type { Sample } from './run-document.js';

export class SampleBuffer {
  #kept: Sample[] = [];
  #latest: Sample | undefined;
  /** Reloads between two kept samples. */
  stride = 1;

  constructor(readonly capacity = 10_000) {
    if (capacity < 4) throw new Error('capacity must be at least 4');
  }

  add(sample: Sample): void {
    this.#latest = sample;
    if (sample.reload % this.stride !== 0) return;
    this.#kept.push(sample);
    if (this.#kept.length >= this.capacity) {
      this.stride *= 2;
      this.#kept = this.#kept.filter((s) => s.reload % this.stride === 0);
    }
  }

  get length(): number {
    return this.#kept.length;
  }

  /** The kept samples, with the latest appended when thinning skipped it. */
  toArray(): Sample[] {
    const last = this.#kept.at(-1);
    return this.#latest && last !== this.#latest ? [...this.#kept, this.#latest] : [...this.#kept];
  }

  at(index: number): Sample | undefined {
    return index === -1 ? this.#latest : this.#kept.at(index);
  }
}
