/**
 * A trials run's part of the run document (sigchld-reap, signal-coalescing,
 * signal-safety): not a reload loop but N independent trials, each a fresh
 * child, a burst or storm of signals sent by repro, and one outcome read
 * after it (from /proc where the process shows it, else from the child's own
 * report), named by a class the scenario declares.
 */

/** One trial: a fresh child, the signals repro sent it, and what came of them. */
export interface TrialResult {
  /**
   * 1-based.
   * @minimum 1
   * @integer
   */
  trial: number;
  /** The outcome class, one of the scenario's (`zombies-left`, `coalesced`, `deadlock`, `survived`…), or `unknown` when repro could not tell. */
  outcome: string;
  /** The numbers the outcome was read from (e.g. `zombies`, `sent`, `handled`, `cpuFrozenMs`), by name. */
  counts: Record<string, number>;
  /** One sentence: what was seen, with its numbers. */
  detail: string;
  /**
   * Child start to outcome.
   * @minimum 0
   */
  elapsedMs: number;
}

/** What the trials were asked to do. */
export interface TrialsPlan {
  /**
   * Trials asked for (--reloads).
   * @minimum 0
   * @integer
   */
  trials: number;
  /** What one trial does, in one sentence (from the scenario). */
  procedure: string;
  /** Each outcome class the scenario can name, with what it means. */
  outcomes: Record<string, string>;
}

/** The trials of a run. */
export interface TrialsRecord {
  plan: TrialsPlan;
  /** Every trial that ran, in order. */
  results: TrialResult[];
  /** Trials per outcome class. */
  tally: Record<string, number>;
}

export interface TrialsRunRecord {
  /** N trials, each a burst or storm of signals and one outcome. */
  measurement: 'trials';
  /** The trials; absent when the run ended before the first one. */
  trials?: TrialsRecord;
}

/** What a trials role must show: every trial the same named outcome. */
export interface TrialsExpectation {
  /** The outcome class every trial must show (a broken role's own cause, or a correct role's clean outcome). */
  outcome: string;
  /**
   * Fewest trials that may decide the run: fewer ran (an interrupted run) is inconclusive.
   * @minimum 1
   * @integer
   */
  minTrials: number;
}
