/**
 * Requests by outcome over time, bounded: at most `maxBuckets` buckets
 * whatever the run's length. When a request falls past the last bucket, the
 * bucket width doubles and neighbours merge, so 100 000 requests cost the same
 * few kilobytes as 1 000. Requests are placed by the moment they started (so
 * a bucket's column reads "what became of the requests sent then").
 */
import { type Outcome, OUTCOMES, type TimelineData, type TimelineMarks } from '../../model/drain.js';

export type { TimelineBucket, TimelineData, TimelineMarks } from '../../model/drain.js';

interface Cell {
  counts: Record<Outcome, number>;
  lost: number;
}

const emptyCell = (): Cell => ({ counts: Object.fromEntries(OUTCOMES.map((o) => [o, 0])) as Record<Outcome, number>, lost: 0 });

export class Timeline {
  #bucketMs: number;
  #cells: Cell[] = [];
  readonly marks: TimelineMarks = {};

  constructor(
    bucketMs = 10,
    readonly maxBuckets = 240,
  ) {
    if (!(bucketMs > 0) || maxBuckets < 2) throw new RangeError('bucketMs must be > 0 and maxBuckets ≥ 2');
    this.#bucketMs = bucketMs;
  }

  get bucketMs(): number {
    return this.#bucketMs;
  }

  /** Adds one request that started `atMs` after the load started. */
  add(atMs: number, outcome: Outcome, lost: boolean): void {
    let index = Math.floor(Math.max(0, atMs) / this.#bucketMs);
    while (index >= this.maxBuckets) {
      this.#coarsen();
      index = Math.floor(Math.max(0, atMs) / this.#bucketMs);
    }
    while (this.#cells.length <= index) this.#cells.push(emptyCell());
    const cell = this.#cells[index] as Cell;
    cell.counts[outcome] += 1;
    if (lost) cell.lost += 1;
  }

  #coarsen(): void {
    const merged: Cell[] = [];
    for (let i = 0; i < this.#cells.length; i += 2) {
      const a = this.#cells[i] as Cell;
      const b = this.#cells[i + 1];
      const cell = emptyCell();
      for (const o of OUTCOMES) cell.counts[o] = a.counts[o] + (b?.counts[o] ?? 0);
      cell.lost = a.lost + (b?.lost ?? 0);
      merged.push(cell);
    }
    this.#cells = merged;
    this.#bucketMs *= 2;
  }

  toJSON(): TimelineData {
    const round = (n: number) => Math.round(n * 10) / 10;
    const marks = Object.fromEntries(Object.entries(this.marks).map(([k, v]) => [k, round(v as number)])) as TimelineMarks;
    return {
      bucketMs: this.#bucketMs,
      buckets: this.#cells.map((cell, i) => ({
        atMs: round(i * this.#bucketMs),
        counts: Object.fromEntries(OUTCOMES.filter((o) => cell.counts[o] > 0).map((o) => [o, cell.counts[o]])),
        lost: cell.lost,
      })),
      marks,
    };
  }
}
