/**
 * The one data model: a run is a plain JSON-serialisable object. Every output
 * (summary, chart, JSON, and the later formats) is a view of it; nothing
 * reaches back into the harness.
 */
import type { KindCounts } from '../fdprobe/kinds.js';
import type { ChildEvent } from '../protocol/events.js';

export const SCHEMA_VERSION = 1;

/** One probe after one reload (reload 0 is the baseline, taken after `ready`). */
export interface Sample {
  /** Reload number; 0 is the baseline before any signal. */
  reload: number;
  /** Since the run started (child spawned). */
  elapsedMs: number;
  /** Open fds of the child after this reload. */
  fds: number;
  fdsByKind: KindCounts;
  /** Signal listeners the child reported (protocol children only). */
  listeners?: number;
  /** Resident set size of the child. */
  rssKb?: number;
  /** kill() → acknowledgement line received; absent for the baseline and unacknowledged reloads. */
  roundTripMs?: number;
  /** watch: kill() → fd count unchanged for the settle window (the window included). */
  settleMs?: number;
}

/** How the run ended. */
export type EndReason =
  | 'reloads-done'
  | 'emfile'
  | 'never-settled'
  | 'signal-ignored'
  | 'child-exited'
  | 'ready-timeout'
  | 'ack-timeout'
  | 'probe-failed'
  | 'aborted';

/** How the child ended. */
export interface ChildExit {
  /** Exit code, when it exited. */
  exitCode: number | null;
  /** Signal name, when a signal ended it. */
  signal: string | null;
  /** True when the harness had to SIGKILL it after the grace period. */
  forced: boolean;
  /** How long teardown waited for it. */
  teardownMs: number;
}

/** Bounded text the child wrote outside the protocol. */
export interface KeptOutput {
  /**
   * What was kept: all of it, or the start and the end of the stream with one
   * line `… N bytes not kept …` where the middle was dropped.
   */
  text: string;
  /** True when more was written than kept. */
  truncated: boolean;
  /** Total bytes written. */
  bytes: number;
  /** Bytes dropped between the kept start and end (absent when nothing was, and in documents whose text is only the start). */
  notKeptBytes?: number;
}

export interface Verdict {
  /** Did the run show what its pattern is expected to show? */
  pass: boolean;
  /**
   * watch: the program did not take the reloads (died on the signal, ignores
   * it, exited early, never settled), so the run shows neither a leak nor its absence.
   */
  inconclusive?: boolean;
  /** One sentence per check, failed ones first. */
  reasons: string[];
  /** fds at reload 0. */
  baselineFds: number;
  /** fds at the last sample. */
  finalFds: number;
  /** Least-squares slope of fds over reloads (fd/reload). */
  growthPerReload: number;
  /** Least-squares slope per fd kind, kinds that moved only. */
  growthByKind: KindCounts;
  /** Reload at which the child reported EMFILE (or another register failure). */
  emfileAtReload: number | null;
  /** errno code of the register failure, e.g. `EMFILE`. */
  registerFailure: string | null;
  /** Where (limit − baseline) / growth puts the first failing reload. */
  predictedEmfileAtReload: number | null;
  /** After a register failure, did one more signal still cause a reload? */
  signalHandling: 'alive' | 'dead' | 'not-checked';
  listenersStart: number | null;
  listenersEnd: number | null;
  /** Acknowledged reloads. */
  reloadsDone: number;
  latencyMs: { p50: number | null; p99: number | null };
  /** Child RSS at the first and last sample. */
  rssKb: { start: number | null; end: number | null };
}

/** `--baseline OLD.json`: growth per reload now against the saved document's. */
export interface BaselineCheck {
  /** The saved document, as named on the command line. */
  file: string;
  /** Largest rise in growth per reload that still passes (fd/reload). */
  tolerance: number;
  runs: { run: RunDocument['pattern']; before: number; after: number; change: number; regressed: boolean }[];
  /** No run regressed. */
  pass: boolean;
}

export interface RunDocument {
  schemaVersion: typeof SCHEMA_VERSION;
  kind: 'run';
  /** Scenario name, or `watch` for `repro watch`. */
  scenario: string;
  pattern: 'broken' | 'correct' | 'watch';
  /** Native channel of the bundled children; `-` for watch. */
  channel: string;
  signal: string;
  /** The child command line (without the ulimit launcher). */
  command: string[];
  /** RLIMIT_NOFILE (soft limit) the child ran under: lowered by --ulimit, or what it had. */
  ulimit: number;
  /** watch: attached to a running process (`--pid`) rather than spawned. */
  attached?: boolean;
  /** watch: EMFILE seen without the protocol: fds at the limit, or the program saying so. */
  emfileObserved?: { reload: number; evidence: string };
  /** watch: what the process did with the signal when the run started. */
  signalDisposition?: 'caught' | 'ignored' | 'blocked' | 'default';
  /** Reloads asked for. */
  reloadsPlanned: number;
  /** watch: the gate the growth was judged by (`--max-growth`, fd/reload). */
  maxGrowthPerReload?: number;
  /**
   * fds the child held at the baseline with numbers at or above the limit
   * (inherited from whoever started the harness). They count, but take no
   * slot below the limit, so the EMFILE prediction leaves them out.
   */
  fdsAboveLimitAtStart: number;
  platform: { os: string; arch: string; release: string; node: string; probe: string };
  startedAt: string;
  pid: number | null;
  /**
   * Samples, oldest first. Long runs are thinned to a bounded number: then
   * only every `sampleStride`-th reload is kept (plus the baseline and the last).
   */
  samples: Sample[];
  /** Reloads between two kept samples (1: every reload). */
  sampleStride: number;
  /** The harness's own peak RSS at the end of the run: it must stay bounded however long the run. */
  harnessPeakRssKb: number;
  /** Protocol events other than per-reload acknowledgements (those are in samples). */
  events: ChildEvent[];
  end: {
    reason: EndReason;
    /** Human-readable detail: which phase timed out, what the probe said. */
    detail: string;
    child: ChildExit | null;
    wallMs: number;
  };
  stderr: KeptOutput;
  /** Non-protocol lines on stdout. */
  stdout: KeptOutput;
  verdict: Verdict;
  baseline?: BaselineCheck;
}

export interface CompareDocument {
  schemaVersion: typeof SCHEMA_VERSION;
  kind: 'compare';
  startedAt: string;
  runs: { broken: RunDocument; correct: RunDocument };
  verdict: { pass: boolean; reasons: string[] };
  wallMs: number;
  baseline?: BaselineCheck;
}

export type ReproDocument = RunDocument | CompareDocument;
