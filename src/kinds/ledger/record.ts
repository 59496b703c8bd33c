/** A ledger run's part of the run document (queue-drain's jobs, state-on-shutdown's increments). */
import type { EntrySummary } from './entries.js';

/** How the process ended after the signal, as the ledger kind reads it. */
export interface LedgerEnding {
  /**
   * `exited`: it ended by itself after the signal (by an exit code or by the signal's default action);
   * `killed-after-grace`: still there after the grace period, SIGKILLed by repro;
   * `stopped`: it served through the signals and repro stopped it once the exercise was over (signal-during-request);
   * `before-signal`: it ended before the signal was sent; `never-ready`: it never said ready; `aborted`: Ctrl-C.
   */
  how: 'exited' | 'killed-after-grace' | 'stopped' | 'before-signal' | 'never-ready' | 'aborted';
  /**
   * Its exit code (null when a signal ended it).
   * @integer
   */
  exitCode: number | null;
  /** The signal that ended it (null when it exited). */
  signal: string | null;
  /**
   * When it ended, ms after the signal.
   * @minimum 0
   */
  exitMs?: number;
  /**
   * When repro SIGKILLed it, ms after the signal (only when it was still there after the grace period).
   * @minimum 0
   */
  killMs?: number;
}

/**
 * Request latencies across repeated signals (signal-during-request): each
 * signal read against quiet instants of the same run (kinds/ledger/latency.ts).
 */
export interface LatencyRecord {
  /**
   * The median, over the quiet instants, of the lower median of the latencies in flight at each, ms; absent when no quiet instant had a request in flight.
   * @minimum 0
   */
  quietMs?: number;
  /**
   * A signal whose requests in flight have a lower median over this stalled them, ms; absent with `quietMs`.
   * @minimum 0
   */
  boundMs?: number;
  /** How the bound was derived, in words. */
  boundRule: string;
  /**
   * Quiet instants read (with a request in flight).
   * @minimum 0
   * @integer
   */
  quietInstants: number;
  /**
   * Quiet instants whose reading was over the bound too (the machine's own stalls).
   * @minimum 0
   * @integer
   */
  quietOverBound: number;
  /**
   * Signals whose requests in flight were stalled (reading over the bound).
   * @minimum 0
   * @integer
   */
  stalledSignals: number;
  /**
   * The slowest answer of the run, ms.
   * @minimum 0
   */
  maxMs: number;
  /**
   * Signals sent.
   * @minimum 0
   * @integer
   */
  signals: number;
  /**
   * When the first signal was sent, ms after the load started.
   * @minimum 0
   */
  firstSignalMs: number;
  /** Per signal (bounded): when it was sent (ms after the first), what it read, the slowest answer until the next, how many over the bound. */
  perSignal: {
    /**
     * Sent this long after the first signal, ms.
     * @minimum 0
     */
    atMs: number;
    /**
     * The lower median of the latencies in flight just after it (20 ms), ms; absent when none was.
     * @minimum 0
     */
    inFlightMs?: number;
    /** Its reading is over the bound: it stalled the requests in flight. */
    stalled: boolean;
    /**
     * The slowest answer from it until the next signal, ms.
     * @minimum 0
     */
    maxMs: number;
    /**
     * Answers over the bound from it until the next signal.
     * @minimum 0
     * @integer
     */
    overBound: number;
  }[];
  /** The requests (bounded: the first ones, and every one over the bound): when each started (ms after the load started) and its latency, ms. For the per-signal panel. */
  requests: {
    /**
     * @minimum 0
     */
    atMs: number;
    /**
     * @minimum 0
     */
    latencyMs: number;
  }[];
}

/** The ledger of a run whose process repro handed entries to across one signal. */
export interface LedgerRecord {
  /** What an entry is, in the singular (`job`, `increment`). */
  unit: string;
  /** What acknowledged means for this run, in words (`acknowledged by the worker`, `acknowledged and found in the state file`). */
  kept: string;
  /** The plan: when the signal came, how long the process had, the seed. */
  plan: {
    /**
     * The signal was sent right after this many entries were handed out.
     * @minimum 0
     * @integer
     */
    signalAfter: number;
    /**
     * After the signal, SIGKILL after this long.
     * @minimum 0
     */
    graceMs: number;
    /**
     * Seed of the signal's moment.
     * @integer
     */
    seed: number;
    /** The scenario's own settings that shape the work (workers, threads), as run. */
    work: Record<string, string | number>;
  };
  /** Every entry: handed out, acknowledged, lost by cause. */
  entries: EntrySummary;
  /** How the process ended after the signal. */
  ending: LedgerEnding;
  /** signal-during-request: the latency bound and each signal's cost. */
  latency?: LatencyRecord;
}

export interface LedgerRunRecord {
  /** Entries handed out across one signal, settled after the process ended. */
  measurement: 'ledger';
  /** The entries and how the process ended; absent when the run ended before any entry was handed out. */
  ledger?: LedgerRecord;
}
