/**
 * The one ledger: every entry repro hands out (a request sent, a job given to
 * a worker, an increment sent to a service) ends acknowledged (answered) or
 * lost, and a lost entry carries its cause. Two layers share it:
 * - `EntryTally` is the bounded count of ends: totals, losses grouped by
 *   cause (a bounded number of groups, the rest counted as `otherLost`) and a
 *   bounded list of examples, so 100 000 entries cost what 1 000 do.
 *   graceful-drain's request ledger (harness/load/ledger.ts) is one: a request
 *   enters it when its outcome is known.
 * - `EntryLedger` follows entries by id from handed out to acknowledged, and
 *   settles the ones still out (or acknowledged but not found where they must
 *   be) as lost by a cause the caller names: queue-drain's jobs,
 *   state-on-shutdown's increments. It ends in an `EntryTally`.
 * Pure: no clock of its own (callers pass their times), no I/O.
 */

/** The bounded count of a ledger's ends: a cause group is `G`, an example `X`. */
export class EntryTally<G extends { count: number }, X> {
  readonly #causes = new Map<string, G>();
  readonly #examples: X[] = [];
  #total = 0;
  #lost = 0;
  #otherLost = 0;

  constructor(
    /** Most cause groups kept; a loss of a new cause past it counts in `otherLost`. */
    readonly maxCauses: number,
    /** Most examples kept. */
    readonly maxExamples: number,
  ) {}

  /** An entry that ended and was not lost. */
  settle(): void {
    this.#total += 1;
  }

  /** An entry lost: counted in the group of `key` (made by `group` when new) and kept as an example while there is room. */
  lose(key: string, group: () => G, example: () => X): void {
    this.#total += 1;
    this.#lost += 1;
    const known = this.#causes.get(key);
    if (known) known.count += 1;
    else if (this.#causes.size < this.maxCauses) this.#causes.set(key, group());
    else this.#otherLost += 1;
    if (this.#examples.length < this.maxExamples) this.#examples.push(example());
  }

  get total(): number {
    return this.#total;
  }

  get lost(): number {
    return this.#lost;
  }

  /** Losses of causes past `maxCauses`. */
  get otherLost(): number {
    return this.#otherLost;
  }

  /** The cause groups, most losses first (copies). */
  causes(): G[] {
    return [...this.#causes.values()].sort((a, b) => b.count - a.count).map((c) => ({ ...c }));
  }

  /** The examples, in the order they were lost (copies). */
  examples(): X[] {
    return this.#examples.map((e) => ({ ...e }));
  }
}

/** A loss cause of an `EntryLedger`: its words and how many entries it lost. */
export interface EntryCause {
  /** Why the entries were lost, in words (`handed out, never acknowledged: the worker exited 0`). */
  cause: string;
  /**
   * @minimum 1
   * @integer
   */
  count: number;
}

/** One lost entry, as an example. */
export interface EntryExample {
  /** The entry's id as repro handed it out. */
  id: string;
  /** When it was handed out, ms after the signal (negative: before it). */
  handedOutMs: number;
  /** Why it was lost. */
  cause: string;
}

/** An `EntryLedger`'s summary: what the run document keeps. */
export interface EntrySummary {
  /**
   * Entries handed out.
   * @minimum 0
   * @integer
   */
  handedOut: number;
  /**
   * Entries handed out after the signal.
   * @minimum 0
   * @integer
   */
  handedOutAfterSignal: number;
  /**
   * Entries acknowledged (and, where the ledger checks it, found where they must be).
   * @minimum 0
   * @integer
   */
  acknowledged: number;
  /**
   * Entries out (handed out, not acknowledged) when the signal was sent.
   * @minimum 0
   * @integer
   */
  outAtSignal: number;
  /**
   * Entries lost.
   * @minimum 0
   * @integer
   */
  lost: number;
  /**
   * Entries neither acknowledged nor lost: out when the process ended, and nothing was promised for them (an increment never acknowledged).
   * @minimum 0
   * @integer
   */
  unsettled: number;
  /** Losses grouped by cause, most first (bounded). */
  causes: EntryCause[];
  /**
   * Losses past the bounded cause list.
   * @minimum 0
   * @integer
   */
  otherLost: number;
  /** A few lost entries (bounded). */
  examples: EntryExample[];
}

interface Entry {
  handedOutAt: number;
  acknowledgedAt?: number;
}

/** What `settle` decides of one entry: lost with a cause, kept (acknowledged and where it must be), or unsettled. */
export type EntryEnd = { lost: string } | 'kept' | 'unsettled';

const MAX_CAUSES = 16;
const MAX_EXAMPLES = 10;

/** Entries followed by id, from handed out to acknowledged, settled once the process has ended. */
export class EntryLedger {
  readonly #entries = new Map<string, Entry>();
  #signalAt: number | undefined;
  #outAtSignal = 0;
  #afterSignal = 0;

  /** An entry handed out at `at`. */
  handOut(id: string, at: number): void {
    this.#entries.set(id, { handedOutAt: at });
    if (this.#signalAt !== undefined) this.#afterSignal += 1;
  }

  /** An entry acknowledged at `at`; false for an id never handed out (or acknowledged twice). */
  acknowledge(id: string, at: number): boolean {
    const entry = this.#entries.get(id);
    if (!entry || entry.acknowledgedAt !== undefined) return false;
    entry.acknowledgedAt = at;
    return true;
  }

  /** The signal was sent at `at`: entries out now are the ones it caught in flight. */
  markSignal(at: number): void {
    this.#signalAt = at;
    this.#outAtSignal = [...this.#entries.values()].filter((e) => e.acknowledgedAt === undefined).length;
  }

  get handedOut(): number {
    return this.#entries.size;
  }

  get acknowledged(): number {
    let n = 0;
    for (const e of this.#entries.values()) if (e.acknowledgedAt !== undefined) n += 1;
    return n;
  }

  /** Entries handed out, not acknowledged. */
  get out(): number {
    return this.handedOut - this.acknowledged;
  }

  /** Every entry judged by `end` (given whether it was acknowledged): the summary. */
  settle(end: (id: string, acknowledged: boolean) => EntryEnd): EntrySummary {
    const tally = new EntryTally<EntryCause, EntryExample>(MAX_CAUSES, MAX_EXAMPLES);
    let acknowledged = 0;
    let unsettled = 0;
    const from = this.#signalAt ?? 0;
    for (const [id, entry] of this.#entries) {
      const verdict = end(id, entry.acknowledgedAt !== undefined);
      if (verdict === 'kept') {
        acknowledged += 1;
        tally.settle();
      } else if (verdict === 'unsettled') {
        unsettled += 1;
      } else {
        const cause = verdict.lost;
        tally.lose(cause, () => ({ cause, count: 1 }), () => ({ id, handedOutMs: Math.round((entry.handedOutAt - from) * 10) / 10, cause }));
      }
    }
    return {
      handedOut: this.#entries.size,
      handedOutAfterSignal: this.#afterSignal,
      acknowledged,
      outAtSignal: this.#outAtSignal,
      lost: tally.lost,
      unsettled,
      causes: tally.causes(),
      otherLost: tally.otherLost,
      examples: tally.examples(),
    };
  }
}
