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

/** Request latencies across repeated signals (signal-during-request): the bound and what each signal cost. */
export interface LatencyRecord {
  /**
   * p99 latency of the requests before the first signal, ms.
   * @minimum 0
   */
  baselineP99Ms: number;
  /**
   * A request answered later than this is lost, ms.
   * @minimum 0
   */
  boundMs: number;
  /** How the bound was derived from the baseline, in words. */
  boundRule: string;
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
  /** Per signal (bounded): when it was sent (ms after the first), the slowest answer until the next, and how many were over the bound. */
  perSignal: {
    /**
     * @minimum 0
     */
    atMs: number;
    /**
     * @minimum 0
     */
    maxMs: number;
    /**
     * @minimum 0
     * @integer
     */
    overBound: number;
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
